"""The one place that decides which database atm opens and who is acting."""

from __future__ import annotations

import os
from pathlib import Path


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("atm", appauthor=False)) / "atm.db"


def resolve_db(option: str | None) -> str:
    """`--db`, then `ATM_DB`, then `atm.db` in the user's data directory."""
    if option is not None:
        return option
    env = os.environ.get("ATM_DB")
    if env:  # an empty variable counts as unset
        return env
    return str(default_db_path())


def resolve_user(option: str | None) -> str | None:
    """`--as`, then `ATM_USER`."""
    return option or os.environ.get("ATM_USER") or None
