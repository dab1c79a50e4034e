#!/usr/bin/env python3
"""Export benchmark for atm: `atm export TXN --xlsx` of an N-item transaction, beside openpyxl alone.

Usage:
    python benchmarks/bench_export.py [--assets N] [--runs R] [--workdir DIR] [--atm PATH] [--keep]
                                      [--seed S] [--json-out FILE]

Figures (README.md in this folder explains each one):
  1. a transaction of N items: the world of bench_transfer (N eligible assets, one admin of two SAs),
     `atm init` + `atm import`, then `atm request --assets-file` and `atm submit` (setup, not measured);
  2. `atm export TXN --xlsx -o export.xlsx` as a whole process: wall time and peak RSS;
  3. baseline X: a process of the same Python that builds, as a Python list, a grid of the same number of
     rows and columns as the export's Licenses and Devices sheets (every cell filled) and writes it with
     openpyxl in write-only mode; steps 2 and 3 alternate for R rounds and the medians are compared;
     targets: the export no slower than X, and under 100 MiB peak RSS;
  4. checks: the workbook opens, its Licenses and Devices sheets hold one row per item and per minor
     line, and no cell is a formula; then, for information, baseline S: the same process writing exactly
     the export's own cells (read back from the file), to show what the export adds beyond them.

Standard library and openpyxl only; atm is only ever run as a separate process. The world, the process
runner and the summary table are bench_transfer's and bench_foundation's.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (  # noqa: E402  (sibling scripts, importable once their folder is on sys.path)
    Figure, Report, add_common_args, asset_count, atm_env, find_atm, finish, keep_or_clean, make_workdir,
    python_of, run, run_measured,
)
from bench_transfer import ADMIN, SOURCE, TARGET, TARGET_VA, World, step_world  # noqa: E402

# --- targets -----------------------------------------------------------------

EXPORT_MAX_RATIO = 1.0      # the export no slower than openpyxl writing a grid of the same size
EXPORT_MAX_RSS_MB = 100.0   # and under 100 MiB peak resident memory

LICENSE_COLUMNS, DEVICE_COLUMNS = 13, 10   # the export's Licenses and Devices sheets
LICENSE_NUMBER_COLUMNS = (7,)              # Quantity (0-based); every other column holds text
GENERATED = ("world.json", "ids.txt", "atm.db", "export.xlsx", "grid.xlsx", "cells.xlsx", "cells.pickle",
             "baseline_writer.py")

# The baseline writer: the same interpreter, openpyxl write-only, rows from a Python list.
BASELINE_WRITER = '''\
"""Write rows from a Python list with openpyxl's write-only mode; print the write time as JSON."""
import pickle
import sys
import time

from openpyxl import Workbook

mode, source, out = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "grid":  # "rows:columns:number-columns" per sheet, e.g. 119000:13:7 45000:10:
    sheets = []
    for spec in source.split():
        title, rows, columns, numbers = spec.split(":")
        numbers = {int(n) for n in numbers.split(",") if n}
        sheets.append((title, [tuple(i % 1000 if c in numbers else f"C{c:02d}-{i:010d}"
                                     for c in range(int(columns))) for i in range(int(rows))]))
else:  # "cells": the exact rows of a workbook, pickled
    with open(source, "rb") as fh:
        sheets = pickle.load(fh)
