"""R5 (which assets may move) and R13 (what a move means for the user), as pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from atm.domain.model import Asset, Device, License


class Reason(str, Enum):
    """Why an asset may not be transferred (R5). The value is the stable code."""

    NOT_IN_SOURCE = "not_in_source"
    NOT_IN_SOURCE_VA = "not_in_source_va"
    ALREADY_IN_TARGET = "already_in_target"
    ENTERPRISE_AGREEMENT = "enterprise_agreement"
    SSM_ONPREM_DEVICE = "ssm_onprem_device"
    PENDING_UPGRADE = "pending_upgrade"
    IN_ACTIVE_TRANSACTION = "in_active_transaction"
    NOT_FOUND = "not_found"

    @property
    def label(self) -> str:
        """A few words for a table column."""
        return _LABELS[self]


_LABELS = {
    Reason.NOT_IN_SOURCE: "not in source SA",
    Reason.NOT_IN_SOURCE_VA: "not in source VA",
    Reason.ALREADY_IN_TARGET: "already in target VA",
    Reason.ENTERPRISE_AGREEMENT: "EA-bound",
    Reason.SSM_ONPREM_DEVICE: "SSM On-Prem VA",
    Reason.PENDING_UPGRADE: "pending upgrade",
    Reason.IN_ACTIVE_TRANSACTION: "in a transaction",
    Reason.NOT_FOUND: "not found",
}


@dataclass(frozen=True, slots=True)
class Ineligibility:
    asset_id: str
    reason: Reason
    message: str
    transaction: str | None = None  # the unfinished transaction holding the asset, for IN_ACTIVE_TRANSACTION

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.message}"


@dataclass(frozen=True, slots=True)
class Place:
    """Where assets come from or go to: an SA, and a VA when one is named."""

    account: str
    virtual_account: str | None = None


def ineligibility(
    asset: Asset,
    *,
    in_ssm_onprem_va: bool,
    active_transaction: str | None,
    source: Place | None = None,
    target: Place | None = None,
) -> Ineligibility | None:
    """The first R5 reason that stops `asset` from moving from `source` to `target`, or None.

    Without a source and target only the asset's own state is judged (what
    `atm assets list --transferable` needs).
    """
    def refuse(reason: Reason, message: str) -> Ineligibility:
        return Ineligibility(asset.id, reason, message)

    if source is not None:
        if asset.account != source.account:
            return refuse(Reason.NOT_IN_SOURCE, f"does not belong to the source Smart Account {source.account}")
        if source.virtual_account is not None and asset.virtual_account != source.virtual_account:
            return refuse(
                Reason.NOT_IN_SOURCE_VA,
                f"is in virtual account {asset.virtual_account!r}, not the source {source.virtual_account!r}",
            )
    if target is not None and asset.account == target.account and asset.virtual_account == target.virtual_account:
        return refuse(Reason.ALREADY_IN_TARGET, f"is already in the target virtual account {target.virtual_account!r}")
    if isinstance(asset, License):
        if asset.enterprise_agreement:
            return refuse(Reason.ENTERPRISE_AGREEMENT, "is bound to an Enterprise Agreement")
        if asset.pending_upgrade:
            return refuse(Reason.PENDING_UPGRADE, "has a pending upgrade; complete the upgrade before the transfer")
    elif in_ssm_onprem_va:
        return refuse(
            Reason.SSM_ONPREM_DEVICE,
            f"is a device in the SSM On-Prem virtual account {asset.virtual_account!r}",
        )
    if active_transaction is not None:
        return Ineligibility(asset.id, Reason.IN_ACTIVE_TRANSACTION,
                             f"is already in transaction {active_transaction}, which has not ended",
                             transaction=active_transaction)
    return None


def not_found(asset_id: str, source_account: str) -> Ineligibility:
    """R5: an asset that is not in the source SA (or not visible) cannot be asked for."""
    return Ineligibility(asset_id, Reason.NOT_FOUND, f"no such asset in the source Smart Account {source_account}")


# --- R13: what a move means for the user ------------------------------------------------------------------

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
        return (f"{_plural(n, 'license is', 'licenses are')} in use and will be out of compliance at the source: "
                "the devices using them lose them (R13)")
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
