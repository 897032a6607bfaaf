"""Visits captured offline on a phone and synced afterwards (issue 20; docs/decisions/0640-offline-visit-capture.md).

The phone sends one record at a time with the idempotency key it generated when the record was
captured. A visit is recorded by ``services.record_visit`` and a request by
``services.register_citizen_issue`` — the same rules as the office's pages (scope, the week's dates,
accusations hidden from the accused unit) — and the key is claimed in the same transaction, so:

* a retry or a double tap with the same key creates nothing and gets the first answer back;
* two attempts at the same moment create one record (the second waits on the unique index, then
  answers as a retry);
* a refused record leaves nothing behind (not even its key): corrected on the phone, it is sent
  again under the same key.

Requests are registered, not assigned: the office triages them afterwards like any batch intake.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from feedback import access
from feedback import services as core
from feedback.documents.uploads import UploadRejected, validate_reply_file
from feedback.errors import InvalidInput, NotPermitted
from feedback.models import Category, Channel, Department, Issue

from . import services
from .access import can_plan
from .models import IntakePhoto, NoMeetingWeek, OfflineRecord, Village, Visit

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_PHOTOS = 6  # per request: enough for a site, small enough for a phone's upload on a weak signal
PHOTO_TYPES = ("jpg", "png")
PACK_WEEKS_BACK = datetime.timedelta(days=45)  # the week just over may still be written up
PACK_WEEKS_AHEAD = datetime.timedelta(days=62)
PACK_CASES = 300  # open issues downloaded for 带案下访; the newest first

MSG_PHOTO_TYPE = "现场照片只能是 JPG 或 PNG 图片。"
MSG_TOO_MANY_PHOTOS = f"每件诉求最多附 {MAX_PHOTOS} 张照片。"
MSG_KEY_REUSED = "该登记编号已用于另一类记录，请删除后重新登记。"
MSG_VISIT_NOT_SYNCED = "所属接访活动尚未同步成功，请先处理该接访活动。"


@dataclass(frozen=True)
class SyncAnswer:
    """What the phone is told: the same for the first attempt and every retry (``replayed`` aside)."""

    key: uuid.UUID
    kind: str
    replayed: bool
    visit_id: int | None
    issue_id: int | None
    issue_ref: str | None
    photos: int

    def as_json(self) -> dict[str, Any]:
        return {
            "key": str(self.key),
            "kind": self.kind,
            "replayed": self.replayed,
            "visit": self.visit_id,
            "issue": {"id": self.issue_id, "ref": self.issue_ref} if self.issue_id else None,
            "photos": self.photos,
        }


@dataclass(frozen=True)
class OfflineRequest:
    """A request as typed on the phone (resolved to objects by the API view)."""

    requester_name: str
    category: Category
    content: str
    requester_phone: str = ""
    village: Village | None = None
    nature: str = Issue.Nature.HELP
    accused_department: Department | None = None
    title: str = ""


def _require_team(actor: Any) -> None:
    # The same people as the visit pages: the petitions bureau and administrators (leaders only read).
    if not can_plan(actor):
        raise NotPermitted("只有县信访局或系统管理员可以同步下访登记。")


def _answer(record: OfflineRecord, *, replayed: bool) -> SyncAnswer:
    issue = record.issue
    return SyncAnswer(
        key=record.key,
        kind=record.kind,
        replayed=replayed,
        visit_id=record.visit_id,
        issue_id=issue.pk if issue else None,
        issue_ref=issue.ref if issue else None,
        photos=issue.citizen_photos.count() if issue else 0,
    )


def _previous(actor: Any, key: uuid.UUID, kind: str) -> OfflineRecord | None:
    record = OfflineRecord.objects.select_related("issue").filter(user=actor, key=key).first()
    if record is not None and record.kind != kind:
        raise InvalidInput(MSG_KEY_REUSED, field="key")
    return record


def _claim(actor: Any, key: uuid.UUID, kind: str) -> tuple[OfflineRecord, bool]:
    """Claim ``key`` for this transaction, or return the record that already holds it (True).

    Two attempts at once: the second INSERT waits on the unique index until the first commits,
    then fails; under READ COMMITTED the next statement sees the first attempt's row."""
    previous = _previous(actor, key, kind)
    if previous is not None:
        return previous, True
    try:
        with transaction.atomic():
            return OfflineRecord.objects.create(user=actor, key=key, kind=kind), False
    except IntegrityError:
        previous = _previous(actor, key, kind)
        if previous is None:  # not our key's row after all
            raise
        return previous, True


