"""The ledger in and out: import with a dry-run preview, and the export in the same format."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from feedback import access, services, similar
from feedback.forms import (
    IssueFilterForm,
    LedgerUploadForm,
)
from feedback.ledger.export import XLSX_CONTENT_TYPE, export_round_trip, importable_ledger_csv
from feedback.ledger.parse import LedgerCheck, LedgerError, LedgerRow, check_ledger
from feedback.models import Department, Issue
from feedback.selectors import issue_list
from feedback.views.issues import privacy_log

IMPORT_SESSION_KEY = "ledger_import"


IMPORT_KEEP_SECONDS = 24 * 3600  # an upload never confirmed is removed by the next upload after a day


PREVIEW_ROWS = 200


PREVIEW_PROBLEMS = 500


def _import_dir() -> Path:
    # Under MEDIA_ROOT, which the portal never serves directly (no MEDIA_URL route).
    return Path(settings.MEDIA_ROOT) / "tmp" / "ledger-imports"


def _keep_upload(request: HttpRequest, data: bytes, name: str) -> str:
    """Keep the checked upload for the confirm step: a file named by a random token, and in the session
    only the token, the file's SHA-256 and its name. The path is never taken from the request."""
    _discard_upload(request)
    folder = _import_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - IMPORT_KEEP_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another request cleaned it up first
            pass
    token = secrets.token_hex(16)
    kept = folder / token
    kept.touch(mode=0o600)  # it holds phone numbers
    kept.write_bytes(data)
    request.session[IMPORT_SESSION_KEY] = {
        "token": token,
        "sha256": hashlib.sha256(data).hexdigest(),
        "name": Path(name).name[:200],
    }
    return token


def _discard_upload(request: HttpRequest) -> None:
    kept = request.session.pop(IMPORT_SESSION_KEY, None)
    if kept:
        (_import_dir() / kept["token"]).unlink(missing_ok=True)


def _kept_upload(request: HttpRequest) -> tuple[bytes, str] | None:
    kept = request.session.get(IMPORT_SESSION_KEY)
    if not kept or request.POST.get("token") != kept["token"]:
        return None
    try:
        data = (_import_dir() / kept["token"]).read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.sha256(data).hexdigest() != kept["sha256"]:
        return None
    return data, kept["name"]


def _import_page(
    request: HttpRequest, form: LedgerUploadForm, ledger: LedgerCheck | None = None, name: str = "", token: str = ""
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "ledger": ledger, "name": name, "token": token}
    if ledger is not None:
        shown = ledger.to_create[:PREVIEW_ROWS]
        duplicates = likely_duplicates(request.user, shown) if ledger.ok else {}
        twins, compared, still_open = within_file(ledger.to_create) if ledger.ok else ({}, 0, 0)
        context.update(
            duplicates=duplicates,
            twins={n: found for n, found in twins.items() if n in {r.row for r in shown}},
            twins_total=len(twins),
            twins_compared=compared,
            twins_capped=still_open > compared,
            to_create=[(row, duplicates.get(row.row, []), twins.get(row.row, [])) for row in shown],
            more_rows=max(0, len(ledger.to_create) - PREVIEW_ROWS),
            problems=ledger.problems[:PREVIEW_PROBLEMS],
            more_problems=max(0, len(ledger.problems) - PREVIEW_PROBLEMS),
        )
    return render(request, "feedback/import.html", context)


def likely_duplicates(user: Any, rows: list[LedgerRow]) -> dict[int, list[similar.Suggestion]]:
    """Per row of the preview (by its row number in the file), the probable duplicates among the open
    and recently closed issues the user can see: information only, nothing is merged. Rows the ledger
    already closes are history, not new requests, and are not looked up. One set of queries for all
    the rows (``similar.suggest_many``), not one per row."""
    open_rows = [r for r in rows if r.closed_on is None]
    requests = [_as_request(r) for r in open_rows]
    found = similar.suggest_many(user, requests, limit=3)
    return {
        r.row: [s for s in hits if s.likely]
        for r, hits in zip(open_rows, found, strict=True)
        if any(s.likely for s in hits)
    }


def _as_request(row: LedgerRow) -> similar.Request:
    """A ledger row as the duplicate suggestions read a request (its township: a lead township's)."""
    return similar.Request(
        title=row.title,
        content=row.content,
        township=next((d for d in row.departments[:1] if d.kind == Department.Kind.TOWNSHIP), None),
        requester_phone=row.requester_phone,
        category_id=row.category.pk,
        received_on=row.received_on,
    )


