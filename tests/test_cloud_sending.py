"""Sending through Gmail and Microsoft 365: approved follow-ups (``drafts.send`` /
``POST /messages/{id}/send``), edited drafts (``drafts.update`` / ``PATCH``) and the weekly
digest (``messages.send`` / ``sendMail``), on the demo team with Ana's mailbox served by the
loopback fakes, driven by the real client libraries, a real SQLite database and the CLI."""

from __future__ import annotations

import email
import os
from email.policy import default as default_policy
from pathlib import Path

import pytest

from assistant.demo.sample import generate_sample
from assistant.services import digest as D
from assistant.services.planning import plan
from assistant.services.review import FollowupError, approve, get, list_followups, save_edit
from assistant.services.scan import open_store
from assistant.services.sync import open_connector_for
from assistant.settings import load_settings
from assistant.settings import SettingsError
from connectors._cloud import Backoff
from connectors.base import ConfigurationError, DraftMessage
from connectors.gmail import GmailConnector
from connectors.outlook import OutlookConnector
from tests.fakes.gmail import FakeGmail
from tests.fakes.graph import FakeGraph, write_token_file as write_graph_token
from tests.test_pipeline import run
from assistant.wording import reason_words

ROSA = "rosa.elizondo@constructoramty.example"  # Ana's client with an email step due


class CloudTeam:
    """The demo team; Ana's mailbox is a fake Gmail or Graph server over her Maildir."""

    def __init__(self, kind: str, tmp_path: Path, monkeypatch, *, extra_digest: str = "") -> None:
        self.kind = kind
        info = generate_sample(tmp_path / "demo")
        self.root, self.now = tmp_path / "demo", info.now
        maildir = self.root / "mail" / "ana"
        token = tmp_path / f"{kind}-token.json"
        self.env = {"FOLLOWUP_DATABASE_URL": f"sqlite:///{tmp_path / 'followup.db'}"}
        if kind == "gmail":
            self.fake = FakeGmail(maildir, email_address="ana@aceros.example").start()
            self.fake.write_token_file(token)
        else:
            self.fake = FakeGraph(maildir, upn="ana@aceros.example").start()
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", self.fake.ca_file)
            self.env["REQUESTS_CA_BUNDLE"] = self.fake.ca_file
            write_graph_token(self.fake, token)
        self.path = info.settings_path
        text = self.path.read_text(encoding="utf-8")
        for old, new in ((f'kind = "maildir"\npath = "mail/ana"',
                          f'kind = "{kind}"\noauth = "{token}"\nhost = "{self.fake.url}"\nsync_days = 0'),
                         ("auto_send = false", "auto_send = true"),
                         ("[digest]\n", "[digest]\n" + extra_digest)):
            assert old in text
            text = text.replace(old, new, 1)
        self.path.write_text(text, encoding="utf-8")
        self.settings = load_settings(self.path, environ=self.env)
        self.engine = open_store(self.settings)

    def sync(self):
        return run("--config", str(self.path), "sync", env=self.env)

    def draft_of(self, key: str):
        found = [d for d in self.fake.drafts() if key.encode() in self.raw_of(d)]
        assert len(found) <= 1
        return found[0] if found else None

    def raw_of(self, stored) -> bytes:
        """A draft's content as the provider holds it (Graph keeps the body apart)."""
        if self.kind == "gmail":
            return stored.raw
        props = " ".join(self.fake.props.get(stored.id, {}).values())
        return stored.raw + props.encode() + self.fake.bodies.get(stored.id, "").encode()

    def close(self):
        self.engine.dispose()
        self.fake.stop()


@pytest.fixture(params=["gmail", "outlook"])
def cloud_team(request, tmp_path, monkeypatch):
    team = CloudTeam(request.param, tmp_path, monkeypatch)
    yield team
    team.close()


def rosa_followup(engine):
    rows = [r for r in list_followups(engine) if r.contact == ROSA and r.channel == "email"]
    assert len(rows) == 1
    return rows[0]


