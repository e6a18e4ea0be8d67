"""The web app through Flask's test client: every route for each role, the refusals
(404 for what is not yours, 403 for a role you lack, 400 without the CSRF token), the
login throttle, proxy sign-in, languages, cookies, and the CLI that feeds it. The
throttle against parallel clients on the real HTTP server: ``test_web_login.py``."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from click.testing import CliRunner
from sqlalchemy import select

from assistant.cli import main
from assistant.domain.scope import OPEN_STATUSES
from assistant.services.rules import rules_from_settings
from assistant.services.scan import load_mails, load_touches, scan
from assistant.settings import SettingsError, Web, load_settings
from assistant.storage import models
from assistant.demo.pipeline import DEMO_PASSWORD
from assistant.web import security, users
from assistant.web.services import thread_slug, versions
from tests.webapp import MANAGER, OTHER_REP, REP, SDR, app_for, csrf, web, web_template  # noqa: F401

TEMPLATES = Path(__file__).resolve().parents[1] / "assistant" / "web" / "templates"


def _slug_of(env, owner):
    report = next(r for r in scan(env.settings, env.engine, env.now) if r.owner == owner)
    return thread_slug(report.quote_message_id)


def _web_user(env, email):
    with env.engine.connect() as conn:
        return conn.execute(select(models.WebUser).where(models.WebUser.email == email)).first()


# --- sign-in ----------------------------------------------------------------------------

def test_signed_out_visitors_are_sent_to_the_login_page(web):
    client = web.client()
    for url in ("/", "/followups", "/team", "/admin/templates", "/admin/settings"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location, url


def test_login_page_speaks_the_browsers_language(web):
    assert "Iniciar sesión" in web.client(lang="es-MX,es;q=0.9").get("/login").text
    assert "Sign in" in web.client(lang="en-US,en;q=0.8").get("/login").text
    assert "Iniciar sesión" in web.client(lang="fr").get("/login").text  # default: Spanish


def test_five_wrong_passwords_lock_the_account_then_it_opens_again(web):
    client = web.client()
    token = csrf(client.get("/login").text)
    for _ in range(4):
        response = client.post("/login", data={"email": REP, "password": "nope", "csrf_token": token})
        assert response.status_code == 401
    response = client.post("/login", data={"email": REP, "password": "nope", "csrf_token": token})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(15 * 60)  # lockout_minutes
    # Locked: even the right password is refused.
    response = client.post("/login", data={"email": REP, "password": "demo", "csrf_token": token})
    assert response.status_code == 429
    later = app_for(web.settings, web.engine, web.now + timedelta(minutes=16)).test_client()
    token = csrf(later.get("/login").text)
    response = later.post("/login", data={"email": REP, "password": "demo", "csrf_token": token})
    assert response.status_code == 302


def test_a_right_password_resets_the_count_of_wrong_ones(web):
    client = web.client()
    token = csrf(client.get("/login").text)
    wrong = {"email": REP, "password": "nope", "csrf_token": token}
    for _ in range(3):
        assert client.post("/login", data=wrong).status_code == 401
    assert client.post("/login", data={"email": REP, "password": "demo",
                                       "csrf_token": token}).status_code == 302
    client = web.client()
    token = csrf(client.get("/login").text)
    wrong["csrf_token"] = token
    # Counted from zero again: four more wrong ones are not yet a lock, the fifth is.
    assert [client.post("/login", data=wrong).status_code for _ in range(5)] == [401] * 4 + [429]


def _stranger(web, address="203.0.113.66", app=None):
    client = (app or web.app).test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")
    client.get("/login")
    return client


def _try(client, email, password="nope", **extra):
    token = csrf(client.get("/login", **extra).text)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, **extra).status_code


def test_an_email_that_is_not_a_member_locks_like_a_member(web):
    # The same answers for both: the lockout tells no one which addresses exist.
    for email in (REP, "nobody@aceros.example"):
        client = _stranger(web)
        assert [_try(client, email) for _ in range(6)] == [401] * 4 + [429] * 2, email


def test_device_cookie_is_httponly_strict_for_the_login_page_only(web):
    client = web.client(REP)
    cookie = client.get_cookie(users.DEVICE_COOKIE, path="/login")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert cookie.path == "/login" and not cookie.secure
    assert client.get_cookie(users.DEVICE_COOKIE, path="/") is None


def test_a_browser_keeps_its_own_count_until_the_password_changes(web):
    def lock_out_strangers():
        client = _stranger(web)
        assert [_try(client, REP) for _ in range(5)][-1] == 429

    browser = web.client(REP)  # signed in once: it holds a device cookie
    browser.environ_base["REMOTE_ADDR"] = "198.51.100.9"  # now elsewhere (a phone on the move)
    lock_out_strangers()
    assert _try(browser, REP, DEMO_PASSWORD) == 302
    forged = web.app.test_client()
    forged.environ_base["REMOTE_ADDR"] = "198.51.100.10"  # (198.51.100.9 is known by now)
    value = browser.get_cookie(users.DEVICE_COOKIE, path="/login").value
    forged.set_cookie(users.DEVICE_COOKIE, value[:-1] + ("0" if value[-1] != "0" else "1"),
                      path="/login")
    assert _try(forged, REP, DEMO_PASSWORD) == 429  # a tampered cookie is a stranger's
    users.set_password(web.settings, web.engine, REP, DEMO_PASSWORD, web.now)  # clears locks
    lock_out_strangers()
    assert _try(browser, REP, DEMO_PASSWORD) == 429  # a new password forgets old browsers


def test_sign_ins_do_not_use_up_the_address_allowance(web):
    client = _stranger(web)
    failures = [_try(client, OTHER_REP) for _ in range(4)] + [_try(client, SDR) for _ in range(4)]
    failures.append(_try(client, MANAGER))
    assert failures == [401] * 9
    for _ in range(3):  # right passwords from the same address give their attempt back
        assert _try(_stranger(web), REP, DEMO_PASSWORD) == 302
    assert _try(client, MANAGER) == 429  # the tenth failure from this address
    assert _try(_stranger(web), REP, DEMO_PASSWORD) == 429
    assert _try(_stranger(web, "203.0.113.67"), MANAGER) == 401  # the next address is free


def test_the_client_address_is_the_proxys_word_only_from_a_listed_proxy(web):
    settings = dataclasses.replace(web.settings, web=Web(proxy_addresses=("10.0.0.0/24",)))
    app = app_for(settings, web.engine, web.now)

    def seen(remote, forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        with app.test_request_context("/login", headers=headers,
                                      environ_base={"REMOTE_ADDR": remote}):
            return security.client_address(settings.web.proxy_addresses)

    assert seen("10.0.0.7", "198.51.100.1, 203.0.113.9") == "203.0.113.9"  # the hop it saw
    assert seen("10.0.0.7", "203.0.113.9, 10.0.0.3") == "203.0.113.9"  # through two proxies
    assert seen("192.168.1.9", "203.0.113.9") == "192.168.1.9"  # not a proxy: ignored
    assert seen("10.0.0.7") == seen("10.0.0.7", "not an address") == "10.0.0.7"
    assert seen("2001:db8:1:2:aaaa::1") == seen("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert seen("::ffff:203.0.113.9") == "203.0.113.9"
    # Behind the proxy each client has its own allowance.
    proxied = {"environ_base": {"REMOTE_ADDR": "10.0.0.7"}}
    one, other = app.test_client(), app.test_client()
    one.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    emails = [OTHER_REP] * 4 + [SDR] * 4 + [MANAGER] * 2
    assert [_try(one, email, **proxied) for email in emails][-1] == 429
    assert _try(other, MANAGER, **proxied) == 401


def test_unknown_email_and_non_members_cannot_sign_in(web):
    client = web.client()
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"email": "ventas@aceros.example", "password": "demo",
                                           "csrf_token": token})
    assert response.status_code == 401


def test_passwords_are_stored_as_salted_scrypt_hashes(web):
    ana, luis = _web_user(web, REP), _web_user(web, OTHER_REP)
    assert ana.password_hash.startswith("scrypt:")
    assert "demo" not in ana.password_hash
    assert ana.password_hash != luis.password_hash  # same password, different salt


def test_forms_without_their_csrf_token_are_rejected(web):
    client = web.client()
    assert client.post("/login", data={"email": REP, "password": "demo"}).status_code == 400
    client = web.client(REP)
    fid = web.followups_of(REP, "drafted")[0].id
    assert client.post(f"/followups/{fid}/approve").status_code == 400
    assert client.post(f"/followups/{fid}/approve",
                       data={"csrf_token": "forged"}).status_code == 400
    assert web.get(fid).status == "drafted"


def test_session_cookie_is_httponly_lax_and_secure_over_tls(web):
    client = web.client()
    client.get("/login")
    cookie = client.get_cookie("followup_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    tls = web.app.test_client()
    tls.get("/login", base_url="https://followup.example")
    assert tls.get_cookie("followup_session", domain="followup.example").secure


def test_sign_out_ends_the_session(web):
    client = web.client(REP)
    token = csrf(client.get("/followups").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/followups").status_code == 302


def test_signing_out_ends_the_same_users_sessions_elsewhere_too(web):
    # Signed cookies can't be recalled one by one: a copied cookie must die at sign-out.
    laptop, phone = web.client(REP), web.client(REP)
    assert phone.get("/followups").status_code == 200
    token = csrf(laptop.get("/followups").text)
    laptop.post("/logout", data={"csrf_token": token})
    assert phone.get("/followups").status_code == 302
    assert web.client(REP).get("/followups").status_code == 200  # signing in again works


def test_a_new_password_ends_open_sessions_but_a_strangers_lockout_does_not(web):
    from assistant.web import users

    open_session = web.client(REP)
    assert open_session.get("/followups").status_code == 200
    users.set_password(web.settings, web.engine, REP, "demo", web.now)  # same or new: a reset
    assert open_session.get("/followups").status_code == 302
    open_session = web.client(REP)
    attacker = web.app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    token = csrf(attacker.get("/login").text)
    statuses = [attacker.post("/login", data={"email": REP, "password": "nope",
                                              "csrf_token": token}).status_code
                for _ in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    # Failures by someone who is not signed in never sign the member out.
    assert open_session.get("/followups").status_code == 200


# --- rep ---------------------------------------------------------------------------------

def test_rep_queue_lists_only_their_due_followups_oldest_first(web):
    client = web.client(REP)
    page = client.get("/followups")
    assert page.status_code == 200
    ids = [int(i) for i in re.findall(r'data-id="(\d+)"', page.text)]
    mine = [r for r in web.followups_of(REP) if r.status in ("held", "drafted")]
    assert sorted(ids) == sorted(r.id for r in mine) and ids
    dues = [models.as_utc(web.get(i).due_at) for i in ids]
    assert dues == sorted(dues)
    assert not any(r.id in ids for r in web.followups_of(OTHER_REP))
    assert 'href="tel:' in page.text  # call tasks carry their link
    held = [r for r in mine if r.status == "held"]
    lang = "es" if "Mis seguimientos" in page.text else "en"
    from assistant.wording import reason_words

    assert held and all(escape(reason_words(r.hold_reason, lang))[:30] in page.text for r in held)
    assert "@hold." not in page.text  # a stored code is never shown


def test_followup_page_shows_draft_timeline_and_actions(web):
    row = next(r for r in web.followups_of(REP, "drafted") if r.channel == "email")
    page = web.client(REP).get(f"/followups/{row.id}")
    assert page.status_code == 200
    assert escape(row.subject) in page.text and escape(row.body.splitlines()[0]) in page.text
    assert "tag-quote" in page.text  # the timeline shows the quote
    for action in ("approve", "skip", "edit", "touch"):
        assert f"/{action}" in page.text


def test_an_approved_email_draft_is_still_the_reps_to_send(web):
    client = web.client(REP)
    row = next(f for f in web.followups_of(REP, "drafted") if f.channel == "email" and f.draft_ref)
    token = csrf(client.get(f"/followups/{row.id}").text)
    approved = client.post(f"/followups/{row.id}/approve", data={"csrf_token": token},
                           follow_redirects=True)
    assert web.get(row.id).status == "approved"
    # The note after "Approved." is a sentence of its own; approving sent nothing.
    assert f"Approved. The draft is in the {row.account} mailbox&#39;s Drafts folder" in approved.text
    page = client.get(f"/followups/{row.id}").text
    assert f"Approved: the draft is in the {row.account} mailbox&#39;s Drafts folder" in page
    assert "nothing left to do" not in page


def test_rep_approves_skips_and_edits_their_followups(web):
    client = web.client(REP)
    first, second, third = web.followups_of(REP, "drafted")[:3]
    token = csrf(client.get(f"/followups/{first.id}").text)
    assert client.post(f"/followups/{first.id}/approve", data={"csrf_token": token}).status_code == 302
    assert web.get(first.id).status == "approved" and web.get(first.id).decided_by == REP
    # Skipping needs a reason.
    refused = client.post(f"/followups/{second.id}/skip", data={"csrf_token": token, "reason": " "},
                          follow_redirects=True)
    assert web.get(second.id).status == "drafted" and "Say why you skip it." in refused.text
    client.post(f"/followups/{second.id}/skip", data={"csrf_token": token, "reason": "Client on holiday"})
    assert web.get(second.id).status == "skipped"
    assert web.get(second.id).closed_reason == "Client on holiday"
    response = client.post(f"/followups/{third.id}/edit", data={
        "csrf_token": token, "subject": "Re: nuevo asunto", "body": "Hola, ¿pudiste verla?\n"})
    assert response.status_code == 302
    assert web.get(third.id).body.startswith("Hola, ¿pudiste verla?")
    queue = client.get("/followups").text
    assert f'data-id="{first.id}"' not in queue and f'data-id="{second.id}"' not in queue


def test_rep_logs_a_call_on_their_thread(web):
    client = web.client(REP)
    slug = _slug_of(web, REP)
    token = csrf(client.get(f"/threads/{slug}").text)
    response = client.post(f"/threads/{slug}/touch", data={"csrf_token": token, "channel": "phone",
                                                           "note": "Left a voicemail"})
    assert response.status_code == 302
    with web.engine.connect() as conn:
        touch = conn.execute(select(models.Touch)).one()
    assert touch.by == REP and touch.channel == "phone" and touch.note == "Left a voicemail"
    assert "Left a voicemail" in client.get(f"/threads/{slug}").text


def test_thread_page_says_why_a_thread_waits(web):
    """Rules 9–11: the client's promised day (a holding reply) is shown beside the due date."""
    report = next(r for r in scan(web.settings, web.engine, web.now)
                  if r.subject == "Cotización CN-2026-0431 escalera marina")
    slug = thread_slug(report.quote_message_id)
    english = web.client(REP, lang="en").get(f"/threads/{slug}").text
    assert "promised: Tue 24 Nov" in english
    spanish = web.client(REP, lang="es").get(f"/threads/{slug}").text
    assert "prometido: mar 24 nov" in spanish
    plain = next(r for r in scan(web.settings, web.engine, web.now)
                 if r.subject == "Material para obra Cumbres")
    assert 'class="why"' not in web.client(REP).get(f"/threads/{thread_slug(plain.quote_message_id)}").text


