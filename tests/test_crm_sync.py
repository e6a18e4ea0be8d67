"""CRM sync end to end against a real Tryton (tests/tryton.py) on the sample team
(assistant.demo): every lead thread one opportunity with its activities, owner and stage;
a second sync changes nothing; an opportunity marked lost in Tryton closes its thread in
``followup scan`` and cancels its follow-ups; a ``kill -9`` mid-push and a rerun leave no
duplicate; a Tryton that is down or refuses the password is reported and the rest goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.demo.pipeline import prepare
from assistant.domain.followups import PENDING
from assistant.services import crm as crm_service
from assistant.services import outcomes
from assistant.services.app import Followup
from assistant.settings import DATABASE_URL_ENV, load_settings
from tests.crm_team import sample_team
from tests.tryton import ADMIN_PASSWORD

FOLLOWUP = Path(sys.executable).with_name("followup")
SECRET_ENV = "FOLLOWUP_TEST_TRYTON_PASSWORD"


@pytest.fixture
def team(tmp_path, tryton, monkeypatch):
    """The sample team synced and planned at its own ``now``, with [crm] naming Tryton."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(SECRET_ENV, ADMIN_PASSWORD)
    return sample_team(tmp_path / "team",
                       f'[crm]\nkind = "tryton"\nurl = "{tryton.url}"\n'
                       f'database = "{tryton.database}"\nusername = "admin"\n'
                       f'password_env = "{SECRET_ENV}"\n')


def cli(info, *args):
    return CliRunner().invoke(main, ["--config", str(info.settings_path), *args])


def cli_json(info, *args) -> dict:
    result = cli(info, *args, "--json")
    return json.loads(result.stdout)


def opportunities(tryton):
    return tryton.admin().model("sale.opportunity", "search_read", [], 0, None, [["id", "ASC"]],
                                ["reference", "state", "employee", "description", "party",
                                 "contact", "write_date"])


def notes(tryton):
    return tryton.admin().model("ir.note", "search_read", [], 0, None, [["id", "ASC"]],
                                ["resource", "message", "write_date"])


def employee_emails(tryton) -> dict[int, str]:
    users = tryton.admin().model("res.user", "search_read", [("employee", "!=", None)], 0, None,
                                 None, ["email", "employee"])
    return {u["employee"]: u["email"] for u in users}


