"""The transaction aggregate and its status machine (docs/statuses.md; R7-R12 in docs/rules.md).

The machine is data: `TRANSITIONS` maps (status, action) to the next status.
`Transaction.apply` is the only way a status changes; anything else raises
`InvalidTransition`, which names the current status and what is allowed.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from atm.domain.side_effects import Warning
from atm.domain.errors import PermissionDenied, RuleViolation
from atm.domain.model import Access

# --- statuses ----------------------------------------------------------------


class Status(str, Enum):
    """The value is the JSON `state` code; `label` is the guide's own words."""

    VALIDATION_INITIATED = "validation_initiated"
    VALIDATION_COMPLETED = "validation_completed"
    PENDING_SUBMISSION = "pending_submission"
    SUBMITTED = "submitted"
    AWAITING_CONSENT = "awaiting_consent"
    COMPLIANCE_SCREENING = "compliance_screening"
    COMPLIANCE_SCREENING_REJECTED = "compliance_screening_rejected"
    TRANSFER_INITIATED = "transfer_initiated"
    TRANSFER_COMPLETED = "transfer_completed"
    TRANSFER_COMPLETED_WITH_FAILURE = "transfer_completed_with_failure"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def ended(self) -> bool:
        return self in END_STATES

    @classmethod
    def parse(cls, text: str) -> "Status":
        """A status from its state code or its label, case and spacing ignored."""
        folded = " ".join(text.replace("-", " ").replace("–", " ").replace("_", " ").lower().split())
        for status in cls:
            if folded in (status.value.replace("_", " "), " ".join(status.label.replace("–", " ").lower().split())):
                return status
        raise ValueError(text)


LABELS = {
    Status.VALIDATION_INITIATED: "Validation Initiated",
    Status.VALIDATION_COMPLETED: "Validation Completed",
    Status.PENDING_SUBMISSION: "Pending Submission",
    Status.SUBMITTED: "Submitted",
    Status.AWAITING_CONSENT: "Submitted – Awaiting Transferor/Transferee consent",
    Status.COMPLIANCE_SCREENING: "Compliance Screening",
    Status.COMPLIANCE_SCREENING_REJECTED: "Compliance Screening Rejected",
    Status.TRANSFER_INITIATED: "Transfer Initiated",
    Status.TRANSFER_COMPLETED: "Transfer Completed",
    Status.TRANSFER_COMPLETED_WITH_FAILURE: "Transfer Completed with Failure",
    Status.CANCELLED: "Cancelled",
}
END_STATES = frozenset({
    Status.TRANSFER_COMPLETED, Status.TRANSFER_COMPLETED_WITH_FAILURE,
    Status.COMPLIANCE_SCREENING_REJECTED, Status.CANCELLED,
})


class Action(str, Enum):
    VALIDATE = "validate"
    AWAIT_SUBMISSION = "await_submission"
    CANCEL = "cancel"
    SUBMIT = "submit"
    START_TRANSFER = "start_transfer"
    REQUEST_CONSENT = "request_consent"
    CONSENT = "consent"
    DECLINE = "decline"
    APPROVE = "approve"
    REJECT = "reject"
    COMPLETE = "complete"
    COMPLETE_WITH_FAILURE = "complete_with_failure"


S, A = Status, Action
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.VALIDATION_INITIATED, A.VALIDATE): S.VALIDATION_COMPLETED,
    (S.VALIDATION_COMPLETED, A.AWAIT_SUBMISSION): S.PENDING_SUBMISSION,
    (S.VALIDATION_COMPLETED, A.CANCEL): S.CANCELLED,  # R8
    (S.PENDING_SUBMISSION, A.CANCEL): S.CANCELLED,  # R8
    (S.PENDING_SUBMISSION, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.START_TRANSFER): S.TRANSFER_INITIATED,  # same company (R4)
    (S.SUBMITTED, A.REQUEST_CONSENT): S.AWAITING_CONSENT,  # not same company (R4)
    (S.AWAITING_CONSENT, A.CONSENT): S.COMPLIANCE_SCREENING,  # both sides consented (R10)
    (S.AWAITING_CONSENT, A.DECLINE): S.CANCELLED,  # a side declined (R10)
    (S.COMPLIANCE_SCREENING, A.APPROVE): S.TRANSFER_INITIATED,  # R11
    (S.COMPLIANCE_SCREENING, A.REJECT): S.COMPLIANCE_SCREENING_REJECTED,  # R11
    (S.TRANSFER_INITIATED, A.COMPLETE): S.TRANSFER_COMPLETED,  # R12
    (S.TRANSFER_INITIATED, A.COMPLETE_WITH_FAILURE): S.TRANSFER_COMPLETED_WITH_FAILURE,  # R12
}
del S, A

