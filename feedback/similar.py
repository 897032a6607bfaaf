"""Likely duplicates of a request at intake (issue 19, 并单).

Two steps, the same on both databases for the second:

1. *Candidates*, bounded: on PostgreSQL the recent issues whose title shares enough character
   trigrams with the request's (``pg_trgm``'s ``%``), the issues naming the request's places
   (``LIKE``), both over the GIN indexes of migration 0531, plus the same requester's issues and the
   same township's recent issues of the category. On SQLite (the
   README's ``bin/run``) the most recent open and recently closed issues, at most
   ``SQLITE_CANDIDATES`` of them.
2. *Scoring* in Python over those few hundred rows: character uni- and bigram overlap of the problem
   (place names taken out, so "same place, another problem" does not look alike), plus the reasons a
   clerk would give — same requester, same place (village, road, enterprise), same township, same
   category and township within ``CATEGORY_WINDOW_DAYS``.

Why characters and not a word tokenizer (jieba): ``docs/decisions/0630-duplicate-suggestions.md``;
the measured precision, recall and time: ``bench/similar.py``.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Exists, F, FloatField, Func, OuterRef, Q, QuerySet, TextField, Value
from django.utils import timezone

from feedback import access
from feedback.models import Assignment, Channel, Department, Issue

# Closed issues older than this are not suggested: the requester is told to raise it again.
RECENT_DAYS = 180
# "Same category and township within N days" (issue 19).
CATEGORY_WINDOW_DAYS = 30
# Scored rows at most: the title trigram candidates (PostgreSQL) or the newest issues (SQLite).
TRIGRAM_CANDIDATES = 50
SQLITE_CANDIDATES = 2000
# The newest issues naming one of the request's places (village, road, enterprise, township).
PLACE_CANDIDATES = 100
# The title leg looks at the requests received in the last TITLE_WINDOW_DAYS (a request re-posted in the
# same words comes within weeks; older ones are found by place and requester): the GIN index over
# (received_on, title) of migration 0531 bounds the match by date inside the index.
TITLE_WINDOW_DAYS = 90
# pg_trgm title similarity above which an issue is a text candidate (the GIN index answers ``%``).
TRIGRAM_THRESHOLD = 0.3
# The score from which the portal flags a probable duplicate at intake: chosen on the labelled pairs
# of tests/data/similar_pairs.csv by bench/similar.py (precision and recall printed there).
LIKELY = 0.3
MAX_RESULTS = 10
# Both texts name places, none in common: the same kind of problem somewhere else.
PLACE_MISMATCH = 0.25

# A place is two characters before one of these (红星村, 建设路, 江口中学, 宏达电子公司 → 电子公司), unless the
# match is an everyday word that ends alike (马路, 水厂).
PLACE_SUFFIXES = "村|社区|小区|路|街|巷|大道|大桥|公司|厂|小学|中学|学校|幼儿园|医院|卫生院|车站|广场|公园|工业园"
_PLACE = re.compile(rf"[\u4e00-\u9fff]{{2}}(?:{PLACE_SUFFIXES})(?![灯面况费线段民])")
_NOT_PLACES = (
    "马路",
    "山路",
    "夜路",
    "公路",
    "道路",
    "走路",
    "进路",
    "过路",
    "水厂",
    "工厂",
    "全村",
    "本村",
    "我村",
    "个村",
    "农村",
    "上街",
    "人行道",
    "偏远村",
    "保洁公司",
    "供电公司",
    "物业公司",
    "运营商",
)
# A place name does not contain these (…进组的路, 建议在村部: not places).
_FUNCTION_CHARS = set("的在了是进议条那这个到从往和与及把被给对向里上下一")
_KEEP = re.compile(r"[\u4e00-\u9fff0-9a-z]+")
# Words every request uses: they say nothing about which problem it is.
_FILLER = re.compile(
    "希望|请求|要求|建议|反映|相关部门|有关部门|政府|领导|尽快|解决|处理|问题|情况|一下|我们|我家|这个|那个|"
    "现在|目前|已经|一直|非常|严重|能否|是否|能不能|可以|帮忙|给予|关注|重视|群众|村民|居民|网民|企业|县里"
)
# The same problem in the words different requesters use (停水, 断供, 没水 …): each group adds one token
# to both texts, so two wordings of one problem share it. Kept short and concrete: a word belongs here
# only if it names the problem, never the place or the requester. (Written with the labelled pairs of
# tests/data/similar_pairs.csv, so bench/similar.py prints the figures without it as well.)
CONCEPTS: dict[str, tuple[str, ...]] = {
    "供水": ("停水", "断水", "没水", "吃水", "供水", "自来水", "断供", "水压", "水管"),
    "道路": ("公路", "村道", "路面", "坑洼", "坑坑洼洼", "硬化", "修路", "通组", "组级道路", "塌陷", "压坏", "压烂"),
    "垃圾": ("垃圾", "清运", "保洁", "环卫", "转运"),
    "照明": ("路灯", "照明", "黑灯", "漆黑", "天一黑"),
    "河道": ("河道", "小河", "清淤", "黑臭", "河水"),
    "灌溉": ("水渠", "渠道", "灌溉", "放水", "水毁"),
    "医保": ("医保", "医疗保险", "居民医保"),
    "养殖污染": ("养猪场", "猪场", "养殖场", "粪水", "粪污"),
    "通信": ("信号", "基站", "网络", "运营商"),
    "危房": ("危房", "危改"),
    "排水": ("下水道", "排水", "积水", "污水", "淹"),
    "占道": ("摊贩", "摆摊", "占道", "小摊"),
    "信号灯": ("红绿灯", "信号灯", "绿灯", "信号配时", "信号时长"),
    "噪声": ("噪音", "噪声", "夜间施工", "夜里施工", "半夜", "打桩"),
    "停车": ("停车", "泊位", "乱停"),
    "人行道": ("人行道", "地砖", "崴脚", "绊倒"),
    "通勤": ("公交", "通勤", "上下班", "班车"),
    "用电": ("用电", "停电", "跳闸", "变压器", "增容", "供电"),
    "环评": ("环评", "环境影响评价"),
    "用工": ("招工", "缺工", "用工", "招聘", "普工", "工人"),
    "融资": ("贷款", "融资", "抵押", "担保"),
    "过街": ("天桥", "过街", "过马路", "横穿马路", "地下通道"),
    "食堂": ("食堂", "饭菜", "吃不饱"),
    "校车": ("校车",),
    "网吧": ("网吧", "上网"),
}
_CONCEPT_OF = {word: concept for concept, words in CONCEPTS.items() for word in words}
_CONCEPT_WORDS = re.compile("|".join(sorted(map(re.escape, _CONCEPT_OF), key=len, reverse=True)))
# A concept weighs as much as this many characters: the wording differs, the problem is the same.
CONCEPT_WEIGHT = 4
_STOP_CHARS = set("的了是在和有也都就我你他她它们这那个吗呢吧啊请及与或被把给让对为很还再又")


@dataclass(frozen=True)
class Request:
    title: str
    content: str
    channel: str = ""
    township: Department | None = None
    requester_phone: str = ""
    category_id: int | None = None
    received_on: datetime.date | None = None
    exclude_pk: int | None = None


@dataclass
class Suggestion:
    issue: Issue
    score: float
    likely: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Text:
    """What the scorer compares: the problem's characters and pairs, and the places named."""

    unigrams: Counter[str]
    bigrams: Counter[str]
    places: frozenset[str]


