"""Outcomes (issue 14) in the rules and the services: a client's answer outside email is a
real reply, a snooze floors the next step, short thread ids, and the history with undo
(on the sample team's real SQLite database: the read model, reconcile, the digest)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date, timedelta

import pytest

from assistant.domain import metrics as M
from assistant.domain.ids import SHOWN, looks_like_id, neighbours_in, shortest_prefixes, thread_digest
from assistant.domain.model import LoggedTouch, ThreadMark
from assistant.services import outcomes
from assistant.services.digest import build_digests
from assistant.services.outcomes import ActionError
from assistant.services.review import list_followups
from assistant.services.scan import open_store, scan, scan_from_mail
from assistant.settings import load_settings
from assistant.storage import repo
from tests.builders import dsn_bounce, local
from tests.test_rules import RULES, analyze, client_reply, follow_up, quote_thread
from tests.webapp import REP, web_template  # noqa: F401

Q = "<q1@acme.example>"


# --- The rules ---------------------------------------------------------------------------

def test_an_answer_by_phone_is_a_real_reply_the_cadence_stops_and_touches_count_from_it():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    follow_up(thread, 1, local(2026, 11, 5, 10))
    answer = LoggedTouch(Q, "phone", local(2026, 11, 6, 12), "ana@acme.example", inbound=True)
    report = analyze(thread, local(2026, 11, 20), touches=[answer])
    assert report.status == "awaiting_us" and report.next_step is None
    assert report.last_reply_at == local(2026, 11, 6, 12) and report.touches == 0
    # Our message after it is the open ask again: step 1 is due two business days later.
    follow_up(thread, 2, local(2026, 11, 9, 10))
    again = analyze(thread, local(2026, 11, 9, 11), touches=[answer])
    assert again.status == "waiting" and again.touches == 0
    assert again.next_step.number == 1 and again.next_step.due_at == local(2026, 11, 11, 9)
    # Logged as our own call instead, it is a touch: no reply, three follow-ups.
    ours = replace(answer, inbound=False)
    assert analyze(thread, local(2026, 11, 20), touches=[ours]).touches == 3


def test_an_answer_outside_email_after_a_bounce_means_the_contact_is_reachable():
    thread = quote_thread()
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 10, 5),
                          mid="<bounce1@mx.acme.example>", original_mid=Q,
                          failed="diego@cliente.example", original_subject="Cotizacion 1042"))
    assert analyze(thread, local(2026, 12, 1)).status == "bounced"
    answer = LoggedTouch(Q, "whatsapp", local(2026, 11, 4, 9), None, inbound=True)
    assert analyze(thread, local(2026, 12, 1), touches=[answer]).status == "awaiting_us"


def test_an_answer_by_phone_neither_declines_nor_holds_and_a_later_email_reply_still_does():
    thread = quote_thread()
    answer = LoggedTouch(Q, "phone", local(2026, 11, 4, 9), None, inbound=True)
    client_reply(thread, 1, local(2026, 11, 5, 9), body="No nos interesa, gracias.")
    assert analyze(thread, local(2026, 12, 1), touches=[answer]).status == "closed"


def test_a_snooze_floors_the_next_step_at_the_send_window_of_a_business_day():
    thread = quote_thread(date=local(2026, 11, 3, 10))  # step 1 due Thu 5 Nov 09:00
    plain = analyze(thread, local(2026, 11, 6))
    assert plain.status == "silent" and plain.snoozed_until is None
    saturday = date(2026, 11, 14)
    mark = ThreadMark(Q, snoozed_until=saturday)
    snoozed = analyze(thread, local(2026, 11, 6), mark=mark)
    assert snoozed.status == "waiting" and snoozed.snoozed_until == saturday
    # Monday 16 Nov is a public holiday (Revolución): Tuesday, at the send window.
    assert snoozed.next_step.due_at == local(2026, 11, 17, 9)
    assert analyze(thread, local(2026, 11, 17, 9), mark=mark).status == "silent"
    # Before the normal due date, a snooze changes nothing (and says nothing).
    early = analyze(thread, local(2026, 11, 4), mark=ThreadMark(Q, snoozed_until=date(2026, 11, 4)))
    assert early.next_step.due_at == local(2026, 11, 5, 9) and early.snoozed_until is None
    # After the snoozed step is taken, the next one counts business days as always.
    follow_up(thread, 1, local(2026, 11, 17, 10))
    after = analyze(thread, local(2026, 11, 17, 11), mark=mark)
    assert after.touches == 1 and after.snoozed_until is None
    assert after.next_step.due_at.date() > date(2026, 11, 17)


def test_marked_threads_count_as_finished_in_the_reached_five_metric():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    for n, day in enumerate((5, 9, 11, 13), 1):  # four follow-ups: the protocol has five
        follow_up(thread, n, local(2026, 11, day, 10))
    now = local(2026, 11, 14, 8)
    window = M.Window.ending(now, 90)
    for mark, status, finished in ((None, "waiting", 0), (ThreadMark(Q, outcome="won"), "closed", 1)):
        report = analyze(thread, now, mark=mark)
        assert report.status == status
        report = replace(report, mail_keys=tuple(m.key for m in thread.mails))
        team = M.compute([report], RULES, now, window, mails=thread.mails).team
        assert (team.reached_five.numerator, team.reached_five.denominator) == (0, finished)
        assert team.by_status["closed"] == finished


def test_short_ids_are_digest_prefixes_lengthened_on_collision():
    digest = thread_digest("<abc@x.example>")
    assert digest == thread_digest("abc@x.example") and len(digest) == 16
    assert looks_like_id(digest[:SHOWN]) and not looks_like_id("<abc") and not looks_like_id("ab1")
    alone = shortest_prefixes([digest], neighbours_in([digest]))
    assert alone == {digest: digest[:SHOWN]}
    twin = digest[:9] + ("a" if digest[9] != "a" else "b") + digest[10:]
    both = sorted([digest, twin])
    shown = shortest_prefixes(both, neighbours_in(both))
    assert shown[digest] == digest[:10] and shown[twin] == twin[:10]


# --- The services on the sample team ---------------------------------------------------------

@pytest.fixture
def team(web_template, tmp_path):
    source, now = web_template
    folder = tmp_path / "team"
    shutil.copytree(source, folder)
    settings = load_settings(folder / "settings.toml", environ={})
    engine = open_store(settings)
    yield settings, engine, now
    engine.dispose()


def _pending_thread(settings, engine, now):
    pending = [r for r in list_followups(engine) if r.status == "drafted" and r.assignee == REP]
    report = next(r for r in scan(settings, engine, now)
                  if r.quote_message_id == pending[0].quote_message_id)
    return report, pending[0]


def test_every_stored_thread_has_a_unique_short_id_that_finds_it(team):
    settings, engine, now = team
    reports = scan(settings, engine, now)
    ids = [r.thread_id for r in reports]
    assert len(set(ids)) == len(ids) and all(len(i) >= SHOWN for i in ids)
    for report in reports[:5]:
        assert thread_digest(report.quote_message_id).startswith(report.thread_id)
        assert outcomes.resolve(settings, engine, report.thread_id) == report.quote_message_id
        assert outcomes.resolve(settings, engine, report.thread_id.upper()) == report.quote_message_id
        assert outcomes.resolve(settings, engine, report.quote_message_id.strip("<>")) \
            == report.quote_message_id
    with pytest.raises(ActionError) as unknown:
        outcomes.resolve(settings, engine, "zzzzzzz")
    assert unknown.value.code == "thread.unknown" and "zzzzzzz" in unknown.value.words("es")
    shared = reports[0].quote_message_id.strip("<>")[:2]
    with pytest.raises(ActionError) as ambiguous:
        outcomes.resolve(settings, engine, shared)
    assert ambiguous.value.code == "thread.ambiguous"
    assert reports[0].thread_id in str(ambiguous.value) or ambiguous.value.values["n"] > 10


def test_mark_undo_stack_keeps_the_history_and_puts_cancelled_follow_ups_back(team):
    settings, engine, now = team
    report, pending = _pending_thread(settings, engine, now)
    short = report.thread_id
    done = outcomes.mark(settings, engine, short, "won", reason="Firmó", by=REP, now=now)
    assert done.report.status == "closed" and done.cancelled == 1
    assert "marcada como ganada" in done.words("es")
    assert next(r for r in list_followups(engine) if r.id == pending.id).status == "cancelled"
    later = now + timedelta(minutes=5)
    outcomes.mark(settings, engine, short, "lost", by=REP, now=later)
    back = outcomes.undo(settings, engine, short, "mark", by=REP, now=later)
    assert back.report.status == "closed" and back.report.closed_value == "won"
    back = outcomes.undo(settings, engine, short, "mark", by=REP, now=later)
    assert back.report.status == report.status and back.restored == 1
    assert next(r for r in list_followups(engine) if r.id == pending.id).status == "drafted"
    with pytest.raises(ActionError) as nothing:
        outcomes.undo(settings, engine, short, "mark", by=REP, now=later)
    assert nothing.value.code == "outcome.nothing_to_undo.mark"
    history = outcomes.history(engine, report.quote_message_id)
    assert [(h.kind, h.value, h.by, h.undone_at is not None) for h in history] == [
        ("mark", "won", REP, True), ("mark", "lost", REP, True)]
    assert history[0].note == "Firmó" and history[0].words("es") == f"{REP} la marcó como ganada"
    # The read model equals the full recomputation after every change.
    assert scan(settings, engine, now, mail_keys=False) == [
        replace(r, mail_keys=()) for r in scan_from_mail(settings, engine, now)]


def test_a_reply_outside_email_and_a_snooze_reach_the_read_model_and_the_digest(team):
    settings, engine, now = team
    report, pending = _pending_thread(settings, engine, now)
    silent = [r for r in scan(settings, engine, now) if r.status == "silent"
              and r.quote_message_id != report.quote_message_id and r.next_step]
    snoozed_thread = silent[0]
    replied = outcomes.reply(settings, engine, report.thread_id, "phone",
                             note="Llamó, quiere precio", by=REP, now=now)
    assert replied.report.status == "awaiting_us" and replied.cancelled == 1
    until = (now + timedelta(days=30)).date()
    snoozed = outcomes.snooze(settings, engine, snoozed_thread.thread_id, until, by=REP, now=now)
    assert snoozed.report.status == "waiting" and snoozed.report.snoozed_until is not None
    assert snoozed.report.next_step.due_at.date() >= until
    with pytest.raises(ActionError) as past:
        outcomes.snooze(settings, engine, snoozed_thread.thread_id, date(2020, 1, 1), now=now)
    assert past.value.code == "outcome.snooze_past"
    with pytest.raises(ActionError) as nothing_due:
        outcomes.snooze(settings, engine, report.thread_id, until, now=now)
    assert "esperando nuestra respuesta" in nothing_due.value.words("es")
    digest = next(d for d in build_digests(settings, engine, now) if d.recipient.scope is None)
    waiting_ids = {r.quote_message_id for r in digest.current.reports if r.status == "awaiting_us"}
    assert report.quote_message_id in waiting_ids
    # The plain-text part wraps a subject inside its 30-column cell; the HTML keeps it whole.
    assert snoozed_thread.subject in digest.html
    assert "pospuesto hasta el" in digest.html
    promised = digest.text.split("Clientes que dijeron cuándo responden (", 1)[1].split("==", 1)[0]
    assert "pospuesto" in promised and snoozed_thread.subject.split()[0] in promised
    overdue = [r for r in digest.current.reports if r.status == "silent"]
    assert snoozed_thread.quote_message_id not in {r.quote_message_id for r in overdue}
    # A week ago the digest's past snapshot holds neither (marks as they were then).
    with engine.connect() as conn:
        before = repo.marks_at(conn, now - timedelta(days=7))
    assert before.get(snoozed_thread.quote_message_id) is None or \
        before[snoozed_thread.quote_message_id].snoozed_until is None
    # Undone, the answer leaves the model and the follow-up is back.
    undone = outcomes.undo(settings, engine, report.thread_id, "reply", by=REP, now=now)
    assert undone.report.status == report.status and undone.restored == 1
    assert next(r for r in list_followups(engine) if r.id == pending.id).status == "drafted"


def test_migration_0013_fills_the_short_ids_and_the_history_of_existing_marks(database_url):
    """A database at 0012 with a stored thread and an outcome marked then: after 0013 the
    thread has its digest (what short ids are looked up by) and the mark a history row,
    so it can be undone; every table matches the models."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select, text

    from assistant.storage import models
    from assistant.storage.db import MIGRATIONS, make_engine

    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0012")
    at = local(2026, 11, 20, 10)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO threads (quote_message_id, subject, owner_candidates, "
                          "scenario_base, touches, base_status, bounced_recipients) VALUES "
                          "(:q, 'Cotización', '[]', 'rep', 0, 'closed', '[]')"), {"q": Q})
        conn.execute(text("INSERT INTO thread_marks (quote_message_id, outcome, updated_at, "
                          "updated_by) VALUES (:q, 'lost', :at, 'ana@acme.example')"),
                     {"q": Q, "at": at})
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        assert conn.scalar(select(models.ThreadRow.thread_id)) == thread_digest(Q)
        assert repo.threads_by_digest(conn, thread_digest(Q)[:SHOWN]) == [Q]
        action = conn.execute(select(models.ThreadAction)).one()
        assert (action.quote_message_id, action.action, action.value, action.by) == (
            Q, "mark", "lost", "ana@acme.example")
        assert models.as_utc(action.at) == at and action.undone_at is None
        undone = repo.undo_action(conn, Q, "mark", at=at, by="ana@acme.example")
        assert undone is not None and undone.value == "lost"
    engine.dispose()