# What a user may type next, per status (for error messages).
USER_COMMANDS = {
    Action.CANCEL: "atm cancel", Action.SUBMIT: "atm submit", Action.CONSENT: "atm consent --accept",
    Action.DECLINE: "atm consent --decline", Action.APPROVE: "atm screen --approve",
    Action.REJECT: "atm screen --reject",
}


# The way forward when nothing goes wrong, in the order the machine meets these actions.
_FORWARD = (Action.VALIDATE, Action.AWAIT_SUBMISSION, Action.SUBMIT, Action.START_TRANSFER,
            Action.REQUEST_CONSENT, Action.CONSENT, Action.APPROVE, Action.COMPLETE)
STEP_NAMES = {
    Action.VALIDATE: "validation", Action.AWAIT_SUBMISSION: "validation completed",
    Action.SUBMIT: "Submit for Transfer", Action.START_TRANSFER: "the transfer starts (same company)",
    Action.REQUEST_CONSENT: "both sides are asked to consent", Action.CONSENT: "both sides consent",
    Action.APPROVE: "compliance screening approves", Action.COMPLETE: "the assets move",
}


def next_steps(status: Status, same_company: bool) -> list[tuple[Action, Status]]:
    """The steps still ahead on the way to Transfer Completed, read off `TRANSITIONS` (R4 picks the branch).

    >>> [s.label for _, s in next_steps(Status.PENDING_SUBMISSION, True)]
    ['Submitted', 'Transfer Initiated', 'Transfer Completed']
    """
    skip = Action.REQUEST_CONSENT if same_company else Action.START_TRANSFER
    steps: list[tuple[Action, Status]] = []
    while True:
        for action in _FORWARD:
            nxt = TRANSITIONS.get((status, action))
            if nxt is not None and action is not skip:
                steps.append((action, nxt))
                status = nxt
                break
        else:
            return steps


def allowed_actions(status: Status) -> list[Action]:
    return [action for (state, action) in TRANSITIONS if state is status]


def allowed_commands(status: Status) -> list[str]:
    commands = [USER_COMMANDS[a] for a in allowed_actions(status) if a in USER_COMMANDS]
    if status in (Status.SUBMITTED, Status.TRANSFER_INITIATED):
        commands.append("atm submit (resumes it)")
    return commands


# --- errors ------------------------------------------------------------------


class InvalidTransition(RuleViolation):
    """R7: the action is not allowed from the current status."""


class CancelWindowClosed(InvalidTransition):
    """R8: cancelling is allowed only before Submit for Transfer."""


class NotAdminOfBothAccounts(PermissionDenied):
    """R1."""


class NotAdminOfSide(PermissionDenied):
    """R10: consent comes from an admin of that side."""


class NotComplianceUser(PermissionDenied):
    """R11."""


class SameSourceAndTarget(RuleViolation):
    """R3."""


class SameCompanyRefused(RuleViolation):
    """R4: between VAs of one SA the transfer is same company."""


class AssetsNotTransferable(RuleViolation):
    """R5: lists every ineligible asset with its reason."""


class ConsentNotNeeded(RuleViolation):
    """R4: a same-company transfer has no consent step."""


class ConsentAlreadyGiven(RuleViolation):
    """R10: each side decides once."""


