"""What every command shares: the database it opens and the user it acts as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from atm.services.unit_of_work import UnitOfWork


@dataclass
class AppContext:
    db_option: str | None = None
    user_option: str | None = None

    @property
    def db_target(self) -> str:
        from atm.settings import resolve_db

        return resolve_db(self.db_option)

    @property
    def user_id(self) -> str | None:
        from atm.settings import resolve_user

        return resolve_user(self.user_option)

    def unit_of_work(self, *, create: bool = False) -> "UnitOfWork":
        """Open the database (applying pending migrations) and wrap it in a unit of work."""
        from atm.services.unit_of_work import UnitOfWork
        from atm.storage.database import Database, sqlite_path
        from atm.storage.migrations import ensure_schema

        db = Database(sqlite_path(self.db_target), create=create)
        ensure_schema(db)
        return UnitOfWork(db)


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext()
    return root.obj
