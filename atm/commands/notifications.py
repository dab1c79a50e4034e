"""`atm notifications [send]`: your outbox of transfer news (R14), and its delivery by e-mail."""

from typing import Annotated

import typer

from atm.commands._context import app_context
from atm.commands._errors import AtmTyper, guarded, with_shared_options
from atm.commands._output import (
    JSON_HELP, WIDE_HELP, WORDS, Col, emit_json, emit_tsv, message, plural, print_table, stdout_is_terminal,
)

app = AtmTyper(subcommand_metavar="[send]")  # the help is the listing's docstring


def notifications(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only those not yet read.")] = False,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Deliver them: mark what is shown as read.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help=WIDE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List your notifications (completions, failures, consents awaited...); send mails the pending ones.

    Unread ones are marked •. In a pipe: tab-separated lines with a header, one notification a line.

    Example:

    \b
      atm --as taro.yamada@acme.co.jp notifications --unread --mark-read
      atm --as partner@netpartner.co.jp notifications | grep consent_requested
    """
    if ctx.invoked_subcommand is not None:
        return
    from atm.services.views import notifications as run

    app = app_context(ctx)
    found = run(app.unit_of_work(), app.user_id, unread_only=unread, mark_read=mark_read)
    if json_out:
        from atm.domain.times import iso

        emit_json([{"id": n.id, "transaction_id": n.transaction_id, "kind": n.kind, "message": n.message,
                    "created_at": iso(n.created_at), "read": n.read} for n in found])
        return
    if not found:
        message("No notifications.")
        return
    rows = [(n.id, n.transaction_id, n.kind, n.created_at.strftime("%Y-%m-%d %H:%M"), "true" if n.read else "false",
             n.message) for n in found]
    if not stdout_is_terminal():
        emit_tsv(("id", "transaction_id", "kind", "created_at", "read", "message"),
                 ((r[0], r[1], r[2], iso_at(n), r[4], r[5]) for r, n in zip(rows, found)))
        return
    print_table([Col(""), Col("When (UTC)"), Col("Kind", drop=1), Col("Message", WORDS)],
                [("" if n.read else "•", r[3], r[2], r[5]) for r, n in zip(rows, found)], wide=wide,
                styles=[("bold", None, None, None if n.read else "bold") for n in found])


def iso_at(n) -> str:
    from atm.domain.times import iso

    return iso(n.created_at)


app.callback(invoke_without_command=True)(with_shared_options(guarded(notifications)))


@app.command("send")
def send(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Mail every pending notification (of every user) through the server of ATM_SMTP_URL.

    ATM_SMTP_URL is smtp://[user:password@]host[:port] or smtps://..., with the options starttls=1,
    from=ADDRESS and timeout=SECONDS, e.g. smtp://atm:secret@mail.example.com:587?starttls=1&from=atm@example.com.
    Each notification goes to its user id (an e-mail address) with the transaction id, the status and the next
    step. It is marked sent once the server accepts it; one the server refuses or that cannot be handed over
    stays pending for the next run (exit 1, saying why). With ATM_SMTP_URL set, the commands that create
    notifications mail them as soon as their change is committed.

    Example:

    \b
      atm notifications send
      atm notifications send --json
    """
    import os

    from atm.commands._mail import warn
    from atm.domain.errors import MissingAnswer
    from atm.services.mail import mail_server, send_pending

    url = os.environ.get("ATM_SMTP_URL")
    if not url:
        raise MissingAnswer("ATM_SMTP_URL is not set: set it to the mail server, e.g. "
                            "smtp://mail.example.com:587?starttls=1&from=atm@example.com")
    server = mail_server(url)
    delivery = send_pending(app_context(ctx).unit_of_work(), server)
    if json_out:
        emit_json(delivery.as_dict())
    n = len(delivery.sent)
    if n:
        message(f"Sent {plural(n, 'notification mail')} through {server.shown}.")
    elif not delivery.pending:
        message("No notification mail was pending.")
    warn(delivery)
    if delivery.pending:
        raise typer.Exit(1)
