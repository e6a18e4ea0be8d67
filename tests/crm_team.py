"""The sample team (assistant.demo) synced and planned at its own ``now``, with a ``[crm]``
section: what the CRM sync tests start from (Tryton's, Odoo's and HubSpot's alike), and
the steps their checks share."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import main
from assistant.demo.pipeline import prepare
from assistant.domain.followups import PENDING
from assistant.services.app import Followup
from assistant.services.planning import plan
from assistant.services.sync import sync
from assistant.settings import DATABASE_URL_ENV, load_settings


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


REPS = (("ana@aceros.example", "Ana Pérez"), ("luis@aceros.example", "Luis Herrera"),
        ("marta@aceros.example", "Marta Garza"))
"""The sample team's reps (email, name): the CRM users a fake CRM is given."""


def team_with_secret(folder: Path, monkeypatch, variable: str, secret: str, crm_section: str):
    """:func:`sample_team` on SQLite with the CRM's secret in ``variable``."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(variable, secret)
    return sample_team(folder, crm_section)


def assert_closed_lost_by_the_crm(app, info, quote_message_id: str) -> None:
    """The thread is closed as lost in ``followup scan --json`` and has no pending follow-up."""
    scan = CliRunner().invoke(main, ["--config", str(info.settings_path), "scan", "--now",
                                     info.now.isoformat(), "--json"])
    assert scan.exit_code == 0
    thread, = [t for t in json.loads(scan.stdout)["threads"]
               if t["quote_message_id"] == quote_message_id]
    assert thread["status"] == "closed" and thread["next_step"] is None
    report, = [r for r in app.threads(info.now) if r.quote_message_id == quote_message_id]
    assert report.closed_code == "marked" and report.closed_value == "lost"
    assert not [f for f in app.followups()
                if f.quote_message_id == quote_message_id and f.status in PENDING]


def crm_cli(info, *args: str, now=None) -> tuple[int, dict]:
    """``followup crm <args> --json`` on the team (``sync`` at ``now``, default its own):
    the exit code and the JSON it printed."""
    extra = ["--now", (now or info.now).isoformat()] if args[0] == "sync" else []
    result = CliRunner().invoke(main, ["--config", str(info.settings_path), "crm", *args, *extra,
                                       "--json"])
    return result.exit_code, json.loads(result.stdout)


def kill_mid_sync_and_rerun(info, env: dict[str, str], made: Callable[[], int], threads: int,
                            after_kill: Callable[[], None]) -> None:
    """``followup crm sync`` in its own process, ``kill -9`` once the CRM holds 3 deals
    (``made()``), then ``after_kill()`` and the same command again, to its end."""
    command = [str(Path(sys.executable).with_name("followup")), "--config", str(info.settings_path),
               "crm", "sync", "--now", info.now.isoformat()]
    env = {**os.environ, **env}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None and made() < 3:
        time.sleep(0.01)
    assert process.poll() is None, "the sync ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < made() < threads
    after_kill()
    assert subprocess.run(command, env=env, capture_output=True, timeout=300).returncode == 0
