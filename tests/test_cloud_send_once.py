"""No double send (issue 13 point 3): Gmail messages.send / drafts.send and Graph sendMail /
messages/{id}/send whose answer is lost after the provider accepted them are looked for
in Sent (by Message-ID / internetMessageId) before any retry; 429 before acceptance is
retried; a send with no way to look is "outcome unknown", never sent blind. Real client
libraries against the fakes, which close the connection after carrying the call out."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from connectors.base import ConfigurationError, DraftMessage, SendOutcomeUnknown
from tests.test_cloud_connectors import Provider

SEND = {"gmail": r"POST /gmail/v1/users/me/messages/send", "outlook": r"POST /v1\.0/me/sendMail"}
DRAFT_SEND = {"gmail": r"POST /gmail/v1/users/me/drafts/send", "outlook": r"POST /v1\.0/me/messages/[^/]+/send"}
LOOKUP = {"gmail": r"GET /gmail/v1/users/me/messages\?.*rfc822msgid", "outlook": r"sentitems/messages\?"}


@pytest.fixture(params=["gmail", "outlook"])
def provider(request, tmp_path, monkeypatch):
    p = Provider(request.param, tmp_path, monkeypatch)
    yield p
    p.fake.stop()


def digest(n: int = 1, *, message_id: bool = True) -> bytes:
    m = EmailMessage()
    m["From"] = "camila@andina.example"
    m["To"] = "gerencia@andina.example"
    m["Subject"] = f"Resumen semanal {n}"
    if message_id:
        m["Message-ID"] = f"<digest-{n}@andina.example>"
    m.set_content("Tres cotizaciones esperan respuesta.")
    return bytes(m)


def draft(key: str, subject: str = "Re: Cotización CT-2026-311 tubería PVC") -> DraftMessage:
    quote = "<179586352451.22711.13998848030045958784@andina.example>"
    m = EmailMessage()
    m["From"] = "camila@andina.example"
    m["To"] = "andres@uno.example"
    m["Subject"] = subject
    m["Message-ID"] = f"<{key}@andina.example>"
    m["In-Reply-To"] = quote
    m["References"] = quote
    m.set_content("Hola Andrés, ¿pudo revisar la cotización?")
    return DraftMessage(key, bytes(m))


def test_a_send_whose_answer_is_lost_is_found_in_sent_and_not_sent_again(provider):
    provider.fake.faults.drop_after(SEND[provider.kind])  # accepted, then the connection drops
    c = provider.connector()
    assert c.send_message(digest()) == "<digest-1@andina.example>"
    assert len(provider.fake.sent) == 1
    assert provider.fake.requests(SEND[provider.kind]) == 1  # the transport did not re-send either
    assert provider.fake.requests(LOOKUP[provider.kind]) == 1


def test_an_approved_draft_whose_answer_is_lost_is_sent_once_even_when_approved_again(provider):
    c = provider.connector()
    draft_id = c.save_draft(draft("fu-9-1"))
    provider.fake.faults.drop_after(DRAFT_SEND[provider.kind])
    mid = c.send_draft(draft_id)
    assert len(provider.fake.sent) == 1 and mid == provider.fake.sent[0].message_id
    # a second approval (the rep did not trust the first): refused, still one message
    # (Gmail: the draft is gone; Graph: the sent draft is still readable for a while, and
    # its copy in Sent Items says it went)
    if provider.kind == "outlook":
        assert provider.fake.lingering
    with pytest.raises(ConfigurationError, match="not sent again"):
        c.send_draft(draft_id)
    assert len(provider.fake.sent) == 1
    assert provider.fake.requests(DRAFT_SEND[provider.kind]) == 1


def test_a_server_error_with_no_sent_copy_is_retried_once_looked_for(provider):
    provider.fake.faults.add(SEND[provider.kind], 500, times=1)  # refused, nothing sent
    c = provider.connector()
    c.send_message(digest(2))
    assert len(provider.fake.sent) == 1
    assert provider.fake.requests(SEND[provider.kind]) == 2
    assert provider.fake.requests(LOOKUP[provider.kind]) == 3  # looked for before the retry


def test_throttling_before_acceptance_is_retried_without_looking(provider):
    provider.fake.faults.add(SEND[provider.kind], 429, times=2, retry_after="1")
    c = provider.connector()
    c.send_message(digest(3))
    assert len(provider.fake.sent) == 1 and provider.sleeps == [1.0, 1.0]  # Retry-After, not the 0.01 s backoff
    assert provider.fake.requests(LOOKUP[provider.kind]) == 0


def test_an_unclear_send_with_no_message_id_is_outcome_unknown_never_resent(provider):
    provider.fake.faults.drop_after(SEND[provider.kind])
    c = provider.connector()
    with pytest.raises(SendOutcomeUnknown, match="may have been sent"):
        c.send_message(digest(4, message_id=False))
    assert len(provider.fake.sent) == 1


# --- drafts (issue 13 point 5) ---------------------------------------------------------

def test_a_gmail_draft_joins_the_thread_only_with_its_subject(tmp_path, monkeypatch):
    p = Provider("gmail", tmp_path, monkeypatch)
    try:
        c = p.connector()
        quote = p.fake.store.by_message_id("<179586352451.22711.13998848030045958784@andina.example>")
        c.save_draft(draft("fu-1"))  # "Re: <the quote's subject>": threaded
        c.save_draft(draft("fu-2", "Seguimiento de su cotización"))  # a template changed the subject
        by_key = {d.message_id: d for d in p.fake.drafts()}
        assert by_key["<fu-1@andina.example>"].thread == quote.thread
        assert by_key["<fu-2@andina.example>"].thread != quote.thread  # asked for no thread
        assert f"In-Reply-To: {quote.message_id}".encode() in by_key["<fu-2@andina.example>"].raw
        assert p.fake.requests(r"POST /gmail/v1/users/me/drafts") == 2
    finally:
        p.fake.stop()


def test_a_graph_draft_is_made_whole_in_createreply_with_a_private_key_property(tmp_path, monkeypatch):
    from connectors.outlook import FOLLOWUP_PROP, LEGACY_FOLLOWUP_PROP

    p = Provider("outlook", tmp_path, monkeypatch)
    try:
        c = p.connector()
        draft_id = c.save_draft(draft("fu-3"))
        assert p.fake.requests(r"PATCH ") == 0  # one call: no empty, unkeyed draft in between
        saved = p.fake.drafts()[0]
        assert "¿pudo revisar" in p.fake.bodies[saved.id]
        assert p.fake.props[saved.id] == {FOLLOWUP_PROP: "fu-3"}
        assert FOLLOWUP_PROP.startswith("String {") and FOLLOWUP_PROP.endswith("} Name FollowupId")
        assert c.find_draft("fu-3") == draft_id
        p.fake.props[saved.id] = {LEGACY_FOLLOWUP_PROP: "fu-3"}  # saved by an earlier version
        assert c.find_draft("fu-3") == draft_id
    finally:
        p.fake.stop()