@dataclass(frozen=True)
class Twin:
    """Another row of the same file that is probably the same request (``row``: its number in the file)."""

    row: int
    reasons: list[str]
    later: bool  # the other row comes after this one


def within_file(rows: list[LedgerRow]) -> tuple[dict[int, list[Twin]], int, int]:
    """Rows of one file that are probably the same request as another row of it (``similar.within_batch``),
    by row number, each with the other rows; how many rows were compared: the first
    ``similar.BATCH_LIMIT`` rows still open (closed rows are history, not new requests); and how many
    rows are open. Information only: the import merges nothing. One query (the townships' names)."""
    still_open = [r for r in rows if r.closed_on is None]
    open_rows = still_open[: similar.BATCH_LIMIT]
    requests = [_as_request(r) for r in open_rows]
    found: dict[int, list[Twin]] = defaultdict(list)
    for pair in similar.within_batch(requests):
        earlier, later = open_rows[pair.earlier].row, open_rows[pair.later].row
        found[later].append(Twin(earlier, pair.reasons, later=False))
        found[earlier].append(Twin(later, pair.reasons, later=True))
    return dict(found), len(open_rows), len(still_open)


@login_required
def issue_import(request: HttpRequest) -> HttpResponse:
    """Upload → checked preview (nothing written) → confirm → one transaction."""
    channels = access.registrable_channels(request.user)
    if not channels:
        raise Http404("只有直通车办公室可以导入台账。")
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _import_confirm(request, channels)
    form = LedgerUploadForm(request.POST, request.FILES) if request.method == "POST" else LedgerUploadForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        ledger = check_ledger(data, upload.name, channels=channels)
        token = _keep_upload(request, data, upload.name) if ledger.ok and ledger.to_create else ""
        return _import_page(request, LedgerUploadForm(), ledger, upload.name, token)
    return _import_page(request, form)


def _import_confirm(request: HttpRequest, channels: list[str]) -> HttpResponse:
    kept = _kept_upload(request)
    if kept is None:
        messages.error(request, "该导入已完成或已失效，请重新上传台账文件。")
        return redirect("issue_import")
    data, name = kept
    # Checked again: the database may have changed since the preview (a department retired, a ref
    # registered). Two passes over the file, neither holding its rows (decision 0720).
    ledger = check_ledger(data, name, channels=channels, keep_rows=False)
    if ledger.ok:
        try:
            result = services.import_ledger_file(actor=request.user, data=data, name=name, channels=channels)
        except LedgerError as exc:
            ledger.problems = exc.problems
    _discard_upload(request)
    if not ledger.ok:
        return _import_page(request, LedgerUploadForm(), ledger, name)
    messages.success(
        request, f"台账“{name}”导入完成：新建 {len(result.created)} 条，已存在 {len(result.present)} 条（跳过）。"
    )
    return redirect("issue_list")


@login_required
def issue_export_ledger(request: HttpRequest) -> HttpResponse:
    """The filtered list in the import format. It carries full phone numbers (the requester's
    identity on re-import), so only those who call requesters back may have it, and it is logged."""
    if not access.can_register(request.user):
        raise Http404("只有直通车办公室可以导出可导入格式的台账。")
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = list(
        issue_list(request.user, data)
        .select_related("category", "requester")
        .prefetch_related("assignments__department")[:20000]
    )
    privacy_log.info(
        "importable ledger export with phone numbers: user=%s issues=%d filters=%s",
        request.user.get_username(),
        len(issues),
        request.GET.urlencode(),
    )
    response = HttpResponse(importable_ledger_csv(issues), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.csv"'
    return response


@login_required
def issue_export_ledger_xlsx(request: HttpRequest) -> HttpResponse:
    """The filtered list as ``manage.py export_issues`` writes it (诉求台账 + 交办明细): read back by the
    import with every figure unchanged. Full phone numbers, as the CSV: offices and admins, logged."""
    if not access.can_register(request.user):
        raise Http404("只有直通车办公室可以导出可导入格式的台账。")
    form = IssueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    issues = issue_list(request.user, data)
    ids = list(issues.values_list("pk", flat=True)[:20000])
    privacy_log.info(
        "round-trip ledger export with phone numbers: user=%s issues=%d filters=%s",
        request.user.get_username(),
        len(ids),
        request.GET.urlencode(),
    )
    response = HttpResponse(export_round_trip(Issue.objects.filter(pk__in=ids)), content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.xlsx"'
    return response


# --- Printable documents, first-page previews and the inbox in Excel (issue 5, items 7, 4 and 1) ------
# Everything here is fetched through the scoped querysets of feedback.access: out of scope is 404.
