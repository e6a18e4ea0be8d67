"""A loopback Gmail API server: the documented subset :mod:`connectors.gmail` uses.

Backed by a Maildir (root ``cur``/``new`` = INBOX, ``.Sent`` = SENT; files dropped in
later appear through ``history.list``). Speaks, under ``/gmail/v1/users/me``:
``profile``, ``messages`` (list with ``pageToken``/``maxResults``/``q=rfc822msgid:``),
``messages/{id}`` (``format=raw|metadata|minimal``), ``messages/send`` (raw), ``history``
(``startHistoryId``, 404 once expired), ``drafts`` (create in a thread, list, get, update
(PUT), ``drafts/send``: the draft leaves Drafts and a new SENT message joins its thread),
``messages/{id}/trash`` (needs ``gmail.modify``; a trashed draft leaves ``drafts.list``),
``POST /batch``
(multipart/mixed batch requests); ``POST /token`` (OAuth2 refresh-token and JWT-bearer
grants). Every API call needs a live bearer token (else 401). Faults (status codes with
``Retry-After``) are injected with :meth:`FakeGmail.faults` ``.add``.

Run on its own::

    python -m tests.fakes.gmail --maildir DIR --port 8025 [--token-file gmail-token.json]

It writes a token file (mode 0600) that a ``kind = "gmail"`` account can use with
``host = "http://127.0.0.1:8025"``.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
import urllib.parse
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

from tests.fakes._common import FakeService, Faults, MailStore, QuietHandler, Server, headers_of

API = "/gmail/v1/users/me"
API_SCOPES = ("https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.compose")


class FakeGmail(FakeService):
    def __init__(self, maildir=None, *, port: int = 0, email_address: str = "me@example.com",
                 page_size_cap: int = 500) -> None:
        self.store = MailStore(maildir)
        self.email = email_address
        self.faults = Faults()
        self.client_id = "fake-client.apps.googleusercontent.com"
        self.client_secret = "fake-secret"
        self.refresh_tokens: set[str] = {"refresh-" + secrets.token_hex(8)}  # a service account needs one
        self.granted: dict[str, set[str]] = {}  # refresh token -> the scopes its sign-in granted
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch)
        self.token_scopes: dict[str, set[str]] = {}  # access token -> the scopes it carries
        self.token_lifetime = 3600
        self.jwt_claims: list[dict] = []  # service-account assertions received (not verified)
        self.history_floor = 0  # history ids below this are "too old" (404)
        self.page_size_cap = page_size_cap
        self.sparse_labels = True  # history's messagesAdded carry labelIds only some of the time
        self.lock = threading.Lock()
        self.sent: list = []  # messages sent (drafts.send, messages.send), in order
        self.server = Server(_Handler, port)
        self.server.fake = self
        self.server.httpd.fake = self


    # --- helpers for tests ------------------------------------------------------------

    def token_info(self, scopes=API_SCOPES, **extra) -> dict:
        """An authorized-user token file's content (what the installed-app flow saves),
        for a sign-in that granted ``scopes``."""
        refresh = "refresh-" + secrets.token_hex(8)
        self.refresh_tokens.add(refresh)
        self.granted[refresh] = set(scopes)
        return {"type": "authorized_user", "client_id": self.client_id,
                "client_secret": self.client_secret, "refresh_token": refresh,
                "token_uri": self.url + "/token", "scopes": list(scopes), **extra}

    def write_token_file(self, path, scopes=API_SCOPES) -> Path:
        from connectors._cloud import write_secret_file

        write_secret_file(Path(path), json.dumps(self.token_info(scopes)))
        return Path(path)

    def revoke_all(self) -> None:
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def expire_history(self) -> None:
        """Every history id handed out so far becomes too old (history.list answers 404)."""
        self.history_floor = self.store.counter + 1

    def usage_limit(self, pattern: str, reason: str = "userRateLimitExceeded", *, status: int = 403,
                    times: int = 1, retry_after: str | None = None, message: str | None = None) -> None:
        """Answer the next ``times`` requests matching ``pattern`` (batch parts included)
        with a usage-limit error as Google documents it: HTTP 403 (or 429) and the reason
        in ``errors[].reason`` (developers.google.com/gmail/api/guides/handle-errors,
        developers.google.com/gmail/api/reference/quota)."""
        self.faults.add(pattern, status, times=times, retry_after=retry_after,
                        body=google_error(status, reason, message))

    def requests(self, pattern: str = "") -> int:
        """How many API calls (batch parts counted one by one) matched ``pattern``."""
        return sum(1 for line in self.faults.log if re.search(pattern, line))

    def add_message(self, raw: bytes, folder: str = "inbox"):
        return self.store.add(raw, folder)

    def drafts(self):
        return [m for m in self.store.messages if m.folder == "drafts"]

    # --- API ----------------------------------------------------------------------------

    @staticmethod
    def folder_labels(folder: str) -> list[str]:
        """A store folder as Gmail labels: system labels for the special folders, a user
        label (``Label_<name>``) for the others; below the Inbox, INBOX plus the label;
        an archived message (Archive, any other folder) has no INBOX label."""
        special = {"inbox": ["INBOX"], "sent": ["SENT"], "drafts": ["DRAFT"], "junk": ["SPAM"],
                   "trash": ["TRASH"], "outbox": ["SENT"]}
        if folder in special:
            return special[folder]
        if folder.startswith("inbox/"):
            return ["INBOX", "Label_" + folder[6:].replace("/", "_")]
        return ["Label_" + folder.replace("/", "_")]

    def labels(self, m) -> list[str]:
        return self.folder_labels(m.folder)

    def message_resource(self, m, fmt: str) -> dict:
        out = {"id": m.id, "threadId": m.thread, "labelIds": self.labels(m),
               "historyId": str(m.added_at), "sizeEstimate": len(m.raw),
               "snippet": ""}
        if fmt == "raw":
            out["raw"] = base64.urlsafe_b64encode(m.raw).decode()
        elif fmt in ("metadata", "full"):
            h = headers_of(m.raw)
            out["payload"] = {"mimeType": h.get_content_type(),
                              "headers": [{"name": k, "value": str(v)} for k, v in h.items()]}
        return out

    def handle(self, method: str, path: str, query: dict, body: bytes, auth: str | None):
        """One API request: (status, json or bytes, headers)."""
        line = f"{method} {path}?{urllib.parse.urlencode(query, doseq=True)}"
        fault = self.faults.take(line)
        if fault:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return fault.status, fault.body or google_error(fault.status), headers
        if path == "/token" and method == "POST":
            return self.token(body)
        token = (auth or "").removeprefix("Bearer ").strip()
        if self.access_tokens.get(token, 0) < time.time():
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                   "status": "UNAUTHENTICATED"}}, {}
        self.store.rescan()
        q = {k: v[-1] for k, v in query.items()}
        if not path.startswith(API):
            return 404, {"error": {"code": 404, "message": "Not Found"}}, {}
        rest = path[len(API):]
        if rest == "/profile":
            return 200, {"emailAddress": self.email, "historyId": str(self.store.counter),
                         "messagesTotal": len([m for m in self.store.messages if m.folder != "drafts"])}, {}
        if rest == "/labels" and method == "GET":
            names = sorted({label for m in self.store.messages for label in self.labels(m)})
            return 200, {"labels": [{"id": n, "name": n.removeprefix("Label_"),
                                     "type": "user" if n.startswith("Label_") else "system"} for n in names]}, {}
        if rest == "/messages" and method == "GET":
            return self.list_messages(q, query)
        m = re.fullmatch(r"/messages/([0-9a-f]+)", rest)
        if m and method == "GET":
            found = self.store.get(m.group(1))
            if not found:
                return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
            return 200, self.message_resource(found, q.get("format", "full")), {}
        if rest == "/history" and method == "GET":
            return self.history(q, query.get("historyTypes", []))
        if rest == "/drafts" and method == "POST":
            return self.create_draft(json.loads(body or b"{}"))
        if rest == "/drafts" and method == "GET":
            drafts = self.drafts()
            start = int(q.get("pageToken") or 0)
            size = min(int(q.get("maxResults") or 100), self.page_size_cap)
            page = drafts[start:start + size]
            out = {"drafts": [{"id": "d" + d.id, "message": {"id": d.id, "threadId": d.thread}} for d in page],
                   "resultSizeEstimate": len(drafts)}
            if start + size < len(drafts):
                out["nextPageToken"] = str(start + size)
            return 200, out, {}
        if rest == "/drafts/send" and method == "POST":
            return self.send_draft(json.loads(body or b"{}"))
        if rest == "/messages/send" and method == "POST":
            message = json.loads(body or b"{}")
            stored = self.store.add(_unb64(message["raw"]), "sent", thread=message.get("threadId") or None)
            self.sent.append(stored)
            return 200, {"id": stored.id, "threadId": stored.thread, "labelIds": ["SENT"]}, {}
        m = re.fullmatch(r"/messages/([0-9a-f]+)/trash", rest)
        if m and method == "POST":
            return self.trash(m.group(1), token)
        m = re.fullmatch(r"/drafts/d([0-9a-f]+)", rest)
        if m and method == "PUT":
            return self.update_draft(m.group(1), json.loads(body or b"{}"))
        if m and method == "GET":
            found = self.store.get(m.group(1))
            if not found or found.folder != "drafts":
                return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
            return 200, {"id": "d" + found.id, "message": self.message_resource(found, q.get("format", "full"))}, {}
        return 404, {"error": {"code": 404, "message": f"no such method {method} {rest}"}}, {}

    def list_messages(self, q: dict, query: dict):
        size = min(int(q.get("maxResults") or 100), self.page_size_cap)
        items = sorted(self.store.messages, key=lambda m: m.added_at, reverse=True)  # newest first
        if str(q.get("includeSpamTrash", "false")).lower() != "true":
            # "includeSpamTrash: Include messages from SPAM and TRASH in the results." (default
            # false; developers.google.com/gmail/api/reference/rest/v1/users.messages/list)
            items = [m for m in items if m.folder not in ("junk", "trash")]
        search = q.get("q") or ""
        after = re.search(r"\bafter:(\d+)\b", search)
        if after:  # epoch seconds, compared with the message's date (the search operators guide)
            items = [m for m in items if _date_of(m) > int(after.group(1))]
        wanted = re.search(r"rfc822msgid:(\S+)", search)
        if wanted:
            target = self.store.by_message_id(wanted.group(1))
            items = [target] if target else []
        labels = set(query.get("labelIds", []))
        if labels:
            items = [m for m in items if labels <= set(self.labels(m))]
        token = q.get("pageToken")
        if token:
            below = int(token, 16)
            items = [m for m in items if m.added_at < below]
        page = items[:size]
        out = {"messages": [{"id": m.id, "threadId": m.thread} for m in page],
               "resultSizeEstimate": len(items)}
        if len(items) > size:
            out["nextPageToken"] = f"{page[-1].added_at:x}"
        if not page:
            out.pop("messages")
        return 200, out, {}

    def history(self, q: dict, types: list[str]):
        """users.history.list: records after ``startHistoryId`` in order, each with the
        typed entries ``historyTypes`` asks for (all four when it names none)
        (developers.google.com/gmail/api/reference/rest/v1/users.history/list). A record's
        ``messagesAdded[].message`` carries ``labelIds`` only some of the time (every other
        record here, ``sparse_labels``): the History resource promises id and threadId, and
        a sync must read the message to know its labels. Ids older than ``history_floor``
        answer 404 (the sync guide: "history records are typically available for at least
        one week ... a 404 means perform a full sync",
        developers.google.com/gmail/api/guides/sync)."""
        start = int(q["startHistoryId"])
        if start < self.history_floor:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found.",
                                   "status": "NOT_FOUND"}}, {}
        types = set(types or ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved"))
        size = min(int(q.get("maxResults") or 100), self.page_size_cap)
        after = int(q.get("pageToken") or start)
        records = []
        with self.store.lock:
            changes = [c for c in self.store.changes if c.number > after]
        last = after
        for c in changes:
            if len(records) == size:
                break
            last = c.number
            m = c.message
            ref = {"id": m.id, "threadId": m.thread}
            rec: dict = {"id": str(c.number), "messages": [ref]}
            if c.kind == "added" and "messageAdded" in types:
                message = dict(ref)
                if not (self.sparse_labels and c.number % 2):
                    message["labelIds"] = self.folder_labels(m.folder)
                rec["messagesAdded"] = [{"message": message}]
            elif c.kind == "moved":
                old, new = set(self.folder_labels(c.old_folder)), set(self.folder_labels(m.folder))
                current = {**ref, "labelIds": sorted(new)}
                if old - new and "labelRemoved" in types:
                    rec["labelsRemoved"] = [{"message": current, "labelIds": sorted(old - new)}]
                if new - old and "labelAdded" in types:
                    rec["labelsAdded"] = [{"message": current, "labelIds": sorted(new - old)}]
            elif c.kind == "touched" and "labelRemoved" in types:
                rec["labelsRemoved"] = [{"message": {**ref, "labelIds": self.labels(m)}, "labelIds": ["UNREAD"]}]
            if len(rec) > 2:
                records.append(rec)
        out = {"historyId": str(self.store.counter)}
        if records:
            out["history"] = records
        if changes and last < changes[-1].number:
            out["nextPageToken"] = str(last)
        return 200, out, {}

    def create_draft(self, body: dict):
        message = body.get("message") or {}
        raw = base64.urlsafe_b64decode(message["raw"] + "=" * (-len(message["raw"]) % 4))
        thread = message.get("threadId")
        if thread and not any(m.thread == thread for m in self.store.messages):
            return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
        if thread and not self.subject_matches(thread, raw):
            # "The Subject headers must match" for a draft to join a thread
            # (developers.google.com/gmail/api/guides/drafts): otherwise a thread of its own
            thread = None
        stored = self.store.add(raw, "drafts", thread=thread or None)
        if not thread:
            stored.thread = stored.id
        return 200, {"id": "d" + stored.id, "message": {"id": stored.id, "threadId": stored.thread,
                                                         "labelIds": ["DRAFT"]}}, {}

    def subject_matches(self, thread: str, raw: bytes) -> bool:
        first = next((m for m in self.store.messages if m.thread == thread), None)
        if first is None:
            return False
        strip = re.compile(r"^\s*((re|fwd?|rv)\s*:\s*)+", re.I)

        def norm(text) -> str:
            return " ".join(strip.sub("", str(text or "")).split()).casefold()
        return norm(headers_of(first.raw).get("Subject")) == norm(headers_of(raw).get("Subject"))

    def _draft(self, draft_id: str):
        found = self.store.get(draft_id.removeprefix("d")) if draft_id.startswith("d") else None
        return found if found is not None and found.folder == "drafts" else None

    def update_draft(self, msg_id: str, body: dict):
        """drafts.update: the draft id stays, its message is replaced."""
        found = self._draft("d" + msg_id)
        if not found:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
        message = body.get("message") or {}
        found.raw = _unb64(message["raw"])
        if message.get("threadId"):
            found.thread = message["threadId"]
        return 200, {"id": "d" + found.id, "message": {"id": found.id, "threadId": found.thread,
                                                        "labelIds": ["DRAFT"]}}, {}

    def send_draft(self, body: dict):
        """drafts.send: the draft is deleted; a new message (new id, label SENT) is filed in
        the draft's thread and shows up in history.list."""
        found = self._draft(str(body.get("id") or ""))
        if not found:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
        with self.store.lock:
            self.store.remove(found)
            stored = self.store.add(found.raw, "sent", thread=found.thread)
        self.sent.append(stored)
        return 200, {"id": stored.id, "threadId": stored.thread, "labelIds": ["SENT"]}, {}

    def trash(self, msg_id: str, token: str):
        """messages.trash: "Moves the specified message to the trash"; it needs
        ``gmail.modify`` or ``mail.google.com`` (developers.google.com/gmail/api/reference/
        rest/v1/users.messages/trash), else 403 ``insufficientPermissions`` (handle-errors
        guide). The message keeps its id with the label TRASH; a trashed draft is no longer
        listed by drafts.list ("includeSpamTrash: Include drafts from SPAM and TRASH in
        the results", default false: developers.google.com/gmail/api/reference/rest/v1/
        users.drafts/list)."""
        if not {"https://www.googleapis.com/auth/gmail.modify", "https://mail.google.com/"} \
                & self.token_scopes.get(token, set()):
            return 403, google_error(403, "insufficientPermissions"), {}
        found = self.store.get(msg_id)
        if not found:
            return 404, {"error": {"code": 404, "message": "Requested entity was not found."}}, {}
        self.store.move(found, "trash")
        return 200, self.message_resource(found, "minimal"), {}

    def token(self, body: bytes):
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client", "error_description": "The OAuth client was not found."}, {}
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, {}
            granted = self.granted.get(form["refresh_token"], set(API_SCOPES))
            asked = set(form.get("scope", "").split())
            if asked - granted:
                # a refresh may narrow the scopes, never widen them: "invalid_scope"
                # (developers.google.com/identity/protocols/oauth2/native-app, refreshing a token)
                return 400, {"error": "invalid_scope", "error_description":
                             "Some requested scopes were invalid: " + " ".join(sorted(asked - granted))}, {}
            scope = " ".join(sorted(asked or granted))
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            if not form.get("assertion") or not self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT."}, {}
            claims = form["assertion"].split(".")[1]
            self.jwt_claims.append(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))))
            scope = self.jwt_claims[-1].get("scope", "")
        else:
            return 400, {"error": "unsupported_grant_type"}, {}
        token = "ya29.fake-" + secrets.token_hex(12)
        self.access_tokens[token] = time.time() + self.token_lifetime
        self.token_scopes[token] = set(scope.split())
        return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer",
                     "scope": scope}, {}

    def batch(self, content_type: str, body: bytes, auth: str | None):
        """multipart/mixed of application/http parts -> multipart/mixed of responses."""
        parser = BytesParser(policy=compat32)
        envelope = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        boundary = "batch_" + secrets.token_hex(8)
        out = []
        parts = envelope.get_payload()
        if len(parts) > 100:
            # "You're limited to 100 calls in a single batch request. If you need to make more
            # calls than that, use multiple batch requests." (developers.google.com/gmail/api/guides/batch)
            return 400, google_error(400, "badRequest", "Too many requests in a batch: at most 100"), {}
        for part in parts:
            content_id = part.get("Content-ID", "")
            inner = part.get_payload(decode=False)
            if isinstance(inner, list):
                inner = inner[0].as_string()
            request_line, _, rest = inner.lstrip().partition("\n")
            method, target, _ = request_line.strip().split(" ", 2)
            header_text, _, inner_body = rest.replace("\r\n", "\n").partition("\n\n")
            inner_auth = auth
            for h in header_text.split("\n"):
                if h.lower().startswith("authorization:"):
                    inner_auth = h.split(":", 1)[1].strip()
            parsed = urllib.parse.urlsplit(target)
            status, payload, headers = self.handle(method, parsed.path, urllib.parse.parse_qs(parsed.query),
                                                   inner_body.encode(), inner_auth)
            data = json.dumps(payload)
            extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            out.append(f"--{boundary}\r\nContent-Type: application/http\r\n"
                       f"Content-ID: <response-{content_id.strip('<>')}>\r\n\r\n"
                       f"HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=UTF-8\r\n{extra}"
                       f"Content-Length: {len(data.encode())}\r\n\r\n{data}\r\n")
        text = "".join(out) + f"--{boundary}--\r\n"
        return 200, text.encode(), {"__content_type": f"multipart/mixed; boundary={boundary}"}


