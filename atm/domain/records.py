"""Turn untrusted import records (docs/import.md) into domain values, or say exactly what is wrong.

Every record is hostile until proven otherwise: unknown keys are refused by
name, text is bounded and free of control characters, numbers are whole and
in range, flags are flags. The parsers raise `FieldProblem`; the caller knows
where the record sits in its file and wraps it into `InvalidRecord`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from atm.domain.text import _CONTROL, normalize_domain, normalize_user_id
from atm.domain.model import (
    DEFAULT_VA, Asset, Device, License, MinorLine, SmartAccount, VirtualAccount, license_id,
)

MAX_TEXT = 256
MAX_QUANTITY = 10**12
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})

USER_KEYS = frozenset({"id", "name", "compliance"})
ACCOUNT_KEYS = frozenset({"domain", "name", "legal_entity", "virtual_accounts", "admins", "users"})
VA_KEYS = frozenset({"name", "ssm_onprem"})
MINOR_KEYS = frozenset({"line", "pid", "quantity"})
LICENSE_KEYS = frozenset({
    "id", "account", "virtual_account", "sales_order", "line", "pid", "quantity", "web_order",
    "subscription_id", "pak", "license_type", "in_use", "enterprise_agreement", "reserved",
    "pending_upgrade", "minor_lines",
})
DEVICE_KEYS = frozenset({
    "id", "serial_number", "pid", "host_id", "uuid", "account", "virtual_account", "license_type",
    "pnp_status", "sales_order", "cslu", "reserved",
})


class FieldProblem(ValueError):
    """One field of one record is wrong."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


# --- field converters --------------------------------------------------------


