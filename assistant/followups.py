"""Transitional facade (issue 12): follow-ups moved to :mod:`assistant.services.templates`,
:mod:`assistant.services.planning`, :mod:`assistant.services.reconcile` and
:mod:`assistant.services.review`. The same public names are re-exported here until the
other branches' callers move; new code imports the services (or calls the app object)."""

from __future__ import annotations

from assistant.services.planning import (  # noqa: F401
    DRAFT_CLAIM_TIMEOUT, PlanResult, draft_bytes, load_world, plan, thread_context,
)
from assistant.services.reconcile import reconcile, reconcile_changed, reconcile_if_pending  # noqa: F401
from assistant.services.review import (  # noqa: F401
    Approval, FollowupError, approve, as_json, edit_text, find_thread, get, list_followups,
    preview_context, save_edit, skip, touch,
)
from assistant.services.templates import (  # noqa: F401
    save_template, template_history, template_sources, validate_templates,
)



def _load_world(settings, engine, now):
    """Every thread's world, messages read as asked for (the web's template preview still
    calls this private name; it goes with the facade)."""
    return load_world(settings, engine, now, preload=False)


__all__ = [
    "DRAFT_CLAIM_TIMEOUT", "PlanResult", "plan", "thread_context", "load_world", "draft_bytes",
    "reconcile", "reconcile_if_pending", "reconcile_changed",
    "Approval", "FollowupError", "approve", "as_json", "edit_text", "find_thread", "get",
    "list_followups", "preview_context", "save_edit", "skip", "touch",
    "save_template", "template_history", "template_sources", "validate_templates",
]