def analyse(title: str, content: str, townships: Iterable[str] = (), *, use_concepts: bool = True) -> Text:
    raw = f"{title}。{title}。{content}".lower()  # the title twice: it names the problem
    places = {p for p in _PLACE.findall(raw) if not p.endswith(_NOT_PLACES) and not _FUNCTION_CHARS & set(p[:2])}
    for name in townships:
        if name and (name in raw or name.rstrip("镇乡") in raw):
            places.add(name)
    problem = raw
    for place in sorted(places, key=len, reverse=True):
        problem = problem.replace(place, " ")
    problem = _FILLER.sub(" ", problem)
    unigrams: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for concept in {_CONCEPT_OF[w] for w in _CONCEPT_WORDS.findall(problem)} if use_concepts else ():
        unigrams[f"<{concept}>"] += CONCEPT_WEIGHT
        bigrams[f"<{concept}>"] += CONCEPT_WEIGHT
    for run in _KEEP.findall(problem):
        chars = [c for c in run if c not in _STOP_CHARS]
        unigrams.update(chars)
        bigrams.update(a + b for a, b in itertools.pairwise(chars))
    return Text(unigrams, bigrams, frozenset(places))


def _dice(a: Counter[str], b: Counter[str]) -> float:
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 0.0
    return 2 * sum((a & b).values()) / total


