#!/usr/bin/env python3
"""Scale benchmark for atm: bulk transfers at 100,000 and 1,000,000 assets, a 1,000,000-asset import, start-up.

Usage:
    python benchmarks/bench_scale.py [--sizes 100000,1000000] [--runs R] [--workdir DIR] [--atm PATH]
                                     [--keep] [--seed S] [--json-out FILE]

One table of figures, each beside a baseline measured in the same run (README.md in this folder explains each):
  - bulk request + submit of N assets (same company, ids from a file) against the floor: raw sqlite3 doing the
    same row work in one process and one transaction, on tables with only primary keys (insert N item rows,
    update N assets' account, mark N items transferred); the peak memory of each atm process;
  - the growth from the smallest to the largest size (linear: at most 11x for 10x the assets);
  - `atm import` of the largest world against raw executemany of the same rows (A: the same columns, primary
    keys only; A+idx: atm's own tables with every index, for information), and its peak memory;
  - `atm --help` against a bare two-command Typer app, and an indexed `assets list --serial` on the largest
    database against `atm --help`.

Standard library only; atm is only ever run as a separate process. The generator (bench_foundation's records,
placed as bench_transfer does), the process runner and the summary table are shared with the other scripts.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (  # noqa: E402  (the sibling scripts, importable once their folder is on sys.path)
    BARE_APP, INSERT_ASSET, INSERT_MINOR, PLAIN_SCHEMA, Figure, Report, add_common_args, atm_env, atm_schema,
    device_row, fail, find_atm, finish, iter_devices, iter_licenses, license_row, listed, make_workdir, maxrss_mb,
    python_of, remove_db, run, split_counts, time_round_robin,
)
from bench_transfer import (  # noqa: E402
    ADMIN, SOURCE, TARGET, TARGET_VA, placed, transaction_state, transferable, write_world,
)

BULK_MAX_RATIO = 5.0  # request + submit within 5x the floor at the smallest size
GROWTH_MAX_RATIO = 11.0  # 10x the assets in at most 11x the time
BULK_MAX_RSS_MB = 300.0  # request and submit at the largest size
IMPORT_MAX_RATIO = 3.0  # import within 3x raw executemany (A)
IMPORT_MAX_RSS_MB = 500.0
HELP_MAX_RATIO = 1.1  # atm --help within 1.1x a bare Typer app
QUERY_MAX_RATIO = 1.2  # an indexed assets list within 1.2x atm --help
CHUNK = 50_000


# --- running atm ---------------------------------------------------------------------------------


def run_lean(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a whole process: (seconds, its own peak RSS in MiB, the first 4 KiB of its stdout).

    The peak comes from os.wait4. On Linux a child's peak also counts what this script had resident when it
    forked, so the script keeps little in memory (it never holds a 1M-item JSON output or the id list) and
    keeps only the head of what atm prints.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        head = out.read(4096).decode("utf-8", "replace")
        if code != 0:
            err.seek(0)
            fail(cmd, code, head, err.read().decode("utf-8", "replace"))
    return seconds, maxrss_mb(usage.ru_maxrss), head


def read_ids(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split()


# --- the floor: the same row work in raw sqlite3, primary keys only ------------------------------

FLOOR_ITEMS = ("CREATE TABLE items (transaction_id TEXT NOT NULL, seq INTEGER NOT NULL, asset_id TEXT NOT NULL, "
               "kind TEXT NOT NULL, from_va TEXT NOT NULL, result TEXT NOT NULL, PRIMARY KEY (transaction_id, seq))")


def world_rows(n: int, seed: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The world's records as (asset rows, minor-line rows) chunks, built again from the same seed."""
    n_licenses, n_devices = split_counts(n)
    rows: list[tuple] = []
    minors: list[tuple] = []
    for record in transferable(iter_licenses(n_licenses, seed), []):
        rows.append(license_row(record))
        minors.extend((record["id"], m["line"], m["pid"], m["quantity"]) for m in record["minor_lines"])
        if len(rows) >= CHUNK:
            yield rows, minors
            rows, minors = [], []
    for record in transferable(iter_devices(n_devices, seed), []):
        rows.append(device_row(record))
        if len(rows) >= CHUNK:
            yield rows, minors
            rows, minors = [], []
    if rows or minors:
        yield rows, minors


