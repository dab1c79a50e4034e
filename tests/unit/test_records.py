"""Import records are hostile until parsed (SPEC section 5)."""

import pytest
from hypothesis import given, strategies as st

from atm.domain.model import asset_to_dict
from atm.domain.records import FieldProblem, parse_account, parse_device, parse_license, parse_user


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


@pytest.mark.parametrize("value", ["ten", -1, 2.5, True, None])
def test_a_quantity_must_be_a_positive_whole_number(value):
    assert problem(parse_license, dict(LIC, quantity=value)).field == "quantity"


def test_in_use_cannot_exceed_the_quantity():
    assert "more than the quantity" in problem(parse_license, dict(LIC, in_use=5)).problem


def test_a_flag_must_be_a_flag():
    assert problem(parse_license, dict(LIC, reserved="maybe")).field == "reserved"
    assert parse_license(dict(LIC, reserved="yes")).reserved is True


def test_text_with_a_control_character_is_refused():
    assert "control character" in problem(parse_license, dict(LIC, pid="A\x00B")).problem


def test_overlong_text_is_refused():
    assert "longer than" in problem(parse_license, dict(LIC, pid="P" * 300)).problem


def test_minor_lines_from_a_spreadsheet_cell():
    lic = parse_license(dict(LIC, minor_lines="1.1:A:4;1.4:B:2"))
    assert [(m.line, m.pid, m.quantity) for m in lic.minor_lines] == [("1.1", "A", 4), ("1.4", "B", 2)]


def test_a_minor_line_of_another_major_line_is_refused():
    p = problem(parse_license, dict(LIC, minor_lines=[{"line": "2.1", "pid": "A", "quantity": 1}]))
    assert p.field == "minor_lines[0].line" and "not a minor line of line 1" in p.problem


def test_a_device_id_defaults_to_its_serial_and_needs_an_account():
    assert parse_device({"serial_number": "FOC1", "pid": "D", "account": "acme.com"}).id == "FOC1"
    assert problem(parse_device, {"serial_number": "FOC1", "pid": "D"}).field == "account"


def test_a_record_must_be_an_object():
    assert "must be an object" in problem(parse_device, ["FOC1"]).problem


def test_an_account_always_has_a_default_va_and_refuses_double_roles():
    rec = parse_account({"domain": "Acme.COM", "name": "Acme"})
    assert rec.account.domain == "acme.com" and [v.name for v in rec.account.virtual_accounts] == ["DEFAULT"]
    assert rec.account.legal_entity == "Acme"
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
    out = asset_to_dict(parse_license({"account": "a.com", "sales_order": str(so), "line": "1", "pid": pid,
                                       "quantity": qty, "web_order": wo}))
    assert (out["pid"], out["sales_order"], out["quantity"], out["web_order"]) == (pid, str(so), qty, wo)