def text_similarity(a: Text, b: Text) -> float:
    """How alike two problems are described, 0–1 (places left out)."""
    return 0.6 * _dice(a.bigrams, b.bigrams) + 0.4 * _dice(a.unigrams, b.unigrams)


@dataclass(frozen=True)
class Facts:
    """What is known of a candidate besides its text."""

    phone: str = ""
    townships: frozenset[str] = frozenset()
    category_id: int | None = None
    received_on: datetime.date | None = None


def score_pair(request: Text, candidate: Text, *, req: Facts, cand: Facts) -> tuple[float, list[str]]:
    """The score (0–1) and the reasons, in the clerk's words."""
    similarity = text_similarity(request, candidate)
    score = similarity
    reasons: list[str] = []
    if similarity >= 0.3:
        reasons.append(f"内容相似（{round(similarity * 100)}%）")
    if req.phone and req.phone == cand.phone:
        score += 0.25
        reasons.insert(0, "同一诉求人（电话相同）")
    shared_places = sorted(request.places & candidate.places)
    same_township = bool(req.townships & cand.townships)
    if request.places and candidate.places and not shared_places:
        score *= PLACE_MISMATCH  # both say where, and not the same place: another instance of the problem
    if shared_places:
        score += 0.1
        reasons.append("同一地点：" + "、".join(shared_places[:3]))
    if same_township:
        score += 0.05
        names = "、".join(sorted(req.townships & cand.townships))
        if (
            req.category_id is not None
            and req.category_id == cand.category_id
            and req.received_on is not None
            and cand.received_on is not None
            and abs((req.received_on - cand.received_on).days) <= CATEGORY_WINDOW_DAYS
        ):
            score += 0.05
            reasons.append(f"同一乡镇（{names}）、同一类别，{CATEGORY_WINDOW_DAYS} 天内")
        elif not any(r.startswith("同一地点") for r in reasons) or names not in "".join(shared_places):
            reasons.append(f"同一乡镇（{names}）")
    return min(score, 1.0), reasons


def township_names() -> dict[str, str]:
    """code → name of every township (active or not: old issues name retired ones)."""
    return dict(Department.objects.filter(kind=Department.Kind.TOWNSHIP).values_list("code", "name"))


def township_code(value: str, names: dict[str, str]) -> str | None:
    """The township a clerk typed, by code or by name, with or without 镇/乡 (江口 → 江口镇), among
    ``names`` (``township_names()``): its code, or None. No query."""
    value = (value or "").strip()
    if not value:
        return None
    if value in names:
        return value
    by_name = {name: code for code, name in names.items()}
    return by_name.get(value) or by_name.get(value + "镇") or by_name.get(value + "乡")


def resolve_township(value: str) -> Department | None:
    """The township row ``township_code`` finds (one query)."""
    townships = {d.code: d for d in Department.objects.filter(kind=Department.Kind.TOWNSHIP)}
    code = township_code(value, {c: d.name for c, d in townships.items()})
    return townships[code] if code else None


class IssueText(Func):
    """``title || ' ' || content``: the expression migration 0531 indexes (GIN, ``gin_trgm_ops``), so
    ``%`` and LIKE over it read the index on PostgreSQL."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(F("title"), F("content"))


class TrigramMatch(Func):
    """pg_trgm's ``a % b``: similarity above ``pg_trgm.similarity_threshold``, answered by the index."""

    template = "(%(expressions)s)"
    arg_joiner = " %% "
    output_field = BooleanField()


class TrigramSimilarity(Func):
    function = "similarity"
    output_field = FloatField()


def _trigram_threshold(cursor: Any) -> None:
    """``SET LOCAL pg_trgm.similarity_threshold`` for this transaction, through ``set_config``: ``SET`` takes
    no bound parameter, and the connection binds them on the server (decision 0790)."""
    cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])


def _trigram_ready() -> bool:
    """PostgreSQL has pg_trgm and the index (migration 0531); SQLite does not."""
    return connection.vendor == "postgresql"


def _places_of(request: Request) -> frozenset[str]:
    return analyse(request.title, request.content).places


def suggestible(user: Any, today: datetime.date) -> QuerySet[Issue]:
    """The issues a suggestion may name: seen by the user, not merged, open or recently closed."""
    return (
        access.issues_for(user)
        .filter(merged_into__isnull=True)  # a merged issue is suggested through its lead
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=today - datetime.timedelta(days=RECENT_DAYS)))
    )


