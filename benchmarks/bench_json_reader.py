"""atm's JSON stream reader against ijson (C backend): speed, and what a user is told about a broken file.

`atm import` streams a JSON file of any size through `atm.io.jsonstream.TopLevelStream`, a reader written for
it. This script measures it against ijson, the well-kept streaming parser, with its yajl2 C backend:

1. Speed: every record of a generated import file (the generator of bench_foundation.py), read as
   (section, index, record) the way `atm import` reads it:
   - TopLevelStream, one pass (what atm does, on a file or standard input);
   - ijson.items, one pass per section (four passes: ijson's fastest path, C all the way, but it needs a
     file it can read again, so not standard input);
   - ijson.parse with ijson.ObjectBuilder, one pass (what standard input would need).
2. Errors: small files broken in the ways real files break, and the message each reader gives. A reader that
   accepts a broken file is marked "accepted".

Run it from the repository root with the project's Python; ijson comes with the `bench` extra:

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/bench_json_reader.py                  # 200,000 assets
    .venv/bin/python benchmarks/bench_json_reader.py --assets 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foundation import (  # noqa: E402
    add_common_args, asset_count, keep_or_clean, make_workdir, write_import_file,
)

from atm.io.jsonstream import TopLevelStream  # noqa: E402

SECTIONS = ("users", "accounts", "licenses", "devices")
RUNS = 3
BROKEN = "broken-{}.json"


def read_atm(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in TopLevelStream(fh))


def read_ijson_per_section(path: Path) -> int:
    import ijson

    count = 0
    for section in SECTIONS:
        with path.open("rb") as fh:
            count += sum(1 for _ in ijson.items(fh, f"{section}.item", use_float=True))
    return count


def read_ijson_one_pass(path: Path) -> int:
    return sum(1 for _ in ijson_records(path))


def ijson_records(path: Path) -> Iterator[tuple[str, int, object]]:
    """(section, index, record) in one pass, as `atm import` needs them from standard input: ijson's C parser
    gives the events, ijson.ObjectBuilder builds each element of a top-level array."""
    import ijson

    index: dict[str, int] = {}
    builder, section, depth = None, "", 0
    with path.open("rb") as fh:
        for prefix, event, value in ijson.parse(fh, use_float=True):
            if builder is None:
                if not (prefix.endswith(".item") and prefix.count(".") == 1):
                    continue  # the top-level object itself, its keys, the arrays' brackets
                section = prefix[:-len(".item")]
                if event not in ("start_map", "start_array"):  # a scalar element
                    yield section, index.setdefault(section, 0), value
                    index[section] += 1
                    continue
                builder, depth = ijson.ObjectBuilder(), 0
            builder.event(event, value)
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
            if depth == 0:
                yield section, index.setdefault(section, 0), builder.value
                index[section] += 1
                builder = None


def timed(read: Callable[[Path], int], path: Path) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(RUNS):
        start = time.perf_counter()
        count = read(path)
        best = min(best, time.perf_counter() - start)
    return best, count


# --- broken files -------------------------------------------------------------------------------------------

def broken_files(workdir: Path) -> list[tuple[str, Path]]:
    """Small import files, each broken in one way at record 734 of 1,000 licenses."""
    records = [json.dumps({"id": f"SO{100000 + i}-1", "account": "acme.com", "pid": "C9300-DNA-E-24",
                           "quantity": 10}).encode() for i in range(1000)]
    head, tail = b'{"licenses": [\n', b"\n]}\n"
    before, mark, after = b",\n".join(records[:734]) + b",\n", records[734], b",\n" + b",\n".join(records[735:])
    good = head + before + mark + after + tail
    cases = {
        "missing comma between two records": head + before[:-2] + b"\n" + mark + after + tail,
        "file cut off inside a record": head + before + mark[:40],
        "invalid UTF-8 byte in a string": head + before + mark.replace(b"acme", b"ac\xffme") + after + tail,
        "one key twice in a record": head + before + mark.replace(b"{", b'{"pid": "EVIL", ', 1) + after + tail,
        "NaN as a quantity": head + before + mark.replace(b": 10", b": NaN") + after + tail,
        "text after the end": good + b" {}",
    }
    out = []
    for i, (name, data) in enumerate(cases.items()):
        path = workdir / BROKEN.format(i)
        path.write_bytes(data)
        out.append((name, path))
    return out


def message_of(read: Callable[[Path], int], path: Path) -> str:
    try:
        read(path)
    except Exception as exc:  # noqa: BLE001 - each reader's own error, shown as it comes
        return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:160]
    return "accepted (no error)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=asset_count, default=200_000, help="how many assets (default 200,000)")
    add_common_args(parser)
    args = parser.parse_args()
    try:
        import ijson
    except ImportError:
        print("ijson is not installed: pip install -e '.[bench]' (or pip install ijson)", file=sys.stderr)
        return 2
    workdir, created = make_workdir(args.workdir, "atm-json-reader-")
    try:
        path = workdir / "assets.json"
        print(f"[1] writing {args.assets:,} assets to {path} ...", flush=True)
        write_import_file(path, args.assets, args.seed)
        size = path.stat().st_size / 2**20
        print(f"    {size:.1f} MiB; ijson {ijson.__version__}, backend {ijson.backend}")
        print(f"[2] reading every record, best of {RUNS} ...", flush=True)
        readers = [
            ("atm TopLevelStream, one pass", read_atm),
            ("ijson.items, one pass per section (4)", read_ijson_per_section),
            ("ijson.parse + ObjectBuilder, one pass", read_ijson_one_pass),
        ]
        figures = []
        for name, read in readers:
            seconds, count = timed(read, path)
            figures.append((name, seconds, count))
        base = figures[0][1]
        print(f"\n{'reader':42} {'seconds':>8} {'records/s':>12} {'vs atm':>7}  records")
        for name, seconds, count in figures:
            print(f"{name:42} {seconds:8.2f} {count / seconds:12,.0f} {seconds / base:6.2f}x  {count:,}")
        counts = {count for _, _, count in figures}
        if len(counts) != 1:
            print(f"readers disagree on the number of records: {sorted(counts)}", file=sys.stderr)
            return 1
        print("\n[3] what each reader says about a broken file (the break is in licenses[734])")
        for name, broken in broken_files(workdir):
            print(f"\n  {name}:")
            print(f"    atm:   {message_of(read_atm, broken)}")
            print(f"    ijson: {message_of(read_ijson_one_pass, broken)}")
        if args.json_out:
            args.json_out.write_text(json.dumps(
                {"assets": args.assets, "file_mib": size,
                 "readers": [{"reader": n, "seconds": s, "records": c} for n, s, c in figures]}, indent=1))
    finally:
        keep_or_clean(args.keep, workdir, created, ("assets.json",) + tuple(BROKEN.format(i) for i in range(6)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
