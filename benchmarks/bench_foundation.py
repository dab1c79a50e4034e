#!/usr/bin/env python3
"""Foundation benchmark for atm: bulk import, start-up time and an indexed lookup.

Usage:
    python benchmarks/bench_foundation.py [--assets N] [--workdir DIR] [--atm PATH] [--keep]
                                          [--runs R] [--warmups W] [--seed S] [--json-out FILE]

Figures (README.md in this folder explains each one):
  1. generate N assets in atm's JSON import format (docs/import.md) (streamed, deterministic);
  2. baseline A: the same rows inserted with raw sqlite3 executemany, one transaction;
  3. `atm import` as a whole process: wall time, rows/s, peak RSS, ratio vs baseline A;
  4. `atm --help` vs a bare two-command Typer app's `--help`;
  5. filtered, indexed `atm assets list` (by serial, by sales order) vs `atm --help`.

Standard library only; atm is only ever run as a separate process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

# --- targets -----------------------------------------------------------------

IMPORT_MAX_RATIO = 10.0       # atm import within 10x raw sqlite3 executemany
IMPORT_MAX_RSS_MB = 2048.0    # and under 2 GiB peak resident memory (MiB)
HELP_MAX_RATIO = 1.3          # atm --help within 1.3x a bare Typer app
LIST_MAX_RATIO = 2.0          # filtered atm assets list within 2x atm --help

LICENSE_SHARE = 0.55
BASELINE_CHUNK = 50_000       # rows prepared (untimed) per executemany call in baseline A
WRITE_CHUNK = 10_000          # records joined per write() of the import file

# --- the fixed part of the import file ------------------------------------------

USERS = [
    {"id": "alice.ito@acme.com", "name": "Alice Ito", "compliance": False},
    {"id": "partner@netpartner.example", "name": "Ichiro Tanaka (NetPartner)", "compliance": False},
    {"id": "legal@atm-vendor.example", "name": "Licensing Legal", "compliance": True},
]
ADMIN = "partner@netpartner.example"  # admin of every account: the acting user of the list figures

# (domain, name, legal entity, [(VA, ssm_onprem, weight)], admins, users, weight)
ACCOUNTS = [
    ("acme.com", "Acme Japan", "Acme KK",
     [("DEFAULT", False, 5), ("Production", False, 3), ("Lab", False, 1), ("SSM On-Prem", True, 1)],
     ["alice.ito@acme.com", ADMIN], [], 4),
    ("globex.com", "Globex Corporation", "Globex Corporation",
     [("DEFAULT", False, 6), ("Production", False, 3), ("Branch Offices", False, 1)],
     [ADMIN], ["alice.ito@acme.com"], 3),
    ("initech.example", "Initech", "Initech, Inc.",
     [("DEFAULT", False, 7), ("Datacenter", False, 3)],
     [ADMIN], [], 2),
    ("umbrella.example", "Umbrella Holdings", "Umbrella Corporation",
     [("DEFAULT", False, 1)],
     [ADMIN], [], 1),
]

LICENSE_PIDS = [
    "C9300-DNA-E-24-3Y", "C9300-DNA-A-48-5Y", "C9200-DNA-E-24-3Y", "C9500-DNA-A-3Y", "ISR4K-DNA-A-3Y",
    "C1-ADV-T-3Y", "L-FPR2110T-TMC-3Y", "L-ASA5516-TAMC-3Y", "CSR-1KV-SEC-100M", "AIR-DNA-E-3Y",
    "SL-4330-UC-K9", "E3-N-AIRDNA-ADV",
]
MINOR_PIDS = [
    "C9300-DNA-E-24", "C9300-NW-E-24", "C9300-NW-A-48", "SVS-DCN-E", "ISR4K-DNA-ESS", "L-FPR-TMC-1Y",
    "CON-SNT-C93002", "AIR-DNA-E-1Y",
]
DEVICE_PIDS = [
    "C9300-24T", "C9300-48P", "C9200L-24P-4G", "C9500-40X", "ISR4331/K9", "ISR4451-X/K9",
    "FPR2110-NGFW-K9", "ASA5516-FPWR-K9", "AIR-AP2802I-Q-K9", "C8300-1N1S-6T", "N9K-C93180YC-FX",
]
SERIAL_PREFIXES = ["FOC", "FDO", "FCW", "JAE", "FXS", "FJC", "SAL"]
QUANTITIES = (1, 1, 2, 5, 10, 10, 20, 24, 48, 50, 100, 250, 500, 1000)
LINES_PER_ORDER = (1, 1, 1, 2, 2, 3, 4, 5, 6, 8, 12)
MINOR_COUNTS = (0, 0, 1, 1, 2, 3)
PNP_STATUSES = ("Provisioned",) * 6 + ("Unclaimed", "Planned", "Onboarding", "Error", None)
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERIAL_SPACE = 36 ** 6
SERIAL_STRIDE = 1_000_003  # prime, coprime with 36**6: i -> i*stride mod 36**6 is a bijection

COLUMNS = (
    "id", "kind", "account", "virtual_account", "pid", "license_type", "sales_order", "reserved",
    "line", "quantity", "web_order", "subscription_id", "pak", "in_use", "enterprise_agreement",
    "pending_upgrade", "serial_number", "host_id", "uuid", "pnp_status", "cslu",
)


# --- generating assets ---------------------------------------------------------


@dataclass
class Probes:
    """Values known to exist in the generated data, for the lookup figures."""

    serial: str = ""
    serial_account: str = ""
    sales_order: str = ""
    sales_order_account: str = ""
    sales_order_lines: int = 0


@dataclass
class GeneratedFile:
    path: Path
    size: int
    licenses: int
    devices: int
    minor_lines: int
    probes: Probes
    seconds: float


def split_counts(n: int) -> tuple[int, int]:
    licenses = round(n * LICENSE_SHARE)
    return licenses, n - licenses


def pick_place(rng: random.Random) -> tuple[str, str]:
    account = rng.choices(ACCOUNTS, weights=[a[-1] for a in ACCOUNTS])[0]
    vas = account[3]
    va = rng.choices(vas, weights=[v[2] for v in vas])[0]
    return account[0], va[0]


def digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10 ** (n - 1), 10 ** n))


def pak_key(rng: random.Random) -> str:
    return "-".join("".join(rng.choices(BASE36, k=5)) for _ in range(3))


def iter_licenses(count: int, seed: int, probes: Probes | None = None) -> Iterator[dict]:
    """License major lines: sales orders of 1-12 lines, each line with 0-3 minor lines."""
    rng = random.Random(f"{seed}-licenses")
    order = 100_000_000 + rng.randrange(1000)
    made = 0
    while made < count:
        order += rng.randint(1, 97)
        n_lines = min(rng.choice(LINES_PER_ORDER), count - made)
        account, va = pick_place(rng)
        web_order = "W" + digits(rng, 9) if rng.random() < 0.75 else None
        is_probe = probes is not None and not probes.sales_order and made >= count // 2
        if is_probe:
            probes.sales_order, probes.sales_order_account = str(order), account
            probes.sales_order_lines = n_lines
        for line_no in range(1, n_lines + 1):
            yield license_record(rng, order, line_no, account, va, web_order)
        made += n_lines


def license_record(rng: random.Random, order: int, line_no: int, account: str, va: str,
                   web_order: str | None) -> dict:
    line = str(line_no)
    quantity = rng.choice(QUANTITIES)
    pak = pak_key(rng) if rng.random() < 0.15 else None
    kind_roll = rng.random()
    if pak:
        license_type = "Classic"
    else:
        license_type = "Smart" if kind_roll < 0.95 else ("SLR" if kind_roll < 0.98 else "PLR")
    minors = sorted(rng.sample(range(1, 10), rng.choice(MINOR_COUNTS)))
    return {
        "id": f"SO{order}-{line}",
        "account": account,
        "virtual_account": va,
        "sales_order": str(order),
        "line": line,
        "pid": rng.choice(LICENSE_PIDS),
        "quantity": quantity,
        "web_order": web_order,
        "subscription_id": "Sub" + digits(rng, 7) if rng.random() < 0.6 else None,
        "pak": pak,
        "license_type": license_type,
        "in_use": rng.randint(0, quantity) if rng.random() < 0.7 else 0,
        "enterprise_agreement": rng.random() < 0.03,
        "reserved": license_type in ("SLR", "PLR"),
        "pending_upgrade": rng.random() < 0.02,
        "minor_lines": [
            {"line": f"{line}.{m}", "pid": rng.choice(MINOR_PIDS), "quantity": quantity} for m in minors
        ],
    }


def serial_number(rng: random.Random, index: int) -> str:
    """Unique by construction: the last six characters encode the index, scrambled."""
    code = (index * SERIAL_STRIDE) % SERIAL_SPACE
    tail = ""
    for _ in range(6):
        code, digit = divmod(code, 36)
        tail = BASE36[digit] + tail
    return f"{rng.choice(SERIAL_PREFIXES)}{rng.randint(18, 25):02d}{rng.randint(1, 52):02d}{tail}"


def iter_devices(count: int, seed: int, probes: Probes | None = None) -> Iterator[dict]:
    """Devices; runs of 1-10 consecutive devices share a hardware sales order."""
    if count > SERIAL_SPACE:
        raise ValueError(f"at most {SERIAL_SPACE} devices")
    rng = random.Random(f"{seed}-devices")
    order, left_in_order = 800_000_000, 0
    for index in range(count):
        if left_in_order == 0:
            order += rng.randint(1, 53)
            left_in_order = rng.randint(1, 10)
        left_in_order -= 1
        record = device_record(rng, index, order)
        if probes is not None and index == count // 2:
            probes.serial, probes.serial_account = record["serial_number"], record["account"]
        yield record


def device_record(rng: random.Random, index: int, order: int) -> dict:
    account, va = pick_place(rng)
    roll = rng.random()
    license_type = "Smart" if roll < 0.85 else ("Classic" if roll < 0.95 else ("SLR" if roll < 0.98 else "PLR"))
    return {
        "serial_number": serial_number(rng, index),
        "pid": rng.choice(DEVICE_PIDS),
        "host_id": f"{rng.getrandbits(32):08X}" if rng.random() < 0.85 else None,
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "account": account,
        "virtual_account": va,
        "license_type": license_type,
        "pnp_status": rng.choice(PNP_STATUSES),
        "sales_order": str(order) if rng.random() < 0.8 else None,
        "cslu": rng.random() < 0.08,
        "reserved": license_type in ("SLR", "PLR"),
    }


def accounts_section() -> list[dict]:
    return [
        {
            "domain": domain, "name": name, "legal_entity": legal,
            "virtual_accounts": [
                {"name": va, "ssm_onprem": True} if ssm else {"name": va} for va, ssm, _ in vas
            ],
            "admins": admins, "users": users,
        }
        for domain, name, legal, vas, admins, users, _ in ACCOUNTS
    ]


def write_array(out, records: Iterator[dict]) -> tuple[int, int]:
    """Write records as JSON array elements, one per line, in joined chunks. Returns (records, minor lines)."""
    count = minors = 0
    chunk: list[str] = []
    for record in records:
        chunk.append(json.dumps(record, separators=(", ", ": ")))
        count += 1
        minors += len(record.get("minor_lines") or ())
        if len(chunk) >= WRITE_CHUNK:
            out.write(("\n  " if count == len(chunk) else ",\n  ") + ",\n  ".join(chunk))
            chunk = []
    if chunk:
        out.write(("\n  " if count == len(chunk) else ",\n  ") + ",\n  ".join(chunk))
    out.write("\n ]" if count else "]")
    return count, minors


def write_import_file(path: Path, n: int, seed: int) -> GeneratedFile:
    """Stream N assets into `path` in atm's JSON import format (docs/import.md); nothing big is held in memory."""
    n_licenses, n_devices = split_counts(n)
    probes = Probes()
    start = time.perf_counter()
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        out.write('{\n "users": ' + json.dumps(USERS) + ",\n")
        out.write(' "accounts": ' + json.dumps(accounts_section()) + ",\n")
        out.write(' "licenses": [')
        licenses, minor_lines = write_array(out, iter_licenses(n_licenses, seed, probes))
        out.write(',\n "devices": [')
        devices, _ = write_array(out, iter_devices(n_devices, seed, probes))
        out.write("\n}\n")
    seconds = time.perf_counter() - start
    return GeneratedFile(path, path.stat().st_size, licenses, devices, minor_lines, probes, seconds)


