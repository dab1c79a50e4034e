"""`atm import FILE`: load users, accounts and assets (formats in docs/import.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._output import JSON_HELP, emit_json, message


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .json file, or a .csv/.xlsx asset list "
                                                              "(formats: docs/import.md).", show_default=False)],
    fmt: Annotated[Optional[str], typer.Option("--format", metavar="json|csv|xlsx",
                                               help="The file's format (default: by extension).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Import users, accounts and assets; a bad file changes nothing.

    The whole file is one database transaction. Re-importing a record updates the fields it carries and never
    moves an asset. Formats (JSON, CSV, XLSX): docs/import.md.

    Example:

    \b
      printf 'kind,account,serial_number,pid\\n' > more.csv
      printf 'device,acme.co.jp,FOC9999X001,C9300-24T\\n' >> more.csv
      atm import more.csv
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
