"""The batch lane of a first import takes a batch only as record-by-record parsing takes it (docs/import.md).

`new_licenses` / `new_devices` must accept a batch only when `parse_license` / `parse_device` and `new_asset`
accept every record, and must then give exactly the assets those build. The expected values come from the
record-by-record rules, never from the batch code. A batch lane that declined everything would be correct but
useless, so ordinary batches must be taken.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from atm.domain.model import license_id
from atm.domain.record_batches import new_devices, new_licenses
from atm.domain.records import (
    DEVICE_KEYS, LICENSE_KEYS, MAX_QUANTITY, MAX_TEXT, FieldProblem, new_asset, parse_device, parse_license,
)

# Values near every edge the rules have: blank, padded, too long, non-ASCII, a control character, a number
# where text is wanted, text where a number is wanted, true/false where a number is wanted, and so on.
ODD = st.sampled_from([
    None, "", " ", " x", "x ", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "é", "\u212aacme.com", "a\tb", "a\x00b",
    "a|b", "a| b", "a |b", 0, 1, -1, 2, 1.0, 1.5, True, False, "3", "yes", "no", [], {}, ["x"], "1.1:P:1",
    MAX_QUANTITY, MAX_QUANTITY + 1,
])
TEXT = st.one_of(st.sampled_from(["A1", "C9300-24T", "SO-77", "x y", "Smart", "1", "2", "1.1"]),
                 st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12), ODD)
ACCOUNT = st.one_of(st.sampled_from(["acme.com", "ACME.com", "east.corp.example", "bad domain", "-x.com"]), ODD)
QUANTITY = st.one_of(st.integers(min_value=0, max_value=20), ODD)
FLAG = st.one_of(st.booleans(), ODD)
MINOR = st.fixed_dictionaries({}, optional={"line": st.sampled_from(["1.1", "1.2", "2.1", "1", ""]),
                                            "pid": TEXT, "quantity": QUANTITY, "extra": TEXT})
MINOR_LINES = st.one_of(st.lists(MINOR, max_size=3), ODD)


def records(keys, special):
    """Records with any subset of the allowed keys, sometimes an unknown one."""
    fields = {key: special.get(key, TEXT) for key in keys}
    return st.one_of(
        st.fixed_dictionaries({}, optional=fields),
        st.fixed_dictionaries(fields),  # every key present: the batch lane's quickest path
        st.fixed_dictionaries({"unknown": TEXT}, optional=fields),
        ODD,
    )


TEXT_EDGES = ["", " ", " x", "x ", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "é", "a\tb", "a\x00b", "a| b", "a |b",
              None, 7, 1.0, True, [], {}]
NUMBER_EDGES = [None, 0, 1, 2, -1, 11, MAX_QUANTITY, MAX_QUANTITY + 1, 1.0, 2.5, True, False, "3", " 3", "", []]
FLAG_EDGES = [None, True, False, 0, 1, 2, "yes", "no", "", "true", 1.0, []]
MINOR_EDGES = [
    None, "", "1.1:P:1", {}, [], [None], ["1.1"], [{"line": "2.1", "pid": "P", "quantity": 1}],
    [{"line": "1.1", "pid": "P", "quantity": 1}, {"line": "1.1", "pid": "Q", "quantity": 1}],
    [{"line": "1.1", "pid": "P", "quantity": 0}], [{"line": "1.1", "pid": "P"}], [{"line": "1.1", "quantity": 1}],
    [{"line": "1.1", "pid": "P", "quantity": 1, "x": 1}], [{"line": "1.1", "pid": "P", "quantity": True}],
    [{"line": "1.1 ", "pid": "P", "quantity": 1}], [{"line": "1.10", "pid": "P", "quantity": MAX_QUANTITY + 1}],
    [{"line": "11.1", "pid": "P", "quantity": 1}],
]
EDGES = {
    "account": ["ACME.com", " acme.com", "x y.com", "acme", "\u212aacme.com", "", None, 5, [], {}],
    "quantity": NUMBER_EDGES, "in_use": NUMBER_EDGES, "minor_lines": MINOR_EDGES, "line": ["1", "11", "2", ""],
    "enterprise_agreement": FLAG_EDGES, "reserved": FLAG_EDGES, "pending_upgrade": FLAG_EDGES, "cslu": FLAG_EDGES,
}


def near_ordinary(good, keys):
    """A batch of ordinary records, one of which has one or two fields set to an edge value or left out (or an
    unknown field): the lane must tell that one record from the rest."""
    def edge(key):
        return st.tuples(st.just(key), st.sampled_from(EDGES.get(key, TEXT_EDGES)))

    changes = st.lists(st.sampled_from(sorted(keys | {"unknown"})).flatmap(edge), min_size=1, max_size=2)
    dropped = st.sets(st.sampled_from(sorted(keys)), max_size=1)
    odd = st.builds(lambda base, change, drop: {k: v for k, v in {**base, **dict(change)}.items() if k not in drop},
                    good, changes, dropped)
    return st.builds(lambda before, one, after: before + [one] + after,
                     st.lists(good, max_size=2), odd, st.lists(good, max_size=2))


GOOD_LICENSE = st.fixed_dictionaries({
    "id": st.sampled_from(["L1", "l1", "SO1-1", None, ""]), "account": st.sampled_from(["acme.com", "b.example"]),
    "virtual_account": st.sampled_from(["DEFAULT", "Edge", None]), "sales_order": st.sampled_from(["1", "2"]),
    "line": st.sampled_from(["1", None]), "pid": st.sampled_from(["C1-ADV", "P|Q"]),
    "quantity": st.sampled_from([1, 10, MAX_QUANTITY]), "in_use": st.sampled_from([0, 1, None]),
    "web_order": st.sampled_from(["W1", None]), "subscription_id": st.sampled_from(["S1", None]),
    "pak": st.sampled_from(["PAK1", None]), "license_type": st.sampled_from(["Smart", None]),
    "enterprise_agreement": st.booleans(), "reserved": st.sampled_from([True, False, None]),
    "pending_upgrade": st.booleans(),
    "minor_lines": st.sampled_from([None, [], [{"line": "1.1", "pid": "P", "quantity": 1}],
                                    [{"line": "1.1", "pid": "P", "quantity": 2}, {"line": "1.2", "pid": "Q",
                                                                                  "quantity": 1}]]),
})
GOOD_DEVICE = st.fixed_dictionaries({
    "id": st.sampled_from(["D1", None, ""]), "serial_number": st.sampled_from(["fox1", "FOX2", "Fox3"]),
    "pid": st.sampled_from(["C9300", "P|Q"]), "host_id": st.sampled_from(["H1", None]),
    "uuid": st.sampled_from(["u-1", None]), "account": st.sampled_from(["acme.com", "b.example"]),
    "virtual_account": st.sampled_from(["DEFAULT", None]), "license_type": st.sampled_from(["Smart", None]),
    "pnp_status": st.sampled_from(["Provisioned", None]), "sales_order": st.sampled_from(["1", None]),
    "cslu": st.sampled_from([True, False, None]), "reserved": st.booleans(),
})


LICENSE_ANY = records(LICENSE_KEYS, {"account": ACCOUNT, "quantity": QUANTITY, "in_use": QUANTITY,
                                     "enterprise_agreement": FLAG, "reserved": FLAG, "pending_upgrade": FLAG,
                                     "minor_lines": MINOR_LINES, "line": st.sampled_from(["1", "2", None, ""])})
DEVICE_ANY = records(DEVICE_KEYS, {"account": ACCOUNT, "cslu": FLAG, "reserved": FLAG})
LICENSES = st.one_of(near_ordinary(GOOD_LICENSE, LICENSE_KEYS), st.lists(LICENSE_ANY, min_size=1, max_size=4))
DEVICES = st.one_of(near_ordinary(GOOD_DEVICE, DEVICE_KEYS), st.lists(DEVICE_ANY, min_size=1, max_size=4))


def one_by_one(raws, parse):
    """(assets, natural keys) as record-by-record parsing builds them; FieldProblem if any record is wrong."""
    assets, keys = [], []
    for raw in raws:
        record = parse(raw)
        assets.append(new_asset(record))
        key = record.natural_key
        keys.append(None if key is None else (key[1] if key[0] == "serial" else license_id(key[1], key[2])).lower())
    return assets, keys


def agrees(raws, parse, batch_of):
    batch = batch_of(raws)
    try:
        assets, keys = one_by_one(raws, parse)
    except FieldProblem:
        assert batch is None, "the batch lane took a batch that record-by-record parsing refuses"
        return None
    if batch is None:
        return None
    assert batch.ids == [a.id for a in assets]
    assert batch.natural_keys == keys
    for name, values in batch.columns.items():
        expected = [getattr(a, name) for a in assets]
        assert list(values) == expected, name
        assert [type(v) for v in values] == [type(v) for v in expected], name
    assert batch.minor_lines == [(a.id, m.line, m.pid, m.quantity) for a in assets
                                 for m in getattr(a, "minor_lines", ())]
    return batch


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LICENSES)
def test_a_batch_of_licenses_is_taken_only_as_one_by_one_parsing_takes_it(raws):
    agrees(raws, parse_license, new_licenses)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DEVICES)
def test_a_batch_of_devices_is_taken_only_as_one_by_one_parsing_takes_it(raws):
    agrees(raws, parse_device, new_devices)


def ordinary_license(i):
    return {"id": f"L{i}", "account": "acme.com", "virtual_account": "DEFAULT", "sales_order": str(100 + i),
            "line": "1", "pid": "C1-ADV", "quantity": 10, "web_order": None, "subscription_id": "Sub1",
            "pak": None, "license_type": "Smart", "in_use": 3, "enterprise_agreement": False, "reserved": False,
            "pending_upgrade": False, "minor_lines": [{"line": "1.1", "pid": "C1-X", "quantity": 1}]}


def test_ordinary_batches_are_taken_whole():
    licenses = [ordinary_license(i) for i in range(50)]
    sparse = [{"account": "acme.com", "sales_order": "9", "line": str(i), "pid": "P", "quantity": 1}
              for i in range(1, 50)]
    devices = [{"serial_number": f"fox{i}", "pid": "C9300", "account": "acme.com", "cslu": True}
               for i in range(50)]
    for raws, parse, batch_of in ((licenses, parse_license, new_licenses), (sparse, parse_license, new_licenses),
                                  (devices, parse_device, new_devices)):
        assert agrees(raws, parse, batch_of) is not None
    assert new_devices(devices).ids[0] == "FOX0"  # serial numbers in upper case, the default id
    assert new_licenses(sparse).ids[0] == "SO9-1"  # a line without an id is SO<order>-<line>


def test_one_unusual_record_sends_the_whole_batch_record_by_record():
    # Each of these is converted or trimmed one by one, or refused there ([] is no virtual account, though
    # empty), so the batch must decline it rather than take it as it is.
    for change in ({"quantity": "10"}, {"pid": " C1-ADV "}, {"account": "ACME.com"}, {"reserved": "yes"},
                   {"minor_lines": "1.1:C1-X:1"}, {"sales_order": 100}, {"virtual_account": 0},
                   {"virtual_account": []}, {"id": 7}):
        licenses = [ordinary_license(i) for i in range(10)]
        licenses[3]["virtual_account"] = None  # DEFAULT
        licenses[7].update(change)
        batch = agrees(licenses, parse_license, new_licenses)
        assert batch is None or batch.columns["account"][7] == "acme.com", change


def test_a_change_made_to_every_record_of_a_batch_is_seen_too():
    # One set of keys in the whole batch takes the quickest path: a misspelt field there must still decline.
    for change in ({"quantiy": 10}, {"pid": " C1-ADV "}, {"quantity": True}, {"account": "ACME.COM"}):
        licenses = [dict(ordinary_license(i), **change) for i in range(10)]
        batch = agrees(licenses, parse_license, new_licenses)
        assert batch is None or change == {"account": "ACME.COM"}, change