# --- baseline A: raw sqlite3 ------------------------------------------------------

PLAIN_SCHEMA = [
    "CREATE TABLE assets (id TEXT PRIMARY KEY, kind TEXT NOT NULL, account TEXT NOT NULL, "
    "virtual_account TEXT NOT NULL, pid TEXT NOT NULL, license_type TEXT, sales_order TEXT, "
    "reserved INTEGER NOT NULL, line TEXT, quantity INTEGER, web_order TEXT, subscription_id TEXT, "
    "pak TEXT, in_use INTEGER, enterprise_agreement INTEGER NOT NULL, pending_upgrade INTEGER NOT NULL, "
    "serial_number TEXT, host_id TEXT, uuid TEXT, pnp_status TEXT, cslu INTEGER NOT NULL)",
    "CREATE TABLE minor_lines (license_id TEXT NOT NULL, line TEXT NOT NULL, pid TEXT NOT NULL, "
    "quantity INTEGER NOT NULL, PRIMARY KEY (license_id, line))",
]
INSERT_ASSET = f"INSERT INTO assets ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
INSERT_MINOR = "INSERT INTO minor_lines (license_id, line, pid, quantity) VALUES (?, ?, ?, ?)"


@dataclass
class Baseline:
    label: str
    seconds: float
    rows: int
    minor_lines: int