def candidates(
    user: Any, request: Request, *, today: datetime.date | None = None, request_places: frozenset[str] | None = None
) -> list[Issue]:
    """The bounded set of issues the user can see that the scorer looks at."""
    today = today or timezone.localdate()
    seen = suggestible(user, today)
    if request.channel:
        seen = seen.filter(channel=request.channel)
    if request.exclude_pk is not None:
        seen = seen.exclude(pk=request.exclude_pk)
    ids: list[int] = []
    newest = ("-received_on", "-id")
    if _trigram_ready():
        if request.title.strip():
            # A request repeated in nearly the same words: its title (short, so few trigrams to look up).
            title = Value(request.title.strip())
            with transaction.atomic():
                with connection.cursor() as cursor:
                    _trigram_threshold(cursor)
                recent = today - datetime.timedelta(days=TITLE_WINDOW_DAYS)
                ids += list(
                    seen.filter(received_on__gte=recent)
                    .filter(TrigramMatch(F("title"), title))
                    .annotate(trgm=TrigramSimilarity(F("title"), title))
                    .order_by("-trgm")
                    .values_list("pk", flat=True)[:TRIGRAM_CANDIDATES]
                )
    else:
        ids += list(seen.order_by(*newest).values_list("pk", flat=True)[:SQLITE_CANDIDATES])
    # The villages, roads, enterprises and schools the request names (红星村, 建设路, 宏达电子公司): a
    # paraphrase shares few trigrams with the issue it repeats, but names the same place. (Not the
    # townships: an eighth of the county each; the township leg below covers them.)
    places = sorted(p for p in (request_places if request_places is not None else _places_of(request)) if len(p) >= 3)
    if places:
        at_place = Q()
        for place in places:
            at_place |= Q(text__contains=place)
        named = seen.annotate(text=IssueText()).filter(at_place)
        ids += list(named.order_by(*newest).values_list("pk", flat=True)[:PLACE_CANDIDATES])
    if request.requester_phone:
        ids += list(seen.filter(requester__phone=request.requester_phone).values_list("pk", flat=True)[:20])
    if request.township is not None:
        since = (request.received_on or today) - datetime.timedelta(days=CATEGORY_WINDOW_DAYS)
        there = Assignment.objects.filter(issue=OuterRef("pk"), department=request.township).exclude(
            status=Assignment.Status.WITHDRAWN
        )
        near = seen.filter(Exists(there), received_on__gte=since)
        if request.category_id is not None:
            near = near.filter(category_id=request.category_id)
        ids += list(near.order_by("-received_on").values_list("pk", flat=True)[:50])
    unique = list(dict.fromkeys(ids))
    return list(
        Issue.objects.filter(pk__in=unique).select_related("requester").only(*SCORED_FIELDS, "requester__phone")
    )


SCORED_FIELDS = ("id", "ref", "title", "content", "status", "channel", "category_id", "received_on", "requester_id")


def _townships_of(issues: list[Issue], names: dict[str, str]) -> dict[int, set[str]]:
    """Each issue's townships: those it is assigned to, and those its text names."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = (
        Assignment.objects.filter(issue__in=[i.pk for i in issues], department__kind=Department.Kind.TOWNSHIP)
        .exclude(status=Assignment.Status.WITHDRAWN)
        .values_list("issue_id", "department__name")
    )
    for issue_id, name in rows:
        found[issue_id].add(name)
    for issue in issues:
        found[issue.pk] |= _named_townships(f"{issue.title}{issue.content}", names)
    return found


def _named_townships(text: str, names: dict[str, str]) -> set[str]:
    return {name for name in names.values() if name in text or name.rstrip("镇乡") in text}


def suggest(user: Any, request: Request, *, limit: int = MAX_RESULTS) -> list[Suggestion]:
    """At most ``limit`` issues the user can see, best first. Reads only."""
    names = township_names()
    found = candidates(user, request)
    if not found:
        return []
    townships = _townships_of(found, names)
    return _ranked(request, found, names, townships, {}, limit=limit)


def _ranked(
    request: Request,
    found: Iterable[Issue],
    names: dict[str, str],
    townships: dict[int, set[str]],
    texts: dict[int, Text],
    *,
    limit: int,
) -> list[Suggestion]:
    """Score ``found`` against ``request``; ``texts`` caches the candidates' analyses across requests."""
    mine = _named_townships(f"{request.title}{request.content}", names)
    if request.township is not None:
        mine.add(request.township.name)
    req_text = analyse(request.title, request.content, names.values())
    req_facts = Facts(
        phone=request.requester_phone.strip(),
        townships=frozenset(mine),
        category_id=request.category_id,
        received_on=request.received_on or timezone.localdate(),
    )
    scored: list[Suggestion] = []
    for issue in found:
        if issue.pk not in texts:
            texts[issue.pk] = analyse(issue.title, issue.content, names.values())
        score, reasons = score_pair(
            req_text,
            texts[issue.pk],
            req=req_facts,
            cand=Facts(
                phone=issue.requester.phone,
                townships=frozenset(townships.get(issue.pk, ())),
                category_id=issue.category_id,
                received_on=issue.received_on,
            ),
        )
        if reasons:
            scored.append(Suggestion(issue, round(score, 3), score >= LIKELY, reasons))
    scored.sort(key=lambda s: (-s.score, -s.issue.received_on.toordinal(), -s.issue.pk))
    return [s for s in scored if s.score >= 0.2][:limit]


