"""Hot topics (issue 19): the threshold of the text clustering, measured on the labelled pairs.

    .venv/bin/python bench/topics.py             # no database: the clustering is plain Python

The dashboard's hot topics (``feedback.similar.hot_topics``) put a request naming a problem of the
lexicon (``similar.CONCEPTS``) in that problem's cluster and cluster every other request greedily by
the characters of its problem (``similar._text_clusters``): it joins the cluster one of whose first
members it resembles most at ``TEXT_CLUSTER_SIMILARITY`` or more, else starts one. This script takes
every text of tests/data/similar_pairs.csv once (the 360 pairs: 144 duplicates "the same problem at the
same place in other words", 216 near misses "same place, another problem" or "same problem, another
place"), clusters them as the dashboard would, and counts, over the labelled pairs, "both texts in one
cluster" against "labelled duplicate":

*precision* = duplicate pairs in one cluster / pairs in one cluster; *recall* = duplicate pairs in one
cluster / duplicate pairs. For thresholds 0.15 … 0.40, for the text clustering alone (every text, the
lexicon off: what a problem the lexicon does not know gets) and for the portal's path (lexicon first,
text clustering for the rest). The greedy clustering depends on the order the requests come in (the
dashboard reads them newest first), so each figure is the mean over the file's order and
``--orders`` − 1 seeded shuffles, with the lowest and highest.

A near miss of the kind "same problem, another place" *is* the same topic for a leader (停水 in two
villages is one rising problem), so *precision* (against the labelled duplicates) is a lower bound for
topics; *topic precision* counts a pair in one cluster right when it is the same problem, wherever.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PAIRS = ROOT / "tests" / "data" / "similar_pairs.csv"
# The county's townships as the reference data names them (bench/similar.py generates with these).
TOWNSHIPS = ["江口镇", "高沙镇", "竹市镇", "石江镇", "黄桥镇", "山门镇", "醪田镇", "洞口镇"]
THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orders", type=int, default=10, help="orders of the texts averaged (default 10)")
    return p.parse_args()


def setup() -> None:
    # The scoring imports the models (nothing is queried): Django on a throwaway SQLite file.
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='zt-topics-')}/unused.sqlite3"
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhitongche.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def clusters(texts: list[tuple[str, str]], threshold: float, *, lexicon: bool) -> dict[int, str]:
    """Text index → its cluster's name, as ``similar.hot_topics`` forms them."""
    from feedback import similar

    names = {f"t{i}": name for i, name in enumerate(TOWNSHIPS)}
    found: dict[int, str] = {}
    outside = []
    day = datetime.date(2026, 11, 30)
    for n, (title, content) in enumerate(texts):
        concept = similar.topic_of(title, content) if lexicon else None
        if concept is not None:
            found[n] = f"lexicon:{concept}"
        else:
            outside.append((n, title, content, "net", day))
    original = similar.TEXT_CLUSTER_SIMILARITY
    similar.TEXT_CLUSTER_SIMILARITY = threshold
    try:
        for k, cluster in enumerate(similar._text_clusters(outside, names)):
            for row in cluster.rows:
                found[row[0]] = f"text:{k}"
    finally:
        similar.TEXT_CLUSTER_SIMILARITY = original
    return found


def measure(rows: list[dict[str, str]], order: list[tuple[str, str]], threshold: float, *, lexicon: bool):
    cluster = clusters(order, threshold, lexicon=lexicon)
    index = {text: n for n, text in enumerate(order)}
    together = right = duplicates = same_problem = 0
    for r in rows:
        same = cluster[index[(r["a_title"], r["a_content"])]] == cluster[index[(r["b_title"], r["b_content"])]]
        duplicate = r["label"] == "duplicate"
        duplicates += duplicate
        together += same
        right += same and duplicate
        # group = kind-problem-place (bench/similar_pairs_source.py): the same problem anywhere is one topic
        same_problem += same and r["a_group"].rsplit("-", 1)[0] == r["b_group"].rsplit("-", 1)[0]
    return (
        (right / together if together else 0.0),
        right / duplicates,
        (same_problem / together if together else 0.0),
        len(set(cluster.values())),
    )


def main() -> None:
    args = parse_args()
    setup()
    with PAIRS.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = list(dict.fromkeys([(r[f"{s}_title"], r[f"{s}_content"]) for r in rows for s in "ab"]))
    orders = [texts]
    for seed in range(1, args.orders):
        shuffled = texts[:]
        random.Random(seed).shuffle(shuffled)
        orders.append(shuffled)
    dup = sum(r["label"] == "duplicate" for r in rows)
    print(
        f"Hot-topic clustering on {len(rows)} labelled pairs ({dup} duplicates, {len(rows) - dup} near misses), "
        f"{len(texts)} texts, mean over {len(orders)} orders [lowest–highest]"
    )
    for lexicon, label in ((False, "text clustering alone (lexicon off)"), (True, "portal (lexicon, then text)")):
        print(f"\n  {label}")
        print("  threshold   precision              recall                 topic precision        clusters")
        for threshold in THRESHOLDS:
            runs = [measure(rows, order, threshold, lexicon=lexicon) for order in orders]
            p, r, t, k = ([run[i] for run in runs] for i in range(4))
            print(
                f"  {threshold:9.2f}   {statistics.mean(p):.3f} [{min(p):.3f}–{max(p):.3f}]"
                f"   {statistics.mean(r):.3f} [{min(r):.3f}–{max(r):.3f}]"
                f"   {statistics.mean(t):.3f} [{min(t):.3f}–{max(t):.3f}]   {statistics.mean(k):6.1f}"
            )


if __name__ == "__main__":
    main()
