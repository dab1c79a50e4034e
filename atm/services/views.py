"""What a user sees of transactions: the views (JSON shapes in docs/json.md), R2 visibility, the landing
list, notifications, and the look before an action that cannot be undone."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterator
from datetime import datetime, timedelta, timezone

from atm.domain.eligibility import Ineligibility
from atm.domain.side_effects import Warning
from atm.domain.errors import InvalidInput, TransactionNotFound
from atm.domain.model import Access, SmartAccount, User
from atm.domain.times import iso
from atm.domain.transfer import (
    TRANSFEREE, TRANSFEROR, Action, AssetsNotTransferable, Status, Transaction, normalize_transaction_id,
)
from atm.services.accounts import acting_user, visible_account
from atm.services.unit_of_work import UnitOfWork
from atm.storage.transfers import Item, LandingFilter, StoredEvent


# --- plain values out ---------------------------------------------------------------


@dataclass
class Validation:
    """The outcome of checking a request (what `--dry-run` prints)."""

    source: SmartAccount
    source_va: str | None
    target: SmartAccount
    target_va: str
    same_company: bool
    eligible_count: int
    kinds: dict[str, int]  # what will be transferred: kind -> how many
    ineligible: list[Ineligibility]
    warnings: list[Warning]
    skip_ineligible: bool
    transferable: list[tuple[str, str, str | None]] = field(default_factory=list)  # (id, kind, warning): dry run

    @property
    def refusal(self) -> AssetsNotTransferable | None:
        """R5: the whole request is refused when any asset may not move (unless skipped)."""
        if self.ineligible and not self.skip_ineligible:
            n = len(self.ineligible)
            return AssetsNotTransferable(
                f"{n:,} of {n + self.eligible_count:,} asset(s) may not be transferred (R5); nothing was created "
                "(use --skip-ineligible to leave them out)",
                [str(i) for i in self.ineligible],
            )
        if not self.eligible_count:
            return AssetsNotTransferable("none of the assets may be transferred (R5); nothing was created",
                                         [str(i) for i in self.ineligible])
        return None

    def as_dict(self) -> dict:
        return {
            "valid": self.refusal is None,
            "source": place_dict(self.source, self.source_va),
            "target": place_dict(self.target, self.target_va),
            "same_company": self.same_company,
            "transferable": [{"asset_id": i, "kind": k, "warning": w} for i, k, w in self.transferable],
            "ineligible": [{"asset_id": i.asset_id, "reason": i.reason.value, "message": i.message}
                           for i in self.ineligible],
            "warnings": [w.as_dict() for w in self.warnings],
        }


class StreamedItems:
    """All the items of a transaction, read from the database only when written out: a JSON writer streams
    `json_rows()`; iterating gives the item dicts."""

    def __init__(self, rows: Callable[[], Iterator[str]], count: int) -> None:
        self.json_rows = rows
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict]:
        return (json.loads(text) for text in self.json_rows())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, (list, StreamedItems)) else NotImplemented


@dataclass
class TransactionView:
    txn: Transaction
    source: SmartAccount
    target: SmartAccount
    items: list[Item] | None  # the first items (None: all of them, streamed from `all_items`)
    events: list[StoredEvent]
    counts: dict[str, int] = field(default_factory=dict)
    message: str | None = None
    all_items: StreamedItems | None = None
    tally: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, result) -> how many items

    def kind_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (kind, _), n in self.tally.items():
            out[kind] = out.get(kind, 0) + n
        return out

    def as_dict(self) -> dict:
        t = self.txn
        if self.items is None:
            items: list | StreamedItems = self.all_items
        else:
            items = [{"asset_id": i.asset_id, "kind": i.kind, "result": i.result, "reason": i.reason,
                      "warning": i.warning} for i in self.items]
        return {
            "transaction_id": t.id,
            "status": t.status.label,
            "state": t.status.value,
            "source": place_dict(self.source, t.source_va),
            "target": place_dict(self.target, t.target_va),
            "same_company": t.same_company,
            "requested_by": t.requested_by,
            "created_at": iso(t.created_at),
            "completed_at": iso(t.completed_at),
            "items": items,
            "consents": [{"side": c.side, "decision": c.decision, "by": c.by, "at": iso(c.at)}
                         for c in (t.consents.get(TRANSFEROR), t.consents.get(TRANSFEREE)) if c is not None],
            "events": [{"at": iso(e.at), "actor": e.actor, "from": e.from_state, "to": e.to_state, "note": e.note}
                       for e in self.events],
            "warnings": [w.as_dict() for w in t.warnings],
            "form": t.form,
        }


@dataclass(frozen=True)
class LandingRow:
    transaction_id: str
    status: Status
    source: dict
    target: dict
    created_at: str
    completed_at: str | None

    def as_dict(self) -> dict:
        return {"transaction_id": self.transaction_id, "status": self.status.label, "state": self.status.value,
                "source": self.source, "target": self.target, "created_at": self.created_at,
                "completed_at": self.completed_at}


@dataclass(frozen=True)
class LandingQuery:
    account: str | None = None
    statuses: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    initiator: str | None = None
    limit: int | None = None


def place_dict(account: SmartAccount, va: str | None) -> dict:
    return {"domain": account.domain, "name": account.name, "virtual_account": va}


# --- loading what a user may see ---------------------------------------------------


def visible_transaction(uow: UnitOfWork, user: User, txn_id: str) -> tuple[Transaction, Access, Access]:
    """R2: a transaction on SAs where the user has no role is "not found", exactly like a missing one."""
    txn = uow.transfers.get(normalize_transaction_id(txn_id)) if len(txn_id) <= 64 else None
    shown = txn_id if len(txn_id) <= 64 else txn_id[:40] + "..."
    if txn is None:
        raise TransactionNotFound(f"transaction {shown!r} not found")
    source = uow.accounts.access(user, txn.source_account)
    target = uow.accounts.access(user, txn.target_account)
    if not (source.can_view or target.can_view):
        raise TransactionNotFound(f"transaction {shown!r} not found")
    return txn, source, target


def transaction_view(uow: UnitOfWork, txn: Transaction, *, message: str | None = None,
                     item_limit: int | None = None, tally: dict[tuple[str, str], int] | None = None
                     ) -> TransactionView:
    """The view of a stored transaction: the counts of all its items by kind and result, and either the first
    `item_limit` items of each kind (licenses, then devices) or (None) all of them, streamed when written out.
    `tally`, when the caller has just counted the items, saves counting them again."""
    tally = uow.transfers.item_tally(txn.id) if tally is None else tally
    counts: dict[str, int] = {}
    for (_, result), n in tally.items():
        counts[result] = counts.get(result, 0) + n
    if item_limit is None:
        items, streamed = None, StreamedItems(lambda: uow.transfers.items_json(txn.id), sum(counts.values()))
    else:
        streamed = None
        items = [i for kind in ("license", "device") if any(k == kind for k, _ in tally)
                 for i in uow.transfers.items(txn.id, limit=item_limit, kind=kind)] if item_limit else []
    return TransactionView(
        txn=txn,
        source=uow.accounts.by_domain(txn.source_account),
        target=uow.accounts.by_domain(txn.target_account),
        items=items,
        events=uow.transfers.events(txn.id),
        counts=counts,
        message=message,
        all_items=streamed,
        tally=tally,
    )


# --- reading -------------------------------------------------------------------------


def view_transaction(uow: UnitOfWork, user_id: str | None, txn_id: str, *, item_limit: int | None = None
                     ) -> TransactionView:
    with uow.read():
        user = acting_user(uow, user_id)
        txn, _, _ = visible_transaction(uow, user, txn_id)
        return transaction_view(uow, txn, item_limit=item_limit)


def landing(uow: UnitOfWork, user_id: str | None, query: LandingQuery) -> list[LandingRow]:
    """The landing list: transactions touching the SAs this user can see (R2)."""
    with uow.read():
        return landing_rows(uow, acting_user(uow, user_id), query)


def landing_rows(uow: UnitOfWork, user: User, query: LandingQuery) -> list[LandingRow]:
    """The landing list of `user`, inside the caller's read block."""
    states = []
    for text in query.statuses:
        try:
            states.append(Status.parse(text).value)
        except ValueError:
            raise InvalidInput(f"unknown status {text!r}; use a label like 'Pending Submission' or a state code "
                               f"like pending_submission") from None
    since, until = _day(query.since, "--since"), _day(query.until, "--until", end=True)
    domains = None if user.compliance else tuple(a.domain for a, _ in uow.accounts.visible(user))
    account = visible_account(uow, user, query.account)[0].domain if query.account else None
    rows = uow.transfers.landing(LandingFilter(domains, account, tuple(states), since, until,
                                               query.initiator.strip().lower() if query.initiator else None,
                                               query.limit))
    names: dict[str, SmartAccount] = {}

    def place(domain: str, va: str | None) -> dict:
        if domain not in names:
            names[domain] = uow.accounts.by_domain(domain)
        return place_dict(names[domain], va)

    return [LandingRow(tid, Status(state), place(src, src_va), place(dst, dst_va), created, completed)
            for tid, src, src_va, dst, dst_va, state, created, completed in rows]