# How many of a SQLite pool's issues are scored per request in ``suggest_many``: those sharing the most
# character pairs or problem words with it (the pool itself is the newest SQLITE_CANDIDATES issues).
SQLITE_SHORTLIST = 60


def suggest_many(
    user: Any, requests: list[Request], *, limit: int = 3, today: datetime.date | None = None
) -> list[list[Suggestion]]:
    """The suggestions of many requests at once (the ledger import's preview), in a fixed number of
    queries whatever the number of requests: on PostgreSQL one lateral join finds every title's trigram
    candidates and one finds the issues naming every request's places; then one query for the same
    requesters, one loading the pool, one for its townships. (The per-request township leg of
    ``candidates`` is left out: it only adds rows that share the township and category, which score
    too low on their own to be flagged.) On SQLite each request is scored against the issues of the
    newest-``SQLITE_CANDIDATES`` pool that share most character pairs with it."""
    if not requests:
        return []
    today = today or timezone.localdate()
    seen = suggestible(user, today)
    per_request: list[set[int]] = [set() for _ in requests]
    places = [_places_of(r) for r in requests]
    sqlite_pool: list[int] = []
    if _trigram_ready():
        recent = today - datetime.timedelta(days=TITLE_WINDOW_DAYS)
        titles = [r.title.strip() for r in requests]
        wanted = sorted({p for found in places for p in found if len(p) >= 3})
        by_place: dict[str, set[int]] = defaultdict(set)
        with transaction.atomic(), connection.cursor() as cursor:
            _trigram_threshold(cursor)
            for n, pk in _lateral(cursor, seen, titles, TRIGRAM_CANDIDATES, title_window=recent):
                per_request[n].add(pk)
            for n, pk in _lateral(cursor, seen, wanted, PLACE_CANDIDATES, places=True):
                by_place[wanted[n]].add(pk)
        for i, found in enumerate(places):
            for place in found:
                per_request[i] |= by_place.get(place, set())
    else:
        sqlite_pool = list(seen.order_by("-received_on", "-id").values_list("pk", flat=True)[:SQLITE_CANDIDATES])
    phones = {r.requester_phone.strip() for r in requests if r.requester_phone.strip()}
    if phones:
        by_phone: dict[str, set[int]] = defaultdict(set)
        for pk, phone in seen.filter(requester__phone__in=phones).values_list("pk", "requester__phone")[:2000]:
            by_phone[phone].add(pk)
        for i, r in enumerate(requests):
            per_request[i] |= by_phone.get(r.requester_phone.strip(), set())
    wanted_ids = set().union(*per_request, sqlite_pool)
    if not wanted_ids:
        return [[] for _ in requests]
    pool = {
        i.pk: i
        for i in Issue.objects.filter(pk__in=wanted_ids)
        .select_related("requester")
        .only(*SCORED_FIELDS, "requester__phone")
    }
    names = township_names()
    townships = _townships_of(list(pool.values()), names)
    texts = {pk: analyse(i.title, i.content, names.values()) for pk, i in pool.items()}
    if sqlite_pool:
        postings: dict[str, list[int]] = defaultdict(list)
        for pk in sqlite_pool:
            for token in texts[pk].bigrams:
                postings[token].append(pk)
        for i, r in enumerate(requests):
            shared: Counter[int] = Counter()
            for token in analyse(r.title, r.content, names.values()).bigrams:
                shared.update(postings.get(token, ()))
            per_request[i] |= {pk for pk, _ in shared.most_common(SQLITE_SHORTLIST)}
    return [
        _ranked(r, _kept(r, pool, per_request[i]), names, townships, texts, limit=limit) for i, r in enumerate(requests)
    ]


