"""Named domain errors. Each carries a message fit for a user.

The categories below map to the exit codes of docs/exit-codes.md in exactly one
place, `atm.commands._errors`. A refusal's first line says what is wrong; the
optional `details` list every offending item.
"""

from __future__ import annotations


class AtmError(Exception):
    """Base of every error atm reports to a user instead of a traceback."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def __str__(self) -> str:
        return self.message


class RuleViolation(AtmError):
    """A rule (R1-R15, docs/rules.md) refuses the action (exit 1)."""


class InvalidInput(AtmError):
    """Bad usage or a bad input file (exit 2)."""


class NotFound(AtmError):
    """The thing named does not exist, or is not visible to this user (exit 3, R2)."""


class PermissionDenied(AtmError):
    """The user can see the thing but may not do this to it (exit 4)."""


class StorageError(AtmError):
    """The database cannot be used: locked, corrupt, newer schema (exit 5)."""


# --- input -----------------------------------------------------------------


class InvalidRecord(InvalidInput):
    """An import record is wrong; the message names the record and the field."""

    def __init__(self, where: str, field: str | None, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        place = f"{where}: {field}" if field else where
        super().__init__(f"{place}: {problem}")


class PromptCancelled(AtmError):
    """The user cancelled an interactive prompt (exit 130)."""


class MissingAnswer(InvalidInput):
    """A required answer was not given and there is no terminal to ask on."""


# --- lookups -----------------------------------------------------------------


class UnknownUser(PermissionDenied):
    """The acting user is not in the database."""


class AccountNotFound(NotFound):
    pass


class VirtualAccountNotFound(NotFound):
    pass


class AssetNotFound(NotFound):
    pass


class TransactionNotFound(NotFound):
    pass
