#!/usr/bin/env python3
"""Transfer benchmark for atm: request + submit of N assets from an --assets-file, same company.

Usage:
    python benchmarks/bench_transfer.py [--assets N] [--workdir DIR] [--atm PATH] [--keep]
                                        [--seed S] [--json-out FILE]

Figures (README.md in this folder explains each one):
  1. generate a world (two SAs of one company, an admin of both) with N assets in the source SA,
     as an atm JSON import file, plus ids.txt listing every asset id; `atm init` + `atm import`;
  2. baseline T: on a copy of that database, raw sqlite3 inserts the N transaction item rows with
     executemany, moves the assets with one set-based UPDATE ... WHERE id IN (SELECT asset_id ...),
     and commits;
  3. `atm request --assets-file ids.txt --json` and `atm submit TXN`, each as a whole process:
     wall time of each, their sum, and the ratio of the sum to baseline T (target: at most 5x);
  4. checks that both databases ended with every asset at the target, once.

Standard library only; atm is only ever run as a separate process. The generator, the process
runner and the summary table are bench_foundation's.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (  # noqa: E402  (the sibling script, importable once its folder is on sys.path)
    Figure, Report, add_common_args, asset_count, atm_env, find_atm, finish, iter_devices, iter_licenses,
    keep_or_clean, make_workdir, remove_db, run, run_measured, split_counts, write_array,
)

# --- targets -----------------------------------------------------------------

TRANSFER_MAX_RATIO = 5.0  # atm request + submit within 5x raw sqlite3 doing the same row work

# --- the world -------------------------------------------------------------------

ADMIN = "ops@corp.example"
SOURCE, SOURCE_VA = "east.corp.example", "DEFAULT"
TARGET, TARGET_VA = "west.corp.example", "Production"
USERS = [{"id": ADMIN, "name": "Ops Admin (both SAs)", "compliance": False}]
ACCOUNTS = [
    {"domain": SOURCE, "name": "Corp East", "legal_entity": "Corp KK",
     "virtual_accounts": [{"name": "DEFAULT"}], "admins": [ADMIN], "users": []},
    {"domain": TARGET, "name": "Corp West", "legal_entity": "Corp KK",
     "virtual_accounts": [{"name": "DEFAULT"}, {"name": TARGET_VA}], "admins": [ADMIN], "users": []},
]
GENERATED = ("world.json", "ids.txt", "atm.db", "baseline.db")


def transferable(records: Iterator[dict], ids: list[str]) -> Iterator[dict]:
    """bench_foundation's realistic records, all placed in the source and eligible (R5): no EA, no pending
    upgrade, no SSM On-Prem VA. Their ids are collected for the --assets-file."""
    for record in records:
        record["account"], record["virtual_account"] = SOURCE, SOURCE_VA
        if "sales_order" in record and "line" in record:  # a license line
            record["enterprise_agreement"] = record["pending_upgrade"] = False
            ids.append(record["id"])
        else:
            ids.append(record["serial_number"])
        yield record


@dataclass
class World:
    path: Path
    ids_file: Path
    ids: list[str]
    licenses: int
    devices: int
    minor_lines: int
    seconds: float


def write_world(workdir: Path, n: int, seed: int) -> World:
    """Stream the import file (never held in memory) and write ids.txt, one id a line."""
    n_licenses, n_devices = split_counts(n)
    ids: list[str] = []
    path = workdir / "world.json"
    start = time.perf_counter()
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        out.write('{\n "users": ' + json.dumps(USERS) + ",\n")
        out.write(' "accounts": ' + json.dumps(ACCOUNTS) + ",\n")
        out.write(' "licenses": [')
        licenses, minor_lines = write_array(out, transferable(iter_licenses(n_licenses, seed), ids))
        out.write(',\n "devices": [')
        devices, _ = write_array(out, transferable(iter_devices(n_devices, seed), ids))
        out.write("\n}\n")
    ids_file = workdir / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return World(path, ids_file, ids, licenses, devices, minor_lines, time.perf_counter() - start)


# --- baseline T: raw sqlite3 on a copy of the same database ---------------------------------

BASELINE_TXN = "BENCH-BASELINE"


def copy_database(src: Path, dst: Path) -> None:
    """A consistent copy (WAL included) through SQLite's online backup."""
    remove_db(dst)
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    source.close()
    target.close()


