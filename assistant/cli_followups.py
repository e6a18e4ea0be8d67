"""Transitional facade: these commands live in :mod:`assistant.cli.followups` and
:mod:`assistant.cli.templates`; removed after the merge of the issue-12 branches."""

from assistant.cli.followups import (  # noqa: F401
    CHANNEL_LABEL, drafts, drafts_approve, drafts_edit, drafts_list, drafts_plan, drafts_show,
    drafts_skip, print_followups, show_one, touch,
)
from assistant.cli.templates import (  # noqa: F401
    templates, templates_list, templates_preview, templates_save, templates_validate,
)

__all__ = ["CHANNEL_LABEL", "drafts", "drafts_approve", "drafts_edit", "drafts_list",
           "drafts_plan", "drafts_show", "drafts_skip", "print_followups", "show_one", "touch",
           "templates", "templates_list", "templates_preview", "templates_save",
           "templates_validate"]
