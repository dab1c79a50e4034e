"""`atm accounts list|show`: the Smart Accounts you can see (R2)."""

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._errors import AtmTyper
from atm.commands._output import JSON_HELP, WIDE_HELP, emit_json, escape, message, stdout_console

app = AtmTyper(help="Smart Accounts you hold a role on.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    search: Annotated[Optional[str], typer.Option("--search", metavar="TEXT",
                                                  help="Match part of the name or domain.")] = None,
    wide: Annotated[bool, typer.Option("--wide", help=WIDE_HELP)] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List the Smart Accounts you can see, with your role on each.

    In a pipe: tab-separated lines with a header (domain, name, legal_entity, role).

    Example:

    \b
      atm --as taro.yamada@acme.co.jp accounts list --search acme
      atm --as legal@atm-vendor.example accounts list | cut -f1
    """
    from atm.commands._output import FOLD, Col, emit_tsv, print_table, stdout_is_terminal
    from atm.services.accounts import list_accounts

    app_ctx = app_context(ctx)
    views = list_accounts(app_ctx.unit_of_work(), app_ctx.user_id, search)
    if json_out:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        message("No Smart Accounts" + (f" match {search!r}." if search else " visible to you."))
        return
    rows = [(v.account.domain, v.account.name, v.account.legal_entity, v.role.value if v.role else "compliance")
            for v in views]
    if not stdout_is_terminal():
        emit_tsv(("domain", "name", "legal_entity", "role"), rows)
        return
    print_table([Col("Domain"), Col("Name", FOLD), Col("Legal entity", FOLD, drop=1), Col("Your role")], rows,
                wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(metavar="SA", help="Domain (or exact name) of the Smart Account.")],
    counts: Annotated[bool, typer.Option("--counts", help="Show Counts: license lines and devices.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show a Smart Account and its virtual accounts.

    Example:

    \b
      atm --as taro.yamada@acme.co.jp accounts show acme.co.jp --counts
    """
    from atm.services.accounts import show_account

    app_ctx = app_context(ctx)
    view = show_account(app_ctx.unit_of_work(), app_ctx.user_id, account, counts=counts)
    if json_out:
        emit_json(view.as_dict(details=True))
        return
    console = stdout_console()
    a = view.account
    console.print(f"[bold]{escape(a.name)}[/bold]  ({escape(a.domain)})")
    console.print(f"Legal entity: {escape(a.legal_entity)}")
    console.print(f"Your role:    {view.role.value if view.role else '(compliance, view only)'}")
    if view.counts is not None:
        console.print(f"Counts:       {view.counts['licenses']} license lines, {view.counts['devices']} devices")
    console.print("Virtual accounts:")
    for va in a.virtual_accounts:
        console.print(f"  {escape(va.name)}" + ("  [dim](SSM On-Prem)[/dim]" if va.ssm_onprem else ""))
