"""`atm submit | consent | screen | cancel`: the steps of a transaction after the request."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message

TxnArg = Annotated[str, typer.Argument(metavar="TXN", help="Transaction id, e.g. ATM-7K3Q9-XW2MD.",
                                       show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _items(json_out: bool) -> int | None:
    """JSON lists every item; a terminal view needs only the first rows."""
    from atm.commands._render import ITEM_ROWS

    return None if json_out else ITEM_ROWS


def _show(view, json_out: bool) -> None:
    from atm.commands import _render

    if json_out:
        emit_json(view.as_dict())
    else:
        _render.transaction(view)
    if view.message:
        message(view.message)


def _progress_bar():
    """A progress callback drawing on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from atm.commands._output import stderr_console

    bar = Progress(TextColumn("Moving assets"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=stderr_console(), transient=True)
    task = bar.add_task("move", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, progress


def _with_progress(run):
    bar, progress = _progress_bar()
    if bar is None:
        return run(None)
    with bar:
        return run(progress)


def submit(ctx: typer.Context, txn: TxnArg, json_out: JsonOpt = False) -> None:
    """Submit for Transfer: re-validates; same company moves the assets, cross company waits for consent.

    Run it again on a transaction left in Submitted or Transfer Initiated to resume it.

    Example: atm --as taro.yamada@acme.co.jp submit ATM-7K3Q9-XW2MD
    """
    from atm.services.transfers import submit as run_submit

    app = app_context(ctx)
    view = _with_progress(lambda progress: run_submit(app.unit_of_work(), app.user_id, txn, progress=progress,
                                                         item_limit=_items(json_out)))
    _show(view, json_out)


def consent(
    ctx: typer.Context,
    txn: TxnArg,
    accept: Annotated[Optional[bool], typer.Option("--accept/--decline",
                                                   help="Give or refuse consent; without it, view.",
                                                   show_default=False)] = None,
    side: Annotated[Optional[str], typer.Option("--side", metavar="transferor|transferee",
                                                help="Needed only when you administer both sides.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """View or provide consent for your side of a cross-company transfer (R10).

    Example: atm --as john.smith@globex.com consent ATM-7K3Q9-XW2MD --accept
    """
    from atm.domain.errors import InvalidInput
    from atm.services.transfers import consent as run_consent

    if side is not None and side.strip().lower() not in ("transferor", "transferee"):
        raise InvalidInput(f"--side takes transferor or transferee, got {side!r}")
    app = app_context(ctx)
    view = run_consent(app.unit_of_work(), app.user_id, txn, accept=accept,
                       side=side.strip().lower() if side else None, item_limit=_items(json_out))
    _show(view, json_out)


def screen(
    ctx: typer.Context,
    txn: TxnArg,
    approve: Annotated[Optional[bool], typer.Option("--approve/--reject", help="The screening decision.",
                                                    show_default=False)] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why (required to reject; sent to the "
                                                                   "requester).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Compliance screening: approve (the transfer runs) or reject with a reason (R11).

    Example: atm --as legal@atm-vendor.example screen ATM-7K3Q9-XW2MD --approve
    """
    from atm.domain.errors import MissingAnswer
    from atm.services.transfers import screen as run_screen

    if approve is None:
        raise MissingAnswer("--approve or --reject is required")
    app = app_context(ctx)
    view = _with_progress(lambda progress: run_screen(app.unit_of_work(), app.user_id, txn, approve=approve,
                                                      reason=reason, progress=progress,
                                                      item_limit=_items(json_out)))
    _show(view, json_out)


def cancel(
    ctx: typer.Context,
    txn: TxnArg,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Why, for the audit trail.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Cancel a transaction before Submit for Transfer; the assets stay at the source (R8).

    Example: atm --as taro.yamada@acme.co.jp cancel ATM-7K3Q9-XW2MD --reason "wrong target VA"
    """
    from atm.services.transfers import cancel as run_cancel

    app = app_context(ctx)
    _show(run_cancel(app.unit_of_work(), app.user_id, txn, reason=reason, item_limit=_items(json_out)), json_out)
