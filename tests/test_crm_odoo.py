"""CRM sync against the loopback Odoo fake (tests/fakes/odoo.py) on the sample team, over
the JSON-2 API (Odoo 19+) and over XML-RPC (``api = "xmlrpc"``, Odoo 18 and older): one
lead per lead thread with its notes and owners, a second sync changes nothing, a lead
marked lost in Odoo closes its thread and cancels its follow-ups, a 429 waits out its
Retry-After, and an expired key says "re-authenticate" while the rest goes on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.domain.followups import PENDING
from connectors.crm import AuthExpired, Deal, Rejected, Unavailable
from connectors.crm.odoo import OdooCRM
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


@pytest.fixture(params=["json2", "xmlrpc"])
def api(request):
    return request.param


@pytest.fixture
def team(tmp_path, odoo, monkeypatch, api):
    xmlrpc = 'api = "xmlrpc"\nusername = "followup"\n' if api == "xmlrpc" else ""
    return team_with_secret(tmp_path / "team", monkeypatch, KEY_ENV, KEY,
                            f'[crm]\nkind = "odoo"\nurl = "{odoo.url}"\n'
                            f'database = "acme"\napi_key_env = "{KEY_ENV}"\n{xmlrpc}')


crm = crm_cli


def test_one_lead_per_thread_a_second_sync_changes_nothing_and_lost_closes(team, odoo, api):
    app, info = team
    reports = app.threads(info.now)
    code, first = crm(info, "sync")
    assert code == 0 and first["error"] is None and first["failed"] == 0
    assert odoo.apis == {api}
    signed_in = CliRunner().invoke(main, ["--config", str(info.settings_path), "crm", "test"])
    assert signed_in.exit_code == 0 and ("over XML-RPC" if api == "xmlrpc" else
                                         "API key accepted on acme") in signed_in.stdout
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


@pytest.mark.parametrize("api", ["json2"])
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


def test_xml_rpc_maps_faults_into_the_error_tree_and_never_shows_the_key(odoo):
    crm = OdooCRM(odoo.url, "acme", KEY, api="xmlrpc", login="followup", timeout=5)
    assert crm.check() == f"followup (user {odoo.bot}) on acme over XML-RPC (0 leads)"
    deal = crm.upsert_deal(Deal("<q1@aceros.example>", "Cotización 1"))
    assert crm.upsert_deal(Deal("<q1@aceros.example>", "Cotización 1")) == deal
    assert [l["x_followup_key"] for l in odoo.models["crm.lead"].values()] == ["<q1@aceros.example>"]
    odoo.api_key = "rotated"  # revoked after the sign-in: execute_kw answers Access Denied
    with pytest.raises(AuthExpired, match="re-authenticate") as denied:
        crm.check()
    odoo.api_key = KEY
    with pytest.raises(Rejected, match="fault 2.*does not exist") as rejected:
        crm.set_owner("999", "ana@aceros.example")  # a lead someone deleted in Odoo
    with pytest.raises(AuthExpired, match="re-authenticate"):  # authenticate answers False
        OdooCRM(odoo.url, "acme", "wrong", api="xmlrpc", login="followup").check()
    odoo.outage = 502
    with pytest.raises(Unavailable, match="HTTP 502"):
        crm.check()
    odoo.outage = None
    with pytest.raises(Unavailable, match="unreachable") as unreachable:
        OdooCRM("http://127.0.0.1:9", "acme", KEY, api="xmlrpc", login="followup",
                timeout=2).check()
    assert all(KEY not in str(e.value) for e in (denied, rejected, unreachable))
