"""Planning and review on the demo team: real Maildir folders, real databases (SQLite file,
PostgreSQL when reachable), the real connectors — plus a test double of the Connector
protocol where a transport or a crash is needed."""

from __future__ import annotations

import email
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.drafting.templates import TemplateProblem
from assistant.demo.sample import generate_sample
from assistant.services import reconcile, review
from assistant.services.planning import plan
from assistant.services.review import (
    FollowupError, approve, as_json, get, list_followups, save_edit,
)
from assistant.services.scan import open_store, scan
from assistant.services.sync import open_connector_for, sync
from assistant.services.templates import save_template, template_history
from assistant.settings import load_settings
from assistant.storage import models, repo
from assistant.wording import reason_words
from connectors.mailbox import MaildirConnector, open_connector


@pytest.fixture
def team(tmp_path, database_url):
    info = generate_sample(tmp_path / "demo")
    settings = load_settings(info.settings_path, environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    sync(settings, engine)
    yield settings, engine, info.now, tmp_path / "demo"
    engine.dispose()


def drafts_in(root: Path, account: str) -> list[Path]:
    folder = root / "mail" / account / ".Drafts"
    return sorted(p for sub in ("cur", "new") for p in (folder / sub).glob("*")) if folder.exists() else []


def by_contact(engine, contact: str) -> models.Followup:
    rows = [r for r in list_followups(engine) if r.contact == contact]
    assert len(rows) == 1, contact
    return rows[0]


def test_plan_creates_one_follow_up_per_due_step_on_every_channel(team):
    settings, engine, now, root = team
    result = plan(settings, engine, now)
    rows = list_followups(engine)
    assert len(result.created) == 12 and len(result.held) == 1 and len(rows) == 13
    assert {r.channel for r in rows} == {"email", "phone", "whatsapp"}
    due = {r.quote_message_id for r in scan(settings, engine, now) if r.status == "silent"}
    assert {r.quote_message_id for r in rows} == due

    # Email: a threaded reply draft in the owner's own Maildir Drafts folder.
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    assert (rosa.status, rosa.channel, rosa.assignee, rosa.account) == (
        "drafted", "email", "ana@aceros.example", "ana")
    assert rosa.template == "followup_1" and rosa.language == "es" and rosa.template_version == 0
    files = drafts_in(root, "ana")
    assert len(files) == 5
    saved = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in files]
    mine = next(m for m in saved if m["X-Followup-Id"] == rosa.key)
    assert mine["Subject"] == "Re: Material para obra Cumbres"
    assert mine["In-Reply-To"] == rosa.quote_message_id
    assert rosa.quote_message_id in mine["References"]
    assert mine["From"].addresses[0].addr_spec == "ana@aceros.example"
    assert mine["To"].addresses[0].addr_spec == "rosa.elizondo@constructoramty.example"
    body = mine.get_content()
    assert body.startswith("Hola Rosa,") and "CN-2026-0412" in body and "Tel. +52 81 8300 1020" in body
    assert not drafts_in(root, "marta") or all(
        "X-Followup-Id" in p.read_text() for p in drafts_in(root, "marta"))

    # Phone: a call task with talking points and the tel: link from the client's signature.
    call = by_contact(engine, "dzambrano@barandalesmx.example")
    assert (call.channel, call.step, call.link) == ("phone", 2, "tel:+528122334455")
    assert "Hola Daniela, soy Ana de Aceros del Norte" in call.body
    # ... and one whose contact never wrote: no link, and the task says so.
    sergio = by_contact(engine, "smontemayor@carroceriasmonterrey.example")
    assert sergio.link is None and "No se encontró teléfono" in sergio.body

    # WhatsApp: the message with a wa.me link (mobile from the client's "+52 1" signature).
    wa = by_contact(engine, "diego.morales@acerosyperfiles.example")
    assert (wa.channel, wa.step, wa.assignee) == ("whatsapp", 4, "luis@aceros.example")
    assert wa.link.startswith("https://wa.me/528115552030?text=Hola%20Diego%2C%20soy%20Luis")

    # Duplicate-contact guard: Marta wrote to Gerardo yesterday, so Ana's step 1 is held.
    held = by_contact(engine, "gerardo.trevino@grupoindustrialrio.example")
    assert held.status == "held"
    # Stored as a code and its values, worded in the reader's language (not the thread's):
    assert reason_words(held.hold_reason, "es") == (
        "Marta Garza escribió a Gerardo Treviño (gerardo.trevino@grupoindustrialrio.example) el 25 nov")
    assert reason_words(held.hold_reason, "en") == (
        "Marta Garza wrote to Gerardo Treviño (gerardo.trevino@grupoindustrialrio.example) on 25 Nov")
    assert not any(m["X-Followup-Id"] == held.key for m in saved)

    document = [as_json(r) for r in rows]
    assert all(list(d) == ["id", "thread_id", "quote_message_id", "step", "channel", "assignee", "status",
                           "due_at", "subject", "body", "link", "hold_reason", "cc"] for d in document)
    assert all(datetime.fromisoformat(d["due_at"]).tzinfo is not None for d in document)


