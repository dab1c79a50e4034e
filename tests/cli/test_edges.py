"""Trust at the edges: hostile arguments, keys in any case, malformed files, odd but honest inputs.

Each refusal asserts the exit code, a one-line message, and that the database is unchanged (a dump)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests import backends
from tests.cli.test_rules import ACME, make_request, request_args
from tests.conftest import PARTNER, SAMPLE, TARO, atm_executable, write_json

ESC = "\x1b[31m"


def dump(target) -> list[str]:
    return backends.dump(target)


def refused(result, code: int, *words: str) -> str:
    assert result.exit_code == code, result.output
    first, *_ = result.stderr.splitlines() or [""]
    assert first.startswith("Error: "), result.stderr
    for word in words:
        assert word in first, result.stderr
    return first


# --- control characters in what a user types -------------------------------------------------------


@pytest.mark.parametrize("args, option", [
    (["assets", "list", "--account", f"acme{ESC}.co.jp"], "--account"),
    (["assets", "list", "--account", ACME, "--search", f"x{ESC}"], "--search"),
    (["assets", "list", "--account", ACME, "--serial", "FOC\x9b1"], "--serial"),  # C1 CSI
    (request_args(f"SO1{ESC}"), "--asset"),
    (["request", "--from", ACME, "--to", "acme-osaka.co.jp\x07", "--to-va", "DEFAULT", "--same-company", "yes",
      "--asset", "SO12345678-3"], "--to"),
    (["cancel", "ATM-AAAAA-AAAAA", "--reason", f"typo{ESC}"], "--reason"),
    (["screen", "ATM-AAAAA-AAAAA", "--reject", "--reason", "bad\x00"], "--reason"),
    (["status", f"ATM-{ESC}"], "TXN"),
    (["status", "--initiator", f"x{ESC}@y.example"], "--initiator"),
])
def test_an_argument_with_a_control_character_is_refused_naming_it(cli, sample_db, args, option):
    before = dump(sample_db)
    first = refused(cli(*args, user=TARO), 2, option, "control character")
    assert "\x1b" not in first and "\x07" not in first and "\x00" not in first
    assert dump(sample_db) == before


def test_a_reason_may_hold_newlines_and_tabs(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    result = cli("cancel", txn, "--reason", "wrong VA\n\tsee ticket 42", "--json", user=TARO)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"][-1]["note"] == "wrong VA\n\tsee ticket 42"


@pytest.mark.parametrize("option, value", [("--as", f"taro{ESC}@acme.co.jp"), ("--db", f"/tmp/x{ESC}.db")])
def test_a_global_option_with_a_control_character_is_refused(cli, sample_db, option, value):
    result = cli(*([] if option == "--as" else ["--as", TARO]), option, value, "accounts", "list")
    refused(result, 2, option, "control character")


@pytest.mark.parametrize("field", ["reason", "transferor_contact_email"])
def test_a_form_field_with_a_control_character_is_refused(cli, sample_db, tmp_path, field):
    form = {"reason": "sale", "transferor_contact_email": "a@acme.co.jp", "transferee_contact_email": "b@globex.com"}
    form[field] = f"{form[field]}{ESC}"
    before = dump(sample_db)
    result = cli(*request_args("SO12345678-3", dst="globex.com", same="no",
                               extra=("--form", str(write_json(tmp_path / "f.json", form)))), user=PARTNER)
    refused(result, 2, field, "control character")
    assert dump(sample_db) == before


def test_an_empty_asset_id_is_bad_usage(cli, sample_db):
    before = dump(sample_db)
    refused(cli(*request_args("SO12345678-3", ""), user=TARO), 2, "--asset", "empty")
    refused(cli(*request_args("  "), user=TARO), 2, "--asset")
    assert dump(sample_db) == before


# --- real-world keys and ids in any case ----------------------------------------------------------


def device(cli, serial: str = "FOC2231X0AB") -> dict:
    return next(a for a in cli.json("assets", "list", "--account", ACME, "--devices", user=TARO)
                if a["id"] == serial)


@pytest.mark.parametrize("option, field, case", [
    ("--serial", "serial_number", str.lower), ("--uuid", "uuid", str.upper), ("--uuid", "uuid", str.lower),
    ("--host-id", "host_id", str.lower), ("--host-id", "host_id", str.upper),
])
def test_a_device_key_is_found_whatever_its_case(cli, sample_db, option, field, case):
    wanted = device(cli)
    found = cli.json("assets", "list", "--account", ACME, option, case(wanted[field]), user=TARO)
    assert [a["id"] for a in found] == [wanted["id"]]


def test_a_pak_is_found_whatever_its_case(cli, sample_db):
    lic = next(a for a in cli.json("assets", "list", "--account", ACME, "--licenses", user=TARO) if a["pak"])
    for typed in (lic["pak"].lower(), lic["pak"].upper()):
        assert lic["id"] in [a["id"] for a in cli.json("assets", "list", "--account", ACME, "--pak", typed,
                                                       user=TARO)]


def test_an_asset_id_in_any_case_resolves_to_the_asset(cli, sample_db):
    txn = make_request(cli, "foc2231x0ab", "so12345678-3", "SO12345678-3")
    assert sorted(i["asset_id"] for i in txn["items"]) == ["FOC2231X0AB", "SO12345678-3"]


def test_an_unknown_id_is_refused_the_same_way_in_any_case(cli, sample_db):
    lower = cli(*request_args("nosuch-1"), user=TARO)
    upper = cli(*request_args("NOSUCH-1"), user=TARO)
    assert lower.exit_code == upper.exit_code == 1
    assert lower.stderr.replace("nosuch-1", "ID") == upper.stderr.replace("NOSUCH-1", "ID")


def test_a_reimport_in_another_case_updates_the_same_asset(cli, sample_db, tmp_path):
    path = tmp_path / "lower.csv"
    path.write_text("kind,id,web_order\nlicense,so12345678-3,W-NEW\n", encoding="utf-8")
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["created"], json.loads(result.stdout)["updated"]) == (0, 1)
    lic = next(a for a in cli.json("assets", "list", "--account", ACME, "--licenses", user=TARO)
               if a["id"] == "SO12345678-3")
    assert lic["web_order"] == "W-NEW"


# --- malformed files are refused whole ------------------------------------------------------------


def test_a_csv_that_ends_inside_an_open_quote_is_refused(cli, sample_db, tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('kind,id,pid\nlicense,SO12345678-1,"C9300\nlicense,SO12345678-2,X\n', encoding="utf-8")
    before = dump(sample_db)
    refused(cli("import", str(path)), 2, "open.csv", "line 2", "never closed", "nothing was imported")
    assert dump(sample_db) == before


def test_a_json_record_with_a_duplicate_key_is_refused(cli, sample_db, tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"licenses": [{"id": "SO12345679-1", "enterprise_agreement": true, '
                    '"enterprise_agreement": false}]}', encoding="utf-8")
    before = dump(sample_db)
    refused(cli("import", str(path)), 2, "dup.json", 'duplicate key "enterprise_agreement"', 'element 0 of "licenses"')
    assert dump(sample_db) == before


def test_a_form_with_a_duplicate_field_is_refused(cli, sample_db, tmp_path):
    path = tmp_path / "form.json"
    path.write_text('{"reason": "a", "reason": "b", "transferor_contact_email": "a@acme.co.jp", '
                    '"transferee_contact_email": "b@globex.com"}', encoding="utf-8")
    refused(cli(*request_args("SO12345678-3", dst="globex.com", same="no", extra=("--form", str(path))),
                user=PARTNER), 2, "'reason' is given twice")


# --- odd but honest inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_import_reads_standard_input(run_atm, name):
    assert run_atm("init").returncode == 0
    result = run_atm("import", name, input=SAMPLE.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    assert "540" in result.stderr or "300 license lines" in result.stderr
    result = run_atm("import", "-", input="kind,id,pid\nlicense,SO12345678-1,PIPED-PID\n")
    assert result.returncode == 0, result.stderr
    listed = json.loads(run_atm("--as", TARO, "assets", "list", "--account", ACME, "--licenses", "--json").stdout)
    assert next(a for a in listed if a["id"] == "SO12345678-1")["pid"] == "PIPED-PID"


def test_a_memory_database_is_refused(cli):
    refused(cli("--db", ":memory:", "init", "--sample"), 2, ":memory:")


def test_a_refused_command_leaves_no_new_database_or_folder(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"licenses": [{"id": "X"}]}', encoding="utf-8")
    target = tmp_path / "new" / "deeper" / "atm.db"
    refused(cli("--db", str(target), "import", str(bad)), 2)
    assert not (tmp_path / "new").exists()
    refused(cli("--db", str(target), "import", str(tmp_path / "missing.json")), 2)
    assert not (tmp_path / "new").exists()


def _read_only_mount_works() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs none /mnt && mount -o remount,ro /mnt"],
        capture_output=True).returncode == 0


@pytest.mark.sqlite_only
@pytest.mark.skipif(not _read_only_mount_works(), reason="no user namespaces to mount a read-only filesystem")
def test_a_database_on_a_read_only_filesystem_can_still_be_read(run_atm, tmp_path):
    db = tmp_path / "ro.db"
    assert run_atm("--db", str(db), "init", "--sample").returncode == 0
    mount = tmp_path / "mnt"
    mount.mkdir()
    atm = " ".join(atm_executable())
    script = (f"mount -t tmpfs none {mount} && cp {db} {mount}/atm.db && mount -o remount,ro {mount} && "
              f"{atm} --db {mount}/atm.db --as {TARO} accounts list --json; echo rc=$?; "
              f"{atm} --db {mount}/atm.db --as {TARO} request --from acme.co.jp --to acme-osaka.co.jp "
              f"--to-va DEFAULT --same-company yes --asset SO12345678-3; echo rc=$?")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    out = result.stdout
    assert '"domain": "acme.co.jp"' in out.replace('"domain":"', '"domain": "') and "rc=0" in out, result.stderr
    assert out.rstrip().endswith("rc=5") and "read-only" in result.stderr, (out, result.stderr)


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 a torn zip"], ids=["text", "torn-zip"])
def test_a_file_named_xlsx_that_is_no_workbook_is_refused_by_import_and_by_assets_file(cli, sample_db, tmp_path,
                                                                                      content):
    bad = tmp_path / "inventory.xlsx"
    bad.write_bytes(content)
    before = cli.json("assets", "list", "--account", ACME, user=TARO)
    imported = cli("import", str(bad))
    assert imported.exit_code == 2
    assert imported.stderr.startswith("Error: inventory.xlsx: not a readable .xlsx workbook (")
    requested = cli(*request_args(), "--assets-file", str(bad), user=TARO)
    assert requested.exit_code == 2
    assert requested.stderr.startswith("Error: inventory.xlsx: not a readable .xlsx workbook (")
    assert cli.json("assets", "list", "--account", ACME, user=TARO) == before
    assert cli.json("status", user=TARO) == []
