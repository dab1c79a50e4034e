"""Storage problems, all exit 5 (docs/exit-codes.md)."""

from atm.domain.errors import StorageError


class DatabaseMissing(StorageError):
    pass


class DatabaseLocked(StorageError):
    pass


class DatabaseCorrupt(StorageError):
    pass


class ForeignDatabase(StorageError):
    pass


class SchemaTooNew(StorageError):
    pass


class UnsupportedDatabase(StorageError):
    pass


class ConstraintViolation(StorageError):
    """The database refused a write (a unique index, a foreign key, an audit trigger)."""