def test_plan_twice_creates_nothing_new(team):
    settings, engine, now, root = team
    first = plan(settings, engine, now)
    again = plan(settings, engine, now + timedelta(hours=1))
    assert first.created and again.created == [] and again.held == []
    assert len(list_followups(engine)) == len(first.created) + len(first.held)
    assert len(drafts_in(root, "ana")) == 5 and len(drafts_in(root, "luis")) == 2


class Crash(Exception):
    pass


def test_crash_after_the_draft_is_saved_before_the_commit_leaves_exactly_one_draft(team):
    settings, engine, now, root = team

    def crash(key: str, provider_id: str) -> None:
        raise Crash(provider_id)

    with pytest.raises(Crash):
        plan(settings, engine, now, after_draft_saved=crash)
    assert len(drafts_in(root, "luis")) + len(drafts_in(root, "ana")) == 1  # saved, then "died"
    before = list_followups(engine)
    result = plan(settings, engine, now)
    assert len(result.reconciled) == 1
    rows = list_followups(engine)
    assert len(rows) == len(before) + len(result.created) + len(result.held)
    emails = [r for r in rows if r.channel == "email" and r.status == "drafted"]
    files = drafts_in(root, "ana") + drafts_in(root, "luis")
    keys = [email.message_from_bytes(p.read_bytes())["X-Followup-Id"] for p in files]
    assert sorted(keys) == sorted(r.key for r in emails)  # one draft per follow-up, no duplicate
    adopted = next(r for r in rows if r.id == result.reconciled[0])
    assert adopted.draft_ref == MaildirConnector(root / "mail" / adopted.account).find_draft(adopted.key)
    assert adopted.draft_claim is None and result.resumed == [adopted.id]


class Killed(BaseException):
    """The planner's process dies (no exception handler of ours runs, like SIGKILL)."""


class Interleaving:
    """A test double of the Connector protocol around the real Maildir connector: the first
    time ``at`` (``find_draft`` or ``save_draft``) is called, ``then()`` runs right after
    the real call — another planner running at that moment, or this planner dying."""

    def __init__(self, account, at: str, then) -> None:
        self.inner, self.at, self.then = open_connector_for(account), at, then

    def _step(self, name: str) -> None:
        if name == self.at and self.then is not None:
            then, self.then = self.then, None
            then()

    def fetch(self, cursor):
        return self.inner.fetch(cursor)

    def find_draft(self, key):
        found = self.inner.find_draft(key)
        self._step("find_draft")
        return found

    def save_draft(self, draft):
        ref = self.inner.save_draft(draft)
        self._step("save_draft")
        return ref

    def close(self):
        self.inner.close()


def mailbox_keys(root: Path) -> Counter:
    return Counter(email.message_from_bytes(p.read_bytes())["X-Followup-Id"]
                   for p in root.glob("mail/*/.Drafts/*/*"))


def assert_one_draft_per_email_follow_up(engine, root: Path) -> list[models.Followup]:
    rows = list_followups(engine)
    assert len({r.key for r in rows}) == len(rows)
    emails = [r for r in rows if r.channel == "email" and r.status == "drafted"]
    keys = mailbox_keys(root)
    assert keys == Counter(r.key for r in emails)  # each exactly once, nothing else
    for row in emails:
        assert row.draft_ref == MaildirConnector(root / "mail" / row.account).find_draft(row.key)
        assert row.draft_claim is None and row.draft_claimed_at is None
    return rows


def age_claims(engine, hours: float = 1) -> None:
    """Time passes: the claims left by a dead planner become stale."""
    with engine.begin() as conn:
        conn.execute(update(models.Followup).where(models.Followup.draft_claim.is_not(None))
                     .values(draft_claimed_at=datetime.now(timezone.utc) - timedelta(hours=hours)))


@pytest.mark.parametrize("at", ["find_draft", "save_draft"])
def test_two_planners_at_once_leave_one_draft_per_follow_up(team, at):
    """The reviewer's race: planner B runs while planner A is between "looked in the
    mailbox" (or "saved") and "recorded". B must not save what A has claimed; A must not
    save what B planned meanwhile."""
    settings, engine, now, root = team
    other = {}

    def planner_b():
        other["result"] = plan(settings, engine, now)

    first = plan(settings, engine, now,
                 open_connector=lambda account: Interleaving(account, at, planner_b))
    second = other["result"]
    rows = assert_one_draft_per_email_follow_up(engine, root)
    assert len(rows) == 13 and sum(mailbox_keys(root).values()) == 7
    assert sorted(first.created + first.held + second.created + second.held) == sorted(r.id for r in rows)
    assert len(first.created) >= 1 and second.resumed == [] and first.resumed == []
    # B ran while A held the claim of A's first email follow-up: B left it alone.
    claimed_by_a = min(r.id for r in rows if r.channel == "email" and r.id in first.created)
    assert claimed_by_a not in second.created


