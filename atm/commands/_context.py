"""What every command shares: the database it opens and the user it acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from atm.services.unit_of_work import UnitOfWork


@dataclass
class AppContext:
    db_option: str | None = None
    user_option: str | None = None
    opened: list = field(default_factory=list)

    @property
    def db_target(self) -> str:
        from atm.settings import resolve_db

        return _clean("--db / ATM_DB", resolve_db(self.db_option))

    @property
    def user_id(self) -> str | None:
        from atm.settings import resolve_user

        return _clean("--as / ATM_USER", resolve_user(self.user_option))

    def unit_of_work(self, *, create: bool = False) -> "UnitOfWork":
        """Open the database (applying pending migrations) and wrap it in a unit of work."""
        from atm.commands._mail import after_commit
        from atm.services.unit_of_work import UnitOfWork
        from atm.storage.database import open_database
        from atm.storage.migrations import ensure_schema

        db = open_database(self.db_target, create=create)
        self.opened.append(db)
        ensure_schema(db)
        return UnitOfWork(db, after_commit=after_commit())

    def discard_new_databases(self) -> None:
        """A refused command leaves no new database file or folder behind."""
        for db in self.opened:
            db.discard()


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj


def _clean(option: str, value: str | None) -> str | None:
    from atm.domain.errors import InvalidInput
    from atm.domain.text import control_character

    bad = control_character(value) if value else None
    if bad is not None:
        raise InvalidInput(f"{option}: contains a control character ({bad}); type it without one")
    return value
