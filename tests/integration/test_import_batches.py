"""A first import takes ordinary records a batch at a time; what it stores and what it refuses are those of
record-by-record import (docs/import.md). The files here are larger than one batch (2,000 records)."""

import json
import signal
import subprocess
import sys

import pytest

import atm.io.readahead as readahead
import atm.services.importing as importing
from atm.domain.errors import InvalidInput
from atm.services.importing import BATCH, import_file
from atm.services.unit_of_work import UnitOfWork
from atm.storage.database import open_database
from atm.storage.migrations import ensure_schema
from tests.backends import fresh_target
from tests.conftest import small_world, write_json

N = 2 * BATCH + 500  # three batches of each kind, the last one short


def big_world() -> dict:
    world = small_world()
    world["licenses"] += [
        {"id": f"L{i}", "account": "north.example", "sales_order": str(1000 + i // 3), "line": str(i % 3 + 1),
         "pid": "LIC-A", "quantity": 5, "in_use": i % 6, "enterprise_agreement": i % 7 == 0,
         "minor_lines": [{"line": f"{i % 3 + 1}.1", "pid": "LIC-A-1", "quantity": 1}] if i % 2 else []}
        for i in range(N)
    ]
    world["devices"] += [
        {"serial_number": f"fox{i}", "pid": "DEV-X", "account": "south.example" if i % 2 else "north.example",
         "virtual_account": "Edge" if i % 5 == 0 and i % 2 == 0 else None, "cslu": i % 3 == 0}
        for i in range(N)
    ]
    return world


def dump(uow) -> dict:
    return {table: [tuple(row) for row in uow.db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()]
            for table in ("assets", "minor_lines")}


LANES = ("read ahead", "batches", "one by one")


def import_both_ways(tmp_path, new_uow, world, monkeypatch):
    """What each lane did: the stored rows and the summary, or the refusal's message. The lanes: a second
    process reads and checks the file in batches (atm.io.readahead), this process checks batches itself, and
    record by record, the reference."""
    out = []
    for lane in LANES:
        monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0 if lane == "read ahead" else 2**62)
        if lane == "one by one":
            monkeypatch.setattr(importing, "BATCHED", {"licenses": lambda raws: None, "devices": lambda raws: None})
        uow = new_uow()
        try:
            summary = import_file(uow, write_json(tmp_path / "big.json", world))
            out.append((summary.as_dict(), dump(uow)))
        except InvalidInput as exc:
            assert dump(uow) == {"assets": [], "minor_lines": []}, "a refused file must change nothing"
            out.append(str(exc))
        uow.db.close()
    return out


@pytest.fixture
def fresh_uow(tmp_path):
    """Makes a new, empty database for each import of a test."""
    opened = []

    def make() -> UnitOfWork:
        where = tmp_path / f"db{len(opened)}"
        where.mkdir()
        db = open_database(fresh_target(where), create=True)
        ensure_schema(db)
        opened.append(db)
        return UnitOfWork(db)

    return make


def test_a_big_first_import_stores_what_record_by_record_stores(tmp_path, fresh_uow, monkeypatch):
    world = big_world()
    world["licenses"][BATCH + 7]["quantity"] = "5"  # converted one by one: that batch goes record by record
    world["devices"][10]["pid"] = " DEV-X "  # trimmed one by one
    read_ahead, batches, reference = import_both_ways(tmp_path, fresh_uow, world, monkeypatch)
    assert read_ahead == reference and batches == reference
    summary, rows = batches
    assert summary["created"] == 2 * N + 6 and len(rows["assets"]) == 2 * N + 6


@pytest.mark.sqlite_only  # rowid: the order rows were written in
def test_the_rows_keep_the_file_order_whichever_lane_took_them(uow, tmp_path):
    world = big_world()
    world["licenses"][2 * BATCH + 100]["quantity"] = "5"  # the last, short batch of licenses goes one by one
    import_file(uow, write_json(tmp_path / "big.json", world))
    ids = [row[0] for row in uow.db.execute("SELECT id FROM assets ORDER BY rowid").fetchall()]
    licenses = [f"L{i}" for i in range(N)]
    assert [i for i in ids if i.startswith("L")] == licenses
    assert ids.index(licenses[-1]) < ids.index("FOX0")  # the devices come after every license


# Positions count the small world's three records of each kind first: licenses[k] is L<k-3>, devices[k] FOX<k-3>.
@pytest.mark.parametrize("break_it, message", [
    (lambda w: w["licenses"][BATCH + 100].update(id="L10"),
     f"licenses[{BATCH + 100}] (L10): id: 'L10' appears twice in the file (first at big.json: licenses[13])"),
    (lambda w: w["licenses"][2 * BATCH + 1].update(id="l10"),
     f"licenses[{2 * BATCH + 1}] (l10): id: 'l10' appears twice in the file (first at big.json: licenses[13])"),
    (lambda w: w["devices"][BATCH + 1].update(id="D-NEW", serial_number="FOX3"),
     f"devices[{BATCH + 1}] (D-NEW): serial_number: 'FOX3' appears twice in the file (first at big.json: devices[6])"),
    (lambda w: w["licenses"][BATCH + 3].update(sales_order="1000", line="1"),
     f"licenses[{BATCH + 3}] (L{BATCH}): line: sales order 1000 line 1 appears twice in the file "
     "(first at big.json: licenses[3])"),
    (lambda w: w["licenses"][2 * BATCH].update(in_use=9),
     f"licenses[{2 * BATCH}] (L{2 * BATCH - 3}): in_use: 9 is more than the quantity 5"),
    (lambda w: w["devices"][N + 2].update(virtual_account="Nowhere"),
     f"devices[{N + 2}] (FOX{N - 1}): virtual_account: no virtual account 'Nowhere' in south.example"),
    (lambda w: w["devices"][BATCH].update(account="west.example"),
     f"devices[{BATCH}] (FOX{BATCH - 3}): account: no Smart Account 'west.example'"),
])
def test_a_big_file_is_refused_with_the_same_message_either_way(tmp_path, fresh_uow, monkeypatch, break_it,
                                                                 message):
    world = big_world()
    break_it(world)
    read_ahead, batches, reference = import_both_ways(tmp_path, fresh_uow, world, monkeypatch)
    assert read_ahead == reference and batches == reference
    assert message in batches and batches.endswith("nothing was imported")