class StatusMismatch(RuleViolation):
    """`atm status --expect` saw another status (exit 1, for CI checks)."""


# --- the aggregate ---------------------------------------------------------------

TRANSFEROR, TRANSFEREE = "transferor", "transferee"
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"
FORM_FIELDS = ("reason", "transferor_contact_email", "transferee_contact_email")


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    actor: str
    from_state: Status | None
    to_state: Status | None
    note: str | None = None


@dataclass(slots=True)
class Consent:
    side: str
    decision: str = PENDING
    by: str | None = None
    at: datetime | None = None


@dataclass(slots=True)
class Transaction:
    id: str
    source_account: str
    source_va: str | None
    target_account: str
    target_va: str
    same_company: bool
    requested_by: str
    created_at: datetime
    status: Status = Status.VALIDATION_INITIATED
    completed_at: datetime | None = None
    form: dict | None = None
    warnings: list[Warning] = field(default_factory=list)
    consents: dict[str, Consent] = field(default_factory=dict)
    new_events: list[Event] = field(default_factory=list)

    @classmethod
    def open(cls, *, id: str, source_account: str, source_va: str | None, target_account: str, target_va: str,
             same_company: bool, requested_by: str, at: datetime, form: dict | None,
             warnings: list[Warning], item_count: int) -> "Transaction":
        """"Submit for Review": validation has passed, so the request goes straight to Pending Submission."""
        txn = cls(id=id, source_account=source_account, source_va=source_va, target_account=target_account,
                  target_va=target_va, same_company=same_company, requested_by=requested_by, created_at=at,
                  form=form, warnings=list(warnings))
        if not same_company:
            txn.consents = {TRANSFEROR: Consent(TRANSFEROR), TRANSFEREE: Consent(TRANSFEREE)}
        txn.new_events.append(Event(at, requested_by, None, Status.VALIDATION_INITIATED,
                                    f"Submit for Review: {item_count:,} asset(s)"))
        txn.apply(Action.VALIDATE, actor=requested_by, at=at, note=f"R5 checked for {item_count:,} asset(s)")
        txn.apply(Action.AWAIT_SUBMISSION, actor=requested_by, at=at)
        return txn

    def apply(self, action: Action, *, actor: str, at: datetime, note: str | None = None) -> Event:
        """Move along the status machine (R7) and record the event (R15)."""
        nxt = TRANSITIONS.get((self.status, action))
        if nxt is None:
            cls = CancelWindowClosed if action is Action.CANCEL else InvalidTransition
            raise cls(refusal(self, action))
        event = Event(at, actor, self.status, nxt, note)
        self.status = nxt
        if nxt.ended:
            self.completed_at = at
        self.new_events.append(event)
        return event

    def record(self, *, actor: str, at: datetime, note: str) -> Event:
        """An audit note that does not change the status."""
        event = Event(at, actor, self.status, self.status, note)
        self.new_events.append(event)
        return event

    def decide_consent(self, side: str, accept: bool, *, actor: str, at: datetime) -> Event | None:
        """R10: one side's decision; both accepted moves on, a decline cancels."""
        if self.same_company:
            raise ConsentNotNeeded(f"{self.id} is a same-company transfer: it needs no consent (R4)")
        if self.status is not Status.AWAITING_CONSENT:
            raise InvalidTransition(refusal(self, Action.CONSENT if accept else Action.DECLINE))
        consent = self.consents[side]
        if consent.decision != PENDING:
            when = f", {consent.at:%Y-%m-%d %H:%M} UTC" if consent.at else ""
            raise ConsentAlreadyGiven(
                f"the {side} of {self.id} already {consent.decision} ({consent.by}{when}); "
                "each side decides once (R10)"
            )
        consent.decision, consent.by, consent.at = (ACCEPTED if accept else DECLINED), actor, at
        if not accept:
            return self.apply(Action.DECLINE, actor=actor, at=at, note=f"the {side} declined")
        if all(c.decision == ACCEPTED for c in self.consents.values()):
            return self.apply(Action.CONSENT, actor=actor, at=at, note="both sides consented")
        return self.record(actor=actor, at=at, note=f"the {side} consented")