def test_rep_gets_404_for_another_reps_followup_and_thread(web):
    client = web.client(REP)
    theirs = web.followups_of(OTHER_REP, "drafted")[0]
    token = csrf(client.get("/followups").text)
    assert client.get(f"/followups/{theirs.id}").status_code == 404
    for action in ("approve", "skip", "edit"):
        assert client.post(f"/followups/{theirs.id}/{action}",
                           data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert web.get(theirs.id).status == "drafted"
    slug = _slug_of(web, OTHER_REP)
    assert client.get(f"/threads/{slug}").status_code == 404
    assert client.post(f"/threads/{slug}/touch", data={"csrf_token": token}).status_code == 404
    assert client.get("/followups/999999").status_code == 404


def test_rep_gets_403_on_manager_and_admin_routes(web):
    client = web.client(REP)
    token = csrf(client.get("/followups").text)
    assert client.get("/team").status_code == 403
    assert client.post(f"/team/threads/{_slug_of(web, OTHER_REP)}/owner",
                       data={"csrf_token": token, "owner": REP}).status_code == 403
    for url in ("/admin/templates", "/admin/templates/followup_1/es",
                "/admin/templates/followup_1/es/history", "/admin/settings"):
        assert client.get(url).status_code == 403, url
    for url in ("/admin/templates/followup_1/es", "/admin/templates/followup_1/es/preview",
                "/admin/templates/followup_1/es/rollback"):
        response = client.post(url, data={"csrf_token": token, "text": "Subject: x\n\nhacked\n",
                                          "version": "0"})
        assert response.status_code == 403, url
    from assistant.services.templates import template_history
    assert not template_history(web.engine)


# --- manager -----------------------------------------------------------------------------

def test_team_page_shows_scenarios_silent_waiting_and_unclear(web):
    page = web.client(MANAGER).get("/team")
    assert page.status_code == 200
    reports = scan(web.settings, web.engine, web.now)
    # Open as the metrics and the digest say (domain/scope.py): a bounced thread is not.
    open_reports = [r for r in reports if r.status in OPEN_STATUSES]
    assert any(r.status == "bounced" for r in reports)
    for scenario in ("rep", "manager", "nobody", "unclear"):
        count = sum(1 for r in open_reports if r.scenario == scenario)
        assert re.search(rf'data-scenario="{scenario}">{count} ·', page.text), scenario
    for r in reports:
        if r.status in ("silent", "awaiting_us"):
            assert escape(r.subject) in page.text
    from assistant.domain.metrics import Window, compute
    metrics = compute(reports, rules_from_settings(web.settings), web.now,
                      Window.ending(web.now, 90), mails=load_mails(web.engine),
                      touches=load_touches(web.engine)).team
    assert f"<dt>Quotes sent</dt><dd>{metrics.quotes_sent}</dd>" in page.text
    share = metrics.abandoned
    assert f"({share.numerator}/{share.denominator})" in page.text


def test_manager_assigns_an_owner_and_the_scan_follows_it(web):
    client = web.client(MANAGER)
    page = client.get("/team").text
    unclear = [r for r in scan(web.settings, web.engine, web.now)
               if r.owner is None and r.status not in ("closed", "exhausted")]
    assert unclear, "the sample team has unowned threads"
    target = unclear[0]
    slug = thread_slug(target.quote_message_id)
    assert slug in page
    response = client.post(f"/team/threads/{slug}/owner", data={"csrf_token": csrf(page), "owner": OTHER_REP})
    assert response.status_code == 302
    after = next(r for r in scan(web.settings, web.engine, web.now)
                 if r.quote_message_id == target.quote_message_id)
    assert after.owner == OTHER_REP
    with web.engine.connect() as conn:
        mark = conn.execute(select(models.ThreadMark)).one()
    assert mark.updated_by == MANAGER
    # Someone outside the team cannot be made owner.
    client.post(f"/team/threads/{slug}/owner", data={"csrf_token": csrf(page), "owner": "x@evil.example"})
    assert next(r for r in scan(web.settings, web.engine, web.now)
                if r.quote_message_id == target.quote_message_id).owner == OTHER_REP


def test_a_manager_who_is_not_admin_sees_the_team_but_not_the_templates(web):
    members = tuple(dataclasses.replace(m, admin=False) for m in web.settings.team.members)
    settings = dataclasses.replace(web.settings,
                                   team=dataclasses.replace(web.settings.team, members=members))
    app = app_for(settings, web.engine, web.now)
    client = app.test_client()
    token = csrf(client.get("/login").text)
    client.post("/login", data={"email": MANAGER, "password": "demo", "csrf_token": token})
    assert client.get("/team").status_code == 200
    assert client.get("/admin/templates").status_code == 403
    assert client.get("/").location.endswith("/team")


def test_manager_sees_only_their_own_teams_threads(web):
    # Luis becomes a manager of nobody: he sees his own and unowned threads, not Ana's.
    members = tuple(dataclasses.replace(m, role="manager") if m.email == OTHER_REP else m
                    for m in web.settings.team.members)
    settings = dataclasses.replace(web.settings,
                                   team=dataclasses.replace(web.settings.team, members=members))
    client = app_for(settings, web.engine, web.now).test_client()
    token = csrf(client.get("/login").text)
    client.post("/login", data={"email": OTHER_REP, "password": "demo", "csrf_token": token})
    page = client.get("/team").text
    anas = [r for r in scan(settings, web.engine, web.now)
            if r.owner == REP and r.status == "silent"]
    assert anas and not any(thread_slug(r.quote_message_id) in page for r in anas)
    assert client.get(f"/threads/{thread_slug(anas[0].quote_message_id)}").status_code == 404


# --- admin -------------------------------------------------------------------------------

def test_templates_list_by_step_channel_and_language(web):
    page = web.client(MANAGER).get("/admin/templates").text
    for number, step in enumerate(web.settings.protocol.steps, 1):
        for language in ("es", "en"):
            assert f"/admin/templates/{step.template}/{language}" in page
    assert page.index("followup_1") < page.index("call_1") < page.index("followup_3")


def test_preview_renders_against_a_real_thread_and_shows_errors_with_the_line(web):
    client = web.client(MANAGER)
    page = client.get("/admin/templates/followup_1/es").text
    token = csrf(page)
    reports = scan(web.settings, web.engine, web.now)
    report = next(r for r in reports if r.owner and r.contact)
    slug = thread_slug(report.quote_message_id)
    data = client.post("/admin/templates/followup_1/es/preview", data={
        "csrf_token": token, "thread": slug,
        "text": "Subject: Re: {{ quote.subject }}\n\nHola {{ contact.email }}, ¿qué tal?\n"}).get_json()
    assert data["error"] is None
    assert data["subject"] == f"Re: {report.subject}"
    assert report.contact in data["body"] and data["thread"] == report.subject
    data = client.post("/admin/templates/followup_1/es/preview", data={
        "csrf_token": token, "text": "Subject: x\n\nline two\n{{ contact.nope( }}\n"}).get_json()
    assert data["line"] == 4 and data["error"] and data["body"] is None


def test_preview_defaults_to_a_thread_in_the_templates_language(web):
    client = web.client(MANAGER)
    for language, month in (("es", " de noviembre"), ("en", "November")):
        page = client.get(f"/admin/templates/followup_1/{language}").text
        text = versions(web.engine, "followup_1", language)[0].text
        data = client.post(f"/admin/templates/followup_1/{language}/preview",
                           data={"csrf_token": csrf(page), "text": text}).get_json()
        assert data["error"] is None and month in data["body"], (language, data["body"])
        assert f'value="{data["slug"]}" selected' in page


def test_admin_saves_a_version_sees_history_diff_and_rolls_back(web):
    client = web.client(MANAGER)
    url = "/admin/templates/followup_1/es"
    token = csrf(client.get(url).text)
    original = client.get(url).text
    # An invalid template is not saved; the error names the line.
    bad = client.post(url, data={"csrf_token": token, "text": "Subject: x\n\n{{ nope }}\n"})
    assert bad.status_code == 422 and "line 3" in bad.text.lower()
    new_text = "Subject: Re: {{ quote.subject }}\n\nHola de nuevo, ¿revisaste la propuesta?\n\n{{ owner.signature }}\n"
    assert client.post(url, data={"csrf_token": token, "text": new_text}).status_code == 302
    from assistant.services.templates import template_history
    (version,) = template_history(web.engine)
    assert (version.version, version.author) == (1, MANAGER)
    assert "Hola de nuevo" in client.get(url).text
    history = client.get(url + "/history?a=0&b=1").text
    assert 'class="d-add">+Hola de nuevo' in history
    assert client.post(url + "/rollback", data={"csrf_token": token, "version": "0"}).status_code == 302
    versions = template_history(web.engine)
    assert [v.version for v in versions] == [1, 2]
    assert "Hola de nuevo" not in versions[-1].body
    assert "te llegó la cotización" in versions[-1].body
    assert "Hola de nuevo" not in client.get(url).text and original
    assert client.get("/admin/templates/nope/es").status_code == 404


def test_settings_view_shows_protocol_and_team_read_only(web):
    page = web.client(MANAGER).get("/admin/settings").text
    for member in web.settings.team.members:
        assert member.email in page
    for step in web.settings.protocol.steps:
        assert step.template in page
    assert "<form" not in page.split("<main")[1].replace('action="/language"', "").replace(
        'action="/logout"', "") or 'method="post"' not in page.split("</header>")[1]


# --- language, proxy, secrets, settings, CLI ---------------------------------------------

def test_language_choice_is_remembered_for_the_user(web):
    client = web.client(REP, lang="es")
    assert "Mis seguimientos" in client.get("/followups").text
    token = csrf(client.get("/followups").text)
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/followups"})
    assert "My follow-ups" in client.get("/followups").text
    assert _web_user(web, REP).language == "en"
    again = web.client(REP, lang="es")  # a new session: the saved choice wins
    assert "My follow-ups" in again.get("/followups").text


def test_every_ui_text_is_in_the_catalogue():
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"_\('([^']+)'", path.read_text(encoding="utf-8")))
    views = (TEMPLATES.parent / "views.py").read_text(encoding="utf-8")
    used |= set(re.findall(r'\bt\("([^"]+)"', views))
    from assistant.wording import CATALOGUE

    english = {entry["en"] for code, entry in CATALOGUE.items()
               if code.startswith(("web.", "review.", "hold.", "cancel."))}
    assert used and sorted(used - english) == []


