"""`atm status [TXN]`: the landing list, or one transaction's view."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json


def status(
    ctx: typer.Context,
    txn: Annotated[Optional[str], typer.Argument(metavar="[TXN]", help="A transaction id; without it, the list.",
                                                 show_default=False)] = None,
    account: Annotated[Optional[str], typer.Option("--account", metavar="SA",
                                                   help="Only transactions from or to this SA.")] = None,
    statuses: Annotated[Optional[list[str]], typer.Option("--status", metavar="STATUS",
                                                          help="Only this status (label or state code); "
                                                               "repeatable.")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="DATE",
                                                 help="Requested on or after (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[Optional[str], typer.Option("--until", metavar="DATE",
                                                 help="Requested on or before (YYYY-MM-DD, UTC).")] = None,
    initiator: Annotated[Optional[str], typer.Option("--initiator", metavar="USER",
                                                     help="Only transactions requested by this user.")] = None,
    expect: Annotated[Optional[str], typer.Option("--expect", metavar="STATUS",
                                                  help="Exit 1 unless the transaction has this status (CI).")] = None,
    all_items: Annotated[bool, typer.Option("--all-items", help="List every item in the table view.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, max=10**9, help="At most N transactions.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show the landing list, or a transaction: items, consents, form, warnings, timeline.

    Example: atm --as taro.yamada@acme.co.jp status ATM-7K3Q9-XW2MD --expect transfer_completed
    """
    from atm.commands import _render
    from atm.domain.errors import InvalidInput
    from atm.domain.transfer import Status, StatusMismatch
    from atm.services.views import LandingQuery, landing, view_transaction

    app = app_context(ctx)
    if txn is None:
        if expect:
            raise InvalidInput("--expect needs a transaction id: atm status TXN --expect STATUS")
        rows = landing(app.unit_of_work(), app.user_id, LandingQuery(
            account=account, statuses=tuple(statuses or ()), since=since, until=until, initiator=initiator,
            limit=limit))
        if json_out:
            emit_json([r.as_dict() for r in rows])
        else:
            _render.landing(rows)
        return
    wanted = None
    if expect:
        try:
            wanted = Status.parse(expect)
        except ValueError:
            raise InvalidInput(f"--expect: unknown status {expect!r}; use a label or a state code like "
                               "transfer_completed") from None
    from atm.commands._render import ITEM_ROWS

    view = view_transaction(app.unit_of_work(), app.user_id, txn,
                            item_limit=None if json_out or all_items else ITEM_ROWS)
    if json_out:
        emit_json(view.as_dict())
    else:
        _render.transaction(view, all_items=all_items)
    if wanted is not None and view.txn.status is not wanted:
        raise StatusMismatch(f"{view.txn.id} is {view.txn.status.label} ({view.txn.status.value}), "
                             f"expected {wanted.label} ({wanted.value})")
