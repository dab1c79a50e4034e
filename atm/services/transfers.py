"""The transfer workflow: request, submit, consent, screening, cancel, status (SPEC sections 2-4).

Every write runs under the write lock taken first (BEGIN IMMEDIATE), so the
state a rule is checked against is the state that gets written. Executing a
transfer (R12) runs in chunks, each one database transaction that moves its
assets and records their results together: a crash between chunks leaves
every asset in exactly one place, and running the command again resumes.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from atm.domain.eligibility import Ineligibility, Place, ineligibility, not_found, warnings_for
from atm.domain.errors import InvalidInput, MissingAnswer, TransactionNotFound
from atm.domain.model import Access, Asset, SmartAccount, User
from atm.domain.transfer import (
    TRANSFEREE, TRANSFEROR, Action, AssetsNotTransferable, NotComplianceUser, SameCompanyRefused,
    SameSourceAndTarget, Status, Transaction, consent_side, missing_form_fields, new_transaction_id,
    normalize_transaction_id, refusal, relationship_warnings, require_admin_of_both, InvalidTransition,
)
from atm.services.accounts import acting_user, virtual_account, visible_account
from atm.services.unit_of_work import UnitOfWork
from atm.storage.transfers import Item, LandingFilter, StoredEvent, iso

CHUNK = 5000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
YIELD_EVERY = 2.0  # seconds of back-to-back chunks before letting other writers in
YIELD_FOR = 0.12
MAX_FORM_TEXT = 2000
Progress = Callable[[int, int], None]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# --- plain values in and out -------------------------------------------------------


@dataclass(frozen=True)
class RequestSpec:
    """What `atm request` asks for, as plain values."""

    source: str
    target: str
    target_va: str
    source_va: str | None = None
    same_company: bool | None = None
    asset_ids: tuple[str, ...] = ()
    form: dict | None = None
    skip_ineligible: bool = False


@dataclass
class Validation:
    """The outcome of checking a request (what `--dry-run` prints)."""

    source: SmartAccount
    source_va: str | None
    target: SmartAccount
    target_va: str
    same_company: bool
    eligible: list[Asset]
    ineligible: list[Ineligibility]
    warnings: list[str]
    skip_ineligible: bool

    @property
    def refusal(self) -> AssetsNotTransferable | None:
        """R5: the whole request is refused when any asset may not move (unless skipped)."""
        if self.ineligible and not self.skip_ineligible:
            n = len(self.ineligible)
            return AssetsNotTransferable(
                f"{n} of {n + len(self.eligible)} asset(s) may not be transferred (R5); nothing was created "
                "(use --skip-ineligible to leave them out)",
                [str(i) for i in self.ineligible],
            )
        if not self.eligible:
            return AssetsNotTransferable("none of the assets may be transferred (R5); nothing was created",
                                         [str(i) for i in self.ineligible])
        return None

    def as_dict(self) -> dict:
        return {
            "valid": self.refusal is None,
            "source": _place(self.source, self.source_va),
            "target": _place(self.target, self.target_va),
            "same_company": self.same_company,
            "transferable": [{"asset_id": a.id, "kind": a.kind} for a in self.eligible],
            "ineligible": [{"asset_id": i.asset_id, "reason": i.reason.value, "message": i.message}
                           for i in self.ineligible],
            "warnings": list(self.warnings),
        }


@dataclass
class TransactionView:
    txn: Transaction
    source: SmartAccount
    target: SmartAccount
    items: list[Item]
    events: list[StoredEvent]
    counts: dict[str, int] = field(default_factory=dict)
    message: str | None = None

    def as_dict(self) -> dict:
        t = self.txn
        return {
            "transaction_id": t.id,
            "status": t.status.label,
            "state": t.status.value,
            "source": _place(self.source, t.source_va),
            "target": _place(self.target, t.target_va),
            "same_company": t.same_company,
            "requested_by": t.requested_by,
            "created_at": iso(t.created_at),
            "completed_at": iso(t.completed_at),
            "items": [{"asset_id": i.asset_id, "kind": i.kind, "result": i.result, "reason": i.reason}
                      for i in self.items],
            "consents": [{"side": c.side, "decision": c.decision, "by": c.by, "at": iso(c.at)}
                         for c in (t.consents.get(TRANSFEROR), t.consents.get(TRANSFEREE)) if c is not None],
            "events": [{"at": iso(e.at), "actor": e.actor, "from": e.from_state, "to": e.to_state, "note": e.note}
                       for e in self.events],
            "warnings": list(t.warnings),
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


def _place(account: SmartAccount, va: str | None) -> dict:
    return {"domain": account.domain, "name": account.name, "virtual_account": va}


# --- request ("Submit for Review") ---------------------------------------------------


def request(uow: UnitOfWork, user_id: str | None, spec: RequestSpec, *, dry_run: bool = False,
            item_limit: int | None = None) -> TransactionView | Validation:
    """Create a transaction and validate it at once; it waits in Pending Submission."""
    block = uow.read() if dry_run else uow.write()
    with block:
        user = acting_user(uow, user_id)
        validation = _validate(uow, user, spec)
        if dry_run:
            return validation
        if validation.refusal is not None:
            raise validation.refusal
        at = now()
        skipped = [f"skipped {i}" for i in validation.ineligible]
        txn = Transaction.open(
            id=_fresh_id(uow), source_account=validation.source.domain, source_va=validation.source_va,
            target_account=validation.target.domain, target_va=validation.target_va,
            same_company=validation.same_company, requested_by=user.id, at=at,
            form=_complete_form(spec.form, validation) if not validation.same_company else None,
            warnings=skipped + validation.warnings, item_count=len(validation.eligible),
        )
        uow.transfers.add(txn, [(a.id, a.kind, a.virtual_account) for a in validation.eligible])
        uow.commit()
        return _view(uow, txn, item_limit=item_limit)


def _validate(uow: UnitOfWork, user: User, spec: RequestSpec) -> Validation:
    source, source_access = visible_account(uow, user, spec.source)
    target, target_access = visible_account(uow, user, spec.target)
    source_va = virtual_account(source, spec.source_va).name if spec.source_va else None
    target_va = virtual_account(target, spec.target_va).name
    require_admin_of_both(source_access, target_access, doing="request a transfer",
                          source_account=source.domain, target_account=target.domain)
    if source.domain == target.domain and source_va == target_va:
        raise SameSourceAndTarget(
            f"the target is the source ({target.domain} / {target_va}); choose another Smart Account or "
            "virtual account (R3)"
        )
    same_company = _same_company(spec, source, target)
    if not same_company:
        _check_form(spec.form)
    if not spec.asset_ids:
        raise MissingAnswer("no assets to transfer: pass --asset ID (repeatable) or --assets-file FILE")
    ids = list(dict.fromkeys(a.strip() for a in spec.asset_ids if a.strip()))
    found = uow.assets.by_ids(ids, minor_lines=False)
    active = uow.assets.active_transactions(ids)
    ssm = {va.name for va in source.virtual_accounts if va.ssm_onprem}
    src, dst = Place(source.domain, source_va), Place(target.domain, target_va)
    eligible: list[Asset] = []
    ineligible: list[Ineligibility] = []
    for aid in ids:
        asset = found.get(aid)
        if asset is None or asset.account != source.domain:
            # R2: an asset outside the source SA is reported as absent, whoever owns it.
            ineligible.append(not_found(aid, source.domain))
            continue
        verdict = ineligibility(asset, in_ssm_onprem_va=asset.virtual_account in ssm,
                                active_transaction=active.get(aid), source=src, target=dst)
        if verdict is None:
            eligible.append(asset)
        else:
            ineligible.append(verdict)
    warnings = relationship_warnings(same_company, source.legal_entity, target.legal_entity)
    if same_company and spec.form:
        warnings.append("a same-company transfer needs no request form; the form was not stored (R4)")
    warnings += warnings_for(eligible, target_account=target.domain)
    return Validation(source, source_va, target, target_va, same_company, eligible, ineligible, warnings,
                      spec.skip_ineligible)


def _same_company(spec: RequestSpec, source: SmartAccount, target: SmartAccount) -> bool:
    """R4: the requester's answer; between VAs of one SA it is always yes."""
    if source.domain == target.domain:
        if spec.same_company is False:
            raise SameCompanyRefused(
                f"a transfer between virtual accounts of {source.domain} is within one company; "
                "--same-company no is refused (R4)"
            )
        return True
    if spec.same_company is None:
        raise MissingAnswer(
            "--same-company yes/no is required: is this a transfer between divisions or sites of the same company?"
        )
    return spec.same_company