def _kept(request: Request, pool: dict[int, Issue], ids: set[int]) -> list[Issue]:
    """The request's candidates in the pool, of its channel when it names one."""
    return [
        pool[pk]
        for pk in sorted(ids)
        if pk in pool and pk != request.exclude_pk and (not request.channel or pool[pk].channel == request.channel)
    ]


def _lateral(
    cursor: Any,
    seen: QuerySet[Issue],
    values: list[str],
    per_value: int,
    *,
    title_window: datetime.date | None = None,
    places: bool = False,
) -> list[tuple[int, int]]:
    """(index of the value, issue id) for each of ``values``: its ``per_value`` best title trigram matches
    received since ``title_window``, or (``places``) the newest issues whose text names it. One
    statement for all the values, each answered by the GIN indexes of migration 0531. ``cursor`` is in a
    transaction with ``pg_trgm.similarity_threshold`` set."""
    if not any(values):
        return []
    # Without its ordering (the model's newest first): an ordered subquery cannot be pulled up, so
    # PostgreSQL sorted and hashed every issue in scope (~480,000 at a million issues) for each value,
    # 0.9 s per value; unordered it checks the few candidates through the primary key.
    scoped, params = seen.order_by().values("pk").query.sql_with_params()
    if places:
        match = "(i.title || ' ' || i.content) LIKE '%%' || v.value || '%%'"
        # ``+ 0``: no index gives this order, so the GIN index finds the few issues naming the place
        # and they are sorted. Ordered by the bare column, the planner (which cannot estimate LIKE on a
        # value it does not know yet: 5,000 rows guessed, 18 found) walked the received_on index
        # backwards through all the issues, 0.74 s per place at a million issues.
        order = "i.received_on + 0 DESC, i.id DESC"
        extra: list[Any] = []
    else:
        match = "i.received_on >= %s AND i.title %% v.value"
        order = "similarity(i.title, v.value) DESC"
        extra = [title_window]
    # Only fixed fragments and Django's own compiled, parametrised SQL are put together here.
    sql = (
        "SELECT v.n - 1, m.id FROM unnest(%s::text[]) WITH ORDINALITY AS v(value, n) "  # noqa: S608
        "CROSS JOIN LATERAL (SELECT i.id FROM feedback_issue i "
        f"WHERE v.value <> '' AND {match} AND i.id IN ({scoped}) ORDER BY {order} LIMIT %s) m"
    )
    cursor.execute(sql, [values, *extra, *params, per_value])
    return [(int(n), int(pk)) for n, pk in cursor.fetchall()]


# --- Hot topics (热点诉求) ------------------------------------------------------------------------
# A cluster is the requests of one problem received in a period, whatever the channel and the place.
# Two sources: a request naming a problem of the lexicon (CONCEPTS: 停水/断供/没水 → 供水) joins that
# problem's cluster — the lexicon is a boost that gathers wordings the characters alone would keep
# apart; every other request is clustered greedily by the characters of its problem (places and filler
# taken out): it joins the cluster one of whose first members it resembles most, at TEXT_CLUSTER_SIMILARITY
# or more, else starts one. A text cluster is a topic from TEXT_CLUSTER_MIN requests in the period. The
# dashboard shows the ten largest, with the previous period of the same length beside them. Rising: at
# least RISING_MIN requests and at least twice the previous period's.
HOT_TOPICS = 10
RISING_MIN = 5
SAMPLE_TITLES = 3
# The most recent requests of a period that are read (a county registers a few hundred a month).
HOT_SCAN_LIMIT = 20000
# Text clusters (requests outside the lexicon): the similarity of two problems' characters from which
# they are one topic (measured on the labelled pairs by bench/topics.py: at 0.15 the clusters match the
# problems, recall 0.73 with topic precision 0.98; at 0.3, recall 0.17; at 0.1 problems merge —
# docs/decisions/0730), the smallest cluster shown, and how many requests outside the lexicon are clustered (the
# newest; beyond that the dashboard says so instead of slowing down).
TEXT_CLUSTER_SIMILARITY = 0.15
TEXT_CLUSTER_MIN = 3
TEXT_CLUSTER_LIMIT = 4000
# A request is compared with at most this many clusters (those sharing most character pairs with it),
# each through its first TEXT_CLUSTER_PROBES members.
TEXT_CLUSTER_CANDIDATES = 20
TEXT_CLUSTER_PROBES = 5