def refusal(txn: Transaction, action: Action) -> str:
    """R7: say the current status and what is allowed instead."""
    allowed = allowed_commands(txn.status)
    then = "it has ended" if txn.status.ended else ("allowed now: " + ", ".join(allowed) if allowed else
                                                     "nothing to do but wait")
    verb = {Action.CANCEL: "cancel", Action.SUBMIT: "submit", Action.CONSENT: "consent to",
            Action.DECLINE: "decline", Action.APPROVE: "approve", Action.REJECT: "reject"}.get(action, action.value)
    extra = ""
    if action is Action.CANCEL and txn.status not in (Status.VALIDATION_COMPLETED, Status.PENDING_SUBMISSION):
        extra = " (R8: cancelling is allowed only before Submit for Transfer)"
    if action in (Action.CONSENT, Action.DECLINE) and txn.same_company:
        extra = " (a same-company transfer needs no consent)"
    return f"cannot {verb} {txn.id}: it is {txn.status.label}{extra}; {then}"


# --- rules about who may act ---------------------------------------------------------


def require_admin_of_both(source: Access, target: Access, *, doing: str,
                          source_account: str, target_account: str) -> None:
    """R1: only an admin of both the source and the target SA may request, submit or cancel."""
    if source.is_admin and target.is_admin:
        return
    missing = [d for d, a in ((source_account, source), (target_account, target)) if not a.is_admin]
    raise NotAdminOfBothAccounts(
        f"you must be admin of both {source_account} and {target_account} to {doing} "
        f"(R1); you are not admin of {' and '.join(missing)}"
    )


def consent_side(txn: Transaction, source: Access, target: Access, side: str | None) -> str:
    """R10: the side this user consents for, inferred from their admin role."""
    sides = [s for s, a in ((TRANSFEROR, source), (TRANSFEREE, target)) if a.is_admin]
    if side is not None:
        if side not in sides:
            account = txn.source_account if side == TRANSFEROR else txn.target_account
            raise NotAdminOfSide(f"only an admin of {account} may consent as the {side} of {txn.id} (R10)")
        return side
    if not sides:
        raise NotAdminOfSide(
            f"only an admin of {txn.source_account} (transferor) or {txn.target_account} (transferee) "
            f"may consent to {txn.id} (R10)"
        )
    if len(sides) == 2 and not txn.same_company:
        pending = [s for s in sides if txn.consents.get(s) and txn.consents[s].decision == PENDING]
        if len(pending) == 1:
            return pending[0]
        return ""  # the caller must ask for --side
    return sides[0]


def relationship_warnings(same_company: bool, source_entity: str, target_entity: str) -> list[Warning]:
    """R4 is the requester's answer; say so when the legal entities suggest otherwise."""
    if same_company and source_entity.casefold() != target_entity.casefold():
        return [Warning("relationship", f"answered 'same company', but the legal entities differ ({source_entity} / "
                                        f"{target_entity}); affiliates are not the same company (R4)")]
    return []


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """The form's contact addresses: something@somewhere.tld, no spaces."""
    return _EMAIL.match(text.strip()) is not None


def missing_form_fields(form: dict | None) -> list[str]:
    if not form:
        return list(FORM_FIELDS)
    return [f for f in FORM_FIELDS if not (isinstance(form.get(f), str) and form[f].strip())]


# --- ids -----------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_transaction_id() -> str:
    """Random, short enough to type, unrelated to any other id: ATM-XXXXX-XXXXX (50 random bits)."""
    n = secrets.randbits(50)
    chars = "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in range(10))
    return f"ATM-{chars[:5]}-{chars[5:]}"


def normalize_transaction_id(text: str) -> str:
    """Accept lower case and the Crockford look-alikes (O for 0, I and L for 1) a person may type."""
    raw = text.strip().upper()
    if raw.startswith("ATM-"):
        return "ATM-" + raw[4:].translate(str.maketrans("OIL", "011"))
    return raw
