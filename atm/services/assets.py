"""Listing the assets of a Smart Account, with the R5 verdict for each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from atm.domain.eligibility import Ineligibility, Reason, ineligibility
from atm.domain.errors import InvalidInput
from atm.domain.model import Asset
from atm.services.accounts import acting_user, virtual_account, visible_account
from atm.services.unit_of_work import UnitOfWork
from atm.storage.assets import FILTER_COLUMNS, AssetFilter


@dataclass(frozen=True)
class AssetQuery:
    """What `atm assets list` asks for, as plain values."""

    account: str
    virtual_account: str | None = None
    kind: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    search: str | None = None
    transferable: bool = False
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class ListedAsset:
    asset: Asset
    ineligible: Ineligibility | None


def list_assets(uow: UnitOfWork, user_id: str | None, query: AssetQuery,
                hidden: dict[Reason, int] | None = None) -> Iterator[ListedAsset]:
    """Yield the matching assets; with `transferable`, only those R5 lets move.

    `hidden`, when given, counts what `transferable` left out, by R5 reason, as the listing streams (it is
    complete once the iterator is exhausted; with a limit, it covers the assets looked at).
    """
    unknown = set(query.filters) - set(FILTER_COLUMNS)
    if unknown:
        raise InvalidInput(f"unknown asset filter {sorted(unknown)[0]!r}")
    if query.limit is not None and query.limit < 0:
        raise InvalidInput("--limit must be 0 or more")
    with uow.read():
        user = acting_user(uow, user_id)
        account, _ = visible_account(uow, user, query.account)
        va = virtual_account(account, query.virtual_account) if query.virtual_account else None
        ssm = {v.name for v in account.virtual_accounts if v.ssm_onprem}
        flt = AssetFilter(
            account=account.domain,
            virtual_account=va.name if va else None,
            kind=query.kind,
            exact=tuple((k, v) for k, v in query.filters.items() if v is not None),
            search=query.search or None,
        )
        # With --transferable the limit counts what is shown, so it is applied here.
        sql_limit = None if query.transferable else query.limit
        shown = 0
        for chunk in uow.assets.iter_matching(flt, limit=sql_limit):
            active = uow.assets.active_transactions([a.id for a in chunk])
            for asset in chunk:
                verdict = ineligibility(
                    asset,
                    in_ssm_onprem_va=asset.virtual_account in ssm,
                    active_transaction=active.get(asset.id),
                )
                if query.transferable and verdict is not None:
                    if hidden is not None:
                        hidden[verdict.reason] = hidden.get(verdict.reason, 0) + 1
                    continue
                yield ListedAsset(asset, verdict)
                shown += 1
                if query.limit is not None and shown >= query.limit:
                    return