def _text(rec: dict, key: str, *, required: bool = False) -> str | None:
    value = rec.get(key)
    # Fast path for the common case, clean printable ASCII (a million records go through here).
    if value.__class__ is str and value.isascii() and value.isprintable() and 0 < len(value) <= MAX_TEXT \
            and value[0] != " " and value[-1] != " ":
        return value
    if value is None or value == "":
        if required:
            raise FieldProblem(key, "is required")
        return None
    if isinstance(value, bool):
        raise FieldProblem(key, f"must be text, got {value!r}")
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float):
        if not value.is_integer():
            raise FieldProblem(key, f"must be text, got {value!r}")
        value = str(int(value))
    elif not isinstance(value, str):
        raise FieldProblem(key, f"must be text, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise FieldProblem(key, f"is longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise FieldProblem(key, "contains a control character or invalid Unicode")
    value = value.strip()
    if not value:
        if required:
            raise FieldProblem(key, "is required")
        return None
    return value


def _whole(rec: dict, key: str, *, default: int | None = None, minimum: int = 0) -> int:
    value = rec.get(key)
    if value.__class__ is int and minimum <= value <= MAX_QUANTITY:  # the common case (not a bool: its class differs)
        return value
    if value is None or value == "":
        if default is None:
            raise FieldProblem(key, "is required")
        return default
    if isinstance(value, bool):
        raise FieldProblem(key, f"must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise FieldProblem(key, f"must be a whole number, got {value!r}")
    if value < minimum or value > MAX_QUANTITY:
        raise FieldProblem(key, f"must be between {minimum} and {MAX_QUANTITY}, got {value}")
    return value


def _flag(rec: dict, key: str) -> bool:
    value = rec.get(key)
    if value is None or value is False or value is True:
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FieldProblem(key, f"must be true or false, got {value!r}")


def _unknown_keys(rec: object, allowed: frozenset[str]) -> dict:
    if rec.__class__ is dict and rec.keys() <= allowed:  # the common case, without building a set
        return rec
    if not isinstance(rec, dict):
        raise FieldProblem(None, f"must be an object, got {type(rec).__name__}")
    extra = rec.keys() - allowed
    if extra:
        name = sorted(map(str, extra))[0]
        raise FieldProblem(name, f"unknown field (allowed: {', '.join(sorted(allowed))})")
    return rec


def _domain(rec: dict, key: str) -> str:
    text = _text(rec, key, required=True)
    value = normalize_domain(text)
    # ASCII before lower-casing too: the Kelvin sign (U+212A) lower-cases to an ASCII "k".
    if not text.isascii() or not _DOMAIN.match(value):
        raise FieldProblem(key, f"{value if text.isascii() else text.strip()!r} is not a domain like acme.com")
    return value


def domain(value: object) -> str:
    """An account domain as a file gives it, in its normal form; FieldProblem if it is not a domain."""
    return _domain({"account": value}, "account")


def _user_id(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise FieldProblem(key, f"must be a user id (an e-mail address), got {value!r}")
    text = _text({key: value}, key, required=True)
    if "@" not in text or any(c.isspace() for c in text):
        raise FieldProblem(key, f"{text!r} is not a user id (an e-mail address)")
    return normalize_user_id(text)


def _user_list(rec: dict, key: str) -> tuple[str, ...]:
    value = rec.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldProblem(key, "must be a list of user ids")
    return tuple(dict.fromkeys(_user_id(item, f"{key}[{i}]") for i, item in enumerate(value)))


# --- records -----------------------------------------------------------------
#
# A re-import merges (see docs/import.md): a record sets only the fields it carries. A field that is absent, or
# null, keeps its stored value, so a partial record can never clear a rule flag (R5) or the minor lines; an
# empty string clears an optional text field. A new record needs the required fields.


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    name: str | None = None  # None: not given
    compliance: bool | None = None


@dataclass(frozen=True, slots=True)
class VirtualAccountRecord:
    name: str
    ssm_onprem: bool | None = None  # None: not given (a new VA is not SSM On-Prem)


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An imported Smart Account with the roles the file gives on it."""

    domain: str
    name: str | None
    legal_entity: str | None
    virtual_accounts: tuple[VirtualAccountRecord, ...]
    admins: tuple[str, ...]
    users: tuple[str, ...]

    def new_account(self) -> SmartAccount:
        """The account this record creates; a new account needs a name (its legal entity defaults to it)."""
        if self.name is None:
            raise FieldProblem("name", "is required for a new Smart Account")
        return SmartAccount(self.domain, self.name, self.legal_entity or self.name,
                            tuple(VirtualAccount(va.name, bool(va.ssm_onprem)) for va in self.virtual_accounts))


@dataclass(frozen=True, slots=True)
class AssetRecord:
    """A license or device as a file gives it: only the fields it carries."""

    kind: str  # "license" or "device"
    id: str  # as given, else SO<order>-<line> for a license, the serial number for a device
    explicit_id: bool
    fields: dict  # field name -> checked value, for the fields present (not id, not minor_lines)
    minor_lines: tuple[MinorLine, ...] | None = None  # None: not given

    @property
    def natural_key(self) -> tuple | None:
        """What identifies the asset in the real world: its serial, or its sales order and line."""
        if self.kind == "device":
            serial = self.fields.get("serial_number")
            return ("serial", serial) if serial else None
        so, line = self.fields.get("sales_order"), self.fields.get("line")
        return ("line", so, line) if so and line else None


def parse_user(rec: object) -> UserRecord:
    rec = _unknown_keys(rec, USER_KEYS)
    if rec.get("id") is None:
        raise FieldProblem("id", "is required")
    uid = _user_id(rec.get("id"), "id")
    compliance = _flag(rec, "compliance") if _given(rec, "compliance") else None
    return UserRecord(uid, _text(rec, "name"), compliance)


def parse_account(rec: object) -> AccountRecord:
    rec = _unknown_keys(rec, ACCOUNT_KEYS)
    domain = _domain(rec, "domain")
    vas: dict[str, VirtualAccountRecord] = {DEFAULT_VA: VirtualAccountRecord(DEFAULT_VA)}
    raw_vas = rec.get("virtual_accounts") or []
    if not isinstance(raw_vas, list):
        raise FieldProblem("virtual_accounts", "must be a list")
    for i, item in enumerate(raw_vas):
        try:
            item = _unknown_keys(item, VA_KEYS)
            va = VirtualAccountRecord(_text(item, "name", required=True),
                                      _flag(item, "ssm_onprem") if _given(item, "ssm_onprem") else None)
        except FieldProblem as e:
            raise FieldProblem(f"virtual_accounts[{i}].{e.field}" if e.field else f"virtual_accounts[{i}]", e.problem)
        if va.name in vas and va.name != DEFAULT_VA:
            raise FieldProblem(f"virtual_accounts[{i}].name", f"{va.name!r} is listed twice")
        vas[va.name] = va
    admins = _user_list(rec, "admins")
    users = _user_list(rec, "users")
    both = sorted(set(admins) & set(users))
    if both:
        raise FieldProblem("users", f"{both[0]} is listed under both admins and users")
    return AccountRecord(domain, _text(rec, "name"), _text(rec, "legal_entity"), tuple(vas.values()), admins, users)


def _minor_lines(rec: dict, major: str | None) -> tuple[MinorLine, ...]:
    value = rec.get("minor_lines")
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = _parse_minor_text(value)
    if not isinstance(value, list):
        raise FieldProblem("minor_lines", "must be a list of {line, pid, quantity}")
    out: list[MinorLine] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        try:
            item = _unknown_keys(item, MINOR_KEYS)
            minor = MinorLine(_text(item, "line", required=True), _text(item, "pid", required=True),
                              _whole(item, "quantity", minimum=1))
        except FieldProblem as e:
            raise FieldProblem(f"minor_lines[{i}].{e.field}" if e.field else f"minor_lines[{i}]", e.problem)
        if minor.line in seen:
            raise FieldProblem(f"minor_lines[{i}].line", f"{minor.line!r} is listed twice")
        seen.add(minor.line)
        out.append(minor)
    if major is not None:
        _check_minor_lines(out, major)
    return tuple(out)


def _check_minor_lines(minor_lines, major: str) -> None:
    for i, minor in enumerate(minor_lines):
        if not minor.line.startswith(major + "."):
            raise FieldProblem(f"minor_lines[{i}].line", f"{minor.line!r} is not a minor line of line {major}")


def _parse_minor_text(text: str) -> list[dict]:
    """CSV/XLSX cells write minor lines as `1.1:PID:QTY;1.4:PID:QTY`."""
    out = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        pieces = part.split(":")
        if len(pieces) != 3:
            raise FieldProblem("minor_lines", f"{part!r} is not LINE:PID:QUANTITY")
        out.append({"line": pieces[0], "pid": pieces[1], "quantity": pieces[2]})
    return out


def _given(rec: dict, key: str) -> bool:
    """Absent, null and blank are the same for a flag, a number or a place: not given, so the stored value stays
    (a blank flag must never read as false and loosen a rule, R5)."""
    value = rec.get(key)
    return value is not None and not (value.__class__ is str and not value.strip())


_NOT_GIVEN = object()


def _optional_text(rec: dict, key: str) -> object:
    return _NOT_GIVEN if rec[key] is None else _text(rec, key)  # "" clears an optional text field


def _required_text(rec: dict, key: str) -> object:
    return _text(rec, key, required=True) if _given(rec, key) else _NOT_GIVEN


def _place_text(rec: dict, key: str) -> object:
    return (_text(rec, key) or _NOT_GIVEN) if _given(rec, key) else _NOT_GIVEN


# Account domains already checked, as given -> normal form: a million records name a handful of accounts.
_CHECKED_DOMAINS: dict[str, str] = {}
_CHECKED_DOMAINS_MAX = 4096


def _account_domain(rec: dict, key: str) -> object:
    value = rec.get(key)
    known = _CHECKED_DOMAINS.get(value) if value.__class__ is str else None
    if known is not None:
        return known
    if not _given(rec, key):
        return _NOT_GIVEN
    domain = _domain(rec, key)
    if value.__class__ is str and len(_CHECKED_DOMAINS) < _CHECKED_DOMAINS_MAX:
        _CHECKED_DOMAINS[value] = domain
    return domain


def _given_flag(rec: dict, key: str) -> object:
    return _flag(rec, key) if _given(rec, key) else _NOT_GIVEN


def _quantity(rec: dict, key: str) -> object:
    return _whole(rec, key, minimum=1) if _given(rec, key) else _NOT_GIVEN


def _count(rec: dict, key: str) -> object:
    return _whole(rec, key, default=0) if _given(rec, key) else _NOT_GIVEN


# How each field of a record is read; one pass over what the record carries (a million records go through here).
_COMMON_FIELDS = {"pid": _required_text, "account": _account_domain, "virtual_account": _place_text,
                  "license_type": _optional_text, "sales_order": _optional_text, "reserved": _given_flag}
_LICENSE_FIELDS = dict(_COMMON_FIELDS, line=_optional_text, web_order=_optional_text,
                       subscription_id=_optional_text, pak=_optional_text, quantity=_quantity, in_use=_count,
                       enterprise_agreement=_given_flag, pending_upgrade=_given_flag)
_DEVICE_FIELDS = dict(_COMMON_FIELDS, serial_number=_required_text, host_id=_optional_text, uuid=_optional_text,
                      pnp_status=_optional_text, cslu=_given_flag)


_PLAIN_TEXT = frozenset({_optional_text, _required_text, _place_text})


def _fields(rec: dict, readers: dict) -> dict:
    fields = {}
    for key, value in rec.items():
        read = readers.get(key)
        if read is None:
            continue
        # Fast paths for the common cases (clean ASCII text, a JSON true/false, a whole number in range); anything
        # else goes through the field's reader, which knows every rule.
        cls = value.__class__
        if cls is str:
            if read in _PLAIN_TEXT and 0 < len(value) <= MAX_TEXT and value.isascii() and value.isprintable() \
                    and value[0] != " " and value[-1] != " ":
                fields[key] = value
                continue
        elif cls is bool:
            if read is _given_flag:
                fields[key] = value
                continue
        elif cls is int:
            if (read is _count and 0 <= value <= MAX_QUANTITY) or (read is _quantity and 1 <= value <= MAX_QUANTITY):
                fields[key] = value
                continue
        value = read(rec, key)
        if value is not _NOT_GIVEN:
            fields[key] = value
    return fields


def parse_license(rec: object) -> AssetRecord:
    rec = _unknown_keys(rec, LICENSE_KEYS)
    fields = _fields(rec, _LICENSE_FIELDS)
    if "in_use" in fields and "quantity" in fields and fields["in_use"] > fields["quantity"]:
        raise FieldProblem("in_use", f"{fields['in_use']} is more than the quantity {fields['quantity']}")
    asset_id = _text(rec, "id")
    explicit = asset_id is not None
    if asset_id is None:
        if not (fields.get("sales_order") and fields.get("line")):
            raise FieldProblem("id", "is required (or give sales_order and line)")
        asset_id = license_id(fields["sales_order"], fields["line"])
    minor = _minor_lines(rec, fields.get("line")) if _given(rec, "minor_lines") else None
    return AssetRecord("license", asset_id, explicit, fields, minor)


def parse_device(rec: object) -> AssetRecord:
    rec = _unknown_keys(rec, DEVICE_KEYS)
    fields = _fields(rec, _DEVICE_FIELDS)
    if "serial_number" in fields:
        # Serial numbers are case-insensitive: one device, one spelling (it is also the default id).
        fields["serial_number"] = fields["serial_number"].upper()
    asset_id = _text(rec, "id")
    explicit = asset_id is not None
    if asset_id is None:
        if "serial_number" not in fields:
            raise FieldProblem("serial_number", "is required")
        asset_id = fields["serial_number"]
    return AssetRecord("device", asset_id, explicit, fields)


# --- merging a record into what is stored -------------------------------------------

_REQUIRED = {"license": ("account", "pid", "quantity"), "device": ("serial_number", "pid", "account")}
LOCATION = ("account", "virtual_account")
RULE_FLAGS = ("enterprise_agreement", "pending_upgrade")  # the asset flags R5 reads


def new_asset(record: AssetRecord) -> Asset:
    """The asset a record creates: every required field given, the rest defaulted."""
    for key in _REQUIRED[record.kind]:
        if key not in record.fields:
            raise FieldProblem(key, f"is required for a new {record.kind}")
    f = record.fields
    if record.kind == "license":
        asset = License(
            id=record.id, account=f["account"], virtual_account=f.get("virtual_account", DEFAULT_VA), pid=f["pid"],
            quantity=f["quantity"], sales_order=f.get("sales_order"), line=f.get("line"),
            web_order=f.get("web_order"), subscription_id=f.get("subscription_id"), pak=f.get("pak"),
            license_type=f.get("license_type"), in_use=f.get("in_use", 0),
            enterprise_agreement=f.get("enterprise_agreement", False), reserved=f.get("reserved", False),
            pending_upgrade=f.get("pending_upgrade", False), minor_lines=record.minor_lines or (),
        )
        _check_license(asset, record)
        return asset
    return Device(
        id=record.id, serial_number=f["serial_number"], pid=f["pid"], account=f["account"],
        virtual_account=f.get("virtual_account", DEFAULT_VA), host_id=f.get("host_id"), uuid=f.get("uuid"),
        license_type=f.get("license_type"), pnp_status=f.get("pnp_status"), sales_order=f.get("sales_order"),
        cslu=f.get("cslu", False), reserved=f.get("reserved", False),
    )


@dataclass(frozen=True, slots=True)
class Merge:
    asset: Asset  # the stored asset with the record's fields set
    location_kept: bool  # the record placed it elsewhere; the stored place stays (an import never moves)
    tightened: bool  # a rule flag (R5) went from false to true


def merge_asset(stored: Asset, record: AssetRecord) -> Merge:
    """Set on `stored` the fields `record` carries, except its place: an import never moves an asset."""
    if stored.kind != record.kind:
        raise FieldProblem("id", f"{stored.id!r} already exists as a {stored.kind}")
    changes = {k: v for k, v in record.fields.items() if k not in LOCATION}
    if record.minor_lines is not None:
        changes["minor_lines"] = record.minor_lines
    merged = replace(stored, **changes)
    kept = any(k in record.fields and record.fields[k] != getattr(stored, k) for k in LOCATION)
    tightened = any(getattr(merged, k, False) and not getattr(stored, k, False) for k in RULE_FLAGS)
    if isinstance(merged, License):
        _check_license(merged, record)
    return Merge(merged, kept, tightened)


def _check_license(asset: License, record: AssetRecord) -> None:
    if asset.in_use > asset.quantity:
        field_name = "in_use" if "in_use" in record.fields else "quantity"
        raise FieldProblem(field_name, f"{asset.in_use} in use is more than the quantity {asset.quantity}")
    if record.minor_lines and "line" not in record.fields and asset.line is not None:
        _check_minor_lines(record.minor_lines, asset.line)
