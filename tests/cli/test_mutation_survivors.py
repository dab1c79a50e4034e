"""Rules that one-line mutants of the code once slipped past (R2, R5, R13, R14), through the CLI.

Each test here was written against a mutant that passed the whole suite, or
was caught only by the randomized stateful test after minutes of shrinking
(`tools/mutants.toml` names them). Each is deterministic and takes well under
a second.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.test_rules import (
    ACME, GLOBEX, JOHN, KEN, import_license_change, kinds_for, landing_ids, locate, make_request,
    notes, request_args, screened_cross, txn_status,
)
from tests.conftest import LEGAL, PARTNER, TARO

MISSING = "SO99999999-9"  # no such asset anywhere
RESERVED_DEVICE = "FOC2240Y1RZ"  # acme.co.jp / DEFAULT, reserved; neither CSLU nor PnP
PLAIN_DEVICE = "FOC2231X0AB"  # acme.co.jp / DEFAULT, not reserved


# --- R2: an asset outside the source SA is "not found", whoever owns it ------------------------------


@pytest.mark.parametrize("foreign", [
    "SO87654321-1",  # globex.com's: Taro holds no role there
    "SO13177894-1",  # initech.example's: Taro holds no role there
])
def test_r2_an_asset_of_another_smart_account_is_refused_exactly_like_a_missing_one(cli, sample_db, foreign):
    seen = cli(*request_args(foreign, "SO12345678-3"), user=TARO)
    absent = cli(*request_args(MISSING, "SO12345678-3"), user=TARO)
    assert seen.exit_code == absent.exit_code == 1
    assert foreign in seen.stderr
    # Word for word the refusal of an id that does not exist: nothing tells an outsider the asset exists.
    assert seen.stderr.replace(foreign, "ID") == absent.stderr.replace(MISSING, "ID")
    assert landing_ids(cli) == []


@pytest.mark.parametrize("foreign", ["SO87654321-1", "SO13177894-1"])
def test_r2_a_dry_run_gives_a_foreign_asset_the_reason_code_of_a_missing_one(cli, sample_db, foreign):
    def ineligible(asset_id: str) -> list[dict]:
        result = cli(*request_args(asset_id, "SO12345678-3", extra=("--dry-run", "--json")), user=TARO)
        assert result.exit_code == 1, result.output
        return json.loads(result.stdout)["ineligible"]

    seen, absent = ineligible(foreign), ineligible(MISSING)
    assert [i["asset_id"] for i in seen] == [foreign]
    assert [dict(i, asset_id="ID") for i in seen] == [dict(i, asset_id="ID") for i in absent]


# --- R5: Submit for Transfer re-checks a pending upgrade ------------------------------------------------


def test_r5_submit_refuses_a_license_reimported_as_pending_upgrade(cli, sample_db, tmp_path):
    txn = make_request(cli, "SO12345678-3", PLAIN_DEVICE)["transaction_id"]
    before = txn_status(cli, txn)
    import_license_change(cli, tmp_path, "SO12345678-3", pending_upgrade=True)  # the full record, one flag changed
    result = cli("submit", txn, user=TARO)
    assert result.exit_code == 1
    line = next((ln for ln in result.stderr.splitlines()[1:] if "SO12345678-3" in ln), "")
    assert "pending upgrade" in line, result.stderr
    assert txn_status(cli, txn) == before
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert locate(cli, PLAIN_DEVICE) == [(ACME, "DEFAULT")]


# --- R13: a reserved device is said to be reserved --------------------------------------------------------


def warning_entries(warnings: list) -> list[tuple[str, list[str]]]:
    """(text, asset ids) of each R13 warning, whichever JSON shape the list has: plain strings, or
    `{code, message, count, assets}` entries."""
    out = []
    for w in warnings:
        if isinstance(w, str):
            out.append((w, []))
        else:
            out.append((f"{w.get('code') or ''} {w['message']}", list(w.get("assets") or [])))
    return out


def warned(warnings: list, asset_id: str, word: str) -> list[str]:
    """The warnings that name `asset_id` (in their text or their asset list) and say `word`."""
    return [text for text, ids in warning_entries(warnings)
            if (asset_id in ids or asset_id in text) and word.lower() in text.lower()]


def test_r13_a_reserved_device_carries_the_reserved_warning(cli, sample_db):
    dry = cli(*request_args(RESERVED_DEVICE, PLAIN_DEVICE, extra=("--dry-run", "--json")), user=TARO)
    assert dry.exit_code == 0, dry.output
    txn = make_request(cli, RESERVED_DEVICE, PLAIN_DEVICE)
    shown = txn_status(cli, txn["transaction_id"])
    for warnings in (json.loads(dry.stdout)["warnings"], txn["warnings"], shown["warnings"]):
        assert warned(warnings, RESERVED_DEVICE, "reserved"), warnings
        assert not warned(warnings, PLAIN_DEVICE, "reserved"), warnings
    codes = {i["asset_id"]: i["warning"] for i in shown["items"] if "warning" in i}  # per-item R13 codes, if any
    if codes:
        assert codes[RESERVED_DEVICE] == "reserved" and codes[PLAIN_DEVICE] != "reserved", codes


# --- R14: a failure is told to the requester --------------------------------------------------------------


def test_r14_a_failed_transfer_notifies_the_requester_not_whoever_ran_it(cli, sample_db, tmp_path):
    txn = screened_cross(cli, tmp_path, "SO12345678-3", PLAIN_DEVICE)  # requested by the partner
    import_license_change(cli, tmp_path, "SO12345678-3", enterprise_agreement=True)  # it can no longer move
    done = cli.json("screen", txn, "--approve", user=LEGAL)
    assert done["state"] == "transfer_completed_with_failure"
    assert {i["asset_id"]: i["result"] for i in done["items"]} == {"SO12345678-3": "failed",
                                                                  PLAIN_DEVICE: "transferred"}
    failed = [n for n in notes(cli, PARTNER) if n["transaction_id"] == txn and n["kind"] == "failed"]
    assert len(failed) == 1 and txn in failed[0]["message"]
    assert "failed" not in kinds_for(cli, LEGAL, txn)
    for admin in (KEN, JOHN, TARO):
        assert "failed" not in kinds_for(cli, admin, txn), admin
    assert locate(cli, "SO12345678-3") == [(ACME, "DEFAULT")]
    assert locate(cli, PLAIN_DEVICE) == [(GLOBEX, "DEFAULT")]
