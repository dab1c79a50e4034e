#!/usr/bin/env python3
"""Mutation testing: put one named bug at a time into the code, run the tests, put the code back.

Each mutant in `tools/mutants.toml` is a one-line change tied to a rule (R1-R15)
or a named guarantee ("unique booking", "exit codes", ...). A mutant the suite
does not notice means that rule is not really tested. Standard library only.

    .venv/bin/python tools/mutate.py                      # every mutant, then the kill table
    .venv/bin/python tools/mutate.py --only R5 --only r13-reserved-device
    .venv/bin/python tools/mutate.py --list               # the mutants, and whether each still applies
    .venv/bin/python tools/mutate.py --pytest-args="-x -q -p no:cacheprovider --hypothesis-seed=0"

Results: killed (a test failed), survived (every test passed), timeout (the
suite ran past --timeout; a kill only where the mutant says `timeout_is_kill`),
stale (the original text is not in the file exactly once: never applied
blindly), equivalent (listed as such, with a reason, and not run), error (pytest
itself could not run). Exit 0 when every mutant is killed or equivalent, 1
otherwise, 2 for bad usage, 130 when interrupted.

The original file is always restored (try/finally, also on Ctrl-C or SIGTERM).
Bytecode caches are cleared around every mutant and the tests run with
PYTHONDONTWRITEBYTECODE=1: a same-size edit reverted within one second can
otherwise leave a stale .pyc that Python still trusts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MUTANTS = "tools/mutants.toml"
DEFAULT_PYTEST_ARGS = "-x -q -p no:cacheprovider"
DEFAULT_TIMEOUT = 300.0
# With -x the first failing test ends a mutant's run, so the tests that kill most mutants soonest run first
# (the rule tests), and the slow property test last. pytest folds a file into a later folder argument, so the
# order is given file by file; a --pytest-args that names tests of its own is left as it is.
TESTS_FIRST = ("tests/unit", "tests/cli/test_mutation_survivors.py", "tests/cli/test_rules.py",
               "tests/cli/test_reimport.py", "tests/cli/test_edges.py", "tests/cli/test_export.py")
TESTS_LAST = ("tests/integration/test_workflow_stateful.py",)
MUTANT_KEYS = {"name", "rule", "file", "original", "replacement", "note", "equivalent", "timeout_is_kill", "leg"}
LEGS = ("sqlite", "postgresql")  # the database the suite runs on for a mutant (see --server)
DEFAULT_SERVER = "postgresql://root@127.0.0.1:5432/test"
REQUIRED_KEYS = ("name", "rule", "file", "original", "replacement")
RULE_NUMBER = re.compile(r"R(\d+)", re.IGNORECASE)
RULES = range(1, 16)
CAUGHT = {"killed", "equivalent"}
SUMMARY_LINE = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$")


class UsageError(Exception):
    """Bad options, a bad mutants file, or a tree not fit to mutate (exit 2)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    file: str
    original: str
    replacement: str
    note: str = ""
    equivalent: str | None = None  # why no test can tell it from the original
    timeout_is_kill: str | None = None  # why a hang is the expected way this mutant shows
    leg: str = "sqlite"  # "postgresql": team-mode code, which only the suite's PostgreSQL leg runs


@dataclass
class Outcome:
    name: str
    rule: str
    file: str
    result: str
    seconds: float
    first_failure: str = ""
    detail: str = ""


# --- the mutants file ------------------------------------------------------------------------


