"""R12: executing a transfer. Chunks of items move in one database transaction each, so a crash between
chunks leaves every asset in exactly one place and a rerun resumes without moving anything twice."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

from atm.domain.eligibility import Ineligibility, Place, ineligibility, not_found
from atm.domain.model import Asset
from atm.domain.times import now
from atm.domain.transfer import Action, Status, Transaction
from atm.services.unit_of_work import UnitOfWork

CHUNK = 5000
YIELD_EVERY = 2.0  # seconds of back-to-back chunks before letting other writers in
YIELD_FOR = 0.12
Progress = Callable[[int, int], None]


def revalidate(uow: UnitOfWork, txn: Transaction) -> list[Ineligibility]:
    """R5 again at Submit for Transfer: assets may have changed since the request."""
    failures: list[Ineligibility] = []
    check = _checker(uow, txn)
    last = uow.transfers.last_seq(txn.id)
    for first in range(1, last + 1, CHUNK * 4):  # one query per 20,000 items; it returns only suspects
        for item, asset in uow.transfers.suspect_items(txn, first_seq=first, last_seq=first + CHUNK * 4 - 1):
            verdict = check(asset, item.asset_id)
            if verdict is not None:
                failures.append(verdict)
    return failures


def _checker(uow: UnitOfWork, txn: Transaction) -> Callable[[Asset | None, str], Ineligibility | None]:
    source = uow.accounts.by_domain(txn.source_account)
    ssm = {va.name for va in source.virtual_accounts if va.ssm_onprem}
    src, dst = Place(txn.source_account, txn.source_va), Place(txn.target_account, txn.target_va)
    return lambda asset, asset_id: _item_verdict(asset, asset_id, ssm, src, dst)


def _item_verdict(asset: Asset | None, asset_id: str, ssm: set[str], src: Place, dst: Place
                  ) -> Ineligibility | None:
    if asset is None or asset.account != src.account:
        return not_found(asset_id, src.account)
    # The item itself holds the asset (R5's "another transaction" is never this one).
    return ineligibility(asset, in_ssm_onprem_va=asset.virtual_account in ssm, active_transaction=None,
                         source=src, target=dst)


def execute(uow: UnitOfWork, txn_id: str, *, actor: str, progress: Progress | None = None,
            verified_at: int | None = None) -> dict[tuple[str, str], int] | None:
    """R12: move the items chunk by chunk; each chunk is all-or-nothing, and a rerun resumes.

    Each chunk re-checks its assets (R5) unless nothing else has been committed to the database since
    every pending item was verified (`verified_at`, a `data_version`): then they are as verified.
    Returns the items counted by (kind, result) when this call finished the transaction.
    """
    first = 1
    held_since = time.monotonic()
    while True:
        if time.monotonic() - held_since > YIELD_EVERY:
            # Between chunks, step aside long enough for a waiting process's busy handler (it retries every
            # 100 ms) to get the lock, so a long transfer does not time other writers out.
            time.sleep(YIELD_FOR)
            held_since = time.monotonic()
        with uow.write():
            txn = uow.transfers.get(txn_id, details=False)
            if txn.status is not Status.TRANSFER_INITIATED:
                return None  # another process finished it meanwhile
            last = uow.transfers.last_seq(txn_id)
            if first > last:
                tally = _finish(uow, txn, actor=actor, at=now())
                uow.commit()
                return tally
            chunk_end = first + CHUNK - 1
            uow.transfers.lock_pending(txn, first_seq=first, last_seq=chunk_end)
            if verified_at is None or uow.db.data_version() != verified_at:
                verified_at = None  # someone else wrote: from here on every chunk is checked
                uow.transfers.fail_items(txn_id, _changed_items(uow, txn, first, chunk_end))
            uow.transfers.move_pending(txn, first_seq=first, last_seq=chunk_end)
            uow.commit()
        if progress is not None:
            progress(min(chunk_end, last), last)
        first = chunk_end + 1


def _changed_items(uow: UnitOfWork, txn: Transaction, first: int, last: int) -> list[tuple[int, str]]:
    """R12: items whose asset changed since validation cannot move; each gets its reason."""
    check = _checker(uow, txn)
    failures = []
    for item, asset in uow.transfers.suspect_items(txn, first_seq=first, last_seq=last):
        verdict = check(asset, item.asset_id)
        if verdict is not None:
            failures.append((item.seq, f"changed before the move: {verdict.message}"))
    return failures


def _finish(uow: UnitOfWork, txn: Transaction, *, actor: str, at: datetime) -> dict[tuple[str, str], int]:
    tally = uow.transfers.item_tally(txn.id)  # every item is transferred or failed by now
    counts: dict[str, int] = {}
    for (_, result), n in tally.items():
        counts[result] = counts.get(result, 0) + n
    moved, failed = counts.get("transferred", 0), counts.get("failed", 0)
    action = Action.COMPLETE_WITH_FAILURE if failed else Action.COMPLETE
    txn.apply(action, actor=actor, at=at, note=f"{moved:,} transferred, {failed:,} failed")
    uow.transfers.release_items(txn.id, pending_result="not_transferred")
    uow.transfers.save(txn)
    if failed:
        uow.transfers.notify(txn.id, [txn.requested_by], "failed",
                             f"{txn.id}: Transfer Completed with Failure: {moved:,} moved to {txn.target_account}, "
                             f"{failed:,} failed (see atm status {txn.id})", at)
    else:
        uow.transfers.notify(txn.id, [txn.requested_by], "completed",
                             f"{txn.id}: Transfer Completed: {moved:,} asset(s) moved to {txn.target_account} / "
                             f"{txn.target_va}", at)
    return tally
