"""Gmail and Outlook connectors against loopback servers that speak the documented API
subset (tests/fakes), driven by the real client libraries (googleapiclient + google-auth,
msal + requests) and a real SQLite database."""

from __future__ import annotations

import json
import os
import re
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.services.ingest import sync_account
from assistant.storage.db import open_database
from assistant.storage.models import Message, MessageLocation
from connectors._cloud import Backoff, parse_retry_after
from connectors.base import AuthenticationError, ConfigurationError, DraftMessage, TransientError
from connectors.gmail import GmailConnector, GoogleTokenProvider
from connectors.outlook import MicrosoftTokenProvider, OutlookConnector
from tests.fakes.gmail import FakeGmail
from tests.fakes.graph import FakeGraph, write_token_file as write_graph_token
from tests.test_pipeline import NOW, assert_matches_expected, run

FIXTURES = Path(__file__).with_name("fixtures")
CAMILA = FIXTURES / "examples" / "basic-team" / "mail" / "camila"  # 8 messages


class Provider:
    """One fake server plus a way to open a connector on it."""

    def __init__(self, kind: str, tmp_path: Path, monkeypatch, maildir=CAMILA) -> None:
        self.kind = kind
        self.sleeps: list[float] = []
        self.token = tmp_path / f"{kind}-token.json"
        if kind == "gmail":
            self.fake = FakeGmail(maildir).start()
            self.fake.write_token_file(self.token)
        else:
            self.fake = FakeGraph(maildir).start()
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", self.fake.ca_file)
            write_graph_token(self.fake, self.token)

    def connector(self, page_size: int = 3, tries: int = 4):
        backoff = Backoff(tries=tries, base=0.01, max_delay=1.0, sleep=self.sleeps.append)
        if self.kind == "gmail":
            return GmailConnector(self.token, root_url=self.fake.url, account="ana",
                                  backoff=backoff, page_size=page_size, batch_size=2)
        return OutlookConnector(self.token, base_url=self.fake.url, account="ana",
                                backoff=backoff, page_size=page_size)

    @property
    def list_pattern(self) -> str:
        return r"GET /gmail/v1/users/me/messages\?" if self.kind == "gmail" else r"messages/delta"

    @property
    def second_page_pattern(self) -> str:
        return r"messages\?.*pageToken=" if self.kind == "gmail" else r"skiptoken"

    def expire_cursor(self) -> None:
        (self.fake.expire_history if self.kind == "gmail" else self.fake.expire_delta)()


@pytest.fixture(params=["gmail", "outlook"])
def provider(request, tmp_path, monkeypatch):
    p = Provider(request.param, tmp_path, monkeypatch)
    yield p
    p.fake.stop()


@pytest.fixture
def engine(tmp_path):
    return open_database(f"sqlite:///{tmp_path / 'followup.db'}")


def new_mail(n: int, *, reply_to: str | None = None) -> bytes:
    m = EmailMessage()
    m["From"] = "cliente@nuevo.example"
    m["To"] = "camila@andina.example"
    m["Subject"] = f"Pregunta {n}"
    m["Date"] = "Tue, 08 Dec 2026 10:00:00 -0500"
    m["Message-ID"] = f"<new-{n}@nuevo.example>"
    if reply_to:
        m["In-Reply-To"] = reply_to
        m["References"] = reply_to
    m.set_content(f"Hola, una pregunta número {n}.")
    return bytes(m)


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Message)),
                conn.scalar(select(func.count()).select_from(MessageLocation)))


def sync(engine, connector):
    try:
        return sync_account(engine, "ana", connector.__class__.__name__, connector, workers=0)
    finally:
        connector.close()


def test_initial_sync_reads_every_message_with_provider_threads(provider, engine):
    result = sync(engine, provider.connector())
    assert (result.read, result.stored) == (8, 8)
    assert counts(engine) == (8, 8)
    with engine.connect() as conn:
        threads = {t for (t,) in conn.execute(select(MessageLocation.thread_id))}
        mids = set(conn.scalars(select(Message.message_id)))
    assert None not in threads and len(threads) < 8  # replies share their quote's thread
    assert "<179586352451.22711.13998848030045958784@andina.example>" in mids
    if provider.kind == "outlook":  # keyed by internetMessageId, not Graph's movable ids
        with engine.connect() as conn:
            assert all(p.startswith("<") for p in conn.scalars(select(MessageLocation.provider_id)))


def test_incremental_sync_reads_only_new_mail(provider, engine):
    sync(engine, provider.connector())
    provider.fake.add_message(new_mail(1))
    provider.fake.add_message(new_mail(2))
    again = sync(engine, provider.connector())
    assert (again.read, again.stored) == (2, 2)
    assert counts(engine) == (10, 10)
    third = sync(engine, provider.connector())
    assert third.read == 0


