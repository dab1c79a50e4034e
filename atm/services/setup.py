"""Creating a database and loading the bundled sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atm.domain.errors import StorageError
from atm.services.importing import ImportSummary, import_file
from atm.services.unit_of_work import UnitOfWork
from atm.storage.migrations import current_version


@dataclass(frozen=True)
class InitResult:
    path: str
    schema_version: int
    imported: ImportSummary | None
    sample_skipped: bool = False

    def as_dict(self) -> dict:
        return {
            "database": self.path,
            "schema_version": self.schema_version,
            "imported": self.imported.as_dict() if self.imported else None,
        }


def sample_path() -> Path:
    """The demo data: inside the installed package, or `data/` of a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "data" / "sample.json"
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parent.parent.parent / "data" / "sample.json"
    if checkout.is_file():
        return checkout
    raise StorageError("the bundled sample data is missing from this installation; reinstall atm")


def initialise(uow: UnitOfWork, *, sample: bool) -> InitResult:
    """Create or upgrade the database; load the sample only into an empty one (never over real data,
    where re-importing it would also try to move transferred assets back)."""
    with uow.read():
        empty = not uow.accounts.any()
    imported = import_file(uow, sample_path()) if sample and empty else None
    return InitResult(uow.db.path, current_version(uow.db), imported, sample_skipped=sample and not empty)