def _check_form(form: dict | None) -> None:
    """R4: a cross-company request needs the software license transfer request form, complete."""
    if form is None:
        raise MissingAnswer(
            "--form FILE is required for a transfer between different companies (R4): a JSON object with "
            "reason, transferor_contact_email and transferee_contact_email"
        )
    if not isinstance(form, dict):
        raise InvalidInput("the request form must be a JSON object")
    missing = missing_form_fields(form)
    if missing:
        raise InvalidInput(f"the request form is incomplete (R4): missing {', '.join(missing)}")
    for key, value in form.items():
        if not isinstance(key, str) or len(key) > 100:
            raise InvalidInput(f"the request form has an invalid field name {str(key)[:40]!r}")
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise InvalidInput(f"the request form field {key!r} must be text")
        if isinstance(value, str) and len(value) > MAX_FORM_TEXT:
            raise InvalidInput(f"the request form field {key!r} is longer than {MAX_FORM_TEXT} characters")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"the request form field {key!r} is not a finite number")
    for key in ("transferor_contact_email", "transferee_contact_email"):
        value = form[key].strip()
        if not EMAIL.match(value):
            raise InvalidInput(f"the request form field {key!r} is not an e-mail address: {value!r}")


def _complete_form(form: dict | None, v: Validation) -> dict:
    """The legal entities come from the two SAs, never from the form."""
    out = {k: (value.strip() if isinstance(value, str) else value) for k, value in (form or {}).items()}
    out["transferor_legal_entity"] = v.source.legal_entity
    out["transferee_legal_entity"] = v.target.legal_entity
    return out


