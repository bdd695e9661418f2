"""Identifiers the views put on interactive elements; handlers register listeners for the same names."""

from __future__ import annotations

ACTION_PAUSE = "job_pause"
ACTION_RESUME = "job_resume"
ACTION_CANCEL = "job_cancel"
ACTION_REFRESH = "job_refresh"
ACTION_NEXT_PAGE = "jobs_next_page"

JOB_BUTTON_ACTIONS = (ACTION_PAUSE, ACTION_RESUME, ACTION_CANCEL, ACTION_REFRESH)
# What each job button asks for, in the words the permission policy and the audit log use.
BUTTON_VERBS: dict[str, str] = {
    ACTION_PAUSE: "pause",
    ACTION_RESUME: "resume",
    ACTION_CANCEL: "cancel",
    ACTION_REFRESH: "refresh",
}

CREATE_CALLBACK_ID = "create_job"