def test_approve_with_auto_send_sends_the_edited_draft_once_in_the_thread_and_sync_closes_it(cloud_team):
    team = cloud_team
    first = team.sync()
    assert first.returncode == 0, first.stderr
    plan(team.settings, team.engine, team.now)
    row = rosa_followup(team.engine)
    draft = team.draft_of(row.key)
    assert row.status == "drafted" and draft is not None and row.draft_ref
    quote = team.fake.store.by_message_id(row.quote_message_id)
    assert draft.thread == quote.thread  # the draft sits in the quote's conversation

    # drafts edit: the provider's draft is replaced, same id, still one draft.
    drafts_before = len(team.fake.drafts())
    save_edit(team.settings, team.engine, row.id,
              "Subject: Material para obra Cumbres\n\nRosa, ¿le marco mañana a las 10?\n",
              now=team.now)
    edited = get(team.engine, row.id)
    assert edited.draft_ref == row.draft_ref and len(team.fake.drafts()) == drafts_before
    assert "¿le marco mañana a las 10?".encode() in team.raw_of(team.draft_of(row.key))

    # Throttled once (Retry-After: 0): the backoff waits and the draft still goes out once.
    pattern = (r"POST /gmail/v1/users/me/drafts/send" if team.kind == "gmail"
               else r"POST /v1\.0/me/messages/[^/]+/send")
    team.fake.faults.add(pattern, 429, retry_after="0")
    done = approve(team.settings, team.engine, row.id, now=team.now)
    assert done.row.status == "sent" and "sent from ana" in done.note
    assert len(team.fake.sent) == 1 and team.draft_of(row.key) is None
    sent = team.fake.sent[0]
    assert sent.folder == "sent" and sent.thread == quote.thread  # in the thread, in Sent
    parsed = email.message_from_bytes(sent.raw, policy=default_policy)
    assert ROSA in parsed["To"]
    if team.kind == "gmail":  # Graph keeps the key in a named property, not an internet header
        assert parsed["X-Followup-Id"] == row.key
    assert "¿le marco mañana a las 10?" in parsed.get_body(("plain",)).get_content()
    assert sum(1 for line in team.fake.faults.log if "send" in line) == 2  # 429, then the send

    # Approving again, or planning again, sends nothing more.
    with pytest.raises(FollowupError, match="is sent"):
        approve(team.settings, team.engine, row.id, now=team.now)
    plan(team.settings, team.engine, team.now)
    assert len(team.fake.sent) == 1

    # The next `followup sync` reads the sent copy (the provider's Sent) and closes the step.
    again = team.sync()
    assert again.returncode == 0, again.stderr
    assert "ana: leídos 1, nuevos 1" in again.stdout  # team.language: es by default
    closed = get(team.engine, row.id)
    assert (closed.status, reason_words(closed.closed_reason)) == ("done", "step taken")


def test_a_draft_already_sent_is_never_sent_twice(cloud_team):
    """A crash after the provider sent the draft but before the database recorded it: the
    retried send finds no draft and refuses; the next sync closes the follow-up."""
    team = cloud_team
    assert team.sync().returncode == 0
    plan(team.settings, team.engine, team.now)
    row = rosa_followup(team.engine)
    connector = open_connector_for(team.settings.account("ana"))
    try:
        message_id = connector.send_draft(row.draft_ref)
        assert message_id.startswith("<") and len(team.fake.sent) == 1
    finally:
        connector.close()
    # The connector's refusal reaches the user as a follow-up error (the CLI and the web
    # app show it as a refusal, not a crash), and the follow-up goes back to drafted.
    with pytest.raises(FollowupError, match="not sent again"):
        approve(team.settings, team.engine, row.id, now=team.now)
    assert len(team.fake.sent) == 1 and get(team.engine, row.id).status == "drafted"
    assert team.sync().returncode == 0
    assert get(team.engine, row.id).status == "done"


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_digest_sent_through_the_connected_account_once_per_week(kind, tmp_path, monkeypatch):
    team = CloudTeam(kind, tmp_path, monkeypatch, extra_digest='send_with = "ana"\n')
    try:
        assert team.settings.digest.send_with == "ana"
        assert isinstance(D.sender_for(team.settings), D.AccountSender)
        assert team.sync().returncode == 0
        now = team.now.isoformat()
        pattern = (r"POST /gmail/v1/users/me/messages/send" if kind == "gmail"
                   else r"POST /v1\.0/me/sendMail")
        team.fake.faults.add(pattern, 429, retry_after="0")  # throttled once: retried through the backoff
        sent = run("--config", str(team.path), "digest", "--send", "--now", now, env=team.env)
        assert sent.returncode == 0, sent.stderr
        assert "marta@aceros.example: enviado" in sent.stdout  # team.language: es by default
        assert len(team.fake.sent) == 1  # one manager, one message
        message = email.message_from_bytes(team.fake.sent[0].raw, policy=default_policy)
        assert "marta@aceros.example" in message["To"] and message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        assert {p.get_content_type() for p in message.iter_parts()} == {"text/plain", "text/html"}
        assert "<html" in message.get_body(("html",)).get_content().lower()
        assert team.fake.sent[0].folder == "sent"

        # The scheduler's weekly slot: sent once, whatever the reruns.
        sender = D.sender_for(team.settings)
        week = D.send_digests(team.settings, team.engine, team.now, sender, period="2026-11-30")
        rerun = D.send_digests(team.settings, team.engine, team.now, sender, period="2026-11-30")
        assert [r.status for r in week] == ["sent"] and [r.status for r in rerun] == ["skipped"]
        assert len(team.fake.sent) == 2
        assert [s for m, p, s in D.digest_log(team.engine) if p == "2026-11-30"] == ["sent"]
    finally:
        team.close()


