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
from itertools import chain, islice, repeat
from operator import itemgetter, le
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from atm.domain.model import DEFAULT_VA, LICENSE_ID, MinorLine, license_id
from atm.domain.records import (
    DEVICE_KEYS, LICENSE_KEYS, MAX_QUANTITY, MAX_TEXT, MINOR_KEYS, AssetRecord, FieldProblem, domain,
)

BATCH = 2000  # records checked at once (and rows an import writes at once)

_NONE = type(None)
_TEXT = frozenset({str})
_FLAG_OR_NONE = frozenset({bool, _NONE})
_SEPARATOR = "|"  # printable ASCII: it cannot hide a bad character, at worst it declines a clean batch

# Fields by how they are read (see `_COMMON_FIELDS` and its kin in records.py); every other key is refused.
_LICENSE_TEXT = ("sales_order", "line", "web_order", "subscription_id", "pak", "license_type")
_LICENSE_FLAGS = ("enterprise_agreement", "reserved", "pending_upgrade")
_DEVICE_TEXT = ("host_id", "uuid", "license_type", "pnp_status", "sales_order")
_DEVICE_FLAGS = ("cslu", "reserved")
# Fields whose values repeat across records (orders, lines, types): checked once per distinct value.
_REPEATING = frozenset({"sales_order", "line", "web_order", "license_type", "pnp_status"})
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
    minor_counts: list[int]  # how many of those each license has, in order (licenses only)

    def records(self) -> list[AssetRecord]:
        """The batch as records again, each with every field of its asset: for the record-by-record path,
        when an id or a key of the batch was met before (it then says where)."""
        columns = list(self.columns.items())
        minor = iter(self.minor_lines)
        out = []
        for i, asset_id in enumerate(self.ids):
            fields = {name: values[i] for name, values in columns if values[i] is not None}
            lines = None
            if self.kind == "license":
                lines = tuple(MinorLine(line, pid, quantity)
                              for _, line, pid, quantity in islice(minor, self.minor_counts[i]))
            out.append(AssetRecord(self.kind, asset_id, True, fields, lines))
        return out

    def as_message(self) -> tuple:
        """Plain values only (for marshal, between the reading and the writing process)."""
        return (self.kind, self.ids, self.columns, self.natural_keys, self.minor_lines, self.minor_counts)


def in_batches(records: Iterable[tuple[str, int, object]],
               checks: Mapping[str, Callable[[list], NewAssets | None]]) -> Iterator[tuple]:
    """The `(section, position, record)` of a file in file order, the records of each section in `checks` taken
    BATCH at a time: yields `(section, [positions], NewAssets)` for a batch its check took, and each record of
    a batch it declined, and of any other section, as it came. What is pending when `records` raises is never
    yielded, as a file that breaks there is refused whole anyway."""
    section, pending = "", []
    for key, position, record in records:
        if pending and key != section:
            yield from _checked(section, pending, checks)
            pending = []
        if key in checks:
            section = key
            pending.append((position, record))
            if len(pending) >= BATCH:
                yield from _checked(section, pending, checks)
                pending = []
        else:
            yield key, position, record
    if pending:
        yield from _checked(section, pending, checks)


def _checked(section: str, pending: list, checks: Mapping[str, Callable]) -> Iterator[tuple]:
    batch = checks[section]([record for _, record in pending])
    if batch is None:
        for position, record in pending:
            yield section, position, record
    else:
        yield section, [position for position, _ in pending], batch


def new_licenses(raws: Sequence[object]) -> NewAssets | None:
    """The new licenses these import records create, or None if any record is not ordinary."""
    try:
        columns = _columns(raws, LICENSE_KEYS, _LICENSE_ORDER)
        for name in _LICENSE_TEXT:
            columns[name] = _optional_text(columns[name], few=name in _REPEATING)
        so, line = columns["sales_order"], columns["line"]
        quantity = columns["quantity"]
        _whole(quantity, minimum=1, given=True)
        in_use = columns["in_use"] = _whole(columns["in_use"], minimum=0, given=False)
        if not all(map(le, in_use, quantity)):
            raise _Decline
        ids = _ids(columns.pop("id"))
        if None in so or None in line:
            keyed = [s is not None and n is not None for s, n in zip(so, line)]
            if None in ids and not all(i is not None or k for i, k in zip(ids, keyed)):
                raise _Decline  # no id, and no sales order and line to name it by
            named = [license_id(s, n) if k else None for s, n, k in zip(so, line, keyed)]
            natural = [n.lower() if n is not None else None for n in named]
        else:
            named = list(map(LICENSE_ID.format, so, line))
            natural = list(map(str.lower, named))
        if None in ids:
            ids = [n if i is None else i for i, n in zip(ids, named)]
        minor = _minor_lines(columns.pop("minor_lines"), ids, line)
        _common(columns)
        for name in _LICENSE_FLAGS:
            columns[name] = _flags(columns[name])
    except _Decline:
        return None
    return NewAssets("license", list(ids), columns, natural, *minor)