def connect(path: Path) -> sqlite3.Connection:
    remove_db(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def run_floor(path: Path, n: int, seed: int, ids_file: Path) -> float:
    """Insert N item rows, move N assets (update their account and VA by id), mark N items transferred: one
    process, one transaction. Loading the assets and building the rows is not timed."""
    conn = connect(path)
    for statement in PLAIN_SCHEMA[:1] + [FLOOR_ITEMS]:
        conn.execute(statement)
    conn.execute("BEGIN")
    kinds = {}
    for rows, _ in world_rows(n, seed):
        conn.executemany(INSERT_ASSET, rows)
        kinds.update((r[0], r[1]) for r in rows)
    conn.execute("COMMIT")
    ids = read_ids(ids_file)
    items = [("T1", seq, aid, kinds[aid], "DEFAULT", "pending") for seq, aid in enumerate(ids, start=1)]
    moves = [(TARGET, TARGET_VA, aid) for aid in ids]
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", items)
    conn.executemany("UPDATE assets SET account = ?, virtual_account = ? WHERE id = ?", moves)
    conn.execute("UPDATE items SET result = 'transferred' WHERE transaction_id = 'T1'")
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    moved = conn.execute("SELECT count(*) FROM assets WHERE account = ?", (TARGET,)).fetchone()[0]
    conn.close()
    if moved != n:
        raise SystemExit(f"the floor moved {moved:,} assets, expected {n:,}")
    return seconds


def run_executemany(path: Path, schema: list[str], n: int, seed: int, *, then: list[str] = ()) -> float:
    """Raw executemany of the world's rows in one transaction, then the `then` statements (building indexes);
    only executemany, those statements and COMMIT are timed."""
    conn = connect(path)
    for statement in schema:
        conn.execute(statement)
    conn.execute("BEGIN")
    timed = 0.0
    for rows, minors in world_rows(n, seed):
        start = time.perf_counter()
        conn.executemany(INSERT_ASSET, rows)
        conn.executemany(INSERT_MINOR, minors)
        timed += time.perf_counter() - start
    start = time.perf_counter()
    for statement in then:
        conn.execute(statement)
    conn.execute("COMMIT")
    timed += time.perf_counter() - start
    conn.close()
    return timed


# --- one size ---------------------------------------------------------------------------------------


class Size:
    def __init__(self, n: int, workdir: Path) -> None:
        self.n = n
        self.dir = workdir / f"n{n}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = self.dir / "atm.db"
        self.env = atm_env(str(self.db), ADMIN)
        self.ids_file = self.dir / "ids.txt"
        self.import_seconds = self.import_rss = 0.0
        self.bulk_seconds = self.request_rss = self.submit_rss = self.floor = 0.0


def step_world(atm: Path, size: Size, seed: int) -> None:
    print(f"[{size.n:,}] world: generating, then atm init + atm import (timed) ...", flush=True)
    world = write_world(size.dir, size.n, seed)
    path = world.path
    del world  # its id list: the ids are in ids.txt
    gc.collect()
    remove_db(size.db)
    run([str(atm), "init"], size.env)
    size.import_seconds, size.import_rss, _ = run_lean([str(atm), "import", str(path)], size.env)
    print(f"    {path.stat().st_size / 2**20:,.0f} MiB file; import {size.import_seconds:.1f} s, "
          f"peak RSS {size.import_rss:,.0f} MiB")


def step_bulk(atm: Path, size: Size, seed: int) -> None:
    request = [str(atm), "request", "--from", SOURCE, "--to", TARGET, "--to-va", TARGET_VA, "--same-company",
               "yes", "--assets-file", str(size.ids_file), "--json"]
    req_seconds, size.request_rss, head = run_lean(request, size.env)
    txn = re.search(r'"transaction_id": ?"([^"]+)"', head).group(1)
    sub_seconds, size.submit_rss, _ = run_lean([str(atm), "submit", txn, "--yes"], size.env)
    size.bulk_seconds = req_seconds + sub_seconds
    state, counts = transaction_state(size.db, txn)
    where = placed(size.db)
    if state != "transfer_completed" or counts != {"transferred": size.n} or where != {(TARGET, TARGET_VA): size.n}:
        raise SystemExit(f"the transfer did not complete: {state}, items {counts}, assets {where}")
    size.floor = run_floor(size.dir / "floor.db", size.n, seed, size.ids_file)
    print(f"    request {req_seconds:.2f} s ({size.request_rss:,.0f} MiB) + submit {sub_seconds:.2f} s "
          f"({size.submit_rss:,.0f} MiB) = {size.bulk_seconds:.2f} s; floor {size.floor:.3f} s "
          f"= {size.bulk_seconds / size.floor:.2f}x", flush=True)


def step_startup(atm: Path, size: Size, runs: int, report: Report) -> None:
    bare = size.dir / "bare_typer.py"
    bare.write_text(BARE_APP, encoding="utf-8")
    serial = next(i for i in reversed(read_ids(size.ids_file)) if not i.startswith("SO"))  # a device, late
    commands = {"bare": [python_of(atm), str(bare), "--help"], "help": [str(atm), "--help"],
                "query": [str(atm), "assets", "list", "--account", SOURCE, "--serial", serial, "--json"]}
    found = listed(run(commands["query"], size.env).stdout)
    if [a.get("id") for a in found] != [serial]:
        raise SystemExit(f"assets list --serial {serial} found {found!r}, expected that device")
    print(f"[{size.n:,}] start-up: --help and assets list --serial, 2 warm-ups then {runs} interleaved runs ...",
          flush=True)
    times = time_round_robin(commands, size.env, runs, 2)
    med = {name: statistics.median(values) for name, values in times.items()}
    report.add(Figure("atm --help (median)", med["help"], "s", baseline=med["bare"], baseline_name="bare Typer",
                      target=f"<= {HELP_MAX_RATIO:g}x", passed=med["help"] <= HELP_MAX_RATIO * med["bare"]))
    report.add(Figure(f"assets list --serial at {size.n:,} (median)", med["query"], "s", baseline=med["help"],
                      baseline_name="--help", target=f"<= {QUERY_MAX_RATIO:g}x",
                      passed=med["query"] <= QUERY_MAX_RATIO * med["help"]))


def step_import_baseline(size: Size, seed: int, report: Report) -> None:
    print(f"[{size.n:,}] import baselines: raw executemany of the same rows (A: primary keys only; A+idx: atm's "
          "tables and indexes; A+build: atm's tables, indexes built after the rows) ...", flush=True)
    plain = run_executemany(size.dir / "a.db", PLAIN_SCHEMA, size.n, seed)
    schema = atm_schema(size.db)
    indexed = run_executemany(size.dir / "a_idx.db", schema, size.n, seed)
    tables = [sql for sql in schema if not sql.lstrip().upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))]
    built = run_executemany(size.dir / "a_build.db", tables, size.n, seed, then=schema[len(tables):])
    print(f"    A {plain:.2f} s, A+idx {indexed:.2f} s, A+build {built:.2f} s")
    report.add(Figure(f"atm import {size.n:,}", size.import_seconds, "s", baseline=plain, baseline_name="A",
                      target=f"<= {IMPORT_MAX_RATIO:g}x A", passed=size.import_seconds <= IMPORT_MAX_RATIO * plain))
    report.add(Figure(f"atm import {size.n:,}, against A+idx", size.import_seconds, "s", baseline=indexed,
                      baseline_name="A+idx", note="the same rows into atm's tables with all their indexes"))
    report.add(Figure(f"A+build {size.n:,}, against A", built, "s", baseline=plain, baseline_name="A",
                      note="atm's own SQL for a first import: the rows into its tables, then its indexes built "
                           "once, as atm import does (a large first import reads and checks the file in a second "
                           "process meanwhile)"))
    report.add(Figure(f"atm import {size.n:,} peak RSS", size.import_rss, "MiB",
                      target=f"< {IMPORT_MAX_RSS_MB:g} MiB", passed=size.import_rss < IMPORT_MAX_RSS_MB))


