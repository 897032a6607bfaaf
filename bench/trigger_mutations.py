"""Delete each condition of the rollup's triggers in a scratch copy and show that a test turns red.

    .venv/bin/python bench/trigger_mutations.py [--database-url postgres://…/rollup_mut] [--only NAME]

For every condition in migrations 0008 and 0540 that decides whether a write marks a rollup key (or
flags its requesters as changed), the script copies the work tree to a temporary directory, deletes
that one condition from the migration's text, and runs the case of
``tests/feedback/test_rollup_triggers.py`` that targets it (with no ``--database-url``: SQLite, whose
triggers are built from the same condition strings; with one: PostgreSQL). It prints one line per
condition — the test that ran and whether it failed, as it must — and exits non-zero if a mutation
survived. The unmutated copy is run first: it must pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/feedback/test_rollup_triggers.py"
M0008 = "feedback/migrations/0008_stats_rollup.py"
M0540 = "feedback/migrations/0540_follow_up_skipped.py"

# (name, file, the constant's first line, the text deleted from it, the replacement, the test case)
MUTATIONS = [
    *(
        (
            f"issue update WHEN: {column}",
            M0540,
            "ISSUE_CHANGED = (",
            text,
            "",
            case,
        )
        for column, text, case in (
            ("received_on", "OLD.received_on {ne} NEW.received_on OR ", "issue received_on"),
            ("channel", " OR OLD.channel {ne} NEW.channel", "issue channel"),
            ("category_id", "OLD.category_id {ne} NEW.category_id OR ", "issue category"),
            ("closed_on", " OR OLD.closed_on {ne} NEW.closed_on", "issue closed_on"),
            ("satisfaction", "OLD.satisfaction {ne} NEW.satisfaction OR ", "issue satisfaction"),
            ("requester_id", " OR OLD.requester_id {ne} NEW.requester_id", "issue requester"),
        )
    ),
    (
        "issue update WHEN: follow_up_skipped",
        M0540,
        "WITH_SKIPPED = ",
        ' + " OR OLD.follow_up_skipped {ne} NEW.follow_up_skipped"',
        "",
        "issue follow_up_skipped",
    ),
    *(
        (f"requesters_changed (ISSUE_MOVED): {column}", M0008, "ISSUE_MOVED = (", text, "", case)
        for column, text, case in (
            ("received_on", "OLD.received_on {ne} NEW.received_on OR ", "issue received_on"),
            ("channel", " OR OLD.channel {ne} NEW.channel", "issue channel"),
            ("category_id", "OLD.category_id {ne} NEW.category_id OR ", "issue category"),
            ("requester_id", " OR OLD.requester_id {ne} NEW.requester_id", "issue requester"),
        )
    ),
    *(
        (f"assignment update WHEN: {column}", M0008, "ASSIGNMENT_CHANGED = (", text, replacement, case)
        for column, text, replacement, case in (
            ("issue_id", "OLD.issue_id {ne} NEW.issue_id OR ", "", "assignment issue"),
            ("department_id", " OR OLD.department_id {ne} NEW.department_id", "", "assignment department"),
            (
                "withdrawn",
                "\" OR (OLD.status = 'withdrawn') {ne} (NEW.status = 'withdrawn')\"",
                '""',
                "assignment withdrawn",
            ),
            ("open status", 'f" OR (OLD.status IN {OPEN}) {{ne}} (NEW.status IN {OPEN})"', '""', "assignment open"),
            ("due_date", " OR OLD.due_date {ne} NEW.due_date", "", "assignment due_date"),
            (
                "original_due_date",
                " OR OLD.original_due_date {ne} NEW.original_due_date",
                "",
                "assignment original_due_date",
            ),
            ("replied_on", '" OR OLD.replied_on {ne} NEW.replied_on"', '""', "assignment replied_on"),
        )
    ),
    ("history WHEN: reopen", M0008, "REHANDLED = ", "'reopen', ", "", "history reopen"),
    ("history WHEN: return_reply", M0008, "REHANDLED = ", ", 'return_reply'", "", "history return_reply"),
    # The marking functions' own conditions (PostgreSQL): the flag kept and raised on a conflict…
    (
        "PG mark ON CONFLICT: keep the flag",
        M0008,
        "PG_MARK = ",
        "k.requesters_changed OR ",
        "",
        "requester flag kept by a later mark",
    ),
    (
        "PG mark ON CONFLICT: raise the flag",
        M0008,
        "PG_MARK = ",
        " OR EXCLUDED.requesters_changed",
        "",
        "requester flag raised on a marked key",
    ),
    # …and the branches on TG_OP, run against the whole file (None): expected equivalent, see
    # bench/README.md (OLD is NULL in an INSERT trigger and NEW in a DELETE one since PostgreSQL 11).
    ("PG issue: moved if not an UPDATE", M0008, "PG_FUNCTIONS = ", "TG_OP <> 'UPDATE' OR ", "", None),
    *(
        (
            f"PG {fn}: IF TG_OP <> '{op}'",
            M0008,
            "PG_FUNCTIONS = ",
            f"IF TG_OP <> '{op}' THEN {{PG_MARK.format(rows={rows}",
            f"IF true THEN {{PG_MARK.format(rows={rows}",
            None,
        )
        for fn, rows in (("issue", "PG_ISSUE_ROW"), ("issue of row", "PG_ISSUE_OF_ROW"))
        for op in ("INSERT", "DELETE")
    ),
    # SQLite raises the flag of an already marked key in its own statement, when the issue moved.
    ("SQLite raise: only if moved", M0008, "SQLITE_RAISE = ", "({moved})\n    AND ", "", None),
]
# Conditions that exist on one backend only (the others' trigger text is the same on both).
BACKEND = {name: "postgresql" for name, *_ in MUTATIONS if name.startswith("PG ")} | {
    "SQLite raise: only if moved": "sqlite"
}


def mutate(tree: Path, file: str, start: str, old: str, new: str) -> None:
    """Replace ``old`` once within the constant that begins at ``start`` (up to its blank line)."""
    path = tree / file
    text = path.read_text()
    begin = text.index(start)
    end = text.find("\n\n", begin)
    block = text[begin:end]
    if block.count(old) != 1:
        sys.exit(f"{file}: {old!r} is not once in {start!r}: {block!r}")
    path.write_text(text[:begin] + block.replace(old, new) + text[end:])


def run(tree: Path, case: str | None, database_url: str | None) -> tuple[bool, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    if database_url:
        env["DATABASE_URL"] = database_url
    target = f"{TESTS}::test_a_write_outside_the_services_is_marked_and_summed_again[{case}]" if case else TESTS
    command = [str(ROOT / ".venv/bin/pytest"), target, "-q", "-x", "-p", "no:cacheprovider", "--create-db"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    # An error in a fixture (a mutant trigger that breaks every insert) is red as well as a failure.
    if not any(word in done.stdout for word in (" passed", " failed", " error")):
        sys.exit(f"{target}: no test ran:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.returncode == 0, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", help="run on this PostgreSQL database (default: SQLite)")
    p.add_argument("--only", help="only the mutations whose name contains this")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="zt-mutations-") as scratch:
        pristine = Path(scratch) / "pristine"
        shutil.copytree(ROOT, pristine, ignore=shutil.ignore_patterns(".venv", "var", "node_modules", ".git", "media"))
        (pristine / ".venv").symlink_to(ROOT / ".venv")
        passed, seconds = run(pristine, None, args.database_url)
        print(f"{'no mutation':48} {TESTS}: {'passes' if passed else 'FAILS'} ({seconds:.0f} s)", flush=True)
        if not passed:
            sys.exit("the unmutated tests must pass first")
        survived = 0
        backend = "postgresql" if args.database_url else "sqlite"
        for name, file, start, old, new, case in MUTATIONS:
            if args.only and args.only not in name:
                continue
            if BACKEND.get(name, backend) != backend:
                continue
            tree = Path(scratch) / "mutant"
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(pristine, tree, symlinks=True)
            mutate(tree, file, start, old, new)
            passed, seconds = run(tree, case, args.database_url)
            survived += passed
            verdict = "survived (NOT caught)" if passed else "caught: red"
            print(f"{name:48} [{case or 'the whole file'}]: {verdict} ({seconds:.0f} s)", flush=True)
        sys.exit(1 if survived else 0)


if __name__ == "__main__":
    main()