def run_baseline(db_path: Path, ids: list[str]) -> tuple[float, int]:
    """Insert the N item rows with executemany and move the assets with one set-based UPDATE, in one
    transaction. Same pragmas as atm. Building the rows is not timed; executemany, UPDATE and COMMIT are."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    kinds = dict(conn.execute("SELECT id, kind FROM assets WHERE account = ?", (SOURCE,)).fetchall())
    rows = [(BASELINE_TXN, seq, aid, kinds[aid], SOURCE_VA) for seq, aid in enumerate(ids, start=1)]
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO transactions (id, source_account, source_va, target_account, target_va, same_company, "
        "state, requested_by, created_at) VALUES (?, ?, NULL, ?, ?, 1, 'transfer_initiated', ?, "
        "'2026-01-01T00:00:00Z')", (BASELINE_TXN, SOURCE, TARGET, TARGET_VA, ADMIN))
    conn.executemany("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
                     "VALUES (?, ?, ?, ?, ?)", rows)
    moved = conn.execute(
        "UPDATE assets SET account = ?, virtual_account = ? WHERE id IN "
        "(SELECT asset_id FROM transaction_items WHERE transaction_id = ?)",
        (TARGET, TARGET_VA, BASELINE_TXN)).rowcount
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds, moved


# --- checks -------------------------------------------------------------------------------


def placed(db_path: Path) -> dict[tuple[str, str], int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {(a, va): n for a, va, n in conn.execute(
            "SELECT account, virtual_account, count(*) FROM assets GROUP BY account, virtual_account")}
    finally:
        conn.close()


def transaction_state(db_path: Path, txn: str) -> tuple[str, dict[str, int]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        state = conn.execute("SELECT state FROM transactions WHERE id = ?", (txn,)).fetchone()[0]
        counts = dict(conn.execute("SELECT result, count(*) FROM transaction_items WHERE transaction_id = ? "
                                   "GROUP BY result", (txn,)).fetchall())
        return state, counts
    finally:
        conn.close()


# --- steps ---------------------------------------------------------------------------------


def step_world(atm: Path, env: dict[str, str], workdir: Path, n: int, seed: int, report: Report) -> World:
    print(f"[1] generating {n:,} assets in {SOURCE} / {SOURCE_VA} into {workdir / 'world.json'} ...", flush=True)
    world = write_world(workdir, n, seed)
    print(f"    {world.licenses:,} license lines ({world.minor_lines:,} minor lines), {world.devices:,} devices; "
          f"{world.path.stat().st_size / 2**20:,.1f} MiB; ids.txt has {len(world.ids):,} ids; "
          f"took {world.seconds:.1f} s")
    remove_db(workdir / "atm.db")
    run([str(atm), "init"], env)
    proc = run_measured([str(atm), "import", str(world.path)], env)
    print(f"    atm import: {proc.seconds:.2f} s (not part of the transfer figures)")
    report.add(Figure("atm import (setup)", proc.seconds, "s", note="informational; not part of the ratio"))
    return world


def step_baseline(workdir: Path, world: World, report: Report) -> float:
    atm_db, copy = workdir / "atm.db", workdir / "baseline.db"
    print("[2] baseline T: raw sqlite3 on a copy of the imported database (timed: executemany of the items, "
          "one set-based UPDATE, COMMIT)", flush=True)
    copy_database(atm_db, copy)
    seconds, moved = run_baseline(copy, world.ids)
    n = len(world.ids)
    print(f"    {seconds:.3f} s; {moved:,} assets moved")
    report.add(Figure("baseline T sqlite3 (items + UPDATE)", seconds, "s",
                      note="executemany of N item rows + UPDATE ... WHERE id IN (SELECT ...) + COMMIT, atm's schema"))
    ok = moved == n and placed(copy).get((TARGET, TARGET_VA)) == n
    report.add(Figure("baseline T assets moved", moved, "rows", target=f"= {n:,}", passed=ok))
    return seconds


def step_transfer(atm: Path, env: dict[str, str], workdir: Path, world: World, baseline: float,
                  report: Report) -> None:
    n = len(world.ids)
    request = [str(atm), "request", "--from", SOURCE, "--to", TARGET, "--to-va", TARGET_VA, "--same-company", "yes",
               "--assets-file", str(world.ids_file), "--json"]
    print(f"[3] atm request --assets-file {world.ids_file.name} --json, then atm submit (whole processes) ...",
          flush=True)
    req = run_measured(request, env)
    txn = json.loads(req.stdout)["transaction_id"]
    print(f"    request: {req.seconds:.2f} s, peak RSS {req.peak_rss_mb:,.1f} MiB -> {txn}")
    sub = run_measured([str(atm), "submit", txn], env)
    print(f"    submit:  {sub.seconds:.2f} s, peak RSS {sub.peak_rss_mb:,.1f} MiB")
    total = req.seconds + sub.seconds
    print(f"    total:   {total:.2f} s = {total / baseline:.2f}x baseline T ({n / total:,.0f} assets/s)")
    report.add(Figure("atm request", req.seconds, "s", note="whole process: validation of N ids, N item rows, "
                                                              "--json view of the transaction"))
    report.add(Figure("atm submit", sub.seconds, "s", note="whole process: re-validation, chunked move, completion"))
    report.add(Figure("atm request + submit", total, "s", baseline=baseline, baseline_name="T",
                      target=f"<= {TRANSFER_MAX_RATIO:g}x T", passed=total <= TRANSFER_MAX_RATIO * baseline))
    report.add(Figure("atm assets/s (request + submit)", n / total, "rows/s"))
    report.add(Figure("atm request peak RSS", req.peak_rss_mb, "MiB"))
    report.add(Figure("atm submit peak RSS", sub.peak_rss_mb, "MiB"))
    check_moved(report, n, *transaction_state(workdir / "atm.db", txn), placed(workdir / "atm.db"))


def check_moved(report: Report, n: int, state: str, counts: dict, where: dict) -> None:
    """The figure that says atm did the job: the transaction completed and all n assets sit at the target."""
    ok = state == "transfer_completed" and counts == {"transferred": n} and where == {(TARGET, TARGET_VA): n}
    report.add(Figure("assets at the target after atm", where.get((TARGET, TARGET_VA), 0), "rows",
                      target=f"= {n:,}, all items transferred", passed=ok,
                      note="" if ok else f"state {state}, items {counts}, assets {where}"))


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=asset_count, default=100_000, metavar="N", help="assets to transfer (default 100,000)")
    add_common_args(parser)
    args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atm = find_atm(args.atm)
    workdir, own_dir = make_workdir(args.workdir, "atm-bench-transfer-")
    env = atm_env(str(workdir / "atm.db"), ADMIN)
    report = Report({"assets": args.assets, "seed": args.seed, "atm": str(atm), "workdir": str(workdir),
                     "platform": sys.platform, "sqlite": sqlite3.sqlite_version})
    print(f"atm: {atm}\nworkdir: {workdir}\nSQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    try:
        world = step_world(atm, env, workdir, args.assets, args.seed, report)
        baseline = step_baseline(workdir, world, report)
        step_transfer(atm, env, workdir, world, baseline, report)
    finally:
        keep_or_clean(args.keep, workdir, own_dir, GENERATED)
    return finish(report, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