@transaction.atomic
def sync_visit(
    *,
    actor: Any,
    key: uuid.UUID,
    week: NoMeetingWeek,
    kind: str,
    township: Department,
    held_on: datetime.date,
    village: Village | None = None,
    leader: Any = None,
    cases: Sequence[Issue] = (),
    lawyer_present: bool = False,
    lawyer_name: str = "",
    notes: str = "",
    meetings: Sequence[services.MeetingData] = (),
) -> SyncAnswer:
    """Record a visit captured offline, once per key (``services.record_visit``'s rules)."""
    _require_team(actor)
    record, replayed = _claim(actor, key, OfflineRecord.Kind.VISIT)
    if replayed:
        return _answer(record, replayed=True)
    visit = services.record_visit(
        actor=actor,
        week=week,
        kind=kind,
        township=township,
        held_on=held_on,
        village=village,
        leader=leader,
        cases=cases,
        lawyer_present=lawyer_present,
        lawyer_name=lawyer_name,
        notes=notes,
        meetings=meetings,
    )
    record.visit = visit
    record.save(update_fields=["visit"])
    return _answer(record, replayed=False)


def check_photos(photos: Sequence[UploadedFile]) -> None:
    """Every photo is checked before anything is stored, as reply scans are (magic bytes, a full
    parse, one image with nothing appended, 10 MB; stored re-encoded without EXIF/GPS)."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(MSG_TOO_MANY_PHOTOS, field="photos")
    for photo in photos:
        name = getattr(photo, "name", "") or ""
        if name.rsplit(".", 1)[-1].lower() not in (*PHOTO_TYPES, "jpeg"):
            raise UploadRejected(MSG_PHOTO_TYPE, field="photos")
        try:
            validate_reply_file(photo)
        except UploadRejected as exc:
            raise UploadRejected(f"照片“{name}”：{exc.message}", field="photos") from exc


def visit_of(actor: Any, visit_key: uuid.UUID) -> Visit:
    """The visit the phone captured under ``visit_key``, once it has been synced."""
    record = (
        OfflineRecord.objects.select_related("visit__week", "visit__township")
        .filter(user=actor, key=visit_key, kind=OfflineRecord.Kind.VISIT)
        .first()
    )
    if record is None or record.visit is None:
        raise InvalidInput(MSG_VISIT_NOT_SYNCED, field="visit")
    return record.visit


@transaction.atomic
def sync_request(
    *, actor: Any, key: uuid.UUID, visit: Visit, request: OfflineRequest, photos: Sequence[UploadedFile] = ()
) -> SyncAnswer:
    """Register a request raised at ``visit``, with its photos, once per key. Registered, not
    assigned: the office assigns (or merges) it afterwards like any batch intake. The photos must
    already have passed ``check_photos``."""
    _require_team(actor)
    record, replayed = _claim(actor, key, OfflineRecord.Kind.REQUEST)
    if replayed:
        return _answer(record, replayed=True)
    if visit.held_on > timezone.localdate():
        raise InvalidInput("接访活动尚未进行，不能登记现场诉求。", field="visit")
    if request.village is not None and request.village.township_id != visit.township_id:
        raise InvalidInput(f"{request.village.name}不属于{visit.township.name}。", field="village")
    content = request.content.strip()
    issue = services.register_citizen_issue(
        actor=actor,
        visit=visit,
        village=request.village,
        accused_department=request.accused_department,
        category=request.category,
        requester=core.RequesterData(name=request.requester_name, phone=request.requester_phone),
        title=request.title.strip() or content.replace("\n", " ")[: services.TITLE_LENGTH],
        content=content,
        received_on=visit.held_on,
        nature=request.nature,
    )
    for photo in photos:
        # ``check_photos`` replaced each file's bytes with the re-encoded image; its name ends in jpg/png.
        ext = photo.name.rsplit(".", 1)[-1].lower().replace("jpeg", "jpg")
        photo.seek(0)
        data = photo.read()
        IntakePhoto.objects.create(
            issue=issue,
            file=ContentFile(data, name=f"photo.{ext}"),
            content_type="image/png" if ext == "png" else "image/jpeg",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=actor,
        )
    record.issue = issue
    record.save(update_fields=["issue"])
    return _answer(record, replayed=False)


# --- what the phone downloads before leaving --------------------------------------------------------


def pack_for(actor: Any, *, today: datetime.date | None = None) -> dict[str, Any]:
    """Everything the visit page needs offline: the weeks around today with their roster, townships,
    villages, categories, departments, leaders, and the open 政民 issues of the rostered townships
    that the user may see (带案下访). Read through the channel's and the core's scoped querysets."""
    _require_team(actor)
    today = today or timezone.localdate()
    weeks = list(
        NoMeetingWeek.objects.filter(ends_on__gte=today - PACK_WEEKS_BACK, starts_on__lte=today + PACK_WEEKS_AHEAD)
        .prefetch_related("roster__leader", "roster__township", "roster__departments")
        .order_by("month")
    )
    townships = list(
        Department.objects.filter(kind=Department.Kind.TOWNSHIP, active=True).order_by("sort_order", "code")
    )
    rostered = {entry.township_id for week in weeks for entry in week.roster.all()}
    place = Q(citizen_intake__township_id__in=rostered) | Q(citizen_intake__village__township_id__in=rostered)
    cases = (
        access.issues_for(actor)
        .filter(place, channel=Channel.CITIZEN)
        .exclude(status=Issue.Status.CLOSED)
        .select_related("citizen_intake__township", "citizen_intake__village__township")
        .order_by("-received_on", "-id")[:PACK_CASES]
    )
    return {
        "user": {"id": actor.pk, "name": actor.get_full_name() or actor.get_username()},
        "generated_at": timezone.now().isoformat(),
        "today": today.isoformat(),
        "weeks": [
            {
                "id": w.pk,
                "label": str(w),
                "starts_on": w.starts_on.isoformat(),
                "ends_on": w.ends_on.isoformat(),
                "confirmed": w.confirmed,
                "roster": [
                    {
                        "leader": e.leader_id,
                        "leader_name": services.leader_name(e.leader),
                        "township": e.township.code,
                        "departments": [d.name for d in e.departments.all()],
                    }
                    for e in w.roster.all()
                ],
            }
            for w in weeks
        ],
        "townships": [{"code": t.code, "name": t.name} for t in townships],
        "villages": [
            {"id": v.pk, "township": v.township.code, "name": v.name}
            for v in Village.objects.filter(active=True).select_related("township").order_by("township__code", "name")
        ],
        "categories": [{"code": c.code, "name": c.name} for c in Category.objects.filter(active=True)],
        "departments": [
            {"code": d.code, "name": d.name}
            for d in Department.objects.filter(active=True).exclude(kind=Department.Kind.OFFICE)
        ],
        "leaders": [{"id": u.pk, "name": services.leader_name(u)} for u in services.leaders().filter(is_active=True)],
        "natures": [{"code": code, "name": label} for code, label in Issue.Nature.choices],
        "cases": [
            {
                "id": i.pk,
                "ref": i.ref,
                "title": i.title,
                "status": i.get_status_display(),
                "township": _township_code(i),
            }
            for i in cases
        ],
    }


def _township_code(issue: Issue) -> str:
    intake = getattr(issue, "citizen_intake", None)
    if intake is None:
        return ""
    if intake.township is not None:
        return str(intake.township.code)
    return str(intake.village.township.code) if intake.village is not None else ""
