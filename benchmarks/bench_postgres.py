#!/usr/bin/env python3
"""Transfer benchmark for atm on a PostgreSQL server: request + submit of N assets, same company.

Usage:
    python benchmarks/bench_postgres.py [--server URL] [--assets N] [--workdir DIR] [--atm PATH] [--keep]
                                        [--seed S] [--json-out FILE]

Figures (README.md in this folder explains each one):
  1. generate bench_transfer's world (two SAs of one company, an admin of both, N assets in the source) and
     load it with `atm init` + `atm import` into a new database on the server (ANALYZE afterwards, as
     autovacuum would shortly do, so both runs below plan with the same statistics);
  2. baseline P: on a copy of that database (CREATE DATABASE ... TEMPLATE), raw psycopg does the same row work
     in one transaction: inserts the N transaction item rows with executemany, moves the N assets with one
     set-based UPDATE, marks the N items transferred with one UPDATE, and commits;
  3. `atm request --assets-file ids.txt --json` and `atm submit TXN`, each as a whole process against the
     server: wall time of each, their sum, and the ratio of the sum to baseline P (target: at most 5x);
  4. checks that both databases ended with every asset at the target, once.

Needs psycopg (an atm dependency) and a server where the URL's user may create databases; both databases are
dropped at the end unless --keep. atm is only ever run as a separate process. The generator and the figures
are bench_transfer's and bench_foundation's.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (  # noqa: E402
    Figure, Report, add_common_args, asset_count, atm_env, find_atm, finish, keep_or_clean, make_workdir, run,
    run_measured,
)
from bench_transfer import (  # noqa: E402
    ADMIN, SOURCE, SOURCE_VA, TARGET, TARGET_VA, TRANSFER_MAX_RATIO, World, check_moved, write_world,
)

import psycopg  # noqa: E402  (an atm dependency; after the sibling imports so their errors come first)

DEFAULT_SERVER = "postgresql://root@127.0.0.1:5432/test"
GENERATED = ("world.json", "ids.txt")
BASELINE_TXN = "BENCH-BASELINE"


def database_url(server: str, name: str) -> str:
    base, _, _ = server.partition("?")
    return f"{base.rpartition('/')[0]}/{name}"


# --- baseline P: raw psycopg on a copy of the same database -------------------------------------------


def run_baseline(url: str, ids: list[str]) -> tuple[float, int, int]:
    """The item rows with executemany, the assets moved and the items marked with one UPDATE each, in one
    transaction. Building the rows is not timed; executemany, both UPDATEs and COMMIT are."""
    with psycopg.connect(url) as conn:
        kinds = dict(conn.execute("SELECT id, kind FROM assets WHERE account = %s", (SOURCE,)).fetchall())
        rows = [(BASELINE_TXN, seq, aid, kinds[aid], SOURCE_VA) for seq, aid in enumerate(ids, start=1)]
        conn.commit()
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(
                "INSERT INTO transactions (id, source_account, source_va, target_account, target_va, same_company, "
                "state, requested_by, created_at) VALUES (%s, %s, NULL, %s, %s, 1, 'transfer_initiated', %s, "
                "'2026-01-01T00:00:00Z')", (BASELINE_TXN, SOURCE, TARGET, TARGET_VA, ADMIN))
            conn.cursor().executemany("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
                                      "VALUES (%s, %s, %s, %s, %s)", rows)
            moved = conn.execute(
                "UPDATE assets SET account = %s, virtual_account = %s WHERE id IN "
                "(SELECT asset_id FROM transaction_items WHERE transaction_id = %s)",
                (TARGET, TARGET_VA, BASELINE_TXN)).rowcount
            marked = conn.execute("UPDATE transaction_items SET result = 'transferred' WHERE transaction_id = %s",
                                  (BASELINE_TXN,)).rowcount
        seconds = time.perf_counter() - start
    return seconds, moved, marked


# --- checks -------------------------------------------------------------------------------------------


def placed(url: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(url) as conn:
        return {(a, va): n for a, va, n in conn.execute(
            "SELECT account, virtual_account, count(*) FROM assets GROUP BY account, virtual_account")}


def transaction_state(url: str, txn: str) -> tuple[str, dict[str, int]]:
    with psycopg.connect(url) as conn:
        state = conn.execute("SELECT state FROM transactions WHERE id = %s", (txn,)).fetchone()[0]
        counts = dict(conn.execute("SELECT result, count(*) FROM transaction_items WHERE transaction_id = %s "
                                   "GROUP BY result", (txn,)).fetchall())
        return state, counts


# --- steps -------------------------------------------------------------------------------------------------


def step_world(atm: Path, env: dict[str, str], workdir: Path, url: str, n: int, seed: int,
               report: Report) -> World:
    print(f"[1] generating {n:,} assets in {SOURCE} / {SOURCE_VA} into {workdir / 'world.json'} ...", flush=True)
    world = write_world(workdir, n, seed)
    print(f"    {world.licenses:,} license lines ({world.minor_lines:,} minor lines), {world.devices:,} devices; "
          f"ids.txt has {len(world.ids):,} ids; took {world.seconds:.1f} s")
    run([str(atm), "init"], env)
    proc = run_measured([str(atm), "import", str(world.path)], env)
    print(f"    atm import into {url}: {proc.seconds:.2f} s (not part of the transfer figures)")
    report.add(Figure("atm import (setup)", proc.seconds, "s", note="informational; not part of the ratio"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return world


def step_baseline(admin: str, url: str, copy_url: str, world: World, report: Report) -> float:
    copy_name, name = copy_url.rpartition("/")[2], url.rpartition("/")[2]
    print(f"[2] baseline P: raw psycopg on a copy of the imported database (CREATE DATABASE {copy_name} TEMPLATE "
          f"{name}; timed: executemany of the items, two set-based UPDATEs, COMMIT)", flush=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {copy_name} TEMPLATE {name}")
    seconds, moved, marked = run_baseline(copy_url, world.ids)
    n = len(world.ids)
    print(f"    {seconds:.3f} s; {moved:,} assets moved, {marked:,} items marked")
    report.add(Figure("baseline P psycopg (items + 2 UPDATEs)", seconds, "s",
                      note="executemany of N item rows + UPDATE assets ... WHERE id IN (SELECT ...) + UPDATE items "
                           "+ COMMIT, atm's schema"))
    ok = moved == n == marked and placed(copy_url).get((TARGET, TARGET_VA)) == n
    report.add(Figure("baseline P assets moved", moved, "rows", target=f"= {n:,}", passed=ok))
    return seconds


def step_transfer(atm: Path, env: dict[str, str], url: str, world: World, baseline: float,
                  report: Report) -> None:
    n = len(world.ids)
    request = [str(atm), "request", "--from", SOURCE, "--to", TARGET, "--to-va", TARGET_VA, "--same-company", "yes",
               "--assets-file", str(world.ids_file), "--json"]
    print(f"[3] atm request --assets-file {world.ids_file.name} --json, then atm submit (whole processes, "
          f"PostgreSQL) ...", flush=True)
    req = run_measured(request, env)
    txn = json.loads(req.stdout)["transaction_id"]
    print(f"    request: {req.seconds:.2f} s, peak RSS {req.peak_rss_mb:,.1f} MiB -> {txn}")
    sub = run_measured([str(atm), "submit", txn], env)
    print(f"    submit:  {sub.seconds:.2f} s, peak RSS {sub.peak_rss_mb:,.1f} MiB")
    total = req.seconds + sub.seconds
    print(f"    total:   {total:.2f} s = {total / baseline:.2f}x baseline P ({n / total:,.0f} assets/s)")
    report.add(Figure("atm request", req.seconds, "s", note="whole process: validation of N ids, N item rows, "
                                                              "--json view of the transaction"))
    report.add(Figure("atm submit", sub.seconds, "s", note="whole process: re-validation, chunked move with row "
                                                             "locks and a re-check per chunk, completion"))
    report.add(Figure("atm request + submit", total, "s", baseline=baseline, baseline_name="P",
                      target=f"<= {TRANSFER_MAX_RATIO:g}x P", passed=total <= TRANSFER_MAX_RATIO * baseline))
    report.add(Figure("atm assets/s (request + submit)", n / total, "rows/s"))
    report.add(Figure("atm request peak RSS", req.peak_rss_mb, "MiB"))
    report.add(Figure("atm submit peak RSS", sub.peak_rss_mb, "MiB"))
    check_moved(report, n, *transaction_state(url, txn), placed(url))


# --- main ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ATM_BENCH_SERVER", DEFAULT_SERVER), metavar="URL",
                        help=f"a database on the server whose user may CREATE DATABASE (default {DEFAULT_SERVER})")
    parser.add_argument("--assets", type=asset_count, default=100_000, metavar="N", help="assets to transfer (default 100,000)")
    add_common_args(parser, keep="keep the generated files and both databases")
    args = parser.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atm = find_atm(args.atm)
    workdir, own_dir = make_workdir(args.workdir, "atm-bench-postgres-")
    tag = secrets.token_hex(3)
    url, copy_url = database_url(args.server, f"atm_bench_{tag}"), database_url(args.server, f"atm_bench_{tag}_p")
    with psycopg.connect(args.server, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        conn.execute(f"CREATE DATABASE atm_bench_{tag}")
    env = atm_env(url, ADMIN)
    env.pop("ATM_SMTP_URL", None)
    report = Report({"assets": args.assets, "seed": args.seed, "atm": str(atm), "workdir": str(workdir),
                     "platform": sys.platform, "postgresql": version, "database": url})
    print(f"atm: {atm}\nworkdir: {workdir}\nPostgreSQL {version} at {url}, Python {sys.version.split()[0]}")
    try:
        world = step_world(atm, env, workdir, url, args.assets, args.seed, report)
        baseline = step_baseline(args.server, url, copy_url, world, report)
        step_transfer(atm, env, url, world, baseline, report)
    finally:
        if keep_or_clean(args.keep, workdir, own_dir, GENERATED, f" and the databases {url} and {copy_url}"):
            with psycopg.connect(args.server, autocommit=True) as conn:
                for name in (f"atm_bench_{tag}", f"atm_bench_{tag}_p"):
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return finish(report, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
