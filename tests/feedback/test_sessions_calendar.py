"""The common sessions calendar, its iCalendar feed and leader attendance, fed by the channel registry."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from channels_net.models import Forum
from feedback import sessions_calendar as cal
from feedback.access import Role
from feedback.channels import REGISTRY, ChannelPlugin, SessionEntry
from tests.conftest import make_user


def day(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def entry(**overrides: object) -> SessionEntry:
    data = {"channel": "net", "title": "网民座谈会", "starts_on": datetime.date(2027, 1, 13),
            "ends_on": datetime.date(2027, 1, 13), "place": "县委会议中心", "leaders": ["张书记"],
            "url": "/net/forums/1/"}
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
    text = cal.to_ical([entry(place="洞口县经开区,管委会;三楼", title="第九次网民座谈会" * 6),
                        entry(channel="citizen", title="无会周", starts_on=datetime.date(2027, 1, 25),
                              ends_on=datetime.date(2027, 1, 29), url="", provisional=True)],
                       now=now, base_url="https://zt.example/")
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
    first = lines[lines.index("BEGIN:VEVENT"):lines.index("END:VEVENT")]
    props = dict(line.split(":", 1) for line in first[1:])
    assert props["DTSTAMP"] == "20261129T100000Z"
    assert props["DTSTART;VALUE=DATE"] == "20270113" and props["DTEND;VALUE=DATE"] == "20270114"
    assert props["LOCATION"] == "洞口县经开区\\,管委会\\;三楼"
    assert props["SUMMARY"].startswith("【政网直通车】第九次网民座谈会")
    assert props["UID"].endswith("@zhitongche") and props["URL"] == "https://zt.example/net/forums/1/"
    assert "张书记" in props["DESCRIPTION"]
    second = lines[lines.index("BEGIN:VEVENT", 2):]
    assert "DTEND;VALUE=DATE:20270130" in second and "STATUS:TENTATIVE" in second


def test_a_session_keeps_its_uid_when_its_title_changes() -> None:
    assert cal.session_uid(entry()) == cal.session_uid(entry(title="改名后的座谈会"))
    assert cal.session_uid(entry()) != cal.session_uid(entry(url="/net/forums/2/"))


def test_long_chinese_lines_fold_on_character_boundaries() -> None:
    parts = cal.ical_fold("SUMMARY:" + "座谈会" * 40)
    assert all(len(p.encode()) <= 75 for p in parts) and "".join(p.lstrip(" ") for p in parts).endswith("座谈会")


@pytest.fixture
def fake_channel() -> object:
    """A second channel registered the way the other channel apps do, removed afterwards."""
    saved = REGISTRY.get("enterprise")
    REGISTRY["enterprise"] = ChannelPlugin(
        "enterprise", "企业家日", "channels_enterprise:home", lambda: 0,
        sessions=lambda start, end: [entry(channel="enterprise", title="企业家日", starts_on=day(5),
                                           ends_on=day(5), url="")],
        attendance=lambda year: {},
    )
    yield
    if saved is None:
        del REGISTRY["enterprise"]
    else:
        REGISTRY["enterprise"] = saved


@pytest.mark.django_db
def test_the_calendar_lists_coming_sessions_of_every_channel_with_leaders(
        client: Client, netoffice: object, leader: object, fake_channel: object) -> None:
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
def test_attendance_counts_held_sessions_per_leader_and_channel(client: Client, leader: object,
                                                                netoffice: object, zjj_head: object) -> None:
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