def test_expired_cursor_resyncs_without_duplicates(provider, engine):
    sync(engine, provider.connector())
    provider.fake.add_message(new_mail(1))
    provider.expire_cursor()
    result = sync(engine, provider.connector())
    assert result.stored == 1  # everything re-read, only the new one stored
    assert counts(engine) == (9, 9)
    provider.fake.add_message(new_mail(2))
    assert sync(engine, provider.connector()).stored == 1  # back on incremental


def test_throttling_honours_retry_after(provider, engine):
    provider.fake.faults.add(provider.list_pattern, 429, times=2, retry_after="1")
    provider.fake.faults.add(provider.list_pattern, 503, times=1)
    result = sync(engine, provider.connector())
    assert result.stored == 8
    assert provider.sleeps[:2] == [1.0, 1.0]  # the server's Retry-After, not a guess
    assert len(provider.sleeps) == 3 and provider.sleeps[2] < 1.0  # then exponential backoff


def test_http_date_retry_after_is_understood():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert parse_retry_after("7") == 7.0 and parse_retry_after("soon") is None


def test_page_failing_midway_then_rerun_loses_and_duplicates_nothing(provider, engine):
    provider.fake.faults.add(provider.second_page_pattern, 500, times=10)
    with pytest.raises(TransientError):
        sync(engine, provider.connector(page_size=3, tries=3))
    first_page = counts(engine)
    assert first_page == (3, 3)  # the first page was stored with its cursor
    provider.fake.faults.items.clear()
    result = sync(engine, provider.connector(page_size=3))
    assert result.read == 5  # resumed at the failed page, not from the start
    assert counts(engine) == (8, 8)


def test_revoked_token_asks_for_the_command_that_fixes_it(provider, engine):
    provider.fake.revoke_all()
    connector = provider.connector()
    with pytest.raises(AuthenticationError) as info:
        list(connector.fetch(None))
    message = str(info.value)
    assert f"followup accounts add {provider.kind} --name ana" in message
    assert not re.search(r"ya29\.|eyJ\.|rt-|refresh-", message)  # never a token


def test_a_refused_sign_in_and_exhausted_retries_are_worded_in_the_teams_language(provider):
    """What a rep meets most on a cloud mailbox reaches them in Spanish too: the
    connector's error carries a code and values the catalogue words."""
    from assistant.wording import say

    provider.fake.revoke_all()
    with pytest.raises(AuthenticationError) as info:
        list(provider.connector().fetch(None))
    exc = info.value
    assert exc.code == "connector.signin.refused"
    spanish = say(exc.code, "es", **exc.values)
    assert "rechazó el inicio de sesión guardado" in spanish
    assert f"`followup accounts add {provider.kind} --name ana`" in spanish
    assert not re.search(r"ya29\.|eyJ\.|rt-|refresh-", spanish)  # never a token
    assert say(exc.code, "en", **exc.values) == str(exc)  # the same sentence in English


def test_expired_access_token_is_refreshed_silently(provider, engine):
    sync(engine, provider.connector())
    provider.fake.expire_access_tokens()
    provider.fake.add_message(new_mail(1))
    assert sync(engine, provider.connector()).stored == 1
    assert stat.S_IMODE(provider.token.stat().st_mode) == 0o600  # rewritten, still private


def test_draft_is_created_in_the_quote_thread_and_found_again(provider, engine):
    quote_id = "<179586352451.22711.13998848030045958784@andina.example>"
    parent = provider.fake.store.by_message_id(quote_id)
    draft = EmailMessage()
    draft["From"] = "camila@andina.example"
    draft["To"] = "andres@uno.example"
    draft["Subject"] = "Re: Cotización CT-2026-311 tubería PVC"
    draft["In-Reply-To"] = quote_id
    draft["References"] = quote_id
    draft.set_content("Hola Andrés, ¿pudo revisar la cotización?")
    connector = provider.connector()
    draft_id = connector.save_draft(DraftMessage("fu-7-1", bytes(draft)))
    saved = provider.fake.drafts()
    assert len(saved) == 1 and saved[0].thread == parent.thread
    if provider.kind == "outlook":
        assert "¿pudo revisar" in provider.fake.bodies[saved[0].id]  # body updated after createReply
    else:
        assert b"X-Followup-Id: fu-7-1" in saved[0].raw
    assert connector.find_draft("fu-7-1") == draft_id
    assert connector.find_draft("fu-7-2") is None
    sync(engine, connector)
    assert counts(engine) == (8, 8)  # drafts are never read back as mail


