"""CRM sync against the loopback HubSpot fake (tests/fakes/hubspot.py) through HubSpot's own
client (``hubspot-api-client``) on the sample team: one deal per lead thread with its notes,
owners, stages and associations; a second sync changes nothing; a deal moved to closed lost
in HubSpot closes its thread and cancels its follow-ups; a kill -9 mid-sync then a rerun
leaves no duplicate; a 429 is waited out (in place when short, by the outbox when long);
a 5xx or no answer is "unavailable"; an expired or rotated token says "re-authenticate"
while the rest goes on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.domain.followups import PENDING
from tests.crm_team import REPS, assert_closed_lost_by_the_crm, crm_cli, kill_mid_sync_and_rerun, team_with_secret
from assistant.services.crm import open_crm
from assistant.settings import load_settings
from connectors.crm import Activity, Deal, Throttled, Unavailable
from connectors.crm.hubspot import HubSpotCRM
from tests.fakes.hubspot import FakeHubSpot

TOKEN_ENV = "FOLLOWUP_TEST_HUBSPOT_TOKEN"
TOKEN = "pat-na1-0f3c2d1e-5b6a-4c7d-8e9f-a0b1c2d3e4f5"


@pytest.fixture
def hubspot():
    fake = FakeHubSpot(TOKEN, owners=REPS)
    yield fake
    fake.stop()


@pytest.fixture
def team(tmp_path, hubspot, monkeypatch):
    return team_with_secret(tmp_path / "team", monkeypatch, TOKEN_ENV, TOKEN,
                            f'[crm]\nkind = "hubspot"\nurl = "{hubspot.url}"\napi_key_env = "{TOKEN_ENV}"\n')


crm = crm_cli


def _keys(hubspot) -> list[str]:
    """The followup_key of every deal in the fake, sorted (duplicates kept)."""
    return sorted(d["properties"]["followup_key"] for d in hubspot.objects["deals"].values())


def _tags(hubspot) -> list[str]:
    return [n["properties"]["hs_note_body"].split("</p>", 1)[0] for n in hubspot.objects["notes"].values()]


def test_one_deal_per_thread_a_second_sync_changes_nothing_and_closed_lost_closes(team, hubspot):
    app, info = team
    checked = CliRunner().invoke(main, ["--config", str(info.settings_path), "crm", "test"])
    assert checked.exit_code == 0 and "Conectado a hubspot: access token accepted" in checked.stdout
    assert "3 owners" in checked.stdout
    reports = app.threads(info.now)
    code, first = crm(info, "sync")
    assert code == 0 and first["error"] is None and first["failed"] == 0
    deals = hubspot.objects["deals"]
    assert _keys(hubspot) == sorted(r.quote_message_id for r in reports)
    assert {d["properties"]["pipeline"] for d in deals.values()} == {"default"}
    by_key = {d["properties"]["followup_key"]: d for d in deals.values()}
    for report in reports:
        deal = by_key[report.quote_message_id]
        assert deal["properties"]["dealname"] == (report.subject or report.quote_message_id)
        wanted = {"won": "closedwon", "lost": "closedlost"}.get(
            "lost" if report.closed_code == "declined" else report.closed_value or "", "appointmentscheduled")
        assert deal["properties"]["dealstage"] == wanted
        # deal <-> contact <-> company, made with the records (associations v4 type ids)
        contacts = hubspot.associated("deals", deal["id"], "contacts")
        companies = hubspot.associated("deals", deal["id"], "companies")
        assert len(contacts) == 1 and len(companies) == 1
        contact = hubspot.objects["contacts"][contacts.pop()]
        assert contact["properties"]["email"] == report.contact.lower()
        assert hubspot.associated("contacts", contact["id"], "companies") == companies
        notes = hubspot.associated("deals", deal["id"], "notes")
        assert notes and all(hubspot.objects["notes"][n]["properties"]["hs_timestamp"] for n in notes)
    owners = {o["id"]: o["email"] for o in hubspot.owners.values()}
    owned = {r.quote_message_id: r.owner for r in reports if r.owner in owners.values()}
    assert owned and all(owners[by_key[k]["properties"]["hubspot_owner_id"]] == owner
                         for k, owner in owned.items())
    tags = _tags(hubspot)
    assert len(tags) == len(set(tags)) >= len(reports)
    assert all(t.startswith("<p>[followup activity:") for t in tags)
    assert len(hubspot.objects["companies"]) == len({r.contact.split("@")[1] for r in reports})

    snapshot = json.dumps([hubspot.objects, sorted(hubspot.associations)], sort_keys=True)
    code, again = crm(info, "sync")
    assert (code, again["queued"], again["pushed"], again["closed"]) == (0, 0, 0, [])
    assert json.dumps([hubspot.objects, sorted(hubspot.associations)], sort_keys=True) == snapshot
    assert crm(info, "status")[1]["pending"] == 0

    pending = sorted({f.quote_message_id for f in app.followups() if f.status in PENDING})
    assert pending
    deal = by_key[pending[0]]
    hubspot.update("deals", deal["id"], {"dealstage": "closedlost"})  # a person, in HubSpot
    code, pulled = crm(info, "sync")
    assert pulled["closed"] == [pending[0]]
    assert_closed_lost_by_the_crm(app, info, pending[0])

    # a new owner set in HubSpot is an explicit owner here
    other = next(r for r in reports if r.quote_message_id not in pending[:1] and r.status != "closed")
    new_owner = next(oid for oid, email in owners.items() if email != other.owner)
    hubspot.update("deals", by_key[other.quote_message_id]["id"], {"hubspot_owner_id": new_owner})
    code, moved = crm(info, "sync")
    assert moved["reassigned"] == [other.quote_message_id]
    report, = [r for r in app.threads(info.now) if r.quote_message_id == other.quote_message_id]
    assert report.owner == owners[new_owner]


def test_a_429_burst_waits_for_retry_after_and_an_expired_token_says_re_authenticate(team, hubspot):
    app, info = team
    # a wait longer than the connector waits in place (the daily limit): the outbox waits
    hubspot.burst, hubspot.retry_after = 12, 120
    code, throttled = crm(info, "sync")
    assert code == 1 and "429" in throttled["error"] and hubspot.refused == 1
    assert throttled["waiting_until"] == (info.now + timedelta(seconds=120)).isoformat()
    made = len(hubspot.objects["deals"])
    assert 0 < made < len(app.threads(info.now))
    hubspot.new_window()
    code, waiting = crm(info, "sync", now=info.now + timedelta(seconds=60))
    assert waiting["pushed"] == 0 and len(hubspot.objects["deals"]) == made  # within Retry-After
    assert hubspot.window_used == 0  # not one call to HubSpot while told to wait
    hubspot.burst = None
    hubspot.expired = True  # the token expired (an OAuth app's access token)
    code, refused = crm(info, "sync", now=info.now + timedelta(seconds=121))
    assert code == 1 and refused["reauthenticate"] and "re-authenticate" in refused["error"]
    assert "expired" in refused["error"]
    checked = CliRunner().invoke(main, ["--config", str(info.settings_path), "crm", "test"])
    assert checked.exit_code == 1 and "re-authenticate" in checked.output
    assert TOKEN_ENV in checked.output and TOKEN not in checked.output
    status = crm(info, "status")[1]
    assert status["reauthenticate"] and status["pending"] > 0 and TOKEN not in json.dumps(status)
    assert CliRunner().invoke(main, ["--config", str(info.settings_path), "scan", "--now",
                                     info.now.isoformat()]).exit_code == 0  # the rest goes on
    hubspot.expired = False
    hubspot.token = "pat-na1-rotated"  # a rotated private app token: the old one is refused
    code, rotated = crm(info, "sync", now=info.now + timedelta(minutes=30))
    assert code == 1 and rotated["reauthenticate"] and "INVALID_AUTHENTICATION" in rotated["error"]
    hubspot.token = TOKEN
    later = info.now + timedelta(hours=1)
    code, done = crm(info, "sync", now=later)
    assert code == 0 and done["error"] is None
    assert _keys(hubspot) == sorted(r.quote_message_id for r in app.threads(info.now))
    assert len(_tags(hubspot)) == len(set(_tags(hubspot)))
    assert crm(info, "status")[1]["reauthenticate"] is False


def test_a_short_429_is_waited_out_in_place_and_a_5xx_is_unavailable(team, hubspot):
    app, info = team
    hubspot.throttle_next, hubspot.retry_after = 2, 0  # the burst window ends at once
    code, done = crm(info, "sync")
    assert code == 0 and done["error"] is None and hubspot.refused == 2
    assert _keys(hubspot) == sorted(r.quote_message_id for r in app.threads(info.now))

    connector = HubSpotCRM(hubspot.url, TOKEN, max_wait=1)
    hubspot.throttle_next, hubspot.retry_after = 1, None  # no Retry-After: the window's length
    with pytest.raises(Throttled) as throttled:
        connector.check()
    assert throttled.value.retry_after == 10.0
    hubspot.outage = 503
    with pytest.raises(Unavailable, match="HTTP 503"):
        connector.check()
    code, down = crm(info, "sync", now=info.now + timedelta(hours=1))
    assert code == 1 and "503" in down["error"] and down["reauthenticate"] is False
    hubspot.outage = None
    with pytest.raises(Unavailable, match="unreachable") as unreachable:
        HubSpotCRM("http://127.0.0.1:9", TOKEN, timeout=2).check()
    assert TOKEN not in str(unreachable.value)
    assert "access token accepted" in connector.check()


def test_pipeline_and_stages_come_from_the_settings(team, hubspot):
    app, info = team
    with open(info.settings_path, "a", encoding="utf-8") as f:  # [crm] is the file's last table
        f.write('pipeline = "ventas"\n\n[crm.stages]\nopen = "nuevo"\nlost = "perdido"\n')
    connector = open_crm(load_settings(info.settings_path))
    deal_id = connector.upsert_deal(Deal("<custom-pipeline@aceros.example>", "Cotización"))
    made = hubspot.objects["deals"][deal_id]["properties"]
    assert (made["pipeline"], made["dealstage"]) == ("ventas", "nuevo")
    connector.set_stage(deal_id, "lost")
    assert made["dealstage"] == "perdido"
    hubspot.update("deals", deal_id, {"dealstage": "closedlost"})  # not this pipeline's lost
    assert [c.stage for c in connector.changes_since(None).changes] == ["open"]


def test_a_missing_followup_key_property_says_create_it_and_the_sync_resumes_once_made(team, hubspot):
    app, info = team
    hubspot.properties["deals"].discard("followup_key")  # step 2 of the set-up not done
    code, first = crm(info, "sync")
    threads = len(app.threads(info.now))
    assert first["failed"] == threads and not hubspot.objects["deals"]
    errors = crm(info, "status")[1]["errors"]
    assert errors and all("no property followup_key: create it" in e["error"] for e in errors)
    hubspot.properties["deals"].add("followup_key")
    code, done = crm(info, "sync", now=info.now + timedelta(hours=1))
    assert code == 0 and len(_keys(hubspot)) == threads == len(set(_keys(hubspot)))
    assert len(hubspot.objects["notes"]) == len(set(_tags(hubspot))) >= threads


def test_kill_9_mid_push_then_a_rerun_leaves_no_duplicate(team, hubspot):
    app, info = team
    wanted = sorted(r.quote_message_id for r in app.threads(info.now))
    hubspot.delay = 0.02  # each call: time to aim the kill
    kill_mid_sync_and_rerun(info, {TOKEN_ENV: TOKEN}, lambda: len(_keys(hubspot)), len(wanted),
                            lambda: setattr(hubspot, "delay", 0))
    assert _keys(hubspot) == wanted
    emails = [c["properties"]["email"] for c in hubspot.objects["contacts"].values()]
    assert len(emails) == len(set(emails))
    tags = _tags(hubspot)
    assert len(tags) == len(set(tags))


def test_a_note_is_found_again_after_hubspot_rewrapped_it_and_with_a_bracket_in_its_key(hubspot):
    first = HubSpotCRM(hubspot.url, TOKEN)
    deal_id = first.upsert_deal(Deal("<q1@[192.0.2.7]>", "Cotización CN-2026-0401"))
    activity = Activity("activity:<q1@[192.0.2.7]>:reply:2026-11-05T10:12:00-06:00", deal_id, "reply",
                        datetime(2026, 11, 5, 16, 12, tzinfo=timezone.utc), "Re: Cotización\nGracias",
                        "gerardo@rio.example")
    note_id = first.log_activity(activity)
    assert first.log_activity(activity) == note_id  # the same connector: its cache
    note = hubspot.objects["notes"][note_id]["properties"]
    note["hs_note_body"] = f'<div style="">{note["hs_note_body"].replace("</p><p>", "<br>")}</div>'
    again = HubSpotCRM(hubspot.url, TOKEN)  # a rerun: reads the deal's notes from HubSpot
    assert again.log_activity(activity) == note_id
    assert len(hubspot.objects["notes"]) == 1
    assert hubspot.associated("notes", note_id, "deals") == {deal_id}
