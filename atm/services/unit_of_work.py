"""The unit of work: one database transaction around one use case.

`with uow.write(): ...; uow.commit()` takes the write lock first; leaving the
block without `commit()` rolls everything back (cosmicpython's rule).
`with uow.read(): ...` reads one consistent snapshot without locking writers.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from atm.storage.accounts import AccountRepository
from atm.storage.assets import AssetRepository
from atm.storage.database import Database
from atm.storage.requests import RequestStage
from atm.storage.transfers import TransferRepository


class UnitOfWork:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = AccountRepository(db)
        self.assets = AssetRepository(db)
        self.transfers = TransferRepository(db)
        self.requests = RequestStage(db)
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
            raise
        if self._committed or not write:
            self.db.commit()
        else:
            self.db.rollback()

    def commit(self) -> None:
        self._committed = True