@pytest.mark.parametrize("dies", ["before saving", "after saving"])
def test_a_planner_killed_holding_a_claim_is_finished_once_its_claim_is_stale(team, dies):
    settings, engine, now, root = team

    def die(*_):
        raise Killed

    with pytest.raises(Killed):
        if dies == "before saving":  # claimed, looked in the mailbox, died before saving
            plan(settings, engine, now,
                 open_connector=lambda account: Interleaving(account, "find_draft", die))
        else:  # saved, died before recording the ref
            plan(settings, engine, now, after_draft_saved=die)
    [stuck] = [r for r in list_followups(engine) if r.channel == "email"]
    assert stuck.draft_ref is None and stuck.draft_claim is not None
    assert as_json(stuck)["status"] == "drafted"  # within the contract's statuses
    assert sum(mailbox_keys(root).values()) == (0 if dies == "before saving" else 1)

    # Right away the claim may be a live planner's (a slow mailbox): left alone, the
    # other follow-ups are planned.
    soon = plan(settings, engine, now)
    assert soon.resumed == [] and soon.created
    assert get(engine, stuck.id).draft_ref is None
    assert mailbox_keys(root)[stuck.key] == (0 if dies == "before saving" else 1)

    age_claims(engine)
    later = plan(settings, engine, now)
    assert later.resumed == [stuck.id] and later.created == [] and later.held == []
    assert later.reconciled == ([] if dies == "before saving" else [stuck.id])
    assert_one_draft_per_email_follow_up(engine, root)
    assert get(engine, stuck.id).status == "drafted"

    again = plan(settings, engine, now)
    assert (again.created, again.resumed, again.reconciled) == ([], [], [])
    assert_one_draft_per_email_follow_up(engine, root)


def test_two_planners_resuming_the_same_dead_claim_save_one_draft(team):
    settings, engine, now, root = team

    def die(*_):
        raise Killed

    with pytest.raises(Killed):
        plan(settings, engine, now,
             open_connector=lambda account: Interleaving(account, "find_draft", die))
    [stuck] = [r for r in list_followups(engine) if r.channel == "email"]
    age_claims(engine)
    other = {}

    def resumer_b():  # runs while A has taken the claim over and looked in the mailbox
        other["result"] = plan(settings, engine, now)

    first = plan(settings, engine, now,
                 open_connector=lambda account: Interleaving(account, "find_draft", resumer_b))
    second = other["result"]
    assert first.resumed == [stuck.id] and second.resumed == []
    assert mailbox_keys(root)[stuck.key] == 1
    assert_one_draft_per_email_follow_up(engine, root)


class SendingConnector:
    """A test double of the Connector protocol with a transport (what IMAP/Gmail/Graph
    connectors will offer): drafts go to a real Maildir, sending records the draft."""

    sent: list[str] = []

    def __init__(self, path: Path) -> None:
        self.inner = open_connector("maildir", path)

    def fetch(self, cursor):
        return self.inner.fetch(cursor)

    def save_draft(self, draft):
        return self.inner.save_draft(draft)

    def find_draft(self, key):
        return self.inner.find_draft(key)

    def send_draft(self, provider_id: str) -> str:
        SendingConnector.sent.append(provider_id)
        return "<sent@x>"

    def close(self):
        self.inner.close()


def test_approve_with_auto_send_sends_through_a_connector_that_can_and_says_so_when_not(team, tmp_path):
    settings, engine, now, root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    maildir_only = approve(settings, engine, rosa.id, now=now)
    assert maildir_only.row.status == "approved" and "send it from your mail client" in maildir_only.note

    import dataclasses
    auto = dataclasses.replace(settings, protocol=dataclasses.replace(settings.protocol, auto_send=True))
    fid = by_contact(engine, "pleal@metalmecanicaleal.example").id
    note = approve(auto, engine, fid, now=now).note
    assert "no way to send mail" in note and get(engine, fid).status == "approved"

    fid = by_contact(engine, "fsaldana@grupoconstruye.example").id
    SendingConnector.sent.clear()
    done = approve(auto, engine, fid, now=now,
                   open_connector=lambda account: SendingConnector(account.path))
    assert done.row.status == "sent" and SendingConnector.sent == [done.row.draft_ref]
    with pytest.raises(FollowupError, match="is sent"):
        approve(auto, engine, fid, now=now)


