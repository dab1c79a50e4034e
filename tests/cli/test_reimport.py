"""Re-import merges and never weakens a rule (R5): a record sets only the fields it carries (docs/import.md)."""

from __future__ import annotations

import json

from tests.cli.test_rules import ACME, DOMAINS, OSAKA, locate, make_request, request_args, txn_status
from tests.conftest import LEGAL, TARO, write_json

EA_LINE = "SO12345679-1"  # bound to an Enterprise Agreement in the sample (R5)


def asset(cli, asset_id: str, account: str = ACME) -> dict:
    return next(a for a in cli.json("assets", "list", "--account", account, user=LEGAL) if a["id"] == asset_id)


def import_csv(cli, tmp_path, text: str, name: str = "partial.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return cli("import", str(path))


def test_a_partial_csv_row_keeps_the_enterprise_agreement_and_the_order_fields(cli, sample_db, tmp_path):
    before = asset(cli, EA_LINE)
    result = import_csv(cli, tmp_path, f"kind,id,account,pid,quantity\nlicense,{EA_LINE},{ACME},"
                                       f"{before['pid']},{before['quantity']}\n")
    assert result.exit_code == 0, result.output
    assert asset(cli, EA_LINE) == before
    dry = cli(*request_args(EA_LINE, extra=("--dry-run",)), user=TARO)
    assert dry.exit_code == 1 and "Enterprise Agreement" in dry.stdout + dry.stderr  # R5 still refuses


def test_a_partial_record_keeps_minor_lines_and_the_in_use_count(cli, sample_db, tmp_path):
    before = asset(cli, "SO12345678-1")
    assert before["minor_lines"] and before["in_use"] == 4
    result = import_csv(cli, tmp_path, "kind,id,pid\nlicense,SO12345678-1,C9300-DNA-E-24-3Y-NEW\n")
    assert result.exit_code == 0, result.output
    after = asset(cli, "SO12345678-1")
    assert after == dict(before, pid="C9300-DNA-E-24-3Y-NEW")


def test_an_account_record_without_a_legal_entity_keeps_it(cli, sample_db, tmp_path):
    before = cli.json("accounts", "show", ACME, user=TARO)
    doc = {"accounts": [{"domain": ACME, "name": "Acme Tokyo (renamed)"}]}
    assert cli("import", str(write_json(tmp_path / "acct.json", doc))).exit_code == 0
    after = cli.json("accounts", "show", ACME, user=TARO)
    assert after["name"] == "Acme Tokyo (renamed)" and after["legal_entity"] == before["legal_entity"]
    assert after["virtual_accounts"] == before["virtual_accounts"]  # the SSM On-Prem VA stays one (R5)


def test_a_va_record_without_its_flag_keeps_it_ssm_onprem(cli, sample_db, tmp_path):
    doc = {"accounts": [{"domain": ACME, "virtual_accounts": [{"name": "SSM On-Prem"}]}]}
    assert cli("import", str(write_json(tmp_path / "va.json", doc))).exit_code == 0
    vas = {v["name"]: v["ssm_onprem"] for v in cli.json("accounts", "show", ACME, user=TARO)["virtual_accounts"]}
    assert vas["SSM On-Prem"] is True
    dry = cli(*request_args("FDO2312Q1AB", extra=("--dry-run",)), user=TARO)
    assert dry.exit_code == 1 and "SSM On-Prem" in dry.stdout + dry.stderr


def test_a_user_record_without_the_compliance_flag_keeps_it(cli, sample_db, tmp_path):
    assert cli("import", str(write_json(tmp_path / "u.json", {"users": [{"id": LEGAL, "name": "Legal"}]}))
               ).exit_code == 0
    # Still compliance (R2, R11): sees every Smart Account though holding no role on any.
    assert {a["domain"] for a in cli.json("accounts", "list", user=LEGAL)} == set(DOMAINS)


def test_loosening_a_rule_flag_takes_a_record_that_names_it(cli, sample_db, tmp_path):
    result = import_csv(cli, tmp_path, f"kind,id,enterprise_agreement\nlicense,{EA_LINE},false\n")
    assert result.exit_code == 0, result.output
    assert asset(cli, EA_LINE)["enterprise_agreement"] is False


def test_a_new_record_without_a_required_field_is_refused_naming_it(cli, sample_db, tmp_path):
    before = cli.json("assets", "list", "--account", ACME, user=LEGAL)
    result = import_csv(cli, tmp_path, "kind,id,account,pid\nlicense,SO99999999-1,acme.co.jp,NEW-PID\n")
    assert result.exit_code == 2
    assert "row 2 (SO99999999-1): quantity: is required for a new license; nothing was imported" in result.stderr
    assert cli.json("assets", "list", "--account", ACME, user=LEGAL) == before


def test_tightening_a_flag_of_a_requested_asset_is_reported_and_submit_refuses_it(cli, sample_db, tmp_path):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    result = import_csv(cli, tmp_path, "kind,id,pending_upgrade\nlicense,SO12345678-3,true\n")
    assert result.exit_code == 0, result.output
    assert txn in result.stderr and "atm submit will refuse them" in result.stderr
    refused = cli("submit", txn, user=TARO)
    assert refused.exit_code == 1 and "pending upgrade" in refused.stderr
    assert txn_status(cli, txn)["state"] == "pending_submission"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_the_original_inventory_imports_again_after_a_transfer(cli, sample_db, tmp_path):
    from tests.conftest import SAMPLE

    txn = make_request(cli, "SO12345678-3", "FOC2231X0AB")["transaction_id"]
    assert cli.json("submit", txn, user=TARO)["state"] == "transfer_completed"
    result = cli("import", str(SAMPLE), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["locations_kept"], summary["locations_kept_moved"], summary["created"]) == (2, 2, 0)
    assert locate(cli, "SO12345678-3") == [(OSAKA, "DEFAULT")] and locate(cli, "FOC2231X0AB") == [(OSAKA, "DEFAULT")]
