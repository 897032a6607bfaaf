"""Named errors of the core. Each carries a message a clerk understands (Chinese)."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base class: the message is shown to the user as is."""

    default_message = "操作无法完成。"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class IllegalTransition(WorkflowError):
    default_message = "当前状态下不能执行此操作。"


class InvalidInput(WorkflowError):
    default_message = "填写的内容有误。"


class DuplicateReference(InvalidInput):
    default_message = "该编号已存在。"


class ConcurrentChange(WorkflowError):
    default_message = "该事项刚被其他人处理过，请刷新页面后再试。"


class NotPermitted(WorkflowError):
    default_message = "您没有执行此操作的权限。"


class BatchRejected(InvalidInput):
    """Some rows of a batch were refused and nothing of the batch was written. ``rows`` maps the
    row's index to its error (``feedback.services.batches.all_or_none``)."""

    def __init__(self, rows: dict[int, InvalidInput], what: str = "诉求") -> None:
        self.rows = rows
        super().__init__(f"有 {len(rows)} 行填写有误，本批{what}均未登记，请修改后重新提交。")
