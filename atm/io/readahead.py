"""Read and check a large JSON import file in a second process, while the importing process writes.

On two cores a first import of a million assets spends about a third of its time reading the JSON and
checking records, and the rest in SQLite. `ReadAhead` runs the reading and the batch checks
(atm.domain.record_batches) in a child process, `python -m atm.io.readahead FILE`, which writes frames to its
standard output: the checked columns of each batch it took, and each other record as it came. The importing process takes them in file order, exactly as it takes records it reads itself, so the
rows, the summary and every refusal are the same (tests/integration/test_import_batches.py).

A frame is an 8-byte little-endian length and a `marshal` of plain values (marshal carries no code, and
keeps true apart from 1). The child never touches the database. If it stops without saying why, the
import fails and nothing is written; if the import stops first, the child is killed.
"""

from __future__ import annotations

import marshal
import os
import signal
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from atm.domain.errors import InvalidInput
from atm.domain.record_batches import NewAssets, in_batches, new_devices, new_licenses

FRAME = struct.Struct("<Q")
CHECKS = {"licenses": new_licenses, "devices": new_devices}


class ReadAhead:
    """A JSON import file read by a child process: yields `(section, position, record)` as a source does, and
    `(section, [positions], NewAssets)` for a batch the child checked and took."""

    def __init__(self, path: Path, total: int) -> None:
        self.path = path
        self.total = total
        self.done = 0  # bytes of the file the child had read when it sent what was last taken
        self._proc: subprocess.Popen | None = None

    def where(self, section: str, position: int) -> str:
        return f"{section}[{position}]"

    def __iter__(self) -> Iterator[tuple]:
        errors = tempfile.TemporaryFile()
        self._proc = proc = subprocess.Popen(reader_command(self.path), env=_child_env(), stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=errors)
        try:
            read = proc.stdout.read
            while True:
                head = read(FRAME.size)
                body = read(FRAME.unpack(head)[0]) if len(head) == FRAME.size else b""
                if not body:
                    raise self._stopped(proc, errors)
                message = marshal.loads(body)
                kind = message[0]
                if kind == "batch":
                    _, section, positions, batch, self.done = message
                    yield section, positions, NewAssets(*batch)
                elif kind == "record":
                    _, section, position, record, self.done = message
                    yield section, position, record
                elif kind == "refused":
                    raise InvalidInput(message[1], message[2])
                else:
                    self.done = message[1]
                    return
        finally:
            self.close()
            errors.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()

    def _stopped(self, proc: subprocess.Popen, errors: BinaryIO) -> InvalidInput:
        code = proc.wait()
        errors.seek(0)
        lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        why = f": {lines[-1]}" if lines else ""
        return InvalidInput(f"{self.path.name}: the process reading the file stopped (exit status {code}){why}; "
                            "nothing was imported")


def reader_command(path: Path) -> list[str]:
    # -P: nothing from the current directory is imported (an `atm` folder there is not this program).
    return [sys.executable, "-P", "-m", "atm.io.readahead", os.fspath(path)]


def _child_env() -> dict[str, str]:
    """This environment, with the folder this atm package was imported from first on the module path, so the
    child runs the same atm (a source checkout, say) and nothing else of that name."""
    here = str(Path(__file__).resolve().parents[2])
    paths = [here] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


# --- the child ------------------------------------------------------------------------------------


def serve(path: Path, out: BinaryIO) -> None:
    """Read the file and write its frames: what `atm import` would read and check itself, in file order."""
    from atm.io.sources import JsonSource

    def send(message: tuple) -> None:
        body = marshal.dumps(message)
        out.write(FRAME.pack(len(body)))
        out.write(body)

    try:
        fh = path.open("rb")
    except OSError as exc:
        send(("refused", f"cannot read {path}: {exc.strerror or exc}", []))
        return
    with fh:
        source = JsonSource(path, fh)
        try:
            for section, position, item in in_batches(source, CHECKS):
                if position.__class__ is list:
                    send(("batch", section, position, item.as_message(), source.done))
                else:
                    send(("record", section, position, item, source.done))
        except InvalidInput as exc:
            send(("refused", exc.message, exc.details))
            return
    send(("end", source.done))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importing process's to report; it kills this one
    out = sys.stdout.buffer
    try:
        serve(Path(sys.argv[1]), out)
        out.flush()
    except BrokenPipeError:  # the importing process stopped first
        os._exit(0)


if __name__ == "__main__":
    main()
