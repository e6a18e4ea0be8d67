"""Gmail through the Gmail API (google-api-python-client, google-auth).

Authentication (the token file named by the account's ``oauth`` key, mode 0600):

* a user's consent (installed-app flow, ``followup accounts add gmail``): Google's own
  "authorized user" JSON (``client_id``, ``client_secret``, ``refresh_token``, ``token``,
  ``token_uri``, ``expiry``); refreshed tokens are written back to it;
* a Workspace service account with domain-wide delegation: the service account's key
  JSON (``"type": "service_account"``), acting as the account's ``username``.

Scopes: ``gmail.readonly`` (read) and ``gmail.compose`` (drafts, sending).

Reading. Messages are fetched with ``format=raw``: the parser and the classifier need
the real bytes (attachment names inside nested MIME parts, ``multipart/report``
delivery-status parts, body phrases, quoted replies), which ``format=metadata`` does not
carry; one raw fetch per message, grouped 25 to a batch request (halved when a part is
throttled), costs the same quota (5 units) as a metadata fetch. Initial sync:
``users.getProfile`` (the history id to resume from), then ``messages.list`` page by page
(Spam and Trash left out; ``after:`` the account's ``sync_days``); each page becomes one
:class:`~connectors.base.Batch` whose cursor holds the next page token. Incremental:
``users.history.list`` (``messageAdded``, and ``labelRemoved`` for a message taken out of
Spam or Trash) from the stored history id, again one batch per page; Google answers 404
when that id is too old, and the connector starts a full resync that downloads only the
messages not already stored (sync's stored-id lookup). Drafts, spam and deleted messages
(labels ``DRAFT``, ``SPAM``, ``TRASH``) are never yielded.

Errors follow the reasons Google documents: a per-minute rate limit (403
``rateLimitExceeded``/``userRateLimitExceeded``, 429) is waited out and retried, also
inside a batch; a daily limit is transient; ``domainPolicy`` is a configuration error;
only a refused sign-in or a missing scope asks to sign in again. Sends are made at most
once (:func:`connectors._cloud.send_exactly_once`).

Cursor (opaque, JSON): ``{"v": 1, "kind": "gmail", "phase": "full"|"history",
"history_id": "<id>", "page": "<page token>"|null}``.

Drafts: ``drafts.create`` with the ``threadId`` of the message the draft answers (found
with the search ``rfc822msgid:``) when the subjects match, so Gmail shows it in the
conversation; the draft
carries ``X-Followup-Id``, and :meth:`GmailConnector.find_draft` reads the drafts'
headers to find it again. ``drafts.update`` replaces an edited draft (same draft id);
``drafts.send`` sends an approved one (``protocol.auto_send``): Gmail deletes the draft
and files the sent message, with a new id and the ``SENT`` label, in the same thread.
``messages.send`` sends any ready message (the weekly digest, ``digest.send_with``).
Both are covered by the ``gmail.compose`` scope.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .base import (AuthenticationError, Batch, ConfigurationError, ConnectorError, DraftMessage,
                   RawMessage, TransientError)
from ._cloud import (RETRY_STATUSES, Backoff, Throttled, Unclear, header_of, parse_retry_after,
                     read_secret_file, send_exactly_once, with_followup_id, write_secret_file)

__all__ = ["GmailConnector", "GoogleTokenProvider", "SCOPES", "DEFAULT_ROOT"]

log = logging.getLogger(__name__)

MODIFY_SCOPE = "https://www.googleapis.com/auth/gmail.modify"
"""What ``messages.trash`` needs (developers.google.com/gmail/api/reference/rest/v1/
users.messages/trash): asked at sign-in, used when the token file was granted it (a sign-in
made before it was asked keeps working; only trashing drafts asks to sign in again)."""
SCOPES = ("https://www.googleapis.com/auth/gmail.readonly",
          "https://www.googleapis.com/auth/gmail.compose")
SIGN_IN_SCOPES = SCOPES + (MODIFY_SCOPE,)
DEFAULT_ROOT = "https://gmail.googleapis.com/"
BATCH_SIZE = 25
"""messages.get calls per batch request. The batch guide (developers.google.com/gmail/api/
guides/batch) caps a batch at 100 calls and advises against more than 50; at 50 users
meet per-part 429s, so the connector starts at 25 and halves on a throttled part."""
MIN_BATCH_SIZE = 5
PAGE_SIZE = 100

# errors[].reason of Gmail errors (developers.google.com/gmail/api/guides/handle-errors,
# developers.google.com/gmail/api/reference/quota):
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
"""Per-minute quotas (1,200,000 units a project, 15,000 a user): retried after a wait."""
DAILY_REASONS = frozenset({"dailyLimitExceeded", "quotaExceeded"})
"""A daily limit: not retried now; the account is "retrying" and the next sync tries again."""
POLICY_REASONS = frozenset({"domainPolicy"})
"""The Workspace domain forbids the app: a configuration problem for the administrator."""
AUTH_REASONS = frozenset({"insufficientPermissions", "authError", "insufficientScopes"})
"""The only 403 reasons that need a new sign-in (a missing scope, a revoked grant)."""
NOT_MAIL = frozenset({"DRAFT", "SPAM", "TRASH"})
"""Labels of messages that are never stored as mail."""
HISTORY_TYPES = ("messageAdded", "labelRemoved")
"""What history.list reports: new messages, and label removals (a message taken out of
Spam or Trash must be read: it was never stored). The sync guide
(developers.google.com/gmail/api/guides/sync) reads history for changes since the last
stored history id."""
QUOTA_WINDOW = 60.0
"""The per-minute quotas' window: a rate-limit error with no stated wait waits this long
(capped by the backoff's longest wait)."""


def reauth_hint(name: str | None) -> str:
    return f"run `followup accounts add gmail --name {name or 'NAME'}` to sign in again"


def _refused(exc: Exception, account: str | None) -> AuthenticationError:
    """Google refused the saved sign-in (a revoked or expired refresh token)."""
    detail = _short(exc)
    return AuthenticationError(f"Google refused the saved sign-in ({detail}); {reauth_hint(account)}",
                               code="signin.refused", provider="Google", detail=detail,
                               command=f"followup accounts add gmail --name {account or 'NAME'}")


class _NotFound(ConfigurationError):
    """HTTP 404 (an expired history id, a message deleted since it was listed)."""


class GoogleTokenProvider:
    """Google credentials from a 0600 token file; calling it returns a fresh access token.

    ``provider()`` is the plain ``() -> access_token`` callable the IMAP connector's
    XOAUTH2 hook takes. Refreshed user tokens are saved back to the file.
    """

    def __init__(self, token_file: str | Path, *, subject: str | None = None,
                 account: str | None = None, scopes=SCOPES) -> None:
        self.path = Path(token_file)
        self.account = account
        self.subject = subject
        text = read_secret_file(self.path, fix=reauth_hint(account))
        try:
            info = json.loads(text)
        except ValueError:
            raise ConfigurationError(f"token file {self.path} is not JSON; {reauth_hint(account)}") from None
        self.kind = info.get("type", "authorized_user")
        if self.kind == "service_account":
            from google.oauth2 import service_account

            if not subject:
                raise ConfigurationError(
                    f"token file {self.path} is a service account key: add username = "
                    '"rep@your-domain" to the account (the mailbox it acts as)')
            try:
                self.credentials = service_account.Credentials.from_service_account_info(
                    info, scopes=list(scopes), subject=subject)
            except (ValueError, KeyError) as exc:
                raise ConfigurationError(f"service account key {self.path} is incomplete: {exc}") from None
        else:
            from google.oauth2.credentials import Credentials

            if tuple(scopes) == SCOPES and MODIFY_SCOPE in (info.get("scopes") or ()):
                scopes = SIGN_IN_SCOPES  # a refresh asks for what was granted, never more
            try:
                self.credentials = Credentials.from_authorized_user_info(info, scopes=list(scopes))
                if info.get("token_uri"):  # from_authorized_user_info always sets Google's
                    self.credentials = self.credentials.with_token_uri(info["token_uri"])
            except ValueError as exc:
                raise ConfigurationError(
                    f"token file {self.path} is incomplete ({exc}); {reauth_hint(account)}") from None

    def refresh(self) -> None:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        try:
            self.credentials.refresh(Request())
        except google.auth.exceptions.RefreshError as exc:
            raise _refused(exc, self.account) from None
        except google.auth.exceptions.TransportError as exc:
            raise TransientError(f"cannot reach Google's token endpoint: {_short(exc)}",
                                 code="signin.unreachable", provider="Google",
                                 detail=_short(exc)) from None
        self.save()

    def save(self) -> None:
        if self.kind != "service_account":
            write_secret_file(self.path, self.credentials.to_json())

    def __call__(self) -> str:
        if not self.credentials.valid:
            self.refresh()
        return self.credentials.token


def _short(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


class GmailConnector:
    """One Gmail mailbox (``userId = "me"``) behind :class:`connectors.base.Connector`."""

    def __init__(self, token_file: str | Path, *, username: str | None = None,
                 root_url: str | None = None, account: str | None = None,
                 backoff: Backoff | None = None, page_size: int = PAGE_SIZE,
                 batch_size: int = BATCH_SIZE, timeout: float = 60.0,
                 sync_days: int | None = None) -> None:
        import google_auth_httplib2
        import httplib2
        from googleapiclient.discovery import build

        self.account = account
        self.tokens = GoogleTokenProvider(token_file, subject=username, account=account)
        self.root = (root_url or DEFAULT_ROOT).rstrip("/") + "/"
        self.backoff = backoff or Backoff()
        self.page_size = page_size
        self.batch_size = batch_size
        self.timeout = timeout
        self._session = None  # google-auth's requests session, for sends only
        self.sync_days = sync_days or None  # a full sync reads this many days back (None: all)
        self._stored = lambda ids: set()
        self.http = google_auth_httplib2.AuthorizedHttp(self.tokens.credentials,
                                                        http=httplib2.Http(timeout=timeout))
        self.service = build("gmail", "v1", http=self.http, static_discovery=True,
                             cache_discovery=False,
                             client_options={"api_endpoint": self.root})
        self.users = self.service.users()

    # --- calls ------------------------------------------------------------------------

    def _execute(self, request, what: str):
        """Run one API request with retries; map errors to the connector's kinds.

        Only for idempotent calls (reads, drafts.create/update: a retried draft is found
        again by its key): sends go through :meth:`_send_once`."""
        import google.auth.exceptions
        from googleapiclient.errors import HttpError
        from googleapiclient.http import BatchHttpRequest

        attempt = 0
        while True:
            try:
                self.tokens()  # refresh up front: errors become AuthenticationError
                if isinstance(request, BatchHttpRequest):
                    return request.execute()
                return request.execute(num_retries=0)
            except HttpError as exc:
                error = GoogleError.of(exc)
                if error.retryable:
                    self.backoff.wait(attempt, error.wait(self.backoff),
                                      f"Gmail {what} (HTTP {error.status} {error.reason})")
                    attempt += 1
                    continue
                raise self._error(error, what) from None
            except google.auth.exceptions.RefreshError as exc:
                raise _refused(exc, self.account) from None
            except (OSError, google.auth.exceptions.TransportError) as exc:
                self.backoff.wait(attempt, None, f"Gmail {what} ({_short(exc)})")
                attempt += 1

    def _error(self, error: "GoogleError", what: str) -> ConnectorError:
        """The connector error of a Gmail error that is not retried now, sorted by the
        ``errors[].reason`` Google documents (developers.google.com/gmail/api/guides/
        handle-errors): only a refused sign-in or missing scope asks to sign in again."""
        status, reason, detail = error.status, error.reason, error.message
        if status == 401 or reason in AUTH_REASONS:
            return AuthenticationError(
                f"Gmail {what}: the sign-in lacks a permission ({reason or status}: {detail}); "
                f"{reauth_hint(self.account)}")
        if reason in DAILY_REASONS:
            return TransientError(f"Gmail {what}: the daily usage limit is used up ({reason}); "
                                  "the next sync retries")
        if reason in POLICY_REASONS:
            return ConfigurationError(
                f"Gmail {what}: the Workspace domain does not allow this app ({reason}: {detail}); "
                "ask the Google Workspace administrator to allow API access for it")
        if status == 404:
            return _NotFound(f"Gmail {what}: not found ({detail})")
        if status in (400, 403):
            return ConfigurationError(f"Gmail {what}: HTTP {status} {reason} ({detail})")
        return TransientError(f"Gmail {what}: HTTP {status} ({detail})")

    def _get_many(self, ids: list[str]) -> tuple[list[dict], list[str]]:
        """``messages.get(format=raw)`` for every id, in batch requests; (found, skipped).

        A batch part answered 429, or 403 with a rate-limit reason, is retried after the
        wait it asks for, and the batch size is halved for the rest of the sync (the batch
        guide: "sending batches larger than 50 requests is not recommended"; users see
        per-part rate limits well below that)."""
        from googleapiclient.http import BatchHttpRequest

        found: dict[str, dict] = {}
        skipped: list[str] = []
        todo_all = list(dict.fromkeys(ids))
        attempt = 0
        while todo_all:
            todo, todo_all = todo_all[:self.batch_size], todo_all[self.batch_size:]
            failures: dict[str, GoogleError] = {}

            def done(request_id, response, exception):
                if exception is None:
                    found[request_id] = response
                else:
                    failures[request_id] = GoogleError.of(exception)

            batch = BatchHttpRequest(callback=done, batch_uri=self.root + "batch")
            for mid in todo:
                batch.add(self.users.messages().get(userId="me", id=mid, format="raw"),
                          request_id=mid)
            self._execute(batch, "batch messages.get")
            retry, waits = [], []
            for mid, error in failures.items():
                if error.status == 404:
                    continue  # deleted since it was listed: nothing to read
                if error.retryable:
                    retry.append(mid)
                    waits.append(error.wait(self.backoff))
                    continue
                raise self._error(error, "messages.get")
            if retry:
                if any(failures[mid].rate_limited for mid in retry):
                    self.batch_size = max(min(self.batch_size, MIN_BATCH_SIZE), self.batch_size // 2)
                known = [w for w in waits if w is not None]
                self.backoff.wait(attempt, max(known) if known else None,
                                  f"Gmail messages.get ({len(retry)} throttled in a batch)")
                attempt += 1
                todo_all = retry + todo_all
        ordered = [found[mid] for mid in dict.fromkeys(ids) if mid in found]
        return ordered, skipped

    # --- reading ----------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        state = _load_cursor(cursor)
        if state is None or state["phase"] == "full":
            yield from self._full(state)
        else:
            yield from self._history(state)

    def _full(self, state: dict | None) -> Iterator[Batch]:
        if state is None:
            history_id = str(self._execute(self.users.getProfile(userId="me"), "getProfile")["historyId"])
            page = None
        else:
            history_id, page = state["history_id"], state.get("page")
        query = None
        if self.sync_days:  # "after:" takes epoch seconds (the search operators Gmail documents)
            query = f"after:{int(time.time()) - self.sync_days * 86400}"
        while True:
            resp = self._execute(self.users.messages().list(
                userId="me", maxResults=self.page_size, pageToken=page, includeSpamTrash=False,
                q=query), "messages.list")
            ids = [m["id"] for m in resp.get("messages", [])]
            stored = self._stored(ids)  # a resync after an expired history id: already read
            messages, skipped = self._get_many([i for i in ids if i not in stored])
            page = resp.get("nextPageToken")
            nxt = ({"phase": "full", "history_id": history_id, "page": page} if page
                   else {"phase": "history", "history_id": history_id, "page": None})
            yield Batch(self._raws(messages), _dump_cursor(nxt), skipped)
            if not page:
                return

    def _history(self, state: dict) -> Iterator[Batch]:
        start, page = state["history_id"], state.get("page")
        while True:
            request = self.users.history().list(
                userId="me", startHistoryId=start, historyTypes=list(HISTORY_TYPES),
                maxResults=self.page_size, pageToken=page)
            try:
                resp = self._execute(request, "history.list")
            except _NotFound:
                log.warning("%s: Gmail history id %s expired; full resync", self.account, start)
                yield from self._full(None)
                return
            ids = _history_ids(resp)
            messages, skipped = self._get_many(ids)
            page = resp.get("nextPageToken")
            if page:
                nxt = {"phase": "history", "history_id": start, "page": page}
            else:
                nxt = {"phase": "history", "history_id": str(resp.get("historyId", start)), "page": None}
            if messages or skipped or _dump_cursor(nxt) != _dump_cursor(
                    {k: v for k, v in state.items() if k not in ("v", "kind")}):
                yield Batch(self._raws(messages), _dump_cursor(nxt), skipped)
            if not page:
                return

    def set_stored_lookup(self, lookup) -> None:
        """``lookup(provider ids) -> the ones already stored``: a full resync (history
        expired) lists the whole window again but downloads only what is not stored."""
        self._stored = lookup

    @staticmethod
    def _raws(messages: list[dict]) -> list[RawMessage]:
        out = []
        for m in messages:
            labels = m.get("labelIds", [])
            if NOT_MAIL & set(labels):
                continue  # a draft, spam, a deleted message: never stored as mail
            data = base64.urlsafe_b64decode(m["raw"] + "=" * (-len(m["raw"]) % 4))
            folder = "SENT" if "SENT" in labels else "INBOX" if "INBOX" in labels else (labels[0] if labels else None)
            out.append(RawMessage(m["id"], data, thread_id=m.get("threadId"), folder=folder))
        return out

    # --- drafts -----------------------------------------------------------------------

    def thread_of(self, message_id: str) -> str | None:
        """The Gmail thread id of the message with this Message-ID, if it is in the mailbox."""
        found = self._find(message_id)
        return found.get("threadId") if found else None

    def _find(self, message_id: str) -> dict | None:
        resp = self._execute(self.users.messages().list(
            userId="me", q=f"rfc822msgid:{message_id.strip().strip('<>')}", maxResults=1,
            includeSpamTrash=False), "messages.list")
        found = resp.get("messages") or []
        return found[0] if found else None

    def _message(self, data: bytes) -> dict:
        """A ``Message`` resource of raw bytes, in the thread of the message it answers.

        Gmail files a draft in a thread only if the ``threadId`` is given, its
        ``References``/``In-Reply-To`` follow RFC 2822 and its Subject matches the
        thread's (developers.google.com/gmail/api/guides/drafts, "Creating messages...
        threads"). A draft whose subject a template changed gets no ``threadId``: the
        headers still thread it for the recipient, and Gmail is not asked for a thread it
        would not honour."""
        message: dict = {"raw": base64.urlsafe_b64encode(data).decode("ascii")}
        parent_mid = header_of(data, "In-Reply-To")
        parent = self._find(parent_mid) if parent_mid else None
        if parent:
            meta = self._execute(self.users.messages().get(
                userId="me", id=parent["id"], format="metadata", metadataHeaders=["Subject"]),
                "messages.get")
            if same_subject(_header(meta, "Subject") or "", header_of(data, "Subject") or ""):
                message["threadId"] = parent["threadId"]
            else:
                log.info("%s: the draft's subject differs from its thread's: threaded by headers only",
                         self.account)
        return message

    def save_draft(self, draft: DraftMessage) -> str:
        message = self._message(with_followup_id(draft))
        created = self._execute(self.users.drafts().create(userId="me", body={"message": message}),
                                "drafts.create")
        return created["id"]

    def update_draft(self, provider_id: str, draft: DraftMessage) -> str:
        """``drafts.update``: the draft keeps its id and thread, its message is replaced."""
        message = self._message(with_followup_id(draft))
        try:
            updated = self._execute(self.users.drafts().update(
                userId="me", id=provider_id, body={"id": provider_id, "message": message}), "drafts.update")
        except _NotFound:
            raise ConfigurationError(f"Gmail draft {provider_id} is gone (sent or deleted in the "
                                     "mailbox): nothing to update") from None
        return updated.get("id") or provider_id

    def send_draft(self, provider_id: str) -> str:
        """``drafts.send``: Gmail sends the draft, deletes it and files the sent message
        (a new id, label ``SENT``) in the draft's thread. Sent at most once: the draft's
        Message-ID is read first; a copy already in Sent (an earlier try whose answer was
        lost) is the answer; an unclear failure looks for it before any retry
        (:func:`~connectors._cloud.send_exactly_once`). A draft that is not there any more
        is refused, never sent twice: the next sync reads the sent copy."""
        try:
            draft = self._execute(self.users.drafts().get(userId="me", id=provider_id, format="metadata"),
                                  "drafts.get")
        except _NotFound:
            raise ConfigurationError(f"Gmail draft {provider_id} is gone (already sent, or deleted "
                                     "in the mailbox): not sent again") from None
        mid = _header(draft.get("message", {}), "Message-ID")
        already = self.sent_copy(mid) if mid else None
        if already:
            return already
        request = self.users.drafts().send(userId="me", body={"id": provider_id})
        find = (lambda: self.sent_copy(mid)) if mid else None
        sent_id = send_exactly_once(lambda: self._send_once(request, "drafts.send")["id"], find,
                                    self.backoff, "Gmail drafts.send")
        return mid or self._message_id_of(sent_id) or sent_id

    def send_message(self, data: bytes) -> str:
        """``messages.send`` of raw RFC 5322 bytes (the recipients are its To/Cc/Bcc);
        return its Message-ID (or Gmail's id when it has none). Sent at most once, as
        :meth:`send_draft`: an unclear failure looks for the Message-ID in Sent first."""
        mid = header_of(data, "Message-ID")
        request = self.users.messages().send(
            userId="me", body={"raw": base64.urlsafe_b64encode(data).decode("ascii")})
        find = (lambda: self.sent_copy(mid)) if mid else None
        sent = send_exactly_once(lambda: self._send_once(request, "messages.send")["id"], find,
                                 self.backoff, "Gmail messages.send")
        return mid or sent

    def sent_copy(self, message_id: str) -> str | None:
        """The Message-ID, if a message carrying it is in Sent (``rfc822msgid:`` search)."""
        resp = self._execute(self.users.messages().list(
            userId="me", q=f"rfc822msgid:{message_id.strip().strip('<>')}", labelIds=["SENT"],
            maxResults=1), "messages.list")
        return message_id if resp.get("messages") else None

    def _send_once(self, request, what: str) -> dict:
        """One try of a send, through google-auth's requests transport: httplib2 (the
        client library's default) sends a request again by itself when the connection
        drops before the answer ("retry regardless of the number of RETRIES"), which for a
        send would be a second message. Raises Throttled / Unclear / a connector error."""
        import google.auth.exceptions
        import requests
        from google.auth.transport.requests import AuthorizedSession

        self.tokens()
        if self._session is None:
            self._session = AuthorizedSession(self.tokens.credentials)
        try:
            resp = self._session.request(request.method, request.uri, data=request.body,
                                         headers=request.headers, timeout=self.timeout)
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                raise Throttled(None) from None  # nothing went out: as safe to retry as a 429
            raise Unclear(f"connection lost ({type(exc).__name__})") from None
        except requests.Timeout:
            raise Unclear("no answer in time") from None
        except google.auth.exceptions.RefreshError as exc:
            raise _refused(exc, self.account) from None
        if resp.status_code < 300:
            return resp.json()
        error = GoogleError.parse(resp.status_code, resp.content, resp.headers.get("Retry-After"))
        if error.rate_limited:
            raise Throttled(error.wait(self.backoff))
        if error.status >= 500:
            raise Unclear(f"HTTP {error.status} {error.reason}")
        raise self._error(error, what)

    def _message_id_of(self, gmail_id: str) -> str | None:
        try:
            full = self._execute(self.users.messages().get(
                userId="me", id=gmail_id, format="metadata", metadataHeaders=["Message-ID"]), "messages.get")
        except _NotFound:
            return None
        return _header(full, "Message-ID")

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        """``drafts.get`` for the draft's message id and its ``X-Followup-Id``, then
        ``messages.trash`` of that message (developers.google.com/gmail/api/reference/rest/
        v1/users.messages/trash): it gets the ``TRASH`` label, recoverable for 30 days, and
        is no draft any more. ``drafts.delete`` is never used: it deletes for good."""
        try:
            draft = self._execute(self.users.drafts().get(userId="me", id=provider_id, format="metadata"),
                                  "drafts.get")
        except _NotFound:
            return False
        message = draft.get("message", {})
        if (_header(message, "X-Followup-Id") or "").strip() != idempotency_key or not message.get("id"):
            return False
        try:
            self._execute(self.users.messages().trash(userId="me", id=message["id"]), "messages.trash")
        except _NotFound:
            return False
        return True

    def find_draft(self, idempotency_key: str) -> str | None:
        page = None
        while True:
            resp = self._execute(self.users.drafts().list(userId="me", pageToken=page, maxResults=100),
                                 "drafts.list")
            for item in resp.get("drafts", []):
                full = self._execute(self.users.drafts().get(userId="me", id=item["id"], format="metadata"),
                                     "drafts.get")
                headers = full.get("message", {}).get("payload", {}).get("headers", [])
                for h in headers:
                    if h.get("name", "").lower() == "x-followup-id" and h.get("value", "").strip() == idempotency_key:
                        return item["id"]
            page = resp.get("nextPageToken")
            if not page:
                return None

    # --- account test -----------------------------------------------------------------

    def probe(self) -> str:
        """Authenticate and read one page: a one-line report for ``followup accounts test``."""
        profile = self._execute(self.users.getProfile(userId="me"), "getProfile")
        resp = self._execute(self.users.messages().list(userId="me", maxResults=10), "messages.list")
        return (f"signed in as {profile.get('emailAddress')}; "
                f"{profile.get('messagesTotal', '?')} messages; first page: {len(resp.get('messages', []))}")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        try:
            self.service.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|rv|sv|vs|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)


def same_subject(a: str, b: str) -> bool:
    """Whether two subjects are the same conversation's: equal once reply and forward
    prefixes ("Re:", "RE:", "Fwd:", "RV:"...) and runs of spaces are set aside."""
    def norm(text: str) -> str:
        return " ".join(_REPLY_PREFIX.sub("", text).split()).casefold()
    return norm(a) == norm(b)


def _header(message: dict, name: str) -> str | None:
    """A header of a ``format=metadata`` Message resource."""
    for h in message.get("payload", {}).get("headers", []):
        if h.get("name", "").lower() == name.lower():
            return h.get("value", "").strip() or None
    return None


def _never_connected(exc) -> bool:
    """A connection refused or not made: the request never went out."""
    import requests

    return isinstance(exc, requests.exceptions.ConnectTimeout) or "NewConnectionError" in repr(exc)


def _history_ids(resp: dict) -> list[str]:
    """The ids a history page asks to read: every message added (its ``labelIds`` may be
    absent: the message read then tells, see :meth:`GmailConnector._raws`) unless it is
    known to be a draft, spam or deleted; and every message that left Spam or Trash
    (``labelsRemoved`` of SPAM/TRASH: rescued by the user, it is mail now)."""
    ids = []
    for item in resp.get("history", []):
        for added in item.get("messagesAdded", []):
            message = added.get("message", {})
            if not NOT_MAIL & set(message.get("labelIds") or ()):
                ids.append(message["id"])
        for removed in item.get("labelsRemoved", []):
            message = removed.get("message", {})
            if {"SPAM", "TRASH"} & set(removed.get("labelIds") or ()) \
                    and not NOT_MAIL & set(message.get("labelIds") or ()):
                ids.append(message["id"])
    return list(dict.fromkeys(ids))


_RETRY_AFTER_TEXT = re.compile(r"Retry after (\S+)", re.I)


@dataclass(frozen=True)
class GoogleError:
    """What a Gmail error says: HTTP status, the first ``errors[].reason`` (or
    ``details[].reason``), the message, and the wait it asks for: the ``Retry-After``
    header, or the time in "Retry after 2026-12-01T10:00:00.000Z" in the message."""

    status: int
    reason: str
    message: str
    retry_after: float | None

    @classmethod
    def of(cls, exc) -> "GoogleError":
        resp = getattr(exc, "resp", None)
        return cls.parse(int(getattr(resp, "status", 0) or 0), getattr(exc, "content", b""),
                         resp.get("retry-after") if resp is not None else None,
                         fallback=str(getattr(exc, "reason", "") or ""))

    @classmethod
    def parse(cls, status: int, content: bytes, retry_after: str | None, *,
              fallback: str = "") -> "GoogleError":
        reason, message = "", ""
        try:
            err = json.loads(content)["error"]
            message = str(err.get("message") or "")[:200]
            reasons = [e.get("reason") for e in err.get("errors") or [] if isinstance(e, dict)]
            reasons += [d.get("reason") for d in err.get("details") or [] if isinstance(d, dict)]
            reason = next((r for r in reasons if r), "") or str(err.get("status") or "")
        except Exception:  # noqa: BLE001 - a body that is not Google's JSON
            message = (fallback or "no detail")[:200]
        wait = parse_retry_after(retry_after)
        if wait is None:
            found = _RETRY_AFTER_TEXT.search(message)
            wait = _seconds_until(found.group(1)) if found else None
        return cls(status, reason, message or "no detail", wait)

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or (self.status == 403 and self.reason in RATE_REASONS)

    @property
    def retryable(self) -> bool:
        return self.rate_limited or (self.status in RETRY_STATUSES and self.reason not in DAILY_REASONS)

    def wait(self, backoff: Backoff) -> float | None:
        """The wait before a retry: the one asked for; a rate limit without one waits out
        the per-minute window; a server error leaves it to the backoff."""
        if self.retry_after is not None:
            return self.retry_after
        return QUOTA_WINDOW if self.rate_limited else None


def _seconds_until(stamp: str) -> float | None:
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(stamp.rstrip(".").replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _load_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        state = json.loads(cursor)
    except ValueError:
        raise ConfigurationError(f"not a gmail cursor (invalid JSON): {cursor[:80]!r}") from None
    if not isinstance(state, dict) or state.get("v") != 1 or state.get("kind") != "gmail" \
            or state.get("phase") not in ("full", "history"):
        raise ConfigurationError(f"not a gmail cursor: {cursor[:80]!r}")
    return state


def _dump_cursor(state: dict) -> str:
    return json.dumps({"v": 1, "kind": "gmail", **state}, separators=(",", ":"), sort_keys=True)
