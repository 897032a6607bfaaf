"""The public portal (no login): the coming forum, submit a suggestion, follow it, read replies.

Nothing here shows personal data: the tracking page shows statuses only, and published replies
are the office's redacted summaries of issues whose submitter consented.

Rate limiting counts in Django's cache per client IP and hour. The default LocMem cache counts
per process, which is enough for one server process; production with several web processes
should set ``CACHES`` to Redis so they share the count (docs/operations). When the cache fails, the
count moves to the database (feedback.security.ratelimit), so a submission is never lost to it.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from feedback.errors import WorkflowError
from feedback.models import Issue, SignedReply
from feedback.security import ratelimit

from . import services
from .forms import SearchForm, SuggestionForm, TrackForm
from .models import TRACKING_ALPHABET, Forum, PublicSubmission

SUBMISSIONS_PER_HOUR = 5
FAILED_ATTEMPTS_PER_HOUR = 20  # wrong sums, honeypot hits: bounds guessing the answer
PAGE_SIZE = 20


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _count(kind: str, request: HttpRequest) -> int:
    # Guarded: with Redis down the count moves to the database instead of failing the request (issue 15).
    return ratelimit.count(kind, client_ip(request))


def _bump(kind: str, request: HttpRequest) -> None:
    ratelimit.bump(kind, client_ip(request))


def rate_limited(request: HttpRequest) -> bool:
    return _count("submit", request) >= SUBMISSIONS_PER_HOUR or _count("failed", request) >= FAILED_ATTEMPTS_PER_HOUR


def too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "public/too_many.html", status=429)


def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    coming = Forum.objects.filter(held_on__gte=today).order_by("held_on").first()
    return render(
        request,
        "public/home.html",
        {
            "forum": coming,
            "collecting": services.open_forum(today),
            "today": today,
            "track_form": TrackForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if rate_limited(request):
            return too_many(request)
        form = SuggestionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                submission = services.submit_suggestion(
                    category=data["category"],
                    content=data["content"],
                    name=data["name"],
                    phone=data["phone"],
                    consent_to_publish=data["consent_to_publish"],
                )
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                _bump("submit", request)
                # The code is shown once, on this page; the URL carries it so it can be bookmarked.
                return render(request, "public/submitted.html", {"submission": submission}, status=201)
        _bump("failed", request)
        status = 400
    else:
        form = SuggestionForm()
        status = 200
    # A form shown again after an error renders a new captcha: the one just tried is spent (single-use).
    return render(
        request,
        "public/submit.html",
        {
            "form": form,
            "collecting": services.open_forum(),
        },
        status=status,
    )


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch in TRACKING_ALPHABET)


def track_lookup(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET or None)
    if form.is_valid() and (code := normalise_code(form.cleaned_data["code"])):
        return redirect("public:track", code=code)
    return render(request, "public/track_lookup.html", {"form": form})


def track(request: HttpRequest, code: str) -> HttpResponse:
    submission = (
        PublicSubmission.objects.select_related("issue", "merged_into", "category")
        .filter(code=normalise_code(code))
        .first()
    )
    if submission is None:
        return render(request, "public/track_missing.html", status=404)
    published = submission.published_at is not None and submission.consent_to_publish
    # A merged suggestion follows the issue it joined: its status only, and its public reply when
    # the office published one (with that issue's own submitter's consent), never its content.
    merged_reply = (
        submission.merged_into is not None
        and PublicSubmission.objects.published().filter(issue=submission.merged_into).exists()
    )
    handled_by = handling_issue(submission)
    return render(
        request,
        "public/track.html",
        {
            "submission": submission,
            "published": published,
            "merged_reply": merged_reply,
            "handled_by": handled_by,
            "answers": answers(handled_by) if handled_by is not None else [],
        },
    )


def handling_issue(submission: PublicSubmission) -> Issue | None:
    """The issue whose handling answers this submission: its own issue, or the issue it joined, and
    when that issue was itself merged (并单, issue 19), the lead that carries the handling."""
    issue = submission.issue or submission.merged_into
    if issue is not None and issue.merged_into_id is not None:
        return Issue.objects.get(pk=issue.merged_into_id)
    return issue


def answers(issue: Issue) -> list[SignedReply]:
    """The accepted written replies of the handling issue, newest version of each department's: the
    public sees who answered, the result and the date, never the summary (that is published only
    after redaction and with consent, reply_detail)."""
    rows = (
        SignedReply.objects.filter(assignment__issue=issue, review_status=SignedReply.Review.ACCEPTED)
        .select_related("assignment__department")
        .order_by("-assignment__role", "assignment_id", "-version")
    )
    seen: set[int] = set()
    return [r for r in rows if not (r.assignment_id in seen or seen.add(r.assignment_id))]


def replies(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    rows = PublicSubmission.objects.published().select_related("category", "issue").order_by("-published_at", "-id")
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if query:
        rows = rows.filter(Q(published_summary__icontains=query) | Q(category__name__icontains=query))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public/replies.html", {"form": form, "page": page, "query": query})


def reply_detail(request: HttpRequest, code: str) -> HttpResponse:
    # Addressed by the issue's reference, never by the tracking code (which is the submitter's).
    submission = (
        PublicSubmission.objects.published().select_related("category", "issue").filter(issue__ref=code).first()
    )
    if submission is None:
        return render(request, "public/track_missing.html", status=404)
    return render(request, "public/reply_detail.html", {"submission": submission})