def license_row(r: dict) -> tuple:
    return (
        r["id"], "license", r["account"], r["virtual_account"], r["pid"], r["license_type"],
        r["sales_order"], int(r["reserved"]), r["line"], r["quantity"], r["web_order"],
        r["subscription_id"], r["pak"], r["in_use"], int(r["enterprise_agreement"]),
        int(r["pending_upgrade"]), None, None, None, None, 0,
    )


def device_row(r: dict) -> tuple:
    return (
        r["serial_number"], "device", r["account"], r["virtual_account"], r["pid"], r["license_type"],
        r["sales_order"], int(r["reserved"]), None, None, None, None, None, None, 0, 0,
        r["serial_number"], r["host_id"], r["uuid"], r["pnp_status"], int(r["cslu"]),
    )


def iter_row_chunks(n: int, seed: int) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """The generator's records again (same seed), as (asset rows, minor-line rows) chunks."""
    n_licenses, n_devices = split_counts(n)
    rows: list[tuple] = []
    minors: list[tuple] = []
    for record in iter_licenses(n_licenses, seed):
        rows.append(license_row(record))
        minors.extend((record["id"], m["line"], m["pid"], m["quantity"]) for m in record["minor_lines"])
        if len(rows) >= BASELINE_CHUNK:
            yield rows, minors
            rows, minors = [], []
    for record in iter_devices(n_devices, seed):
        rows.append(device_row(record))
        if len(rows) >= BASELINE_CHUNK:
            yield rows, minors
            rows, minors = [], []
    if rows or minors:
        yield rows, minors