def _fresh_id(uow: UnitOfWork) -> str:
    while True:
        txn_id = new_transaction_id()
        if not uow.transfers.exists(txn_id):
            return txn_id


# --- loading what a user may see ---------------------------------------------------


def _visible(uow: UnitOfWork, user: User, txn_id: str) -> tuple[Transaction, Access, Access]:
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


def _view(uow: UnitOfWork, txn: Transaction, *, message: str | None = None,
          item_limit: int | None = None) -> TransactionView:
    return TransactionView(
        txn=txn,
        source=uow.accounts.by_domain(txn.source_account),
        target=uow.accounts.by_domain(txn.target_account),
        items=uow.transfers.items(txn.id, limit=item_limit),
        events=uow.transfers.events(txn.id),
        counts=uow.transfers.item_counts(txn.id),
        message=message,
    )


def _require_admin_of_both(txn: Transaction, source: Access, target: Access, doing: str) -> None:
    require_admin_of_both(source, target, doing=f"{doing} {txn.id}", source_account=txn.source_account,
                          target_account=txn.target_account)


# --- submit ("Submit for Transfer") ----------------------------------------------------

SAME_COMPANY_MESSAGE = "Submitted. The transfer has run; the requester is notified of the result."
CROSS_COMPANY_MESSAGE = ("Submitted. The assets move only after both sides consent and the compliance screening "
                         "approves the transfer request form.")


def submit(uow: UnitOfWork, user_id: str | None, txn_id: str, *, progress: Progress | None = None,
           item_limit: int | None = None) -> TransactionView:
    """Re-validate and submit; same company runs the transfer, cross company waits for consent (R4).

    On a transaction left in Submitted or Transfer Initiated (a crash) it resumes to an end state.
    """
    with uow.write():
        user = acting_user(uow, user_id)
        txn, source, target = _visible(uow, user, txn_id)
        _require_admin_of_both(txn, source, target, "submit")
        at = now()
        verified_at = None
        if txn.status is Status.PENDING_SUBMISSION:
            failures = _revalidate(uow, txn)
            if failures:
                raise AssetsNotTransferable(
                    f"{len(failures)} asset(s) of {txn.id} may no longer be transferred (R5); nothing changed "
                    f"(cancel it with 'atm cancel {txn.id}' and request again without them)",
                    [str(f) for f in failures],
                )
            txn.apply(Action.SUBMIT, actor=user.id, at=at, note="Submit for Transfer")
            verified_at = uow.db.data_version()
        if txn.status is Status.SUBMITTED:
            if txn.same_company:
                txn.apply(Action.START_TRANSFER, actor=user.id, at=at, note="same company: no consent needed")
            else:
                txn.apply(Action.REQUEST_CONSENT, actor=user.id, at=at)
                recipients = uow.accounts.admins(txn.source_account) + uow.accounts.admins(txn.target_account)
                uow.transfers.notify(txn.id, recipients, "consent_requested",
                                     f"{txn.id}: your consent is awaited for the transfer from "
                                     f"{txn.source_account} to {txn.target_account} (atm consent {txn.id})", at)
        elif txn.status is not Status.TRANSFER_INITIATED:
            raise InvalidTransition(refusal(txn, Action.SUBMIT))
        uow.transfers.save(txn)
        uow.commit()
    if txn.status is Status.TRANSFER_INITIATED:
        execute(uow, txn.id, actor=user.id, progress=progress, verified_at=verified_at)
    with uow.read():
        txn = uow.transfers.get(txn.id)
        message = (SAME_COMPANY_MESSAGE if txn.status.ended
                   else CROSS_COMPANY_MESSAGE if txn.status is Status.AWAITING_CONSENT else None)
        return _view(uow, txn, message=message, item_limit=item_limit)


