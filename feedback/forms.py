from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from feedback.documents.uploads import UploadRejected, validate_reply_file
from feedback.errors import BatchRejected, WorkflowError
from feedback.models import (
    Assignment,
    Category,
    Channel,
    DeadlineUnit,
    Department,
    Issue,
    Objection,
    Requester,
    SignedReply,
)
from feedback.passwords import DEMO_PASSWORD
from feedback.selectors import SORTS
from feedback.services.corrections import IssueCorrection
from feedback.services.intake import RequesterData
from feedback.services.merging import DuplicateChoice
from feedback.services.reference import SHORT_NAMES

T = TypeVar("T")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EMPTY_LABEL = "请选择…"


def with_empty_choice(choices: Any) -> list[tuple[str, str]]:
    """Choices led by an empty "请选择…": nothing is chosen until the user picks one."""
    return [("", EMPTY_LABEL), *choices]


class PortalForm(forms.Form):
    """The portal's forms: a full-width colon after ``label_tag`` (Django's zh-hans leaves ":"), and
    "请选择…" instead of Django's "---------" on a select without an empty label of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "：")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # A required ModelChoiceField with an initial value has no empty choice (None): left alone.
            if isinstance(field, forms.ModelChoiceField) and field.empty_label == "---------":
                field.empty_label = EMPTY_LABEL


class PortalLoginForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        if not settings.DEBUG and self.cleaned_data.get("password") == DEMO_PASSWORD:
            raise forms.ValidationError("演示账号仅限开发环境使用，请联系管理员开通正式账号。", code="demo")
        return super().clean()


def handling_departments() -> Any:
    return Department.objects.filter(active=True).exclude(kind=Department.Kind.OFFICE).order_by("kind", "sort_order")


# Codes or references typed in one cell: ；/;/，/,/、 or spaces between them.
CODE_SEPARATORS = re.compile(r"[；;，,、\s]+")


# --- departments chosen by name (the three channels' batch intakes) ---------------------------------

# Between the names typed or pasted in one cell: the ledger's separators (；;，,、/) and spaces.
NAME_SEPARATORS = re.compile(r"[；;，,、/\s]+")


@lru_cache(maxsize=512)
def pinyin_initials(text: str) -> str:
    """县住房和城乡建设局 → xzfhcxjsj: the initials a clerk types (computed once per name)."""
    return "".join(w[0] for w in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if w).lower()


def department_keys(department: Department) -> list[str]:
    """Every spelling that names a department exactly: code, name, name without 县, 简称 and the
    pinyin initials of each (县住房和城乡建设局: zjj, 住建局, 住房和城乡建设局, zfhcxjsj, xzfhcxjsj …)."""
    names = [department.name, department.name.removeprefix("县")]
    short = SHORT_NAMES.get(department.code)
    if short:
        names.append(short)
    keys = [department.code.lower(), *names, *(pinyin_initials(n) for n in names)]
    return list(dict.fromkeys(k for k in keys if k))


def _stem(name: str) -> str:
    return re.sub(r"^县|(局|镇|办|委员会|管委会)$", "", name)


def _subsequence(needle: str, haystack: str) -> bool:
    letters = iter(haystack)
    return all(c in letters for c in needle)


def department_choices(departments: Sequence[Department]) -> list[dict[str, Any]]:
    """The departments a batch grid offers, for its type-ahead (rendered with json_script)."""
    return [
        {"name": d.name, "code": d.code, "kind": d.get_kind_display(), "keys": department_keys(d)} for d in departments
    ]


class DepartmentNamesField(forms.CharField):
    """承办单位 in one cell: the lead first, then any co-handlers, by name, 简称, code or pinyin
    initials, as typed, picked from the type-ahead or pasted from a ledger. Cleans to the list of
    departments (the lead first). A name that matches nothing is refused with the nearest existing
    department as a suggestion ("是否为 县财政局？"), and only when one is near."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.departments: Sequence[Department] = ()
        kwargs.setdefault("max_length", 300)
        super().__init__(*args, **kwargs)

    def set_departments(self, departments: Sequence[Department]) -> None:
        self.departments = departments
        self.widget.attrs.update({"data-departments": "", "autocomplete": "off", "spellcheck": "false"})

    def _index(self) -> dict[str, list[Department]]:
        index: dict[str, list[Department]] = {}
        for department in self.departments:
            for key in department_keys(department):
                bucket = index.setdefault(key.lower(), [])
                if department not in bucket:
                    bucket.append(department)
        return index

    def suggestion(self, word: str) -> Department | None:
        """The one department the word most likely meant, or None when nothing is near enough."""
        word = word.lower()
        initials = pinyin_initials(word)
        scored: list[tuple[float, int, Department]] = []
        for order, department in enumerate(self.departments):
            best = 0.0
            for key in department_keys(department):
                key = key.lower()
                if word in key or (len(word) >= 2 and _subsequence(word, key)):
                    best = max(best, 0.9 if key.startswith(word) else 0.8)
                # On the stems: 县 and 局 alone make 县财政局 look like 县民政局 (0.75).
                best = max(best, SequenceMatcher(None, _stem(word), _stem(key)).ratio())
                if initials and initials == key:
                    best = max(best, 0.85)
            scored.append((best, -order, department))
        if not scored:
            return None
        best_score, _, department = max(scored, key=lambda s: (s[0], s[1]))
        close = [s for s in scored if s[0] == best_score]
        return department if best_score >= 0.6 and len(close) == 1 else None

    def clean(self, value: Any) -> list[Department]:
        text = super().clean(value)
        words = [w for w in NAME_SEPARATORS.split(text or "") if w]
        if not words:
            return []
        index = self._index()
        chosen: list[Department] = []
        problems: list[str] = []
        for word in words:
            found = index.get(word.lower(), [])
            if len(found) == 1:
                chosen.append(found[0])
                continue
            if len(found) > 1:
                problems.append(f"“{word}”对应多个单位（{'、'.join(d.name for d in found)}），请写全称")
                continue
            near = self.suggestion(word)
            problems.append(
                f"未知单位“{word}”，是否为 {near.name}？"
                if near is not None
                else f"未知单位“{word}”，请从列表中选择单位名称"
            )
        if problems:
            raise forms.ValidationError("；".join(problems) if len(problems) > 1 else problems[0])
        return chosen


