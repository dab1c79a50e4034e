"""The unit of work: a write block keeps its changes only when `commit()` was called and nothing failed.

Every service relies on this to be all-or-nothing (an import, a request, a
chunk of a move), so it is tested on its own, on a real database file.
"""

import pytest


def add_user(uow, user_id: str) -> None:
    uow.db.execute("INSERT INTO users (id, name) VALUES (?, ?)", (user_id, "U"))


def users(uow) -> list[str]:
    return [r[0] for r in uow.db.execute("SELECT id FROM users ORDER BY id")]


def test_a_write_block_left_without_commit_keeps_nothing(uow):
    with uow.write():
        add_user(uow, "a@b.example")
    assert users(uow) == []


def test_an_error_after_commit_was_asked_for_still_keeps_nothing(uow):
    with pytest.raises(RuntimeError):
        with uow.write():
            add_user(uow, "a@b.example")
            uow.commit()
            raise RuntimeError("the block fails before it ends")
    assert users(uow) == []


def test_a_committed_write_block_keeps_its_changes_and_the_next_block_starts_afresh(uow):
    with uow.write():
        add_user(uow, "a@b.example")
        uow.commit()
    with uow.write():
        add_user(uow, "c@d.example")  # no commit this time
    assert users(uow) == ["a@b.example"]


@pytest.mark.sqlite_only
def test_a_writing_connection_keeps_more_pages_and_a_reading_one_the_default(tmp_path):
    """A million-item request or submit updates an asset index in no useful order: with SQLite's default 2 MiB
    of pages it spills them and reads them back (README, benchmarks). Reads, such as an export, keep it."""
    from atm.services.unit_of_work import UnitOfWork
    from atm.storage.database import open_database
    from atm.storage.migrations import ensure_schema

    def cache_kib(db) -> int:
        value = db.one("PRAGMA cache_size")
        return -value if value < 0 else value * db.one("PRAGMA page_size") // 1024

    db = open_database(str(tmp_path / "cache.db"), create=True)
    ensure_schema(db)
    db.close()
    reader = UnitOfWork(open_database(str(tmp_path / "cache.db")))
    with reader.read():
        assert cache_kib(reader.db) <= 2048  # SQLite's default: 2,000 KiB
    writer = UnitOfWork(open_database(str(tmp_path / "cache.db")))
    with writer.write():
        assert cache_kib(writer.db) == 64 * 1024
    loader = UnitOfWork(open_database(str(tmp_path / "cache.db")))
    loader.db.tune_for_bulk_load()
    with loader.write():
        assert cache_kib(loader.db) == 128 * 1024  # a bulk load's larger cache is not lowered
    for uow in (reader, writer, loader):
        uow.db.close()
