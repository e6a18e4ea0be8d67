"""The sample team (assistant.demo) synced and planned at its own ``now``, with a ``[crm]``
section: what the CRM sync tests start from (Tryton's and Odoo's alike)."""

from __future__ import annotations

from pathlib import Path

from assistant.demo.pipeline import prepare
from assistant.services.app import Followup
from assistant.services.planning import plan
from assistant.services.sync import sync
from assistant.settings import load_settings


def sample_team(folder: Path, crm_section: str):
    """``(app, info)`` for a fresh sample team whose settings end with ``crm_section``."""
    _, info = prepare(folder)
    with open(info.settings_path, "a", encoding="utf-8") as f:
        f.write("\n" + crm_section)
    settings = load_settings(info.settings_path)
    app = Followup.open(settings, clock=lambda: info.now)
    sync(settings, app.engine, now=info.now)
    plan(settings, app.engine, info.now)
    return app, info