def run_baseline(label: str, db_path: Path, schema: list[str], n: int, seed: int) -> Baseline:
    """Insert all rows in one transaction; only executemany and COMMIT are timed.

    Rows are regenerated from the same seed chunk by chunk, outside the timed
    sections, so memory stays bounded. Same pragmas as atm (WAL, synchronous=NORMAL).
    """
    remove_db(db_path)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in schema:
        conn.execute(statement)
    conn.execute("BEGIN")
    timed = 0.0
    rows_total = minors_total = 0
    for rows, minors in iter_row_chunks(n, seed):
        start = time.perf_counter()
        conn.executemany(INSERT_ASSET, rows)
        conn.executemany(INSERT_MINOR, minors)
        timed += time.perf_counter() - start
        rows_total += len(rows)
        minors_total += len(minors)
    start = time.perf_counter()
    conn.execute("COMMIT")
    timed += time.perf_counter() - start
    conn.close()
    return Baseline(label, timed, rows_total, minors_total)


def atm_schema(atm_db: Path) -> list[str]:
    """atm's own DDL for assets and minor_lines (with every index), read from a fresh `atm init` database."""
    conn = sqlite3.connect(f"file:{atm_db}?mode=ro", uri=True)
    try:
        return [sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN ('assets', 'minor_lines') AND sql IS NOT NULL "
            "ORDER BY type = 'index', rowid"
        )]
    finally:
        conn.close()