def new_devices(raws: Sequence[object]) -> NewAssets | None:
    """The new devices these import records create, or None if any record is not ordinary."""
    try:
        columns = _columns(raws, DEVICE_KEYS, _DEVICE_ORDER)
        for name in _DEVICE_TEXT:
            columns[name] = _optional_text(columns[name], few=name in _REPEATING)
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
    return NewAssets("device", list(ids), columns, natural, [], [])


# --- columns ------------------------------------------------------------------------------------


def _columns(raws: Sequence[object], allowed: frozenset[str], order: tuple[str, ...]) -> dict[str, Sequence]:
    """One column per field, None where a record leaves the field out; only plain objects with known keys."""
    if not raws or set(map(type, raws)) != {dict}:
        raise _Decline
    keys = raws[0].keys()
    if keys <= allowed and all(map(keys.__eq__, map(dict.keys, raws))):  # one set of keys: C-level lookups
        present = [key for key in order if key in keys]
        if len(present) < 2:
            raise _Decline  # no asset is named by fewer than two fields (and itemgetter would not give tuples)
        columns = dict(zip(present, zip(*map(itemgetter(*present), raws))))
        if len(present) < len(order):
            absent = (None,) * len(raws)
            for key in order:
                columns.setdefault(key, absent)
        return columns
    if not all(map(allowed.issuperset, raws)):
        raise _Decline
    return dict(zip(order, zip(*[tuple(map(raw.get, order)) for raw in raws])))


def _common(columns: dict[str, Sequence]) -> None:
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
    _clean(places, few=True)
    columns["pid"] = _required_text(columns["pid"], few=True)


def _ids(ids: Sequence) -> Sequence:
    """The ids given, None where a record gives none (an empty id is none: the record is named by its key)."""
    return _optional_text(ids)


def _required_text(values: Sequence, *, few: bool = False) -> Sequence:
    _clean(values, few=few)
    return values


def _optional_text(values: Sequence, *, few: bool = False) -> Sequence:
    """Text or nothing (None); an empty string clears the field, so it reads as None too."""
    if "" in values:
        values = [v if v != "" else None for v in values]
    given = [v for v in values if v is not None] if None in values else values
    if given:
        _clean(given, few=few)
    return values


def _clean(values: Sequence, *, few: bool = False) -> None:
    """Every value is text of 1 to MAX_TEXT printable ASCII characters, not starting or ending with a space:
    what records.py takes as it is, without converting or trimming. With `few` (a field whose values repeat:
    a product id, a place, a line number), each distinct value is checked once."""
    if few:
        try:
            values = set(values)
        except TypeError:  # a list or an object: not text
            raise _Decline from None
    if set(map(type, values)) != _TEXT or min(map(len, values)) < 1 or max(map(len, values)) > MAX_TEXT:
        raise _Decline
    joined = _SEPARATOR.join(values)
    if not (joined.isascii() and joined.isprintable()) or joined[0] == " " or joined[-1] == " " \
            or " " + _SEPARATOR in joined or _SEPARATOR + " " in joined:
        raise _Decline


def _whole(values: Sequence, *, minimum: int, given: bool) -> Sequence:
    """Whole numbers as JSON numbers (never true/false) from minimum to MAX_QUANTITY; absent reads as 0 unless
    the field is required (given)."""
    if None in values:
        if given:
            raise _Decline
        values = [0 if v is None else v for v in values]
    if set(map(type, values)) != {int} or min(values) < minimum or max(values) > MAX_QUANTITY:
        raise _Decline
    return values


def _flags(values: Sequence) -> Sequence:
    if not set(map(type, values)) <= _FLAG_OR_NONE:
        raise _Decline
    return [v is True for v in values] if None in values else values


def _minor_lines(values: Sequence, ids: Sequence[str], majors: Sequence) -> tuple[list, list[int]]:
    """Each license's minor lines, a list of {line, pid, quantity}, lines unique, each under the major line:
    (license id, line, pid, quantity) for them all, and how many each license has."""
    if None in values:
        values = [[] if v is None else v for v in values]
    if set(map(type, values)) != {list}:
        raise _Decline
    counts = list(map(len, values))
    items = list(chain.from_iterable(values))
    if not items:
        return [], counts
    if set(map(type, items)) != {dict} or not all(map(MINOR_KEYS.issuperset, items)):
        raise _Decline
    if set(map(len, items)) == {3}:  # every minor line names its line, pid and quantity
        lines, pids, quantities = zip(*map(itemgetter("line", "pid", "quantity"), items))
    else:
        lines, pids, quantities = ([item.get(key) for item in items] for key in ("line", "pid", "quantity"))
    quantities = _whole(quantities, minimum=1, given=True)
    _clean(lines, few=True)
    _clean(pids, few=True)
    owners = list(chain.from_iterable(map(repeat, ids, counts)))
    if len(set(zip(owners, lines))) != len(lines):
        raise _Decline  # a line twice in one license
    majors = map("{}.".format, majors) if None not in majors else ("" if m is None else m + "." for m in majors)
    prefixes = chain.from_iterable(map(repeat, majors, counts))
    if not all(map(str.startswith, lines, prefixes)):
        raise _Decline
    return list(zip(owners, lines, pids, quantities)), counts