start = time.perf_counter()
book = Workbook(write_only=True)
for title, rows in sheets:
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
book.save(out)
print('{"write_seconds": %.6f, "rows": %d}' % (time.perf_counter() - start, sum(len(r) for _, r in sheets)))
'''


# --- steps -------------------------------------------------------------------------


def step_transaction(atm: Path, env: dict[str, str], world: World, report: Report) -> str:
    request = [str(atm), "request", "--from", SOURCE, "--to", TARGET, "--to-va", TARGET_VA, "--same-company",
               "yes", "--assets-file", str(world.ids_file)]
    print(f"[2] atm request + atm submit of {len(world.ids):,} assets (setup, not part of the figures) ...",
          flush=True)
    start = time.perf_counter()
    txn = run(request, env).stdout.strip().splitlines()[0]
    run([str(atm), "submit", txn], env)
    print(f"    {txn}, transfer completed in {time.perf_counter() - start:.1f} s")
    return txn


def expected_rows(db_path: Path, txn: str) -> tuple[int, int, int]:
    """(license items, their minor lines, device items) of the transaction, counted with sqlite3."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        kinds = dict(conn.execute("SELECT kind, count(*) FROM transaction_items WHERE transaction_id = ? "
                                  "GROUP BY kind", (txn,)).fetchall())
        minors = conn.execute("SELECT count(*) FROM transaction_items i JOIN minor_lines m "
                              "ON m.license_id = i.asset_id WHERE i.transaction_id = ?", (txn,)).fetchone()[0]
        return kinds.get("license", 0), minors, kinds.get("device", 0)
    finally:
        conn.close()


def write_baseline_writer(workdir: Path) -> Path:
    writer = workdir / "baseline_writer.py"
    writer.write_text(BASELINE_WRITER, encoding="utf-8")
    return writer


def step_rounds(atm: Path, python: str, env: dict[str, str], workdir: Path, txn: str, rows: tuple[int, int],
                runs: int, report: Report) -> tuple[Path, float, float]:
    """The export and baseline X, alternating, so that a busy moment hits both alike; medians compared."""
    out, grid = workdir / "export.xlsx", workdir / "grid.xlsx"
    writer = write_baseline_writer(workdir)
    numbers = ",".join(str(c) for c in LICENSE_NUMBER_COLUMNS)
    spec = f"Licenses:{rows[0]}:{LICENSE_COLUMNS}:{numbers} Devices:{rows[1]}:{DEVICE_COLUMNS}:"
    print(f"[3] {runs} round(s) of: atm export {txn} --xlsx -o {out.name}, then baseline X: {python} writes a "
          f"{rows[0]:,} x {LICENSE_COLUMNS} and a {rows[1]:,} x {DEVICE_COLUMNS} grid from a Python list "
          "(openpyxl write-only); whole processes", flush=True)
    exports, baselines = [], []
    for round_no in range(1, runs + 1):
        out.unlink(missing_ok=True)
        grid.unlink(missing_ok=True)
        proc = run_measured([str(atm), "export", txn, "--xlsx", "-o", str(out)], env)
        base = run_measured([python, str(writer), "grid", spec, str(grid)], env)
        inner = json.loads(base.stdout)["write_seconds"]
        exports.append(proc)
        baselines.append((base, inner))
        print(f"    round {round_no}: export {proc.seconds:.2f} s (peak RSS {proc.peak_rss_mb:,.1f} MiB); "
              f"baseline X {base.seconds:.2f} s ({inner:.2f} s in openpyxl, peak RSS {base.peak_rss_mb:,.1f} MiB)")
    atm_seconds = statistics.median(p.seconds for p in exports)
    x_seconds = statistics.median(b.seconds for b, _ in baselines)
    peak = max(p.peak_rss_mb for p in exports)
    spread = f"median of {runs}; min {min(p.seconds for p in exports):.2f} s, max {max(p.seconds for p in exports):.2f} s"
    report.add(Figure("atm export --xlsx", atm_seconds, "s",
                      note=f"whole process: start-up, R2 check, five sheets streamed from the database; {spread}"))
    report.add(Figure("baseline X openpyxl grid", x_seconds, "s",
                      note=f"whole process, median of {runs}; "
                           f"{statistics.median(i for _, i in baselines):.2f} s appending and saving; "
                           "every cell filled"))
    report.add(Figure("atm export peak RSS", peak, "MiB", target=f"< {EXPORT_MAX_RSS_MB:g} MiB",
                      passed=peak < EXPORT_MAX_RSS_MB, note=f"the largest of {runs} runs"))
    report.add(Figure("export file size", out.stat().st_size / 2**20, "MiB"))
    return out, atm_seconds, x_seconds


def read_sheets(path: Path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return {name: [tuple(c.value for c in row) for row in book[name].iter_rows()]
                for name in ("Licenses", "Devices")}
    finally:
        book.close()


def count_formulas(path: Path) -> int:
    """Cells stored as formulas (<f> elements) in any sheet of the workbook: must be none."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        return sum(z.read(name).count(b"<f>") + z.read(name).count(b"<f ")
                   for name in z.namelist() if name.startswith("xl/worksheets/"))


def step_check(workdir: Path, export: Path, txn: str, baseline: float, atm_seconds: float,
               python: str, env: dict[str, str], report: Report) -> None:
    licenses, minors, devices = expected_rows(workdir / "atm.db", txn)
    print("[4] checks: rows per sheet, no formulas; baseline S: the export's own cells rewritten ...", flush=True)
    sheets = read_sheets(export)
    got = (len(sheets["Licenses"]) - 1, len(sheets["Devices"]) - 1)
    want = (licenses + minors, devices)
    report.add(Figure("rows in Licenses + Devices", sum(got), "rows",
                      target=f"= {sum(want):,} ({licenses:,} lines + {minors:,} minor lines + {devices:,} devices)",
                      passed=got == want))
    formulas = count_formulas(export)
    report.add(Figure("formula cells in the export", formulas, "rows", target="= 0", passed=formulas == 0))
    cells = sum(1 for rows in sheets.values() for row in rows[1:] for v in row if v is not None)
    grid = got[0] * LICENSE_COLUMNS + got[1] * DEVICE_COLUMNS
    report.add(Figure("non-empty cells in the export", cells, "rows",
                      note=f"baseline X fills all {grid:,} cells of the same grid"))
    pickled = workdir / "cells.pickle"
    with pickled.open("wb") as fh:
        pickle.dump([(name, rows) for name, rows in sheets.items()], fh, protocol=pickle.HIGHEST_PROTOCOL)
    del sheets
    proc = run_measured([python, str(workdir / "baseline_writer.py"), "cells", str(pickled),
                         str(workdir / "cells.xlsx")], env)
    inner = json.loads(proc.stdout)["write_seconds"]
    report.add(Figure("baseline S openpyxl, the export's cells", proc.seconds, "s",
                      note=f"informational: whole process; {inner:.2f} s appending and saving"))
    report.add(Figure("atm export vs baseline S", atm_seconds, "s", baseline=proc.seconds, baseline_name="S",
                      note="informational: what the export adds beyond writing its own cells"))
    report.add(Figure("atm export vs baseline X", atm_seconds, "s", baseline=baseline, baseline_name="X",
                      target=f"<= {EXPORT_MAX_RATIO:g}x X", passed=atm_seconds <= EXPORT_MAX_RATIO * baseline))


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=asset_count, default=100_000, metavar="N", help="items of the transaction "
                                                                                  "(default 100,000)")
    parser.add_argument("--runs", type=int, default=3, metavar="R",
                        help="rounds of export and baseline X, alternating (default 3); medians are compared")
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atm = find_atm(args.atm)
    python = python_of(atm)
    workdir, own_dir = make_workdir(args.workdir, "atm-bench-export-")
    env = atm_env(str(workdir / "atm.db"), ADMIN)
    report = Report({"assets": args.assets, "runs": args.runs, "seed": args.seed, "atm": str(atm), "python": python,
                     "workdir": str(workdir), "platform": sys.platform, "sqlite": sqlite3.sqlite_version})
    print(f"atm: {atm}\npython: {python}\nworkdir: {workdir}\nSQLite {sqlite3.sqlite_version}, "
          f"Python {sys.version.split()[0]}")
    try:
        world = step_world(atm, env, workdir, args.assets, args.seed, report)
        txn = step_transaction(atm, env, world, report)
        licenses, minors, devices = expected_rows(workdir / "atm.db", txn)
        export, atm_seconds, baseline = step_rounds(atm, python, env, workdir, txn, (licenses + minors, devices),
                                                    args.runs, report)
        step_check(workdir, export, txn, baseline, atm_seconds, python, env, report)
    finally:
        keep_or_clean(args.keep, workdir, own_dir, GENERATED)
    return finish(report, args.json_out)


if __name__ == "__main__":
    sys.exit(main())
