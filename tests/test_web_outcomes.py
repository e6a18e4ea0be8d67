"""Outcomes in the web app through Flask's test client (issue 14): a rep marks a thread won
or lost, logs the client's answer by phone and snoozes a thread, from the thread page and
from the queue, with undo; a flash in the user's language; who may do it (a rep their
threads, a manager their team's, 404 otherwise) and the CSRF token; each change shown at
once on the queue, the thread page and the team page."""

from __future__ import annotations

import re
from datetime import timedelta

from markupsafe import escape

from assistant.services.outcomes import history
from assistant.services.scan import scan
from assistant.web.services import thread_slug
from tests.webapp import MANAGER, OTHER_REP, REP, csrf, web, web_template  # noqa: F401


def _mine(web, owner=REP, channel="email"):
    """A drafted follow-up of ``owner`` and its thread's report and slug."""
    row = next(r for r in web.followups_of(owner, "drafted") if r.channel == channel)
    report = next(r for r in scan(web.settings, web.engine, web.now)
                  if r.quote_message_id == row.quote_message_id)
    return row, report, thread_slug(report.quote_message_id)


def _report(web, report):
    return next(r for r in scan(web.settings, web.engine, web.now)
                if r.quote_message_id == report.quote_message_id)


def test_thread_page_shows_the_short_id_and_the_outcome_forms(web):
    row, report, slug = _mine(web)
    page = web.client(REP).get(f"/threads/{slug}").text
    assert f'<code id="thread-id">{report.thread_id}</code>' in page
    for action in ("mark", "reply", "snooze"):
        assert f"/threads/{slug}/{action}" in page
    assert "unmark" not in page  # nothing to undo yet
    queue = web.client(REP).get("/followups").text
    assert f"<code>{report.thread_id}</code>" in queue
    assert f"/threads/{slug}/mark" in queue and f"/threads/{slug}/snooze" in queue
    # the short id people read in every table opens the same page (upper case too)
    for typed in (report.thread_id, report.thread_id.upper()):
        short = web.client(REP).get(f"/threads/{typed}")
        assert short.status_code == 200 and f'<code id="thread-id">{report.thread_id}</code>' in short.text
    assert web.client(REP).get("/threads/zzzzzzzz").status_code == 404


def test_rep_marks_won_from_the_thread_page_sees_it_everywhere_and_undoes_it(web):
    row, report, slug = _mine(web)
    client = web.client(REP, lang="es")
    token = csrf(client.get(f"/threads/{slug}").text)
    page = client.post(f"/threads/{slug}/mark", data={
        "csrf_token": token, "outcome": "won", "reason": "Firmó el pedido"}, follow_redirects=True)
    assert page.status_code == 200
    assert f"marcada como ganada" in page.text and "Seguimientos pendientes cancelados: 1" in page.text
    assert _report(web, report).status == "closed"
    assert web.get(row.id).status == "cancelled"
    assert "Firmó el pedido" in page.text and "la marcó como ganada" in page.text  # history
    assert 'id="undo-last"' in page.text and 'id="unmark"' in page.text
    assert f'data-id="{row.id}"' not in client.get("/followups").text
    team = web.client(MANAGER).get("/team").text
    silent = team.split("Silent threads by owner")[1].split("Clients waiting on us")[0]
    assert escape(report.subject) not in silent
    # Undo (the flash's button): the follow-up is back in the queue, the history keeps both.
    page = client.post(f"/threads/{slug}/unmark", data={"csrf_token": token, "next": "/followups"},
                       follow_redirects=True)
    assert "Marca deshecha" in page.text and f'data-id="{row.id}"' in page.text
    assert _report(web, report).status == report.status and web.get(row.id).status == "drafted"
    entries = history(web.engine, report.quote_message_id)
    assert [(e.kind, e.value, e.by, e.undone_by) for e in entries] == [("mark", "won", REP, REP)]


def test_rep_logs_the_clients_phone_answer_from_the_queue(web):
    row, report, slug = _mine(web)
    client = web.client(REP)
    token = csrf(client.get("/followups").text)
    page = client.post(f"/threads/{slug}/reply", data={
        "csrf_token": token, "channel": "phone", "next": "/followups"}, follow_redirects=True)
    assert escape("Logged the client's answer by phone") in page.text
    assert f'data-id="{row.id}"' not in page.text  # the cadence stopped: its follow-up cancelled
    after = _report(web, report)
    assert after.status == "awaiting_us" and after.last_reply_at == web.now
    thread = client.get(f"/threads/{slug}").text
    assert "tag-reply_phone" in thread and 'id="unreply"' in thread
    team = web.client(MANAGER).get("/team").text
    waiting = team.split("Clients waiting on us")[1]
    assert escape(report.subject) in waiting


def test_rep_snoozes_from_the_queue_and_the_queue_and_team_page_show_it(web):
    row, report, slug = _mine(web)
    client = web.client(REP, lang="es")
    token = csrf(client.get("/followups").text)
    until = (web.now + timedelta(days=40)).date()
    page = client.post(f"/threads/{slug}/snooze", data={
        "csrf_token": token, "until": until.isoformat(), "next": "/followups"},
        follow_redirects=True)
    assert "pospuesta hasta el" in page.text
    item = page.text.split(f'data-id="{row.id}"')[1].split("</li>")[0]
    assert "pospuesta hasta el" in item  # still queued, with its new day
    after = _report(web, report)
    assert after.status == "waiting" and after.next_step.due_at.date() >= until
    team = web.client(MANAGER).get("/team").text
    silent = team.split("Silent threads by owner")[1].split("Clients waiting on us")[0]
    assert escape(report.subject) not in silent
    refused = client.post(f"/threads/{slug}/snooze", data={"csrf_token": token, "until": "ayer"},
                          follow_redirects=True)
    assert "no es una fecha" in refused.text  # the error, in the user's language


def test_manager_acts_on_their_teams_thread_and_a_rep_gets_404_on_anothers(web):
    _, theirs, slug = _mine(web, OTHER_REP)
    rep = web.client(REP)
    token = csrf(rep.get("/followups").text)
    for action, data in (("mark", {"outcome": "won"}), ("reply", {"channel": "phone"}),
                         ("snooze", {"until": "2027-01-15"}), ("unmark", {})):
        assert rep.post(f"/threads/{slug}/{action}",
                        data={"csrf_token": token, **data}).status_code == 404
    assert _report(web, theirs).status == theirs.status and not history(web.engine, theirs.quote_message_id)
    manager = web.client(MANAGER)
    token = csrf(manager.get("/team").text)
    assert manager.post(f"/threads/{slug}/mark", data={"csrf_token": token, "outcome": "lost"},
                        follow_redirects=True).status_code == 200
    assert _report(web, theirs).status == "closed"
    assert history(web.engine, theirs.quote_message_id)[0].by == MANAGER
    assert manager.post(f"/threads/{slug}/mark", data={"outcome": "won"}).status_code == 400  # CSRF
    assert manager.post(f"/threads/{slug}/nonsense", data={"csrf_token": token}).status_code == 404
    bad = manager.post(f"/threads/{slug}/mark", data={"csrf_token": token, "outcome": "maybe"},
                       follow_redirects=True)
    assert re.search(r"is not an outcome|no es un resultado", bad.text)