def test_the_batch_lane_is_taken_on_a_first_import_only(uow, tmp_path, monkeypatch):
    taken = []
    real = importing.BATCHED["licenses"]
    monkeypatch.setitem(importing.BATCHED, "licenses", lambda raws: taken.append(len(raws)) or real(raws))
    world = big_world()
    import_file(uow, write_json(tmp_path / "big.json", world))
    assert sum(taken) == N + 3
    taken.clear()
    world["licenses"][5]["quantity"] = 7
    summary = import_file(uow, write_json(tmp_path / "big.json", world))  # a re-import merges, one by one
    assert taken == [] and summary.updated == 2 * N + 6
    assert uow.db.one("SELECT quantity FROM assets WHERE id = 'L2'") == 7


@pytest.mark.parametrize("spoil, message", [
    (lambda text: text.replace('"L3000", ', '"L3000", "pid": "X", ', 1),
     'big.json: not valid JSON at line 1, column'),  # a duplicate key, deep in the file
    (lambda text: text.replace('{"users"', '{"extra": 1, "users"', 1),
     "big.json: unknown top-level key 'extra'"),
    (lambda text: text[:len(text) // 2], "big.json: not valid JSON at line 1, column"),
])
def test_a_broken_file_read_ahead_is_refused_as_when_read_here(tmp_path, fresh_uow, monkeypatch, spoil, message):
    path = tmp_path / "big.json"
    path.write_text(spoil(json.dumps(big_world())), encoding="utf-8")
    said = []
    for read_ahead in (True, False):
        monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0 if read_ahead else 2**62)
        uow = new = fresh_uow()
        with pytest.raises(InvalidInput) as info:
            import_file(uow, path)
        assert dump(new) == {"assets": [], "minor_lines": []}
        said.append(str(info.value))
        uow.db.close()
    assert said[0] == said[1] and said[0].startswith(message), said


def test_a_reading_process_that_dies_fails_the_import_and_changes_nothing(uow, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0)
    monkeypatch.setattr(readahead, "reader_command",
                        lambda path: [sys.executable, "-c", "import sys; print('out of memory', file=sys.stderr); "
                                                            "sys.exit(3)"])
    with pytest.raises(InvalidInput) as info:
        import_file(uow, write_json(tmp_path / "big.json", big_world()))
    assert str(info.value) == ("big.json: the process reading the file stopped (exit status 3): out of memory; "
                               "nothing was imported")
    assert dump(uow) == {"assets": [], "minor_lines": []}


def test_an_import_that_stops_early_stops_its_reading_process(uow, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0)
    started = []
    popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda *args, **kwargs: started.append(popen(*args, **kwargs))
                        or started[-1])
    world = big_world()
    for record in world["licenses"][:25]:
        record["quantity"] = -1  # 20 problems stop the import in the first batch, long before the file ends
    with pytest.raises(InvalidInput):
        import_file(uow, write_json(tmp_path / "big.json", world))
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL  # killed and reaped, not left running


def test_a_file_read_ahead_comes_checked_in_batches_with_progress_to_the_end(uow, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0)
    checked = []
    real = importing._Importer.add_checked
    monkeypatch.setattr(importing._Importer, "add_checked",
                        lambda self, section, positions, batch: checked.append(len(positions)) or
                        real(self, section, positions, batch))
    path = write_json(tmp_path / "big.json", big_world())
    seen = []
    import_file(uow, path, progress=lambda done, total: seen.append((done, total)))
    assert sum(checked) == 2 * (N + 3) and len(checked) == 6  # three batches of each kind
    size = path.stat().st_size
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_the_reading_process_runs_this_atm_not_one_in_the_current_folder(uow, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0)
    decoy = tmp_path / "atm" / "io"
    decoy.mkdir(parents=True)
    (tmp_path / "atm" / "__init__.py").write_text("")
    (decoy / "__init__.py").write_text("")
    (decoy / "readahead.py").write_text("raise SystemExit('the atm of the current folder ran')\n")
    monkeypatch.chdir(tmp_path)
    summary = import_file(uow, write_json(tmp_path / "big.json", big_world()))
    assert summary.created == 2 * (N + 3)


@pytest.mark.parametrize("read_ahead", [True, False])
def test_atm_import_of_a_big_broken_file_exits_2_with_the_one_line_error(cli, db_target, tmp_path, monkeypatch,
                                                                         read_ahead):
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0 if read_ahead else 2**62)
    assert cli("init").exit_code == 0
    world = big_world()
    world["licenses"][2 * BATCH + 7]["quantity"] = "lots"
    result = cli("import", str(write_json(tmp_path / "big.json", world)))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: big.json: licenses[{2 * BATCH + 7}] (L{2 * BATCH + 4}): quantity: "
                                    "must be a whole number, got 'lots'; nothing was imported")
    world["licenses"][2 * BATCH + 7]["quantity"] = 5
    result = cli("import", str(write_json(tmp_path / "big.json", world)))
    assert result.exit_code == 0 and f"({2 * (N + 3)} assets new, 0 updated)" in result.stderr
