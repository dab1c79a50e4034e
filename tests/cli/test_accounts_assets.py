"""`atm accounts` and `atm assets` through the CLI: JSON shapes, filters, visibility, exit codes."""

import json

import pytest

from tests.conftest import BOB, LEGAL, PARTNER, PETER, TARO

LICENSE_KEYS = ["id", "kind", "account", "virtual_account", "sales_order", "line", "pid", "quantity", "web_order",
                "subscription_id", "pak", "license_type", "in_use", "enterprise_agreement", "reserved",
                "pending_upgrade", "minor_lines"]
DEVICE_KEYS = ["id", "kind", "account", "virtual_account", "serial_number", "pid", "host_id", "uuid",
               "license_type", "pnp_status", "sales_order", "cslu", "reserved"]


def test_accounts_list_shows_only_accounts_with_a_role(cli, sample_db):
    rows = cli.json("accounts", "list", user=TARO)
    assert {r["domain"]: r["role"] for r in rows} == {"acme.co.jp": "admin", "acme-osaka.co.jp": "admin"}
    assert list(rows[0]) == ["domain", "name", "legal_entity", "role"]


def test_a_compliance_user_sees_every_account(cli, sample_db):
    rows = cli.json("accounts", "list", user=LEGAL)
    assert len(rows) == 4 and all(r["role"] is None for r in rows)


def test_accounts_search_matches_name_or_domain(cli, sample_db):
    assert [r["domain"] for r in cli.json("accounts", "list", "--search", "OSAKA", user=TARO)] == ["acme-osaka.co.jp"]
    assert [r["domain"] for r in cli.json("accounts", "list", "--search", "globex", user=PARTNER)] == ["globex.com"]
    assert cli.json("accounts", "list", "--search", "%", user=PARTNER) == []


def test_accounts_show_with_counts(cli, sample_db):
    shown = cli.json("accounts", "show", "acme.co.jp", "--counts", user=TARO)
    assert list(shown) == ["domain", "name", "legal_entity", "role", "virtual_accounts", "counts"]
    assert {"name": "SSM On-Prem", "ssm_onprem": True} in shown["virtual_accounts"]
    listed = cli.json("assets", "list", "--account", "acme.co.jp", user=TARO)
    assert shown["counts"] == {"licenses": sum(a["kind"] == "license" for a in listed),
                               "devices": sum(a["kind"] == "device" for a in listed)}


def test_an_account_is_found_by_its_exact_name(cli, sample_db):
    assert cli.json("accounts", "show", "Acme Osaka Branch", user=TARO)["domain"] == "acme-osaka.co.jp"


def test_an_account_without_a_role_is_not_found(cli, sample_db):
    result = cli("accounts", "show", "globex.com", user=TARO)
    assert result.exit_code == 3
    assert "Smart Account 'globex.com' not found" in result.stderr
    result = cli("assets", "list", "--account", "acme.co.jp", user=PETER)
    assert result.exit_code == 3 and "not found" in result.stderr


def test_an_unknown_acting_user_is_refused(cli, sample_db):
    result = cli("accounts", "list", user="nobody@nowhere.example")
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: unknown user 'nobody@nowhere.example'")


def test_no_acting_user_is_bad_usage(cli, sample_db):
    result = cli("accounts", "list")
    assert result.exit_code == 2 and "--as USER" in result.stderr


def test_asset_json_has_exactly_the_spec_fields(cli, sample_db):
    rows = cli.json("assets", "list", "--account", "acme.co.jp", user=TARO)
    lic = next(r for r in rows if r["id"] == "SO12345678-1")
    dev = next(r for r in rows if r["id"] == "FOC2231X0AB")
    assert list(lic) == LICENSE_KEYS and list(dev) == DEVICE_KEYS
    assert lic["minor_lines"][0] == {"line": "1.1", "pid": lic["minor_lines"][0]["pid"], "quantity": 10}


@pytest.mark.parametrize("option, value, field", [
    ("--sales-order", "12345678", "sales_order"),
    ("--serial", "FOC2231X0AB", "serial_number"),
    ("--pak", "3XXXX9A1B2C", "pak"),
    ("--pid", "C9300-24T", "pid"),
])
def test_each_exact_filter_keeps_only_matching_assets(cli, sample_db, option, value, field):
    rows = cli.json("assets", "list", "--account", "acme.co.jp", option, value, user=TARO)
    assert rows and all(r[field] == value for r in rows)


