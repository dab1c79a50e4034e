"""The status machine (R7, R8, R10) and transaction ids, as pure domain logic."""

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from atm.domain.model import Access, Role
from atm.domain.transfer import (
    END_STATES, TRANSITIONS, Action, CancelWindowClosed, ConsentAlreadyGiven, ConsentNotNeeded, InvalidTransition,
    NotAdminOfBothAccounts, NotAdminOfSide, Status, Transaction, allowed_actions, consent_side,
    missing_form_fields, new_transaction_id, normalize_transaction_id, require_admin_of_both,
)

AT = datetime(2026, 11, 29, tzinfo=timezone.utc)
ADMIN, USER, NONE = Access(Role.ADMIN), Access(Role.USER), Access(None)


def txn(same_company=True) -> Transaction:
    return Transaction.open(id="ATM-TEST0-00000", source_account="a.example", source_va=None,
                            target_account="b.example", target_va="DEFAULT", same_company=same_company,
                            requested_by="u@a.example", at=AT, form=None, warnings=[], item_count=1)


def test_there_are_eleven_statuses_with_the_guides_labels():
    assert len(Status) == 11
    assert Status.AWAITING_CONSENT.label == "Submitted – Awaiting Transferor/Transferee consent"
    assert [s.value for s in Status][:3] == ["validation_initiated", "validation_completed", "pending_submission"]


def test_a_request_records_validation_and_waits_in_pending_submission():
    t = txn()
    assert t.status is Status.PENDING_SUBMISSION
    assert [(e.from_state, e.to_state) for e in t.new_events] == [
        (None, Status.VALIDATION_INITIATED),
        (Status.VALIDATION_INITIATED, Status.VALIDATION_COMPLETED),
        (Status.VALIDATION_COMPLETED, Status.PENDING_SUBMISSION),
    ]


def test_end_states_have_no_way_out():
    for status in END_STATES:
        assert allowed_actions(status) == []


@given(st.lists(st.sampled_from(list(Action)), max_size=12))
def test_any_sequence_of_actions_stays_inside_the_transition_table(actions):
    t = txn(same_company=False)
    for action in actions:
        before = t.status
        try:
            t.apply(action, actor="x", at=AT)
        except InvalidTransition as e:
            assert t.status is before and before.label in str(e)
        else:
            assert TRANSITIONS[(before, action)] is t.status
        if t.status in END_STATES:
            assert t.completed_at == AT


def test_r7_an_invalid_transition_names_the_status_and_what_is_allowed():
    t = txn()
    with pytest.raises(InvalidTransition) as e:
        t.apply(Action.APPROVE, actor="x", at=AT)
    assert "it is Pending Submission" in str(e.value) and "atm submit" in str(e.value)


def test_r8_cancel_after_submit_is_refused_naming_the_window():
    t = txn()
    t.apply(Action.SUBMIT, actor="x", at=AT)
    with pytest.raises(CancelWindowClosed, match="R8"):
        t.apply(Action.CANCEL, actor="x", at=AT)


def test_r10_both_consents_move_to_screening_and_a_decline_cancels():
    t = txn(same_company=False)
    t.apply(Action.SUBMIT, actor="x", at=AT)
    t.apply(Action.REQUEST_CONSENT, actor="x", at=AT)
    t.decide_consent("transferor", True, actor="a", at=AT)
    assert t.status is Status.AWAITING_CONSENT
    with pytest.raises(ConsentAlreadyGiven):
        t.decide_consent("transferor", False, actor="a", at=AT)
    t.decide_consent("transferee", True, actor="b", at=AT)
    assert t.status is Status.COMPLIANCE_SCREENING
    t2 = txn(same_company=False)
    t2.apply(Action.SUBMIT, actor="x", at=AT)
    t2.apply(Action.REQUEST_CONSENT, actor="x", at=AT)
    t2.decide_consent("transferee", False, actor="b", at=AT)
    assert t2.status is Status.CANCELLED


def test_a_same_company_transfer_needs_no_consent():
    with pytest.raises(ConsentNotNeeded):
        txn().decide_consent("transferor", True, actor="a", at=AT)


def test_r1_only_an_admin_of_both_sides_passes():
    require_admin_of_both(ADMIN, ADMIN, doing="x", source_account="a", target_account="b")
    with pytest.raises(NotAdminOfBothAccounts, match="not admin of b"):
        require_admin_of_both(ADMIN, USER, doing="x", source_account="a", target_account="b")


def test_r10_the_consent_side_is_inferred_from_the_admin_role():
    t = txn(same_company=False)
    assert consent_side(t, ADMIN, NONE, None) == "transferor"
    assert consent_side(t, USER, ADMIN, None) == "transferee"
    assert consent_side(t, ADMIN, ADMIN, None) == ""  # ambiguous: ask for --side
    with pytest.raises(NotAdminOfSide):
        consent_side(t, USER, NONE, None)
    with pytest.raises(NotAdminOfSide):
        consent_side(t, ADMIN, NONE, "transferee")


def test_status_parse_takes_labels_and_codes():
    assert Status.parse("Pending Submission") is Status.PENDING_SUBMISSION
    assert Status.parse("awaiting_consent") is Status.AWAITING_CONSENT
    assert Status.parse("Submitted - Awaiting Transferor/Transferee consent") is Status.AWAITING_CONSENT
    with pytest.raises(ValueError):
        Status.parse("done")


def test_the_form_needs_its_three_fields():
    assert missing_form_fields(None) == ["reason", "transferor_contact_email", "transferee_contact_email"]
    assert missing_form_fields({"reason": "x", "transferor_contact_email": "a@b", "transferee_contact_email": " "}) \
        == ["transferee_contact_email"]


def test_transaction_ids_are_random_short_and_typable():
    ids = {new_transaction_id() for _ in range(2000)}
    assert len(ids) == 2000
    for tid in list(ids)[:50]:
        assert len(tid) == 15 and tid.startswith("ATM-") and tid[9] == "-"
        assert normalize_transaction_id(tid.lower()) == tid
