"""The only write path of the core.

Every state change is a verb-first function here, called alike by HTML views, API
views, tasks, admin actions and commands. Each takes keyword-only arguments, runs in
one transaction, locks the rows it changes, and records history via ``states.move``.
"""

from __future__ import annotations

from feedback.services.assignments import ACCUSATION_NATURES, acknowledge_assignment, assign_issue, policy_for
from feedback.services.bulletins import draft_bulletin, draft_month_end_bulletins, publish_bulletin
from feedback.services.calendar import (
    LoadResult,
    delete_county_day,
    load_year,
    recompute_deadlines,
    save_county_day,
    warn_missing_calendar,
)
from feedback.services.closing import close_issue, record_follow_up, record_follow_up_skipped, reopen_issue
from feedback.services.corrections import IssueCorrection, edit_issue
from feedback.services.departments import DepartmentHasOpenWork, reactivate_department, retire_department
from feedback.services.export_jobs import (
    EXPORT_CATCH_UP_AFTER,
    EXPORT_CHUNK,
    EXPORT_MAX_ROWS,
    EXPORT_STALE_AFTER,
    EXPORT_SYNC_LIMIT,
    request_export,
    run_export,
    run_queued_exports,
)
from feedback.services.extensions import decide_extension, extension_limit, request_extension
from feedback.services.intake import (
    REF_PREFIX,
    RequesterData,
    find_or_create_requester,
    next_reference,
    register_and_assign_issue,
    register_issue,
)
from feedback.services.ladder import (
    LADDER_SPAN,
    SHANGHAI,
    STEP_LABELS,
    announce_due_steps,
    announce_steps,
    claim_steps,
    due_steps_sql,
    schedule_steps,
    settle_passed_steps,
    step_moment,
    take_due_steps,
)
from feedback.services.ledger_import import (
    LEDGER_BATCH,
    LEDGER_COLUMN_OF_FIELD,
    LedgerImport,
    import_ledger,
    import_ledger_file,
    import_ledger_issue,
)
from feedback.services.merging import (
    DuplicateChoice,
    merge_issue,
    pass_on_answer,
    register_and_merge_issue,
    register_at_intake,
    split_issue,
)
from feedback.services.objections import (
    OBJECTION_WINDOW_WORKING_DAYS,
    accept_objection,
    objection_last_day,
    objection_refusal,
    objection_window_start,
    raise_objection,
    reject_objection,
)
from feedback.services.replies import accept_reply, return_reply, submit_reply
from feedback.services.topics import flag_rising_topics

__all__ = [
    "ACCUSATION_NATURES",
    "EXPORT_CATCH_UP_AFTER",
    "EXPORT_CHUNK",
    "EXPORT_MAX_ROWS",
    "EXPORT_STALE_AFTER",
    "EXPORT_SYNC_LIMIT",
    "LADDER_SPAN",
    "LEDGER_BATCH",
    "LEDGER_COLUMN_OF_FIELD",
    "OBJECTION_WINDOW_WORKING_DAYS",
    "REF_PREFIX",
    "SHANGHAI",
    "STEP_LABELS",
    "DepartmentHasOpenWork",
    "DuplicateChoice",
    "IssueCorrection",
    "LedgerImport",
    "LoadResult",
    "RequesterData",
    "accept_objection",
    "accept_reply",
    "acknowledge_assignment",
    "announce_due_steps",
    "announce_steps",
    "assign_issue",
    "claim_steps",
    "close_issue",
    "decide_extension",
    "delete_county_day",
    "draft_bulletin",
    "draft_month_end_bulletins",
    "due_steps_sql",
    "edit_issue",
    "extension_limit",
    "find_or_create_requester",
    "flag_rising_topics",
    "import_ledger",
    "import_ledger_file",
    "import_ledger_issue",
    "load_year",
    "merge_issue",
    "next_reference",
    "objection_last_day",
    "objection_refusal",
    "objection_window_start",
    "pass_on_answer",
    "policy_for",
    "publish_bulletin",
    "raise_objection",
    "reactivate_department",
    "recompute_deadlines",
    "record_follow_up",
    "record_follow_up_skipped",
    "register_and_assign_issue",
    "register_and_merge_issue",
    "register_at_intake",
    "register_issue",
    "reject_objection",
    "reopen_issue",
    "request_export",
    "request_extension",
    "retire_department",
    "return_reply",
    "run_export",
    "run_queued_exports",
    "save_county_day",
    "schedule_steps",
    "settle_passed_steps",
    "split_issue",
    "step_moment",
    "submit_reply",
    "take_due_steps",
    "warn_missing_calendar",
]