def test_approving_a_held_follow_up_saves_its_draft_then(team):
    settings, engine, now, root = team
    plan(settings, engine, now)
    held = by_contact(engine, "gerardo.trevino@grupoindustrialrio.example")
    count = len(drafts_in(root, "ana"))
    result = approve(settings, engine, held.id, now=now)
    assert result.row.status == "approved" and result.row.hold_reason is None
    assert len(drafts_in(root, "ana")) == count + 1


def test_approve_never_saves_a_draft_a_planner_is_saving_and_finishes_a_dead_ones(team):
    settings, engine, now, root = team
    plan(settings, engine, now)
    row = next(r for r in list_followups(engine)
               if r.channel == "email" and r.status == "drafted")
    # A planner claimed this follow-up a moment ago and is saving its draft.
    for path in drafts_in(root, row.account):
        if email.message_from_bytes(path.read_bytes())["X-Followup-Id"] == row.key:
            path.unlink()
    with engine.begin() as conn:
        conn.execute(update(models.Followup).where(models.Followup.id == row.id).values(
            draft_ref=None, draft_claim="live-planner", draft_claimed_at=datetime.now(timezone.utc)))
    with pytest.raises(FollowupError, match="being drafted right now"):
        approve(settings, engine, row.id, now=now)
    assert mailbox_keys(root)[row.key] == 0
    # That planner died: once its claim is stale, approving saves the draft exactly once.
    age_claims(engine)
    result = approve(settings, engine, row.id, now=now)
    assert result.row.status == "approved" and mailbox_keys(root)[row.key] == 1


def test_edit_replaces_the_draft_and_refuses_an_empty_body(team):
    settings, engine, now, root = team
    plan(settings, engine, now)
    row = by_contact(engine, "rosa.elizondo@constructoramty.example")
    with pytest.raises(FollowupError, match="body is empty"):
        save_edit(settings, engine, row.id, "Subject: Re: Material\n\n   \n", now=now)
    save_edit(settings, engine, row.id, "Subject: Material para obra Cumbres\n\n"
              "Rosa, ¿te marco mañana para revisar la cotización?\n", now=now)
    edited = get(engine, row.id)
    assert edited.subject == "Re: Material para obra Cumbres"
    files = drafts_in(root, "ana")
    assert len(files) == 5
    texts = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in files]
    mine = [m for m in texts if m["X-Followup-Id"] == row.key]
    assert len(mine) == 1 and mine[0].get_content().startswith("Rosa, ¿te marco mañana")
    assert mine[0]["In-Reply-To"] == row.quote_message_id


def write_mail(root: Path, account: str, data: bytes, name: str) -> None:
    (root / "mail" / account / "cur" / f"{name}:2,S").write_bytes(data)


def patricias_reply(root: Path, quote_message_id: str, name: str, body: str) -> None:
    """Patricia Leal answers Ana's quote on Fri 27 Nov, 10:00 (Ana's mailbox)."""
    reply = (f"From: Patricia Leal <pleal@metalmecanicaleal.example>\nTo: ana@aceros.example\n"
             f"Subject: RE: Cotización placa A36\nDate: Fri, 27 Nov 2026 10:00:00 -0600\n"
             f"Message-ID: <{name}@metalmecanicaleal.example>\nIn-Reply-To: {quote_message_id}\n"
             f"Content-Type: text/plain; charset=utf-8\n\n{body}\n")
    write_mail(root, "ana", reply.encode(), name)


def test_next_sync_closes_a_sent_draft_as_done_and_a_reply_cancels(team):
    settings, engine, now, root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    # The rep sends the draft from their mail client: the sent copy lands in their mailbox.
    draft = next(p for p in drafts_in(root, "ana") if rosa.key in p.read_text())
    write_mail(root, "ana", draft.read_bytes(), "sent-by-ana")
    # Another client answers (a real reply) on their thread.
    patricia = by_contact(engine, "pleal@metalmecanicaleal.example")
    patricias_reply(root, patricia.quote_message_id, "reply-1",
                    "Ana, ¿me confirmas el tiempo de entrega?")
    import time
    time.sleep(2.2)  # the Maildir connector waits for files to settle (see its docs)
    sync(settings, engine)
    done = get(engine, rosa.id)
    assert (done.status, reason_words(done.closed_reason)) == ("done", "step taken")
    cancelled = get(engine, patricia.id)
    assert (cancelled.status, reason_words(cancelled.closed_reason)) == ("cancelled", "the client replied on 27 Nov")
    assert reason_words(cancelled.closed_reason, "es") == "el cliente respondió el 27 nov"
    # Its draft ("¿te llegó la cotización?") left Ana's Drafts for her Maildir's .Trash.
    assert not [p for p in drafts_in(root, "ana") if patricia.key in p.read_text()]
    trashed = [p for p in (root / "mail" / "ana" / ".Trash" / "cur").iterdir() if patricia.key in p.read_text()]
    assert len(trashed) == 1 and trashed[0].name.startswith(cancelled.draft_ref.removeprefix("Drafts/"))
    assert (cancelled.draft_trash, cancelled.draft_trashed_at is not None) == ("trashed", True)
    # The Trash is never read as mail, and a second run does nothing.
    assert reconcile.trash_cancelled_drafts(settings, engine, now) == 0
    sync(settings, engine)
    assert get(engine, patricia.id).draft_trashed_at == cancelled.draft_trashed_at
    assert len(list((root / "mail" / "ana" / ".Trash" / "cur").iterdir())) == 1
    assert get(engine, rosa.id).draft_trash is None  # done, not cancelled: its draft stays