# --- running atm ----------------------------------------------------------------


@dataclass
class Process:
    seconds: float
    peak_rss_mb: float
    stdout: str


def fail(cmd: list[str], returncode: int, stdout: str, stderr: str) -> None:
    print(f"\nFAILED (exit {returncode}): {' '.join(cmd)}", file=sys.stderr)
    if stdout.strip():
        print("--- stdout (last 2000 chars) ---\n" + stdout[-2000:], file=sys.stderr)
    print("--- stderr ---\n" + (stderr.strip() or "(empty)"), file=sys.stderr)
    raise SystemExit(1)


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a whole process; on failure print its stderr and stop the benchmark."""
    try:
        return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except subprocess.CalledProcessError as exc:
        fail(cmd, exc.returncode, exc.stdout or "", exc.stderr or "")
        raise  # unreachable


def run_measured(cmd: list[str], env: dict[str, str]) -> Process:
    """Run a whole process; wall time and its own peak RSS.

    os.wait4 returns the rusage of exactly this child; RUSAGE_CHILDREN's
    ru_maxrss would be the maximum over every child so far, not this one's.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        fail(cmd, proc.returncode, stdout, stderr)
    return Process(seconds, maxrss_mb(usage.ru_maxrss), stdout)


def maxrss_mb(value: int) -> float:
    return value / 2**20 if sys.platform == "darwin" else value / 2**10  # bytes on macOS, KiB on Linux; -> MiB


