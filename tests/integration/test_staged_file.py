"""A staged file appears under its name only when complete, never over an existing file without force."""

from __future__ import annotations

import os
import stat

import pytest

from atm.io.staged import OutputExists, OutputNotWritable, StagedFile, file_name


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_the_file_appears_complete_and_readable_like_any_new_file(tmp_path):
    target = tmp_path / "out.csv"
    with StagedFile() as staged:
        fh = staged.open(target, "w", encoding="utf-8")
        fh.write("a,b\n")
        assert not target.exists() and len(leftovers(tmp_path)) == 1
    assert target.read_text() == "a,b\n" and leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_failure_removes_the_temporary_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with StagedFile(force=True) as staged:
            staged.open(target, "w").write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_an_existing_file_is_replaced_only_with_force(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(OutputExists):
        with StagedFile() as staged:
            staged.open(target, "w")
    with StagedFile(force=True) as staged:
        staged.open(target, "w").write("new")
    assert target.read_text() == "new" and leftovers(tmp_path) == []


def test_a_file_that_appears_while_writing_is_not_replaced(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(OutputExists):
        with StagedFile() as staged:
            staged.open(target, "w").write("mine")
            target.write_text("theirs")
    assert target.read_text() == "theirs" and leftovers(tmp_path) == []


def test_a_full_disk_is_one_named_error_and_nothing_is_left(tmp_path):
    with pytest.raises(OutputNotWritable, match="No space left"):
        with StagedFile() as staged:
            staged.open(tmp_path / "x.xlsx", "wb")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_or_a_folder_as_target_is_refused(tmp_path):
    with pytest.raises(OutputNotWritable, match="does not exist"):
        StagedFile().check(tmp_path / "no" / "x.csv")
    with pytest.raises(Exception, match="is a folder"):
        StagedFile().check(tmp_path)


@pytest.mark.parametrize("text, name", [("ATM-7K3Q9-XW2MD", "ATM-7K3Q9-XW2MD"), ("../../etc/passwd", "_.._etc_passwd"),
                                        ("", "export"), ("a b/c", "a_b_c")])
def test_a_default_name_from_the_database_cannot_leave_the_folder(text, name):
    assert file_name(text) == name