def test_send_with_must_name_a_gmail_or_outlook_account(tmp_path):
    info = generate_sample(tmp_path / "demo")
    base = info.settings_path.read_text(encoding="utf-8")
    for value, reason in (("luis", "maildir account, which cannot send"), ("nadie", 'no account is named "nadie"')):
        info.settings_path.write_text(base.replace("[digest]\n", f'[digest]\nsend_with = "{value}"\n'),
                                      encoding="utf-8")
        with pytest.raises(SettingsError, match="digest.send_with") as error:
            load_settings(info.settings_path, environ={})
        assert reason in str(error.value)
    info.settings_path.write_text(base.replace("[digest]\n", '[digest]\nsend_with = "smtp"\n'), encoding="utf-8")
    settings = load_settings(info.settings_path, environ={})
    with pytest.raises(D.DigestError, match="send_with"):  # smtp chosen, no [digest.smtp]
        D.sender_for(settings)


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_connectors_update_and_send_drafts_against_the_fakes(kind, tmp_path, monkeypatch):
    """The connector calls on their own: update keeps the id, send moves the draft to Sent
    in its thread and returns its Message-ID, a throttled send honours Retry-After."""
    maildir = Path(__file__).with_name("fixtures") / "examples" / "basic-team" / "mail" / "camila"
    quote_id = "<179586352451.22711.13998848030045958784@andina.example>"
    token = tmp_path / "token.json"
    sleeps: list[float] = []
    backoff = Backoff(tries=4, base=0.01, max_delay=1.0, sleep=sleeps.append)
    if kind == "gmail":
        fake = FakeGmail(maildir).start()
        fake.write_token_file(token)
        connector = GmailConnector(token, root_url=fake.url, backoff=backoff)
        pattern = r"POST /gmail/v1/users/me/drafts/send"
    else:
        fake = FakeGraph(maildir).start()
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
        write_graph_token(fake, token)
        connector = OutlookConnector(token, base_url=fake.url, backoff=backoff)
        pattern = r"POST /v1\.0/me/messages/[^/]+/send"
    try:
        def draft(body: str) -> DraftMessage:
            m = email.message.EmailMessage()
            m["From"], m["To"] = "camila@andina.example", "andres@uno.example"
            m["Subject"] = "Re: Cotización CT-2026-311 tubería PVC"  # Gmail threads only a matching subject
            m["Message-ID"], m["In-Reply-To"], m["References"] = "<fu-9@andina.example>", quote_id, quote_id
            m.set_content(body)
            return DraftMessage("fu-9", bytes(m))

        ref = connector.save_draft(draft("primera versión"))
        assert connector.update_draft(ref, draft("segunda versión")) == ref
        assert connector.find_draft("fu-9") == ref and len(fake.drafts()) == 1
        fake.faults.add(pattern, 429, retry_after="1")
        message_id = connector.send_draft(ref)
        assert sleeps == [1.0]  # the server's Retry-After
        assert fake.drafts() == [] and len(fake.sent) == 1
        sent = fake.sent[0]
        assert message_id == sent.message_id
        assert sent.thread == fake.store.by_message_id(quote_id).thread
        assert b"segunda versi" in sent.raw and b"primera" not in sent.raw
        assert connector.find_draft("fu-9") is None
        with pytest.raises(ConfigurationError, match="not sent again"):
            connector.send_draft(ref)
        with pytest.raises(ConfigurationError, match="nothing to update"):
            connector.update_draft(ref, draft("tercera"))
        assert len(fake.sent) == 1
    finally:
        connector.close()
        fake.stop()