@dataclass
class Topic:
    concept: str  # the lexicon's problem, or a text cluster's label (its most shared character pairs)
    words: tuple[str, ...]
    size: int = 0
    previous: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    townships: Counter[str] = field(default_factory=Counter)
    titles: list[str] = field(default_factory=list)
    issue_ids: list[int] = field(default_factory=list)
    from_text: bool = False  # found from the text itself, not the lexicon

    @property
    def rising(self) -> bool:
        return self.size >= RISING_MIN and self.size >= 2 * self.previous

    @property
    def trend(self) -> int:
        return self.size - self.previous

    @property
    def fall(self) -> int:
        return self.previous - self.size

    # For templates (a Counter's item lookup would shadow its methods there).
    @property
    def channel_counts(self) -> list[tuple[str, int]]:
        return self.channels.most_common()

    @property
    def township_counts(self) -> list[tuple[str, int]]:
        return self.townships.most_common(4)


def topic_of(title: str, content: str) -> str | None:
    """The problem a request is about: the lexicon's concept named most in its title, else in its text."""
    for text in (title, f"{title}{content}"):
        found = Counter(_CONCEPT_OF[w] for w in _CONCEPT_WORDS.findall(text))
        if found:
            return sorted(found.items(), key=lambda item: (-item[1], list(CONCEPTS).index(item[0])))[0][0]
    return None


@dataclass
class _TextCluster:
    members: list[Text] = field(default_factory=list)
    rows: list[tuple[int, str, str, str, datetime.date]] = field(default_factory=list)


def _text_clusters(rows: list[tuple[int, str, str, str, datetime.date]], names: dict[str, str]) -> list[_TextCluster]:
    """Greedy clustering of requests by the characters of their problem (single pass, newest first)."""
    clusters: list[_TextCluster] = []
    postings: dict[str, set[int]] = defaultdict(set)  # character pair → clusters having it
    for row in rows:
        text = analyse(row[1], row[2], names.values(), use_concepts=False)
        shared: Counter[int] = Counter()
        for pair in text.bigrams:
            shared.update(postings.get(pair, ()))
        best, best_score = None, TEXT_CLUSTER_SIMILARITY
        for index, _ in shared.most_common(TEXT_CLUSTER_CANDIDATES):
            score = max(text_similarity(text, m) for m in clusters[index].members[:TEXT_CLUSTER_PROBES])
            if score >= best_score:
                best, best_score = index, score
        if best is None:
            best = len(clusters)
            clusters.append(_TextCluster())
        cluster = clusters[best]
        cluster.rows.append(row)
        if len(cluster.members) < TEXT_CLUSTER_PROBES:
            cluster.members.append(text)
            for pair in text.bigrams:
                postings[pair].add(best)
    return clusters


def _label(cluster: _TextCluster) -> tuple[str, tuple[str, ...]]:
    """A text cluster's name: the character pairs most of its requests share (document frequency)."""
    frequency: Counter[str] = Counter()
    for text in cluster.members:
        frequency.update(set(text.bigrams))
    common = [pair for pair, _ in sorted(frequency.items(), key=lambda item: (-item[1], item[0]))[:2]]
    label = "·".join(common) or "相似诉求"
    return (f"{label}（相似文本）" if label in CONCEPTS else label), tuple(common)


