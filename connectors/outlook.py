"""Microsoft 365 / Outlook through Microsoft Graph (msal for tokens, requests for calls).

Authentication: the account's ``oauth`` key names a JSON token file (mode 0600) written
by ``followup accounts add outlook``::

    {"provider": "microsoft", "flow": "device" | "client_credentials",
     "client_id": "...", "authority": "https://login.microsoftonline.com/<tenant>",
     "username": "ana@acme.example",            # device flow: whose cached sign-in
     "client_secret_env": "FOLLOWUP_MS_CLIENT_SECRET",   # app-only: where the secret is
     "cache": "<msal SerializableTokenCache>"}

* ``device``: delegated sign-in (msal device-code flow), scope ``Mail.ReadWrite``
  (read mail and write drafts), tokens refreshed silently from msal's cache, which is
  saved back to the file;
* ``client_credentials``: app-only access for a whole organisation (application
  permission ``Mail.ReadWrite``, or ``Mail.Read`` for read-only), acting on the mailbox
  named by the account's ``username``; the secret comes from the environment variable
  named by ``client_secret_env`` (or ``client_secret`` in the 0600 file).

Reading: one delta query per mail folder, child folders included, except Drafts,
Deleted Items, Junk Email and Outbox (``/mailFolders/{id}/messages/delta``), with ``$select`` of only what keys and threads a message
(``internetMessageId``, ``conversationId``, ``isDraft``); the message itself is read as
MIME (``/messages/{id}/$value``) because the parser and classifier need the real bytes
(attachment names, delivery-status reports, body text) that Graph's JSON flattens or
drops. Provider ids are ``internetMessageId`` (Graph's own ids change when a message
moves between folders), threads are ``conversationId``.

Cursor (opaque, JSON): ``{"v": 2, "kind": "outlook", "links": {folder id: URL},
"skip": [ids of the folders never read]}``: each URL is the ``@odata.nextLink`` of the page to read next, or
the ``@odata.deltaLink`` once a folder is caught up. Every page is its own batch, so an
interrupted sync resumes at the page it stopped on. 410 Gone (``syncStateNotFound``,
``resyncRequired``) restarts that folder's delta from scratch; dedupe downstream keeps
the re-read free of duplicates.

Drafts: ``createReply`` on the message the draft answers (found by
``internetMessageId``), with the body inside the call, so Outlook shows it threaded. The
idempotency key is stored in a private named extended property (``FollowupId`` under
Followup's own GUID) and found again with a ``$filter`` on it.
An edited draft is replaced with ``PATCH /messages/{id}``; an approved one is sent with
``POST /messages/{id}/send`` (``protocol.auto_send``); the weekly digest goes out with
``POST /sendMail`` in MIME form (``digest.send_with``). Sending needs ``Mail.Send``
(delegated: asked for only when sending; app-only: granted to the app).
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import logging
import os
import threading
import urllib.parse
from email.utils import getaddresses
from pathlib import Path
from typing import Iterator

from .base import (AuthenticationError, Batch, ConfigurationError, ConnectorError, DraftMessage,
                   RawMessage, TransientError)
from ._cloud import (RETRY_STATUSES, Backoff, Throttled, Unclear, header_of, parse_retry_after, read_secret_file,
                     send_exactly_once, write_secret_file)

__all__ = ["OutlookConnector", "MicrosoftTokenProvider", "GRAPH_ROOT", "DELEGATED_SCOPES"]

log = logging.getLogger(__name__)

GRAPH_ROOT = "https://graph.microsoft.com"
DELEGATED_SCOPES = ("https://graph.microsoft.com/Mail.ReadWrite",)
SEND_SCOPES = ("https://graph.microsoft.com/Mail.Send",)
"""Asked for only when sending (an approved follow-up, the digest): a sign-in made before
sending existed still reads and drafts; ``followup accounts add outlook`` asks for both."""
APP_SCOPES = ("https://graph.microsoft.com/.default",)
SKIP_FOLDERS = ("drafts", "deleteditems", "junkemail", "outbox")
"""Well-known folders never read (learn.microsoft.com/graph/api/resources/mailfolder):
drafts are not mail yet, deleted and junk mail is not a reply to chase, the Outbox holds
what is not sent yet."""
FOLDER_SELECT = "id,displayName,childFolderCount"
SELECT = "internetMessageId,conversationId,isDraft"
FOLLOWUP_PROP = "String {6c0e3f0a-5a77-4b4e-9d7e-3f6a1c2b8d41} Name FollowupId"
"""The draft's idempotency key: a private named extended property (a GUID of Followup's own;
learn.microsoft.com/graph/api/resources/extended-properties-overview), which Outlook keeps
as it is -- an internet header may be rewritten (lower-cased) on its way."""
LEGACY_FOLLOWUP_PROP = "String {00020386-0000-0000-C000-000000000046} Name X-Followup-Id"
"""Where earlier versions kept the key (the X-Followup-Id internet header): still looked for."""
DEFAULT_SECRET_ENV = "FOLLOWUP_MS_CLIENT_SECRET"


def reauth_hint(name: str | None) -> str:
    return f"run `followup accounts add outlook --name {name or 'NAME'}` to sign in again"


class MicrosoftTokenProvider:
    """msal-backed access tokens from a 0600 token file; calling it returns a token.

    ``provider()`` is the plain ``() -> access_token`` callable the IMAP connector's
    XOAUTH2 hook takes (with ``scopes`` set to Outlook's IMAP scope).
    """

    def __init__(self, token_file: str | Path, *, account: str | None = None,
                 username: str | None = None, scopes=None, environ=os.environ) -> None:
        import msal

        self.path = Path(token_file)
        self.account = account
        text = read_secret_file(self.path, fix=reauth_hint(account))
        try:
            self.info = json.loads(text)
            self.flow = self.info["flow"]
            client_id = self.info["client_id"]
            authority = self.info["authority"]
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(f"token file {self.path} is not a Followup Microsoft token file "
                                     f"(flow, client_id, authority); {reauth_hint(account)}") from None
        self.username = username or self.info.get("username")
        self.cache = msal.SerializableTokenCache()
        if self.info.get("cache"):
            self.cache.deserialize(self.info["cache"])
        self.lock = threading.Lock()
        common = dict(authority=authority, token_cache=self.cache, validate_authority=False,
                      instance_discovery=False)
        try:
            if self.flow == "client_credentials":
                secret_env = self.info.get("client_secret_env") or DEFAULT_SECRET_ENV
                secret = environ.get(secret_env) or self.info.get("client_secret")
                if not secret:
                    raise ConfigurationError(
                        f"app-only Outlook access needs the client secret: set the environment "
                        f"variable {secret_env} (or client_secret in {self.path})")
                self.scopes = list(scopes or APP_SCOPES)
                self.app = msal.ConfidentialClientApplication(client_id, client_credential=secret, **common)
            elif self.flow == "device":
                self.scopes = list(scopes or DELEGATED_SCOPES)
                self.app = msal.PublicClientApplication(client_id, **common)
            else:
                raise ConfigurationError(f'token file {self.path}: unknown flow "{self.flow}" '
                                         '(expected "device" or "client_credentials")')
        except ValueError as exc:
            raise ConfigurationError(f"token file {self.path}: bad authority {authority!r}: {exc}") from None

    def __call__(self, *, force_refresh: bool = False, scopes=None) -> str:
        """An access token for ``scopes`` (default: the provider's own; app-only access
        always asks for ``.default``, which covers every permission granted to the app)."""
        import requests

        with self.lock:
            try:
                if self.flow == "client_credentials":
                    if force_refresh:
                        self.app.remove_tokens_for_client()
                    result = self.app.acquire_token_for_client(scopes=self.scopes)
                else:
                    accounts = self.app.get_accounts(username=self.username) or self.app.get_accounts()
                    result = (self.app.acquire_token_silent_with_error(
                        list(scopes or self.scopes), account=accounts[0], force_refresh=force_refresh)
                        if accounts else None)
            except requests.RequestException as exc:
                raise TransientError(f"cannot reach the Microsoft sign-in service: {type(exc).__name__}",
                                     code="signin.unreachable", provider="Microsoft",
                                     detail=type(exc).__name__) from None
            except ValueError as exc:  # msal: authority discovery failed
                raise TransientError(f"Microsoft sign-in service: {str(exc)[:200]}") from None
            self._save()
            if not result or "access_token" not in result:
                reason = (result or {}).get("error_description") or (result or {}).get("error") \
                    or "no saved sign-in"
                detail = str(reason).splitlines()[0][:200]
                raise AuthenticationError(
                    f"Microsoft refused the saved sign-in ({detail}); {reauth_hint(self.account)}",
                    code="signin.refused", provider="Microsoft", detail=detail,
                    command=f"followup accounts add outlook --name {self.account or 'NAME'}")
            return result["access_token"]

    def _save(self) -> None:
        # App-only tokens are cheap to get again: only a user's sign-in is persisted.
        if self.cache.has_state_changed and self.flow == "device":
            self.info["cache"] = self.cache.serialize()
            write_secret_file(self.path, json.dumps(self.info, indent=1))
            self.cache.has_state_changed = False


class OutlookConnector:
    """One Microsoft 365 / Outlook.com mailbox behind :class:`connectors.base.Connector`."""

    def __init__(self, token_file: str | Path, *, username: str | None = None,
                 base_url: str | None = None, account: str | None = None,
                 backoff: Backoff | None = None, page_size: int = 50, timeout: float = 60.0,
                 sync_days: int | None = None) -> None:
        import requests

        self.account = account
        self.tokens = MicrosoftTokenProvider(token_file, account=account, username=username)
        if self.tokens.flow == "client_credentials":
            if not username:
                raise ConfigurationError('app-only Outlook access acts on one mailbox: add username = '
                                         '"rep@your-domain" to the account')
            self.user = f"/users/{urllib.parse.quote(username)}"
        else:
            self.user = "/me"
        self.base = (base_url or GRAPH_ROOT).rstrip("/") + "/v1.0"
        self.backoff = backoff or Backoff()
        self.page_size = page_size
        self.timeout = timeout
        self.session = requests.Session()
        self.since = None  # receivedDateTime lower bound of a folder's first round (sync_days)
        if sync_days:
            from datetime import datetime, timedelta, timezone

            self.since = datetime.now(timezone.utc) - timedelta(days=sync_days)
        self._stored = lambda ids: set()

    # --- calls ------------------------------------------------------------------------

    def _request(self, method: str, url: str, what: str, *, expect_json: bool = True,
                 scopes=None, **kw):
        """One Graph call with retries; returns the response (2xx), raises ConnectorError."""
        import requests

        if not url.startswith("http"):
            url = self.base + url
        extra = kw.pop("headers", {})
        attempt = 0
        force = False
        while True:
            headers = {"Authorization": f"Bearer {self.tokens(force_refresh=force, scopes=scopes)}", **extra}
            try:
                resp = self.session.request(method, url, headers=headers, timeout=self.timeout, **kw)
            except requests.RequestException as exc:
                self.backoff.wait(attempt, None, f"Graph {what} ({type(exc).__name__})")
                attempt += 1
                continue
            if resp.status_code in RETRY_STATUSES:
                self.backoff.wait(attempt, parse_retry_after(resp.headers.get("Retry-After")),
                                  f"Graph {what} (HTTP {resp.status_code})")
                attempt += 1
                continue
            if resp.status_code < 300:
                return resp
            if resp.status_code == 401 and not force:
                force = True  # a revoked or expired access token: refresh it once
                continue
            raise self._error(resp, what)

    def _error(self, resp, what: str) -> ConnectorError:
        try:
            err = resp.json().get("error", {})
            code, message = err.get("code", ""), err.get("message", "")
        except ValueError:
            code, message = "", resp.text[:200]
        detail = f"HTTP {resp.status_code} {code}: {message[:200]}".rstrip(": ")
        if resp.status_code == 401:
            return AuthenticationError(f"Graph {what}: the access token was rejected ({detail}); "
                                       f"{reauth_hint(self.account)}")
        if resp.status_code == 403:
            return AuthenticationError(f"Graph {what}: access denied ({detail}); grant Mail.ReadWrite "
                                       f"(and Mail.Send to send) and {reauth_hint(self.account)}")
        if resp.status_code == 410 or code.lower() in ("syncstatenotfound", "resyncrequired", "syncstateinvalid"):
            gone = _Gone(f"Graph {what}: {detail}")
            gone.location = resp.headers.get("Location")  # a new full round, when Graph names one
            return gone
        if resp.status_code == 404:
            return _NotFound(f"Graph {what}: {detail}")
        if resp.status_code == 400:
            return ConfigurationError(f"Graph {what}: {detail}")
        return TransientError(f"Graph {what}: {detail}")

    # --- reading ----------------------------------------------------------------------

    def _initial(self, folder_id: str) -> str:
        query = {"$select": SELECT}
        if self.since is not None:
            # the one filter delta takes on messages (learn.microsoft.com/graph/delta-query-messages)
            query["$filter"] = f"receivedDateTime ge {self.since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        return (f"{self.base}{self.user}/mailFolders/{urllib.parse.quote(folder_id)}/messages/delta?"
                + urllib.parse.urlencode(query))

    def _pages(self, url: str, what: str) -> Iterator[dict]:
        while url:
            page = self._request("GET", url, what).json()
            yield page
            url = page.get("@odata.nextLink")

    def folders(self, skip: set[str]) -> dict[str, str]:
        """Every mail folder to read, child folders included: ``{id: path}``. Delta is per
        folder (learn.microsoft.com/graph/delta-query-messages: "to track the changes of the
        messages in a folder hierarchy, you need to track each folder individually"), so a
        reply a rule files into Inbox/Clientes or Archive is read only if that folder is.
        ``mailFolders`` lists the top level, ``childFolders`` one level below
        (learn.microsoft.com/graph/api/mailfolder-list-childfolders); the folders in
        ``skip`` (Drafts, Deleted Items, Junk Email, Outbox) are left out with their children."""
        found: dict[str, str] = {}
        todo = [(f"{self.user}/mailFolders", "")]
        while todo:
            url, parent = todo.pop(0)
            query = urllib.parse.urlencode({"$top": "100", "$select": FOLDER_SELECT})
            for page in self._pages(f"{self.base}{url}?{query}", "list mail folders"):
                for folder in page.get("value", []):
                    if folder["id"] in skip:
                        continue
                    path = f"{parent}/{folder.get('displayName', '')}" if parent else folder.get("displayName", "")
                    found[folder["id"]] = path
                    if folder.get("childFolderCount"):
                        todo.append((f"{self.user}/mailFolders/{urllib.parse.quote(folder['id'])}/childFolders",
                                     path))
        return found

    def _well_known_ids(self, names) -> dict[str, str]:
        """``{well-known name: id}`` (``GET /mailFolders/{name}``; a name a mailbox lacks,
        such as ``archive``, is left out)."""
        out = {}
        for name in names:
            try:
                out[name] = self._request("GET", f"{self.user}/mailFolders/{name}", f"{name} folder",
                                          params={"$select": "id"}).json()["id"]
            except _NotFound:
                continue
        return out

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        state = _load_cursor(cursor)
        links, skip = state["links"], state.get("skip")
        if skip is None:
            skip = sorted(self._well_known_ids(SKIP_FOLDERS).values())
        if state.get("legacy"):  # a v1 cursor keyed by well-known names: key it by folder id
            ids = self._well_known_ids(tuple(links))
            links = {ids[name]: url for name, url in links.items() if name in ids}
        folders = self.folders(set(skip))
        links = {fid: url for fid, url in links.items() if fid in folders}  # deleted folders
        seen: set[str] = set()  # internetMessageIds handed over in this fetch
        for fid, path in folders.items():
            url = links.get(fid) or self._initial(fid)
            restarted = False
            while True:
                try:
                    resp = self._request("GET", url, f"{path} delta",
                                         headers={"Prefer": f"odata.maxpagesize={self.page_size}"})
                except _Gone as exc:
                    if restarted:
                        raise TransientError(str(exc)) from None
                    log.warning("%s: %s delta state expired; full resync of the folder", self.account, path)
                    url, restarted = exc.location or self._initial(fid), True
                    continue
                page = resp.json()
                items = [item for item in page.get("value", [])
                         if "@removed" not in item and not item.get("isDraft")]
                keys = {item["id"]: item.get("internetMessageId") or item["id"] for item in items}
                stored = self._stored([k for k in keys.values() if k not in seen])
                messages = []
                for item in items:
                    key = keys[item["id"]]
                    if key in seen or key in stored:
                        continue  # a replayed item, a move, a read/flag change: nothing new to read
                    raw = self._mime(item["id"])
                    if raw is None:
                        continue  # deleted since the delta page was built
                    seen.add(key)
                    messages.append(RawMessage(key, raw, thread_id=item.get("conversationId"), folder=path))
                nxt = page.get("@odata.nextLink")
                url = nxt or page.get("@odata.deltaLink")
                if not url:
                    raise TransientError(f"Graph {path} delta: a page with neither nextLink nor deltaLink")
                links[fid] = url
                yield Batch(messages, _dump_cursor(links, skip), [])
                if not nxt:
                    break

    def set_stored_lookup(self, lookup) -> None:
        """``lookup(provider ids) -> the ones already stored``: delta brings a stored
        message back when it is read, flagged or moved; its MIME is not downloaded again."""
        self._stored = lookup

    def _mime(self, graph_id: str) -> bytes | None:
        try:
            return self._request("GET", f"{self.user}/messages/{urllib.parse.quote(graph_id)}/$value",
                                 "message MIME").content
        except _NotFound:
            return None

    # --- drafts -----------------------------------------------------------------------

    def graph_id_of(self, internet_message_id: str) -> str | None:
        mid = internet_message_id.strip().replace("'", "''")
        resp = self._request("GET", f"{self.user}/messages", "find message", params={
            "$filter": f"internetMessageId eq '{mid}'", "$select": "id,conversationId"})
        found = resp.json().get("value", [])
        return found[0]["id"] if found else None

    def save_draft(self, draft: DraftMessage) -> str:
        """A reply draft made by ``createReply`` on the message it answers, with its body,
        recipients, subject and key inside that one call (learn.microsoft.com/graph/api/
        message-createreply takes a ``message``): a crash can never leave an empty draft
        without its key. A draft answering no message in the mailbox: ``POST /messages``."""
        msg, update = _draft_update(draft)
        if msg.get("Subject"):
            update["subject"] = str(msg["Subject"])
        parent_mid = header_of(draft.data, "In-Reply-To")
        parent = self.graph_id_of(parent_mid) if parent_mid else None
        if parent:
            created = self._request("POST", f"{self.user}/messages/{urllib.parse.quote(parent)}/createReply",
                                    "createReply", json={"message": update}).json()
            return created["id"]
        created = self._request("POST", f"{self.user}/messages", "create draft",
                                json={"subject": "", **update}).json()
        return created["id"]

    def update_draft(self, provider_id: str, draft: DraftMessage) -> str:
        """``PATCH /messages/{id}`` of the draft's subject and body: same id, same thread."""
        msg, update = _draft_update(draft)
        if msg.get("Subject"):
            update["subject"] = str(msg["Subject"])
        try:
            self._request("PATCH", f"{self.user}/messages/{urllib.parse.quote(provider_id)}",
                          "update draft", json=update)
        except _NotFound:
            raise ConfigurationError(f"Outlook draft {provider_id[:24]}… is gone (sent or deleted in "
                                     "the mailbox): nothing to update") from None
        return provider_id

    def send_draft(self, provider_id: str) -> str:
        """``POST /messages/{id}/send`` (202, no body): Exchange sends the draft and moves it
        to Sent Items, in its conversation. Sent at most once: the draft's
        ``internetMessageId`` is read first (the sent message keeps it) and looked for in
        Sent Items -- an earlier try whose answer was lost may have sent it, and the draft
        can still be found for a while after it went (202 is "accepted", not "done",
        learn.microsoft.com/graph/api/message-send): then, as for a draft that is gone, the
        send is refused, never made twice (the next sync reads the sent copy). An unclear
        failure looks for it before any retry (:func:`~connectors._cloud.send_exactly_once`)."""
        gid = urllib.parse.quote(provider_id)
        try:
            info = self._request("GET", f"{self.user}/messages/{gid}", "read draft",
                                 params={"$select": "internetMessageId,isDraft"}).json()
        except _NotFound:
            info = None
        mid = (info or {}).get("internetMessageId")
        if not info or info.get("isDraft") is False or (mid and self.sent_copy(mid)):
            raise ConfigurationError(f"Outlook draft {provider_id[:24]}… is gone (already sent, or "
                                     "deleted in the mailbox): not sent again")
        send_exactly_once(lambda: self._send_once(f"{self.user}/messages/{gid}/send", "send draft", data=b""),
                          (lambda: self.sent_copy(mid)) if mid else None, self.backoff, "Graph send draft")
        return mid or provider_id

    def send_message(self, data: bytes) -> str:
        """``POST /sendMail`` of raw RFC 5322 bytes, base64 in a ``text/plain`` body (Graph's
        MIME form; the recipients are its To/Cc/Bcc); saved to Sent Items. Returns its
        Message-ID. Sent at most once, as :meth:`send_draft`."""
        mid = header_of(data, "Message-ID")
        send_exactly_once(lambda: self._send_once(f"{self.user}/sendMail", "sendMail", data=base64.b64encode(data),
                                                  headers={"Content-Type": "text/plain"}),
                          (lambda: self.sent_copy(mid)) if mid else None, self.backoff, "Graph sendMail")
        return mid or ""

    def sent_copy(self, internet_message_id: str) -> str | None:
        """The id, if a message with this ``internetMessageId`` is in Sent Items."""
        mid = internet_message_id.strip().replace("'", "''")
        resp = self._request("GET", f"{self.user}/mailFolders/sentitems/messages", "find sent copy", params={
            "$filter": f"internetMessageId eq '{mid}'", "$select": "id"})
        found = resp.json().get("value", [])
        return internet_message_id if found else None

    def _send_once(self, url: str, what: str, **kw) -> str:
        """One POST of a send (requests never re-sends one by itself). 429 and 503 with
        Retry-After are throttling, refused before acceptance (learn.microsoft.com/graph/
        throttling); a timeout, a dropped connection or another 5xx is unclear."""
        import requests

        extra = kw.pop("headers", {})
        force = False
        while True:
            headers = {"Authorization": f"Bearer {self.tokens(force_refresh=force, scopes=SEND_SCOPES)}",
                       **extra}
            try:
                resp = self.session.request("POST", self.base + url, headers=headers, timeout=self.timeout, **kw)
            except requests.ConnectTimeout:
                raise Throttled(None) from None  # never reached the server
            except requests.ConnectionError as exc:
                if "NewConnectionError" in repr(exc):
                    raise Throttled(None) from None
                raise Unclear(f"connection lost ({type(exc).__name__})") from None
            except requests.Timeout:
                raise Unclear("no answer in time") from None
            if resp.status_code < 300:
                return "sent"
            if resp.status_code == 429 or (resp.status_code == 503 and resp.headers.get("Retry-After")):
                raise Throttled(parse_retry_after(resp.headers.get("Retry-After")))
            if resp.status_code >= 500:
                raise Unclear(f"HTTP {resp.status_code}")
            if resp.status_code == 401 and not force:
                force = True  # refused before acceptance: refresh the token once
                continue
            raise self._error(resp, what)

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        """Read the draft with its key property (``$expand=singleValueExtendedProperties``,
        learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get), then
        ``POST /messages/{id}/move`` to the well-known folder ``deleteditems``
        (learn.microsoft.com/graph/api/message-move): Deleted Items, recoverable; never
        ``DELETE``. False when the id is gone (sent: a sent draft moves to Sent Items and
        gets a new id), is not a draft any more, or carries another key."""
        gid = urllib.parse.quote(provider_id)
        wanted = " or ".join(f"id eq '{p}'" for p in (FOLLOWUP_PROP, LEGACY_FOLLOWUP_PROP))
        try:
            found = self._request("GET", f"{self.user}/messages/{gid}", "read draft", params={
                "$select": "id,isDraft",
                "$expand": f"singleValueExtendedProperties($filter={wanted})"}).json()
        except _NotFound:
            return False
        keys = {p.get("value") for p in found.get("singleValueExtendedProperties") or ()}
        if not found.get("isDraft") or idempotency_key not in keys:
            return False
        try:
            self._request("POST", f"{self.user}/messages/{gid}/move", "move draft to Deleted Items",
                          json={"destinationId": "deleteditems"})
        except _NotFound:
            return False
        return True

    def find_draft(self, idempotency_key: str) -> str | None:
        key = idempotency_key.replace("'", "''")
        for prop in (FOLLOWUP_PROP, LEGACY_FOLLOWUP_PROP):
            resp = self._request("GET", f"{self.user}/mailFolders/drafts/messages", "find draft", params={
                "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{key}')",
                "$select": "id"})
            found = resp.json().get("value", [])
            if found:
                return found[0]["id"]
        return None

    def probe(self) -> str:
        """Authenticate and read one page: a one-line report for ``followup accounts test``."""
        resp = self._request("GET", f"{self.user}/mailFolders/inbox/messages", "list inbox",
                             params={"$top": "10", "$select": "id"})
        return f"signed in; Inbox first page: {len(resp.json().get('value', []))} messages"

    def close(self) -> None:
        self.session.close()


def _draft_update(draft: DraftMessage):
    """The parsed draft and the Graph fields that carry its body and idempotency key."""
    msg = email.message_from_bytes(draft.data, policy=email.policy.default)
    part = msg.get_body(("plain",)) if msg.is_multipart() else msg
    body = part.get_content() if part is not None else ""
    props = [{"id": FOLLOWUP_PROP, "value": draft.idempotency_key}]
    update = {"body": {"contentType": "text", "content": body}, "singleValueExtendedProperties": props}
    recipients = [{"emailAddress": {"address": a}} for _, a in getaddresses(msg.get_all("To", [])) if a]
    if recipients:  # the draft's own To (createReply would address the original sender)
        update["toRecipients"] = recipients
    # The draft's own Cc, also when empty: createReply copies no one, and an update must
    # take back a copy the draft no longer has (the message resource's ccRecipients,
    # learn.microsoft.com/graph/api/resources/message).
    update["ccRecipients"] = [{"emailAddress": {"address": a, **({"name": n} if n else {})}}
                              for n, a in getaddresses(msg.get_all("Cc", [])) if a]
    return msg, update


class _Gone(ConfigurationError):
    """410 Gone / syncStateNotFound: the delta link expired."""

    location: str | None = None


class _NotFound(ConfigurationError):
    """404: the item is not there (any more)."""


def _load_cursor(cursor: str | None) -> dict:
    """``{"links": {folder id: URL}, "skip": [folder ids] | None, "legacy": bool}``.

    v2 (this version): ``{"v": 2, "kind": "outlook", "links": {...}, "skip": [...]}``, one
    delta link per folder id. v1 (Inbox and Sent Items only) was keyed by well-known name."""
    if not cursor:
        return {"links": {}, "skip": None}
    try:
        state = json.loads(cursor)
    except ValueError:
        raise ConfigurationError(f"not an outlook cursor (invalid JSON): {cursor[:80]!r}") from None
    if not isinstance(state, dict) or state.get("v") not in (1, 2) or state.get("kind") != "outlook":
        raise ConfigurationError(f"not an outlook cursor: {cursor[:80]!r}")
    return {"links": dict(state.get("links") or {}), "skip": state.get("skip"), "legacy": state["v"] == 1}


def _dump_cursor(links: dict, skip) -> str:
    return json.dumps({"v": 2, "kind": "outlook", "links": links, "skip": list(skip)},
                      separators=(",", ":"), sort_keys=True)