class _Handler(QuietHandler):
    def _dispatch(self, method: str) -> None:
        fake: FakeGmail = self.server.fake
        parsed = urllib.parse.urlsplit(self.path)
        body = self.body()
        auth = self.headers.get("Authorization")
        if parsed.path == "/batch" and method == "POST":
            line = f"POST /batch?"
            fault = fake.faults.take(line)
            if fault:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self.send(fault.status, fault.body or google_error(fault.status), headers=headers)
                return
            status, payload, headers = fake.batch(self.headers.get("Content-Type", ""), body, auth)
        else:
            status, payload, headers = fake.handle(method, parsed.path, urllib.parse.parse_qs(parsed.query),
                                                   body, auth)
        ctype = headers.pop("__content_type", "application/json; charset=UTF-8")
        if fake.faults.take_drop(f"{method} {parsed.path}?{parsed.query}"):
            return self.drop()
        self.send(status, payload, headers=headers, content_type=ctype)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")


_MESSAGES = {"userRateLimitExceeded": "User Rate Limit Exceeded", "rateLimitExceeded": "Rate Limit Exceeded",
             "dailyLimitExceeded": "Daily Limit Exceeded", "domainPolicy": "The domain administrators have "
             "disabled Gmail apps.", "insufficientPermissions": "Request had insufficient authentication scopes.",
             "backendError": "Backend Error"}


