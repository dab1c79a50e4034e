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