def test_license_only_filters_and_the_kind_switch(cli, sample_db):
    everything = cli.json("assets", "list", "--account", "acme.co.jp", user=TARO)
    some = next(r for r in everything if r["kind"] == "license" and r["web_order"])
    rows = cli.json("assets", "list", "--account", "acme.co.jp", "--web-order", some["web_order"], user=TARO)
    assert some["id"] in [r["id"] for r in rows] and all(r["kind"] == "license" for r in rows)
    assert all(r["kind"] == "device" for r in cli.json("assets", "list", "--account", "acme.co.jp", "--devices",
                                                      user=TARO))
    sub = next(r for r in everything if r["kind"] == "license" and r["subscription_id"])
    rows = cli.json("assets", "list", "--account", "acme.co.jp", "--subscription", sub["subscription_id"], user=TARO)
    assert sub["id"] in [r["id"] for r in rows]


def test_device_filters_host_id_and_uuid(cli, sample_db):
    dev = cli.json("assets", "list", "--account", "acme.co.jp", "--serial", "FOC2231X0AB", user=TARO)[0]
    for option, field in (("--host-id", "host_id"), ("--uuid", "uuid")):
        rows = cli.json("assets", "list", "--account", "acme.co.jp", option, dev[field], user=TARO)
        assert [r["id"] for r in rows] == ["FOC2231X0AB"]


def test_search_matches_any_text_field_case_insensitively(cli, sample_db):
    rows = cli.json("assets", "list", "--account", "acme.co.jp", "--search", "foc2231x", user=TARO)
    assert "FOC2231X0AB" in [r["id"] for r in rows]
    assert cli.json("assets", "list", "--account", "acme.co.jp", "--search", "_%", user=TARO) == []


def test_va_filter_and_unknown_va(cli, sample_db):
    rows = cli.json("assets", "list", "--account", "acme.co.jp", "--va", "SSM On-Prem", user=TARO)
    assert rows and all(r["virtual_account"] == "SSM On-Prem" for r in rows)
    result = cli("assets", "list", "--account", "acme.co.jp", "--va", "Nope", user=TARO)
    assert result.exit_code == 3 and "no virtual account 'Nope' in acme.co.jp" in result.stderr


def test_transferable_hides_every_ineligible_asset(cli, sample_db):
    everything = {r["id"]: r for r in cli.json("assets", "list", "--account", "acme.co.jp", user=TARO)}
    movable = {r["id"] for r in cli.json("assets", "list", "--account", "acme.co.jp", "--transferable", user=TARO)}
    for hidden in ("SO12345679-1", "SO12345680-1", "FDO2312Q1AB"):
        assert hidden in everything and hidden not in movable
    assert "SO12345678-1" in movable and "FOC2231X0AB" in movable
    for aid in set(everything) - movable:
        a = everything[aid]
        assert a.get("enterprise_agreement") or a.get("pending_upgrade") or a["virtual_account"] == "SSM On-Prem"


def test_the_table_view_says_why_an_asset_cannot_move(cli, sample_db, people):
    result = cli("assets", "list", "--account", "acme.co.jp", "--sales-order", "12345679", user=TARO)
    assert result.exit_code == 0 and "EA-bound" in result.stdout
    result = cli("assets", "list", "--account", "acme.co.jp", "--serial", "FDO2312Q1AB", user=TARO)
    assert "SSM On-Prem" in result.stdout


def test_the_table_view_shows_minor_lines_with_lines(cli, sample_db, people):
    result = cli("assets", "list", "--account", "acme.co.jp", "--sales-order", "12345678", "--lines", user=TARO)
    assert result.exit_code == 0 and "└ 1.1" in result.stdout


def test_a_plain_user_can_list_assets_of_their_account(cli, sample_db):
    assert cli.json("assets", "list", "--account", "acme.co.jp", "--serial", "FOC2231X0AB", user=BOB)


def test_limit_caps_the_json_list(cli, sample_db):
    assert len(cli.json("assets", "list", "--account", "acme.co.jp", "--limit", "3", user=TARO)) == 3


def test_json_list_output_is_valid_when_empty(cli, sample_db):
    result = cli("assets", "list", "--account", "acme.co.jp", "--serial", "NOPE", "--json", user=TARO)
    assert result.exit_code == 0 and json.loads(result.stdout) == []
