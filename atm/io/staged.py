"""A file that appears under its real name only when complete.

The content goes to a hidden temporary file in the target's folder (the
same file system, so the final rename is atomic); on success it is renamed
into place, on any failure or Ctrl-C it is removed. An existing file is
never replaced unless asked to (`force`); without it the rename is a hard
link, which fails rather than replace a file that appeared meanwhile.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
from pathlib import Path
from typing import IO

from atm.domain.errors import InvalidInput


class OutputExists(InvalidInput):
    """The target file exists and overwriting was not asked for."""


class OutputNotWritable(InvalidInput):
    """The file could not be written (no such folder, no permission, a full disk)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def file_name(text: str) -> str:
    """A name safe to use as a file name in the current folder, from an id read from the database."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:100].lstrip(".")
    return name or "export"


class StagedFile:
    """`with StagedFile(force=...) as staged: write(staged.open(path, "wb"))`; renamed into place on success."""

    def __init__(self, *, force: bool = False) -> None:
        self.path: Path | None = None
        self.force = force
        self._tmp: Path | None = None
        self._fh: IO | None = None
        self._old_sigterm = None

    def check(self, path: Path) -> None:
        """Refuse early, before any work: an existing file (without force), a folder, a missing folder."""
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidInput(f"{self.path} is a folder; name a file with -o FILE")
        if not self.force and (self.path.exists() or self.path.is_symlink()):
            raise OutputExists(f"{self.path} exists; use --force to replace it")
        folder = self.path.parent
        if not folder.is_dir():
            raise OutputNotWritable(f"cannot write {self.path}: the folder {folder} does not exist")

    def open(self, path: Path, mode: str = "wb", **kwargs) -> IO:
        """The temporary file to write to, in the folder of `path`; `path` is where it goes when complete."""
        if self._fh is not None:
            raise RuntimeError("a staged file is opened once")
        self.check(path)
        # The name is kept before the file exists, so that an interrupt at any point still finds it to remove.
        for _ in range(100):
            self._tmp = self.path.parent / f".{self.path.name}.{secrets.token_hex(4)}.part"
            try:
                fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                break
            except FileExistsError:
                self._tmp = None  # not ours
                continue
            except OSError as exc:
                self._tmp = None
                raise self._not_writable(exc) from None
        else:
            raise OutputNotWritable(f"cannot write {self.path}: no free temporary name in {self.path.parent}")
        self._fh = os.fdopen(fd, mode, **kwargs)
        return self._fh

    def __enter__(self) -> "StagedFile":
        # A plain `kill` (SIGTERM) unwinds like Ctrl-C, so the temporary file is removed then too.
        if hasattr(signal, "SIGTERM"):
            try:
                self._old_sigterm = signal.signal(signal.SIGTERM, _terminate)
            except ValueError:  # not the main thread
                self._old_sigterm = None
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None and self._tmp is not None:
                self._publish()
            elif exc_type is not None and issubclass(exc_type, OSError) and not isinstance(exc, BrokenPipeError):
                raise self._not_writable(exc) from None
        finally:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()
            if self._tmp is not None and self._tmp.exists():
                self._tmp.unlink()
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)

    def _publish(self) -> None:
        fh = self._fh
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        os.chmod(self._tmp, 0o666 & ~_umask())
        try:
            if self.force:
                os.replace(self._tmp, self.path)
                return
            try:
                os.link(self._tmp, self.path)
            except FileExistsError:
                raise OutputExists(f"{self.path} exists; use --force to replace it") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                # A file system without hard links: check, then rename (a narrow race, but never a half file).
                if self.path.exists():
                    raise OutputExists(f"{self.path} exists; use --force to replace it") from None
                os.replace(self._tmp, self.path)
        except OSError as exc:
            raise self._not_writable(exc) from None

    def _not_writable(self, exc: OSError) -> OutputNotWritable:
        return OutputNotWritable(f"cannot write {self.path}: {exc.strerror or exc}; nothing was written")


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt
