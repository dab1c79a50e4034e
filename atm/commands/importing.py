"""`atm import FILE`: load users, accounts and assets (SPEC section 5)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .json file (SPEC section 5), or a .csv/.xlsx asset list.",
                                         show_default=False)],
    fmt: Annotated[Optional[str], typer.Option("--format", help="json, csv or xlsx (default: by extension).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Import a file in one transaction: a bad file changes nothing; re-importing updates.

    Example: atm import assets.csv
    """
    from atm.domain.errors import InvalidInput
    from atm.services.importing import import_file as run_import

    if file.is_dir():
        raise InvalidInput(f"{file} is a directory; name an import file")
    if not file.is_file():
        raise InvalidInput(f"cannot read {file}: no such file")
    uow = app_context(ctx).unit_of_work(create=True)
    if sys.stderr.isatty() and not json_out:
        summary = _with_progress(lambda progress: run_import(uow, file, fmt=fmt, progress=progress), file)
    else:
        summary = run_import(uow, file, fmt=fmt)
    if json_out:
        emit_json(summary.as_dict())
    else:
        message(
            f"Imported {summary.users} users, {summary.accounts} Smart Accounts, {summary.licenses} license lines "
            f"and {summary.devices} devices from {file.name}."
        )


def _with_progress(run, file: Path):
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from atm.commands._output import stderr_console

    with Progress(TextColumn("Importing {task.description}"), BarColumn(), DownloadColumn(),
                  TimeRemainingColumn(), console=stderr_console(), transient=True) as bar:
        task = bar.add_task(file.name, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run(progress)
