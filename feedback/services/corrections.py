"""Correcting what was registered (更正登记信息, issue 13 §3).

While an issue is open the channel office may correct its title, content, category, nature and
requester. Each changed field is one history row (action ``issue_edited``) saying the old and the
new value; a phone number is written masked, as the timeline shows it everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from feedback import states
from feedback.errors import IllegalTransition, InvalidInput
from feedback.models import Category, Issue, Requester
from feedback.privacy import mask_phone
from feedback.services.assignments import ACCUSATION_NATURES
from feedback.services.guards import require_office
from feedback.services.intake import RequesterData, find_or_create_requester

TITLE_MAX = 200  # Issue.title's max_length
# The longest old or new value written in full in a history row; longer ones end with "…".
SHOWN = 300


@dataclass(frozen=True)
class IssueCorrection:
    title: str
    content: str
    category: Category
    nature: str
    requester: RequesterData


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def requester_label(requester: Requester) -> str:
    phone = f"（{mask_phone(requester.phone)}）" if requester.phone else ""
    return f"{requester.name}{phone}"


@transaction.atomic
def edit_issue(*, actor: User | None, issue: Issue, correction: IssueCorrection) -> list[str]:
    """Apply the correction; returns the labels of the fields that changed (empty: nothing did,
    and nothing is recorded). Refused on a closed issue (重办 first) and for anyone but the
    channel's office or an administrator."""
    issue = Issue.objects.select_for_update().select_related("category", "requester").get(pk=issue.pk)
    require_office(actor, issue)
    if issue.status == Issue.Status.CLOSED:
        raise IllegalTransition("诉求已办结，不能再更正登记信息；确需更正的，请先重办。")
    title, content = correction.title.strip(), correction.content.strip()
    if not title:
        raise InvalidInput("请填写标题。", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput("标题不能超过 200 个字符。", field="title")
    if not content:
        raise InvalidInput("请填写诉求内容。", field="content")
    if correction.nature not in Issue.Nature.values:
        raise InvalidInput(f"未知诉求性质：{correction.nature}", field="nature")
    if issue.accused_department_id and correction.nature not in ACCUSATION_NATURES:
        raise InvalidInput("本诉求填写了被举报单位，性质只能是举报或投诉。", field="nature")
    if correction.category.pk != issue.category_id and not correction.category.active:
        raise InvalidInput(f"分类“{correction.category.name}”已停用。", field="category")
    requester = find_or_create_requester(correction.requester)

    changes: list[tuple[str, str, str]] = []
    if title != issue.title:
        changes.append(("标题", _shown(issue.title), _shown(title)))
        issue.title = title
    if content != issue.content:
        changes.append(("诉求内容", _shown(issue.content), _shown(content)))
        issue.content = content
    if correction.category.pk != issue.category_id:
        changes.append(("分类", issue.category.name, correction.category.name))
        issue.category = correction.category
    if correction.nature != issue.nature:
        changes.append(("性质", issue.get_nature_display(), Issue.Nature(correction.nature).label))
        issue.nature = correction.nature
    if requester.pk != issue.requester_id:
        changes.append(("诉求人", requester_label(issue.requester), requester_label(requester)))
        issue.requester = requester
    else:
        # The same person (known by phone) under a corrected name or organization.
        name, org = correction.requester.name.strip(), correction.requester.organization.strip()
        fixed = []
        if name != requester.name:
            changes.append(("诉求人姓名", requester.name, name))
            requester.name = name
            fixed.append("name")
        if correction.requester.kind != requester.kind and correction.requester.kind in Requester.Kind.values:
            changes.append(
                ("诉求人类型", requester.get_kind_display(), Requester.Kind(correction.requester.kind).label)
            )
            requester.kind = correction.requester.kind
            fixed.append("kind")
        if org != requester.organization:
            changes.append(("所在企业/单位", requester.organization or "（无）", org or "（无）"))
            requester.organization = org
            fixed.append("organization")
        if fixed:
            requester.save(update_fields=fixed)
    if not changes:
        return []
    issue.save(update_fields=["title", "content", "category", "nature", "requester", "updated_at"])
    for label, old, new in changes:
        states.record(issue, "issue_edited", actor=actor, note=f"{label}：{old} → {new}")
    return [label for label, _, _ in changes]