def report_bulk(sizes: list[Size], report: Report) -> None:
    small, large = sizes[0], sizes[-1]
    for size in sizes:
        first = size is small
        report.add(Figure(f"bulk request+submit {size.n:,}", size.bulk_seconds, "s", baseline=size.floor,
                          baseline_name="floor", target=f"<= {BULK_MAX_RATIO:g}x" if first else "",
                          passed=size.bulk_seconds <= BULK_MAX_RATIO * size.floor if first else None))
        last = size is large and len(sizes) > 1
        for name, rss in (("request", size.request_rss), ("submit", size.submit_rss)):
            report.add(Figure(f"  {name} peak RSS {size.n:,}", rss, "MiB",
                              target=f"< {BULK_MAX_RSS_MB:g} MiB" if last else "",
                              passed=rss < BULK_MAX_RSS_MB if last else None))
    if len(sizes) > 1:
        report.add(Figure(f"bulk growth {small.n:,} -> {large.n:,}", large.bulk_seconds, "s",
                          baseline=small.bulk_seconds, baseline_name=f"{small.n:,}",
                          target=f"<= {GROWTH_MAX_RATIO * large.n / small.n / 10:g}x",
                          passed=large.bulk_seconds <= GROWTH_MAX_RATIO * large.n / small.n / 10 * small.bulk_seconds))


# --- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="asset counts, smallest first (default "
                                                                   "100000,1000000)")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of the start-up figures (default 15)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    except ValueError:
        parser.error("--sizes takes numbers separated by commas, e.g. 100000,1000000")
    if not args.sizes or args.sizes[0] < 2:
        parser.error("--sizes must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atm = find_atm(args.atm)
    workdir, own_dir = make_workdir(args.workdir, "atm-bench-scale-")
    report = Report({"sizes": args.sizes, "seed": args.seed, "atm": str(atm), "workdir": str(workdir),
                     "platform": sys.platform, "sqlite": sqlite3.sqlite_version})
    print(f"atm: {atm}\nworkdir: {workdir}\nSQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    sizes = [Size(n, workdir) for n in args.sizes]
    try:
        for size in sizes:
            step_world(atm, size, args.seed)
            if size is sizes[-1]:
                step_startup(atm, size, args.runs, report)  # the query runs on the largest database
                step_import_baseline(size, args.seed, report)
            step_bulk(atm, size, args.seed)
            if not args.keep:  # the large files go as soon as they have served
                (size.dir / "world.json").unlink(missing_ok=True)
                for name in ("a.db", "a_idx.db", "a_build.db", "floor.db"):
                    remove_db(size.dir / name)
        report_bulk(sizes, report)
    finally:
        if args.keep:
            print(f"\nkept the files in {workdir}")
        else:
            for size in sizes:
                shutil.rmtree(size.dir, ignore_errors=True)
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
    return finish(report, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