def test_proxy_sign_in_trusts_only_the_configured_proxy(web):
    settings = dataclasses.replace(web.settings, web=Web(auth="proxy", proxy_header="X-Email",
                                                         proxy_addresses=("10.0.0.0/24",)))
    client = app_for(settings, web.engine, web.now).test_client()
    ok = client.get("/followups", headers={"X-Email": REP}, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert ok.status_code == 200 and "Ana Pérez" in ok.text
    spoofed = client.get("/followups", headers={"X-Email": REP},
                         environ_base={"REMOTE_ADDR": "192.168.1.9"})
    assert spoofed.status_code == 403
    stranger = client.get("/followups", headers={"X-Email": "eve@evil.example"},
                          environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert stranger.status_code == 403
    assert client.get("/team", headers={"X-Email": REP},
                      environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 403


def test_secret_key_from_env_or_a_private_file_next_to_the_database(web):
    assert security.secret_key(web.settings, {"FOLLOWUP_SECRET_KEY": "abc"}) == "abc"
    key = security.secret_key(web.settings, {})
    path = web.folder / security.SECRET_FILE
    assert path.read_text().strip() == key and len(key) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert security.secret_key(web.settings, {}) == key
    path.chmod(0o644)  # readable by others: sessions could be forged, so refused
    with pytest.raises(security.SecretFileError, match="chmod 600"):
        security.secret_key(web.settings, {})
    path.chmod(0o600)
    path.write_text("")  # left empty by a crash
    with pytest.raises(security.SecretFileError, match="no usable key"):
        security.secret_key(web.settings, {})


def test_web_settings_are_validated(tmp_path, web):
    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(text + '\n[web]\nauth = "proxy"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="proxy_addresses"):
        load_settings(path, environ={})
    path.write_text(text + '\n[web]\nauth = "proxy"\nproxy_addresses = ["not-an-ip"]\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"web.proxy_addresses\[1\]"):
        load_settings(path, environ={})
    path.write_text(text + '\n[web]\nauth = "sso"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="web.auth"):
        load_settings(path, environ={})
    path.write_text(text + '\n[web]\nauth = "proxy"\nproxy_addresses = ["127.0.0.1"]\n'
                    'proxy_header = "X-Auth-Email"\nlockout_minutes = 30\n', encoding="utf-8")
    assert load_settings(path, environ={}).web == Web("proxy", "X-Auth-Email", ("127.0.0.1",), 30)


def test_cli_set_password_from_stdin_then_sign_in(web):
    runner = CliRunner()
    config = str(web.folder / "settings.toml")
    result = runner.invoke(main, ["--config", config, "users", "set-password", SDR, "--password-stdin"],
                           input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["--config", config, "users", "set-password", "eve@evil.example",
                                  "--password-stdin"], input="whatever\n")
    assert result.exit_code == 2 and "no es del equipo" in result.output  # team.language
    client = web.client()
    token = csrf(client.get("/login").text)
    assert client.post("/login", data={"email": SDR, "password": "s3cret-pass",
                                       "csrf_token": token}).status_code == 302


def test_cli_serve_binds_loopback_by_default():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output


def test_signed_in_pages_are_never_stored_by_a_cache(web):
    client = web.client(MANAGER)
    for url in ("/followups", "/team", "/admin/templates", "/admin/settings", "/login"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")


def test_pages_carry_no_external_urls(web):
    client = web.client(MANAGER)
    for url in ("/followups", "/team", "/admin/templates", "/admin/templates/followup_1/es"):
        html = client.get(url).text
        assert not re.search(r'(src|href)="(https?:)?//', html), url
    css = client.get("/static/app.css").text
    assert "@media" in css and "http" not in css


def test_the_english_preview_of_a_spanish_thread_words_its_dates_in_english(web):
    client = web.client(MANAGER)
    page = client.get("/admin/templates/followup_1/en").text
    spanish = next(r for r in scan(web.settings, web.engine, web.now)
                   if r.subject == "Material para obra Cumbres")  # Rosa writes in Spanish
    data = client.post("/admin/templates/followup_1/en/preview", data={
        "csrf_token": csrf(page), "thread": thread_slug(spanish.quote_message_id),
        "text": "Subject: x\n\nSent {{ quote.sent_date }}{% if reply %}, replied {{ reply.date }}{% endif %}.\n"
    }).get_json()
    assert data["error"] is None and data["thread"] == spanish.subject
    assert "November" in data["body"] and "noviembre" not in data["body"], data["body"]


def test_the_follow_up_page_shows_whom_the_draft_copies(web):
    """What the rep approves is what is sent: the people a draft copies are on its page
    (planned by ``compose.reply_cc``; set here on one of Ana's follow-ups)."""
    from sqlalchemy import update

    row = next(r for r in web.followups_of(REP, "drafted") if r.channel == "email")
    with web.engine.begin() as conn:
        conn.execute(update(models.Followup).where(models.Followup.id == row.id)
                     .values(cc=["jefe.compras@cliente.example"]))
    page = web.client(REP, lang="es").get(f"/followups/{row.id}").text
    assert "Con copia a" in page and "jefe.compras@cliente.example" in page
    other = next(r for r in web.followups_of(REP, "drafted") if r.id != row.id)
    assert "Con copia a" not in web.client(REP, lang="es").get(f"/followups/{other.id}").text


def test_the_team_page_writes_its_median_as_a_spanish_reader_does(web):
    page = web.client(MANAGER, lang="es").get("/team").text
    median = re.search(r"Mediana de días hábiles al primer seguimiento</dt><dd>([^<]*)</dd>", page)
    assert median, page[:2000]
    assert re.fullmatch(r"—|\d+(,\d)?", median.group(1)), median.group(1)  # not "20.0"