def test_a_failed_send_leaves_the_follow_up_drafted_and_approving_again_sends_it_once(cloud_team):
    team = cloud_team
    assert team.sync().returncode == 0
    plan(team.settings, team.engine, team.now)
    row = rosa_followup(team.engine)
    pattern = (r"POST /gmail/v1/users/me/drafts/send" if team.kind == "gmail"
               else r"POST /v1\.0/me/messages/[^/]+/send")
    # Throttled past every retry (429: refused before it was accepted, so nothing went out).
    # A 5xx on a Gmail send is an unclear outcome, looked for in Sent with real waits:
    # tests/test_cloud_send_once.py covers it with a fast backoff.
    team.fake.faults.add(pattern, 429, times=50, retry_after="0")
    with pytest.raises(FollowupError, match="approve it again to retry"):
        approve(team.settings, team.engine, row.id, now=team.now)
    assert get(team.engine, row.id).status == "drafted" and team.fake.sent == []
    with team.fake.faults.lock:
        team.fake.faults.items.clear()  # the provider is back
    done = approve(team.settings, team.engine, row.id, now=team.now)
    assert done.row.status == "sent" and len(team.fake.sent) == 1


def test_a_cancelled_follow_ups_draft_goes_to_the_trash_once_the_mailbox_allows_it(cloud_team, caplog):
    from assistant.services import outcomes, reconcile
    from connectors.gmail import SIGN_IN_SCOPES

    team = cloud_team
    assert team.sync().returncode == 0
    plan(team.settings, team.engine, team.now)
    row = rosa_followup(team.engine)
    assert team.draft_of(row.key) is not None
    account = next(a for a in team.settings.accounts if a.name == row.account)
    if team.kind == "gmail":
        pass  # its sign-in predates gmail.modify: messages.trash answers 403 insufficientPermissions
    else:
        team.fake.faults.add(r"POST /v1\.0/me/messages/[^/]+/move", 503, times=10, retry_after="0")
    with caplog.at_level("WARNING", logger="assistant.services.reconcile"):
        outcomes.mark(team.settings, team.engine, row.quote_message_id, "lost", now=team.now)
    cancelled = get(team.engine, row.id)
    assert cancelled.status == "cancelled" and cancelled.draft_trashed_at is None
    assert team.draft_of(row.key) is not None  # left for the next run, logged once
    assert len([r for r in caplog.records if "stay in Drafts" in r.getMessage()]) == 1

    if team.kind == "gmail":
        team.fake.write_token_file(account.oauth, scopes=SIGN_IN_SCOPES)  # signed in again
    else:
        team.fake.faults = type(team.fake.faults)()
    assert reconcile.trash_cancelled_drafts(team.settings, team.engine, team.now) == 1
    assert get(team.engine, row.id).draft_trash == "trashed"
    assert team.draft_of(row.key) is None  # out of Drafts, into the Trash: recoverable
    trashed = [m for m in team.fake.store.messages if m.folder == "trash" and row.key.encode() in team.raw_of(m)]
    assert len(trashed) == 1
    assert reconcile.trash_cancelled_drafts(team.settings, team.engine, team.now) == 0
    connector = open_connector_for(account)
    try:  # the draft is not there any more: False, not an error
        assert connector.trash_draft(cancelled.draft_ref, row.key) is False
    finally:
        connector.close()
