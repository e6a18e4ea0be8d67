"""CRM sync against the loopback Odoo 19 JSON-2 fake (tests/fakes/odoo.py) on the sample
team: one lead per lead thread with its notes and owners, a second sync changes nothing, a
lead marked lost in Odoo closes its thread and cancels its follow-ups, a 429 waits out its
Retry-After, and an expired key says "re-authenticate" while the rest goes on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.domain.followups import PENDING
from tests.crm_team import REPS, assert_closed_lost_by_the_crm, crm_cli, kill_mid_sync_and_rerun, team_with_secret
from tests.fakes.odoo import FakeOdoo

KEY_ENV = "FOLLOWUP_TEST_ODOO_KEY"
KEY = "6578616d706c65206a736f6e20617069206b6579"


@pytest.fixture
def odoo():
    fake = FakeOdoo(KEY)
    for login, name in REPS:
        fake.add_user(login, name)
    yield fake
    fake.stop()


@pytest.fixture
def team(tmp_path, odoo, monkeypatch):
    return team_with_secret(tmp_path / "team", monkeypatch, KEY_ENV, KEY,
                            f'[crm]\nkind = "odoo"\nurl = "{odoo.url}"\n'
                            f'database = "acme"\napi_key_env = "{KEY_ENV}"\n')


crm = crm_cli


def test_one_lead_per_thread_a_second_sync_changes_nothing_and_lost_closes(team, odoo):
    app, info = team
    reports = app.threads(info.now)
    code, first = crm(info, "sync")
    assert code == 0 and first["error"] is None and first["failed"] == 0
    leads = odoo.models["crm.lead"]
    assert sorted(l["x_followup_key"] for l in leads.values()) == sorted(
        r.quote_message_id for r in reports)
    users = {u["id"]: u["login"] for u in odoo.models["res.users"].values()}
    owned = {r.quote_message_id: r.owner for r in reports if r.owner in users.values()}
    assert owned and all(users[l["user_id"]] == owned[l["x_followup_key"]]
                         for l in leads.values() if l["x_followup_key"] in owned)
    notes = list(odoo.models["mail.message"].values())
    tags = [n["body"].splitlines()[0] for n in notes]
    assert len(tags) == len(set(tags)) >= len(reports)
    assert {n["subtype_xmlid"] for n in notes} == {"mail.mt_note"}
    companies = [p for p in odoo.models["res.partner"].values() if p.get("is_company")]
    people = [p for p in odoo.models["res.partner"].values() if not p.get("is_company")]
    assert companies and all(p.get("parent_id") for p in people)

    snapshot = json.dumps(odoo.models, sort_keys=True)
    code, again = crm(info, "sync")
    assert (code, again["queued"], again["pushed"], again["closed"]) == (0, 0, 0, [])
    assert json.dumps(odoo.models, sort_keys=True) == snapshot

    pending = sorted({f.quote_message_id for f in app.followups() if f.status in PENDING})
    assert pending
    lead = next(l for l in leads.values() if l["x_followup_key"] == pending[0])
    odoo.call("crm.lead", "action_set_lost", {"ids": [lead["id"]]})  # a person, in Odoo
    code, pulled = crm(info, "sync")
    assert pulled["closed"] == [pending[0]]
    assert_closed_lost_by_the_crm(app, info, pending[0])


def test_a_429_waits_for_retry_after_and_an_expired_key_says_re_authenticate(team, odoo):
    app, info = team
    odoo.throttle = (1, 120)
    code, throttled = crm(info, "sync")
    assert code == 1 and "429" in throttled["error"]
    assert throttled["waiting_until"] == (info.now + timedelta(seconds=120)).isoformat()
    code, waiting = crm(info, "sync", now=info.now + timedelta(seconds=60))
    assert waiting["pushed"] == 0 and not odoo.models["crm.lead"]  # within Retry-After
    odoo.api_key = "rotated"  # the key expired (Preferences > Account Security)
    code, refused = crm(info, "sync", now=info.now + timedelta(seconds=121))
    assert code == 1 and refused["reauthenticate"] and "re-authenticate" in refused["error"]
    status = crm(info, "status")[1]
    assert status["reauthenticate"] and status["pending"] > 0 and KEY not in json.dumps(status)
    assert CliRunner().invoke(main, ["--config", str(info.settings_path), "scan", "--now",
                                     info.now.isoformat()]).exit_code == 0  # the rest goes on
    odoo.api_key = KEY
    later = info.now + timedelta(hours=1)
    code, done = crm(info, "sync", now=later)
    assert code == 0 and done["error"] is None
    assert len(odoo.models["crm.lead"]) == len(app.threads(info.now))
    assert crm(info, "status")[1]["reauthenticate"] is False


def test_kill_9_mid_push_then_a_rerun_leaves_no_duplicate(team, odoo):
    app, info = team
    odoo.delay = 0.02
    reports = app.threads(info.now)
    kill_mid_sync_and_rerun(info, {KEY_ENV: KEY}, lambda: len(odoo.models["crm.lead"]), len(reports),
                            lambda: setattr(odoo, "delay", 0))
    keys = [l["x_followup_key"] for l in odoo.models["crm.lead"].values()]
    assert sorted(keys) == sorted(r.quote_message_id for r in reports)
    tags = [n["body"].splitlines()[0] for n in odoo.models["mail.message"].values()]
    assert len(tags) == len(set(tags))
