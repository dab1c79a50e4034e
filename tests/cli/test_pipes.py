"""In a pipe every list is tab-separated lines with a header, every value whole, one record a line, at any
terminal width (here COLUMNS=80, where tables used to cut and wrap), so grep, cut and awk work."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import atm_executable, write_json

ADMIN = "長い名前の管理者@long.example.co.jp"
JP, EN = "long.example.co.jp", "very-long-domain-name-for-testing-purposes.example.com"
JP_NAME = "株式会社ロングネーム・グローバル・ホールディングス 東京本社 第二営業部 システム課"
EN_NAME = "The Extraordinarily Long English Company Name Incorporated International Holdings"
JP_VA = "とても長い仮想アカウントの名前・検証用"
EN_VA = "An Unusually Long Virtual Account Name For Testing"
WIDE = {"COLUMNS": "80"}


def long_world() -> dict:
    return {
        "users": [{"id": ADMIN, "name": "長い 名前 の 管理者 さん"}],
        "accounts": [
            {"domain": JP, "name": JP_NAME, "legal_entity": JP_NAME + " 法人",
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": JP_VA}], "admins": [ADMIN]},
            {"domain": EN, "name": EN_NAME, "legal_entity": EN_NAME + " Limited",
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": EN_VA}], "admins": [ADMIN]},
        ],
        "licenses": [
            {"id": "SO99999999999-1", "account": JP, "virtual_account": JP_VA, "pid": "C9300-DNA-ESSENTIALS-48-PORT-5Y",
             "quantity": 123456, "in_use": 7, "license_type": "Smart", "reserved": True,
             "minor_lines": [{"line": "1.1", "pid": "C9300-DNA-ESSENTIALS-48-PORT", "quantity": 123456}]},
            {"id": "SO99999999999-2", "account": JP, "virtual_account": JP_VA, "pid": "L-ISE-PLUS-SUBSCRIPTION-3Y",
             "quantity": 5, "enterprise_agreement": True},
        ],
        "devices": [
            {"serial_number": "FOC99999999999LONGSERIAL", "pid": "C9300-48UXM-E-WITH-A-LONG-PID", "account": JP,
             "virtual_account": JP_VA, "pnp_status": "Redirect Successful", "cslu": True},
        ],
    }


@pytest.fixture
def long_db(run_atm, tmp_path):
    assert run_atm("init").returncode == 0
    result = run_atm("import", str(write_json(tmp_path / "long.json", long_world())))
    assert result.returncode == 0, result.stderr
    return tmp_path


def piped(run_atm, *args: str) -> list[list[str]]:
    """Run `atm` with stdout a pipe at 80 columns; its lines split on tabs (each must end with a newline)."""
    result = run_atm("--as", ADMIN, *args, env=WIDE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n")
    rows = [line.split("\t") for line in result.stdout[:-1].split("\n")]
    assert all(len(r) == len(rows[0]) for r in rows), rows  # one record a line: never wrapped or split
    return rows


def test_accounts_list_in_a_pipe_is_golden(run_atm, long_db):
    assert piped(run_atm, "accounts", "list") == [  # by name: "The ..." sorts before the Japanese name
        ["domain", "name", "legal_entity", "role"],
        [EN, EN_NAME, EN_NAME + " Limited", "admin"],
        [JP, JP_NAME, JP_NAME + " 法人", "admin"],
    ]


def test_assets_list_in_a_pipe_is_golden_with_both_kinds(run_atm, long_db):
    rows = piped(run_atm, "assets", "list", "--account", JP, "--lines")
    assert rows == [
        ["kind", "id", "virtual_account", "pid", "quantity", "in_use", "license_type", "sales_order",
         "serial_number", "pnp_status", "flags", "not_transferable", "minor_lines"],
        ["license", "SO99999999999-1", JP_VA, "C9300-DNA-ESSENTIALS-48-PORT-5Y", "123456", "7", "Smart", "", "",
         "", "reserved", "", "1.1:C9300-DNA-ESSENTIALS-48-PORT:123456"],
        ["license", "SO99999999999-2", JP_VA, "L-ISE-PLUS-SUBSCRIPTION-3Y", "5", "0", "", "", "", "",
         "EA-bound", "EA-bound", ""],
        ["device", "FOC99999999999LONGSERIAL", JP_VA, "C9300-48UXM-E-WITH-A-LONG-PID", "", "", "", "",
         "FOC99999999999LONGSERIAL", "Redirect Successful", "CSLU", "", ""],
    ]


def test_grep_and_cut_work_on_the_asset_list(run_atm, long_db):
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {' '.join(atm_executable())} --as '{ADMIN}' assets "
                                          f"list --account {JP} | grep -w device | cut -f2,10"],
                            capture_output=True, text=True, env=None)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "FOC99999999999LONGSERIAL\tRedirect Successful\n"


def test_the_landing_list_notifications_and_items_in_a_pipe(run_atm, long_db, tmp_path):
    made = run_atm("--as", ADMIN, "request", "--from", JP, "--to", EN, "--to-va", EN_VA, "--same-company", "yes",
                   "--asset", "SO99999999999-1", "--asset", "FOC99999999999LONGSERIAL", "--json")
    assert made.returncode == 0, made.stderr
    txn = json.loads(made.stdout)["transaction_id"]
    assert run_atm("--as", ADMIN, "submit", txn).returncode == 0
    view = json.loads(run_atm("--as", ADMIN, "status", txn, "--json").stdout)

    landing = piped(run_atm, "status")
    assert landing == [
        ["transaction_id", "status", "state", "source", "source_va", "target", "target_va", "created_at",
         "completed_at"],
        [txn, "Transfer Completed", "transfer_completed", JP, "", EN, EN_VA, view["created_at"],
         view["completed_at"]],
    ]
    items = piped(run_atm, "status", txn)
    assert items == [
        ["asset_id", "kind", "result", "reason", "warning"],
        ["SO99999999999-1", "license", "transferred", "", "in_use"],
        ["FOC99999999999LONGSERIAL", "device", "transferred", "", "cslu"],
    ]
    notes = piped(run_atm, "notifications")
    assert notes[0] == ["id", "transaction_id", "kind", "created_at", "read", "message"]
    assert len(notes) == 2 and notes[1][1:3] == [txn, "completed"] and notes[1][4] == "false"
    # The message is whole: the target VA's long name is in it, on the one line.
    assert f"moved to {EN} / {EN_VA}" in notes[1][5]


def test_tabs_and_newlines_inside_values_are_shown_escaped(run_atm, long_db, tmp_path):
    from tests import backends

    with backends.connect() as conn:  # import refuses control characters; plant them
        conn.execute("UPDATE accounts SET name = ? WHERE domain = ?", ("Tab\there\nnewline", EN))
    rows = piped(run_atm, "accounts", "list")
    assert [EN, "Tab\\there\\nnewline", EN_NAME + " Limited", "admin"] in rows


def test_status_piped_into_head_exits_0(run_atm, long_db, tmp_path):
    """A reader that stops early (`| head -1`) is not an error, even with far more output than a pipe holds."""
    world = {"devices": [{"serial_number": f"HEAD{i:06d}-{'X' * 40}", "pid": "P", "account": JP}
                         for i in range(3000)]}
    assert run_atm("import", str(write_json(tmp_path / "many.json", world))).returncode == 0
    (tmp_path / "ids.txt").write_text("\n".join(f"HEAD{i:06d}-{'X' * 40}" for i in range(3000)))
    made = run_atm("--as", ADMIN, "request", "--from", JP, "--to", EN, "--to-va", "DEFAULT", "--same-company", "yes",
                   "--assets-file", str(tmp_path / "ids.txt"))
    txn = made.stdout.strip()
    atm = " ".join(atm_executable())
    for command in (f"status {txn} --items all", "assets list --account " + JP + " --limit 0", "status"):
        result = subprocess.run(["bash", "-c", f"set -o pipefail; {atm} --as '{ADMIN}' {command} | head -1"],
                                capture_output=True, text=True)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stderr == "" and "\t" in result.stdout, (command, result.stderr)