def test_touch_closes_the_phone_step_and_mark_lost_cancels(team):
    settings, engine, now, root = team
    plan(settings, engine, now)
    call = by_contact(engine, "dzambrano@barandalesmx.example")
    thread, closed = review.touch(settings, engine, call.quote_message_id.strip("<>")[:14],
                                  "phone", note="Lo revisan el lunes", now=now + timedelta(minutes=5))
    assert thread == call.quote_message_id and closed >= 1
    assert get(engine, call.id).status == "done"
    with Session(engine) as session:
        touch = session.scalars(select(models.Touch)).one()
        assert (touch.by, touch.channel, touch.note) == ("ana@aceros.example", "phone", "Lo revisan el lunes")
    with pytest.raises(FollowupError, match="matches"):
        review.touch(settings, engine, "<17", "phone", now=now)

    wa = by_contact(engine, "diego.morales@acerosyperfiles.example")
    with engine.begin() as conn:
        repo.save_mark(conn, wa.quote_message_id, outcome="lost", at=now, by=None)
    reconcile.reconcile(settings, engine, now)
    row = get(engine, wa.id)
    assert (row.status, reason_words(row.closed_reason)) == ("cancelled", "thread closed: marked lost")


def test_a_cancelled_drafts_gone_one_is_recorded_and_an_undo_saves_the_trashed_one_again(team):
    from click.testing import CliRunner

    from assistant.cli import main
    from assistant.services import outcomes

    settings, engine, now, root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    patricia = by_contact(engine, "pleal@metalmecanicaleal.example")
    # Ana already sent Rosa's draft from her mail client: it is gone from Drafts.
    sent = [p for p in drafts_in(root, "ana") if rosa.key in p.read_text()]
    assert len(sent) == 1
    sent[0].unlink()
    for row in (rosa, patricia):
        outcomes.mark(settings, engine, row.quote_message_id, "lost", now=now)
    gone, trashed = get(engine, rosa.id), get(engine, patricia.id)
    assert (gone.status, gone.draft_trash, gone.draft_trashed_at is not None) == ("cancelled", "gone", True)
    assert (trashed.status, trashed.draft_trash) == ("cancelled", "trashed")
    assert not [p for p in drafts_in(root, "ana") if patricia.key in p.read_text()]
    # drafts show says where the draft went, in the team's language.
    result = CliRunner().invoke(main, ["--config", str(settings.path), "drafts", "show", str(patricia.id)],
                                env={"FOLLOWUP_DATABASE_URL": str(engine.url.render_as_string(False))})
    assert result.exit_code == 0, result.output
    assert "se movió a la Papelera del buzón ana" in result.output
    result = CliRunner().invoke(main, ["--config", str(settings.path), "drafts", "show", str(rosa.id)],
                                env={"FOLLOWUP_DATABASE_URL": str(engine.url.render_as_string(False))})
    assert "ya no estaba en Borradores de ana" in result.output

    # The mark is undone: Patricia's follow-up is back, and the next plan saves its draft anew.
    outcomes.undo(settings, engine, patricia.quote_message_id, "mark", now=now)
    back = get(engine, patricia.id)
    assert (back.status, back.draft_ref, back.draft_trash) == ("drafted", None, None)
    plan(settings, engine, now)
    again = get(engine, patricia.id)
    assert again.draft_ref and len([p for p in drafts_in(root, "ana") if patricia.key in p.read_text()]) == 1
    assert reconcile.trash_cancelled_drafts(settings, engine, now) == 0  # nothing cancelled is left


