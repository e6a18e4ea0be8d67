"""The pages and the digest read the read model (issue 12): no page reads all mail, the
thread page's timeline is the domain's, and the digest built from the stored reports
equals the one recomputed from all mail."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from assistant.domain.timeline import TouchEntry, message_kind, timeline
from assistant.services import pages
from assistant.services import digest as D
from assistant.services.rules import rules_from_settings
from assistant.services.scan import load_mails, scan
from assistant.web.services import thread_slug
from tests.webapp import MANAGER, REP, csrf, web, web_template  # noqa: F401

_UNFILTERED = re.compile(r"\bFROM messages\b(?![^;]*\bWHERE\b)", re.IGNORECASE | re.DOTALL)


def _statements(engine):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_no_page_reads_all_mail(web):
    rep, manager = web.client(REP), web.client(MANAGER)
    reports = scan(web.settings, web.engine, web.now)  # indexed before we listen
    mine = next(r for r in reports if r.owner == REP)
    [row] = web.followups_of(REP)[:1] or [None]
    seen = _statements(web.engine)
    urls = [(rep, "/followups"), (rep, f"/threads/{thread_slug(mine.quote_message_id)}"),
            (manager, "/team"), (manager, "/admin/templates/followup_1/es")]
    if row is not None:
        urls.append((rep, f"/followups/{row.id}"))
    for client, url in urls:
        assert client.get(url).status_code == 200, url
    page = manager.get("/admin/templates/followup_1/es").text
    response = manager.post("/admin/templates/followup_1/es/preview",
                            data={"csrf_token": csrf(page), "text": "Hola {{ contact.first_name }}"})
    assert response.status_code == 200 and response.json["thread"]
    assert seen, "the listener saw the pages' queries"
    unfiltered = [s for s in seen if _UNFILTERED.search(s)]
    assert not unfiltered, unfiltered[:3]


def test_thread_slugs_read_back_and_refuse_garbage():
    for quote_id in ("<q1@aceros.example>", "<a/b+c@x>", "<ñandú@example.com>"):
        assert pages.thread_id(thread_slug(quote_id)) == quote_id
    assert pages.thread_id("%%%") is None


def test_the_thread_page_timeline_is_the_domains(web):
    rules = rules_from_settings(web.settings)
    reports = scan(web.settings, web.engine, web.now)
    bounced = next(r for r in reports if r.status == "bounced")
    mails = load_mails(web.engine)
    thread = sorted((m for m in mails if m.key in set(bounced.mail_keys)),
                    key=lambda m: (m.date, m.message_id))
    events = pages.thread_events(web.engine, rules, bounced)
    assert [e.kind for e in events] == [message_kind(m, rules, bounced.quote_message_id)
                                        for m in thread]
    assert events[0].kind == "quote" and "bounce" in {e.kind for e in events}
    note = TouchEntry(thread[-1].date, "phone", REP, "left a voicemail")
    with_touch = timeline(thread, rules, bounced.quote_message_id, touches=[note])
    assert with_touch[-1].kind == "touch_phone" and with_touch[-1].text == "left a voicemail"


def test_the_digest_from_the_read_model_equals_the_full_recomputation(web):
    rules = rules_from_settings(web.settings)
    inputs = D.load_inputs(web.engine)
    for now in (web.now, web.now.replace(hour=3)):
        for digest in D.build_digests(web.settings, web.engine, now):
            scope = digest.recipient.scope
            full_now = D.snapshot(inputs, rules, now, scope)
            full_before = D.snapshot(inputs, rules, now - timedelta(days=7), scope)
            again = D.render(web.settings, digest.recipient, full_now, full_before,
                             people=D.contact_names(web.settings, web.engine, full_now.reports))
            assert (digest.html, digest.text) == (again.html, again.text)
            assert digest.current.quarter == full_now.quarter
            assert digest.previous.quarter == full_before.quarter


def test_the_team_page_follows_every_change_even_at_the_same_moment(web):
    from tests.webapp import OTHER_REP

    client = web.client(MANAGER)
    page = client.get("/team").text
    unowned = next(r for r in scan(web.settings, web.engine, web.now)
                   if r.owner is None and r.status == "silent")
    slug = thread_slug(unowned.quote_message_id)
    for owner in (OTHER_REP, REP):  # the clock stands still: only the change tells
        client.post(f"/team/threads/{slug}/owner", data={"csrf_token": csrf(page), "owner": owner})
        page = client.get("/team").text
        group = page[page.index("Silent threads by owner"):]
        heading = web.settings.team.member(owner).name
        section = group[group.index(heading):]
        assert slug in section[:section.find("<h3>", 5) if "<h3>" in section[5:] else None], owner


def test_the_team_pages_compliance_reads_stored_events_and_equals_the_full_recomputation(web):
    """The 90-day numbers of the team page come from each thread's stored metric events
    (``threads.events``), not its mail: the same answer as the metrics computed from every
    message and touch, also after a client's answer by phone is logged (the thread is
    re-indexed with it), and not one query of the page reads the messages table."""
    from assistant.domain import metrics as M
    from assistant.services.app import Followup
    from assistant.services.outcomes import reply
    from assistant.storage import repo

    rules = rules_from_settings(web.settings)
    app = Followup(web.settings, web.engine, lambda: web.now)
    viewing = app.viewing(MANAGER)

    def full(now):
        reports = [r for r in scan(web.settings, web.engine, now) if viewing.sees(r)]
        with web.engine.connect() as conn:
            touches = repo.load_touches(conn)
        return M.compute(reports, rules, now, M.Window.ending(now, 90), mails=load_mails(web.engine),
                         touches=touches).team.as_json()

    scan(web.settings, web.engine, web.now)  # indexed before we listen
    seen = _statements(web.engine)
    stored = app.team_page(viewing, web.now).compliance
    assert not [s for s in seen if re.search(r"\bFROM messages\b", s)], seen
    assert stored == full(web.now) and stored["quotes_sent"] > 0, stored
    silent = next(r for r in scan(web.settings, web.engine, web.now)
                  if r.status == "silent" and viewing.sees(r))
    reply(web.settings, web.engine, silent.quote_message_id, "phone", by=REP,
          now=web.now - timedelta(hours=1))
    later = web.now + timedelta(minutes=1)
    after = app.team_page(viewing, later).compliance
    assert after == full(later) and after != stored


def test_migration_0017_has_the_read_model_rebuilt_with_every_threads_events(web):
    """A database indexed before 0017 (no ``threads.events``): the upgrade forgets the read
    model's rules fingerprint, so the next read rebuilds it and every thread gets its
    events; the answers are the same as before."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import func, select, text

    from assistant.services import snapshot
    from assistant.storage import models
    from assistant.storage.db import MIGRATIONS

    rules = rules_from_settings(web.settings)
    before = {r.quote_message_id: r.as_json() for r in scan(web.settings, web.engine, web.now)}
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with web.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0016")
    with web.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    t = models.ThreadRow
    with web.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(t.events.is_(None))) == len(before)
        assert conn.scalar(text("SELECT value FROM read_model_state WHERE key = 'rules'")) is None
    assert snapshot.ensure_current(web.engine, rules) is not None  # rebuilt
    with web.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(t.events.is_(None))) == 0
    assert {r.quote_message_id: r.as_json() for r in scan(web.settings, web.engine, web.now)} == before


