"""Reading an .xlsx ledger's cells: openpyxl's read-only mode against python-calamine (decision 0662).

    .venv/bin/python bench/read_xlsx.py [--rows 20000] [--runs 3] [--hand-written 3eef3dc]

Generates the ``--clerk`` ledger of bench/import_ledger.py (a title block, date cells, mobiles as
numbers; ``--rows`` rows) in memory (not timed), then in the same run, each ``--runs`` times (the
fastest counts):

- the **baseline**: openpyxl ``load_workbook(read_only=True, data_only=True)`` and
  ``iter_rows(values_only=True)`` over every sheet — the library the values are defined by;
- **calamine**: ``feedback.ledger.workbook.Workbook(data).rows(...)`` over every sheet, i.e. python-calamine
  plus the conversion to openpyxl's values the import uses;
- with ``--hand-written COMMIT``: the hand-written XML reader this replaced, loaded from git history
  (``git show COMMIT:feedback/ledger/xlsx.py``, 3eef3dc is its last version).

Checks that every reader gives the same cells (trailing empty cells aside), and prints seconds, the
ratio to the baseline and the load average (the machine is shared). No database is needed.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def load() -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def trimmed(cells: list) -> list:
    cells = list(cells)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def sheet(rows) -> list:
    """Numbered rows without trailing empty cells and rows (openpyxl yields up to the recorded
    dimension, calamine stops at the last value; the ledger skips blank rows either way)."""
    out = [(n, trimmed(c)) for n, c in rows]
    while out and not out[-1][1]:
        out.pop()
    return out


def by_openpyxl(data: bytes) -> dict:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {name: sheet(enumerate(book[name].iter_rows(values_only=True), 1)) for name in book.sheetnames}
    finally:
        book.close()


def by_calamine(data: bytes) -> dict:
    from feedback.ledger.workbook import Workbook

    book = Workbook(data)
    return {name: sheet(book.rows(name)) for name in book.sheetnames}


def hand_written(commit: str):
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:feedback/ledger/xlsx.py"], capture_output=True, check=True
    ).stdout
    module = types.ModuleType("hand_written_xlsx")
    exec(compile(source, f"{commit}:feedback/ledger/xlsx.py", "exec"), module.__dict__)

    def read(data: bytes) -> dict:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book = module.Workbook(archive)
            return {name: sheet(book.rows(name)) for name in book.sheetnames}

    return read


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--hand-written", metavar="COMMIT", help="also time the hand-written reader of COMMIT")
    args = p.parse_args()

    import import_ledger

    data = import_ledger.clerk_workbook(import_ledger.generate(args.rows))
    print(f"--clerk ledger, {args.rows:,} rows, {len(data) / 2**20:.1f} MiB .xlsx; {load()}")
    readers = [("openpyxl read-only (baseline)", by_openpyxl)]
    if args.hand_written:
        readers.append((f"hand-written XML reader ({args.hand_written})", hand_written(args.hand_written)))
    readers.append(("python-calamine (feedback.ledger.workbook)", by_calamine))
    times: dict[str, float] = {}
    results = {}
    for _ in range(args.runs):  # interleaved, so a burst of load hits every reader alike
        for name, read in readers:
            start = time.perf_counter()
            results[name] = read(data)
            times[name] = min(times.get(name, float("inf")), time.perf_counter() - start)
    baseline = times[readers[0][0]]
    for name, _ in readers:
        same = "same cells" if results[name] == results[readers[0][0]] else "CELLS DIFFER"
        print(f"{name:45} {times[name]:7.3f} s  {times[name] / baseline:5.2f}× the baseline  ({same})")
    print(load())
    if any(results[name] != results[readers[0][0]] for name, _ in readers):
        sys.exit("a reader gave other cells than openpyxl")


if __name__ == "__main__":
    main()