def test_every_lead_thread_becomes_one_opportunity_and_a_second_sync_changes_nothing(team, tryton):
    """Also: a Tryton that is down at first is reported, the rest goes on, and the
    outbox is written once it is back (past the backoff)."""
    app, info = team
    reports = app.threads(info.now)
    assert len(reports) >= 10
    tryton.stop()
    down = cli(info, "crm", "sync", "--now", info.now.isoformat())
    assert down.exit_code == 1 and "unreachable" in down.output
    status = cli_json(info, "crm", "status")
    assert status["pending"] > 0 and "unreachable" in status["last_error"]
    assert status["last_success_at"] is None
    assert cli(info, "scan", "--now", info.now.isoformat()).exit_code == 0  # the rest goes on
    tryton.start()
    soon = cli(info, "crm", "sync", "--now", info.now.isoformat(), "--json")  # backoff: waits
    assert json.loads(soon.stdout)["pushed"] == 0 and opportunities(tryton) == []
    later = info.now.replace(hour=23)  # past the first retry's backoff
    result = cli(info, "crm", "sync", "--now", later.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["error"] is None and first["failed"] == 0 and first["pushed"] >= len(reports)

    deals = opportunities(tryton)
    assert sorted(d["reference"] for d in deals) == sorted(r.quote_message_id for r in reports)
    emails = employee_emails(tryton)
    by_ref = {d["reference"]: d for d in deals}
    expected_state = {"open": {"lead", "opportunity"}, "won": {"converted"}, "lost": {"lost"}}
    team_emails = set(emails.values())
    for report in reports:
        deal = by_ref[report.quote_message_id]
        assert deal["description"] == report.subject
        assert deal["state"] in expected_state[crm_service.stage_of(report)], report.subject
        if report.owner in team_emails:
            assert emails[deal["employee"]] == report.owner, report.subject
    assert any(d["state"] == "opportunity" for d in deals)
    assert any(crm_service.stage_of(r) != "open" for r in reports)  # stages beyond open

    written = notes(tryton)
    keys = [n["message"].splitlines()[0] for n in written]
    assert len(keys) == len(set(keys)) >= len(reports)  # at least each quote, never twice
    kinds = Counter(n["message"].splitlines()[1].split(" · ")[0] for n in written)
    assert kinds["quote"] >= len(reports) and kinds["reply"] > 0 and kinds["followup"] > 0
    assert all(n["resource"].startswith("sale.opportunity,") for n in written)

    again = json.loads(cli(info, "crm", "sync", "--now", later.isoformat(), "--json").stdout)
    assert (again["queued"], again["pushed"], again["closed"], again["reassigned"]) == (0, 0, [], [])
    assert opportunities(tryton) == deals and notes(tryton) == written

    status = cli_json(info, "crm", "status")
    assert status["pending"] == 0 and status["deals"] == len(reports)
    assert status["last_error"] is None


def test_lost_in_tryton_closes_the_thread_and_cancels_its_followups(team, tryton):
    """Also: an owner changed in Tryton becomes the thread's explicit owner."""
    app, info = team
    assert cli(info, "crm", "sync", "--now", info.now.isoformat()).exit_code == 0
    pending = {f.quote_message_id for f in app.followups() if f.status in PENDING}
    assert pending, "the sample plans follow-ups"
    thread = sorted(pending)[0]
    deal, = [d for d in opportunities(tryton) if d["reference"] == thread]
    admin = tryton.admin()
    admin.model("sale.opportunity", "lost", [deal["id"]])  # a person, in Tryton
    emails = employee_emails(tryton)
    luis = next(e for e, mail in emails.items() if mail == "luis@aceros.example")
    other = next(d for d in opportunities(tryton)
                 if d["state"] == "opportunity" and d["employee"] != luis)
    admin.model("sale.opportunity", "write", [other["id"]], {"employee": luis})

    result = json.loads(cli(info, "crm", "sync", "--now", info.now.isoformat(), "--json").stdout)
    assert result["closed"] == [thread] and result["reassigned"] == [other["reference"]]
    moved, = [r for r in app.threads(info.now) if r.quote_message_id == other["reference"]]
    assert moved.owner == "luis@aceros.example"
    scan = json.loads(cli(info, "scan", "--json", "--now", info.now.isoformat()).stdout)
    row, = [t for t in scan["threads"] if t["quote_message_id"] == thread]
    assert row["status"] == "closed"
    left = [f for f in app.followups() if f.quote_message_id == thread]
    assert left and not [f for f in left if f.status in PENDING]
    assert {f.status for f in left} <= {"cancelled", "sent", "skipped"}
    # and the next sync pushes nothing back: Tryton's "lost" is what Followup holds now
    again = json.loads(cli(info, "crm", "sync", "--now", info.now.isoformat(), "--json").stdout)
    assert again["closed"] == [] and [d["state"] for d in opportunities(tryton)
                                      if d["reference"] == thread] == ["lost"]
    # Tryton's "lost" is a mark of the thread's history (by crm, undoable like a person's),
    # so a later action of a person (a client's call logged) keeps the thread closed.
    assert [(h.kind, h.value, h.by) for h in outcomes.history(app.engine, thread)] == [
        ("mark", "lost", crm_service.BY)]
    answered = cli(info, "reply", thread, "--channel", "phone", "--now", info.now.isoformat())
    assert answered.exit_code == 0, answered.output
    row, = [r for r in app.threads(info.now) if r.quote_message_id == thread]
    assert row.status == "closed"


def test_kill_9_mid_push_then_a_rerun_leaves_no_duplicate(team, tryton):
    app, info = team
    env = {**os.environ, SECRET_ENV: ADMIN_PASSWORD}
    command = [str(FOLLOWUP), "--config", str(info.settings_path), "crm", "sync",
               "--now", info.now.isoformat()]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(opportunities(tryton)) >= 3:  # mid-push: some deals written, not all
            break
        time.sleep(0.05)
    assert process.poll() is None, "the sync ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    reports = app.threads(info.now)
    assert len(opportunities(tryton)) < len(reports)

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    references = [d["reference"] for d in opportunities(tryton)]
    assert sorted(references) == sorted(r.quote_message_id for r in reports)  # one each
    keys = [n["message"].splitlines()[0] for n in notes(tryton)]
    assert len(keys) == len(set(keys))
    status = cli_json(info, "crm", "status")
    assert status["pending"] == 0


def test_a_refused_password_says_re_authenticate(team, tryton, monkeypatch):
    app, info = team
    monkeypatch.setenv(SECRET_ENV, "not-the-password")
    result = cli(info, "crm", "test")
    assert result.exit_code == 1 and "re-authenticate" in result.output.lower()
    assert "not-the-password" not in result.output
    synced = cli(info, "crm", "sync", "--now", info.now.isoformat())
    assert synced.exit_code == 1 and "Vuelve a autenticarte" in synced.output  # team.language
    status = cli(info, "crm", "status")
    assert "re-authenticate" in status.output.lower() and "not-the-password" not in status.output
    monkeypatch.setenv(SECRET_ENV, ADMIN_PASSWORD)
    assert "Conectado a tryton: admin" in cli(info, "crm", "test").output


def test_the_scheduler_syncs_the_crm_after_the_mail_and_a_crm_that_is_down_fails_nothing(
        tmp_path, monkeypatch, caplog):
    from assistant.scheduler import CRM_LEASE, Runner
    from tests.tryton import free_port

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(SECRET_ENV, "secret")
    dest, info = prepare(tmp_path / "team")
    with open(info.settings_path, "a", encoding="utf-8") as f:  # nothing listens there
        f.write(f'\n[crm]\nkind = "tryton"\nurl = "http://127.0.0.1:{free_port()}"\n'
                f'database = "acme"\nusername = "followup"\npassword_env = "{SECRET_ENV}"\n')
    settings = load_settings(info.settings_path)
    app = Followup.open(settings, clock=lambda: info.now)
    runner = Runner(settings, app.engine, clock=lambda: info.now)
    runner.sync_job(info.now, None)  # the mail sync job, as `followup run` runs it
    assert app.threads(info.now), "the mail sync ran"
    status = crm_service.status(app.engine)
    assert status.last_sync_at == info.now.isoformat() and "unreachable" in status.last_error
    assert status.pending > 0 and status.retry_at is not None
    assert runner.leases.holders()[CRM_LEASE] is None  # released
    assert "crm sync" in caplog.text and "secret" not in caplog.text