def test_a_draft_copies_whom_its_cc_names_on_every_provider(provider, engine):
    """The draft's Cc reaches the provider: Gmail keeps the raw message it is given
    (its Cc header); Graph builds the draft from fields, so the connector sends
    ``ccRecipients`` (learn.microsoft.com/graph/api/resources/message), with each name."""
    quote_id = "<179586352451.22711.13998848030045958784@andina.example>"
    draft = EmailMessage()
    draft["From"] = "camila@andina.example"
    draft["To"] = "andres@uno.example"
    draft["Cc"] = "Lucía Ortiz <lucia@uno.example>, compras@uno.example"
    draft["Subject"] = "Re: Cotización CT-2026-311 tubería PVC"
    draft["In-Reply-To"] = quote_id
    draft.set_content("Hola Andrés, ¿pudo revisar la cotización?")
    provider.connector().save_draft(DraftMessage("fu-8-1", bytes(draft)))
    saved = provider.fake.drafts()[0]
    if provider.kind == "outlook":
        assert provider.fake.copied[saved.id] == "lucia@uno.example, compras@uno.example"
    else:
        from email import message_from_bytes
        from email.policy import default
        cc = message_from_bytes(saved.raw, policy=default)["Cc"]
        assert [(a.display_name, a.addr_spec) for a in cc.addresses] == [
            ("Lucía Ortiz", "lucia@uno.example"), ("", "compras@uno.example")]


