"""What people see: the transaction view (items by kind, timeline with next steps), capped lists, the
dry-run summary and what --transferable hid (R5, R7, R13)."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import PARTNER, TARO, atm_executable, write_json

ADMIN = "ann@north.example"


def world(licenses: int, devices: int, ea: int = 0) -> dict:
    return {
        "users": [{"id": ADMIN, "name": "Ann"}],
        "accounts": [{"domain": "north.example", "name": "North", "virtual_accounts": [{"name": "DEFAULT"},
                                                                                      {"name": "Edge"}],
                      "admins": [ADMIN]}],
        "licenses": [{"account": "north.example", "sales_order": str(1000 + i), "line": "1", "pid": "L",
                      "quantity": 1, "enterprise_agreement": i < ea} for i in range(licenses)],
        "devices": [{"serial_number": f"D{i:04d}", "pid": "P", "account": "north.example"} for i in range(devices)],
    }


def load(cli, tmp_path, doc) -> None:
    assert cli("init").exit_code == 0
    result = cli("import", str(write_json(tmp_path / "w.json", doc)))
    assert result.exit_code == 0, result.output


def request_all(cli, tmp_path, ids) -> str:
    (tmp_path / "ids.txt").write_text("\n".join(ids))
    return cli.json("request", "--from", "north.example", "--to", "north.example", "--to-va", "Edge",
                    "--assets-file", str(tmp_path / "ids.txt"), user=ADMIN)["transaction_id"]


def test_a_large_transaction_shows_counts_and_the_first_items(cli, tmp_path, people):
    from atm.commands._render import ITEM_ROWS

    load(cli, tmp_path, world(30, 120))
    txn = request_all(cli, tmp_path, [f"SO{1000 + i}-1" for i in range(30)] + [f"D{i:04d}" for i in range(120)])
    result = cli("status", txn, user=ADMIN)
    assert result.exit_code == 0
    assert "30 licenses, 120 devices" in result.stdout
    assert "Licenses: 30 (30 pending)" in result.stdout and "Devices: 120 (120 pending)" in result.stdout
    shown = re.findall(r"^(SO\d+-1|D\d{4})\s", result.stdout, re.M)
    assert len(shown) == 2 * ITEM_ROWS
    assert f"Showing {2 * ITEM_ROWS} of 150 items; --items all" in result.stderr
    for every in (["--items", "all"], ["--all-items"]):
        result = cli("status", txn, *every, user=ADMIN)
        assert len(re.findall(r"^(SO\d+-1|D\d{4})\s", result.stdout, re.M)) == 150, every
    result = cli("status", txn, "--items", "3", user=ADMIN)
    assert len(re.findall(r"^(SO\d+-1|D\d{4})\s", result.stdout, re.M)) == 6


def test_the_items_in_a_pipe_are_capped_the_same_way(cli, tmp_path):
    from atm.commands._render import ITEM_ROWS

    load(cli, tmp_path, world(30, 120))
    txn = request_all(cli, tmp_path, [f"SO{1000 + i}-1" for i in range(30)] + [f"D{i:04d}" for i in range(120)])
    lines = cli("status", txn, user=ADMIN).stdout.splitlines()
    assert lines[0].split("\t")[0] == "asset_id" and len(lines) == 1 + 2 * ITEM_ROWS
    assert len(cli("status", txn, "--items", "all", user=ADMIN).stdout.splitlines()) == 151


def test_the_timeline_names_the_next_step_from_the_status_machine(cli, sample_db, tmp_path, people):
    # R7: Pending Submission -> Submit for Transfer; same company goes on to Transfer Initiated (R4).
    txn = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                   "--same-company", "yes", "--asset", "SO12345678-3", user=TARO)["transaction_id"]
    out = cli("status", txn, user=TARO).stdout
    assert re.search(r"○\s+next\s+Submitted\s+Submit for Transfer: atm submit " + txn, out)
    assert re.search(r"○\s+Transfer Initiated", out) and "Compliance Screening" not in out
    # Not same company: after submit, both consents are next, then screening (R4, R10, R11).
    form = write_json(tmp_path / "form.json", {"reason": "r", "transferor_contact_email": "a@acme.co.jp",
                                               "transferee_contact_email": "b@globex.com"})
    cross = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                     "--same-company", "no", "--asset", "SO12345678-1", "--form", str(form),
                     user=PARTNER)["transaction_id"]
    assert cli("submit", cross, user=PARTNER).exit_code == 0
    out = cli("status", cross, user=PARTNER).stdout
    assert re.search(r"○\s+next\s+Compliance Screening\s+both sides consent: atm consent " + cross, out)
    assert re.search(r"○\s+Transfer Initiated\s+compliance screening approves", out)


def test_transferable_says_what_it_hid_and_why(cli, sample_db):
    everything = cli.json("assets", "list", "--account", "acme.co.jp", user=TARO)
    ssm = {va["name"] for va in cli.json("accounts", "show", "acme.co.jp", user=TARO)["virtual_accounts"]
           if va["ssm_onprem"]}
    held = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-3", "--asset", "FOC2231X0AB", user=TARO)
    assert held["state"] == "pending_submission"
    # R5's reasons, counted from the assets' own flags.
    ea = sum(1 for a in everything if a["kind"] == "license" and a["enterprise_agreement"])
    upgrade = sum(1 for a in everything if a["kind"] == "license" and a["pending_upgrade"]
                  and not a["enterprise_agreement"])
    onprem = sum(1 for a in everything if a["kind"] == "device" and a["virtual_account"] in ssm)
    assert ea and upgrade and onprem
    result = cli("assets", "list", "--account", "acme.co.jp", "--transferable", "--limit", "0", user=TARO)
    line = next(line for line in result.stderr.splitlines() if line.startswith("Hidden: "))
    for part in (f"{ea} EA-bound", f"{upgrade} pending upgrade", f"{onprem} SSM On-Prem VA", "2 in a transaction"):
        assert part in line, (part, line)
    shown = [line for line in result.stdout.splitlines()[1:]]
    assert len(shown) == len(everything) - ea - upgrade - onprem - 2


def test_a_dry_run_lists_a_few_ineligible_assets_per_reason(cli, tmp_path):
    load(cli, tmp_path, world(9, 1, ea=8))
    args = ["request", "--from", "north.example", "--to", "north.example", "--to-va", "Edge", "--dry-run"]
    args += [a for i in range(9) for a in ("--asset", f"SO{1000 + i}-1")] + ["--asset", "D0000"]
    result = cli(*args, user=ADMIN)
    assert result.exit_code == 1  # R5 refuses the whole request
    assert len(re.findall("✗", result.stdout)) == 3 and "and 5 more like these" in result.stdout
    assert len(json.loads(cli(*args, "--json", user=ADMIN).stdout)["ineligible"]) == 8


COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-7]|9[0-7])(?:;\d+)*m")


@pytest.mark.parametrize("how", ["default", "--no-color", "--no-color after", "NO_COLOR"])
def test_colour_can_be_turned_off(run_atm, sample_db, how):
    pexpect = pytest.importorskip("pexpect")
    made = run_atm("--as", TARO, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va",
                   "DEFAULT", "--same-company", "yes", "--asset", "SO12345678-1")
    txn = made.stdout.strip()
    args = {"default": ["status", txn], "--no-color": ["--no-color", "status", txn],
            "--no-color after": ["status", txn, "--no-color"], "NO_COLOR": ["status", txn]}[how]
    env = dict(os.environ, ATM_USER=TARO, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    if how == "NO_COLOR":
        env["NO_COLOR"] = "1"
    exe = atm_executable()
    child = pexpect.spawn(exe[0], exe[1:] + args, env=env, dimensions=(50, 120), encoding="utf-8", timeout=30)
    out = child.read()
    child.close()
    assert child.exitstatus == 0, out
    assert bool(COLOUR.search(out)) == (how == "default"), out