def time_round_robin(commands: dict[str, list[str]], env: dict[str, str], runs: int,
                     warmups: int) -> dict[str, list[float]]:
    """Time each command `runs` times, interleaved so drift hits every command alike."""
    for _ in range(warmups):
        for cmd in commands.values():
            run(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            run(cmd, env)
            times[name].append(time.perf_counter() - start)
    return times


BARE_APP = '''\
"""A bare two-command Typer app: the floor for `atm --help`."""
import typer

app = typer.Typer(help="A bare Typer app with two commands.")


@app.command()
def hello(name: str = typer.Option("world", help="Who to greet.")) -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


@app.command()
def goodbye(name: str = typer.Option("world", help="Who to see off.")) -> None:
    """Say goodbye."""
    typer.echo(f"goodbye {name}")


if __name__ == "__main__":
    app()
'''


def python_of(script: Path) -> str:
    """The interpreter a console script runs with (its shebang), so both --help figures use the same one."""
    try:
        with script.open("rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!"):
        candidate = first[2:].strip().split()[0]
        if "python" in Path(candidate).name and Path(candidate).is_file():
            return candidate
    return sys.executable


def find_atm(option: str | None) -> Path:
    if option:
        path = Path(option)
    else:
        path = Path(sys.executable).parent / "atm"
        if not path.exists():
            path = Path(shutil.which("atm") or path)
    if not path.is_file():
        raise SystemExit(f"no atm executable at {path}; pass --atm PATH")
    return path.absolute()


# --- checks on the imported database ------------------------------------------------


def imported_counts(atm_db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{atm_db}?mode=ro", uri=True)
    try:
        assets = conn.execute("SELECT count(*) FROM assets").fetchone()[0]
        minors = conn.execute("SELECT count(*) FROM minor_lines").fetchone()[0]
    finally:
        conn.close()
    return assets, minors


def listed(stdout: str) -> list[dict]:
    value = json.loads(stdout)
    return value if isinstance(value, list) else []


# --- figures and the summary ---------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    passed: bool | None = None  # None: informational
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict:
        return {
            "figure": self.name, "value": round(self.value, 6), "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 6),
            "baseline_name": self.baseline_name or None,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": self.target or None,
            "result": {True: "PASS", False: "FAIL", None: "info"}[self.passed], "note": self.note or None,
        }


@dataclass
class Report:
    settings: dict
    figures: list[Figure] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "rows/s":
        return f"{value:,.0f} {unit}"
    if unit == "MiB":
        return f"{value:,.1f} MiB"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "rows":
        return f"{value:,.0f}"
    return f"{value:g} {unit}".strip()


def print_summary(report: Report) -> None:
    header = ("figure", "value", "baseline", "ratio", "target", "result")
    lines = []
    for f in report.figures:
        base = "-" if f.baseline is None else f"{fmt(f.baseline, f.unit)} ({f.baseline_name})"
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}x"
        result = {True: "PASS", False: "FAIL", None: "info"}[f.passed]
        lines.append((f.name, fmt(f.value, f.unit), base, ratio, f.target or "-", result))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    print("\nSummary")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print(rule)
    for row in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    for f in report.figures:
        if f.note:
            print(f"  note: {f.name}: {f.note}")


# --- steps -----------------------------------------------------------------------------


def step_generate(workdir: Path, n: int, seed: int, report: Report) -> GeneratedFile:
    print(f"[1] generating {n:,} assets into {workdir / 'assets.json'} ...", flush=True)
    gen = write_import_file(workdir / "assets.json", n, seed)
    print(f"    {gen.licenses:,} license lines ({gen.minor_lines:,} minor lines), {gen.devices:,} devices; "
          f"file size {gen.size / 2**20:,.1f} MiB ({gen.size:,} bytes); took {gen.seconds:.1f} s")
    report.add(Figure("import file size", gen.size / 2**20, "MiB"))
    return gen


def step_baselines(workdir: Path, atm_db: Path, n: int, seed: int, report: Report) -> Baseline:
    print("[2] baseline A: raw sqlite3 executemany, one transaction (timed: executemany + COMMIT only; "
          "rows regenerated from the same seed in untimed chunks)", flush=True)
    plain = run_baseline("A", workdir / "baseline_a.db", PLAIN_SCHEMA, n, seed)
    print(f"    A  (plain table, primary keys only): {plain.seconds:.2f} s, {plain.rows / plain.seconds:,.0f} rows/s "
          f"({plain.rows:,} assets + {plain.minor_lines:,} minor lines)")
    indexed = run_baseline("A+idx", workdir / "baseline_a_idx.db", atm_schema(atm_db), n, seed)
    print(f"    A+idx (atm's own DDL, all indexes):  {indexed.seconds:.2f} s, "
          f"{indexed.rows / indexed.seconds:,.0f} rows/s")
    report.add(Figure("baseline A sqlite3 executemany", plain.seconds, "s",
                      note="plain table + minor_lines, primary keys only; executemany+COMMIT timed"))
    report.add(Figure("baseline A rows/s", plain.rows / plain.seconds, "rows/s"))
    report.add(Figure("baseline A+idx (atm schema)", indexed.seconds, "s", baseline=plain.seconds,
                      baseline_name="A", note="same rows into atm's DDL with all its indexes (informational)"))
    return plain


def step_import(atm: Path, env: dict[str, str], gen: GeneratedFile, atm_db: Path, baseline: Baseline,
                report: Report) -> None:
    print(f"[3] atm import {gen.path.name} (whole process) ...", flush=True)
    proc = run_measured([str(atm), "import", str(gen.path)], env)
    n = gen.licenses + gen.devices
    print(f"    {proc.seconds:.2f} s, {n / proc.seconds:,.0f} rows/s, peak RSS {proc.peak_rss_mb:,.1f} MiB")
    assets, minors = imported_counts(atm_db)
    report.add(Figure("atm import", proc.seconds, "s", baseline=baseline.seconds, baseline_name="A",
                      target=f"<= {IMPORT_MAX_RATIO:g}x A",
                      passed=proc.seconds <= IMPORT_MAX_RATIO * baseline.seconds,
                      note="whole process: start-up, JSON parsing, validation, insert, commit"))
    report.add(Figure("atm import rows/s", n / proc.seconds, "rows/s"))
    report.add(Figure("atm import peak RSS", proc.peak_rss_mb, "MiB", target=f"< {IMPORT_MAX_RSS_MB:g} MiB",
                      passed=proc.peak_rss_mb < IMPORT_MAX_RSS_MB))
    ok = assets == n and minors == gen.minor_lines
    report.add(Figure("rows in atm.db after import", assets, "rows", target=f"= {n:,} (+{gen.minor_lines:,} minor)",
                      passed=ok, note="" if ok else f"found {assets:,} assets and {minors:,} minor lines"))


def step_startup_and_lookups(atm: Path, python: str, env: dict[str, str], gen: GeneratedFile, workdir: Path,
                             runs: int, warmups: int, report: Report) -> None:
    bare = workdir / "bare_typer.py"
    bare.write_text(BARE_APP, encoding="utf-8")
    p = gen.probes
    commands = {
        "bare": [python, str(bare), "--help"],
        "help": [str(atm), "--help"],
        "serial": [str(atm), "assets", "list", "--account", p.serial_account, "--serial", p.serial, "--json"],
        "sales_order": [str(atm), "assets", "list", "--account", p.sales_order_account,
                        "--sales-order", p.sales_order, "--json"],
    }
    print(f"[4/5] --help and filtered assets list: {warmups} warm-ups, then {runs} interleaved runs each ...",
          flush=True)
    print(f"    serial {p.serial} in {p.serial_account}; sales order {p.sales_order} in "
          f"{p.sales_order_account} ({p.sales_order_lines} lines); acting user {ADMIN}")
    check_lookups(commands, env, p)
    times = time_round_robin(commands, env, runs, warmups)
    med = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"    {name:<12} median {med[name] * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms   "
              f"max {max(values) * 1000:7.1f} ms")
    report.add(Figure("atm --help (median)", med["help"], "s", baseline=med["bare"], baseline_name="bare Typer",
                      target=f"<= {HELP_MAX_RATIO:g}x bare", passed=med["help"] <= HELP_MAX_RATIO * med["bare"]))
    for name, label in (("serial", "assets list --serial"), ("sales_order", "assets list --sales-order")):
        report.add(Figure(f"{label} (median)", med[name], "s", baseline=med["help"], baseline_name="atm --help",
                          target=f"<= {LIST_MAX_RATIO:g}x --help", passed=med[name] <= LIST_MAX_RATIO * med["help"]))