def hot_topics(
    issues: QuerySet[Issue], *, start: datetime.date, end: datetime.date, limit: int = HOT_TOPICS
) -> list[Topic]:
    """The largest clusters of ``issues`` (already scoped and filtered) received from ``start`` to ``end``,
    each with the size of the same cluster in the period of the same length just before."""
    length = (end - start).days + 1
    before = start - datetime.timedelta(days=length)
    rows = (
        issues.filter(received_on__gte=before, received_on__lte=end)
        .order_by("-received_on", "-id")
        .values_list("pk", "title", "content", "channel", "received_on")[:HOT_SCAN_LIMIT]
    )
    topics: dict[str, Topic] = {}
    current: dict[int, Topic] = {}
    where: dict[int, set[str]] = {}  # each current request's townships
    names = township_names()
    outside: list[tuple[int, str, str, str, datetime.date]] = []

    def count(topic: Topic, pk: int, title: str, content: str, channel: str, received_on: datetime.date) -> None:
        if received_on < start:
            topic.previous += 1
            return
        topic.size += 1
        topic.channels[Channel(channel).label] += 1
        topic.issue_ids.append(pk)
        if len(topic.titles) < SAMPLE_TITLES:
            topic.titles.append(title)
        current[pk] = topic
        where[pk] = _named_townships(f"{title}{content}", names)

    for row in rows:
        concept = topic_of(row[1], row[2])
        if concept is None:
            outside.append(row)
            continue
        count(topics.setdefault(concept, Topic(concept, CONCEPTS[concept])), *row)
    for cluster in _text_clusters(outside[:TEXT_CLUSTER_LIMIT], names):
        if sum(1 for row in cluster.rows if row[4] >= start) < TEXT_CLUSTER_MIN:
            continue
        label, words = _label(cluster)
        topic = topics.setdefault(label, Topic(label, words, from_text=True))
        for row in cluster.rows:
            count(topic, *row)
    if current:  # the townships they are assigned to, when the text does not name them (one query)
        assigned = (
            Assignment.objects.filter(issue_id__in=list(current), department__kind=Department.Kind.TOWNSHIP)
            .exclude(status=Assignment.Status.WITHDRAWN)
            .values_list("issue_id", "department__name")
        )
        for issue_id, name in assigned:
            where[issue_id].add(name)
    for pk, townships in where.items():
        current[pk].townships.update(townships)
    ranked = sorted((t for t in topics.values() if t.size), key=lambda t: (-t.size, -t.trend, t.concept))
    return ranked[:limit]


# --- Duplicates inside one batch or one file ---------------------------------------------------------
# Two rows of the same batch grid or ledger file that are likely the same request, scored as a request
# against an issue (``score_pair``: characters, lexicon, places, requester, township and category), so
# that "可能重复" means the same inside a batch as against the database. Each row is scored against the
# earlier rows sharing most character pairs with it (``BATCH_SHORTLIST``), found through an inverted
# index; a pair so common that more than ``BATCH_COMMON`` earlier rows have it (客运/供水 in a file of
# thousands) narrows nothing and is skipped in that search (the scoring still counts it).
BATCH_SHORTLIST = 10
BATCH_COMMON = 100
# The most rows of one file compared with each other (the ledger import's preview says so beyond it).
BATCH_LIMIT = 10_000


@dataclass(frozen=True)
class BatchPair:
    """Rows ``later`` and ``earlier`` (0-based positions in the batch, earlier < later) are probably the
    same request."""

    earlier: int
    later: int
    score: float
    reasons: list[str]


def within_batch(
    requests: list[Request], *, names: dict[str, str] | None = None, limit: int = BATCH_LIMIT
) -> list[BatchPair]:
    """The pairs of rows (of the first ``limit``) that score as a probable duplicate (``LIKELY``), in the
    order of the later row then the best score. No query but the townships' names (none when given)."""
    requests = requests[:limit]
    if len(requests) < 2:
        return []
    names = township_names() if names is None else names
    texts = [analyse(r.title, r.content, names.values()) for r in requests]
    facts = []
    for r in requests:
        mine = _named_townships(f"{r.title}{r.content}", names)
        if r.township is not None:
            mine.add(r.township.name)
        facts.append(
            Facts(
                phone=r.requester_phone.strip(),
                townships=frozenset(mine),
                category_id=r.category_id,
                received_on=r.received_on,
            )
        )
    postings: dict[str, list[int]] = defaultdict(list)
    by_phone: dict[str, list[int]] = defaultdict(list)
    pairs: list[BatchPair] = []
    for j, text in enumerate(texts):
        shared: Counter[int] = Counter()
        for token in text.bigrams:
            earlier = postings.get(token, ())
            if len(earlier) <= BATCH_COMMON:
                shared.update(earlier)
        shortlist = {i for i, _ in shared.most_common(BATCH_SHORTLIST)}
        shortlist.update(by_phone.get(facts[j].phone, ()) if facts[j].phone else ())
        found = []
        for i in sorted(shortlist):
            score, reasons = score_pair(text, texts[i], req=facts[j], cand=facts[i])
            if reasons and score >= LIKELY:
                found.append(BatchPair(i, j, round(score, 3), reasons))
        pairs += sorted(found, key=lambda p: (-p.score, p.earlier))
        for token in text.bigrams:
            postings[token].append(j)
        if facts[j].phone:
            by_phone[facts[j].phone].append(j)
    return pairs
