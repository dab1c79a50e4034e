"""The status machine (R7-R12) against the guide's diagram, with the edges written out here by hand.

Other tests read the allowed moves from `TRANSITIONS` itself, so they cannot
disagree with it; these take the expected edges from docs/statuses.md instead,
in the guide's own labels, and check both directions: every edge listed here
is allowed, every other (status, action) pair is refused (so an ended
transaction allows nothing, R9).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from atm.domain.transfer import (
    TRANSITIONS, Action, CancelWindowClosed, InvalidTransition, Status, Transaction,
)

AT = datetime(2026, 11, 29, tzinfo=timezone.utc)
AWAITING = "Submitted – Awaiting Transferor/Transferee consent"

# The guide's statuses in the order of docs/statuses.md, with their JSON state codes.
GUIDE_STATUSES = [
    ("Validation Initiated", "validation_initiated"),
    ("Validation Completed", "validation_completed"),
    ("Pending Submission", "pending_submission"),
    ("Submitted", "submitted"),
    (AWAITING, "awaiting_consent"),
    ("Compliance Screening", "compliance_screening"),
    ("Compliance Screening Rejected", "compliance_screening_rejected"),
    ("Transfer Initiated", "transfer_initiated"),
    ("Transfer Completed", "transfer_completed"),
    ("Transfer Completed with Failure", "transfer_completed_with_failure"),
    ("Cancelled", "cancelled"),
]
END_LABELS = {"Transfer Completed", "Transfer Completed with Failure", "Compliance Screening Rejected", "Cancelled"}

# docs/statuses.md, edge by edge: (from, action, to).
GUIDE_EDGES = [
    ("Validation Initiated", "validate", "Validation Completed"),
    ("Validation Completed", "await_submission", "Pending Submission"),
    ("Validation Completed", "cancel", "Cancelled"),  # R8
    ("Pending Submission", "cancel", "Cancelled"),  # R8
    ("Pending Submission", "submit", "Submitted"),
    ("Submitted", "start_transfer", "Transfer Initiated"),  # same company (R4)
    ("Submitted", "request_consent", AWAITING),  # not same company (R4)
    (AWAITING, "consent", "Compliance Screening"),  # both sides consented (R10)
    (AWAITING, "decline", "Cancelled"),  # a side declined (R10)
    ("Compliance Screening", "approve", "Transfer Initiated"),  # R11
    ("Compliance Screening", "reject", "Compliance Screening Rejected"),  # R11
    ("Transfer Initiated", "complete", "Transfer Completed"),  # R12
    ("Transfer Initiated", "complete_with_failure", "Transfer Completed with Failure"),  # R12
]
CANCEL_WINDOW = {"Validation Completed", "Pending Submission"}  # R8: before Submit for Transfer

CODES = dict(GUIDE_STATUSES)
ALLOWED = {(src, action): dst for src, action, dst in GUIDE_EDGES}
REFUSED = [(label, action.value) for label, _ in GUIDE_STATUSES for action in Action
           if (label, action.value) not in ALLOWED]


def status(label: str) -> Status:
    found = [s for s in Status if s.label == label]
    assert len(found) == 1, f"no status labelled {label!r}"
    return found[0]


def transaction_in(label: str) -> Transaction:
    return Transaction(id="ATM-TEST0-00000", source_account="a.example", source_va=None,
                       target_account="b.example", target_va="DEFAULT", same_company=False,
                       requested_by="u@a.example", created_at=AT, status=status(label))


def test_the_statuses_are_the_guides_labels_with_their_state_codes():
    assert [(s.label, s.value) for s in Status] == GUIDE_STATUSES
    assert {s.label for s in Status if s.ended} == END_LABELS


def test_r7_the_transition_table_is_exactly_the_guides_edges():
    table = {(src.label, action.value, dst.label) for (src, action), dst in TRANSITIONS.items()}
    assert table == set(GUIDE_EDGES)


@pytest.mark.parametrize("src, action, dst", GUIDE_EDGES, ids=[f"{CODES[s]}-{a}" for s, a, _ in GUIDE_EDGES])
def test_r7_every_edge_of_the_guide_is_allowed(src, action, dst):
    txn = transaction_in(src)
    event = txn.apply(Action(action), actor="x@a.example", at=AT, note="n")
    assert txn.status.label == dst
    assert (event.from_state.label, event.to_state.label, event.actor) == (src, dst, "x@a.example")
    assert txn.new_events == [event]  # R15: the move is recorded
    assert (txn.completed_at == AT) == (dst in END_LABELS)


@pytest.mark.parametrize("src, action", REFUSED, ids=[f"{CODES[s]}-{a}" for s, a in REFUSED])
def test_r7_every_other_status_and_action_is_refused_and_changes_nothing(src, action):
    txn = transaction_in(src)
    expected = CancelWindowClosed if action == "cancel" else InvalidTransition
    with pytest.raises(expected) as refused:
        txn.apply(Action(action), actor="x@a.example", at=AT)
    assert f"it is {src}" in str(refused.value)
    assert txn.status.label == src and txn.new_events == [] and txn.completed_at is None


@pytest.mark.parametrize("src", [label for label, _ in GUIDE_STATUSES if label not in CANCEL_WINDOW],
                         ids=[code for label, code in GUIDE_STATUSES if label not in CANCEL_WINDOW])
def test_r8_cancelling_outside_the_window_names_the_rule(src):
    with pytest.raises(CancelWindowClosed, match="R8"):
        transaction_in(src).apply(Action.CANCEL, actor="x@a.example", at=AT)
