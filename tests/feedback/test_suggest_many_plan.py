"""``similar.suggest_many`` at a million issues (bench/similar.py): the two lateral statements must let
PostgreSQL check the few candidates through the primary key and find a place's issues through the GIN
index. Two plan faults made 2 rows take 2.2 s instead of 37 ms: the scope's subquery kept the model's
ordering (so it was sorted and hashed whole, ~480,000 rows, for each value), and the place leg ordered
by the bare ``received_on`` (so the planner walked that index through every issue)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import similar

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the lateral joins are PostgreSQL's path")
def test_the_lateral_statements_keep_the_plans_measured_at_a_million_issues(leader):
    requests = [
        similar.Request(title="红星村自来水经常停水", content="江口镇红星村最近一个月自来水三天两头停"),
        similar.Request(title="桃花村吃水难", content="桃花村吃水难，水管老化"),
    ]
    with CaptureQueriesContext(connection) as captured:
        similar.suggest_many(leader, requests)
    laterals = [q["sql"] for q in captured.captured_queries if "CROSS JOIN LATERAL" in q["sql"]]
    assert len(laterals) == 2  # the titles, the places
    for sql in laterals:
        # the scope's subquery: from "i.id IN (SELECT" to the lateral's own ordering (on columns of i)
        inner = re.search(r"i\.id IN \(SELECT (.*)\) ORDER BY (similarity\(i\.|i\.)", sql)
        assert inner is not None and "ORDER BY" not in inner.group(1), "the scope's subquery must not be ordered"
    titles, places = laterals
    assert "similarity(i.title" in titles
    assert re.search(r"ORDER BY i\.received_on \+ 0 DESC", places), "the place leg must not follow the date index"