def test_a_render_failure_holds_that_follow_up_and_plans_the_rest(team):
    settings, engine, now, root = team
    # An edited version stored before validation existed (saving one now is refused):
    with pytest.raises(TemplateProblem, match="nombre"):
        save_template(engine, "followup_1", "es",
                      "Subject: Re: {{ quote.subject }}\n\nHola {{ contact.nombre }}\n", "marta@aceros.example")
    with Session(engine) as session, session.begin():
        session.add(models.TemplateVersion(name="followup_1", language="es", version=1,
                                           subject="Re: {{ quote.subject }}",
                                           body="Hola {{ contact.nombre }},\n", author="marta@aceros.example",
                                           created_at=now.astimezone(timezone.utc)))
    result = plan(settings, engine, now)
    rows = list_followups(engine)
    broken = [r for r in rows if r.template == "followup_1" and r.language == "es"]
    assert broken and all(r.status == "held" and r.template_version == 1 for r in broken)
    assert all("followup_1.es v1 (marta@aceros.example) line 3" in reason_words(r.hold_reason)
               and "nombre" in reason_words(r.hold_reason) for r in broken)
    assert all(reason_words(r.hold_reason, "es").startswith("error en la plantilla: ")
               and "línea 3" in reason_words(r.hold_reason, "es") for r in broken)
    assert {r.channel for r in rows if r.status == "drafted"} == {"phone", "whatsapp"}
    assert result.problems and len(result.created) == 5


def test_saved_template_versions_are_used_and_recorded(team):
    settings, engine, now, root = team
    text = ("{# editado #}\nSubject: Re: {{ quote.subject }}\n\n"
            "{{ contact.first_name or 'Hola' }}, ¿seguimos con la cotización?\n\n{{ owner.signature }}\n")
    assert save_template(engine, "followup_1", "es", text, "marta@aceros.example", now) == 1
    assert save_template(engine, "followup_1", "es", text.replace("seguimos", "avanzamos"),
                         "marta@aceros.example", now) == 2
    history = template_history(engine)
    assert [(h.version, h.author) for h in history] == [(1, "marta@aceros.example"), (2, "marta@aceros.example")]
    with pytest.raises(TemplateProblem):
        save_template(engine, "followup_1", "es", "Subject: x\n\n{{ ''.__class__.__mro__ }}\n", "x@y")
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    assert rosa.template_version == 2 and rosa.body.startswith("Rosa, ¿avanzamos con la cotización?")
    english = [r for r in list_followups(engine) if r.language == "en"]
    assert all(r.template_version == 0 for r in english)


def test_a_refresh_names_the_threads_it_changed_and_only_their_follow_ups_are_settled(team):
    from assistant.services import reconcile, snapshot

    settings, engine, now, _root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    patricia = by_contact(engine, "pleal@metalmecanicaleal.example")
    rules = reconcile.rules_for(settings)
    with engine.begin() as conn:  # both threads marked lost; only Rosa's refresh is settled
        repo.save_mark(conn, rosa.quote_message_id, at=now, by="ana@aceros.example", outcome="lost")
    refreshed = snapshot.ensure_current(engine, rules)
    assert rosa.quote_message_id in refreshed.changed
    assert patricia.quote_message_id not in refreshed.changed
    with engine.begin() as conn:
        repo.save_mark(conn, patricia.quote_message_id, at=now, by="ana@aceros.example",
                       outcome="lost")
    snapshot.ensure_current(engine, rules)
    assert reconcile.reconcile_changed(settings, engine, now, refreshed.changed) == 1
    assert reason_words(get(engine, rosa.id).closed_reason) == "thread closed: marked lost"
    assert get(engine, patricia.id).status == rosa.status  # untouched: not changed
    assert reconcile.reconcile(settings, engine, now) == 1  # the full reconcile settles it
    assert get(engine, patricia.id).status == "cancelled"


def test_after_a_holding_reply_the_new_rounds_step_1_is_planned_once(team):
    """The client answers "te confirmo el lunes" to a thread whose step 1 was drafted: that
    draft is cancelled, and once the promised day's cadence is due, step 1 of the new round
    is a follow-up of its own (DESIGN.md rule 9), planned once however often plan runs."""
    settings, engine, now, root = team
    plan(settings, engine, now)
    first = by_contact(engine, "pleal@metalmecanicaleal.example")
    assert first.step == 1 and first.status == "drafted"
    patricias_reply(root, first.quote_message_id, "holding-1",
                    "Gracias Ana, lo reviso y te confirmo el lunes.")
    import time
    time.sleep(2.2)  # the Maildir connector waits for files to settle (see its docs)
    sync(settings, engine)
    assert get(engine, first.id).status == "cancelled"
    later = now + timedelta(days=14)
    [thread] = [r for r in scan(settings, engine, later) if r.quote_message_id == first.quote_message_id]
    assert thread.status == "silent" and thread.next_step.number == 1 and thread.promised_date
    created = plan(settings, engine, later).created
    rows = [r for r in list_followups(engine) if r.quote_message_id == first.quote_message_id]
    [again] = [r for r in rows if r.id != first.id]
    assert again.id in created and again.step == 1 and again.status == "drafted"
    assert again.key != first.key and again.key in mailbox_keys(root)
    # It follows up on what she said, not "did the quote reach you?" (the template's reply)
    assert "lo que platicamos el viernes 27 de noviembre" in again.body, again.body
    assert "te llegó la cotización" not in again.body
    assert plan(settings, engine, later).created == []
    reconcile.reconcile(settings, engine, later)
    assert get(engine, again.id).status == "drafted" and get(engine, first.id).status == "cancelled"