def load_mutants(path: Path) -> list[Mutant]:
    """Read and check the mutants file; every problem names the mutant and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"mutant"}
    if unknown:
        raise UsageError(f"{path}: unknown top-level key {sorted(unknown)[0]!r}; mutants are [[mutant]] tables")
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("mutant", [])):
        where = f"{path.name}: mutant[{i}]" + (f" ({raw.get('name')})" if isinstance(raw.get("name"), str) else "")
        unknown = sorted(set(raw) - MUTANT_KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key {unknown[0]!r}")
        for key in REQUIRED_KEYS:
            if not isinstance(raw.get(key), str) or (key != "replacement" and not raw[key].strip()):
                raise UsageError(f"{where}: {key} is required (text)")
        for key in ("note", "equivalent", "timeout_is_kill"):
            if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
                raise UsageError(f"{where}: {key} must be a non-empty reason (text)")
        if raw.get("leg", "sqlite") not in LEGS:
            raise UsageError(f"{where}: leg must be one of {', '.join(LEGS)}")
        mutant = Mutant(**raw)
        if mutant.name in seen:
            raise UsageError(f"{where}: the name {mutant.name!r} is used twice")
        seen.add(mutant.name)
        number = RULE_NUMBER.fullmatch(mutant.rule.strip())
        if number and int(number.group(1)) not in RULES:
            raise UsageError(f"{where}: rule {mutant.rule!r} is not one of R1-R15")
        if mutant.original == mutant.replacement:
            raise UsageError(f"{where}: the replacement is the original text")
        target = Path(mutant.file)
        if target.is_absolute() or ".." in target.parts:
            raise UsageError(f"{where}: file must be a path inside the repository, got {mutant.file!r}")
        mutants.append(mutant)
    if not mutants:
        raise UsageError(f"{path}: no [[mutant]] tables")
    return mutants


def select(mutants: list[Mutant], only: Sequence[str]) -> list[Mutant]:
    """The mutants named, or tied to a rule named, by `--only` (case ignored), in file order."""
    if not only:
        return list(mutants)
    wanted = {o.strip().lower() for o in only}
    matched = {w for w in wanted if any(w in (m.name.lower(), m.rule.lower()) for m in mutants)}
    missing = sorted(wanted - matched)
    if missing:
        raise UsageError(f"--only {missing[0]!r} names no mutant and no rule in the mutants file (see --list)")
    return [m for m in mutants if m.name.lower() in wanted or m.rule.lower() in wanted]


def occurrences(text: str, part: str) -> int:
    """How many places `part` starts at in `text` (overlapping ones counted)."""
    count, start = 0, text.find(part)
    while start != -1:
        count += 1
        start = text.find(part, start + 1)
    return count


def applicability(root: Path, mutant: Mutant) -> str:
    """'' when the mutant applies to exactly one place; otherwise why it is stale."""
    path = root / mutant.file
    if not path.is_file():
        return f"no file {mutant.file}"
    n = occurrences(path.read_text(encoding="utf-8"), mutant.original)
    return "" if n == 1 else f"original text found {n} times in {mutant.file}, not once"


# --- applying one mutant ------------------------------------------------------------------------

Runner = Callable[[], tuple[int | None, str]]  # (pytest's exit code or None on timeout, its output)


def clear_bytecode(dirs: Sequence[Path]) -> None:
    for top in dirs:
        if top.is_dir():
            for cache in sorted(top.rglob("__pycache__"), reverse=True):
                shutil.rmtree(cache, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    """Replace the file in one step, so that an interruption never leaves it half written."""
    tmp = path.with_name(path.name + ".mutate-tmp")
    tmp.write_bytes(data)
    shutil.copymode(path, tmp)
    os.replace(tmp, path)


def run_mutant(root: Path, mutant: Mutant, run: Runner, *, cache_dirs: Sequence[Path]) -> Outcome:
    """Apply `mutant`, run the tests, and always restore the file exactly as it was."""
    outcome = Outcome(mutant.name, mutant.rule, mutant.file, "stale", 0.0)
    stale = applicability(root, mutant)
    if stale:
        outcome.detail = stale
        return outcome
    path = root / mutant.file
    original = path.read_bytes()
    mutated = original.decode("utf-8").replace(mutant.original, mutant.replacement, 1).encode("utf-8")
    started = time.monotonic()
    try:
        clear_bytecode(cache_dirs)
        _write(path, mutated)
        code, output = run()
    finally:
        # A second Ctrl-C must not stop the restore half-way: hold the signals until the file is back.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            _write(path, original)
            clear_bytecode(cache_dirs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if path.read_bytes() != original:  # pragma: no cover - would mean the file system lied
        raise RuntimeError(f"{mutant.file} could not be restored; check it with git diff")
    outcome.seconds = time.monotonic() - started
    outcome.result, outcome.detail = classify(code, output)
    outcome.first_failure = first_failure(output) if outcome.result == "killed" else ""
    return outcome


def classify(code: int | None, output: str) -> tuple[str, str]:
    """pytest's exit code as a mutation result: 1 failed tests and 2 an error while collecting are kills."""
    if code is None:
        return "timeout", "the suite did not finish in time"
    if code == 0:
        return "survived", "every test passed"
    if code == 1:
        return "killed", ""
    if code == 2:
        return "killed", "the tests could not be collected (the mutant breaks an import)"
    tail = " / ".join(line for line in output.strip().splitlines()[-3:])
    return "error", f"pytest exit {code}: {tail}"


def first_failure(output: str) -> str:
    """The first FAILED/ERROR node of pytest's short summary."""
    for line in output.splitlines():
        found = SUMMARY_LINE.match(line.strip())
        if found:
            return found.group(1)
    return "(no test named; see the pytest output)"


# --- running the suite ------------------------------------------------------------------------------


def ordered_tests(root: Path) -> list[str]:
    """Every test file under `root`/tests, those likeliest to kill a mutant first (see TESTS_FIRST)."""
    def files(entry: str) -> list[str]:
        path = root / entry
        found = sorted(path.rglob("test_*.py")) if path.is_dir() else [path] if path.is_file() else []
        return [f.relative_to(root).as_posix() for f in found]

    first = [f for entry in TESTS_FIRST for f in files(entry)]
    last = [f for entry in TESTS_LAST for f in files(entry)]
    rest = [f for f in files("tests") if f not in first and f not in last]
    return first + rest + last


