"""Import records are hostile until parsed (docs/import.md)."""

import pytest
from hypothesis import given, strategies as st

from atm.domain.model import asset_to_dict
from atm.domain.model import Device, License
from atm.domain.records import (
    FieldProblem, merge_asset, new_asset, parse_account, parse_device, parse_license, parse_user,
)


def new_license(rec) -> License:
    return new_asset(parse_license(rec))


def new_device(rec) -> Device:
    return new_asset(parse_device(rec))


def problem(fn, rec):
    with pytest.raises(FieldProblem) as info:
        fn(rec)
    return info.value


LIC = {"account": "acme.com", "sales_order": "123", "line": "1", "pid": "P", "quantity": 4}


def test_a_license_id_defaults_to_the_sales_order_and_line():
    assert parse_license(LIC).id == "SO123-1"


def test_a_license_needs_an_id_or_sales_order_and_line():
    p = problem(parse_license, {"account": "acme.com", "pid": "P", "quantity": 1, "line": "1"})
    assert p.field == "id" and "sales_order" in p.problem


def test_an_unknown_key_is_refused_by_name():
    p = problem(parse_license, dict(LIC, quantiy=3))
    assert p.field == "quantiy" and p.problem.startswith("unknown field")


@pytest.mark.parametrize("value", ["ten", -1, 0, 2.5, True, None])
def test_a_quantity_must_be_a_positive_whole_number(value):
    assert problem(new_license, dict(LIC, quantity=value)).field == "quantity"


def test_in_use_cannot_exceed_the_quantity():
    assert "more than the quantity" in problem(parse_license, dict(LIC, in_use=5)).problem


def test_a_flag_must_be_a_flag():
    assert problem(parse_license, dict(LIC, reserved="maybe")).field == "reserved"
    assert new_license(dict(LIC, reserved="yes")).reserved is True


def test_text_with_a_control_character_is_refused():
    assert "control character" in problem(parse_license, dict(LIC, pid="A\x00B")).problem


def test_overlong_text_is_refused():
    assert "longer than" in problem(parse_license, dict(LIC, pid="P" * 300)).problem


def test_minor_lines_from_a_spreadsheet_cell():
    lic = new_license(dict(LIC, minor_lines="1.1:A:4;1.4:B:2"))
    assert [(m.line, m.pid, m.quantity) for m in lic.minor_lines] == [("1.1", "A", 4), ("1.4", "B", 2)]


def test_a_minor_line_of_another_major_line_is_refused():
    p = problem(parse_license, dict(LIC, minor_lines=[{"line": "2.1", "pid": "A", "quantity": 1}]))
    assert p.field == "minor_lines[0].line" and "not a minor line of line 1" in p.problem


def test_a_device_id_defaults_to_its_serial_and_a_new_one_needs_an_account():
    assert new_device({"serial_number": "FOC1", "pid": "D", "account": "acme.com"}).id == "FOC1"
    assert problem(new_device, {"serial_number": "FOC1", "pid": "D"}).field == "account"


def test_a_record_must_be_an_object():
    assert "must be an object" in problem(parse_device, ["FOC1"]).problem


def test_an_account_always_has_a_default_va_and_refuses_double_roles():
    account = parse_account({"domain": "Acme.COM", "name": "Acme"}).new_account()
    assert account.domain == "acme.com" and [v.name for v in account.virtual_accounts] == ["DEFAULT"]
    assert account.legal_entity == "Acme"
    assert problem(lambda r: parse_account(r).new_account(), {"domain": "a.com"}).field == "name"
    p = problem(parse_account, {"domain": "a.com", "name": "A", "admins": ["x@a.com"], "users": ["x@a.com"]})
    assert "both admins and users" in p.problem


def test_a_domain_must_look_like_one():
    assert problem(parse_account, {"domain": "not a domain", "name": "A"}).field == "domain"


def test_a_user_id_must_be_an_email_address():
    assert problem(parse_user, {"id": "bob"}).field == "id"
    assert parse_user({"id": "Bob@Acme.com"}).id == "bob@acme.com"


text = st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
               min_size=1, max_size=40)


@given(pid=text, so=st.integers(1, 10**9), qty=st.integers(1, 10**6), wo=text)
def test_a_parsed_license_keeps_what_was_given(pid, so, qty, wo):
    out = asset_to_dict(new_license({"account": "a.com", "sales_order": str(so), "line": "1", "pid": pid,
                                       "quantity": qty, "web_order": wo}))
    assert (out["pid"], out["sales_order"], out["quantity"], out["web_order"]) == (pid, str(so), qty, wo)


# --- re-import merges: a record sets only what it carries (docs/import.md) ------------------------------------

STORED = new_license(dict(LIC, web_order="W1", in_use=2, enterprise_agreement=True, pending_upgrade=True,
                          minor_lines=[{"line": "1.1", "pid": "M", "quantity": 4}]))


