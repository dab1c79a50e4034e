"""`atm submit | consent | screen | cancel`: the steps of a transaction after the request."""

import sys
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, WIDE_HELP, emit_json, message

TxnArg = Annotated[str, typer.Argument(metavar="TXN", help="Transaction id, like ATM-7K3Q9-XW2MD.",
                                       show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _items(json_out: bool) -> int | None:
    """JSON lists every item; a terminal view needs only the first rows."""
    from atm.commands._render import ITEM_ROWS

    return None if json_out else ITEM_ROWS


def _show(view, json_out: bool, wide: bool = False) -> None:
    from atm.commands import _render
    from atm.commands._output import stdout_is_terminal

    if json_out:
        emit_json(view.as_dict())
    elif stdout_is_terminal():
        _render.transaction(view, wide=wide)
    else:
        _render.transaction_tsv(view)
    if view.message:
        message(view.message)


QUESTIONS = {
    "submit": "Submit for Transfer? This cannot be undone",
    "cancel": "Cancel {txn}? This cannot be undone",
    "decline": "Decline {txn}? This cancels the transfer and cannot be undone",
}
NOTHING_DONE = {
    "submit": "Not submitted; nothing changed: {txn} is still {status}.",
    "cancel": "Not cancelled; nothing changed: {txn} is still {status}.",
    "decline": "Not declined; nothing changed: {txn} is still {status}.",
}


def _confirm(app, txn: str, action: str, yes: bool, *, side: str | None = None) -> None:
    """On a terminal, unless --yes: show what is about to happen and ask; "no" ends here, changing nothing.

    Without a terminal nothing is asked: the command line is the answer.
    """
    from atm.commands import _prompts, _render
    from atm.services.views import preview

    if yes or not _prompts.interactive():
        return
    look = preview(app.unit_of_work(), app.user_id, txn, action, side=side, item_limit=0)
    if not look.needs_confirmation:
        return  # `submit` again on a submitted transfer only finishes it
    _render.final_check(look)
    tid = look.view.txn.id
    if not _prompts.current.confirm(QUESTIONS[action].format(txn=tid), default=False):
        message(NOTHING_DONE[action].format(txn=tid, status=look.view.txn.status.label))
        raise typer.Exit(0)


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


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
WideOpt = Annotated[bool, typer.Option("--wide", help=WIDE_HELP)]


def submit(ctx: typer.Context, txn: TxnArg, yes: YesOpt = False, json_out: JsonOpt = False,
           wide: WideOpt = False) -> None:
    """Submit for Transfer, after a final check (this cannot be undone).

    Re-validates the assets (R5). Same company: the assets move at once. Different companies: it waits for
    both consents and compliance screening (R4). On a terminal it shows the final check and asks first;
    --yes skips the question, and without a terminal nothing is asked. Run it again on a transaction left
    in Submitted or Transfer Initiated (a crash, an interrupt) to finish it.

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      T=$(atm request --from acme.co.jp --to acme-osaka.co.jp --to-va DEFAULT \\
            --same-company yes --asset SO12345678-1 --asset FCW2245L0CS)
      atm submit "$T"
    """
    from atm.services.transfers import submit as run_submit

    app = app_context(ctx)
    _confirm(app, txn, "submit", yes)
    view = _transfer(app, txn, f"atm submit {txn}", lambda progress: run_submit(
        app.unit_of_work(), app.user_id, txn, progress=progress, item_limit=_items(json_out)))
    _show(view, json_out, wide)


def _transfer(app, txn: str, again: str, run):
    """Run a step that may move assets (R12), telling the truth if Ctrl-C or SIGTERM stops it part-way.

    Each chunk of the move is its own database transaction, rolled back by the interrupt, so nothing is lost;
    what did happen is read afresh afterwards.
    """
    import signal

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        return _with_progress(run)
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the report short
        _report_interrupt(app, txn, again)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report_interrupt(app, txn: str, again: str) -> None:
    from atm.commands._errors import EXIT_CANCELLED
    from atm.domain.transfer import Status
    from atm.services.views import view_transaction

    view = view_transaction(app.unit_of_work(), app.user_id, txn, item_limit=0)
    status, tid = view.txn.status, view.txn.id
    total = sum(view.counts.values())
    moved = view.counts.get("transferred", 0)
    if status in (Status.TRANSFER_COMPLETED, Status.TRANSFER_COMPLETED_WITH_FAILURE):
        message(f"\nInterrupted, but the transfer had already ended: {tid} is {status.label}, "
                f"{moved:,} of {total:,} items moved.")
        raise typer.Exit(0)
    if status is Status.AWAITING_CONSENT:
        message(f"\nInterrupted, but {tid} had already been submitted: it is {status.label}.")
        raise typer.Exit(0)
    if status in (Status.SUBMITTED, Status.TRANSFER_INITIATED) and not view.counts.get("pending"):
        message(f"\nInterrupted: all {total:,} items of {tid} moved, but it is not yet recorded as completed; "
                f"nothing is lost.\nFinish it with: {again.replace(txn, tid)}")
    elif status in (Status.SUBMITTED, Status.TRANSFER_INITIATED):
        message(f"\nInterrupted: {moved:,} of {total:,} items of {tid} moved; nothing is lost (every asset is in "
                f"exactly one place).\nFinish the rest with: {again.replace(txn, tid)}")
    else:
        message(f"\nInterrupted before anything changed: {tid} is still {status.label}.\n"
                f"Run it again with: {again.replace(txn, tid)}")
    raise typer.Exit(EXIT_CANCELLED)


def consent(
    ctx: typer.Context,
    txn: TxnArg,
    accept: Annotated[Optional[bool], typer.Option("--accept/--decline",
                                                   help="Give or refuse consent; without it, view (and, on a "
                                                        "terminal, decide).",
                                                   show_default=False)] = None,
    side: Annotated[Optional[str], typer.Option("--side", metavar="transferor|transferee",
                                                help="Needed only when you administer both sides.")] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """View or give consent for your side of a cross-company transfer (R10).

    Without --accept or --decline on a terminal it shows the transfer agreement and asks: accept, decline or
    later (later changes nothing). --decline cancels the transfer, so it is confirmed first unless --yes.

    Example:

    \b
      T=$(atm --as partner@netpartner.co.jp request --from acme.co.jp \\
            --to globex.com --to-va DEFAULT --same-company no \\
            --asset SO12345678-3 --form form.json)
      atm --as partner@netpartner.co.jp submit --yes "$T"
      atm --as john.smith@globex.com consent "$T" --accept
      atm --as partner@netpartner.co.jp consent "$T" --accept
    """
    from atm.commands import _prompts
    from atm.domain.errors import InvalidInput
    from atm.services.transfers import consent as run_consent

    if side is not None and side.strip().lower() not in ("transferor", "transferee"):
        raise InvalidInput(f"--side takes transferor or transferee, got {side!r}")
    side = side.strip().lower() if side else None
    app = app_context(ctx)
    if accept is None and not json_out and not yes and _prompts.interactive():
        accept, side = _ask_consent(app, txn, side)
    elif accept is False:
        _confirm(app, txn, "decline", yes, side=side)
    view = run_consent(app.unit_of_work(), app.user_id, txn, accept=accept, side=side, item_limit=_items(json_out))
    _show(view, json_out, wide)


def _ask_consent(app, txn: str, side: str | None) -> tuple[bool | None, str | None]:
    """Show the transfer agreement and ask accept, decline or later; (None, side) views only."""
    from atm.commands import _prompts, _render
    from atm.domain.errors import AtmError
    from atm.services.views import preview

    try:
        look = preview(app.unit_of_work(), app.user_id, txn, "consent", side=side, item_limit=0)
    except AtmError:
        return None, side  # nothing this user can decide now (or may see): the view says why
    ask = _prompts.current
    _render.final_check(look)
    if len(look.sides) > 1:
        side = ask.select("You administer both sides: decide for which?",
                          [(f"the {s}", s) for s in look.sides])
    else:
        side = side or (look.sides[0] if look.sides else None)
    tid = look.view.txn.id
    choice = ask.select("Your decision", [
        ("Accept: consent to the transfer", "accept"),
        ("Decline: cancel the transfer (cannot be undone)", "decline"),
        ("Later: decide another time (nothing changes)", "later"),
    ])
    if choice == "later":
        message(f"Nothing changed; decide later with: atm consent {tid} --accept (or --decline)")
        raise typer.Exit(0)
    return choice == "accept", side


def screen(
    ctx: typer.Context,
    txn: TxnArg,
    approve: Annotated[Optional[bool], typer.Option("--approve/--reject", help="The screening decision.",
                                                    show_default=False)] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="TEXT",
                                                  help="Why (required to reject; sent to the requester).")] = None,
    json_out: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Compliance screening: approve (the transfer runs) or reject with a reason (R11).

    Run --approve again on a transaction left in Transfer Initiated (a crash, an interrupt) to finish it.

    Example:

    \b
      export ATM_USER=legal@atm-vendor.example
      T=$(atm status --status compliance_screening | sed -n 2p | cut -f1)
      atm screen "$T" --approve
    """
    from atm.domain.errors import MissingAnswer
    from atm.services.transfers import screen as run_screen

    if approve is None:
        raise MissingAnswer("--approve or --reject is required")
    app = app_context(ctx)
    view = _transfer(app, txn, f"atm screen {txn} --approve", lambda progress: run_screen(
        app.unit_of_work(), app.user_id, txn, approve=approve, reason=reason, progress=progress,
        item_limit=_items(json_out)))
    _show(view, json_out, wide)


def cancel(
    ctx: typer.Context,
    txn: TxnArg,
    reason: Annotated[Optional[str], typer.Option("--reason", metavar="TEXT",
                                                  help="Why, for the audit trail.")] = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Cancel a transaction before Submit for Transfer; the assets stay (R8).

    On a terminal it shows the transaction and asks first; --yes skips the question, and without a terminal
    nothing is asked.

    Example:

    \b
      export ATM_USER=taro.yamada@acme.co.jp
      T=$(atm request --from acme.co.jp --to acme-osaka.co.jp --to-va DEFAULT \\
            --same-company yes --asset FOC2231X0AB)
      atm cancel "$T" --reason "wrong target VA" --yes
    """
    from atm.services.transfers import cancel as run_cancel

    app = app_context(ctx)
    _confirm(app, txn, "cancel", yes)
    _show(run_cancel(app.unit_of_work(), app.user_id, txn, reason=reason, item_limit=_items(json_out)), json_out,
          wide)
