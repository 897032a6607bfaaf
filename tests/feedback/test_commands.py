"""load_reference_data and seed_demo, exactly as docs/api.md says."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from feedback.models import Assignment, CalendarDay, CalendarYear, Category, Department, Issue
from feedback.services.reference import BUREAUS, CATEGORIES, TOWNSHIPS

pytestmark = pytest.mark.django_db


def all_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"feedback", "channels_net", "channels_enterprise", "channels_citizen", "auth"}
    }


def test_load_reference_data_loads_the_contract_lists_and_is_idempotent():
    call_command("load_reference_data", verbosity=0)
    first = all_counts()
    call_command("load_reference_data", verbosity=0)
    assert all_counts() == first
    assert dict(Category.objects.values_list("code", "name")) == dict(CATEGORIES)
    assert Department.objects.get(code="wxb").channel == "net"
    assert Department.objects.get(code="zjj").name == "县住房和城乡建设局"
    assert Department.objects.filter(kind="bureau").count() == len(BUREAUS) == 15
    assert Department.objects.filter(kind="township").count() == len(TOWNSHIPS) == 8
    assert set(CalendarYear.objects.values_list("year", flat=True)) >= set(range(2004, 2027))
    assert CalendarDay.objects.get(date="2026-10-10").is_workday  # make-up Saturday after National Day


def test_load_reference_data_keeps_what_administrators_renamed():
    call_command("load_reference_data", verbosity=0)
    Department.objects.filter(code="zjj").update(name="县住建局（更名）")
    call_command("load_reference_data", verbosity=0)
    assert Department.objects.get(code="zjj").name == "县住建局（更名）"


def test_seed_demo_creates_every_account_and_changes_nothing_the_second_time(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    first = all_counts()
    call_command("seed_demo", verbosity=0)
    assert all_counts() == first
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    expected = {"netoffice", "ezoneoffice", "petitionoffice", "leader", "admin"}
    expected |= {f"{code}_{kind}" for code, _ in BUREAUS + TOWNSHIPS for kind in ("head", "staff")}
    assert expected <= usernames
    assert get_user_model().objects.get(username="zjj_head").check_password("zhitongche-demo")
    assert get_user_model().objects.get(username="admin").is_superuser
    # Example addresses, so that the mail queue (console backend in DEBUG) shows what would go out.
    assert get_user_model().objects.get(username="zjj_head").email == "zjj_head@example.org"
    assert not get_user_model().objects.filter(username__in=expected, email="").exists()


def test_seed_demo_issues_cover_every_stage_within_the_last_twelve_months(settings):
    import datetime

    from django.utils import timezone

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    received = Issue.objects.values_list("received_on", flat=True)
    assert all(today - datetime.timedelta(days=366) <= day <= today for day in received)
    assert set(Issue.objects.values_list("status", flat=True)) == set(Issue.Status.values)
    assert set(Issue.objects.values_list("channel", flat=True)) == {"net", "enterprise", "citizen"}
    # the office's 待审核 list has work in it: replies submitted and not yet reviewed
    assert Assignment.objects.filter(status=Assignment.Status.SUBMITTED).exists()


def test_seed_demo_shows_working_channels_and_a_published_bulletin(settings, client):
    """What a county leader sees first: enterprises, enterprise days held with problems, forums with
    requests, last month's bulletin published."""
    from django.utils import timezone

    from channels_enterprise.models import Enterprise, EnterpriseDay, EnterpriseIntake
    from channels_net.models import Forum
    from feedback.figures.bulletins import previous_month
    from feedback.models import Bulletin

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    today = timezone.localdate()
    assert Enterprise.objects.filter(active=True).count() >= 5
    past = EnterpriseDay.objects.filter(held_on__lt=today)
    assert past.count() >= 11 and not past.filter(held_at=None).exists()
    assert EnterpriseDay.objects.filter(month=today.replace(day=1)).exists()
    assert EnterpriseIntake.objects.values("day").distinct().count() == 2
    assert Forum.objects.filter(intakes__isnull=False).distinct().count() == 2
    published = Bulletin.objects.filter(month=previous_month(today), status=Bulletin.Status.PUBLISHED)
    assert set(published.values_list("channel", flat=True)) == {"", "net", "enterprise", "citizen"}
    assert (
        published.get(channel="").figures["month_summary"]["issues"]
        == Issue.objects.filter(received_on__gte=previous_month(today), received_on__lt=today.replace(day=1)).count()
    )

    client.force_login(get_user_model().objects.get(username="leader"))
    page = client.get("/bulletins/").content.decode()
    assert "还没有通报" not in page and "三个直通车办理情况通报" in page


def test_seed_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1"):
        call_command("seed_demo", verbosity=0)
    assert not get_user_model().objects.exists()


def test_the_models_and_migrations_agree():
    # makemigrations --check exits non-zero (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_system_checks_pass():
    call_command("check", fail_level="WARNING", verbosity=0)


@pytest.mark.parametrize(
    "model",
    [
        "issue",
        "assignment",
        "signedreply",
        "historyentry",
        "extensionrequest",
        "objection",
        "deadlinestep",
        "notification",
        "department",
        "category",
        "calendaryear",
        "calendarday",
        "deadlinepolicy",
    ],
)
def test_the_admin_lists_every_core_record_in_chinese(client, admin_user, model):
    client.force_login(admin_user)
    admin_user.is_staff = True
    admin_user.save()
    response = client.get(f"/admin/feedback/{model}/")
    assert response.status_code == 200, model
    assert "直通车管理后台" in response.content.decode()


def test_a_demo_reply_letter_is_a_page_with_text_and_a_red_seal():
    """Not a blank page: the demo's reply previews show what a stamped letter looks like."""
    import datetime

    import pypdfium2 as pdfium

    from feedback.demo import demo_letter_pdf

    pdf = pdfium.PdfDocument(demo_letter_pdf("修建人行天桥", "县住房和城乡建设局", "王某", datetime.date(2026, 6, 3)))
    try:
        assert len(pdf) == 1
        image = pdf[0].render(scale=0.5).to_pil().convert("RGB")
    finally:
        pdf.close()
    raw = image.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    red = sum(1 for r, g, b in pixels if r > 150 and g < 90 and b < 90)
    dark = sum(1 for r, g, b in pixels if r < 200 and g < 200 and b < 200 and not (r > 150 and g < 90))
    assert red > 500 and dark > 500, (red, dark)