def test_token_file_readable_by_others_is_refused(provider):
    os.chmod(provider.token, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        provider.connector()


def test_token_providers_are_plain_callables_for_xoauth2(provider):
    tokens = (GoogleTokenProvider(provider.token) if provider.kind == "gmail"
              else MicrosoftTokenProvider(provider.token))
    token = tokens()
    assert isinstance(token, str) and token in provider.fake.access_tokens


def test_app_only_outlook_reads_the_named_mailbox(tmp_path, monkeypatch, engine):
    fake = FakeGraph(CAMILA).start()
    try:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
        monkeypatch.setenv("FOLLOWUP_MS_CLIENT_SECRET", fake.client_secret)
        token = tmp_path / "app.json"
        info = {"provider": "microsoft", "flow": "client_credentials", "client_id": fake.client_id,
                "authority": fake.authority}
        token.write_text(json.dumps(info))
        token.chmod(0o600)
        connector = OutlookConnector(token, username="camila@andina.example", base_url=fake.url)
        assert connector.user == "/users/camila%40andina.example"
        assert sync(engine, connector).stored == 8
        monkeypatch.setenv("FOLLOWUP_MS_CLIENT_SECRET", "wrong")
        with pytest.raises(AuthenticationError, match="followup accounts add outlook"):
            list(OutlookConnector(token, username="camila@andina.example", base_url=fake.url).fetch(None))
    finally:
        fake.stop()


@pytest.mark.parametrize("kind", ["gmail", "outlook"])
def test_team_mailboxes_through_the_api_give_the_same_scan_as_maildir(kind, basic_team, tmp_path, monkeypatch):
    fakes, env = [], {}
    settings = basic_team / "settings.toml"
    text = settings.read_text(encoding="utf-8")
    try:
        for name in ("camila", "jorge"):
            p = Provider(kind, tmp_path / name, monkeypatch, maildir=basic_team / "mail" / name) \
                if (tmp_path / name).mkdir() is None else None
            fakes.append(p.fake)
            text = text.replace(
                f'kind = "maildir"\npath = "mail/{name}"',
                f'kind = "{kind}"\noauth = "{p.token}"\nhost = "{p.fake.url}"\nsync_days = 0')
        settings.write_text(text, encoding="utf-8")
        if kind == "outlook":
            env["REQUESTS_CA_BUNDLE"] = os.environ["REQUESTS_CA_BUNDLE"]
        # Each outlook fake has its own certificate: trust both.
        if kind == "outlook":
            bundle = tmp_path / "ca.pem"
            bundle.write_text("".join(Path(f.ca_file).read_text() for f in fakes))
            env["REQUESTS_CA_BUNDLE"] = str(bundle)
        first = run("--config", str(settings), "sync", env=env)
        assert first.returncode == 0, first.stderr
        assert "camila: leídos 8, nuevos 8" in first.stdout and "jorge: leídos 2, nuevos 2" in first.stdout
        scan = run("--config", str(settings), "scan", "--now", NOW, "--json", env=env)
        assert scan.returncode == 0, scan.stderr
        expected = json.loads((basic_team / "expected.json").read_text())
        assert_matches_expected(json.loads(scan.stdout), expected)
        listing = run("--config", str(settings), "accounts", "test", "camila", env=env)
        assert listing.returncode == 0 and "camila: funciona" in listing.stdout, listing.stderr
    finally:
        for f in fakes:
            f.stop()


def test_gmail_batch_parts_throttled_inside_a_batch_are_retried(tmp_path, monkeypatch, engine):
    p = Provider("gmail", tmp_path, monkeypatch)
    try:
        # Two of the messages.get calls inside one batch answer 429 with Retry-After.
        p.fake.faults.add(r"GET /gmail/v1/users/me/messages/[0-9a-f]+\?", 429, times=2, retry_after="1")
        result = sync(engine, p.connector())
        assert result.stored == 8
        assert p.sleeps == [1.0]  # one wait for the throttled parts, as long as asked
    finally:
        p.fake.stop()


def test_gmail_service_account_acts_as_the_accounts_username(tmp_path, engine):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    with FakeGmail(CAMILA) as fake:
        info = {"type": "service_account", "project_id": "p", "private_key_id": "k1", "private_key": pem,
                "client_email": "followup@p.iam.gserviceaccount.com", "client_id": "123",
                "token_uri": fake.url + "/token"}
        token = tmp_path / "sa.json"
        token.write_text(json.dumps(info))
        token.chmod(0o600)
        with pytest.raises(ConfigurationError, match="username"):
            GmailConnector(token, root_url=fake.url)
        connector = GmailConnector(token, username="camila@andina.example", root_url=fake.url)
        assert sync(engine, connector).stored == 8
        claims = fake.jwt_claims[-1]
        assert claims["sub"] == "camila@andina.example"
        assert "gmail.compose" in claims["scope"] and "gmail.readonly" in claims["scope"]


def test_cli_sync_marks_a_revoked_account_and_names_the_fix(basic_team, tmp_path, monkeypatch):
    p = Provider("gmail", tmp_path, monkeypatch, maildir=basic_team / "mail" / "camila")
    try:
        settings = basic_team / "settings.toml"
        text = settings.read_text(encoding="utf-8").replace(
            'kind = "maildir"\npath = "mail/camila"',
            f'kind = "gmail"\noauth = "{p.token}"\nhost = "{p.fake.url}"\nsync_days = 0')
        settings.write_text(text, encoding="utf-8")
        p.fake.revoke_all()
        done = run("--config", str(settings), "sync")
        assert done.returncode == 1
        assert "followup accounts add gmail --name camila" in done.stdout + done.stderr
        assert "jorge: leídos 2, nuevos 2" in done.stdout  # the other account still synced
        listing = run("--config", str(settings), "accounts", "list", "--tsv")
        assert re.search(r"camila\tgmail\t.*\tneeds_reauth", listing.stdout), listing.stdout
    finally:
        p.fake.stop()


def test_imap_accounts_with_oauth_get_an_xoauth2_token_provider_with_imap_scopes(provider, tmp_path):
    from types import SimpleNamespace

    from connectors.cloud import (GOOGLE_IMAP_SCOPES, MICROSOFT_IMAP_DELEGATED_SCOPES,
                                  imap_token_provider, sign_in_scopes)

    account = SimpleNamespace(name="ana", kind="imap", oauth=str(provider.token), username=None)
    if provider.kind == "gmail":
        # a token signed in for the Gmail API cannot be refreshed for IMAP (invalid_scope):
        # refused up front, naming the sign-in that fixes it
        with pytest.raises(ConfigurationError, match="accounts add gmail --imap --name ana"):
            imap_token_provider(account)
        provider.fake.write_token_file(provider.token, scopes=sign_in_scopes("gmail", imap=True))
    tokens = imap_token_provider(account)
    if provider.kind == "gmail":
        assert isinstance(tokens, GoogleTokenProvider)
        assert tuple(tokens.credentials.scopes) == GOOGLE_IMAP_SCOPES
    else:
        assert isinstance(tokens, MicrosoftTokenProvider)
        assert tuple(tokens.scopes) == MICROSOFT_IMAP_DELEGATED_SCOPES
    token = tokens()
    assert isinstance(token, str) and token in provider.fake.access_tokens


def test_the_gmail_fake_refuses_a_refresh_for_scopes_never_granted(tmp_path, monkeypatch):
    p = Provider("gmail", tmp_path, monkeypatch)
    try:
        from connectors.cloud import GOOGLE_IMAP_SCOPES

        with pytest.raises(AuthenticationError, match="invalid_scope"):
            GoogleTokenProvider(p.token, scopes=GOOGLE_IMAP_SCOPES)()
        assert GoogleTokenProvider(p.token)() in p.fake.access_tokens  # the granted ones refresh
    finally:
        p.fake.stop()


def test_the_readme_registers_the_apps_for_exactly_the_scopes_the_code_asks_for():
    from connectors.cloud import sign_in_scopes

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Gmail and Microsoft 365 mailboxes"):]
    section = section[:section.index("### Try the connectors")]
    for kind in ("gmail", "outlook"):
        for imap in (False, True):
            for scope in sign_in_scopes(kind, imap=imap):
                name = scope if kind == "gmail" else scope.rsplit("/", 1)[-1]
                assert name in section, f"README lacks {name} ({kind}, imap={imap})"
    assert "In production" in section and "7 days" in section and "admin consent" in section
