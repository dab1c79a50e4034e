"""The transfer workflow: request, submit, consent, screening, cancel (docs/rules.md, docs/statuses.md).

Every write runs under the write lock taken first (BEGIN IMMEDIATE), so the
state a rule is checked against is the state that gets written. Executing a
transfer (R12) lives in `execution`; what users see of it in `views`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from atm.domain.eligibility import Ineligibility, Place, ineligibility, not_found
from atm.domain.side_effects import Warning, r13_warnings, skipped_warnings
from atm.domain.errors import InvalidInput, MissingAnswer
from atm.domain.text import control_character
from atm.domain.model import Access, SmartAccount, User
from atm.domain.times import now
from atm.domain.transfer import (
    Action, AssetsNotTransferable, InvalidTransition, NotComplianceUser, SameCompanyRefused, SameSourceAndTarget, Status, Transaction,
    consent_side, is_email, missing_form_fields, new_transaction_id, refusal, relationship_warnings, require_admin_of_both,
)
from atm.services.accounts import acting_user, virtual_account, visible_account
from atm.services.execution import Progress, execute, revalidate
from atm.services.unit_of_work import UnitOfWork
from atm.services.views import TransactionView, Validation, transaction_view, view_transaction, visible_transaction

MAX_FORM_TEXT = 2000


# --- plain values in ----------------------------------------------------------------


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


# --- request ("Submit for Review") ---------------------------------------------------


def request(uow: UnitOfWork, user_id: str | None, spec: RequestSpec, *, dry_run: bool = False,
            item_limit: int | None = None) -> TransactionView | Validation:
    """Create a transaction and validate it at once; it waits in Pending Submission."""
    block = uow.read() if dry_run else uow.write()
    with block:
        user = acting_user(uow, user_id)
        validation = _validate(uow, user, spec, dry_run=dry_run)
        if dry_run:
            uow.requests.clear()
            return validation
        if validation.refusal is not None:
            raise validation.refusal
        at = now()
        txn = Transaction.open(
            id=_fresh_id(uow), source_account=validation.source.domain, source_va=validation.source_va,
            target_account=validation.target.domain, target_va=validation.target_va,
            same_company=validation.same_company, requested_by=user.id, at=at,
            form=_complete_form(spec.form, validation) if not validation.same_company else None,
            warnings=skipped_warnings(validation.ineligible) + validation.warnings,
            item_count=validation.eligible_count,
        )
        uow.transfers.add(txn)
        uow.transfers.add_items(txn.id, uow.requests.write_items)
        uow.requests.clear()
        uow.commit()
    return transaction_view(uow, txn, item_limit=item_limit,
                            tally={(kind, "pending"): n for kind, n in validation.kinds.items()})


def _validate(uow: UnitOfWork, user: User, spec: RequestSpec, *, dry_run: bool = False) -> Validation:
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
    if any(not a.strip() for a in spec.asset_ids):
        raise InvalidInput("--asset: an asset id is empty; name an asset like SO12345678-1 or FOC2231X0AB")
    # R5, set-based: the database stages the ids and returns only the assets the rule may stop; the domain rule
    # judges those. An id in another case names the same asset.
    stage = uow.requests
    stage.stage(list(dict.fromkeys(a.strip() for a in spec.asset_ids)))
    suspects = stage.suspects(source.domain, source_va, target.domain, target_va)
    absent = [seq for seq, _, asset, _, _ in suspects if asset is None]
    if absent and stage.resolve_any_case(absent):  # an id typed in another case names the same asset
        suspects = stage.suspects(source.domain, source_va, target.domain, target_va)
    src, dst = Place(source.domain, source_va), Place(target.domain, target_va)
    ineligible: list[tuple[int, Ineligibility]] = []
    for seq, given, asset, in_ssm_onprem_va, active in suspects:
        if asset is None or asset.account != source.domain:
            # R2: an asset outside the source SA is reported as absent, whoever owns it.
            verdict = not_found(given, source.domain)
        else:
            verdict = ineligibility(asset, in_ssm_onprem_va=in_ssm_onprem_va, active_transaction=active,
                                    source=src, target=dst)
        if verdict is not None:
            ineligible.append((seq, verdict))
    stage.leave_out([seq for seq, _ in ineligible])
    kinds, side_effects = stage.tally()
    warnings = relationship_warnings(same_company, source.legal_entity, target.legal_entity)
    if same_company and spec.form:
        warnings.append(Warning("form_not_stored",
                                "a same-company transfer needs no request form; the form was not stored (R4)"))
    warnings += r13_warnings(side_effects, target.domain)
    return Validation(source, source_va, target, target_va, same_company, sum(kinds.values()), kinds,
                      [v for _, v in ineligible], warnings, spec.skip_ineligible,
                      stage.transferable() if dry_run else [])


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
        if not isinstance(key, str) or len(key) > 100 or control_character(key):
            raise InvalidInput(f"the request form has an invalid field name {str(key)[:40]!r}")
        if isinstance(value, str) and control_character(value, prose=key == "reason"):
            raise InvalidInput(f"the request form field {key!r} contains a control character "
                               f"({control_character(value, prose=key == 'reason')})")
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise InvalidInput(f"the request form field {key!r} must be text")
        if isinstance(value, str) and len(value) > MAX_FORM_TEXT:
            raise InvalidInput(f"the request form field {key!r} is longer than {MAX_FORM_TEXT} characters")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"the request form field {key!r} is not a finite number")
    for key in ("transferor_contact_email", "transferee_contact_email"):
        value = form[key].strip()
        if not is_email(value):
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
        txn, source, target = visible_transaction(uow, user, txn_id)
        _require_admin_of_both(txn, source, target, "submit")
        at = now()
        verified_at = None
        if txn.status is Status.PENDING_SUBMISSION:
            failures = revalidate(uow, txn)
            if failures:
                raise AssetsNotTransferable(
                    f"{len(failures):,} asset(s) of {txn.id} may no longer be transferred (R5); nothing changed "
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
    tally = None
    if txn.status is Status.TRANSFER_INITIATED:
        tally = execute(uow, txn.id, actor=user.id, progress=progress, verified_at=verified_at)
    with uow.read():
        txn = uow.transfers.get(txn.id)
        message = (SAME_COMPANY_MESSAGE if txn.status.ended
                   else CROSS_COMPANY_MESSAGE if txn.status is Status.AWAITING_CONSENT else None)
        return transaction_view(uow, txn, message=message, item_limit=item_limit, tally=tally)


# --- consent, screening, cancel ----------------------------------------------------------


def consent(uow: UnitOfWork, user_id: str | None, txn_id: str, *, accept: bool | None = None,
            side: str | None = None, item_limit: int | None = None) -> TransactionView:
    """R10: view the consents, or accept/decline for the side this user administers."""
    if accept is None:
        return view_transaction(uow, user_id, txn_id, item_limit=item_limit)
    with uow.write():
        user = acting_user(uow, user_id)
        txn, source, target = visible_transaction(uow, user, txn_id)
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
        return transaction_view(uow, txn, item_limit=item_limit)


LEGAL_MAILBOX = "the licensing legal mailbox"


def screen(uow: UnitOfWork, user_id: str | None, txn_id: str, *, approve: bool, reason: str | None = None,
           progress: Progress | None = None, item_limit: int | None = None) -> TransactionView:
    """R11: a compliance user approves (the transfer runs) or rejects with a reason."""
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise MissingAnswer("--reason TEXT is required to reject: it is sent to the requester (R11)")
    with uow.write():
        user = acting_user(uow, user_id)
        txn, _, _ = visible_transaction(uow, user, txn_id)
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
        txn, source, target = visible_transaction(uow, user, txn_id)
        _require_admin_of_both(txn, source, target, "cancel")
        at = now()
        txn.apply(Action.CANCEL, actor=user.id, at=at, note=(reason or "").strip() or "cancelled by the requester")
        uow.transfers.release_items(txn.id, pending_result="not_transferred")
        if user.id != txn.requested_by:
            uow.transfers.notify(txn.id, [txn.requested_by], "cancelled", f"{txn.id}: cancelled by {user.id}", at)
        uow.transfers.save(txn)
        uow.commit()
        return transaction_view(uow, txn, item_limit=item_limit)
