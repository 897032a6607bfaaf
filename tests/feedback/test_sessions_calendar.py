"""The common sessions calendar, its iCalendar feed and leader attendance, fed by the channel registry."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net.models import Forum
from feedback.access import Role
from feedback.channels import REGISTRY, ChannelPlugin, SessionEntry
from feedback.views import calendar as cal
from tests.conftest import make_user


def day(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def entry(**overrides: object) -> SessionEntry:
    data = {
        "channel": "net",
        "title": "网民座谈会",
        "starts_on": datetime.date(2027, 1, 13),
        "ends_on": datetime.date(2027, 1, 13),
        "place": "县委会议中心",
        "leaders": ["张书记"],
        "url": "/net/forums/1/",
    }
    data.update(overrides)
    return SessionEntry(**data)


def unfold(text: str) -> list[str]:
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all("\n" not in line and "\r" not in line for line in lines)
    out: list[str] = []
    for line in lines:
        assert len(line.encode()) <= 75
        if line.startswith(" "):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def test_the_ical_text_has_the_rfc_5545_structure_with_crlf_and_escapes() -> None:
    now = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC)
    text = cal.to_ical(
        [
            entry(place="洞口县经开区,管委会;三楼", title="第九次网民座谈会" * 6),
            entry(
                channel="citizen",
                title="无会周",
                starts_on=datetime.date(2027, 1, 25),
                ends_on=datetime.date(2027, 1, 29),
                url="",
                provisional=True,
            ),
        ],
        now=now,
        base_url="https://zt.example/",
    )
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    first = lines[lines.index("BEGIN:VEVENT") : lines.index("END:VEVENT")]
    props = dict(line.split(":", 1) for line in first[1:])
    assert props["DTSTAMP"] == "20261129T100000Z"
    assert props["DTSTART;VALUE=DATE"] == "20270113" and props["DTEND;VALUE=DATE"] == "20270114"
    assert props["LOCATION"] == "洞口县经开区\\,管委会\\;三楼"
    assert props["SUMMARY"].startswith("【政网直通车】第九次网民座谈会")
    assert props["UID"].endswith("@zhitongche") and props["URL"] == "https://zt.example/net/forums/1/"
    assert "张书记" in props["DESCRIPTION"]
    second = lines[lines.index("BEGIN:VEVENT", 2) :]
    assert "DTEND;VALUE=DATE:20270130" in second and "STATUS:TENTATIVE" in second


def test_a_session_keeps_its_uid_when_its_title_changes() -> None:
    assert cal.session_uid(entry()) == cal.session_uid(entry(title="改名后的座谈会"))
    assert cal.session_uid(entry()) != cal.session_uid(entry(url="/net/forums/2/"))


def test_long_chinese_lines_fold_on_character_boundaries() -> None:
    text = cal.to_ical([entry(title="座谈会" * 40)], now=timezone.now())
    physical = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)  # decodes: no character cut in two
    summary = next(line for line in unfold(text) if line.startswith("SUMMARY:"))
    assert summary.endswith("座谈会" * 40)


@pytest.fixture
def fake_channel() -> object:
    """A second channel registered the way the other channel apps do, removed afterwards."""
    saved = REGISTRY.get("enterprise")
    REGISTRY["enterprise"] = ChannelPlugin(
        "enterprise",
        "企业家日",
        "channels_enterprise:home",
        lambda: 0,
        sessions=lambda start, end: [
            entry(channel="enterprise", title="企业家日", starts_on=day(5), ends_on=day(5), url="")
        ],
        attendance=lambda year: {},
    )
    yield
    if saved is None:
        del REGISTRY["enterprise"]
    else:
        REGISTRY["enterprise"] = saved


@pytest.mark.django_db
def test_the_calendar_lists_coming_sessions_of_every_channel_with_leaders(
    client: Client, netoffice: object, leader: object, fake_channel: object
) -> None:
    forum = Forum.objects.create(title="第九次网民座谈会", held_on=day(10), chair=leader, place="县委会议中心")
    forum.leaders.add(leader)
    Forum.objects.create(title="太远的座谈会", held_on=day(cal.HORIZON_DAYS + 5))
    Forum.objects.create(title="已开过的座谈会", held_on=day(-5))
    client.force_login(netoffice)
    html = client.get(reverse("sessions_calendar")).content.decode()
    assert "第九次网民座谈会" in html and "企业家日" in html and "leader" in html
    assert "太远的座谈会" not in html and "已开过的座谈会" not in html
    assert html.index("企业家日") < html.index("第九次网民座谈会")  # by date


@pytest.mark.django_db
def test_the_ical_feed_is_for_logged_in_users(client: Client, netoffice: object, reference: None) -> None:
    Forum.objects.create(title="第九次网民座谈会", held_on=day(10))
    assert client.get(reverse("sessions_calendar_ics")).status_code == 302
    client.force_login(netoffice)
    response = client.get(reverse("sessions_calendar_ics"))
    assert response["Content-Type"].startswith("text/calendar")
    lines = unfold(response.content.decode())
    assert lines.count("BEGIN:VEVENT") == 1 and f"DTSTART;VALUE=DATE:{day(10):%Y%m%d}" in lines


@pytest.mark.django_db
def test_attendance_counts_held_sessions_per_leader_and_channel(
    client: Client, leader: object, netoffice: object, zjj_head: object
) -> None:
    today = timezone.localdate()
    head = make_user("county_head", role=Role.LEADER)
    for i, held_on in enumerate((today - datetime.timedelta(days=1), today, today + datetime.timedelta(days=1))):
        forum = Forum.objects.create(title=f"座谈会{i}", held_on=held_on, chair=leader)
        forum.leaders.add(leader)
    if (today - datetime.timedelta(days=1)).year != today.year:  # New Year's Day: one forum is last year's
        pytest.skip("the fixture straddles two years")
    channels, rows = cal.leader_attendance(today.year)
    by_name = {r.name: r for r in rows}
    assert "net" in channels
    assert by_name["leader"].by_channel["net"] == 2  # the coming forum is not attended yet
    assert by_name["county_head"].total == 0 and head.pk == by_name["county_head"].user_id
    client.force_login(netoffice)
    html = client.get(reverse("sessions_attendance"), {"year": today.year}).content.decode()
    assert f"{today.year}年县领导出席活动统计" in html and "county_head" in html
    assert client.get(reverse("sessions_attendance"), {"year": "abc"}).status_code == 200
    client.force_login(zjj_head)
    assert client.get(reverse("sessions_attendance")).status_code == 404


@pytest.mark.django_db
def test_attendance_takes_one_query_per_channel(leader: object, django_assert_max_num_queries: object) -> None:
    with django_assert_max_num_queries(len(REGISTRY) + 2):
        cal.leader_attendance(timezone.localdate().year)


# --- the personal subscription URL (no login: calendar apps cannot log in) ---------------------


def vevents(body: bytes) -> list[str]:
    return [line for line in unfold(body.decode()) if not line.startswith("DTSTAMP:")]


@pytest.mark.django_db
def test_the_personal_feed_serves_without_login_what_the_user_sees_logged_in(
    client: Client, netoffice: object, zjj_head: object
) -> None:
    Forum.objects.create(title="第九次网民座谈会", held_on=day(10), place="县委会议中心")
    for user in (netoffice, zjj_head):
        client.force_login(user)
        page = client.get(reverse("sessions_calendar")).content.decode()
        logged_in = client.get(reverse("sessions_calendar_ics")).content
        path = cal.feed_path(user)
        assert f"http://testserver{path}" in page and f"webcal://testserver{path}" in page
        assert "重置订阅链接" in page and "登录密码被修改" in page  # how the link is revoked
        client.logout()
        response = Client().get(path)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
        assert response["Cache-Control"] == "private, max-age=900" and "noindex" in response["X-Robots-Tag"]
        assert vevents(response.content) == vevents(logged_in)
        assert "第九次网民座谈会" in response.content.decode()


@pytest.mark.django_db
def test_each_user_has_their_own_unguessable_token(netoffice: object, zjj_head: object) -> None:
    mine, theirs = cal.feed_token(netoffice), cal.feed_token(zjj_head)
    assert mine != theirs and len(mine) == cal.FEED_TOKEN_LENGTH and int(mine, 16) >= 0
    assert cal.feed_token(netoffice) == mine  # stable: a subscription keeps working
    # Another user's token does not open this user's feed, nor does a token cut short or altered.
    anonymous = Client()
    feed = reverse("sessions_calendar_feed", args=[netoffice.pk, theirs])
    assert anonymous.get(feed).status_code == 404
    altered = mine[:-1] + ("0" if mine[-1] != "0" else "1")
    for token in (altered, mine[:-2], mine + "00", "x" * cal.FEED_TOKEN_LENGTH):
        assert anonymous.get(reverse("sessions_calendar_feed", args=[netoffice.pk, token])).status_code == 404
    assert anonymous.get(reverse("sessions_calendar_feed", args=[999999, mine])).status_code == 404


@pytest.mark.django_db
def test_changing_the_password_or_deactivating_the_account_revokes_the_link(netoffice: object) -> None:
    anonymous = Client()
    old = cal.feed_path(netoffice)
    assert anonymous.get(old).status_code == 200
    netoffice.set_password("a-new-password-456")
    netoffice.save()
    assert anonymous.get(old).status_code == 404
    new = cal.feed_path(netoffice)
    assert new != old and anonymous.get(new).status_code == 200
    netoffice.is_active = False
    netoffice.save()
    assert anonymous.get(new).status_code == 404
    netoffice.is_active = True
    netoffice.save()
    assert anonymous.get(new).status_code == 200  # reactivated: the same password, the same link


@pytest.mark.django_db
def test_the_user_resets_the_link_with_their_password_which_stays_the_same(client: Client, netoffice: object) -> None:
    client.force_login(netoffice)
    old = cal.feed_path(netoffice)
    reset = reverse("sessions_calendar_feed_reset")
    page = client.post(reset, {"password": "not-my-password"}, follow=True).content.decode()
    assert "密码不正确，订阅链接未重置" in page
    assert Client().get(old).status_code == 200
    assert client.get(reset).status_code == 405  # a state change: POST only
    page = client.post(reset, {"password": "pw-for-tests-123"}, follow=True)
    assert page.status_code == 200 and "订阅链接已重置" in page.content.decode()  # still logged in
    netoffice.refresh_from_db()
    new = cal.feed_path(netoffice)
    assert new != old and new in page.content.decode()
    assert Client().get(old).status_code == 404 and Client().get(new).status_code == 200
    assert netoffice.check_password("pw-for-tests-123")  # the password itself did not change
    assert Client().post(reset, {"password": "pw-for-tests-123"}).status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_link_made_before_a_secret_key_rotation_works_while_the_old_key_is_a_fallback(
    netoffice: object, settings: object
) -> None:
    old = cal.feed_path(netoffice)
    previous = settings.SECRET_KEY
    settings.SECRET_KEY = "a-rotated-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [previous]
    assert Client().get(old).status_code == 200
    assert cal.feed_path(netoffice) != old  # the page now shows a link under the new key
    settings.SECRET_KEY_FALLBACKS = []
    assert Client().get(old).status_code == 404


@pytest.mark.django_db
def test_the_personal_feed_takes_few_queries(
    netoffice: object, leader: object, django_assert_max_num_queries: object
) -> None:
    for n in range(5):
        forum = Forum.objects.create(title=f"座谈会{n}", held_on=day(n + 1), chair=leader)
        forum.leaders.add(leader)
    path = cal.feed_path(netoffice)
    with django_assert_max_num_queries(len(REGISTRY) * 2 + 2):
        assert Client().get(path).status_code == 200


# --- the claim: the schedulers create the coming sessions on the right dates through 2027, marked
# provisional where the calendar is missing, and recomputed when the year is loaded -----------------

NOV_2026, DEC_2027 = datetime.date(2026, 11, 1), datetime.date(2027, 12, 31)
# A hypothetical notice for 2027 (the real one is published in November): Spring Festival on
# 6 February, National Day with make-up days on Sunday 26 September and Saturday 9 October.
NOTICE_2027 = """\
2027-01-01,休,元旦
2027-02-08,休,春节
2027-02-09,休,春节
2027-02-10,休,春节
2027-02-11,休,春节
2027-02-12,休,春节
2027-02-20,班,春节调休上班
2027-04-05,休,清明节
2027-05-03,休,劳动节
2027-05-04,休,劳动节
2027-05-05,休,劳动节
2027-05-08,班,劳动节调休上班
2027-06-09,休,端午节
2027-09-15,休,中秋节
2027-09-26,班,国庆节调休上班
2027-10-01,休,国庆节
2027-10-04,休,国庆节
2027-10-05,休,国庆节
2027-10-06,休,国庆节
2027-10-07,休,国庆节
2027-10-09,班,国庆节调休上班
"""


def months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return out


def days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def monday_to_friday_23rd(month: datetime.date) -> datetime.date:
    """政企 without a calendar: the 23rd, or the next Monday–Friday (no fixed holiday is near a 23rd)."""
    held = month.replace(day=23)
    while held.weekday() >= 5:
        held += datetime.timedelta(days=1)
    return held


def last_five_weekdays(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """政民 without a calendar: the last five Monday–Friday days of the month."""
    last = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    found = [d for d in days(month, last) if d.weekday() < 5][-5:]
    return found[0], found[-1]


@pytest.fixture
def without_2027(reference: None) -> None:
    """2027 as the portal holds it today: not loaded (whatever a newer chinesecalendar may bring)."""
    from feedback.models import CalendarDay, CalendarYear

    CalendarDay.objects.filter(date__year__gte=2027).delete()
    CalendarYear.objects.filter(year__gte=2027).delete()


def load_2027(*, county_rest: datetime.date | None = None) -> None:
    from feedback.models import CalendarDay
    from feedback.services.calendar import load_year, save_county_day

    load_year(actor=None, year=2027, lines=NOTICE_2027, source="测试：假设的2027年通知")
    if county_rest:
        save_county_day(actor=None, day=CalendarDay(date=county_rest, is_workday=False, name="本县调整（测试）"))


@pytest.mark.django_db
def test_enterprise_days_run_daily_from_november_2026_fall_right_through_2027_and_are_provisional(
    without_2027: None,
) -> None:
    from channels_enterprise.models import EnterpriseDay
    from channels_enterprise.services import schedule_enterprise_days

    first_seen: dict[datetime.date, datetime.date] = {}
    for today in days(NOV_2026, DEC_2027):  # the beat task runs every morning
        for created in schedule_enterprise_days(today=today):
            first_seen.setdefault(created.month, today)
    by_month = {d.month: d for d in EnterpriseDay.objects.all()}
    assert set(by_month) == {*months(NOV_2026, DEC_2027), datetime.date(2028, 1, 1)}
    assert by_month[datetime.date(2026, 11, 1)].held_on == datetime.date(2026, 11, 23)
    assert by_month[datetime.date(2026, 12, 1)].held_on == datetime.date(2026, 12, 23)
    for month in months(NOV_2026, DEC_2027):
        entry = by_month[month]
        assert entry.held_on == monday_to_friday_23rd(month), month
        assert entry.provisional == (month.year == 2027), month  # 2026 is known, 2027 is not
        # Created in time for its notice, three working days ahead.
        assert first_seen[month] <= entry.notice_on < entry.held_on, month
    assert {by_month[datetime.date(2027, m, 1)].held_on.day for m in (1, 5, 10)} == {25, 24}  # Sat/Sun 23rds
    # The common calendar says so: TENTATIVE in the feed, 暂定 on the page.
    entries = [e for e in cal.coming_sessions(datetime.date(2027, 1, 1), DEC_2027) if e.channel == "enterprise"]
    assert len(entries) == 12 and all(e.provisional for e in entries)
    text = cal.to_ical(entries, now=timezone.now())
    assert text.count("STATUS:TENTATIVE") == 12


def assert_2027_days_definite_with_january_on_the_26th() -> None:
    from channels_enterprise.models import EnterpriseDay

    for month in months(datetime.date(2027, 1, 1), DEC_2027):
        entry = EnterpriseDay.objects.get(month=month)
        expected = datetime.date(2027, 1, 26) if month.month == 1 else monday_to_friday_23rd(month)
        assert (entry.held_on, entry.provisional) == (expected, False), month


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 12, 10, 1, tzinfo=datetime.UTC), tick=False)
def test_loading_2027_makes_the_coming_enterprise_days_definite_and_moves_them_when_needed(without_2027: None) -> None:
    from channels_enterprise.models import EnterpriseDay, EnterpriseDayChange
    from channels_enterprise.services import schedule_enterprise_days

    # Every 2027 day planned ahead (``schedule_enterprise_days --months 13``), then the daily runs.
    schedule_enterprise_days(today=datetime.date(2026, 11, 29), months=13)
    for today in days(datetime.date(2026, 11, 30), datetime.date(2026, 12, 9)):
        schedule_enterprise_days(today=today)
    assert EnterpriseDay.objects.filter(month__year=2027, provisional=True).count() == 12
    load_2027(county_rest=datetime.date(2027, 1, 25))
    # At once, in the calendar's own transaction (the calendar_changed hook): every 2027 day is
    # definite, and January, whose Monday 25th the county made a rest day, moved to the 26th.
    assert_2027_days_definite_with_january_on_the_26th()
    assert list(EnterpriseDayChange.objects.values_list("day__month", "action", "held_on_before", "held_on_after")) == [
        (datetime.date(2027, 1, 1), "moved", datetime.date(2027, 1, 25), datetime.date(2027, 1, 26))
    ]
    # Nothing is left for the next morning's run, nor for the daily runs through 2027.
    assert schedule_enterprise_days(today=datetime.date(2026, 12, 10)) == []
    for today in days(datetime.date(2026, 12, 11), DEC_2027):
        schedule_enterprise_days(today=today)
    assert_2027_days_definite_with_january_on_the_26th()
    assert EnterpriseDayChange.objects.count() == 1


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2027, 2, 24, 2, tzinfo=datetime.UTC), tick=False)
def test_a_county_rest_day_declared_on_a_planned_enterprise_day_moves_it(without_2027: None) -> None:
    from channels_enterprise.models import EnterpriseDay
    from channels_enterprise.services import schedule_enterprise_days

    load_2027()
    schedule_enterprise_days(today=datetime.date(2027, 2, 24))  # plans March: Tuesday the 23rd, definite
    march = EnterpriseDay.objects.get(month=datetime.date(2027, 3, 1))
    assert (march.held_on, march.provisional) == (datetime.date(2027, 3, 23), False)
    load_2027(county_rest=datetime.date(2027, 3, 23))
    march.refresh_from_db()
    assert march.held_on == datetime.date(2027, 3, 24)  # at once, by the calendar_changed hook
    schedule_enterprise_days(today=datetime.date(2027, 2, 25))
    march.refresh_from_db()
    # Three working days before, the county's rest day on the 23rd not counted.
    assert (march.held_on, march.notice_on) == (datetime.date(2027, 3, 24), datetime.date(2027, 3, 18))


@pytest.mark.django_db
def test_no_meeting_weeks_planned_through_2027_are_the_last_five_weekdays_and_provisional(
    without_2027: None, petitionoffice: object
) -> None:
    from channels_citizen.services import plan_week

    weeks = {m: plan_week(actor=petitionoffice, month=m) for m in months(NOV_2026, DEC_2027)}
    assert (weeks[NOV_2026].starts_on, weeks[NOV_2026].ends_on) == (
        datetime.date(2026, 11, 24),
        datetime.date(2026, 11, 30),
    )
    assert (weeks[datetime.date(2026, 12, 1)].starts_on, weeks[datetime.date(2026, 12, 1)].ends_on) == (
        datetime.date(2026, 12, 25),
        datetime.date(2026, 12, 31),
    )
    for month, week in weeks.items():
        assert week.provisional == (month.year == 2027), month
        if month.year == 2027:
            assert (week.starts_on, week.ends_on) == last_five_weekdays(month), month
    entries = [e for e in cal.coming_sessions(datetime.date(2027, 1, 1), DEC_2027) if e.channel == "citizen"]
    assert len(entries) == 12 and all(e.provisional for e in entries)


@pytest.mark.django_db
def test_no_meeting_weeks_scheduled_daily_from_november_2026_fall_right_through_2027_and_are_provisional(
    without_2027: None,
) -> None:
    from channels_citizen.models import NoMeetingWeek
    from channels_citizen.services import schedule_no_meeting_weeks

    first_seen: dict[datetime.date, datetime.date] = {}
    for today in days(NOV_2026, DEC_2027):  # the beat task runs every morning
        for created in schedule_no_meeting_weeks(today=today):
            first_seen.setdefault(created.month, today)
    by_month = {w.month: w for w in NoMeetingWeek.objects.all()}
    assert set(by_month) == {*months(NOV_2026, DEC_2027), datetime.date(2028, 1, 1)}
    assert (by_month[NOV_2026].starts_on, by_month[NOV_2026].ends_on) == (
        datetime.date(2026, 11, 24),
        datetime.date(2026, 11, 30),
    )
    for month in months(NOV_2026, DEC_2027):
        week = by_month[month]
        assert week.provisional == (month.year == 2027) and not week.confirmed, month
        if month.year == 2027:
            assert (week.starts_on, week.ends_on) == last_five_weekdays(month), month
        # A month ahead: on the 1st of the month before (November 2026's on the first run).
        month_before = (month - datetime.timedelta(days=1)).replace(day=1)
        assert first_seen[month] == max(month_before, NOV_2026), month
    entries = [e for e in cal.coming_sessions(datetime.date(2027, 1, 1), DEC_2027) if e.channel == "citizen"]
    assert len(entries) == 12 and all(e.provisional for e in entries)
    assert cal.to_ical(entries, now=timezone.now()).count("STATUS:TENTATIVE") == 12


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 12, 10, 1, tzinfo=datetime.UTC), tick=False)
def test_loading_2027_makes_the_scheduled_weeks_definite_at_once(without_2027: None) -> None:
    from channels_citizen.models import NoMeetingWeek
    from channels_citizen.services import schedule_no_meeting_weeks

    schedule_no_meeting_weeks(today=datetime.date(2026, 11, 29), months=13)  # every 2027 week ahead
    assert NoMeetingWeek.objects.filter(month__year=2027, provisional=True).count() == 12
    load_2027()
    assert not NoMeetingWeek.objects.filter(month__year=2027, provisional=True).exists()
    september = NoMeetingWeek.objects.get(month=datetime.date(2027, 9, 1))
    assert (september.starts_on, september.ends_on) == (datetime.date(2027, 9, 26), datetime.date(2027, 9, 30))
    entries = [e for e in cal.coming_sessions(datetime.date(2027, 1, 1), DEC_2027) if e.channel == "citizen"]
    assert len(entries) == 12 and not any(e.provisional for e in entries)
    # The daily runs through 2027 find nothing left to change.
    for today in days(datetime.date(2026, 12, 10), DEC_2027):
        assert all(w.month == datetime.date(2028, 1, 1) for w in schedule_no_meeting_weeks(today=today))


@pytest.mark.django_db
def test_the_week_default_follows_a_loaded_2027_calendar(without_2027: None) -> None:
    """A week planned after the notice is loaded is right: September's last five working days then
    include the make-up Sunday (26th) and start there."""
    from channels_citizen.services import default_week

    before = default_week(datetime.date(2027, 9, 1))
    assert (before.starts_on, before.ends_on, before.provisional) == (
        datetime.date(2027, 9, 24),
        datetime.date(2027, 9, 30),
        True,
    )
    load_2027()
    after = default_week(datetime.date(2027, 9, 1))
    assert (after.starts_on, after.ends_on, after.provisional) == (
        datetime.date(2027, 9, 26),
        datetime.date(2027, 9, 30),
        False,
    )


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 11, 29, 2, tzinfo=datetime.UTC), tick=False)
def test_a_week_planned_before_2027_was_loaded_is_recomputed_when_it_is(
    without_2027: None, petitionoffice: object
) -> None:
    from channels_citizen.models import NoMeetingWeek
    from channels_citizen.services import plan_week

    for month in months(datetime.date(2027, 1, 1), DEC_2027):
        plan_week(actor=petitionoffice, month=month)
    load_2027()
    for month in months(datetime.date(2027, 1, 1), DEC_2027):  # the office planning again changes nothing
        plan_week(actor=petitionoffice, month=month)
    september = NoMeetingWeek.objects.get(month=datetime.date(2027, 9, 1))
    assert (september.starts_on, september.ends_on) == (datetime.date(2027, 9, 26), datetime.date(2027, 9, 30))
    assert not NoMeetingWeek.objects.filter(month__year=2027, provisional=True).exists()


def test_the_beat_schedule_plans_the_no_meeting_weeks() -> None:
    from zhitongche.celery import app

    assert any(entry["task"].startswith("channels_citizen.") for entry in app.conf.beat_schedule.values())


@pytest.mark.django_db
def test_quarterly_forums_planned_for_2027_are_on_the_calendar_on_their_dates(
    without_2027: None, netoffice: object
) -> None:
    """政网 has no scheduler either: the office sets each forum's date, so a forum is never provisional."""
    import time_machine

    from channels_net import services as net

    planned = [
        datetime.date(2027, 1, 13),
        datetime.date(2027, 4, 14),
        datetime.date(2027, 7, 14),
        datetime.date(2027, 10, 13),
    ]
    with time_machine.travel(datetime.datetime(2026, 11, 29, 2, tzinfo=datetime.UTC), tick=False):
        for n, held_on in enumerate(planned, start=1):
            net.plan_forum(actor=netoffice, data=net.ForumData(title=f"2027年第{n}季度网民座谈会", held_on=held_on))
    entries = [e for e in cal.coming_sessions(NOV_2026, DEC_2027) if e.channel == "net"]
    assert [e.starts_on for e in entries] == planned and not any(e.provisional for e in entries)


def test_feed_links_handed_out_before_the_restructure_still_work(netoffice) -> None:
    """The token's salt is the module's old name: renaming the module must not revoke every
    calendar subscription."""
    from django.utils.crypto import salted_hmac

    value = f"{netoffice.pk}\x00{netoffice.password}\x00{int(netoffice.is_active)}"
    handed_out = salted_hmac("feedback.sessions_calendar.personal_feed", value, algorithm="sha256").hexdigest()[:32]
    assert cal.feed_token(netoffice) == handed_out