def _day(text: str | None, option: str, *, end: bool = False) -> str | None:
    """A date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM[:SS][Z]) as a comparable ISO string."""
    if not text:
        return None
    raw = text.strip().rstrip("Z")
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            at = datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        if fmt == "%Y-%m-%d" and end:
            at += timedelta(days=1)  # --until a day includes that whole day
        return iso(at)
    raise InvalidInput(f"{option} takes a date like 2026-11-29 or a UTC time like 2026-11-29T09:30, got {text!r}")


def notifications(uow: UnitOfWork, user_id: str | None, *, unread_only: bool = False,
                  mark_read: bool = False) -> list:
    """R14: the user's stored notifications; --mark-read delivers them (marks them read)."""
    block = uow.write() if mark_read else uow.read()
    with block:
        user = acting_user(uow, user_id)
        found = uow.transfers.notifications(user.id, unread_only=unread_only)
        if mark_read:
            uow.transfers.mark_read(user.id, [n.id for n in found if not n.read])
            uow.commit()
        return found


# --- the look before acting -----------------------------------------------------------------------

SUBMIT, CANCEL, DECLINE, CONSENT = "submit", "cancel", "decline", "consent"


@dataclass
class Preview:
    """What an action is about to do, shown before it is confirmed; nothing has changed yet."""

    view: TransactionView
    action: str
    needs_confirmation: bool  # False when `submit` would only resume a transfer already submitted
    outcome: str  # what happens on yes, in the words of R4, R8 or R10
    sides: list[str] = field(default_factory=list)  # consent: the sides this user may still decide