def test_migration_0019_marks_the_follow_ups_planned_before_keys_named_rounds(team):
    """After 0019 the follow-ups planned before it are legacy (their first-round keys may
    be a later round's step); those planned after are not."""
    from alembic import command
    from alembic.config import Config

    from assistant.storage.db import MIGRATIONS

    settings, engine, now, _ = team
    plan(settings, engine, now)
    planned = max(r.id for r in list_followups(engine))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for target in ("0018", "head"):
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            (command.downgrade if target == "0018" else command.upgrade)(config, target)
    with engine.connect() as conn:
        assert repo.legacy_followups(conn) == planned
        keys = repo.followup_keys(conn, {r.quote_message_id for r in list_followups(engine)})
    assert all(legacy for _, _, legacy in keys.values())


def test_threads_in_a_mailbox_whose_sync_failed_wait_until_it_is_read_again(team):
    """Ana's mailbox cannot be read (moved, the server down): a client's answer there may be
    unread, so her due threads are not planned (listed per mailbox); the other reps' are.
    Once her mailbox syncs again, they are planned."""
    settings, engine, now, root = team
    mailbox = root / "mail" / "ana"
    mailbox.rename(root / "mail" / "ana-away")
    results = sync(settings, engine)
    assert [r.status for r in results if r.account == "ana"] == ["needs_attention"]
    first = plan(settings, engine, now)
    assert set(first.unread) == {"ana"} and first.unread["ana"]
    planned = {r.quote_message_id for r in list_followups(engine)}
    assert planned and not planned & set(first.unread["ana"])
    (root / "mail" / "ana-away").rename(mailbox)
    sync(settings, engine)
    second = plan(settings, engine, now)
    assert second.unread == {}
    assert set(first.unread["ana"]) <= {r.quote_message_id for r in list_followups(engine)}


def test_a_quote_from_the_shared_mailbox_is_the_quote_we_sent_not_the_one_i_sent(team):
    settings, engine, now, _root = team
    plan(settings, engine, now)
    quotes = {r.quote_message_id: r for r in scan(settings, engine, now)}
    firsts = [f for f in list_followups(engine) if f.step == 1 and f.body]
    from_shared = [f for f in firsts if _quote_sender(engine, f.quote_message_id) == "ventas@aceros.example"]
    own = [f for f in firsts if _quote_sender(engine, f.quote_message_id) == f.assignee]
    assert from_shared and own, "the sample plans first steps of both kinds"
    # (a later round's first step speaks of the client's reply instead, sending unsaid)
    assert not any("envié" in f.body for f in from_shared)  # handed to a rep: "we sent"
    assert any("enviamos" in f.body for f in from_shared)
    assert not any("enviamos" in f.body for f in own)
    assert any("envié" in f.body for f in own)
    assert all(f.quote_message_id in quotes for f in firsts)


def _quote_sender(engine, quote_message_id: str) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(models.Message.from_addr)
                           .where(models.Message.message_id == quote_message_id))


def test_drafts_skip_moves_the_draft_to_the_trash_at_once(team):
    """`drafts skip` (and the web's Skip) trash the draft in the same command: a rep who
    skips and opens their mail client must not find it in Drafts, ready to send."""
    from click.testing import CliRunner

    from assistant.cli import main

    settings, engine, now, root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    assert [p for p in drafts_in(root, "ana") if rosa.key in p.read_text()]
    result = CliRunner().invoke(main, ["--config", str(settings.path), "drafts", "skip",
                                       str(rosa.id), "--reason", "ya llamé", "--now", now.isoformat()],
                                env={"FOLLOWUP_DATABASE_URL": str(engine.url)})
    assert result.exit_code == 0, result.output
    assert models.as_utc(get(engine, rosa.id).updated_at) == now  # skipped as of --now
    assert not [p for p in drafts_in(root, "ana") if rosa.key in p.read_text()]
    assert get(engine, rosa.id).draft_trash == "trashed"
    trashed = [p for p in (root / "mail" / "ana" / ".Trash" / "cur").iterdir() if rosa.key in p.read_text()]
    assert len(trashed) == 1
    shown = CliRunner().invoke(main, ["--config", str(settings.path), "drafts", "show", str(rosa.id)],
                               env={"FOLLOWUP_DATABASE_URL": str(engine.url)}).output
    assert "omitido: ya llamé" in shown and "cerrado:" not in shown  # the rep's skip, not a cancel
    assert "se movió a la Papelera del buzón ana al cerrarse el seguimiento" in shown


