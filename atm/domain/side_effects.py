"""R13: what a move means for the user, as data and pure functions; and the notes a request carries (R4, R5).

The side effects are data (`R13`), so the same definition judges one asset here and a hundred thousand in SQL
(atm/storage/requests.py); a property test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass

from atm.domain.eligibility import Ineligibility, Reason
from atm.domain.model import Asset

WARNING_SAMPLE = 10  # asset ids kept per kind of warning; the count says how many there are


@dataclass(frozen=True, slots=True)
class Warning:
    """One kind of side effect (R13), or a note on the request (R4, R5): how many assets, and the first ids."""

    code: str
    message: str
    count: int = 0
    assets: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "count": self.count, "assets": list(self.assets)}

    @classmethod
    def from_dict(cls, data: dict | str) -> "Warning":
        if isinstance(data, str):  # transactions stored before warnings were grouped: one line each
            return cls("note", data)
        return cls(data["code"], data["message"], int(data.get("count") or 0), tuple(data.get("assets") or ()))


@dataclass(frozen=True, slots=True)
class SideEffect:
    """One R13 side effect, as data: which assets it concerns (their kind, and the field that must be set), so
    the same definition judges one asset here and a hundred thousand in SQL (atm/storage/transfers.py)."""

    code: str
    kind: str | None  # "license", "device", or None for both
    field: str | None  # an asset field that must be set (true, non-zero, non-empty); None: every asset of the kind
    per_item: bool  # carried by the item in items[].warning (the first that applies, in this order)


R13: tuple[SideEffect, ...] = (
    SideEffect("in_use", "license", "in_use", True),  # its devices fall out of compliance at the source
    SideEffect("cslu", "device", "cslu", True),  # its Smart Account must be set again in CSLU
    SideEffect("reserved", None, "reserved", True),  # the reservation (SLR/PLR) stays in the target
    SideEffect("no_reregistration", "device", None, False),  # devices move without re-registration
    SideEffect("pnp", "device", "pnp_status", False),  # PnP devices and licenses transfer independently
)


def applies(effect: SideEffect, asset: Asset) -> bool:
    if effect.kind is not None and asset.kind != effect.kind:
        return False
    return effect.field is None or bool(getattr(asset, effect.field))


def item_warning(asset: Asset) -> str | None:
    """The R13 code an item carries in `items[]`: the side effect a user must act on first for this asset."""
    return next((e.code for e in R13 if e.per_item and applies(e, asset)), None)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def r13_message(code: str, n: int, target_account: str) -> str:
    if code == "in_use":
        return f"{_plural(n, 'license is', 'licenses are')} in use and will be out of compliance at the source (R13)"
    if code == "reserved":
        return f"{_plural(n, 'asset is', 'assets are')} reserved (SLR/PLR); the reservation stays in {target_account} (R13)"
    if code == "cslu":
        return (f"{_plural(n, 'device is', 'devices are')} registered through CSLU: after the transfer, set the Smart "
                f"Account to {target_account} in the CSLU preferences (R13)")
    if code == "no_reregistration":
        return f"{_plural(n, 'device moves', 'devices move')} without re-registration (R13)"
    if code == "pnp":
        return (f"{_plural(n, 'Plug and Play device', 'Plug and Play devices')}: PnP devices and licenses transfer "
                "independently; move their licenses separately if needed (R13)")
    raise ValueError(code)


def r13_warnings(found: dict[str, tuple[int, tuple[str, ...]]], target_account: str) -> list[Warning]:
    """One warning per side effect found: code -> (how many assets, the first ids)."""
    return [Warning(e.code, r13_message(e.code, found[e.code][0], target_account), found[e.code][0],
                    tuple(found[e.code][1][:WARNING_SAMPLE]))
            for e in R13 if found.get(e.code, (0,))[0]]


class WarningTally:
    """Counts the R13 side effects of the assets it is shown, keeping the first few ids of each kind."""

    def __init__(self, target_account: str) -> None:
        self.target_account = target_account
        self.found: dict[str, tuple[int, tuple[str, ...]]] = {}

    def add(self, asset: Asset) -> str | None:
        """Count `asset`'s side effects; return its own item warning code."""
        for effect in R13:
            if applies(effect, asset):
                n, first = self.found.get(effect.code, (0, ()))
                self.found[effect.code] = (n + 1, first + (asset.id,) if len(first) < WARNING_SAMPLE else first)
        return item_warning(asset)

    def warnings(self) -> list[Warning]:
        return r13_warnings(self.found, self.target_account)


def warnings_for(assets: list[Asset], *, target_account: str) -> list[Warning]:
    """The R13 side effects of moving `assets`, one entry per kind."""
    tally = WarningTally(target_account)
    for asset in assets:
        tally.add(asset)
    return tally.warnings()


def skipped_warnings(ineligible: list[Ineligibility]) -> list[Warning]:
    """R5 with --skip-ineligible: what was left out, one entry per reason."""
    groups: dict[Reason, list[Ineligibility]] = {}
    for i in ineligible:
        groups.setdefault(i.reason, []).append(i)
    return [Warning(f"skipped_{reason.value}",
                    f"{_plural(len(found), 'asset was', 'assets were')} left out: {_SKIP_WHY[reason]} (R5)",
                    len(found), tuple(i.asset_id for i in found[:WARNING_SAMPLE]))
            for reason, found in groups.items()]


_SKIP_WHY = {
    Reason.NOT_IN_SOURCE: "not in the source Smart Account",
    Reason.NOT_IN_SOURCE_VA: "not in the source virtual account",
    Reason.ALREADY_IN_TARGET: "already in the target virtual account",
    Reason.ENTERPRISE_AGREEMENT: "bound to an Enterprise Agreement",
    Reason.SSM_ONPREM_DEVICE: "a device in an SSM On-Prem virtual account",
    Reason.PENDING_UPGRADE: "a pending upgrade",
    Reason.IN_ACTIVE_TRANSACTION: "already in a transaction that has not ended",
    Reason.NOT_FOUND: "no such asset in the source Smart Account",
}