class DepartmentChoiceMixin(PortalForm):
    lead = forms.ModelChoiceField(
        label="主办单位", queryset=Department.objects.none(), required=False, empty_label="（暂不交办）"
    )
    co = forms.ModelMultipleChoiceField(
        label="协办单位",
        queryset=Department.objects.none(),
        required=False,
        help_text="可多选；不能与主办单位相同",
        widget=forms.CheckboxSelectMultiple,
    )
    deadline_amount = forms.IntegerField(
        label="办理时限", required=False, min_value=1, max_value=365, help_text="留空则按渠道默认时限"
    )
    deadline_unit = forms.ChoiceField(
        label="时限单位", required=False, choices=[("", "（默认）"), *DeadlineUnit.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = handling_departments()
        self.fields["co"].queryset = handling_departments()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lead, co = data.get("lead"), data.get("co") or []
        if lead and lead in co:
            self.add_error("co", f"协办单位“{lead.name}”与主办单位相同。")
        if co and not lead:
            self.add_error("lead", "选择协办单位时必须同时选择主办单位。")
        if bool(data.get("deadline_amount")) != bool(data.get("deadline_unit")):
            self.add_error("deadline_amount", "办理时限和时限单位需同时填写，或同时留空。")
        return data


class IssueForm(DepartmentChoiceMixin):
    channel = forms.ChoiceField(label="渠道", choices=Channel.choices)
    ref = forms.CharField(label="编号", max_length=40, required=False, help_text="留空自动生成")
    received_on = forms.DateField(label="受理日期", widget=DATE_WIDGET)
    nature = forms.ChoiceField(label="诉求性质", choices=Issue.Nature.choices, initial=Issue.Nature.SUGGESTION)
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.filter(active=True))
    requester_kind = forms.ChoiceField(label="诉求人类型", choices=Requester.Kind.choices)
    requester_name = forms.CharField(label="姓名/网名/企业", max_length=100)
    requester_phone = forms.CharField(label="联系电话", max_length=32, required=False)
    requester_org = forms.CharField(label="所在企业/单位", max_length=200, required=False)
    title = forms.CharField(label="标题", max_length=200)
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 5}))
    onsite_answer = forms.CharField(label="现场回应", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    accused_department = forms.ModelChoiceField(
        label="被举报单位",
        required=False,
        empty_label="（无）",
        queryset=Department.objects.filter(active=True).exclude(kind=Department.Kind.OFFICE),
        help_text="检举控告类诉求：该单位将看不到本诉求，也不能作为承办单位",
    )

    field_order = [
        "channel",
        "ref",
        "received_on",
        "nature",
        "category",
        "requester_kind",
        "requester_name",
        "requester_phone",
        "requester_org",
        "title",
        "content",
        "onsite_answer",
        "accused_department",
        "lead",
        "co",
        "deadline_amount",
        "deadline_unit",
    ]

    def __init__(self, *args: Any, channels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c, Channel(c).label) for c in channels]
        if len(channels) == 1:
            self.fields["channel"].initial = channels[0]
            self.fields["channel"].widget = forms.HiddenInput()
        self.fields["received_on"].initial = timezone.localdate()

    def clean_received_on(self) -> Any:
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("受理日期不能晚于今天。")
        return value


