"""Writers that meet on the same rows, as real processes on one database (R5, R10, R12; docs/exit-codes.md).

On an SQLite file the write lock orders them; on a server (the PostgreSQL leg) row locks and the import's
table lock do. Either way the outcome is one of the orders in which they could have run one after the other.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.test_crash_and_concurrency import (
    ADMIN, BYSTANDERS, EAST, TARGET_VA, WEST, assert_each_asset_in_one_place, item_counts, load_world,
    make_request, one, read_only, start_together, world,
)
from tests.conftest import PARTNER, TARO, write_json

JOHN_SMITH = "john.smith@globex.com"  # admin of globex.com: the transferee's side


def test_an_import_never_writes_back_a_place_that_a_transfer_changed_meanwhile(run_atm, tmp_path, uow,
                                                                               monkeypatch):
    """An import reads the stored assets of a batch, then writes them (keeping their place). A transfer that
    moved them between the two would be undone by that write (R12). So while an import runs, no transfer
    moves anything (the SQLite write lock; on a server, the import's EXCLUSIVE lock on the assets): the
    transfer tried at exactly that moment fails with exit 5 having moved nothing, and finishes afterwards."""
    from atm.services.importing import import_file

    n = 3_000
    ids = load_world(run_atm, tmp_path, n, two_accounts=True)
    txn = make_request(run_atm, tmp_path, two_accounts=True)
    stale, _ = world(n, two_accounts=True)  # every device placed in the source, as before the transfer
    stale_file = write_json(tmp_path / "stale.json", {"devices": stale["devices"]})
    during = []
    write_batch = uow.assets.update

    def between_read_and_write(assets):
        if not during:
            during.append(run_atm("submit", txn, env={"ATM_USER": ADMIN, "ATM_LOCK_TIMEOUT": "1"}))
        return write_batch(assets)

    monkeypatch.setattr(uow.assets, "update", between_read_and_write)
    summary = import_file(uow, stale_file)
    [tried] = during
    assert tried.returncode == 5, tried.stderr
    assert "busy" in tried.stderr.splitlines()[0] and "ATM_LOCK_TIMEOUT" in tried.stderr
    assert summary.locations_kept == 0
    with read_only() as conn:
        assert item_counts(conn, txn) == {"pending": n}
    done = run_atm("submit", txn, "--json", env={"ATM_USER": ADMIN})
    assert done.returncode == 0, done.stderr
    with read_only() as conn:
        assert item_counts(conn, txn) == {"transferred": n}
        assert_each_asset_in_one_place(conn, txn, set(ids), EAST, (WEST, TARGET_VA))
        assert one(conn, "SELECT count(*) FROM assets WHERE account = ?", (EAST,)) == BYSTANDERS


@pytest.mark.slow
def test_both_sides_consenting_at_once_move_the_transaction_on_once(cli, sample_db, tmp_path):
    """R10: the transferor's and the transferee's consents at the same moment: both are kept, and the
    transaction goes to Compliance Screening exactly once."""
    form = write_json(tmp_path / "form.json", {"reason": "sold", "transferor_contact_email": TARO,
                                               "transferee_contact_email": JOHN_SMITH})
    view = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                    "--same-company", "no", "--asset", "SO12345678-3", "--form", str(form), user=PARTNER)
    txn = view["transaction_id"]
    assert cli("submit", txn, "--yes", user=PARTNER).exit_code == 0
    results = start_together([["--as", TARO, "consent", txn, "--accept", "--json"],
                              ["--as", JOHN_SMITH, "consent", txn, "--accept", "--json"]])
    assert [code for code, _, _ in results] == [0, 0], results
    final = json.loads(cli("status", txn, "--json", user=PARTNER).stdout)
    assert final["state"] == "compliance_screening"
    assert {c["side"]: c["decision"] for c in final["consents"]} == {"transferor": "accepted",
                                                                     "transferee": "accepted"}
    assert [e["to"] for e in final["events"]].count("compliance_screening") == 1
    with read_only() as conn:
        assert one(conn, "SELECT count(*) FROM notifications WHERE transaction_id = ? "
                         "AND kind = 'screening_requested'", (txn,)) == 1


@pytest.mark.slow
def test_a_cancel_and_a_submit_at_once_end_in_one_of_the_two(run_atm, tmp_path):
    """R8: cancel and submit race on one transaction: exactly one wins; the other is refused by the status
    machine (R7), and the assets are where the winner left them."""
    n = 2_000
    load_world(run_atm, tmp_path, n, two_accounts=True)
    txn = make_request(run_atm, tmp_path, two_accounts=True)
    results = start_together([["submit", txn, "--json"], ["cancel", txn, "--yes", "--json"]])
    (submit_code, _, submit_err), (cancel_code, _, cancel_err) = results
    assert sorted([submit_code, cancel_code]) == [0, 1], results
    with read_only() as conn:
        state = one(conn, "SELECT state FROM transactions WHERE id = ?", (txn,))
        if submit_code == 0:
            assert state == "transfer_completed" and "cannot cancel" in cancel_err
            assert item_counts(conn, txn) == {"transferred": n}
        else:
            assert state == "cancelled" and "cannot submit" in submit_err
            assert item_counts(conn, txn) == {"not_transferred": n}
            assert one(conn, "SELECT count(*) FROM assets WHERE account = ? AND virtual_account = ?",
                       (WEST, TARGET_VA)) == 0
        assert one(conn, "SELECT count(*) FROM transaction_items WHERE active = 1") == 0