def _revalidate(uow: UnitOfWork, txn: Transaction) -> list[Ineligibility]:
    """R5 again at Submit for Transfer: assets may have changed since the request."""
    failures: list[Ineligibility] = []
    check = _checker(uow, txn)
    last = uow.transfers.last_seq(txn.id)
    for first in range(1, last + 1, CHUNK):
        for item, asset in uow.transfers.pending_with_assets(txn.id, first_seq=first, last_seq=first + CHUNK - 1):
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
            verified_at: int | None = None) -> None:
    """R12: move the items chunk by chunk; each chunk is all-or-nothing, and a rerun resumes.

    Each chunk re-checks its assets (R5) unless nothing else has been committed to the database since
    every pending item was verified (`verified_at`, a `data_version`): then they are as verified.
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
                return  # another process finished it meanwhile
            last = uow.transfers.last_seq(txn_id)
            if first > last:
                _finish(uow, txn, actor=actor, at=now())
                uow.commit()
                return
            chunk_end = first + CHUNK - 1
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
    for item, asset in uow.transfers.pending_with_assets(txn.id, first_seq=first, last_seq=last):
        verdict = check(asset, item.asset_id)
        if verdict is not None:
            failures.append((item.seq, f"changed before the move: {verdict.message}"))
    return failures


def _finish(uow: UnitOfWork, txn: Transaction, *, actor: str, at: datetime) -> None:
    counts = uow.transfers.item_counts(txn.id)
    moved, failed = counts.get("transferred", 0), counts.get("failed", 0)
    action = Action.COMPLETE_WITH_FAILURE if failed else Action.COMPLETE
    txn.apply(action, actor=actor, at=at, note=f"{moved} transferred, {failed} failed")
    uow.transfers.release_items(txn.id, pending_result="not_transferred")
    uow.transfers.save(txn)
    if failed:
        uow.transfers.notify(txn.id, [txn.requested_by], "failed",
                             f"{txn.id}: Transfer Completed with Failure: {moved} moved to {txn.target_account}, "
                             f"{failed} failed (see atm status {txn.id})", at)
    else:
        uow.transfers.notify(txn.id, [txn.requested_by], "completed",
                             f"{txn.id}: Transfer Completed: {moved} asset(s) moved to {txn.target_account} / "
                             f"{txn.target_va}", at)


# --- consent, screening, cancel ----------------------------------------------------------


def consent(uow: UnitOfWork, user_id: str | None, txn_id: str, *, accept: bool | None = None,
            side: str | None = None, item_limit: int | None = None) -> TransactionView:
    """R10: view the consents, or accept/decline for the side this user administers."""
    if accept is None:
        return view_transaction(uow, user_id, txn_id, item_limit=item_limit)
    with uow.write():
        user = acting_user(uow, user_id)
        txn, source, target = _visible(uow, user, txn_id)
        chosen = consent_side(txn, source, target, side)
        if chosen == "":
            raise MissingAnswer("you administer both sides: pass --side transferor or --side transferee")
        at = now()
        txn.decide_consent(chosen, accept, actor=user.id, at=at)
        if txn.status is Status.COMPLIANCE_SCREENING:
            uow.transfers.notify(txn.id, uow.accounts.compliance_users(), "screening_requested",
                                 f"{txn.id}: both sides consented; compliance screening is awaited "
                                 f"(atm screen {txn.id} --approve/--reject)", at)
        elif txn.status is Status.CANCELLED:
            uow.transfers.release_items(txn.id, pending_result="not_transferred")
            uow.transfers.notify(txn.id, [txn.requested_by], "declined",
                                 f"{txn.id}: the {chosen} ({user.id}) declined; the transaction is cancelled "
                                 "and the assets stay at the source", at)
        uow.transfers.save(txn)
        uow.commit()
        return _view(uow, txn, item_limit=item_limit)


LEGAL_MAILBOX = "the licensing legal mailbox"


def screen(uow: UnitOfWork, user_id: str | None, txn_id: str, *, approve: bool, reason: str | None = None,
           progress: Progress | None = None, item_limit: int | None = None) -> TransactionView:
    """R11: a compliance user approves (the transfer runs) or rejects with a reason."""
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise MissingAnswer("--reason TEXT is required to reject: it is sent to the requester (R11)")
    with uow.write():
        user = acting_user(uow, user_id)
        txn, _, _ = _visible(uow, user, txn_id)
        if not user.compliance:
            raise NotComplianceUser(f"only a compliance user may screen {txn.id} (R11)")
        at = now()
        if approve:
            if txn.status is not Status.TRANSFER_INITIATED:  # a rerun after a crash resumes
                txn.apply(Action.APPROVE, actor=user.id, at=at, note=reason or "compliance screening approved")
        else:
            txn.apply(Action.REJECT, actor=user.id, at=at, note=reason)
            uow.transfers.release_items(txn.id, pending_result="not_transferred")
            uow.transfers.notify(txn.id, [txn.requested_by], "rejected",
                                 f"{txn.id}: Compliance Screening Rejected by {LEGAL_MAILBOX}: {reason}", at)
        uow.transfers.save(txn)
        uow.commit()
    if txn.status is Status.TRANSFER_INITIATED:
        execute(uow, txn.id, actor=user.id, progress=progress)
    return view_transaction(uow, user_id, txn.id, item_limit=item_limit)


def cancel(uow: UnitOfWork, user_id: str | None, txn_id: str, *, reason: str | None = None,
           item_limit: int | None = None) -> TransactionView:
    """R8: cancel before Submit for Transfer; the assets stay at the source."""
    with uow.write():
        user = acting_user(uow, user_id)
        txn, source, target = _visible(uow, user, txn_id)
        _require_admin_of_both(txn, source, target, "cancel")
        at = now()
        txn.apply(Action.CANCEL, actor=user.id, at=at, note=(reason or "").strip() or "cancelled by the requester")
        uow.transfers.release_items(txn.id, pending_result="not_transferred")
        if user.id != txn.requested_by:
            uow.transfers.notify(txn.id, [txn.requested_by], "cancelled", f"{txn.id}: cancelled by {user.id}", at)
        uow.transfers.save(txn)
        uow.commit()
        return _view(uow, txn, item_limit=item_limit)


# --- reading -------------------------------------------------------------------------


def view_transaction(uow: UnitOfWork, user_id: str | None, txn_id: str, *, item_limit: int | None = None
                     ) -> TransactionView:
    with uow.read():
        user = acting_user(uow, user_id)
        txn, _, _ = _visible(uow, user, txn_id)
        return _view(uow, txn, item_limit=item_limit)


def landing(uow: UnitOfWork, user_id: str | None, query: LandingQuery) -> list[LandingRow]:
    """The landing list: transactions touching the SAs this user can see (R2)."""
    states = []
    for text in query.statuses:
        try:
            states.append(Status.parse(text).value)
        except ValueError:
            raise InvalidInput(f"unknown status {text!r}; use a label like 'Pending Submission' or a state code "
                               f"like pending_submission") from None
    since, until = _day(query.since, "--since"), _day(query.until, "--until", end=True)
    with uow.read():
        user = acting_user(uow, user_id)
        domains = None if user.compliance else tuple(a.domain for a, _ in uow.accounts.visible(user))
        account = visible_account(uow, user, query.account)[0].domain if query.account else None
        rows = uow.transfers.landing(LandingFilter(domains, account, tuple(states), since, until,
                                                   query.initiator.strip().lower() if query.initiator else None,
                                                   query.limit))
        names: dict[str, SmartAccount] = {}

        def place(domain: str, va: str | None) -> dict:
            if domain not in names:
                names[domain] = uow.accounts.by_domain(domain)
            return _place(names[domain], va)

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
            from datetime import timedelta

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