def names_tests(pytest_args: Sequence[str]) -> bool:
    return any(not a.startswith("-") and (a.startswith("tests") or a.endswith(".py") or "::" in a)
               for a in pytest_args)


def pytest_runner(root: Path, python: str, pytest_args: Sequence[str], timeout: float,
                  extra_env: dict[str, str] | None = None) -> Runner:
    """Run pytest in its own process group, so that a timeout or Ctrl-C ends every process it started."""

    def run() -> tuple[int | None, str]:
        with tempfile.TemporaryDirectory(prefix="mutate-hypothesis-") as examples:
            env = dict(os.environ, **(extra_env or {}), PYTHONDONTWRITEBYTECODE="1",
                       # Each mutant starts without the examples another mutant made fail.
                       HYPOTHESIS_STORAGE_DIRECTORY=examples)
            proc = subprocess.Popen([python, "-m", "pytest", *pytest_args, "-rfE"], cwd=root, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", start_new_session=True)
            try:
                output, _ = proc.communicate(timeout=timeout)
                return proc.returncode, output
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                output, _ = proc.communicate()
                return None, output
            except BaseException:
                _kill_group(proc)
                proc.communicate()
                raise

    return run


def server_answers(url: str, timeout: float = 3.0) -> bool:
    """Whether something listens where a postgresql:// URL points (the suite itself says if it is PostgreSQL)."""
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 5432), timeout=timeout):
            return True
    except OSError:
        return False


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def dirty_paths(root: Path, dirs: Sequence[str]) -> list[str]:
    try:
        found = subprocess.run(["git", "status", "--porcelain", "--", *dirs], cwd=root, capture_output=True,
                               text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UsageError(f"cannot ask git whether {', '.join(dirs)} has uncommitted changes ({exc}); "
                         "pass --allow-dirty to mutate anyway") from None
    return [line for line in found.stdout.splitlines() if line.strip()]


# --- output --------------------------------------------------------------------------------------------


def caught(mutant: Mutant, outcome: Outcome) -> bool:
    return outcome.result in CAUGHT or (outcome.result == "timeout" and mutant.timeout_is_kill is not None)


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def kill_table(outcomes: Sequence[Outcome]) -> str:
    rows = [(o.name, o.rule, o.result, f"{o.seconds:.1f}", o.first_failure or o.detail) for o in outcomes]
    return table(rows, ("mutant", "rule", "result", "seconds", "first failing test (or why)"))


def summary(outcomes: Sequence[Outcome], total: float) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    parts = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
    return f"{len(outcomes)} mutants: {parts}; {total:.0f} s in all"


def progress(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --- main ----------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tools/mutate.py", description=__doc__.split("\n\n")[0],
        epilog="Example: .venv/bin/python tools/mutate.py --only R13 --json-out mutants.json")
    parser.add_argument("--only", action="append", default=[], metavar="NAME_OR_RULE",
                        help="Run only this mutant, or the mutants of this rule (repeatable).")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"Stop the suite after this long per mutant (default {DEFAULT_TIMEOUT:g}).")
    parser.add_argument("--pytest-args", default=DEFAULT_PYTEST_ARGS, metavar="ARGS",
                        help=f"Arguments for pytest, as one string (default {DEFAULT_PYTEST_ARGS!r}; "
                             "write --pytest-args=\"-x ...\").")
    parser.add_argument("--list", action="store_true", help="List the mutants and whether each applies; run nothing.")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="Also write the results as JSON.")
    parser.add_argument("--mutants", type=Path, default=None, metavar="FILE",
                        help=f"The mutants file (default {DEFAULT_MUTANTS}).")
    parser.add_argument("--root", type=Path, default=ROOT, metavar="DIR",
                        help="The project to mutate (default: the repository holding this tool).")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="Mutate even when the mutated folders have uncommitted changes.")
    parser.add_argument("--no-baseline", action="store_true",
                        help="Skip the first run of the suite without any mutant.")
    parser.add_argument("--server", default=os.environ.get("ATM_TEST_DB") or DEFAULT_SERVER, metavar="URL",
                        help="The PostgreSQL server of the mutants whose leg is postgresql (default $ATM_TEST_DB, "
                             f"else {DEFAULT_SERVER}); the suite runs there with ATM_TEST_DB=URL.")
    parser.add_argument("--run-equivalent", action="store_true",
                        help="Also run the mutants listed as equivalent (a test that kills one disproves it).")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error("--timeout must be more than 0 seconds")
    if not args.server.startswith(("postgresql://", "postgres://")):
        parser.error(f"--server must be a postgresql:// URL, got {args.server!r}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = args.root.resolve()
    try:
        mutants = load_mutants(args.mutants or root / DEFAULT_MUTANTS)
        chosen = select(mutants, args.only)
        pytest_args = shlex.split(args.pytest_args)
        if not names_tests(pytest_args):
            pytest_args += ordered_tests(root)
        if args.list:
            rows = [(m.name, m.rule, m.file, "equivalent" if m.equivalent else (applicability(root, m) or "applies"))
                    for m in chosen]
            print(table(rows, ("mutant", "rule", "file", "state")))
            return 0
        top_dirs = sorted({Path(m.file).parts[0] for m in chosen})
        if not args.allow_dirty:
            dirty = dirty_paths(root, top_dirs)
            if dirty:
                raise UsageError(
                    f"uncommitted changes under {', '.join(top_dirs)} (an interrupted run would leave one "
                    "mutant behind; see git diff): " + "; ".join(dirty[:5])
                    + " -- commit or stash them, or pass --allow-dirty")
    except UsageError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 2

    cache_dirs = [root / d for d in top_dirs]
    run = pytest_runner(root, sys.executable, pytest_args, args.timeout)
    on_server = [m for m in chosen if m.leg == "postgresql" and (args.run_equivalent or not m.equivalent)]
    server_up = bool(on_server) and server_answers(args.server)
    runners = {"sqlite": run, "postgresql": pytest_runner(root, sys.executable, pytest_args, args.timeout,
                                                          {"ATM_TEST_DB": args.server})}
    previous = signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        if not args.no_baseline:
            progress(f"baseline: the suite without mutants (pytest {' '.join(pytest_args)}) ...")
            clear_bytecode(cache_dirs)
            t0 = time.monotonic()
            code, output = run()
            if code != 0:
                sys.stderr.write(output[-3000:] + "\n")
                sys.stderr.write("Error: the suite does not pass without mutants (exit "
                                 f"{'timeout' if code is None else code}); fix it first\n")
                return 2
            progress(f"baseline: passed in {time.monotonic() - t0:.1f} s")
            if server_up:
                progress(f"baseline on the PostgreSQL leg ({len(on_server)} mutants need it) ...")
                code, output = runners["postgresql"]()
                if code != 0:
                    sys.stderr.write(output[-3000:] + "\n")
                    sys.stderr.write(f"Error: the suite does not pass on {args.server} without mutants; fix it "
                                     "first, or leave out the postgresql mutants\n")
                    return 2
        for i, mutant in enumerate(chosen, start=1):
            if mutant.equivalent and not args.run_equivalent:
                outcome = Outcome(mutant.name, mutant.rule, mutant.file, "equivalent", 0.0,
                                  detail=f"equivalent: {mutant.equivalent}")
            elif mutant.leg == "postgresql" and not server_up:
                outcome = Outcome(mutant.name, mutant.rule, mutant.file, "error", 0.0,
                                  detail=f"needs the PostgreSQL leg: nothing answers at {args.server} (--server)")
            else:
                outcome = run_mutant(root, mutant, runners[mutant.leg], cache_dirs=cache_dirs)
                if mutant.equivalent and outcome.result == "survived":
                    outcome.result, outcome.detail = "equivalent", f"equivalent: {mutant.equivalent}"
                elif mutant.equivalent and outcome.result == "killed":
                    outcome.result = "error"
                    outcome.detail = f"listed as equivalent, but {outcome.first_failure} kills it"
            outcomes.append(outcome)
            progress(f"[{i}/{len(chosen)}] {mutant.name} ({mutant.rule}): {outcome.result} in "
                     f"{outcome.seconds:.1f} s {outcome.first_failure or outcome.detail}".rstrip())
    except KeyboardInterrupt:
        progress("interrupted; every mutated file is back as it was")
        if outcomes:
            print(kill_table(outcomes))
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    total = time.monotonic() - started
    print(kill_table(outcomes))
    print(summary(outcomes, total))
    by_name = {m.name: m for m in chosen}
    missed = [o for o in outcomes if not caught(by_name[o.name], o)]
    if args.json_out:
        args.json_out.write_text(json.dumps({
            "pytest_args": pytest_args, "timeout": args.timeout, "total_seconds": round(total, 1),
            "caught": len(outcomes) - len(missed), "missed": [o.name for o in missed],
            "results": [dict(asdict(o), seconds=round(o.seconds, 1)) for o in outcomes],
        }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if missed:
        print("not caught: " + ", ".join(f"{o.name} ({o.result})" for o in missed))
        return 1
    return 0


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # the same path as Ctrl-C: restore the file, end the suite's processes


if __name__ == "__main__":
    sys.exit(main())
