"""`atm status [TXN]`: the landing list, or one transaction's view."""

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._filters import landing_filters
from atm.commands._output import ITEM_ROWS, JSON_HELP, WIDE_HELP, emit_json


LANDING = landing_filters()


def status(
    ctx: typer.Context,
    txn: Annotated[Optional[str], typer.Argument(metavar="TXN", help="A transaction id; without it, the list.",
                                                 show_default=False)] = None,
    account: LANDING["account"] = None,
    statuses: LANDING["statuses"] = None,
    since: LANDING["since"] = None,
    until: LANDING["until"] = None,
    initiator: LANDING["initiator"] = None,
    expect: Annotated[Optional[str], typer.Option("--expect", metavar="STATUS",
                                                  help="Exit 1 unless the transaction has this status (CI).")] = None,
    items: Annotated[Optional[str], typer.Option("--items", metavar="N|all",
                                                 help=f"Items of each kind to list (default {ITEM_ROWS}); "
                                                      "all lists every one.")] = None,
    all_items: Annotated[bool, typer.Option("--all-items", hidden=True, help="Same as --items all.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=1, max=10**9,
                                                 help="At most N transactions.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help=WIDE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show the landing list, or one transaction with its timeline.

    Without TXN: your transactions (id, source, target, dates, status). With TXN: the summary, warnings,
    consents, form, items grouped as licenses and devices, and the timeline with the next steps. In a pipe
    each list is tab-separated lines with a header (the items, for a transaction).

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      atm status --status transfer_completed
      T=$(atm status --status transfer_completed | sed -n 2p | cut -f1)
      atm status "$T" --items all
      atm status "$T" --expect transfer_completed
    """
    from atm.commands import _render
    from atm.commands._output import stdout_is_terminal
    from atm.domain.errors import InvalidInput
    from atm.domain.transfer import Status, StatusMismatch
    from atm.services.views import LandingQuery, landing, view_transaction

    app = app_context(ctx)
    people = stdout_is_terminal()
    if txn is None:
        if expect:
            raise InvalidInput("--expect needs a transaction id: atm status TXN --expect STATUS")
        rows = landing(app.unit_of_work(), app.user_id, LandingQuery(
            account=account, statuses=tuple(statuses or ()), since=since, until=until, initiator=initiator,
            limit=limit))
        if json_out:
            emit_json([r.as_dict() for r in rows])
        else:
            _render.landing(rows, wide=wide, people=people)
        return
    wanted = None
    if expect:
        try:
            wanted = Status.parse(expect)
        except ValueError:
            raise InvalidInput(f"--expect: unknown status {expect!r}; use a label or a state code like "
                               "transfer_completed") from None
    item_limit = None if json_out or all_items else item_count(items)
    if item_limit is None and not json_out:
        item_limit = EVERY_ITEM  # people and pipes get rows; --json streams every item instead
    view = view_transaction(app.unit_of_work(), app.user_id, txn, item_limit=item_limit)
    if json_out:
        emit_json(view.as_dict())
    elif people:
        _render.transaction(view, wide=wide)
    else:
        _render.transaction_tsv(view)
    if wanted is not None and view.txn.status is not wanted:
        raise StatusMismatch(f"{view.txn.id} is {view.txn.status.label} ({view.txn.status.value}), "
                             f"expected {wanted.label} ({wanted.value})")


EVERY_ITEM = 10**12


def item_count(text: str | None) -> int | None:
    """`--items N|all`: how many items of each kind a view lists (None: every one)."""
    from atm.domain.errors import InvalidInput

    if text is None:
        return ITEM_ROWS
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 0 <= n <= 10**9:
        raise InvalidInput(f"--items takes a number or all, got {text!r}")
    return n
