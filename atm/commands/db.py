"""`atm db info|copy`: which database atm uses, and moving a whole one to a team server (or back)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from atm.commands._context import app_context
from atm.commands._errors import AtmTyper
from atm.commands._output import JSON_HELP, emit_json, message

app = AtmTyper(help="The database itself: which one, and copying it.", no_args_is_help=True)


@app.command("info")
def info(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Say which database is in use (its file or URL, without any password), its schema version and size.

    Example:

    \b
      atm db info
      atm db info --json
    """
    from atm.services.databases import BACKENDS, database_info

    found = database_info(app_context(ctx).unit_of_work())
    if json_out:
        emit_json(found.as_dict())
        return
    counts = ", ".join(f"{name} {n:,}" for name, n in found.counts.items())
    typer.echo(f"Database: {found.database}\n"
               f"Kind:     {BACKENDS.get(found.backend, found.backend)}, version {found.server_version}\n"
               f"Schema:   version {found.schema_version} (this atm knows up to {found.latest_schema_version})\n"
               f"Size:     {_size(found.size_bytes)}\n"
               f"Rows:     {counts}")


@app.command("copy")
def copy(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", metavar="PATH_OR_URL", show_default=False,
                                    help="The database to fill: a new SQLite file, or an empty PostgreSQL "
                                         "database (postgresql://USER@HOST/DB).")],
    source: Annotated[Optional[str], typer.Option("--from", metavar="PATH_OR_URL", show_default=False,
                                                  help="The database to copy (default: --db / ATM_DB).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Copy a whole database into a new, empty one: an SQLite file to a PostgreSQL server, or back.

    All or nothing: the copy is one transaction on the target, and a target that already holds data is refused
    (exit 2). The source is not changed. On a terminal a progress bar shows on stderr. To move a team onto a
    server: createdb atm, then atm db copy --to postgresql://USER@HOST/atm, then point ATM_DB at that URL.

    Example:

    \b
      atm db copy --to copy.db
      atm db copy --from copy.db --to copy-of-copy.db --json
    """
    from atm.services.databases import copy_database

    app_ctx = app_context(ctx)
    origin = source if source is not None else app_ctx.db_target
    with _progress_bar() as progress:
        result = copy_database(origin, to, progress=progress)
    if json_out:
        emit_json(result.as_dict())
        return
    total = sum(result.rows.values())
    message(f"Copied {result.source} to {result.target}: {total:,} rows "
            f"({result.rows['assets']:,} assets, {result.rows['transactions']:,} transactions).")


class _progress_bar:
    """A progress bar on stderr at a terminal; elsewhere nothing."""

    def __enter__(self):
        import sys

        if not sys.stderr.isatty():
            self.bar = None
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from atm.commands._output import stderr_console

        self.bar = Progress("Copying", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=stderr_console(), transient=True)
        self.bar.start()
        task = self.bar.add_task("copy", total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n}"
