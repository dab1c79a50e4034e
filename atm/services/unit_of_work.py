"""The unit of work: one database transaction around one use case.

`with uow.write(): ...; uow.commit()` takes the write lock first; leaving the
block without `commit()` rolls everything back (cosmicpython's rule).
`with uow.read(): ...` reads one consistent snapshot without locking writers.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from atm.storage.accounts import AccountRepository
from atm.storage.assets import AssetRepository
from atm.storage.database import Database
from atm.storage.outbox import Outbox
from atm.storage.requests import RequestStage
from atm.storage.transfers import TransferRepository

# Called with the unit of work and the ids of the transactions whose notifications a committed block created
# (R14): mail goes out only once the change it tells of is committed, and can never undo it.
AfterCommit = Callable[["UnitOfWork", set[str]], None]


class UnitOfWork:
    def __init__(self, db: Database, *, after_commit: AfterCommit | None = None) -> None:
        self.db = db
        self.accounts = AccountRepository(db)
        self.assets = AssetRepository(db)
        self.transfers = TransferRepository(db)
        self.requests = RequestStage(db)
        self.outbox = Outbox(db)
        self.after_commit = after_commit
        self._committed = False

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
            self.transfers.notified.clear()
            raise
        if self._committed or not write:
            self.db.commit()
        else:
            self.db.rollback()
            self.transfers.notified.clear()
        if self.transfers.notified and self.after_commit is not None:
            notified, self.transfers.notified = set(self.transfers.notified), set()
            self.after_commit(self, notified)

    def commit(self) -> None:
        self._committed = True
