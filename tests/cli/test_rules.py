"""Rules R1-R15 and the status machine (docs/rules.md), through the CLI.

Each refusal asserts the exit code first (1 rule, 2 bad usage, 3 not found,
4 permission denied), then the message on stderr, then that nothing changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BOB, LEGAL, PARTNER, PETER, SAMPLE, TARO, write_json

KEN = "ken.sato@acme.co.jp"  # admin of acme.co.jp, plain user of acme-osaka.co.jp
HANAKO = "hanako.suzuki@acme-osaka.co.jp"  # admin of acme-osaka.co.jp only
JOHN = "john.smith@globex.com"  # admin of globex.com only
EMILY = "emily.chen@globex.com"  # plain user of globex.com

ACME, OSAKA, GLOBEX, INITECH = "acme.co.jp", "acme-osaka.co.jp", "globex.com", "initech.example"
DOMAINS = (ACME, OSAKA, GLOBEX, INITECH)

TXN_KEYS = ["transaction_id", "status", "state", "source", "target", "same_company", "requested_by", "created_at",
            "completed_at", "items", "consents", "events", "warnings", "form"]
PLACE_KEYS = ["domain", "name", "virtual_account"]
ITEM_KEYS = ["asset_id", "kind", "result", "reason", "warning"]
WARNING_KEYS = ["code", "message", "count", "assets"]
CONSENT_KEYS = ["side", "decision", "by", "at"]
EVENT_KEYS = ["at", "actor", "from", "to", "note"]
LANDING_KEYS = ["transaction_id", "status", "state", "source", "target", "created_at", "completed_at"]
NOTIFICATION_KEYS = ["id", "transaction_id", "kind", "message", "created_at", "read"]
STATES = {"validation_initiated", "validation_completed", "pending_submission", "submitted", "awaiting_consent",
          "compliance_screening", "compliance_screening_rejected", "transfer_initiated", "transfer_completed",
          "transfer_completed_with_failure", "cancelled"}
FORM = {"reason": "Acme sells its Tokyo lab to Globex", "transferor_contact_email": "taro.yamada@acme.co.jp",
        "transferee_contact_email": "john.smith@globex.com"}

# --- small shared helpers ---------------------------------------------------------------


def form_file(tmp_path: Path, form: dict | None = None) -> str:
    return str(write_json(tmp_path / "form.json", FORM if form is None else form))


def request_args(*assets: str, src: str = ACME, dst: str = OSAKA, to_va: str = "DEFAULT",
                 same: str | None = "yes", extra: tuple[str, ...] = ()) -> list[str]:
    args = ["request", "--from", src, "--to", dst, "--to-va", to_va]
    if same is not None:
        args += ["--same-company", same]
    for a in assets:
        args += ["--asset", a]
    return args + list(extra)


def make_request(cli, *assets: str, user: str = TARO, **kw) -> dict:
    """A request that must succeed; returns the transaction JSON."""
    return cli.json(*request_args(*assets, **kw), user=user)


def cross_request(cli, tmp_path, *assets: str, user: str = PARTNER) -> dict:
    """A cross-company request Acme -> Globex DEFAULT, with a complete form."""
    return make_request(cli, *assets, user=user, dst=GLOBEX, same="no", extra=("--form", form_file(tmp_path)))


def txn_status(cli, txn: str, user: str = LEGAL) -> dict:
    return cli.json("status", txn, user=user)


def landing(cli, user: str = LEGAL) -> list[dict]:
    return cli.json("status", user=user)


def landing_ids(cli, user: str = LEGAL) -> list[str]:
    return [r["transaction_id"] for r in landing(cli, user)]


def locate(cli, asset_id: str) -> list[tuple[str, str]]:
    """Every (SA, VA) where an asset is listed, seen by compliance (it sees every SA)."""
    return [(a["account"], a["virtual_account"]) for domain in DOMAINS
            for a in cli.json("assets", "list", "--account", domain, user=LEGAL) if a["id"] == asset_id]


def asset(cli, asset_id: str, account: str) -> dict:
    return next(a for a in cli.json("assets", "list", "--account", account, "--lines", user=LEGAL)
                if a["id"] == asset_id)


def counts(cli) -> dict[str, dict]:
    return {d: cli.json("accounts", "show", d, "--counts", user=LEGAL)["counts"] for d in DOMAINS}


def notes(cli, user: str) -> list[dict]:
    return cli.json("notifications", user=user)


def kinds_for(cli, user: str, txn: str) -> list[str]:
    return [n["kind"] for n in notes(cli, user) if n["transaction_id"] == txn]


def submitted_cross(cli, tmp_path, *assets: str) -> str:
    """A cross-company transaction waiting for consent."""
    txn = cross_request(cli, tmp_path, *assets)["transaction_id"]
    assert cli.json("submit", txn, user=PARTNER)["state"] == "awaiting_consent"
    return txn


def screened_cross(cli, tmp_path, *assets: str) -> str:
    """A cross-company transaction in Compliance Screening (both sides consented)."""
    txn = submitted_cross(cli, tmp_path, *assets)
    cli.json("consent", txn, "--accept", user=KEN)
    assert cli.json("consent", txn, "--accept", user=JOHN)["state"] == "compliance_screening"
    return txn


def import_license_change(cli, tmp_path, asset_id: str, **changes) -> None:
    """Re-import one license of the sample with some fields changed (an update in place)."""
    record = next(lic for lic in json.loads(SAMPLE.read_text(encoding="utf-8"))["licenses"] if lic["id"] == asset_id)
    record.update(changes)
    result = cli("import", str(write_json(tmp_path / "change.json", {"licenses": [record]})))
    assert result.exit_code == 0, result.output


# --- JSON shapes ----------------------------------------------------------------------------


def test_the_transaction_json_has_exactly_the_spec_keys(cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3", "FOC2231X0AB")
    assert list(txn) == TXN_KEYS
    assert list(txn["source"]) == PLACE_KEYS and list(txn["target"]) == PLACE_KEYS
    assert txn["source"]["domain"] == ACME and txn["target"] == {"domain": GLOBEX, "name": "Globex Corporation",
                                                                   "virtual_account": "DEFAULT"}
    assert [list(i) for i in txn["items"]] == [ITEM_KEYS, ITEM_KEYS]
    assert {(i["asset_id"], i["kind"], i["result"]) for i in txn["items"]} == {
        ("SO12345678-3", "license", "pending"), ("FOC2231X0AB", "device", "pending")}
    assert [list(c) for c in txn["consents"]] == [CONSENT_KEYS, CONSENT_KEYS]
    assert {c["side"]: c["decision"] for c in txn["consents"]} == {"transferor": "pending", "transferee": "pending"}
    assert txn["events"] and all(list(e) == EVENT_KEYS for e in txn["events"])
    assert txn["warnings"] and all(list(w) == WARNING_KEYS for w in txn["warnings"])
    assert all(len(w["assets"]) <= 10 and w["count"] >= len(w["assets"]) for w in txn["warnings"])
    assert txn["status"] == "Pending Submission" and txn["state"] == "pending_submission"
    assert txn["same_company"] is False and txn["requested_by"] == PARTNER and txn["completed_at"] is None
    assert txn["created_at"].startswith("20") and txn["created_at"].endswith(("Z", "+00:00"))
    assert txn == txn_status(cli, txn["transaction_id"])


def test_the_landing_list_json_has_exactly_the_spec_keys(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")
    rows = landing(cli, TARO)
    assert [r["transaction_id"] for r in rows] == [txn["transaction_id"]]
    assert list(rows[0]) == LANDING_KEYS
    assert rows[0]["state"] == "pending_submission" and rows[0]["status"] == "Pending Submission"
    assert rows[0]["source"]["domain"] == ACME and rows[0]["target"]["domain"] == OSAKA


# --- R1 both admins ------------------------------------------------------------------------


def test_r1_a_user_who_is_admin_of_only_one_side_cannot_request(cli, sample_db):
    result = cli(*request_args("SO12345678-3"), user=KEN)
    assert result.exit_code == 4
    assert "admin of both" in result.stderr and OSAKA in result.stderr
    assert landing_ids(cli) == []
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r1_a_plain_user_cannot_request_even_between_vas_of_their_account(cli, sample_db):
    result = cli(*request_args("SO12345678-3", dst=ACME, to_va="Production", same=None), user=BOB)
    assert result.exit_code == 4
    assert "admin of both" in result.stderr and ACME in result.stderr
    assert landing_ids(cli) == []


def test_r1_a_user_who_is_admin_of_only_one_side_cannot_submit_or_cancel(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    for user in (KEN, HANAKO):
        for command in ("submit", "cancel"):
            result = cli(command, txn, user=user)
            assert result.exit_code == 4, (user, command)
            assert "admin of both" in result.stderr
    after = txn_status(cli, txn)
    assert after["state"] == "pending_submission" and len(after["events"]) == 3
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r1_a_plain_user_cannot_submit_or_cancel(cli, sample_db):
    txn = make_request(cli, "SO12345678-3", dst=ACME, to_va="Production")["transaction_id"]
    for command in ("submit", "cancel"):
        result = cli(command, txn, user=BOB)
        assert result.exit_code == 4, command
        assert "admin of both" in result.stderr
    assert txn_status(cli, txn)["state"] == "pending_submission"


def test_r1_a_partner_who_is_admin_of_both_sides_may_request_and_submit_on_behalf_of_the_customer(
        cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3", user=PARTNER)
    assert txn["requested_by"] == PARTNER and txn["state"] == "pending_submission"
    assert cli.json("submit", txn["transaction_id"], user=PARTNER)["state"] == "awaiting_consent"


# --- R2 one-sided view ---------------------------------------------------------------------


def test_r2_a_one_sided_admin_sees_the_transaction_but_cannot_submit(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    assert txn_status(cli, txn, user=KEN)["transaction_id"] == txn
    result = cli("submit", txn, user=KEN)
    assert result.exit_code == 4
    assert "admin of both" in result.stderr
    assert txn_status(cli, txn)["state"] == "pending_submission"


def test_r2_plain_users_and_compliance_may_view_a_transaction(cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3")["transaction_id"]
    for user in (BOB, EMILY, JOHN, KEN, LEGAL):
        assert txn_status(cli, txn, user=user)["transaction_id"] == txn, user


def test_r2_an_outsider_gets_not_found_exactly_like_a_missing_transaction(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    missing = "ATM-00000-00000"
    for args in (("status",), ("consent",), ("consent", "--accept"), ("cancel",), ("submit",)):
        seen = cli(args[0], txn, *args[1:], user=PETER)
        absent = cli(args[0], missing, *args[1:], user=PETER)
        assert seen.exit_code == 3, args
        assert absent.exit_code == 3, args
        assert "not found" in seen.stderr
        assert seen.stderr.replace(txn, "ID") == absent.stderr.replace(missing, "ID"), args
        assert "admin" not in seen.stderr and ACME not in seen.stderr
    assert txn_status(cli, txn)["state"] == "pending_submission"


def test_r2_an_account_without_a_role_is_not_found_when_requesting(cli, sample_db, tmp_path):
    result = cli(*request_args("SO12345678-3", dst=GLOBEX, same="no", extra=("--form", form_file(tmp_path))),
                 user=TARO)
    assert result.exit_code == 3
    assert "not found" in result.stderr and GLOBEX in result.stderr
    assert landing_ids(cli) == []


def test_r2_the_landing_list_shows_only_transactions_touching_accounts_the_user_has_a_role_on(
        cli, sample_db, tmp_path):
    tokyo_osaka = make_request(cli, "SO12345678-3")["transaction_id"]
    acme_globex = cross_request(cli, tmp_path, "SO12345678-1")["transaction_id"]
    initech = make_request(cli, "SO13177894-1", user=PETER, src=INITECH, dst=INITECH,
                           to_va="Branch Offices")["transaction_id"]
    assert set(landing_ids(cli, TARO)) == {tokyo_osaka, acme_globex}
    assert set(landing_ids(cli, BOB)) == {tokyo_osaka, acme_globex}
    assert set(landing_ids(cli, HANAKO)) == {tokyo_osaka}
    assert set(landing_ids(cli, JOHN)) == {acme_globex}
    assert set(landing_ids(cli, EMILY)) == {acme_globex}
    assert set(landing_ids(cli, PETER)) == {initech}
    assert set(landing_ids(cli, LEGAL)) == {tokyo_osaka, acme_globex, initech}


# --- R3 source and target differ -------------------------------------------------------------


def test_r3_a_transfer_to_the_same_account_and_va_is_refused(cli, sample_db):
    result = cli(*request_args("SO12345678-3", dst=ACME, to_va="DEFAULT", same=None,
                               extra=("--from-va", "DEFAULT")), user=TARO)
    assert result.exit_code == 1
    assert "R3" in result.stderr and ACME in result.stderr
    assert landing_ids(cli) == []
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r3_another_va_of_the_same_account_is_allowed_and_counts_as_same_company(cli, sample_db):
    txn = make_request(cli, "SO12345678-3", dst=ACME, to_va="Production", same=None)
    assert txn["same_company"] is True and txn["consents"] == [] and txn["form"] is None
    done = cli.json("submit", txn["transaction_id"], user=TARO)
    assert done["state"] == "transfer_completed"
    assert locate(cli, "SO12345678-3") == [(ACME, "Production")]


# --- R4 relationship question ---------------------------------------------------------------


def test_r4_same_company_no_between_vas_of_one_account_is_refused(cli, sample_db):
    result = cli(*request_args("SO12345678-3", dst=ACME, to_va="Production", same="no"), user=TARO)
    assert result.exit_code == 1
    assert "--same-company no" in result.stderr and "R4" in result.stderr
    assert landing_ids(cli) == []


def test_r4_a_missing_same_company_answer_across_accounts_is_bad_usage_naming_the_option(cli, sample_db):
    result = cli(*request_args("SO12345678-3", same=None), user=TARO)
    assert result.exit_code == 2
    assert "--same-company" in result.stderr
    assert landing_ids(cli) == []


def test_r4_a_cross_company_request_without_a_form_is_bad_usage_naming_form(cli, sample_db):
    result = cli(*request_args("SO12345678-3", dst=GLOBEX, same="no"), user=PARTNER)
    assert result.exit_code == 2
    assert "--form" in result.stderr
    assert landing_ids(cli) == []


@pytest.mark.parametrize("field", ["reason", "transferor_contact_email", "transferee_contact_email"])
def test_r4_an_incomplete_form_is_bad_usage_naming_the_missing_field(cli, sample_db, tmp_path, field):
    form = {k: v for k, v in FORM.items() if k != field}
    result = cli(*request_args("SO12345678-3", dst=GLOBEX, same="no", extra=("--form", form_file(tmp_path, form))),
                 user=PARTNER)
    assert result.exit_code == 2
    assert field in result.stderr
    assert landing_ids(cli) == []


def test_r4_an_empty_form_field_counts_as_missing(cli, sample_db, tmp_path):
    form = dict(FORM, reason="   ")
    result = cli(*request_args("SO12345678-3", dst=GLOBEX, same="no", extra=("--form", form_file(tmp_path, form))),
                 user=PARTNER)
    assert result.exit_code == 2
    assert "reason" in result.stderr
    assert landing_ids(cli) == []


def test_r4_a_same_company_transfer_completes_without_consent_form_or_screening(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")
    assert txn["same_company"] is True and txn["consents"] == [] and txn["form"] is None
    done = cli.json("submit", txn["transaction_id"], user=TARO)
    assert done["state"] == "transfer_completed" and done["status"] == "Transfer Completed"
    assert [e["to"] for e in done["events"]] == ["validation_initiated", "validation_completed", "pending_submission",
                                                 "submitted", "transfer_initiated", "transfer_completed"]
    assert done["completed_at"] is not None
    assert locate(cli, "SO12345678-3") == [(OSAKA, "DEFAULT")]


def test_r4_a_cross_company_transfer_goes_through_both_consents_and_screening(cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3")
    tid = txn["transaction_id"]
    assert txn["form"]["reason"] == FORM["reason"]
    assert txn["form"]["transferor_contact_email"] == FORM["transferor_contact_email"]
    assert cli.json("submit", tid, user=PARTNER)["state"] == "awaiting_consent"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert cli.json("consent", tid, "--accept", user=KEN)["state"] == "awaiting_consent"
    assert cli.json("consent", tid, "--accept", user=JOHN)["state"] == "compliance_screening"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    done = cli.json("screen", tid, "--approve", user=LEGAL)
    assert done["state"] == "transfer_completed" and done["status"] == "Transfer Completed"
    assert {c["side"]: (c["decision"], c["by"]) for c in done["consents"]} == {
        "transferor": ("accepted", KEN), "transferee": ("accepted", JOHN)}
    assert locate(cli, "SO12345678-3") == [(GLOBEX, "DEFAULT")]


def test_r4_the_awaiting_consent_status_has_the_guides_label(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    shown = txn_status(cli, txn)
    assert shown["status"] == "Submitted – Awaiting Transferor/Transferee consent"
    assert shown["state"] == "awaiting_consent"


# --- R5 eligibility ---------------------------------------------------------------------------


@pytest.mark.parametrize("asset_id, reason", [
    ("SO12345679-1", "Enterprise Agreement"),
    ("SO12345680-1", "pending upgrade"),
    ("FDO2312Q1AB", "SSM On-Prem"),
    ("SO87654321-1", "source"),  # belongs to globex.com, not the source
])
def test_r5_an_ineligible_asset_refuses_the_whole_request_naming_it(cli, sample_db, asset_id, reason):
    result = cli(*request_args(asset_id, "SO12345678-3"), user=TARO)
    assert result.exit_code == 1
    line = next((ln for ln in result.stderr.splitlines() if asset_id in ln), "")
    assert reason in line, result.stderr
    assert not any("SO12345678-3" in ln for ln in result.stderr.splitlines()[1:])
    assert landing_ids(cli) == []
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r5_an_asset_already_in_the_target_va_is_refused(cli, sample_db):
    result = cli(*request_args("SO67570538-1", dst=ACME, to_va="Production", same=None), user=TARO)
    assert result.exit_code == 1
    line = next((ln for ln in result.stderr.splitlines() if "SO67570538-1" in ln), "")
    assert "already in the target" in line, result.stderr
    assert landing_ids(cli) == []


def test_r5_an_asset_in_another_unfinished_transaction_is_refused(cli, sample_db):
    first = make_request(cli, "SO12345678-3")["transaction_id"]
    result = cli(*request_args("SO12345678-3", dst=ACME, to_va="Production", same=None), user=TARO)
    assert result.exit_code == 1
    line = next((ln for ln in result.stderr.splitlines() if "SO12345678-3" in ln), "")
    assert first in line, result.stderr
    assert landing_ids(cli) == [first]


def test_r5_an_asset_is_free_again_once_its_transaction_has_ended(cli, sample_db):
    first = make_request(cli, "SO12345678-3")["transaction_id"]
    cli.json("cancel", first, user=TARO)
    second = make_request(cli, "SO12345678-3", dst=ACME, to_va="Production", same=None)
    assert second["state"] == "pending_submission" and second["transaction_id"] != first


def test_r5_every_ineligible_asset_is_listed_with_its_reason_and_nothing_is_created(cli, sample_db):
    busy = make_request(cli, "SO12345678-2")["transaction_id"]
    expected = {
        "SO12345679-1": "Enterprise Agreement",
        "SO12345680-1": "pending upgrade",
        "FDO2312Q1AB": "SSM On-Prem",
        "SO87654321-1": "source",
        "SO67570538-1": "already in the target",
        "SO12345678-2": busy,
    }
    result = cli(*request_args(*expected, "SO12345678-3", dst=ACME, to_va="Production", same=None), user=TARO)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error:")
    for asset_id, reason in expected.items():
        line = next((ln for ln in lines[1:] if asset_id in ln), "")
        assert reason in line, (asset_id, result.stderr)
    assert not any("SO12345678-3" in ln for ln in lines[1:])
    assert landing_ids(cli) == [busy]
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r5_an_asset_outside_the_given_source_va_is_refused(cli, sample_db):
    result = cli(*request_args("SO12345678-3", extra=("--from-va", "Production")), user=TARO)
    assert result.exit_code == 1
    assert "SO12345678-3" in result.stderr
    assert landing_ids(cli) == []


def test_r5_skip_ineligible_leaves_them_out_with_a_warning(cli, sample_db):
    txn = make_request(cli, "SO12345679-1", "FDO2312Q1AB", "SO12345678-3", extra=("--skip-ineligible",))
    assert [i["asset_id"] for i in txn["items"]] == ["SO12345678-3"]
    left_out = {w["code"]: w["assets"] for w in txn["warnings"] if w["code"].startswith("skipped_")}
    assert left_out == {"skipped_enterprise_agreement": ["SO12345679-1"], "skipped_ssm_onprem_device": ["FDO2312Q1AB"]}
    assert cli.json("submit", txn["transaction_id"], user=TARO)["state"] == "transfer_completed"
    assert locate(cli, "SO12345679-1") == [(ACME, "DEFAULT")]
    assert locate(cli, "FDO2312Q1AB") == [(ACME, "SSM On-Prem")]


def test_r5_skip_ineligible_with_nothing_left_is_still_refused(cli, sample_db):
    result = cli(*request_args("SO12345679-1", extra=("--skip-ineligible",)), user=TARO)
    assert result.exit_code == 1
    assert "SO12345679-1" in result.stderr
    assert landing_ids(cli) == []


def test_r5_dry_run_creates_nothing_and_prints_warnings(cli, sample_db):
    result = cli(*request_args("SO12345678-1", extra=("--dry-run",)), user=TARO)
    assert result.exit_code == 0, result.output
    out = result.stdout + result.stderr
    assert "SO12345678-1" in out and "in use" in out
    assert landing_ids(cli) == []
    assert locate(cli, "SO12345678-1") == [(ACME, "DEFAULT")]


def test_r5_dry_run_lists_ineligible_assets_and_creates_nothing(cli, sample_db):
    result = cli(*request_args("SO12345679-1", "SO12345678-3", extra=("--dry-run",)), user=TARO)
    assert result.exit_code == 1
    assert "SO12345679-1" in result.stdout + result.stderr
    assert landing_ids(cli) == []


def test_r5_submit_revalidates_and_refuses_an_asset_changed_meanwhile(cli, sample_db, tmp_path):
    txn = make_request(cli, "SO12345678-3", "FOC2231X0AB")["transaction_id"]
    import_license_change(cli, tmp_path, "SO12345678-3", enterprise_agreement=True)
    result = cli("submit", txn, user=TARO)
    assert result.exit_code == 1
    line = next((ln for ln in result.stderr.splitlines()[1:] if "SO12345678-3" in ln), "")
    assert "Enterprise Agreement" in line, result.stderr
    after = txn_status(cli, txn)
    assert after["state"] == "pending_submission"
    assert [e["to"] for e in after["events"]] == ["validation_initiated", "validation_completed",
                                                  "pending_submission"]
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert locate(cli, "FOC2231X0AB") == [(ACME, "DEFAULT")]


def test_r9_an_import_cannot_move_an_asset_out_of_its_transaction(cli, sample_db, tmp_path):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    record = next(lic for lic in json.loads(SAMPLE.read_text(encoding="utf-8"))["licenses"]
                  if lic["id"] == "SO12345678-3")
    result = cli("import", str(write_json(tmp_path / "move.json", {"licenses": [dict(record, account=GLOBEX)]})))
    assert result.exit_code == 0, result.output
    assert "Kept the current place of 1 asset(s)" in result.stderr and "never moves an asset" in result.stderr
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert cli.json("submit", txn, user=TARO)["state"] == "transfer_completed"


def test_r9_reimporting_stale_data_does_not_undo_a_completed_transfer(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    assert cli.json("submit", txn, user=TARO)["state"] == "transfer_completed"
    result = cli("import", str(SAMPLE))  # the everyday refresh of asset details is not refused as a whole
    assert result.exit_code == 0, result.output
    assert "Kept the current place of 1 asset(s)" in result.stderr and "1 of them moved by an atm transfer" in \
        result.stderr
    assert locate(cli, "SO12345678-3") == [(OSAKA, "DEFAULT")]


# --- R6 no split ------------------------------------------------------------------------------


def test_r6_a_license_moves_with_all_its_minor_lines(cli, sample_db):
    before = asset(cli, "SO12345678-1", ACME)
    assert len(before["minor_lines"]) == 2
    txn = make_request(cli, "SO12345678-1")["transaction_id"]
    assert cli.json("submit", txn, user=TARO)["state"] == "transfer_completed"
    moved = asset(cli, "SO12345678-1", OSAKA)
    assert moved["quantity"] == before["quantity"] == 10
    assert moved["minor_lines"] == before["minor_lines"]
    assert moved["virtual_account"] == "DEFAULT"
    listed = cli("assets", "list", "--account", OSAKA, "--sales-order", "12345678", "--lines", user=TARO)
    assert listed.exit_code == 0 and "1.1" in listed.stdout and "1.4" in listed.stdout
    assert locate(cli, "SO12345678-1") == [(OSAKA, "DEFAULT")]


def test_r6_there_is_no_way_to_request_part_of_a_line(cli, sample_db):
    helped = cli("request", "--help")
    assert helped.exit_code == 0
    assert "quantity" not in helped.stdout.lower() and "--qty" not in helped.stdout
    result = cli(*request_args("SO12345678-1", extra=("--quantity", "5")), user=TARO)
    assert result.exit_code == 2
    assert "--quantity" in result.stderr
    assert landing_ids(cli) == []


# --- R7 status machine --------------------------------------------------------------------------


def test_r7_submitting_a_completed_transaction_again_is_refused_with_its_status(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    done = cli.json("submit", txn, user=TARO)
    assert done["state"] == "transfer_completed"
    result = cli("submit", txn, user=TARO)
    assert result.exit_code == 1
    assert "Transfer Completed" in result.stderr and txn in result.stderr
    assert txn_status(cli, txn)["events"] == done["events"]
    assert locate(cli, "SO12345678-3") == [(OSAKA, "DEFAULT")]


def test_r7_consent_on_a_same_company_transaction_is_refused(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    for decision in ("--accept", "--decline"):
        result = cli("consent", txn, decision, user=TARO)
        assert result.exit_code == 1, decision
        assert txn in result.stderr and "consent" in result.stderr
    after = txn_status(cli, txn)
    assert after["state"] == "pending_submission" and after["consents"] == []


def test_r7_screening_a_pending_submission_transaction_is_refused_naming_status_and_allowed_actions(
        cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3")["transaction_id"]
    result = cli("screen", txn, "--approve", user=LEGAL)
    assert result.exit_code == 1
    assert "Pending Submission" in result.stderr
    assert "atm submit" in result.stderr and "atm cancel" in result.stderr
    assert txn_status(cli, txn)["state"] == "pending_submission"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r7_consent_before_submit_is_refused(cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3")["transaction_id"]
    result = cli("consent", txn, "--accept", user=JOHN)
    assert result.exit_code == 1
    assert "Pending Submission" in result.stderr
    after = txn_status(cli, txn)
    assert after["state"] == "pending_submission"
    assert {c["decision"] for c in after["consents"]} == {"pending"}


def test_r7_screening_while_consent_is_awaited_is_refused(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    result = cli("screen", txn, "--approve", user=LEGAL)
    assert result.exit_code == 1
    assert "Awaiting" in result.stderr and "atm consent" in result.stderr
    assert txn_status(cli, txn)["state"] == "awaiting_consent"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


# --- R8 cancel window -------------------------------------------------------------------------------


def test_r8_cancel_in_pending_submission_works_and_the_assets_stay(cli, sample_db):
    txn = make_request(cli, "SO12345678-3", "FOC2231X0AB")["transaction_id"]
    cancelled = cli.json("cancel", txn, "--reason", "wrong target VA", user=TARO)
    assert cancelled["state"] == "cancelled" and cancelled["status"] == "Cancelled"
    assert {i["result"] for i in cancelled["items"]} == {"not_transferred"}
    assert cancelled["completed_at"] is not None
    assert cancelled["events"][-1]["from"] == "pending_submission" and cancelled["events"][-1]["to"] == "cancelled"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert locate(cli, "FOC2231X0AB") == [(ACME, "DEFAULT")]


def test_r8_cancel_after_submit_is_refused_naming_the_status_and_the_rule(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    before = txn_status(cli, txn)
    result = cli("cancel", txn, user=PARTNER)
    assert result.exit_code == 1
    assert "R8" in result.stderr and "Awaiting Transferor/Transferee consent" in result.stderr
    assert txn_status(cli, txn) == before


def test_r8_cancel_during_compliance_screening_is_refused(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    result = cli("cancel", txn, user=PARTNER)
    assert result.exit_code == 1
    assert "R8" in result.stderr and "Compliance Screening" in result.stderr
    assert txn_status(cli, txn)["state"] == "compliance_screening"


# --- R9 no way back ------------------------------------------------------------------------------------


def test_r9_a_completed_transfer_cannot_be_cancelled(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    done = cli.json("submit", txn, user=TARO)
    result = cli("cancel", txn, user=TARO)
    assert result.exit_code == 1
    assert "Transfer Completed" in result.stderr
    assert txn_status(cli, txn) == done
    assert locate(cli, "SO12345678-3") == [(OSAKA, "DEFAULT")]


def test_r9_moving_assets_back_is_a_new_transaction(cli, sample_db):
    there = make_request(cli, "SO12345678-3")["transaction_id"]
    cli.json("submit", there, user=TARO)
    back = make_request(cli, "SO12345678-3", src=OSAKA, dst=ACME)
    assert back["transaction_id"] != there
    assert cli.json("submit", back["transaction_id"], user=TARO)["state"] == "transfer_completed"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert txn_status(cli, there)["state"] == "transfer_completed"
    assert set(landing_ids(cli, TARO)) == {there, back["transaction_id"]}


# --- R10 consent ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("user, extra", [
    (EMILY, ()),  # plain user of the transferee
    (BOB, ()),  # plain user of the transferor
    (KEN, ("--side", "transferee")),  # admin of the transferor only
    (JOHN, ("--side", "transferor")),  # admin of the transferee only
])
def test_r10_consent_by_someone_who_is_not_admin_of_that_side_is_permission_denied(
        cli, sample_db, tmp_path, user, extra):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    before = txn_status(cli, txn)
    result = cli("consent", txn, "--accept", *extra, user=user)
    assert result.exit_code == 4
    assert "R10" in result.stderr and "admin" in result.stderr
    assert txn_status(cli, txn) == before


def test_r10_a_decline_cancels_and_the_items_are_not_transferred(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3", "FOC2231X0AB")
    cli.json("consent", txn, "--accept", user=KEN)
    declined = cli.json("consent", txn, "--decline", user=JOHN)
    assert declined["state"] == "cancelled" and declined["status"] == "Cancelled"
    assert {i["result"] for i in declined["items"]} == {"not_transferred"}
    assert {c["side"]: c["decision"] for c in declined["consents"]} == {"transferor": "accepted",
                                                                         "transferee": "declined"}
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert "declined" in kinds_for(cli, PARTNER, txn)


def test_r10_side_is_needed_only_when_the_user_administers_both_sides(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    result = cli("consent", txn, "--accept", user=PARTNER)
    assert result.exit_code == 2
    assert "--side" in result.stderr
    assert {c["decision"] for c in txn_status(cli, txn)["consents"]} == {"pending"}
    mine = cli.json("consent", txn, "--accept", "--side", "transferor", user=PARTNER)
    assert {c["side"]: (c["decision"], c["by"]) for c in mine["consents"]} == {
        "transferor": ("accepted", PARTNER), "transferee": ("pending", None)}
    theirs = cli.json("consent", txn, "--accept", user=JOHN)  # one admin role: the side is inferred
    assert theirs["state"] == "compliance_screening"


def test_r10_a_side_cannot_consent_twice(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    cli.json("consent", txn, "--accept", user=KEN)
    before = txn_status(cli, txn)
    for user, extra in ((KEN, ()), (TARO, ()), (PARTNER, ("--side", "transferor"))):
        result = cli("consent", txn, "--decline", *extra, user=user)
        assert result.exit_code == 1, user
        assert "transferor" in result.stderr and "already" in result.stderr
    assert txn_status(cli, txn) == before


def test_r10_viewing_consent_changes_nothing(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    before = txn_status(cli, txn)
    viewed = cli.json("consent", txn, user=JOHN)
    assert viewed == before


# --- R11 screening ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", [PARTNER, JOHN, TARO])
def test_r11_screening_by_a_non_compliance_user_is_permission_denied(cli, sample_db, tmp_path, user):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    before = txn_status(cli, txn)
    result = cli("screen", txn, "--approve", user=user)
    assert result.exit_code == 4
    assert "compliance" in result.stderr and "R11" in result.stderr
    assert txn_status(cli, txn) == before
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


def test_r11_rejecting_without_a_reason_is_bad_usage(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    before = txn_status(cli, txn)
    result = cli("screen", txn, "--reject", user=LEGAL)
    assert result.exit_code == 2
    assert "--reason" in result.stderr
    assert txn_status(cli, txn) == before


def test_r11_screen_without_a_decision_is_bad_usage(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    result = cli("screen", txn, user=LEGAL)
    assert result.exit_code == 2
    assert "--approve" in result.stderr
    assert txn_status(cli, txn)["state"] == "compliance_screening"


def test_r11_a_rejection_with_a_reason_ends_the_transaction_and_notifies_the_requester(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3", "FOC2231X0AB")
    reason = "export control: end user not cleared"
    rejected = cli.json("screen", txn, "--reject", "--reason", reason, user=LEGAL)
    assert rejected["state"] == "compliance_screening_rejected"
    assert rejected["status"] == "Compliance Screening Rejected"
    assert {i["result"] for i in rejected["items"]} == {"not_transferred"}
    assert rejected["events"][-1]["actor"] == LEGAL and rejected["events"][-1]["note"] == reason
    mine = [n for n in notes(cli, PARTNER) if n["transaction_id"] == txn and n["kind"] == "rejected"]
    assert len(mine) == 1 and reason in mine[0]["message"]
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert locate(cli, "FOC2231X0AB") == [(ACME, "DEFAULT")]


def test_r11_a_rejected_transaction_cannot_be_approved_afterwards(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    cli.json("screen", txn, "--reject", "--reason", "no", user=LEGAL)
    result = cli("screen", txn, "--approve", user=LEGAL)
    assert result.exit_code == 1
    assert "Compliance Screening Rejected" in result.stderr
    assert txn_status(cli, txn)["state"] == "compliance_screening_rejected"
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]


# --- R12 atomic move -----------------------------------------------------------------------------------------


def test_r12_after_completion_every_asset_is_in_exactly_one_place(cli, sample_db):
    before = counts(cli)
    moving = ("SO12345678-1", "SO12345678-3", "FOC2231X0AB")
    txn = make_request(cli, *moving, dst=OSAKA, to_va="大阪工場")["transaction_id"]
    done = cli.json("submit", txn, user=TARO)
    assert done["state"] == "transfer_completed"
    assert [(i["asset_id"], i["result"], i["reason"]) for i in done["items"]] == [
        (a, "transferred", None) for a in moving]
    after = counts(cli)
    assert after[ACME] == {"licenses": before[ACME]["licenses"] - 2, "devices": before[ACME]["devices"] - 1}
    assert after[OSAKA] == {"licenses": before[OSAKA]["licenses"] + 2, "devices": before[OSAKA]["devices"] + 1}
    assert after[GLOBEX] == before[GLOBEX] and after[INITECH] == before[INITECH]
    for kind in ("licenses", "devices"):
        assert sum(c[kind] for c in after.values()) == sum(c[kind] for c in before.values())
    for a in moving:
        assert locate(cli, a) == [(OSAKA, "大阪工場")]


# --- R13 side effects ---------------------------------------------------------------------------------------


def test_r13_side_effect_warnings_appear_in_the_transaction(cli, sample_db):
    txn = make_request(cli, "SO12345678-1", "SO12345678-2", "FCW2245L0CS", "FOC2231X0AB")
    warnings = txn_status(cli, txn["transaction_id"])["warnings"]
    assert warnings == txn["warnings"]

    def about(asset: str, *words: str) -> list[dict]:
        return [w for w in warnings if (not asset or asset in w["assets"])
                and all(word.lower() in w["message"].lower() for word in words)]

    assert about("SO12345678-1", "in use", "compliance")
    assert about("SO12345678-2", "reserved", OSAKA)
    assert about("FCW2245L0CS", "CSLU")
    assert about("FOC2231X0AB", "re-registration")
    assert about("", "PnP") or about("", "Plug and Play")
    assert not about("SO12345678-3")
    items = {i["asset_id"]: i["warning"] for i in txn["items"]}
    # SO12345678-2 is both in use and reserved: an item carries the one to act on first, in_use.
    assert items == {"SO12345678-1": "in_use", "SO12345678-2": "in_use", "FCW2245L0CS": "cslu", "FOC2231X0AB": None}


def test_r13_a_reserved_license_stays_reserved_in_the_target(cli, sample_db):
    txn = make_request(cli, "SO12345678-2")["transaction_id"]
    cli.json("submit", txn, user=TARO)
    assert asset(cli, "SO12345678-2", OSAKA)["reserved"] is True


# --- R14 notifications -----------------------------------------------------------------------------------------


def test_r14_notifications_follow_a_cross_company_transfer(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    for admin in (TARO, KEN, PARTNER, JOHN):  # admins of acme.co.jp and globex.com
        assert "consent_requested" in kinds_for(cli, admin, txn), admin
    for other in (HANAKO, BOB, EMILY, PETER, LEGAL):
        assert kinds_for(cli, other, txn) == [], other
    cli.json("consent", txn, "--accept", user=KEN)
    assert "screening_requested" not in kinds_for(cli, LEGAL, txn)
    cli.json("consent", txn, "--accept", user=JOHN)
    assert kinds_for(cli, LEGAL, txn) == ["screening_requested"]
    cli.json("screen", txn, "--approve", user=LEGAL)
    assert "completed" in kinds_for(cli, PARTNER, txn)
    assert "completed" not in kinds_for(cli, JOHN, txn)


def test_r14_the_requester_is_notified_when_a_same_company_transfer_completes(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    assert kinds_for(cli, TARO, txn) == []
    cli.json("submit", txn, user=TARO)
    assert kinds_for(cli, TARO, txn) == ["completed"]
    assert kinds_for(cli, HANAKO, txn) == []


def test_r14_notification_json_has_exactly_the_spec_keys_and_mark_read_marks_them(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    cli.json("submit", txn, user=TARO)
    found = notes(cli, TARO)
    assert len(found) == 1
    assert list(found[0]) == NOTIFICATION_KEYS
    assert found[0]["transaction_id"] == txn and found[0]["kind"] == "completed" and found[0]["read"] is False
    assert txn in found[0]["message"]
    assert found[0]["created_at"].endswith(("Z", "+00:00"))
    result = cli("notifications", "--mark-read", user=TARO)
    assert result.exit_code == 0
    assert [n["read"] for n in notes(cli, TARO)] == [True]
    assert cli.json("notifications", "--unread", user=TARO) == []


# --- R15 audit -------------------------------------------------------------------------------------------------


def test_r15_events_record_every_step_with_actor_and_states(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3")
    events = cli.json("screen", txn, "--approve", user=LEGAL)["events"]
    assert events[0]["from"] is None and events[0]["to"] == "validation_initiated"
    assert events[0]["actor"] == PARTNER
    assert all(e["to"] in STATES for e in events) and all(e["from"] in STATES for e in events[1:])
    for previous, event in zip(events, events[1:]):
        assert event["from"] == previous["to"], events
        assert event["at"] >= previous["at"]
    changes = [(e["actor"], e["from"], e["to"]) for e in events if e["from"] != e["to"]]
    assert changes == [
        (PARTNER, None, "validation_initiated"),
        (PARTNER, "validation_initiated", "validation_completed"),
        (PARTNER, "validation_completed", "pending_submission"),
        (PARTNER, "pending_submission", "submitted"),
        (PARTNER, "submitted", "awaiting_consent"),
        (JOHN, "awaiting_consent", "compliance_screening"),
        (LEGAL, "compliance_screening", "transfer_initiated"),
        (LEGAL, "transfer_initiated", "transfer_completed"),
    ]
    assert any(e["actor"] == KEN for e in events), "the transferor's consent is an action too"
    assert all(e["at"].endswith(("Z", "+00:00")) for e in events)


def test_r15_events_are_only_ever_appended(cli, sample_db, tmp_path):
    txn = cross_request(cli, tmp_path, "SO12345678-3")["transaction_id"]
    history = txn_status(cli, txn)["events"]
    for command, user in ((("submit", txn), PARTNER), (("consent", txn, "--accept"), KEN),
                          (("consent", txn, "--accept"), JOHN), (("screen", txn, "--approve"), LEGAL)):
        now = cli.json(*command, user=user)["events"]
        assert len(now) > len(history) and now[:len(history)] == history, command
        history = now


def test_r15_a_refused_action_records_no_event(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    history = txn_status(cli, txn)["events"]
    assert cli("cancel", txn, user=PARTNER).exit_code == 1
    assert cli("screen", txn, "--approve", user=LEGAL).exit_code == 1
    assert cli("consent", txn, "--accept", user=EMILY).exit_code == 4
    assert txn_status(cli, txn)["events"] == history


# --- status --expect (CI checks) --------------------------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["pending_submission", "Pending Submission"])
def test_status_expect_exits_0_when_the_status_matches_by_code_or_label(cli, sample_db, wanted):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    result = cli("status", txn, "--expect", wanted, user=TARO)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("wanted", ["transfer_completed", "Transfer Completed"])
def test_status_expect_exits_1_when_the_status_differs(cli, sample_db, wanted):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    result = cli("status", txn, "--expect", wanted, user=TARO)
    assert result.exit_code == 1
    assert "Pending Submission" in result.stderr and "Transfer Completed" in result.stderr


def test_status_expect_accepts_the_awaiting_consent_label(cli, sample_db, tmp_path):
    txn = submitted_cross(cli, tmp_path, "SO12345678-3")
    result = cli("status", txn, "--expect", "Submitted – Awaiting Transferor/Transferee consent", user=PARTNER)
    assert result.exit_code == 0, result.output
    assert cli("status", txn, "--expect", "awaiting_consent", user=PARTNER).exit_code == 0


def test_status_expect_with_an_unknown_status_is_bad_usage(cli, sample_db):
    txn = make_request(cli, "SO12345678-3")["transaction_id"]
    result = cli("status", txn, "--expect", "finished-ish", user=TARO)
    assert result.exit_code == 2
    assert "finished-ish" in result.stderr


def test_status_of_a_nonexistent_transaction_is_not_found(cli, sample_db):
    result = cli("status", "ATM-00000-00000", user=LEGAL)
    assert result.exit_code == 3
    assert "ATM-00000-00000" in result.stderr and "not found" in result.stderr
