"""Nothing a user typed reaches another user's terminal raw: an escape sequence stored in a name, a VA, a PID,
a user id, a form, a warning or a reason, or typed as an id, a file name or a --db path, is printed escaped
(`\\x1b`, `\\u202e`) by every command, in tables, in pipes, in JSON, in messages and in errors.

Import and the command line refuse control characters (docs/rules.md), so these are planted with SQL, as an
older database or another program could have left them; typed ones are refused, and the refusal is escaped too.
"""

from __future__ import annotations

import json

import pytest

from tests import backends
from tests.conftest import LEGAL, write_json

OSC52 = "\x1b]52;c;cGF5bG9hZA==\x07"  # would write the reader's clipboard
RED = "\x1b[31m"
C1_CSI = "\x9b31m"
RLO = "\u202e"
EVIL = "mallory@acme.co.jp"  # acts; the user id typed with an escape sequence would be refused
EVIL_ACTOR = "mallory" + RED + "@acme.co.jp"  # a stored actor holding an escape sequence
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def assert_clean(result) -> None:
    out = result.stdout + result.stderr
    for ch in RAW:
        assert ch not in out, (repr(ch), out)
    assert "Traceback" not in out, out


@pytest.fixture
def hostile_db(cli, sample_db, tmp_path):
    """The sample, with escape sequences planted in stored text, and two transactions that carry them."""
    with backends.connect(sample_db) as conn:
        conn.execute("UPDATE accounts SET name = ?, legal_entity = ? WHERE domain = 'acme.co.jp'",
                     ("Acme" + OSC52 + RED, "Acme KK" + C1_CSI))
        conn.execute("INSERT INTO virtual_accounts (account, name, ssm_onprem) VALUES ('acme.co.jp', ?, 0)",
                     ("Lab" + RED + RLO,))
        conn.execute("UPDATE assets SET virtual_account = ? WHERE id = 'FOC2231X0AB'", ("Lab" + RED + RLO,))
        conn.execute("UPDATE assets SET pid = ?, pnp_status = ? WHERE id = 'SO12345678-1'",
                     ("C9300" + RED, "x" + OSC52))
        conn.execute("INSERT INTO users (id, name, compliance) VALUES (?, ?, 0)", (EVIL, "Mal" + OSC52))
        for account in ("acme.co.jp", "acme-osaka.co.jp", "globex.com"):
            conn.execute("INSERT INTO roles (user_id, account, role) VALUES (?, ?, 'admin')", (EVIL, account))
    same = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", "--asset", "FOC2231X0AB", user=EVIL)
    form = write_json(tmp_path / "form.json", {"reason": "why", "transferor_contact_email": "a@acme.co.jp",
                                               "transferee_contact_email": "b@globex.com"})
    cross = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                     "--same-company", "no", "--asset", "SO12345678-3", "--form", str(form), user=EVIL)
    with backends.connect(sample_db) as conn:
        conn.execute("UPDATE transactions SET form = ?, warnings = ? WHERE id = ?", (
            json.dumps({"reason": "sold" + OSC52, "transferor_contact_email": "a@acme.co.jp" + RLO,
                        "transferee_contact_email": "b@globex.com"}),
            json.dumps([{"code": "in_use", "message": "in use" + RED, "count": 1, "assets": ["X" + C1_CSI]}]),
            cross["transaction_id"]))
    assert cli("submit", cross["transaction_id"], user=EVIL).exit_code == 0
    for side in ("transferor", "transferee"):
        assert cli("consent", cross["transaction_id"], "--accept", "--side", side, user=EVIL).exit_code == 0
    rejected = cli("screen", cross["transaction_id"], "--reject", "--reason", "no", user=LEGAL)
    assert rejected.exit_code == 0, rejected.output
    with backends.connect(sample_db) as conn:  # what an older atm or another program may have stored
        conn.execute("INSERT INTO events (transaction_id, at, actor, from_state, to_state, note) VALUES "
                     "(?, '2026-01-01T00:00:00Z', ?, 'pending_submission', 'pending_submission', ?)",
                     (same["transaction_id"], EVIL_ACTOR, "note" + OSC52))
        conn.execute("INSERT INTO events (transaction_id, at, actor, from_state, to_state, note) VALUES "
                     "(?, '2026-01-01T00:00:00Z', ?, 'compliance_screening_rejected', "
                     "'compliance_screening_rejected', ?)", (cross["transaction_id"], LEGAL, "no" + OSC52 + RED))
        conn.execute("INSERT INTO notifications (user_id, transaction_id, kind, message, created_at) VALUES "
                     "(?, ?, 'rejected', ?, '2026-01-01T00:00:00Z')", (EVIL, cross["transaction_id"],
                                                                       "rejected: no" + OSC52 + RED))
    return same["transaction_id"], cross["transaction_id"]