def preview(uow: UnitOfWork, user_id: str | None, txn_id: str, action: str, *, side: str | None = None,
            item_limit: int | None = None) -> Preview:
    """Try `action` on the transaction in memory, never saved: it refuses exactly as the action itself would
    (R1, R2, R7, R8, R10), so a refusal comes before the question, not after the answer."""
    from atm.domain.transfer import PENDING, consent_side, require_admin_of_both

    with uow.read():
        user = acting_user(uow, user_id)
        txn, source, target = visible_transaction(uow, user, txn_id)
        view = transaction_view(uow, txn, item_limit=item_limit)
        trial = uow.transfers.get(txn.id)  # a second copy: the trial below must not touch the view's
        at = trial.created_at
        sides: list[str] = []
        needs = True
        if action in (SUBMIT, CANCEL):
            require_admin_of_both(source, target, doing=f"{action} {txn.id}", source_account=txn.source_account,
                                  target_account=txn.target_account)
        if action == SUBMIT:
            if trial.status in (Status.SUBMITTED, Status.TRANSFER_INITIATED):
                needs = False  # already submitted: running it again only finishes it (R12)
            else:
                trial.apply(Action.SUBMIT, actor=user.id, at=at)
            outcome = (f"Same company: the transfer runs as soon as you confirm, moving the assets to "
                       f"{txn.target_account} / {txn.target_va}; no consent or screening (R4)."
                       if txn.same_company else
                       "Different companies: once submitted, it waits for the consent of both sides and for "
                       "compliance screening; nothing moves before screening approves (R4).")
        elif action == CANCEL:
            trial.apply(Action.CANCEL, actor=user.id, at=at)
            outcome = f"Cancelling ends {txn.id} for good; its assets stay at the source (R8)."
        elif action in (DECLINE, CONSENT):
            chosen = consent_side(trial, source, target, side)
            sides = [chosen] if chosen else [s for s in (TRANSFEROR, TRANSFEREE)
                                             if trial.consents.get(s) and trial.consents[s].decision == PENDING]
            trial.decide_consent(sides[0] if sides else TRANSFEROR, action == CONSENT, actor=user.id, at=at)
            outcome = (f"Declining cancels {txn.id}: its assets stay at the source and the requester is told (R10)."
                       if action == DECLINE else
                       "Both consents move the transfer on to compliance screening; a decline cancels it (R10).")
        else:
            raise ValueError(action)
        return Preview(view, action, needs, outcome, sides)
