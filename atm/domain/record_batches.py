"""Check a whole batch of ordinary new-asset records at once: the first import of a million assets.

The rules are those of `records.py` (`parse_license` or `parse_device`, then `new_asset`); this module only
applies them faster to a batch whose records are all ordinary: known keys, clean printable ASCII text, whole
numbers given as JSON numbers, flags given as true/false, minor lines as a list. It checks the batch column by
column with built-in operations instead of field by field, and either accepts every record, with exactly the
values the record-by-record path gives, or declines the whole batch (None). A declined batch goes record by
record, which accepts it all the same or names the record and the field that are wrong: this module never
refuses anything and never explains. `tests/unit/test_record_batches.py` holds it to the record-by-record
path on random records.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from operator import itemgetter, le
from typing import Sequence

from atm.domain.model import DEFAULT_VA, license_id
from atm.domain.records import DEVICE_KEYS, LICENSE_KEYS, MAX_QUANTITY, MAX_TEXT, MINOR_KEYS, FieldProblem, domain

_NONE = type(None)
_TEXT = frozenset({str})
_FLAG_OR_NONE = frozenset({bool, _NONE})
_SEPARATOR = "|"  # printable ASCII: it cannot hide a bad character, at worst it declines a clean batch

# Fields by how they are read (see `_COMMON_FIELDS` and its kin in records.py); every other key is refused.
_LICENSE_TEXT = ("sales_order", "line", "web_order", "subscription_id", "pak", "license_type")
_LICENSE_FLAGS = ("enterprise_agreement", "reserved", "pending_upgrade")
_DEVICE_TEXT = ("host_id", "uuid", "license_type", "pnp_status", "sales_order")
_DEVICE_FLAGS = ("cslu", "reserved")
_LICENSE_ORDER = ("id", "account", "virtual_account", "pid", "quantity", "in_use", "minor_lines",
                  *_LICENSE_TEXT, *_LICENSE_FLAGS)
_DEVICE_ORDER = ("id", "account", "virtual_account", "pid", "serial_number", *_DEVICE_TEXT, *_DEVICE_FLAGS)


class _Decline(Exception):
    """The batch is not ordinary: it goes record by record."""


@dataclass(slots=True)
class NewAssets:
    """A batch of new assets, column by column: what `new_asset` would build, record by record."""

    kind: str  # "license" or "device"
    ids: list[str]
    columns: dict[str, Sequence]  # field -> one value per asset, defaults applied (flags as bools)
    natural_keys: list[str | None]  # the lower-cased real-world key (serial, SO<order>-<line>), if any
    minor_lines: list[tuple[str, str, str, int]]  # (license id, line, pid, quantity), licenses only


def new_licenses(raws: Sequence[object]) -> NewAssets | None:
    """The new licenses these import records create, or None if any record is not ordinary."""
    try:
        columns = _columns(raws, LICENSE_KEYS, _LICENSE_ORDER)
        for name in _LICENSE_TEXT:
            columns[name] = _optional_text(columns[name])
        so, line = columns["sales_order"], columns["line"]
        quantity = columns["quantity"]
        _whole(quantity, minimum=1, given=True)
        in_use = columns["in_use"] = _whole(columns["in_use"], minimum=0, given=False)
        if not all(map(le, in_use, quantity)):
            raise _Decline
        ids = _ids(columns.pop("id"))
        if None in ids:
            named = [i is not None or (s is not None and n is not None) for i, s, n in zip(ids, so, line)]
            if not all(named):
                raise _Decline  # no id, and no sales order and line to name it by
            ids = [license_id(s, n) if i is None else i for i, s, n in zip(ids, so, line)]
        natural = [None if s is None or n is None else license_id(s, n).lower() for s, n in zip(so, line)]
        minor = _minor_lines(columns.pop("minor_lines"), ids, line)
        _common(columns)
        for name in _LICENSE_FLAGS:
            columns[name] = _flags(columns[name])
    except _Decline:
        return None
    return NewAssets("license", ids, columns, natural, minor)


def new_devices(raws: Sequence[object]) -> NewAssets | None:
    """The new devices these import records create, or None if any record is not ordinary."""
    try:
        columns = _columns(raws, DEVICE_KEYS, _DEVICE_ORDER)
        for name in _DEVICE_TEXT:
            columns[name] = _optional_text(columns[name])
        serials = columns["serial_number"] = list(map(str.upper, _required_text(columns["serial_number"])))
        ids = _ids(columns.pop("id"))
        if None in ids:
            ids = [s if i is None else i for i, s in zip(ids, serials)]
        natural = list(map(str.lower, serials))
        _common(columns)
        for name in _DEVICE_FLAGS:
            columns[name] = _flags(columns[name])
    except _Decline:
        return None
    return NewAssets("device", ids, columns, natural, [])


# --- columns ------------------------------------------------------------------------------------


def _columns(raws: Sequence[object], allowed: frozenset[str], order: tuple[str, ...]) -> dict[str, list]:
    """One list per field, None where a record leaves the field out; only plain objects with known keys."""
    if not raws or set(map(type, raws)) != {dict} or not all(map(allowed.issuperset, raws)):
        raise _Decline
    width = len(order)
    if set(map(len, raws)) == {width}:  # every field present: one C-level lookup per record
        rows = list(map(itemgetter(*order), raws))
    else:
        rows = [tuple(map(raw.get, order)) for raw in raws]
    return dict(zip(order, map(list, zip(*rows))))


def _common(columns: dict[str, list]) -> None:
    """The fields every asset has: account (a domain), virtual account (DEFAULT if not given), pid (required)."""
    accounts = columns["account"]
    if set(map(type, accounts)) != _TEXT:
        raise _Decline
    normal = {}
    names = set(accounts)
    for name in names:
        try:
            normal[name] = domain(name)
        except FieldProblem:
            raise _Decline from None
    if any(k != v for k, v in normal.items()):
        columns["account"] = list(map(normal.__getitem__, accounts))
    places = columns["virtual_account"]
    if None in places or "" in places:
        places = columns["virtual_account"] = [DEFAULT_VA if p is None or p == "" else p for p in places]
    _clean(places)
    columns["pid"] = _required_text(columns["pid"])


def _ids(ids: list) -> list:
    """The ids given, None where a record gives none (an empty id is none: the record is named by its key)."""
    return _optional_text(ids)


def _required_text(values: list) -> list:
    _clean(values)
    return values


def _optional_text(values: list) -> list:
    """Text or nothing (None); an empty string clears the field, so it reads as None too."""
    if "" in values:
        values = [v if v != "" else None for v in values]
    given = [v for v in values if v is not None] if None in values else values
    if given:
        _clean(given)
    return values


def _clean(values: list) -> None:
    """Every value is text of 1 to MAX_TEXT printable ASCII characters, not starting or ending with a space:
    what records.py takes as it is, without converting or trimming."""
    if set(map(type, values)) != _TEXT or min(map(len, values)) < 1 or max(map(len, values)) > MAX_TEXT:
        raise _Decline
    joined = _SEPARATOR.join(values)
    if not (joined.isascii() and joined.isprintable()) or joined[0] == " " or joined[-1] == " " \
            or " " + _SEPARATOR in joined or _SEPARATOR + " " in joined:
        raise _Decline


def _whole(values: list, *, minimum: int, given: bool) -> list:
    """Whole numbers as JSON numbers (never true/false) from minimum to MAX_QUANTITY; absent reads as 0 unless
    the field is required (given)."""
    if None in values:
        if given:
            raise _Decline
        values = [0 if v is None else v for v in values]
    if set(map(type, values)) != {int} or min(values) < minimum or max(values) > MAX_QUANTITY:
        raise _Decline
    return values


def _flags(values: list) -> list:
    if not set(map(type, values)) <= _FLAG_OR_NONE:
        raise _Decline
    return [v is True for v in values] if None in values else values


def _minor_lines(values: list, ids: list[str], majors: list) -> list[tuple[str, str, str, int]]:
    """Each license's minor lines: a list of {line, pid, quantity}, lines unique, each under the major line."""
    if None in values:
        values = [[] if v is None else v for v in values]
    if set(map(type, values)) != {list}:
        raise _Decline
    counts = list(map(len, values))
    items = list(chain.from_iterable(values))
    if not items:
        return []
    if set(map(type, items)) != {dict} or not all(map(MINOR_KEYS.issuperset, items)):
        raise _Decline
    lines = [item.get("line") for item in items]
    pids = [item.get("pid") for item in items]
    quantities = _whole([item.get("quantity") for item in items], minimum=1, given=True)
    _clean(lines)
    _clean(pids)
    owners = list(chain.from_iterable(map(repeat, ids, counts)))
    if len(set(zip(owners, lines))) != len(lines):
        raise _Decline  # a line twice in one license
    prefixes = chain.from_iterable(map(repeat, ("" if m is None else m + "." for m in majors), counts))
    if not all(map(str.startswith, lines, prefixes)):
        raise _Decline
    return list(zip(owners, lines, pids, quantities))