class AssignForm(DepartmentChoiceMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].required = True
        self.fields["lead"].empty_label = "请选择主办单位"


class ReplyForm(PortalForm):
    file = forms.FileField(
        label="回复函扫描件",
        help_text="加盖公章并由主要负责人签字的回复函，PDF、JPG 或 PNG，不超过 20 MB",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    signer_name = forms.CharField(label="签发人", max_length=50)
    signer_title = forms.CharField(label="签发人职务", max_length=50)
    signed_on = forms.DateField(label="签发日期", widget=DATE_WIDGET)
    # No default: a preselected "已解决" was submitted by clerks clicking through, and it counts as an
    # enterprise problem solved (feedback.report).
    result = forms.ChoiceField(
        label="办理结果",
        choices=with_empty_choice(SignedReply.Result.choices),
        error_messages={"required": "请选择办理结果。"},
    )
    summary = forms.CharField(label="答复摘要", widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, assignment: Assignment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The file's content is the service's to check (feedback.documents.uploads), once, on submission. When the
        # form is refused anyway, it is checked here too, so that a bad scan is reported with the other
        # problems: the browser forgets the chosen file, and the clerk should not pick it again in vain.
        if self.errors and data.get("file") is not None:
            try:
                validate_reply_file(data["file"])
            except UploadRejected as exc:
                self.add_error("file", exc.message)
        return data


class ReasonForm(PortalForm):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class FollowUpForm(PortalForm):
    # No default, for the same reason: a preselected "满意" would feed the satisfaction rate.
    satisfaction = forms.ChoiceField(
        label="回访结果",
        choices=with_empty_choice(Issue.Satisfaction.choices),
        error_messages={"required": "请选择回访结果。"},
    )
    comment = forms.CharField(label="回访意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpSkipForm(PortalForm):
    """未能回访: the reason (no default: the clerk chooses) and, for 其他, what happened."""

    follow_up_skipped = forms.ChoiceField(
        label="未能回访原因",
        choices=with_empty_choice(Issue.FollowUpSkip.choices),
        error_messages={"required": "请选择未能回访的原因。"},
    )
    follow_up_skip_note = forms.CharField(
        label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class CloseForm(PortalForm):
    closed_on = forms.DateField(label="办结日期", widget=DATE_WIDGET, required=False)


class IssueFilterForm(PortalForm):
    q = forms.CharField(
        label="搜索", required=False, widget=forms.TextInput(attrs={"placeholder": "编号、标题、内容或诉求人"})
    )
    channel = forms.ChoiceField(label="渠道", required=False, choices=[("", "全部渠道"), *Channel.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Issue.Status.choices])
    nature = forms.ChoiceField(label="性质", required=False, choices=[("", "全部性质"), *Issue.Nature.choices])
    # The lead department's accepted reply (feedback.report.lead_result_is): 已解决 is the county's
    # "enterprise problems solved".
    result = forms.ChoiceField(
        label="办理结果", required=False, choices=[("", "全部结果"), *SignedReply.Result.choices]
    )
    replied = forms.ChoiceField(
        label="书面答复", required=False, choices=[("", "全部"), ("1", "已全部答复"), ("0", "尚未全部答复")]
    )
    category = forms.ModelChoiceField(
        label="分类", required=False, queryset=Category.objects.all(), empty_label="全部分类"
    )
    department = forms.ModelChoiceField(
        label="承办单位",
        required=False,
        empty_label="全部单位",
        queryset=Department.objects.exclude(kind=Department.Kind.OFFICE),
    )
    received_from = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    received_to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)
    sort = forms.ChoiceField(label="排序", required=False, choices=list(SORTS.items()))
    # The 待审核 tab (a reply of the lead or a co-handler waits for the office's review).
    awaiting_review = forms.ChoiceField(
        label="审核", required=False, choices=[("", "全部"), ("1", "有回复待审核"), ("0", "无待审核回复")]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", "结束日期不能早于开始日期。")
        return data


class ExtensionForm(PortalForm):
    requested_due_date = forms.DateField(label="申请延至", widget=DATE_WIDGET)
    reason = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecisionForm(PortalForm):
    note = forms.CharField(
        label="审批意见",
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "不批准时必须写明理由"}),
    )


class ObjectionForm(PortalForm):
    reason = forms.CharField(
        label="异议理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明为什么不属于本单位职责，如相关法规或“三定”方案",
    )
    suggested_department = forms.ModelChoiceField(
        label="建议改派单位", required=False, empty_label="（不建议）", queryset=Department.objects.none()
    )

    def __init__(
        self, *args: Any, exclude: Department | None = None, issue: Issue | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        departments = handling_departments()
        if exclude is not None:
            departments = departments.exclude(pk=exclude.pk)
        if issue is not None:
            # Units already handling the issue (lead or co-handler) are no suggestion to move it to.
            handling = (
                Assignment.objects.filter(issue=issue)
                .exclude(status=Assignment.Status.WITHDRAWN)
                .values("department_id")
            )
            departments = departments.exclude(pk__in=handling)
            office = Department.objects.filter(kind=Department.Kind.OFFICE, channel=issue.channel).first()
            if office is not None:  # "not ours, nor anyone's we know": the channel's office decides
                self.fields["suggested_department"].empty_label = f"（不建议具体单位，由{office.name}研判）"
        self.fields["suggested_department"].queryset = departments


class ObjectionAcceptForm(PortalForm):
    department = forms.ModelChoiceField(
        label="改派单位", queryset=Department.objects.none(), empty_label="请选择改派单位"
    )
    clock = forms.ChoiceField(
        label="办理期限", choices=Objection.Clock.choices, initial=Objection.Clock.CONTINUE, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="决定意见", required=False, max_length=2000, widget=forms.TextInput(attrs={"placeholder": "可选"})
    )

    def __init__(self, *args: Any, objection: Objection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = handling_departments()
        if objection is not None:
            departments = departments.exclude(pk=objection.assignment.department_id)
            self.fields["department"].initial = objection.suggested_department_id
        self.fields["department"].queryset = departments


class ObjectionRejectForm(PortalForm):
    note = forms.CharField(
        label="驳回理由", max_length=2000, widget=forms.TextInput(attrs={"placeholder": "驳回时必须写明理由"})
    )


class LedgerUploadForm(PortalForm):
    """台账导入: the file is only read here; feedback.ledger.parse checks its content."""

    MAX_SIZE = 10 * 1024 * 1024  # a county's yearly ledger is well under 1 MB

    file = forms.FileField(
        label="台账文件", help_text="Excel（.xlsx、.xls）或 CSV（UTF-8 或 GBK）文件，表头上方可有标题行，不超过 10 MB"
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".xls")):
            raise forms.ValidationError("请上传 .xlsx、.xls 或 .csv 文件。")
        if upload.size > self.MAX_SIZE:
            raise forms.ValidationError("文件超过 10 MB，请拆分后分批导入。")
        return upload


def add_service_error(form: forms.Form, exc: WorkflowError) -> None:
    """A service's refusal shown on the form: on its field when the form has it, else above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- the batch intake grid shared by the three channels (templates/feedback/_batch_grid.html) --------

# Column names a pasted header row may use for each grid field, beside the field's own label: the
# ledger's (CONTRACT.md "Ledger columns") in English and Chinese, so rows copied from a 台账 land right.
PASTE_NAMES: dict[str, tuple[str, ...]] = {
    "handle": ("requester", "诉求人", "诉求人姓名", "姓名", "反映人", "网民昵称", "网名"),
    "requester_name": ("requester", "诉求人", "诉求人姓名", "姓名", "反映人", "信访人"),
    "requester_phone": ("requester_phone", "诉求人电话", "联系电话", "联系方式", "电话"),
    "enterprise": ("requester_org", "诉求人单位", "企业名称", "单位名称", "企业"),
    "village": ("village", "村", "所在村"),
    "category": ("category", "分类", "类别", "诉求类别"),
    "nature": ("nature", "性质", "诉求性质"),
    "accused_department": ("accused_department", "被检举控告单位"),
    "title": ("title", "标题", "诉求标题"),
    "content": ("content", "诉求内容", "内容", "具体诉求", "问题内容"),
    "departments": ("departments", "承办单位", "责任单位", "办理单位", "交办单位"),
    "onsite_answer": ("onsite_answer", "现场回应", "现场答复"),
}
ADD_ROWS = 5  # rows the 添加行 button adds when the page runs without its script
REQUIRED_DEPARTMENTS = "请填写承办单位（主办在前，协办在后）。"


class BatchRowMixin:
    """A row of a batch intake grid: 承办单位 typed in one cell (``departments``) becomes the
    ``lead`` and ``co`` the channels' services take; each field knows the column names a pasted
    header row may give it."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def set_up_grid(self, departments: Sequence[Department]) -> None:
        field = self.fields["departments"]
        assert isinstance(field, DepartmentNamesField)
        field.set_departments(departments)
        # 并单 at intake (issue 19): the clerk's one click on a suggested duplicate (static/js/batch_similar.js).
        self.fields["merge_into"] = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
        self.fields["kept_apart"] = forms.CharField(required=False, max_length=400, widget=forms.HiddenInput)
        # 并入第 N 行: the row repeats an earlier row of the same grid (N its number in the grid).
        self.fields["merge_with_row"] = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
        if self.is_bound and any(
            str(self.data.get(self.add_prefix(name), "")).strip()  # type: ignore[attr-defined]
            for name in ("merge_into", "merge_with_row")
        ):
            field.required = False  # a merged row is handled by its lead's departments
        for name, each in self.fields.items():
            each.paste_names = "|".join(dict.fromkeys([str(each.label), *PASTE_NAMES.get(name, ())]))  # type: ignore[attr-defined]

    def split_departments(self, data: dict[str, Any]) -> dict[str, Any]:
        chosen = data.pop("departments", None)
        if chosen:
            data["lead"], data["co"] = chosen[0], chosen[1:]
        elif "departments" in self.fields and not self.fields["departments"].required:
            data["lead"], data["co"] = None, []
        merge_into = (data.pop("merge_into", "") or "").strip()
        kept_apart = tuple(r for r in re.split(r"[,，;；\s]+", data.pop("kept_apart", "") or "") if r)
        # The row number is turned into the row's position among the rows saved by the formset
        # (BaseBatchFormSet.clean), which sees every row.
        data["duplicate"] = DuplicateChoice(
            merge_into=merge_into, kept_apart=kept_apart, merge_with_row=data.pop("merge_with_row", None) or 0
        )
        return data


def departments_field() -> DepartmentNamesField:
    return DepartmentNamesField(
        label="承办单位", error_messages={"required": REQUIRED_DEPARTMENTS}, help_text="主办在前，协办在后，用“；”分隔"
    )


class BaseBatchFormSet(forms.BaseFormSet):
    """Rows of a batch intake: blank spare rows are skipped; at least one row must be filled."""

    empty_message = "请至少填写一行诉求。"

    def filled_forms(self) -> list[forms.Form]:
        # Blank spare rows are skipped (Django leaves their cleaned_data empty).
        return [f for f in self.forms if f.has_changed()]

    def clean(self) -> None:
        super().clean()
        if not any(self.errors) and not self.filled_forms():
            raise forms.ValidationError(self.empty_message)
        if not any(self.errors):
            self._rows_merged_within()

    def _rows_merged_within(self) -> None:
        """并入第 N 行 (issue 19): row N must be an earlier filled row of this grid; the choice is
        rewritten to N's position among the filled rows, the order in which the batch is registered."""
        filled = self.filled_forms()
        position = {self.forms.index(f) + 1: n for n, f in enumerate(filled)}  # grid number → position
        for form in filled:
            duplicate = form.cleaned_data.get("duplicate")
            if not isinstance(duplicate, DuplicateChoice) or not duplicate.merge_with_row:
                continue
            number, row = self.forms.index(form) + 1, duplicate.merge_with_row
            if duplicate.merge_into.strip():
                form.add_error(None, "一行只能并入一处：已选择并入其他诉求，不能再并入本批的另一行。")
            elif row >= number:
                form.add_error(None, f"只能把后面的行并入前面的行：第 {number} 行不能并入第 {row} 行。")
            elif row not in position:
                form.add_error(None, f"第 {row} 行是空行，不能并入；请撤销并单或填写第 {row} 行。")
            else:
                form.cleaned_data["duplicate"] = dataclasses.replace(duplicate, merge_with=position[row])


def bind_batch(formset_class: Any, data: Any, **kwargs: Any) -> tuple[Any, bool]:
    """The grid's formset, and whether the POST only asked for more rows (添加行 without the
    script): then the rows typed so far come back with ``ADD_ROWS`` blank ones and nothing is saved."""
    adding = data is not None and "add_rows" in data
    if adding:
        data = data.copy()
        key = "rows-TOTAL_FORMS"
        try:
            total = int(data.get(key, "0"))
        except ValueError:
            total = 0
        data[key] = str(min(total + ADD_ROWS, formset_class.max_num))
    return formset_class(data, prefix="rows", **kwargs), adding


def submit_batch(filled: Sequence[forms.Form], call: Callable[[], T]) -> tuple[T | None, str]:
    """Run a batch intake service (all rows or none) for the filled rows of a formset: its result and
    "", or None and the message for the whole batch, each refused row's reason shown on its row."""
    try:
        return call(), ""
    except BatchRejected as exc:
        for index, error in exc.rows.items():
            add_service_error(filled[index], error)
        return None, exc.message
    except WorkflowError as exc:
        return None, exc.message


class IssueEditForm(PortalForm):
    """更正登记信息 (issue 13 §3). The phone is never shown in full here: left empty, it stays."""

    nature = forms.ChoiceField(label="诉求性质", choices=Issue.Nature.choices)
    category = forms.ModelChoiceField(label="分类", queryset=Category.objects.filter(active=True))
    title = forms.CharField(label="标题", max_length=200)
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 6}))
    requester_kind = forms.ChoiceField(label="诉求人类型", choices=Requester.Kind.choices)
    requester_name = forms.CharField(label="姓名/网名/企业", max_length=100)
    requester_phone = forms.CharField(label="联系电话", max_length=32, required=False)
    requester_org = forms.CharField(label="所在企业/单位", max_length=200, required=False)

    def __init__(self, *args: Any, issue: Issue, **kwargs: Any) -> None:
        who = issue.requester
        initial = {
            "nature": issue.nature,
            "category": issue.category_id,
            "title": issue.title,
            "content": issue.content,
            "requester_kind": who.kind,
            "requester_name": who.name,
            "requester_org": who.organization,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.issue = issue
        # A category retired since registration stays choosable for this issue.
        self.fields["category"].queryset = Category.objects.filter(Q(active=True) | Q(pk=issue.category_id))
        self.fields["requester_phone"].help_text = (
            f"留空则不变（现为 {who.masked_phone}）" if who.phone else "没有电话可留空"
        )

    def correction(self) -> IssueCorrection:
        d = self.cleaned_data
        who = self.issue.requester
        return IssueCorrection(
            title=d["title"],
            content=d["content"],
            category=d["category"],
            nature=d["nature"],
            requester=RequesterData(
                name=d["requester_name"],
                phone=d["requester_phone"].strip() or who.phone,
                kind=d["requester_kind"],
                organization=d["requester_org"],
            ),
        )
