"""The unit of work: one database transaction around one use case.

`with uow.write(): ...; uow.commit()` takes the write lock first; leaving the
block without `commit()` rolls everything back (cosmicpython's rule).
`with uow.read(): ...` reads one consistent snapshot without locking writers.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from atm.storage.database import Database

if TYPE_CHECKING:
    from atm.storage.accounts import AccountRepository
    from atm.storage.assets import AssetRepository
    from atm.storage.outbox import Outbox
    from atm.storage.requests import RequestStage
    from atm.storage.transfers import TransferRepository

# Called with the unit of work and the ids of the transactions whose notifications a committed block created
# (R14): mail goes out only once the change it tells of is committed, and can never undo it.
AfterCommit = Callable[["UnitOfWork", set[str]], None]


class UnitOfWork:
    """The repositories are made on first use, so a reading command loads only the storage code it needs (a
    listing of assets never loads the transfer code)."""

    def __init__(self, db: Database, *, after_commit: AfterCommit | None = None) -> None:
        self.db = db
        self.after_commit = after_commit
        self._committed = False

    @functools.cached_property
    def accounts(self) -> "AccountRepository":
        from atm.storage.accounts import AccountRepository

        return AccountRepository(self.db)

    @functools.cached_property
    def assets(self) -> "AssetRepository":
        from atm.storage.assets import AssetRepository

        return AssetRepository(self.db)

    @functools.cached_property
    def transfers(self) -> "TransferRepository":
        from atm.storage.transfers import TransferRepository

        return TransferRepository(self.db)

    @functools.cached_property
    def requests(self) -> "RequestStage":
        from atm.storage.requests import RequestStage

        return RequestStage(self.db)

    @functools.cached_property
    def outbox(self) -> "Outbox":
        from atm.storage.outbox import Outbox

        return Outbox(self.db)

    @contextmanager
    def write(self) -> Iterator["UnitOfWork"]:
        yield from self._block(write=True)

    @contextmanager
    def read(self) -> Iterator["UnitOfWork"]:
        yield from self._block(write=False)

    def _block(self, *, write: bool) -> Iterator["UnitOfWork"]:
        self.db.begin(write=write)
        self._committed = False
        try:
            yield self
        except BaseException:
            self.db.rollback()
            self._notified().clear()
            raise
        if self._committed or not write:
            self.db.commit()
        else:
            self.db.rollback()
            self._notified().clear()
        notified = self._notified()
        if notified and self.after_commit is not None:
            self.transfers.notified = set()
            self.after_commit(self, set(notified))

    def _notified(self) -> set:
        """Transactions whose parties the block notified; a block that never touched transfers has none (and
        does not load the transfer code to say so)."""
        return self.__dict__["transfers"].notified if "transfers" in self.__dict__ else set()

    def commit(self) -> None:
        self._committed = True