def google_error(status: int, reason: str | None = None, message: str | None = None) -> dict:
    """An error body in Google's JSON form (handle-errors guide): ``error.code``,
    ``error.message`` and ``error.errors[]`` with ``domain`` and ``reason``."""
    reason = reason or {429: "rateLimitExceeded", 403: "forbidden", 400: "badRequest"}.get(status, "backendError")
    message = message or _MESSAGES.get(reason, "injected fault")
    domain = "usageLimits" if reason in ("userRateLimitExceeded", "rateLimitExceeded", "dailyLimitExceeded") \
        else "global"
    return {"error": {"code": status, "message": message,
                      "errors": [{"domain": domain, "reason": reason, "message": message}]}}


def _date_of(m) -> float:
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(str(headers_of(m.raw).get("Date"))).timestamp()
    except (TypeError, ValueError):
        return float(m.added_at)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--port", type=int, default=8025)
    ap.add_argument("--token-file", default="gmail-token.json",
                    help="where to write the token file an account's oauth key points at")
    args = ap.parse_args(argv)
    fake = FakeGmail(args.maildir, port=args.port)
    path = fake.write_token_file(args.token_file)
    print(f"Fake Gmail on {fake.url} serving {args.maildir} ({len(fake.store.messages)} messages)")
    print(f"Token file: {path.resolve()}  (mode 0600)")
    print(f'Account: kind = "gmail", oauth = "{path.resolve()}", host = "{fake.url}"')
    fake.server.httpd.serve_forever()


if __name__ == "__main__":
    main()