def check_lookups(commands: dict[str, list[str]], env: dict[str, str], p: Probes) -> None:
    """The lookups must find what the generator put there, or their timings mean nothing."""
    by_serial = listed(run(commands["serial"], env).stdout)
    if [a.get("serial_number") for a in by_serial] != [p.serial]:
        raise SystemExit(f"atm assets list --serial {p.serial} returned {len(by_serial)} assets, expected that one")
    by_order = listed(run(commands["sales_order"], env).stdout)
    found = {a.get("id") for a in by_order if a.get("kind") == "license"}
    if len(found) != p.sales_order_lines:
        raise SystemExit(f"atm assets list --sales-order {p.sales_order} returned {len(found)} license lines, "
                         f"expected {p.sales_order_lines}")
    print(f"    lookups return what was generated ({len(by_serial)} device; {len(by_order)} assets for the order)")


# --- main ------------------------------------------------------------------------------------


def add_common_args(parser: argparse.ArgumentParser, *, keep: str = "keep the generated files") -> None:
    """The options every benchmark script takes."""
    parser.add_argument("--workdir", type=Path, help="where to write files (default: a new temporary directory)")
    parser.add_argument("--atm", help="the atm executable (default: the atm next to this Python)")
    parser.add_argument("--keep", action="store_true", help=keep)
    parser.add_argument("--seed", type=int, default=20240601, help="random seed of the generator")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also save the figures as JSON")


