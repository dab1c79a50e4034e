"""R5: which assets may move, as pure functions (R13, what a move means for the user, is in side_effects)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from atm.domain.model import Asset, License


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
