"""`atm init [--sample]`: create the database, optionally with the bundled demo world."""

from typing import Annotated

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message


def init(
    ctx: typer.Context,
    sample: Annotated[bool, typer.Option("--sample", help="Load the bundled demo data (data/sample.json).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create the database (or bring it up to date); --sample adds demo data.

    The sample has 4 Smart Accounts, 9 users and 540 assets; the README says whom to act as.

    Example:

    \b
      atm init --sample
      atm --db try.db init --sample
    """
    from atm.services.setup import initialise

    app = app_context(ctx)
    result = initialise(app.unit_of_work(create=True), sample=sample)
    if json_out:
        emit_json(result.as_dict())
        return
    message(f"Database: {result.path} (schema {result.schema_version})")
    if result.sample_skipped:
        message("It already holds data, so the sample was not loaded again (remove the file to start afresh).")
    if result.imported is not None:
        s = result.imported
        message(
            f"Loaded the sample: {s.users} users, {s.accounts} Smart Accounts, {s.virtual_accounts} virtual "
            f"accounts, {s.licenses} license lines, {s.devices} devices."
        )
        message("Try: atm --as taro.yamada@acme.co.jp accounts list")
