from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

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
    return Department.objects.filter(active=True).exclude(kind=Department.Kind.OFFICE).order_by(
        "kind", "sort_order"
    )


# Department codes typed in a batch grid: ；/;/，/,/、 or spaces between them.
CODE_SEPARATORS = re.compile(r"[；;，,、\s]+")


class DepartmentCodesField(forms.CharField):
    """Co-handling departments typed as codes (keyboard-friendly, no script), shared by the three
    channels' batch intakes. A form that already holds the departments for its rows sets
    ``departments`` (code → department) and no query is made per row; otherwise the codes are
    looked up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.departments: dict[str, Department] | None = None
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> list[Department]:
        text = super().clean(value)
        # Repeats are kept: the service names a co-handler given twice (协办单位“…”重复).
        codes = [c for c in CODE_SEPARATORS.split(text or "") if c]
        if not codes:
            return []
        found = (self.departments if self.departments is not None
                 else {d.code: d for d in Department.objects.filter(code__in=codes)})
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise forms.ValidationError(f"未知单位代码：{'、'.join(unknown)}")
        return [found[c] for c in codes]


class DepartmentChoiceMixin(PortalForm):
    lead = forms.ModelChoiceField(label="主办单位", queryset=Department.objects.none(), required=False,
                                  empty_label="（暂不交办）")
    co = forms.ModelMultipleChoiceField(label="协办单位", queryset=Department.objects.none(), required=False,
                                        help_text="可多选；不能与主办单位相同",
                                        widget=forms.CheckboxSelectMultiple)
    deadline_amount = forms.IntegerField(label="办理时限", required=False, min_value=1, max_value=365,
                                         help_text="留空则按渠道默认时限")
    deadline_unit = forms.ChoiceField(label="时限单位", required=False,
                                      choices=[("", "（默认）"), *DeadlineUnit.choices])

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
        label="被举报单位", required=False, empty_label="（无）",
        queryset=Department.objects.filter(active=True).exclude(kind=Department.Kind.OFFICE),
        help_text="检举控告类诉求：该单位将看不到本诉求，也不能作为承办单位")

    field_order = ["channel", "ref", "received_on", "nature", "category", "requester_kind", "requester_name",
                   "requester_phone", "requester_org", "title", "content", "onsite_answer", "accused_department",
                   "lead", "co", "deadline_amount", "deadline_unit"]

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
    file = forms.FileField(label="回复函扫描件",
                           help_text="加盖公章并由主要负责人签字的回复函，PDF、JPG 或 PNG，不超过 20 MB",
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
    signer_name = forms.CharField(label="签发人", max_length=50)
    signer_title = forms.CharField(label="签发人职务", max_length=50)
    signed_on = forms.DateField(label="签发日期", widget=DATE_WIDGET)
    # No default: a preselected "已解决" was submitted by clerks clicking through, and it counts as an
    # enterprise problem solved (feedback.report).
    result = forms.ChoiceField(label="办理结果", choices=with_empty_choice(SignedReply.Result.choices),
                               error_messages={"required": "请选择办理结果。"})
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
    satisfaction = forms.ChoiceField(label="回访结果", choices=with_empty_choice(Issue.Satisfaction.choices),
                                     error_messages={"required": "请选择回访结果。"})
    comment = forms.CharField(label="回访意见", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(PortalForm):
    closed_on = forms.DateField(label="办结日期", widget=DATE_WIDGET, required=False)


class IssueFilterForm(PortalForm):
    q = forms.CharField(label="搜索", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "编号、标题、内容或诉求人"}))
    channel = forms.ChoiceField(label="渠道", required=False, choices=[("", "全部渠道"), *Channel.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *Issue.Status.choices])
    nature = forms.ChoiceField(label="性质", required=False, choices=[("", "全部性质"), *Issue.Nature.choices])
    # The lead department's accepted reply (feedback.report.lead_result_is): 已解决 is the county's
    # "enterprise problems solved".
    result = forms.ChoiceField(label="办理结果", required=False,
                               choices=[("", "全部结果"), *SignedReply.Result.choices])
    replied = forms.ChoiceField(label="书面答复", required=False,
                                choices=[("", "全部"), ("1", "已全部答复"), ("0", "尚未全部答复")])
    category = forms.ModelChoiceField(label="分类", required=False, queryset=Category.objects.all(),
                                      empty_label="全部分类")
    department = forms.ModelChoiceField(label="承办单位", required=False, empty_label="全部单位",
                                        queryset=Department.objects.exclude(kind=Department.Kind.OFFICE))
    received_from = forms.DateField(label="受理日期从", required=False, widget=DATE_WIDGET)
    received_to = forms.DateField(label="至", required=False, widget=DATE_WIDGET)
    sort = forms.ChoiceField(label="排序", required=False, choices=list(SORTS.items()))

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
    note = forms.CharField(label="审批意见", required=False, max_length=2000,
                           widget=forms.TextInput(attrs={"placeholder": "不批准时必须写明理由"}))


class ObjectionForm(PortalForm):
    reason = forms.CharField(label="异议理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="写明为什么不属于本单位职责，如相关法规或“三定”方案")
    suggested_department = forms.ModelChoiceField(label="建议改派单位", required=False, empty_label="（不建议）",
                                                  queryset=Department.objects.none())

    def __init__(self, *args: Any, exclude: Department | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = handling_departments()
        self.fields["suggested_department"].queryset = departments.exclude(pk=exclude.pk) if exclude else departments


class ObjectionAcceptForm(PortalForm):
    department = forms.ModelChoiceField(label="改派单位", queryset=Department.objects.none(),
                                        empty_label="请选择改派单位")
    clock = forms.ChoiceField(label="办理期限", choices=Objection.Clock.choices, initial=Objection.Clock.CONTINUE,
                              widget=forms.RadioSelect)
    note = forms.CharField(label="决定意见", required=False, max_length=2000,
                           widget=forms.TextInput(attrs={"placeholder": "可选"}))

    def __init__(self, *args: Any, objection: Objection | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = handling_departments()
        if objection is not None:
            departments = departments.exclude(pk=objection.assignment.department_id)
            self.fields["department"].initial = objection.suggested_department_id
        self.fields["department"].queryset = departments


class ObjectionRejectForm(PortalForm):
    note = forms.CharField(label="驳回理由", max_length=2000,
                           widget=forms.TextInput(attrs={"placeholder": "驳回时必须写明理由"}))


class LedgerUploadForm(PortalForm):
    """台账导入: the file is only read here; feedback.ledger.parse checks its content."""

    MAX_SIZE = 10 * 1024 * 1024  # a county's yearly ledger is well under 1 MB

    file = forms.FileField(label="台账文件",
                           help_text="Excel（.xlsx、.xls）或 CSV（UTF-8 或 GBK）文件，表头上方可有标题行，不超过 10 MB")

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
