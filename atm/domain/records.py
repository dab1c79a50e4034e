"""Turn untrusted import records (SPEC section 5) into domain values, or say exactly what is wrong.

Every record is hostile until proven otherwise: unknown keys are refused by
name, text is bounded and free of control characters, numbers are whole and
in range, flags are flags. The parsers raise `FieldProblem`; the caller knows
where the record sits in its file and wraps it into `InvalidRecord`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from atm.domain.model import (
    DEFAULT_VA, Device, License, MinorLine, SmartAccount, User, VirtualAccount, license_id,
)

MAX_TEXT = 256
MAX_QUANTITY = 10**12
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters and lone surrogates
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


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An imported Smart Account with the roles the file gives on it."""

    account: SmartAccount
    admins: tuple[str, ...]
    users: tuple[str, ...]


# --- field converters --------------------------------------------------------


def has_control_characters(text: str) -> bool:
    """Control characters or lone surrogates (undecodable bytes): never part of a name or an id."""
    return _CONTROL.search(text) is not None


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
    if not isinstance(rec, dict):
        raise FieldProblem(None, f"must be an object, got {type(rec).__name__}")
    extra = rec.keys() - allowed
    if extra:
        name = sorted(map(str, extra))[0]
        raise FieldProblem(name, f"unknown field (allowed: {', '.join(sorted(allowed))})")
    return rec


def normalize_domain(value: str) -> str:
    return value.strip().lower()


def normalize_user_id(value: str) -> str:
    return value.strip().lower()


def _domain(rec: dict, key: str) -> str:
    value = normalize_domain(_text(rec, key, required=True))
    if not _DOMAIN.match(value):
        raise FieldProblem(key, f"{value!r} is not a domain like acme.com")
    return value


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


def parse_user(rec: object) -> User:
    rec = _unknown_keys(rec, USER_KEYS)
    uid = _user_id(rec.get("id"), "id") if rec.get("id") is not None else None
    if uid is None:
        raise FieldProblem("id", "is required")
    return User(id=uid, name=_text(rec, "name") or uid, compliance=_flag(rec, "compliance"))


def parse_account(rec: object) -> AccountRecord:
    rec = _unknown_keys(rec, ACCOUNT_KEYS)
    domain = _domain(rec, "domain")
    name = _text(rec, "name", required=True)
    legal_entity = _text(rec, "legal_entity") or name
    vas: dict[str, VirtualAccount] = {DEFAULT_VA: VirtualAccount(DEFAULT_VA)}
    raw_vas = rec.get("virtual_accounts") or []
    if not isinstance(raw_vas, list):
        raise FieldProblem("virtual_accounts", "must be a list")
    for i, item in enumerate(raw_vas):
        try:
            item = _unknown_keys(item, VA_KEYS)
            va = VirtualAccount(_text(item, "name", required=True), _flag(item, "ssm_onprem"))
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
    return AccountRecord(SmartAccount(domain, name, legal_entity, tuple(vas.values())), admins, users)


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
        if major is not None and not minor.line.startswith(major + "."):
            raise FieldProblem(f"minor_lines[{i}].line", f"{minor.line!r} is not a minor line of line {major}")
        if minor.line in seen:
            raise FieldProblem(f"minor_lines[{i}].line", f"{minor.line!r} is listed twice")
        seen.add(minor.line)
        out.append(minor)
    return tuple(out)


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


def parse_license(rec: object) -> License:
    rec = _unknown_keys(rec, LICENSE_KEYS)
    sales_order = _text(rec, "sales_order")
    line = _text(rec, "line")
    asset_id = _text(rec, "id")
    if asset_id is None:
        if sales_order is None or line is None:
            raise FieldProblem("id", "is required (or give sales_order and line)")
        asset_id = license_id(sales_order, line)
    quantity = _whole(rec, "quantity", minimum=1)
    in_use = _whole(rec, "in_use", default=0)
    if in_use > quantity:
        raise FieldProblem("in_use", f"{in_use} is more than the quantity {quantity}")
    return License(
        id=asset_id,
        account=_domain(rec, "account"),
        virtual_account=_text(rec, "virtual_account") or DEFAULT_VA,
        pid=_text(rec, "pid", required=True),
        quantity=quantity,
        sales_order=sales_order,
        line=line,
        web_order=_text(rec, "web_order"),
        subscription_id=_text(rec, "subscription_id"),
        pak=_text(rec, "pak"),
        license_type=_text(rec, "license_type"),
        in_use=in_use,
        enterprise_agreement=_flag(rec, "enterprise_agreement"),
        reserved=_flag(rec, "reserved"),
        pending_upgrade=_flag(rec, "pending_upgrade"),
        minor_lines=_minor_lines(rec, line),
    )


def parse_device(rec: object) -> Device:
    rec = _unknown_keys(rec, DEVICE_KEYS)
    # Serial numbers are case-insensitive: one device, one spelling (it is also the default id).
    serial = _text(rec, "serial_number", required=True).upper()
    return Device(
        id=_text(rec, "id") or serial,
        serial_number=serial,
        pid=_text(rec, "pid", required=True),
        account=_domain(rec, "account"),
        virtual_account=_text(rec, "virtual_account") or DEFAULT_VA,
        host_id=_text(rec, "host_id"),
        uuid=_text(rec, "uuid"),
        license_type=_text(rec, "license_type"),
        pnp_status=_text(rec, "pnp_status"),
        sales_order=_text(rec, "sales_order"),
        cslu=_flag(rec, "cslu"),
        reserved=_flag(rec, "reserved"),
    )