def test_the_planners_context_of_a_real_thread_has_exactly_the_fields_templates_may_use(web):
    """``templates.FIELDS`` is what a template may name (``contact.nombre`` is refused as
    it is read): the context the planner builds from a real thread must hold those
    fields, no more and no fewer, or a valid template would fail on real mail."""
    from assistant.drafting.templates import FIELDS, VARIABLES
    from assistant.services.app import Followup

    app = Followup(web.settings, web.engine, lambda: web.now)
    threads = [r for r in scan(web.settings, web.engine, web.now) if r.status == "silent"]
    assert threads
    for report in threads[:3]:
        context = app.preview_context(report.quote_message_id, web.now)
        context, _language = context
        assert set(context) == set(VARIABLES)
        for name, fields in FIELDS.items():
            if context[name] is not None:
                assert set(context[name]) == set(fields), name


def test_pages_word_times_in_the_readers_language_with_the_year_only_when_not_this_one(web):
    """A rep reads "vie 04 dic 09:00", not "2026-12-04 09:00"; a time of another year
    says its year; a form's ISO value is still ISO."""
    from zoneinfo import ZoneInfo

    from flask import g

    from assistant.web import create_app
    from assistant.web.views import local
    from assistant.wording import day_time

    app = create_app(web.settings, web.engine, clock=lambda: web.now, secret="x" * 32)
    zone = ZoneInfo(web.settings.team.timezone)
    here = web.now.astimezone(zone)
    this_year = here.replace(hour=15, minute=0)
    later = here.replace(year=here.year + 1, hour=9, minute=0)
    with app.test_request_context():
        g.lang = "es"
        assert local(this_year) == day_time(this_year, "es") and "-" not in local(this_year)
        assert local(later) == f"{day_time(later, 'es')} {here.year + 1}"
        g.lang = "en"
        assert local(this_year) == day_time(this_year, "en")
        assert local(this_year, "%Y-%m-%d") == this_year.strftime("%Y-%m-%d")
