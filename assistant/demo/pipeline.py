"""The demo pipeline (``followup demo``): a sample team written from scratch, synced,
scanned, planned, digested, and given web passwords -- the whole product on bundled mail.

It returns what each stage produced; the CLI prints it (:mod:`assistant.cli.demo`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from assistant.demo.sample import SampleInfo, generate_sample
from assistant.domain.model import ThreadReport
from assistant.services.app import Followup
from assistant.settings import DATABASE_URL_ENV, Settings, load_settings

__all__ = ["DEMO_MARKER", "DEMO_PASSWORD", "DemoRun", "FolderInUse", "demo_passwords",
           "foreign_entries", "prepare", "run"]

DEMO_MARKER = ".followup-demo"
"""The file a demo writes into its folder: a folder holding only this and the demo's own
output (:func:`_demo_made`) may be written over by the next demo."""

DEMO_PASSWORD = "demo"
"""The password ``followup demo`` gives every member of the sample team."""


@dataclass
class DemoRun:
    """What each stage of the demo produced."""

    folder: Path
    info: SampleInfo
    app: Followup
    synced: list
    """Each account's sync result (``assistant.services.ingest.AccountResult``)."""
    reports: list[ThreadReport]
    planned: object
    """The planner's result: ``created`` and ``held`` follow-up ids."""
    followups: list
    """Every follow-up after planning (stored rows)."""
    digests: list[tuple[str, Path]]
    """(manager's name, the HTML file written) for each digest."""
    passwords: list[str]
    """The team members given :data:`DEMO_PASSWORD`."""

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def drafts_folder(self, account: str = "<account>") -> Path:
        """Where email drafts land: each rep's Maildir ``.Drafts`` folder (``account``:
        the name shown for the account's folder)."""
        return self.folder / "mail" / account / ".Drafts"


class FolderInUse(Exception):
    """The demo's folder holds things the demo did not create (``entries``, sorted)."""

    def __init__(self, folder: Path, entries: list[str]) -> None:
        super().__init__(f"{folder} holds {', '.join(entries)}")
        self.folder, self.entries = folder, entries


def _demo_made(name: str) -> bool:
    """What a demo writes at the top of its folder."""
    return (name in (DEMO_MARKER, "settings.toml", "mail") or name.startswith("followup.db")
            or (name.startswith("digest-") and name.endswith(".html")))


def foreign_entries(folder: Path) -> list[str]:
    """What in ``folder`` a demo did not create: everything, unless the folder carries
    :data:`DEMO_MARKER`; then whatever a demo never writes. Empty for a missing or empty
    folder (a demo may write there)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [folder.name]
    names = sorted(p.name for p in folder.iterdir())
    if DEMO_MARKER in names:
        return [n for n in names if not _demo_made(n)]
    return names


def prepare(folder: str | Path, *, force: bool = False) -> tuple[Path, SampleInfo]:
    """Write the sample team into ``folder`` from scratch: fresh mailboxes and an empty
    database (a demo starts over each time). A folder that holds anything a demo did not
    create is left alone (:class:`FolderInUse`) unless ``force``."""
    dest = Path(folder).resolve()
    foreign = foreign_entries(dest)
    if foreign and not force:
        raise FolderInUse(dest, foreign)
    for leftover in dest.glob("followup.db*"):
        leftover.unlink()
    info = generate_sample(dest, overwrite=True)
    (dest / DEMO_MARKER).write_text(
        "Written by `followup demo`: the next demo may overwrite this folder.\n", encoding="utf-8")
    return dest, info


def run(dest: Path, info: SampleInfo) -> DemoRun:
    """Sync, scan, plan, digest and set passwords on the team :func:`prepare` wrote, at the
    sample's own ``now``. The demo's database is the one its settings name (never
    ``$FOLLOWUP_DATABASE_URL``, which points at a real one)."""
    from assistant.services import digest as digests
    from assistant.services.planning import plan
    from assistant.services.review import list_followups
    from assistant.services.sync import sync

    environ = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    settings = load_settings(info.settings_path, environ=environ)
    app = Followup.open(settings, clock=lambda: info.now)
    synced = sync(settings, app.engine, now=info.now)
    reports = app.threads(info.now)
    planned = plan(settings, app.engine, info.now)
    rows = list_followups(app.engine)
    written = []
    for item in digests.build_digests(settings, app.engine, info.now):
        path = dest / f"digest-{item.recipient.email.split('@')[0]}.html"
        path.write_text(item.html, encoding="utf-8")
        written.append((item.recipient.name, path))
    passwords = demo_passwords(settings, app.engine)
    return DemoRun(dest, info, app, synced, reports, planned, rows, written, passwords)


def demo_passwords(settings: Settings, engine, now: datetime | None = None) -> list[str]:
    """Give every sample team member the demo password; return their addresses."""
    from assistant.web import users as web_users  # imports Flask: only when asked

    now = now or datetime.now(timezone.utc)
    return [web_users.set_password(settings, engine, m.email, DEMO_PASSWORD, now)
            for m in settings.team.members]