def asset_count(text: str) -> int:
    """`--assets N`: a whole number of at least 2 (a transfer and its baseline need two assets)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError("must be at least 2")
    return n


def keep_or_clean(keep: bool, workdir: Path, own_dir: bool, generated: tuple[str, ...], kept: str = "") -> bool:
    """At the end of a run: say where the kept files are, or remove them; True when they were removed."""
    if keep:
        print(f"\nkept the files in {workdir}{kept}")
        return False
    cleanup(workdir, own_dir, generated)
    return True


def atm_env(db: str, user: str) -> dict[str, str]:
    """The environment atm runs in: this database and user, a fixed width, the default lock timeout."""
    env = {**os.environ, "ATM_DB": db, "ATM_USER": user, "COLUMNS": "100"}
    env.pop("ATM_LOCK_TIMEOUT", None)
    return env


def make_workdir(given: Path | None, prefix: str) -> tuple[Path, bool]:
    """The folder to write into, and whether this run made it (and so removes it whole)."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix)) if given is None else given.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir, given is None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=asset_count, default=1_000_000, metavar="N", help="assets to generate (default 1,000,000)")
    add_common_args(parser)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per start-up figure (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed warm-up runs (default 2)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmups < 0:
        parser.error("--runs must be at least 1 and --warmups at least 0")
    return args


GENERATED = ("assets.json", "atm.db", "baseline_a.db", "baseline_a_idx.db", "bare_typer.py")


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def cleanup(workdir: Path, own_dir: bool, generated: tuple[str, ...] = GENERATED) -> None:
    """Remove the temporary directory this run made, or only the files it wrote into the user's one."""
    if own_dir:
        shutil.rmtree(workdir, ignore_errors=True)
        return
    for name in generated:
        remove_db(workdir / name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    atm = find_atm(args.atm)
    python = python_of(atm)
    workdir, own_dir = make_workdir(args.workdir, "atm-bench-")
    atm_db = workdir / "atm.db"
    env = atm_env(str(atm_db), ADMIN)
    report = Report({"assets": args.assets, "seed": args.seed, "runs": args.runs, "warmups": args.warmups,
                     "atm": str(atm), "python": python, "workdir": str(workdir),
                     "platform": sys.platform, "sqlite": sqlite3.sqlite_version})
    print(f"atm: {atm}\npython for the bare Typer app: {python}\nworkdir: {workdir}\n"
          f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    try:
        gen = step_generate(workdir, args.assets, args.seed, report)
        remove_db(atm_db)
        run([str(atm), "init"], env)
        baseline = step_baselines(workdir, atm_db, args.assets, args.seed, report)
        step_import(atm, env, gen, atm_db, baseline, report)
        step_startup_and_lookups(atm, python, env, gen, workdir, args.runs, args.warmups, report)
    finally:
        keep_or_clean(args.keep, workdir, own_dir, GENERATED)
    return finish(report, args.json_out)


def finish(report: Report, json_out: Path | None) -> int:
    """Print the summary, save the figures if asked; exit status 0 only when every target passed."""
    print_summary(report)
    if json_out:
        payload = {"settings": report.settings, "figures": [f.as_dict() for f in report.figures]}
        json_out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures saved to {json_out}")
    return 0 if all(f.passed is not False for f in report.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