def commands(same: str, cross: str, tmp_path) -> list[list[str]]:
    bad_file = tmp_path / ("evil" + RED + ".json")
    write_json(bad_file, {"users": [{"id": "ok@acme.co.jp"}]})
    return [
        ["--as", EVIL, "accounts", "list"],
        ["--as", EVIL, "accounts", "show", "acme.co.jp", "--counts"],
        ["--as", EVIL, "assets", "list", "--account", "acme.co.jp", "--lines"],
        ["--as", EVIL, "assets", "list", "--account", "acme.co.jp", "--transferable"],
        ["--as", EVIL, "assets", "list", "--account", "acme.co.jp", "--va", "Lab" + RED + RLO],
        ["--as", EVIL, "status"],
        ["--as", EVIL, "status", same],
        ["--as", EVIL, "status", cross, "--items", "all"],
        ["--as", EVIL, "notifications"],
        ["--as", EVIL, "consent", cross],
        ["--as", EVIL, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
         "--same-company", "yes", "--asset", "FOC2231X0AB", "--asset", "NOPE" + OSC52, "--dry-run"],
        ["--as", EVIL, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
         "--same-company", "yes", "--asset", "NOPE" + RED],
        ["--as", EVIL, "status", "ATM-" + RED],
        ["--as", EVIL, "accounts", "show", "evil" + OSC52],
        ["--as", "who" + RED + "@x.example", "accounts", "list"],
        ["--as", EVIL, RED + "nonsense"],
        ["--as", EVIL, "status", "--expect", "done" + RED, same],
        ["import", str(bad_file)],
        ["import", str(tmp_path / ("missing" + OSC52 + ".json"))],
        ["--db", str(tmp_path / ("no" + RED) / "sub" / "atm.db"), "accounts", "list"],
        ["--db", str(tmp_path / ("db" + RED + ".db")), "init"],
        ["--as", EVIL, "submit", same],  # no terminal: nothing asked; the transfer runs
        ["--as", EVIL, "status", same],
    ]


def test_no_command_prints_a_raw_control_character_in_a_pipe(run_atm, hostile_db, tmp_path):
    same, cross = hostile_db
    for args in commands(same, cross, tmp_path):
        result = run_atm(*args)
        assert_clean(result)
        for json_args in ([*args, "--json"],) if result.returncode == 0 and "import" not in args else ():
            assert_clean(run_atm(*json_args))


def test_no_command_prints_a_raw_control_character_at_a_terminal(cli, hostile_db, tmp_path, people):
    same, cross = hostile_db
    people(80)
    for args in commands(same, cross, tmp_path):
        result = cli(*args)
        assert_clean(result)


def test_the_escaped_text_is_still_readable(cli, hostile_db, people):
    same, _ = hostile_db
    out = cli("status", same, user=EVIL).stdout
    assert "mallory\\x1b[31m@acme.co.jp" in out  # the stored actor, escaped
    out = cli("accounts", "list", user=EVIL).stdout
    assert "Acme\\x1b]52;c;cGF5bG9hZA==\\x07\\x1b[31m" in out
    result = cli("status", "ATM-" + RED, user=EVIL)
    assert result.exit_code == 2 and "\\x1b" in result.stderr and "\x1b" not in result.stderr


def test_json_keeps_the_data_but_escapes_c1_and_bidi(cli, hostile_db):
    data = cli.json("accounts", "list", user=EVIL)
    acme = next(a for a in data if a["domain"] == "acme.co.jp")
    assert acme["name"] == "Acme" + OSC52 + RED and acme["legal_entity"] == "Acme KK" + C1_CSI
    raw = cli("accounts", "list", "--json", user=EVIL).stdout
    assert "\\u009b" in raw and "\x9b" not in raw

