"""Hostile input gets one line and an exit code, never a traceback (docs/rules.md)."""

import pytest

from tests.conftest import PARTNER, TARO, write_json

REQUEST = ["request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT", "--same-company", "no",
           "--asset", "SO12345678-3"]


@pytest.mark.parametrize("body, says", [
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"reason": "x", "transferor_contact_email": "a@b.example", "transferee_contact_email": "c@d.example", '
     '"n": NaN}', "not valid JSON"),
    ('{"reason": "x", "transferor_contact_email": "@", "transferee_contact_email": "c@d.example"}',
     "not an e-mail address"),
    ('["reason"]', "must be a JSON object"),
])
def test_a_hostile_form_is_refused(cli, sample_db, tmp_path, body, says):
    form = tmp_path / "form.json"
    form.write_text(body)
    result = cli(*REQUEST, "--form", str(form), user=PARTNER)
    assert result.exit_code == 2 and says in result.stderr, result.output
    assert cli.json("status", user=PARTNER) == []


def test_a_chart_first_workbook_is_refused(cli, sample_db, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.create_chartsheet("chart", 0)
    book.save(tmp_path / "ids.xlsx")
    result = cli("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                 "--same-company", "yes", "--assets-file", str(tmp_path / "ids.xlsx"), user=TARO)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ids.xlsx: ")
    result = cli("import", str(tmp_path / "ids.xlsx"))
    assert result.exit_code == 2 and result.stderr.startswith("Error: ids.xlsx: ")


def test_a_lone_surrogate_in_an_import_file_is_refused(cli, sample_db, tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"users": [{"id": "\\ud800@x.example"}]}')
    result = cli("import", str(path))
    assert result.exit_code == 2 and "invalid Unicode" in result.stderr


@pytest.mark.parametrize("value", ["inf", "1e400", "-1", "soon"])
def test_a_bad_lock_timeout_is_refused(cli, sample_db, monkeypatch, value):
    monkeypatch.setenv("ATM_LOCK_TIMEOUT", value)
    result = cli("accounts", "list", user=TARO)
    assert result.exit_code == 2 and "ATM_LOCK_TIMEOUT" in result.stderr


def test_a_database_path_that_cannot_be_a_file_is_refused(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("--db", str(blocker / "sub" / "atm.db"), "init")
    assert result.exit_code == 5 and "cannot use" in result.stderr
    result = cli("--db", "", "init")
    assert result.exit_code == 2 and "empty" in result.stderr


def test_a_huge_limit_is_bad_usage(cli, sample_db):
    result = cli("assets", "list", "--account", "acme.co.jp", "--limit", "99999999999999999999", user=TARO)
    assert result.exit_code == 2


def test_data_never_becomes_markup_or_emoji_in_tables(cli, sample_db, tmp_path):
    world = {"accounts": [{"domain": "evil.example", "name": "Evil :skull: [bold]co", "admins": [TARO],
                           "virtual_accounts": [{"name": "Lab\\\\"}]}],
             "devices": [{"serial_number": "X1", "pid": "[red]P:thumbs_up:", "account": "evil.example"}]}
    assert cli("import", str(write_json(tmp_path / "evil.json", world))).exit_code == 0
    out = cli("accounts", "list", user=TARO).stdout
    assert "Evil :skull: [bold]co" in out
    out = cli("assets", "list", "--account", "evil.example", user=TARO).stdout
    assert "[red]P:thumbs_up:" in out


def test_the_table_names_the_transaction_holding_an_asset(cli, sample_db):
    txn = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                   "--same-company", "yes", "--asset", "FOC2231X0AB", user=TARO)["transaction_id"]
    out = cli("assets", "list", "--account", "acme.co.jp", "--serial", "FOC2231X0AB", user=TARO).stdout
    assert f"in {txn}" in out
