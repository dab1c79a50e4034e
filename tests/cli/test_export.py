"""`atm export`: every cell of every format, R2 access, R15 audit, safe files, the round trip.

Each file is read back the way its reader would: workbooks with openpyxl (every cell, its type), CSV
with the `csv` module, JSON compared with `atm status --json`. Hostile text is planted through `atm
import` and the request form, next to Japanese names.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.cli.test_rules import JOHN, KEN, cross_request, make_request
from tests.conftest import BOB, PETER, write_json

HYPERLINK = '=HYPERLINK("http://x","y")'
SUM = "@SUM(A1)"
ANN, SAM, UMA, CAL, OUT = ("ann@src.example", "sam@dst.example", "uma@src.example", "cal@audit.example",
                           "out@else.example")
SRC, DST = "src.example", "dst.example"
REASON = '=HYPERLINK("http://evil.example","click")'
FORM = {"reason": REASON, "transferor_contact_email": ANN, "transferee_contact_email": SAM, "note": "-1",
        "ticket": "+1", "budget": 1200}
SHEETS = ["Summary", "Licenses", "Devices", "Consents", "History"]
LICENSE_HEADER = ["Asset ID", "Sales order", "Line", "Web order", "Subscription", "PAK", "PID", "Quantity", "From",
                  "To", "Result", "Reason", "Warning"]
DEVICE_HEADER = ["Asset ID", "Serial number", "PID", "Host ID", "UUID", "From", "To", "Result", "Reason", "Warning"]
CSV_HEADER = ["kind", "asset_id", "sales_order", "line", "web_order", "subscription_id", "pak", "pid", "quantity",
              "minor_lines", "serial_number", "host_id", "uuid", "from", "to", "result", "reason", "warning"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def hostile_world() -> dict:
    """Two companies with hostile and Japanese names; a license with minor lines, two devices."""
    return {
        "users": [{"id": ANN, "name": "安 アン"}, {"id": SAM, "name": "Sam"}, {"id": UMA, "name": "Uma"},
                  {"id": CAL, "name": "Cal", "compliance": True}, {"id": OUT, "name": "Out"}],
        "accounts": [
            {"domain": SRC, "name": SUM, "legal_entity": "株式会社 源", "virtual_accounts": [{"name": "+1"}],
             "admins": [ANN], "users": [UMA]},
            {"domain": DST, "name": "宛先株式会社", "legal_entity": "-1 Holdings",
             "virtual_accounts": [{"name": "東京ラボ"}], "admins": [ANN, SAM]},
            {"domain": "else.example", "name": "Else", "admins": [OUT]},
        ],
        "licenses": [
            {"id": HYPERLINK, "account": SRC, "virtual_account": "+1", "sales_order": "100", "line": "1",
             "pid": SUM, "quantity": 10, "in_use": 3, "web_order": "#REF!", "subscription_id": "+1", "pak": "-1",
             "minor_lines": [{"line": "1.1", "pid": "=1+2", "quantity": 10},
                             {"line": "1.2", "pid": "日本語PID", "quantity": 5}]},
            {"account": SRC, "virtual_account": "+1", "sales_order": "100", "line": "2", "pid": "C9300",
             "quantity": 2, "reserved": True},
        ],
        "devices": [
            {"serial_number": "FOC1", "pid": "+1", "host_id": SUM, "uuid": "-1", "account": SRC,
             "virtual_account": "+1", "cslu": True},
            {"serial_number": "-2", "pid": "C9300-24T", "account": SRC, "virtual_account": "+1"},
        ],
    }


ASSETS = (HYPERLINK, "SO100-2", "FOC1", "-2")


@pytest.fixture
def world(cli, tmp_path):
    assert cli("init").exit_code == 0
    result = cli("import", str(write_json(tmp_path / "world.json", hostile_world())))
    assert result.exit_code == 0, result.output
    return tmp_path


def completed_cross(cli, tmp_path) -> str:
    """A cross-company transfer, consented by both sides, approved by compliance: the assets moved."""
    form = write_json(tmp_path / "form.json", FORM)
    args = ["request", "--from", SRC, "--to", DST, "--to-va", "東京ラボ", "--same-company", "no", "--form", str(form)]
    for a in ASSETS:
        args += ["--asset", a]
    txn = cli.json(*args, user=ANN)["transaction_id"]
    cli.json("submit", txn, user=ANN)
    cli.json("consent", txn, "--accept", "--side", "transferor", user=ANN)
    cli.json("consent", txn, "--accept", user=SAM)
    assert cli.json("screen", txn, "--approve", user=CAL)["state"] == "transfer_completed"
    return txn


@pytest.fixture
def done(cli, world, monkeypatch) -> str:
    monkeypatch.chdir(world)
    return completed_cross(cli, world)


def export(cli, *args, user=ANN):
    return cli("export", *args, user=user)


def cells(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows()]


def values(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def summary(ws) -> dict:
    return {row[0].value: row[1] for row in ws.iter_rows(min_row=2)}


def utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


# --- the workbook -----------------------------------------------------------------------------------


def test_the_workbook_has_its_five_sheets_each_with_a_bold_frozen_filtered_header(cli, done):
    result = export(cli, done, "--xlsx")
    assert result.exit_code == 0, result.output
    book = load_workbook(Path(f"{done}.xlsx"))
    assert book.sheetnames == SHEETS
    for ws in book.worksheets:
        header = list(ws[1])
        assert all(c.font.b for c in header), ws.title
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == f"A1:{header[-1].column_letter}{ws.max_row}", ws.title


def test_no_cell_in_any_sheet_is_a_formula_and_hostile_text_stays_text(cli, done):
    export(cli, done)
    book = load_workbook(Path(f"{done}.xlsx"))
    seen = set()
    for ws in book.worksheets:
        for row in cells(ws):
            for c in row:
                assert c.data_type in ("s", "n", "d"), (ws.title, c.coordinate, c.value, c.data_type)
                if isinstance(c.value, str):
                    seen.add(c.value)
                    assert c.data_type == "s"
    for planted in (HYPERLINK, SUM, "+1", "-1", "=1+2", "#REF!", REASON, "-1 Holdings", "-2"):
        assert planted in seen, planted


@pytest.mark.sqlite_only  # plants the text straight into the SQLite file
def test_text_that_only_a_tampered_database_can_hold_is_still_text(cli, done, world):
    """atm strips and checks what it stores; a database written by another tool may hold anything."""
    import sqlite3

    conn = sqlite3.connect(world / "atm.db")
    with conn:
        conn.execute("UPDATE transactions SET form = ? WHERE id = ?",
                     (json.dumps({"reason": "\t=1+2", "cr": "\r=1+2", "bell": "a\x07b", "long": "x" * 40000}),
                      done))
    conn.close()
    assert export(cli, done).exit_code == 0
    s = summary(load_workbook(Path(f"{done}.xlsx"))["Summary"])
    assert (s["Form: reason"].value, s["Form: reason"].data_type) == ("\t=1+2", "s")
    assert (s["Form: cr"].value, s["Form: cr"].data_type) == ("\r=1+2", "s")
    assert s["Form: bell"].value == "a\\x07b"
    assert len(s["Form: long"].value) == 32767 and s["Form: long"].value.endswith("x…")
    rows = list(csv.reader(io.StringIO(export(cli, done, "--csv").stdout)))
    assert len(rows) == 5


def test_the_summary_says_who_what_when_with_real_datetimes(cli, done):
    status = cli.json("status", done, user=CAL)
    export(cli, done)
    s = summary(load_workbook(Path(f"{done}.xlsx"))["Summary"])
    assert s["Transaction ID"].value == done
    assert s["Status"].value == "Transfer Completed" and s["State code"].value == "transfer_completed"
    assert s["Transaction date (UTC)"].value == utc(status["created_at"]) and s["Transaction date (UTC)"].is_date
    assert s["Completion date (UTC)"].value == utc(status["completed_at"])
    assert s["Same company"].value.startswith("No")
    assert [s[k].value for k in ("Source Smart Account", "Source domain", "Source virtual account",
                                 "Source legal entity")] == [SUM, SRC, "(any)", "株式会社 源"]
    assert [s[k].value for k in ("Target Smart Account", "Target domain", "Target virtual account",
                                 "Target legal entity")] == ["宛先株式会社", DST, "東京ラボ", "-1 Holdings"]
    assert s["Requested by"].value == ANN and s["Requester name"].value == "安 アン"
    assert (s["Items"].value, s["License lines"].value, s["Devices"].value) == (4, 2, 2)
    assert s["Items transferred"].value == 4 and s["Items"].data_type == "n"
    assert s["Form: reason"].value == REASON and s["Form: note"].value == "-1" and s["Form: ticket"].value == "+1"
    assert s["Form: budget"].value == 1200
    assert s["Form: transferor_legal_entity"].value == "株式会社 源"
    # R13: one row per kind of warning, with its message, and the assets it names.
    for w in status["warnings"]:
        assert s[f"Warning: {w['code']}"].value == w["message"]
        assert s[f"Warning: {w['code']}: assets"].value == ", ".join(w["assets"])
    assert {"in_use", "reserved", "cslu"} <= {w["code"] for w in status["warnings"]}
    assert s["Exported by"].value == ANN and s["Exported (UTC)"].is_date


def test_licenses_list_each_major_line_with_its_minor_lines_beneath(cli, done):
    export(cli, done)
    ws = load_workbook(Path(f"{done}.xlsx"))["Licenses"]
    rows = values(ws)
    assert rows[0] == LICENSE_HEADER
    source, target = f"{SRC} / +1", f"{DST} / 東京ラボ"
    assert rows[1:] == [
        [HYPERLINK, "100", "1", "#REF!", "+1", "-1", SUM, 10, source, target, "transferred", None, "in_use"],
        [None, "100", "1.1", None, None, None, "=1+2", 10, None, None, None, None, None],
        [None, "100", "1.2", None, None, None, "日本語PID", 5, None, None, None, None, None],
        ["SO100-2", "100", "2", None, None, None, "C9300", 2, source, target, "transferred", None, "reserved"],
    ]
    assert [ws.row_dimensions[r].outlineLevel for r in range(2, 6)] == [0, 1, 1, 0]
    assert ws["C3"].alignment.indent > 0
    assert all(ws.cell(r, 8).data_type == "n" for r in range(2, 6))


def test_devices_list_serial_pid_host_uuid_and_outcome(cli, done):
    export(cli, done)
    rows = values(load_workbook(Path(f"{done}.xlsx"))["Devices"])
    source, target = f"{SRC} / +1", f"{DST} / 東京ラボ"
    assert rows == [DEVICE_HEADER,
                    ["FOC1", "FOC1", "+1", SUM, "-1", source, target, "transferred", None, "cslu"],
                    ["-2", "-2", "C9300-24T", None, None, source, target, "transferred", None, None]]


def test_consents_and_history_match_the_transaction_view(cli, done):
    status = cli.json("status", done, user=CAL)
    export(cli, done)
    book = load_workbook(Path(f"{done}.xlsx"))
    consents = values(book["Consents"])
    assert consents[0] == ["Side", "Decision", "By", "At (UTC)"]
    assert consents[1:] == [[c["side"], c["decision"], c["by"], utc(c["at"])] for c in status["consents"]]
    history = values(book["History"])
    assert history[0] == ["At (UTC)", "Actor", "From", "To", "Note"]
    labels = {"pending_submission": "Pending Submission", "compliance_screening": "Compliance Screening",
              "transfer_completed": "Transfer Completed"}
    assert [h[0] for h in history[1:]] == [utc(e["at"]) for e in status["events"]]
    assert [h[1] for h in history[1:]] == [e["actor"] for e in status["events"]]
    assert [h[4] for h in history[1:]] == [e["note"] for e in status["events"]]
    assert history[1][2] is None and history[1][3] == "Validation Initiated"
    assert [labels[e["to"]] for e in status["events"] if e["to"] in labels][-1] == history[-1][3]


def test_column_widths_fit_the_header_and_the_values(cli, done):
    export(cli, done)
    book = load_workbook(Path(f"{done}.xlsx"))
    for ws in book.worksheets:
        for column in ws.iter_cols():
            width = ws.column_dimensions[column[0].column_letter].width
            texts = [c.value for c in column if isinstance(c.value, str)]
            widest = max(sum(2 if ord(ch) > 0x2E7F else 1 for ch in t) for t in texts)
            assert width >= min(widest, 60), (ws.title, column[0].value, width, widest)
            assert width <= 82, (ws.title, column[0].value, width)


# --- CSV and JSON -------------------------------------------------------------------------------------


def test_csv_has_one_row_per_item_with_formula_like_text_neutralized(cli, done):
    result = export(cli, done, "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == CSV_HEADER
    by_id = {r[1]: dict(zip(CSV_HEADER, r)) for r in rows[1:]}
    assert len(rows) == 5 and set(by_id) == {"'" + HYPERLINK, "SO100-2", "FOC1", "'-2"}
    lic = by_id["'" + HYPERLINK]
    assert (lic["kind"], lic["pid"], lic["web_order"], lic["subscription_id"], lic["pak"], lic["quantity"]) == \
        ("license", "'" + SUM, "#REF!", "'+1", "'-1", "10")
    assert lic["minor_lines"] == "1.1:=1+2:10;1.2:日本語PID:5"
    assert (lic["from"], lic["to"], lic["result"], lic["warning"]) == \
        (f"{SRC} / +1", f"{DST} / 東京ラボ", "transferred", "in_use")
    dev = by_id["FOC1"]
    assert (dev["kind"], dev["serial_number"], dev["pid"], dev["host_id"], dev["uuid"]) == \
        ("device", "FOC1", "'+1", "'" + SUM, "'-1")
    for row in rows[1:]:
        assert not any(field.startswith(TRIGGERS) for field in row), row


def test_csv_to_a_file_starts_with_a_utf8_mark_for_excel(cli, done):
    assert export(cli, done, "--csv", "-o", "t.csv").exit_code == 0
    data = Path("t.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[0] == CSV_HEADER


def test_json_is_the_transaction_object_of_status(cli, done):
    status = cli("status", done, "--json", user=ANN)
    result = export(cli, done, "--json")
    assert result.exit_code == 0 and result.stdout == status.stdout
    assert export(cli, done, "-o", "t.json").exit_code == 0
    after = cli.json("status", done, user=ANN)
    assert json.loads(Path("t.json").read_text(encoding="utf-8")) == {
        **json.loads(status.stdout), "events": after["events"][:-1]}


# --- R15 audit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_an_export_is_recorded_on_the_transaction_without_changing_its_status(cli, done, fmt):
    before = cli.json("status", done, user=CAL)
    assert export(cli, done, f"--{fmt}", user=SAM).exit_code == 0
    after = cli.json("status", done, user=CAL)
    assert after["events"][:-1] == before["events"]
    event = after["events"][-1]
    assert (event["actor"], event["from"], event["to"], event["note"]) == \
        (SAM, "transfer_completed", "transfer_completed", f"exported as {fmt}")
    assert after["state"] == before["state"] and after["completed_at"] == before["completed_at"]


# --- R2 access ------------------------------------------------------------------------------------------


def test_an_outsider_gets_not_found_like_status_and_no_file(cli, done):
    status = cli("status", done, user=OUT)
    for fmt in ("--xlsx", "--csv", "--json"):
        result = export(cli, done, fmt, user=OUT)
        assert result.exit_code == 3 == status.exit_code
        assert result.stderr == status.stderr
        assert result.stdout == ""
    assert not Path(f"{done}.xlsx").exists() and list(Path(".").glob("*.part")) == []
    assert cli.json("status", done, user=CAL)["events"][-1]["note"] != "exported as xlsx"


@pytest.mark.parametrize("user", [SAM, UMA, CAL, ANN])
def test_the_requester_an_admin_of_either_side_a_plain_user_and_compliance_may_export(cli, done, user):
    result = export(cli, done, "-o", f"{user}.xlsx", user=user)
    assert result.exit_code == 0, result.output
    assert load_workbook(Path(f"{user}.xlsx"))["Summary"]["B2"].value == done


def test_a_one_sided_admin_of_the_sample_may_export(cli, sample_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    same = make_request(cli, "SO12345678-1", "FOC2231X0AB")["transaction_id"]  # Acme Tokyo -> Osaka, by TARO
    cross = cross_request(cli, tmp_path, "SO12345678-3")["transaction_id"]   # Acme -> Globex, by PARTNER
    assert cli("export", same, user=KEN).exit_code == 0  # admin of acme.co.jp, plain user of Osaka
    assert cli("export", cross, user=JOHN).exit_code == 0  # admin of globex.com only
    assert cli("export", cross, "-o", "bob.xlsx", user=BOB).exit_code == 0  # plain user of acme.co.jp
    assert cli("export", same, user=JOHN).exit_code == 3  # no role on either Acme SA
    assert cli("export", cross, user=PETER).exit_code == 3
    rows = values(load_workbook(Path(f"{same}.xlsx"))["Licenses"])
    assert [r[0] for r in rows] == ["Asset ID", "SO12345678-1", None, None]


# --- files: no overwrite, no half file -------------------------------------------------------------------


def test_an_existing_file_is_kept_without_force(cli, done):
    Path(f"{done}.xlsx").write_text("keep me")
    before = cli.json("status", done, user=CAL)["events"]
    result = export(cli, done)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {done}.xlsx exists; use --force to replace it\n"
    assert Path(f"{done}.xlsx").read_text() == "keep me" and list(Path(".").glob(".*.part")) == []
    assert cli.json("status", done, user=CAL)["events"] == before
    assert export(cli, done, "--force").exit_code == 0
    assert load_workbook(Path(f"{done}.xlsx")).sheetnames == SHEETS


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_an_interrupted_export_leaves_no_file_and_records_nothing(cli, done, monkeypatch, failure):
    import atm.io.xlsx_export as writer

    real = writer._write_sheet
    calls = []

    def fail_on_the_third_sheet(ws, sheet):
        calls.append(sheet.title)
        if len(calls) == 3:
            assert list(Path(".").glob(f".{done}.xlsx.*.part")), "the rows go to a temporary file"
            raise failure
        return real(ws, sheet)

    monkeypatch.setattr(writer, "_write_sheet", fail_on_the_third_sheet)
    before = cli.json("status", done, user=CAL)["events"]
    result = export(cli, done)
    assert result.exit_code == (130 if failure is KeyboardInterrupt else 2), result.output
    if failure is not KeyboardInterrupt:
        assert "No space left on device" in result.stderr and "nothing was written" in result.stderr
    assert not Path(f"{done}.xlsx").exists()
    assert [p.name for p in Path(".").iterdir() if p.name.startswith(".")] == []
    assert cli.json("status", done, user=CAL)["events"] == before


@pytest.mark.slow
def test_ctrl_c_or_kill_during_a_real_export_leaves_no_file(run_atm, tmp_path):
    """A whole process, interrupted while it writes a 20,000-row workbook: nothing under the real name."""
    import os
    import signal
    import subprocess
    import time

    from tests.conftest import atm_executable, interruptible

    devices = [{"serial_number": f"SER{i:06d}", "pid": "C9300-24T", "account": SRC, "virtual_account": "+1",
                "host_id": f"H{i}", "uuid": f"u-{i}"} for i in range(20_000)]
    world = {**hostile_world(), "licenses": [], "devices": devices}
    assert run_atm("init").returncode == 0
    assert run_atm("import", str(write_json(tmp_path / "w.json", world))).returncode == 0
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(d["serial_number"] for d in devices))
    txn = run_atm("--as", ANN, "request", "--from", SRC, "--to", DST, "--to-va", "東京ラボ", "--same-company", "yes",
                  "--assets-file", str(ids)).stdout.strip()
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 130)):
        proc = subprocess.Popen(atm_executable() + ["--as", ANN, "export", txn, "-o", "big.xlsx"], cwd=tmp_path,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=interruptible)
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".big.xlsx.*.part")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        assert proc.poll() is None, "the export ended before it could be interrupted"
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code and err.strip() == "Interrupted.", (sig, proc.returncode, err)
        assert not (tmp_path / "big.xlsx").exists() and not list(tmp_path.glob(".big.xlsx*")), sig
    status = json.loads(run_atm("--as", ANN, "status", txn, "--json").stdout)
    assert not any((e["note"] or "").startswith("exported") for e in status["events"])


def test_output_to_a_folder_uses_the_default_name_inside_it(cli, done):
    Path("out").mkdir()
    assert export(cli, done, "-o", "out").exit_code == 0
    assert load_workbook(Path("out") / f"{done}.xlsx").sheetnames == SHEETS


@pytest.mark.parametrize("args, says", [
    ((), "name one transaction"),
    (("TXN", "--all"), "name one transaction"),
    (("TXN", "--csv", "--json"), "choose one format"),
    (("TXN", "--status", "cancelled"), "--status: only with --all"),
    (("TXN", "--xlsx", "-o", "-"), "written to a file"),
    (("TXN", "-o", "no/such/folder/x.xlsx"), "does not exist"),
])
def test_bad_usage_is_one_line_and_exit_2(cli, done, args, says):
    result = export(cli, *[done if a == "TXN" else a for a in args])
    assert result.exit_code == 2 and says in result.stderr and len(result.stderr.splitlines()) == 1, result.output


# --- the history -------------------------------------------------------------------------------------------


def test_history_json_is_the_landing_list_with_its_filters(cli, done):
    # A second transaction, cancelled, so that the filters have something to tell apart.
    txn = cli.json("request", "--from", DST, "--to", SRC, "--to-va", "+1", "--same-company", "no",
                   "--form", str(write_json(Path("f.json"), FORM)), "--asset", HYPERLINK, user=ANN)
    cli.json("cancel", txn["transaction_id"], user=ANN)
    for filters in ((), ("--status", "cancelled"), ("--account", DST), ("--initiator", ANN),
                    ("--since", "2000-01-01", "--until", "2999-12-31")):
        want = cli("status", *filters, "--json", user=SAM)
        got = cli("export", "--all", "--json", *filters, user=SAM)
        assert got.exit_code == 0 and got.stdout == want.stdout, filters
    assert [r["state"] for r in json.loads(cli("export", "--all", "--json", "--status", "cancelled",
                                               user=SAM).stdout)] == ["cancelled"]


def test_history_shows_only_what_the_user_may_see_and_records_nothing(cli, done):
    before = cli.json("status", done, user=CAL)["events"]
    assert json.loads(cli("export", "--all", "--json", user=OUT).stdout) == []
    assert [r["transaction_id"] for r in json.loads(cli("export", "--all", "--json", user=CAL).stdout)] == [done]
    assert cli("export", "--all", "--account", SRC, user=OUT).exit_code == 3
    assert cli.json("status", done, user=CAL)["events"] == before


def test_history_workbook_and_csv(cli, done):
    status = cli.json("status", done, user=CAL)
    assert cli("export", "--all", user=SAM).exit_code == 0
    ws = load_workbook(Path("atm-transfers.xlsx"))["Transfers"]
    rows = values(ws)
    assert rows[0][:3] == ["Transaction ID", "Status", "State code"]
    assert rows[1] == [done, "Transfer Completed", "transfer_completed", SUM, SRC, None, "宛先株式会社", DST,
                       "東京ラボ", "no", ANN, utc(status["created_at"]), utc(status["completed_at"]), 4, 4, 0]
    assert ws["L2"].is_date and ws["A2"].data_type == "s" and ws["D2"].data_type == "s" and ws["N2"].data_type == "n"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:P2"
    result = cli("export", "--all", "--csv", user=SAM)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[1][:5] == [done, "Transfer Completed", "transfer_completed", "'" + SUM, SRC]
    assert rows[1][11] == status["created_at"] and rows[1][13:] == ["4", "4", "0"]
    assert cli("export", "--all", user=SAM).exit_code == 2  # the file exists now


def test_the_time_of_an_export_is_utc(cli, done):
    start = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    export(cli, done)
    at = summary(load_workbook(Path(f"{done}.xlsx"))["Summary"])["Exported (UTC)"].value
    assert start <= at <= datetime.now(timezone.utc).replace(tzinfo=None)
