"""Duplicate suggestions (issue 19): quality on the labelled pairs, and the time of one query at 1,000,000 issues.

    .venv/bin/python bench/similar.py            # DATABASE_URL=postgres://… (see bench/README.md)

PostgreSQL only (the measured path: pg_trgm and its GIN index). Creates a fresh database
(``zt_similar_bench`` on the server DATABASE_URL points at) and migrates it, then

1. **Quality.** Registers every first text of tests/data/similar_pairs.csv once as an issue, asks
   ``feedback.similar.suggest`` (the code behind POST /api/v1/issues/similar/, as a county leader, who
   sees every issue) with each pair's second text, and counts the top-3 suggestions flagged ``likely``:
   *precision* = flagged suggestions that are the same problem at the same place / all flagged;
   *recall* = duplicate pairs whose first text is among the flagged top 3. Printed for the portal's
   scoring, for the same scoring without the lexicon of problem words (``similar.CONCEPTS``, written
   with these pairs, so the honest lower figure), and for plain pg_trgm ``similarity()`` top 3 at a
   few thresholds (the baseline).
2. **Time.** Adds 1,000,000 issues generated in SQL (``generate_series``; the problems of the pairs
   in about 1,500 generated villages, 8 townships, 3 channels, two years, 70 % closed), builds the index, and times
   in the same run, alternately, for 20 requests: ``similar.suggest`` (every step: candidates by
   title trigrams, by the places named and by requester, scoring, reasons) and the baseline, one
   plain pg_trgm query ``… WHERE title % q ORDER BY similarity(title, q) DESC LIMIT 10`` over the
   whole table (no date bound), on the same GIN index, at the same threshold. Prints
   medians, the 95th percentile and the ratio.
3. **In bulk.** ``similar.suggest_many`` (the ledger import's preview and the 政网 triage: a fixed
   number of statements whatever the number of rows) for 2 and 30 rows, ``--runs`` times each after a
   warm-up; against the same rows asked one by one with ``similar.suggest`` and against rows × the
   median single suggestion.

Options: ``--rows`` (default 1,000,000), ``--database``, ``--reuse`` (keep the generated rows),
``--runs`` (suggest_many runs per size).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgbench_setup import bench_url, recreate_database, setup_django, step

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAIRS = ROOT / "tests" / "data" / "similar_pairs.csv"
TOWNSHIPS = ["江口镇", "高沙镇", "竹市镇", "石江镇", "黄桥镇", "山门镇", "醪田镇", "洞口镇"]
# Village names of two characters (first × second) for the generated issues (none of them is a
# village of the labelled pairs).
FIRST = list("东南西北上下前后大小新老金银龙凤青黄白石竹松柏桂兰梅杏枫槐杨柳沙泉岭岗湾坪冲塘")
SECOND = list("田园山坪溪湖井桥坡冲垸庄铺湾洲坳岩峰林岭坝圳港堡寨垅头尾口门台场营庙观阁")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="generated issues (default 1,000,000)")
    p.add_argument("--database", default="zt_similar_bench", help="database to (re)create")
    p.add_argument("--reuse", action="store_true", help="keep an existing bench database with its rows")
    p.add_argument("--queries", type=int, default=20, help="timed requests (default 20)")
    p.add_argument("--skip-quality", action="store_true", help="only the time at --rows issues")
    p.add_argument("--runs", type=int, default=7, help="timed runs of suggest_many per batch size (default 7)")
    return p.parse_args()


def pairs() -> list[dict[str, str]]:
    with PAIRS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def setup_reference():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from feedback.access import GROUP_NAMES, Role
    from feedback.services.reference import load_reference_data

    with step("migrate and reference data"):
        call_command("migrate", verbosity=0)
        load_reference_data()
        leader = get_user_model().objects.create_user("leader")
        leader.groups.add(Group.objects.get(name=GROUP_NAMES[Role.LEADER]))
    return leader


def load_pairs(rows: list[dict[str, str]]) -> dict[str, str]:
    """The first text of every pair, once, as an issue; returns ref → group."""
    from django.utils import timezone

    from feedback.models import Category, Issue, Requester

    category = Category.objects.get(code="other")
    requester = Requester.objects.create(name="标注样本")
    groups: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    issues = []
    for r in rows:
        key = (r["a_title"], r["a_content"])
        if key in seen:
            continue
        seen.add(key)
        ref = f"P{len(seen):05d}"
        groups[ref] = r["a_group"]
        issues.append(
            Issue(
                ref=ref,
                channel="net",
                category=category,
                requester=requester,
                title=r["a_title"],
                content=r["a_content"],
                received_on=timezone.localdate(),
            )
        )
    Issue.objects.bulk_create(issues)
    return groups


def quality(leader, rows, groups, *, use_concepts: bool) -> tuple[float, float, int]:
    from feedback import similar

    original = similar.analyse

    def analyse(title, content, townships=(), *, use_concepts_: bool = use_concepts, **_):
        return original(title, content, townships, use_concepts=use_concepts_)

    similar.analyse = analyse  # type: ignore[assignment]
    try:
        right = wrong = found = duplicates = 0
        for r in rows:
            top = similar.suggest(leader, similar.Request(title=r["b_title"], content=r["b_content"]), limit=3)
            flagged = [groups.get(s.issue.ref) for s in top if s.likely]
            right += sum(g == r["b_group"] for g in flagged)
            wrong += sum(g != r["b_group"] for g in flagged)
            if r["label"] == "duplicate":
                duplicates += 1
                found += r["a_group"] in flagged
    finally:
        similar.analyse = original
    return (right / (right + wrong) if right + wrong else 0.0), found / duplicates, right + wrong


def trigram_quality(rows, groups, threshold: float) -> tuple[float, float]:
    from django.db import connection

    right = wrong = found = duplicates = 0
    with connection.cursor() as cursor:
        for r in rows:
            q = f"{r['b_title']} {r['b_content']}"
            cursor.execute(
                "SELECT ref FROM feedback_issue WHERE similarity(title || ' ' || content, %s) >= %s"
                " AND title || ' ' || content <> %s ORDER BY similarity(title || ' ' || content, %s) DESC LIMIT 3",
                [q, threshold, f"{r['b_title']} {r['b_content']}", q],
            )
            flagged = [groups.get(ref) for (ref,) in cursor.fetchall()]
            right += sum(g == r["b_group"] for g in flagged)
            wrong += sum(g != r["b_group"] for g in flagged)
            if r["label"] == "duplicate":
                duplicates += 1
                found += r["a_group"] in flagged
    return (right / (right + wrong) if right + wrong else 0.0), found / duplicates


def generate(n: int) -> None:
    """``n`` issues in SQL: the pairs' problems (their wordings) in generated villages."""
    from django.db import connection
    from similar_pairs_source import PROBLEMS

    from feedback.models import Category, Requester

    titles, contents = [], []
    for problems in PROBLEMS.values():
        for wordings in problems:
            for title, content in wordings:
                titles.append(title.replace("{t}", "{T}").replace("{p}", "{P}"))
                contents.append(content.replace("{t}", "{T}").replace("{p}", "{P}"))
    params = {
        "n": n,
        "titles": titles,
        "contents": contents,
        "k": len(titles),
        "first": FIRST,
        "nf": len(FIRST),
        "ns": len(SECOND),
        "second": SECOND,
        "townships": TOWNSHIPS,
        "category": Category.objects.get(code="other").pk,
        "requester": Requester.objects.create(name="生成").pk,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET session_replication_role = replica")  # no rollup marks while generating
        cursor.execute("DROP INDEX IF EXISTS issue_text_trgm_idx")
        cursor.execute("DROP INDEX IF EXISTS issue_recent_title_trgm_idx")
        with step(f"{n:,} issues (generate_series)"):
            cursor.execute(
                """
                WITH g AS (
                    SELECT g, 1 + (g * 7919) %% %(k)s AS t,
                           (%(first)s::text[])[1 + (g * 31) %% %(nf)s]
                             || (%(second)s::text[])[1 + (g * 17) %% %(ns)s] || '村' AS p,
                           (%(townships)s::text[])[1 + g %% 8] AS tw,
                           DATE '2026-11-30' - (g %% 730)::int AS day
                    FROM generate_series(1::bigint, %(n)s) AS g
                )
                INSERT INTO feedback_issue (ref, channel, nature, category_id, requester_id, title, content,
                    received_on, onsite_answer, status, satisfaction, follow_up_comment, closed_on,
                    created_at, updated_at)
                SELECT 'G' || lpad(g::text, 7, '0'), (ARRAY['net', 'enterprise', 'citizen'])[1 + g %% 3],
                       'suggestion',
                       %(category)s, %(requester)s,
                       replace(replace((%(titles)s::text[])[t], '{P}', p), '{T}', tw),
                       replace(replace((%(contents)s::text[])[t], '{P}', p), '{T}', tw),
                       day, '', CASE WHEN g %% 10 < 7 THEN 'closed' ELSE 'assigned' END, '', '',
                       CASE WHEN g %% 10 < 7 THEN day + 15 END, now(), now()
                FROM g""",
                params,
            )
        cursor.execute("SET session_replication_role = origin")
        with step("the two GIN trigram indexes (migration 0531's) and ANALYZE"):
            cursor.execute("SET maintenance_work_mem = '256MB'")
            cursor.execute(
                "CREATE INDEX issue_recent_title_trgm_idx ON feedback_issue USING gin (received_on, title gin_trgm_ops)"
            )
            cursor.execute(
                "CREATE INDEX issue_text_trgm_idx ON feedback_issue USING gin ((title || ' ' || content) gin_trgm_ops)"
            )
            cursor.execute("ANALYZE feedback_issue")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    args = parse_args()
    url, maintenance = bench_url(args.database, "bench/similar.py")
    created = recreate_database(maintenance, args.database, args.reuse)
    setup_django(url)
    from django.contrib.auth import get_user_model
    from django.db import connection

    from feedback import similar
    from feedback.models import Issue

    rows = pairs()
    if created:
        leader = setup_reference()
        groups = load_pairs(rows)
    else:
        leader = get_user_model().objects.get(username="leader")
        groups = {}
        for ref, title, content in Issue.objects.filter(ref__startswith="P").values_list("ref", "title", "content"):
            groups[ref] = next(r["a_group"] for r in rows if (r["a_title"], r["a_content"]) == (title, content))
    dup = sum(r["label"] == "duplicate" for r in rows)
    print(
        f"\nQuality: {len(rows)} labelled pairs ({dup} duplicates, {len(rows) - dup} near misses), "
        f"{len(groups)} issues, top 3, flagged at score ≥ {similar.LIKELY}"
    )
    if args.skip_quality:
        print("  (skipped: --skip-quality)")
    elif Issue.objects.count() == len(groups):
        for label, concepts in (("portal (characters + places + lexicon)", True), ("without the lexicon", False)):
            p, r, flagged = quality(leader, rows, groups, use_concepts=concepts)
            print(f"  {label:40s} precision {p:.3f}  recall {r:.3f}  ({flagged} flagged)")
        for threshold in (0.1, 0.2, 0.3, 0.4):
            p, r = trigram_quality(rows, groups, threshold)
            print(f"  {'pg_trgm similarity() ≥ ' + str(threshold):40s} precision {p:.3f}  recall {r:.3f}")
    else:
        print("  (skipped with --reuse: the generated rows would mix with the labelled ones)")

    if created or Issue.objects.count() < args.rows:
        generate(args.rows)
    total = Issue.objects.count()
    print(f"\nTime: one suggestion query among {total:,} issues ({args.queries} requests, alternately, median of each)")
    requests = [r for r in rows if r["label"] == "duplicate"][: args.queries]
    ours, base = [], []
    with connection.cursor() as cursor:
        cursor.execute("SET pg_trgm.similarity_threshold = %s", [similar.TRIGRAM_THRESHOLD])
    for r in requests:
        req = similar.Request(title=r["b_title"], content=r["b_content"])
        q = r["b_title"]

        def baseline(q=q):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM feedback_issue WHERE title %% %s ORDER BY similarity(title, %s) DESC LIMIT 10",
                    [q, q],
                )
                cursor.fetchall()

        similar.suggest(leader, req)  # warm the cache for this request's pages, as for the baseline
        baseline()
        ours.append(timed(lambda req=req: similar.suggest(leader, req)))
        base.append(timed(baseline))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT id FROM feedback_issue WHERE title %% %s LIMIT 10", [requests[0]["b_title"]])
        plan = " / ".join(line for (line,) in cursor.fetchall())
    med_ours, med_base = statistics.median(ours), statistics.median(base)
    p95 = sorted(ours)[max(0, round(0.95 * len(ours)) - 1)]
    print(f"  similar.suggest (whole path)      median {med_ours:7.1f} ms   95th percentile {p95:7.1f} ms")
    print(f"  plain pg_trgm title top-10 (baseline)   median {med_base:7.1f} ms")
    print(f"  ratio suggest / baseline          {med_ours / med_base:7.2f}")
    print(f"  baseline plan: {plan}")

    # suggest_many (the ledger import's preview, the 政网 triage): a fixed number of statements for all
    # the rows; timed for 2 and 30 rows against 2 and 30 times the single suggest measured above.
    print(f"\nsuggest_many among {total:,} issues (median of {args.runs} runs each, after one warm-up run)")
    pool = [r for r in rows if r["label"] == "duplicate"]
    for size in (2, 30):
        batch = [similar.Request(title=r["b_title"], content=r["b_content"]) for r in pool[:size]]
        singles = []
        for req in batch:
            similar.suggest(leader, req)
            singles.append(timed(lambda req=req: similar.suggest(leader, req)))
        similar.suggest_many(leader, batch, limit=3)
        many = [timed(lambda batch=batch: similar.suggest_many(leader, batch, limit=3)) for _ in range(args.runs)]
        one_by_one, median_many = sum(singles), statistics.median(many)
        print(
            f"  {size:2d} rows: suggest_many median {statistics.median(many):8.1f} ms"
            f" (min {min(many):.1f}, max {max(many):.1f});"
            f" {size} single suggest calls {one_by_one:8.1f} ms;"
            f" ratio {median_many / one_by_one:5.2f};"
            f" vs {size} × the median single ({size * med_ours:.1f} ms): {median_many / (size * med_ours):5.2f}"
        )


if __name__ == "__main__":
    main()