def test_a_skipped_email_follow_up_leaves_drafts_for_the_trash(team):
    from assistant.services.review import skip

    settings, engine, now, root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    assert [p for p in drafts_in(root, "ana") if rosa.key in p.read_text()]
    skip(engine, rosa.id, reason="ya hablé con ella", by="ana@aceros.example", now=now)
    reconcile.reconcile_if_pending(settings, engine, now)  # what the next sync, plan or list runs
    # A rep who skipped the step must not find "¿te llegó la cotización?" ready to send.
    assert not [p for p in drafts_in(root, "ana") if rosa.key in p.read_text()]
    trashed = [p for p in (root / "mail" / "ana" / ".Trash" / "cur").iterdir() if rosa.key in p.read_text()]
    assert len(trashed) == 1 and get(engine, rosa.id).draft_trash == "trashed"
    assert reconcile.trash_cancelled_drafts(settings, engine, now) == 0  # once


def test_a_skipped_step_moves_the_cadence_on_to_the_next_one(team):
    """The rep decided against step 1 ("ya hablé con ella"): the thread does not stay
    overdue on it for ever; step 2 comes due its after_days after the skip, and is
    planned then. No touch is counted (nobody was contacted)."""
    from assistant.services import snapshot
    from assistant.services.review import skip
    from assistant.services.rules import rules_from_settings
    from tests.test_read_model import answers

    settings, engine, now, _root = team
    plan(settings, engine, now)
    rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
    before = next(r for r in scan(settings, engine, now) if r.quote_message_id == rosa.quote_message_id)
    assert (before.status, before.next_step.number, rosa.step) == ("silent", 1, 1)
    skip(engine, rosa.id, reason="ya hablé con ella", by="ana@aceros.example", now=now)
    after = next(r for r in scan(settings, engine, now) if r.quote_message_id == rosa.quote_message_id)
    second = settings.protocol.steps[1]
    assert after.next_step.number == 2 and after.next_step.channel == second.channel
    assert after.status == "waiting" and after.next_step.due_at > now
    assert after.touches == before.touches  # a skip is no touch
    # The rebuild reads the skip the same way as the incremental index did.
    incremental = answers(scan(settings, engine, now))
    snapshot.rebuild(engine, rules_from_settings(settings))
    assert answers(scan(settings, engine, now)) == incremental
    # When step 2 comes due, it is planned (the skipped step 1 is not planned again).
    due = after.next_step.due_at
    plan(settings, engine, due)
    steps = sorted(f.step for f in list_followups(engine) if f.quote_message_id == rosa.quote_message_id)
    assert steps == [1, 2]


def test_the_draft_copies_the_clients_boss_who_was_on_the_quote_and_drafts_show_says_so(
        tmp_path, database_url):
    """Rosa's quote went to her with her boss and an Aceros colleague in copy: the
    follow-up draft in Ana's Drafts copies the boss (by name), not the colleague, and the
    rep sees it before approving (``drafts show``, the follow-up's page)."""
    from click.testing import CliRunner

    from assistant.cli import main

    info = generate_sample(tmp_path / "demo")
    quote = next(p for p in (tmp_path / "demo" / "mail" / "ana" / "cur").iterdir()
                 if b"Subject: Material para obra Cumbres" in p.read_bytes())
    data = quote.read_bytes()
    quote.write_bytes(data.replace(b"\nSubject: Material para obra Cumbres", (
        b"\nCc: =?utf-8?q?Jes=C3=BAs_Pe=C3=B1a?= <jesus.pena@constructoramty.example>, "
        b"Marta Garza <marta@aceros.example>, avisos <noreply@constructoramty.example>"
        b"\nSubject: Material para obra Cumbres"), 1))
    environ = {"FOLLOWUP_DATABASE_URL": database_url}
    settings = load_settings(info.settings_path, environ=environ)
    engine = open_store(settings)
    try:
        sync(settings, engine)
        plan(settings, engine, info.now)
        rosa = by_contact(engine, "rosa.elizondo@constructoramty.example")
        assert rosa.cc == ["jesus.pena@constructoramty.example"]
        saved = [email.message_from_bytes(p.read_bytes(), policy=default_policy)
                 for p in drafts_in(tmp_path / "demo", "ana")]
        mine = next(m for m in saved if m["X-Followup-Id"] == rosa.key)
        assert [(a.display_name, a.addr_spec) for a in mine["Cc"].addresses] == [
            ("Jesús Peña", "jesus.pena@constructoramty.example")]
        others = [m for m in saved if m["X-Followup-Id"] != rosa.key]
        assert others and all(m["Cc"] is None for m in others)  # no one copied on the rest
        shown = CliRunner().invoke(main, ["--config", str(info.settings_path), "drafts", "show",
                                          str(rosa.id)], env=environ)
        assert shown.exit_code == 0, shown.output
        assert "con copia a: Jesús Peña (jesus.pena@constructoramty.example)" in shown.output
    finally:
        engine.dispose()