def test_a_partial_record_keeps_every_field_it_does_not_carry():
    merged = merge_asset(STORED, parse_license({"id": "SO123-1", "quantity": 6})).asset
    assert merged.quantity == 6
    assert (merged.enterprise_agreement, merged.pending_upgrade, merged.web_order, merged.in_use) == \
        (True, True, "W1", 2)
    assert merged.sales_order == "123" and merged.line == "1"


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_a_null_or_blank_flag_never_loosens_a_rule(blank):  # R5
    merged = merge_asset(STORED, parse_license({"id": "SO123-1", "enterprise_agreement": blank,
                                                 "pending_upgrade": blank}))
    assert merged.asset.enterprise_agreement and merged.asset.pending_upgrade


def test_loosening_a_rule_flag_takes_a_record_that_names_it():  # R5
    merged = merge_asset(STORED, parse_license({"id": "SO123-1", "enterprise_agreement": False}))
    assert merged.asset.enterprise_agreement is False and merged.asset.pending_upgrade is True


def test_tightening_a_rule_flag_is_reported():  # R5: the asset is re-checked where it sits
    plain = new_license(LIC)
    assert merge_asset(plain, parse_license({"id": "SO123-1", "pending_upgrade": "yes"})).tightened
    assert not merge_asset(plain, parse_license({"id": "SO123-1", "reserved": True})).tightened


def test_an_empty_string_clears_an_optional_text_field():
    assert merge_asset(STORED, parse_license({"id": "SO123-1", "web_order": ""})).asset.web_order is None


def test_minor_lines_stay_unless_the_record_gives_them():
    assert parse_license({"id": "SO123-1", "pid": "Q"}).minor_lines is None
    assert parse_license({"id": "SO123-1", "minor_lines": []}).minor_lines == ()


def test_a_merge_never_moves_the_asset_and_says_so():
    merged = merge_asset(STORED, parse_license({"id": "SO123-1", "account": "other.com",
                                                 "virtual_account": "Lab"}))
    assert (merged.asset.account, merged.asset.virtual_account) == ("acme.com", "DEFAULT")
    assert merged.location_kept
    assert not merge_asset(STORED, parse_license({"id": "SO123-1", "account": "acme.com"})).location_kept


def test_a_merge_still_checks_the_record_against_what_is_stored():
    assert problem(lambda r: merge_asset(STORED, parse_license(r)), {"id": "SO123-1", "quantity": 1}).field == \
        "quantity"  # 2 in use
    p = problem(lambda r: merge_asset(STORED, parse_license(r)),
                {"id": "SO123-1", "minor_lines": [{"line": "2.1", "pid": "M", "quantity": 1}]})
    assert "not a minor line of line 1" in p.problem
    device = new_device({"serial_number": "FOC1", "pid": "D", "account": "acme.com"})
    assert "already exists as a device" in problem(lambda r: merge_asset(device, parse_license(r)),
                                                   {"id": "FOC1", "quantity": 1}).problem


def test_a_new_record_needs_its_required_fields():
    for rec, missing in (({"id": "X", "pid": "P", "quantity": 1}, "account"),
                         ({"id": "X", "account": "a.com", "quantity": 1}, "pid"),
                         ({"id": "X", "account": "a.com", "pid": "P"}, "quantity")):
        p = problem(new_license, rec)
        assert p.field == missing and "required for a new license" in p.problem
    assert problem(new_device, {"id": "D1", "pid": "P", "account": "a.com"}).field == "serial_number"


@pytest.mark.parametrize("spelling", ["Acme.COM", " acme.com ", "acme.com"])
def test_an_asset_account_is_a_domain_in_its_normal_form_every_time_it_is_met(spelling):
    """A million records name a handful of accounts, so a checked domain is remembered; the second record with
    the same spelling gets exactly what the first got, and a bad one is refused every time."""
    for _ in range(2):
        assert new_license(dict(LIC, account=spelling)).account == "acme.com"
    for _ in range(2):
        assert problem(parse_license, dict(LIC, account="acme com")).field == "account"
        assert problem(parse_device, {"serial_number": "S1", "pid": "P", "account": "-acme.com"}).field == "account"


@given(st.one_of(st.integers(min_value=-3, max_value=3), st.booleans(), st.just(10**12 + 1), st.floats(0, 3)))
def test_a_quantity_fast_path_agrees_with_the_rule(value):
    """Whole numbers 1..10**12 pass as they are; 0, negatives, booleans, fractions and the too-large are refused."""
    expected_ok = (value.__class__ is int and 1 <= value <= 10**12) or (
        isinstance(value, float) and value.is_integer() and 1 <= value <= 10**12)
    if expected_ok:
        assert new_license(dict(LIC, quantity=value)).quantity == int(value)
    else:
        assert problem(parse_license, dict(LIC, quantity=value)).field == "quantity"


def test_a_domain_that_is_ascii_only_after_lower_casing_is_refused():
    """The Kelvin sign (U+212A) lower-cases to an ASCII "k": "\u212aacme.com" must not become "kacme.com"."""
    p = problem(parse_license, dict(LIC, account="\u212aacme.com"))
    assert p.field == "account" and "\u212aacme.com" in p.problem
    assert problem(parse_account, {"domain": "\u212aacme.com", "name": "A"}).field == "domain"
