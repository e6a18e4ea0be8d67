"""A loopback Microsoft Graph + Entra sign-in server: the subset :mod:`connectors.outlook` uses.

HTTPS on 127.0.0.1 with a self-signed certificate (msal accepts only https authorities;
clients trust it through ``REQUESTS_CA_BUNDLE``). Backed by a Maildir (root ``cur``/
``new`` = Inbox, ``.Sent`` = Sent Items; files dropped in later show up in the next delta).

Sign-in (``/{tenant}/...``): OpenID discovery, ``oauth2/v2.0/devicecode`` (approved at
once), ``oauth2/v2.0/token`` (device-code, refresh-token and client-credentials grants).
Graph (``/v1.0/me`` or ``/v1.0/users/{upn}``): ``mailFolders/{inbox,sentitems}/messages/delta``
(``Prefer: odata.maxpagesize``, nextLink/deltaLink, 410 ``syncStateNotFound`` once
expired), ``messages/{id}/$value``, ``messages?$filter=internetMessageId eq '…'``,
``messages/{id}/createReply``, ``GET``/``PATCH messages/{id}``, ``POST messages``,
``POST messages/{id}/send`` (the draft moves to Sent Items, 202), ``POST sendMail`` (MIME
or JSON, 202), ``POST messages/{id}/move`` (a new id in the destination folder, 201),
``GET messages/{id}?$expand=singleValueExtendedProperties($filter=…)``,
``mailFolders/drafts/messages?$filter=singleValueExtendedProperties/Any(…)``. Faults
(status + ``Retry-After``) are injected with ``fake.faults.add``.

Run on its own::

    python -m tests.fakes.graph --maildir DIR --port 8026 [--token-file outlook-token.json]
"""

from __future__ import annotations

import argparse
import base64
import collections
import email.utils
import json
import re
import secrets
import threading
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path

from tests.fakes._common import FakeService, Faults, MailStore, QuietHandler, Server, headers_of

TENANT = "fake-tenant"


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


WELL_KNOWN = {"inbox": ("inbox", "Inbox"), "sent": ("sentitems", "Sent Items"), "drafts": ("drafts", "Drafts"),
              "trash": ("deleteditems", "Deleted Items"), "junk": ("junkemail", "Junk Email"),
              "outbox": ("outbox", "Outbox"), "Archive": ("archive", "Archive")}
"""Store folder -> (well-known name, display name). Well-known names stand for a folder's id
in any URL (learn.microsoft.com/graph/api/resources/mailfolder: "well-known folder names")."""


def folder_id(path: str) -> str:
    return "AQMk" + path.encode().hex()


class FakeGraph(FakeService):
    def __init__(self, maildir=None, *, port: int = 0, upn: str = "me@example.com") -> None:
        self.store = MailStore(maildir)
        self.upn = upn
        self.faults = Faults()
        self.client_id = "00000000-fake-4000-8000-000000000001"
        self.client_secret = "fake-client-secret"
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.token_lifetime = 3600
        self.generation = 1  # delta/skip tokens of an older generation answer 410
        self.props: dict[str, dict] = {}  # message id -> extended properties
        self.bodies: dict[str, str] = {}
        self.subjects: dict[str, str] = {}
        self.recipients: dict[str, str] = {}
        self.copied: dict[str, str] = {}  # draft id -> its Cc addresses
        self.sent: list = []  # messages sent (messages/{id}/send, sendMail), in order
        self.lingering: dict[str, list] = {}  # a sent draft's id -> [reads left, its resource]
        self.linger_reads = 2
        self.extra_folders: set[str] = set()  # folders that exist with no message yet
        self.replay_duplicates = True  # delta pages may repeat an item of the page before
        self.mailbox_limit = (10_000, 600.0)  # requests per window, per mailbox
        self.concurrency_limit = 4
        self.request_times: collections.deque[float] = collections.deque()
        self.in_flight = 0
        self.flight_lock = threading.Lock()
        self.server = Server(_Handler, port, tls=True)
        self.server.httpd.fake = self


    @property
    def ca_file(self) -> str:
        return self.server.ca_file

    @property
    def authority(self) -> str:
        return f"{self.url}/{TENANT}"

    # --- helpers for tests ------------------------------------------------------------

    def expire_delta(self) -> None:
        self.generation += 1

    def revoke_all(self) -> None:
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        for k in self.access_tokens:
            self.access_tokens[k] = 0

    def add_message(self, raw: bytes, folder: str = "inbox"):
        return self.store.add(raw, folder)

    def drafts(self):
        return [m for m in self.store.messages if m.folder == "drafts"]

    def requests(self, pattern: str = "") -> int:
        """How many requests matched ``pattern`` (regex over "METHOD /path?query")."""
        return sum(1 for line in self.faults.log if re.search(pattern, line))

    # --- folders ------------------------------------------------------------------------

    def folder_paths(self) -> set[str]:
        paths = set(WELL_KNOWN) | self.extra_folders | set(self.store.folders())
        for p in list(paths):  # every ancestor of a child folder exists too
            parts = p.split("/")
            paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return paths

    def folder_path(self, ref: str) -> str | None:
        """A folder id or well-known name -> the store folder, or None."""
        for path, (name, _) in WELL_KNOWN.items():
            if ref.lower() == name:
                return path
        paths = self.folder_paths()
        for path in paths:
            if folder_id(path) == ref:
                return path
        return None

    def folder_resource(self, path: str) -> dict:
        paths = self.folder_paths()
        parent = path.rsplit("/", 1)[0] if "/" in path else None
        children = [p for p in paths if p.rsplit("/", 1)[0] == path and "/" in p]
        name = WELL_KNOWN[path][1] if path in WELL_KNOWN else path.rsplit("/", 1)[-1]
        return {"id": folder_id(path), "displayName": name, "parentFolderId": folder_id(parent) if parent
                else "AQMkroot", "childFolderCount": len(children),
                "totalItemCount": sum(1 for m in self.store.messages if m.folder == path)}

    def folder_list(self, parent: str | None, q: dict, path: str):
        """mailFolders (top level) and mailFolders/{id}/childFolders, paged with $top/$skip
        (learn.microsoft.com/graph/api/user-list-mailfolders, mailfolder-list-childfolders:
        "returns only the direct children"; 10 a page unless $top says otherwise)."""
        paths = sorted(p for p in self.folder_paths()
                       if (parent is None and "/" not in p) or (parent is not None and "/" in p
                                                                and p.rsplit("/", 1)[0] == parent))
        top, skip = int(q.get("$top") or 10), int(q.get("$skip") or 0)
        out = {"value": [self.folder_resource(p) for p in paths[skip:skip + top]]}
        if skip + top < len(paths):
            query = {k: v for k, v in q.items() if k != "$skip"}
            out["@odata.nextLink"] = f"{self.url}{path}?" + urllib.parse.urlencode({**query, "$skip": skip + top})
        return 200, out, {}

    # --- sign-in ------------------------------------------------------------------------

    def issue(self, *, delegated: bool) -> dict:
        token = "eyJ.fake-" + secrets.token_hex(12)
        self.access_tokens[token] = time.time() + self.token_lifetime
        out = {"token_type": "Bearer", "access_token": token, "expires_in": self.token_lifetime,
               "ext_expires_in": self.token_lifetime}
        if delegated:
            refresh = "rt-" + secrets.token_hex(12)
            self.refresh_tokens.add(refresh)
            now = int(time.time())
            claims = {"aud": self.client_id, "iss": f"{self.authority}/v2.0", "iat": now, "nbf": now,
                      "exp": now + 3600, "oid": "11111111-1111-1111-1111-111111111111", "tid": TENANT,
                      "preferred_username": self.upn, "sub": "fake-sub", "ver": "2.0"}
            out.update({"refresh_token": refresh, "scope": "https://graph.microsoft.com/Mail.ReadWrite",
                        "id_token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
                        "client_info": _b64({"uid": "11111111-1111-1111-1111-111111111111", "utid": TENANT})})
        return out

    def signin(self, method: str, rest: str, body: bytes):
        if rest in ("/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"):
            base = self.authority
            return 200, {"token_endpoint": f"{base}/oauth2/v2.0/token",
                         "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                         "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                         "issuer": f"{base}/v2.0", "token_endpoint_auth_methods_supported": ["client_secret_post"],
                         "response_types_supported": ["code", "id_token"], "scopes_supported": ["openid"]}, {}
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if rest == "/oauth2/v2.0/devicecode" and method == "POST":
            return 200, {"device_code": "dc-" + secrets.token_hex(8), "user_code": "FAKE1234",
                         "verification_uri": f"{self.url}/devicelogin", "expires_in": 900, "interval": 1,
                         "message": f"To sign in, open {self.url}/devicelogin and enter the code FAKE1234."}, {}
        if rest == "/oauth2/v2.0/token" and method == "POST":
            if form.get("client_id") != self.client_id:
                return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016: app not found"}, {}
            grant = form.get("grant_type")
            if grant == "client_credentials":
                if form.get("client_secret") != self.client_secret:
                    return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}, {}
                return 200, self.issue(delegated=False), {}
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                return 200, self.issue(delegated=True), {}
            if grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return 400, {"error": "invalid_grant", "error_description":
                                 "AADSTS700082: The refresh token has expired due to inactivity."}, {}
                return 200, self.issue(delegated=True), {}
            return 400, {"error": "unsupported_grant_type"}, {}
        return 404, {"error": "not_found"}, {}

    # --- Graph --------------------------------------------------------------------------

    def gid(self, m, moves: int | None = None) -> str:
        """Graph's id of a message. It changes when the message moves to another folder
        (learn.microsoft.com/graph/outlook-immutable-id: "an item's ID changes when it's moved")."""
        moves = m.moves if moves is None else moves
        return "AAMk" + m.id + (f"-{moves}" if moves else "")

    def find(self, gid: str):
        if not gid.startswith("AAMk"):
            return None
        base, _, moves = gid[4:].partition("-")
        found = self.store.get(base)
        if found is None or found.moves != (int(moves) if moves else 0):
            return None
        return found

    def resource(self, m) -> dict:
        h = headers_of(m.raw)
        return {"id": self.gid(m), "internetMessageId": m.message_id, "conversationId": "conv-" + m.thread,
                "isDraft": m.folder == "drafts", "subject": self.subjects.get(m.id, str(h.get("Subject", "")))}

    def graph(self, method: str, path: str, query: dict, body: bytes, headers):
        q = {k: v[-1] for k, v in query.items()}
        m = re.fullmatch(r"/v1\.0/(?:me|users/[^/]+)(/.*)", path)
        if not m:
            return 404, {"error": {"code": "ResourceNotFound", "message": "bad path"}}, {}
        rest = m.group(1)
        self.store.rescan()
        if rest == "/mailFolders" and method == "GET":
            return self.folder_list(None, q, path)
        f = re.fullmatch(r"/mailFolders/([^/]+)(/childFolders)?", rest)
        if f and method == "GET":
            where = self.folder_path(f.group(1))
            if where is None:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
            return self.folder_list(where, q, path) if f.group(2) else (200, self.folder_resource(where), {})
        d = re.fullmatch(r"/mailFolders/([^/]+)/messages/delta", rest)
        if d and method == "GET":
            where = self.folder_path(d.group(1))
            if where is None:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
            return self.delta(where, path, q, headers)
        v = re.fullmatch(r"/messages/([^/]+)/\$value", rest)
        if v and method == "GET":
            found = self.find(v.group(1))
            if not found:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
            return 200, found.raw, {"__content_type": "text/plain"}
        if rest == "/messages" and method == "GET":
            want = re.fullmatch(r"internetMessageId eq '(.*)'", q.get("$filter", ""))
            items = [x for x in self.store.messages if x.folder != "drafts"]
            if want:
                mid = want.group(1).replace("''", "'")
                items = [x for x in items if x.message_id == mid]
            return 200, {"value": [self.resource(x) for x in items[:10]]}, {}
        r = re.fullmatch(r"/messages/([^/]+)/createReply", rest)
        if r and method == "POST":
            parent = self.find(r.group(1))
            if not parent:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "not found"}}, {}
            ph = headers_of(parent.raw)
            refs = f"{ph.get('References', '')} {parent.message_id or ''}".strip()
            raw = (f"From: {self.upn}\r\nTo: {ph.get('From', '')}\r\nSubject: RE: {ph.get('Subject', '')}\r\n"
                   f"In-Reply-To: {parent.message_id}\r\nReferences: {refs}\r\n"
                   f"Message-ID: <draft-{secrets.token_hex(6)}@fake.example>\r\n\r\n").encode()
            data = json.loads(body or b"{}")
            if data.get("comment") and (data.get("message") or {}).get("body"):
                # "You can specify either a comment or the body property of the message
                # parameter. Specifying both will return an HTTP 400 Bad Request error."
                # (learn.microsoft.com/graph/api/message-createreply)
                return 400, {"error": {"code": "ErrorInvalidRequest", "message": "comment and body"}}, {}
            stored = self.store.add(raw, "drafts", thread=parent.thread)
            self.apply(stored, data.get("message") or {})
            if data.get("comment"):
                self.bodies[stored.id] = data["comment"]
            return 201, self.resource(stored), {}
        mv = re.fullmatch(r"/messages/([^/]+)/move", rest)
        if mv and method == "POST":
            return self.move(mv.group(1), json.loads(body or b"{}"))
        snd = re.fullmatch(r"/messages/([^/]+)/send", rest)
        if snd and method == "POST":
            return self.send_draft(snd.group(1))
        if rest == "/sendMail" and method == "POST":
            return self.send_mail(body, headers)
        u = re.fullmatch(r"/messages/([^/]+)", rest)
        if u and method == "GET":
            found = self.find(u.group(1))
            if not found and self.lingering.get(u.group(1), [0])[0] > 0:
                self.lingering[u.group(1)][0] -= 1
                return 200, self.lingering[u.group(1)][1], {}
            if not found:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
            return 200, self.with_properties(found, q.get("$expand", "")), {}
        if u and method == "PATCH":
            found = self.find(u.group(1))
            if not found:
                return 404, {"error": {"code": "ErrorItemNotFound", "message": "not found"}}, {}
            self.apply(found, json.loads(body or b"{}"))
            return 200, self.resource(found), {}
        if rest == "/messages" and method == "POST":
            data = json.loads(body or b"{}")
            raw = f"From: {self.upn}\r\nSubject: {data.get('subject', '')}\r\n\r\n".encode()
            stored = self.store.add(raw, "drafts")
            self.apply(stored, data)
            return 201, self.resource(stored), {}
        if rest == "/mailFolders/drafts/messages" and method == "GET":
            f = re.search(r"ep/id eq '(.*?)' and ep/value eq '(.*)'\)", q.get("$filter", ""))
            items = self.drafts()
            if f:
                pid, val = f.group(1), f.group(2).replace("''", "'")
                items = [x for x in items if self.props.get(x.id, {}).get(pid) == val]
            return 200, {"value": [{"id": self.gid(x)} for x in items]}, {}
        fm = re.fullmatch(r"/mailFolders/([^/]+)/messages", rest)
        if fm and method == "GET":
            where = self.folder_path(fm.group(1))
            items = [x for x in self.store.messages if x.folder == where]
            want = re.fullmatch(r"internetMessageId eq '(.*)'", q.get("$filter", ""))
            if want:
                items = [x for x in items if x.message_id == want.group(1).replace("''", "'")]
            return 200, {"value": [{"id": self.gid(x), "internetMessageId": x.message_id}
                                   for x in items[: int(q.get("$top", 10))]]}, {}
        return 404, {"error": {"code": "ResourceNotFound", "message": f"no such call {method} {rest}"}}, {}

    def with_properties(self, m, expand: str) -> dict:
        """The resource, with the extended properties ``$expand`` names: "GET
        /me/messages/{id}?$expand=singleValueExtendedProperties($filter=id eq '{id_value}')"
        (learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get; ``or`` of
        several ids)."""
        out = self.resource(m)
        wanted = re.fullmatch(r"singleValueExtendedProperties\(\$filter=(.*)\)", expand)
        if wanted:
            ids = re.findall(r"id eq '(.*?)'", wanted.group(1))
            out["singleValueExtendedProperties"] = [
                {"id": pid, "value": value} for pid, value in self.props.get(m.id, {}).items() if pid in ids]
        return out

    def move(self, gid: str, data: dict):
        """message: move -- "creates a new copy of the message in the destination folder and
        removes the original message"; ``destinationId`` is a folder id or a well-known
        name; 201 with the moved message (learn.microsoft.com/graph/api/message-move), whose
        id changed (learn.microsoft.com/graph/outlook-immutable-id)."""
        found = self.find(gid)
        where = self.folder_path(str(data.get("destinationId") or ""))
        if not found or where is None:
            return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
        self.store.move(found, where)
        return 201, self.resource(found), {}

    def send_draft(self, gid: str):
        """message: send — the draft leaves Drafts; the sent message (a new id, the draft's
        internetMessageId, its X-Followup-Id internet header, body and subject) lands in
        Sent Items in the draft's conversation. 202, no body."""
        found = self.find(gid)
        if not found or found.folder != "drafts":
            return 404, {"error": {"code": "ErrorItemNotFound", "message": "The specified object was not found in the store."}}, {}
        h = headers_of(found.raw)
        msg = EmailMessage()
        msg["From"] = str(h.get("From") or self.upn)
        msg["To"] = self.recipients.get(found.id) or str(h.get("To") or "")
        if self.copied.get(found.id):
            msg["Cc"] = self.copied[found.id]
        msg["Subject"] = self.subjects.get(found.id, str(h.get("Subject") or ""))
        msg["Date"] = email.utils.formatdate(time.time(), usegmt=True)
        msg["Message-ID"] = found.message_id or f"<sent-{secrets.token_hex(6)}@fake.example>"
        for name in ("In-Reply-To", "References"):
            if h.get(name):
                msg[name] = str(h[name])
        for pid, value in self.props.get(found.id, {}).items():
            if pid.startswith("String {00020386-0000-0000-C000-000000000046} Name "):
                msg[pid.rsplit(" ", 1)[1]] = value
        msg.set_content(self.bodies.get(found.id, ""), charset="utf-8")
        with self.store.lock:
            self.store.remove(found)
            stored = self.store.add(msg.as_bytes(), "sent", thread=found.thread)
        # 202 Accepted: sending goes on after the answer, and the draft can still be read
        # under its id for a while (learn.microsoft.com/graph/api/message-send).
        self.lingering[gid] = [self.linger_reads, self.resource(found)]
        self.sent.append(stored)
        return 202, None, {}

    def send_mail(self, body: bytes, headers):
        """user: sendMail — MIME (text/plain, base64) or JSON ({"message": {...}}); saved to
        Sent Items. 202, no body."""
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "text/plain":
            try:
                raw = base64.b64decode(body, validate=True)
            except ValueError:
                return 400, {"error": {"code": "ErrorMimeContentInvalidBase64String",
                                       "message": "Invalid base64 string for MIME content."}}, {}
        else:
            data = json.loads(body or b"{}").get("message") or {}
            msg = EmailMessage()
            msg["From"] = self.upn
            msg["To"] = ", ".join(r["emailAddress"]["address"] for r in data.get("toRecipients", []))
            msg["Subject"] = data.get("subject", "")
            msg["Message-ID"] = f"<sent-{secrets.token_hex(6)}@fake.example>"
            content = (data.get("body") or {}).get("content", "")
            is_html = (data.get("body") or {}).get("contentType", "text").lower() == "html"
            msg.set_content(content, subtype="html" if is_html else "plain")
            raw = msg.as_bytes()
        stored = self.store.add(raw, "sent")
        self.sent.append(stored)
        return 202, None, {}

    def apply(self, m, data: dict) -> None:
        if "toRecipients" in data:
            self.recipients[m.id] = ", ".join(r["emailAddress"]["address"] for r in data["toRecipients"])
        if "ccRecipients" in data:  # (learn.microsoft.com/graph/api/resources/message)
            self.copied[m.id] = ", ".join(r["emailAddress"]["address"] for r in data["ccRecipients"])
        for p in data.get("singleValueExtendedProperties", []):
            self.props.setdefault(m.id, {})[p["id"]] = p["value"]
        if "body" in data:
            self.bodies[m.id] = data["body"].get("content", "")
        if "subject" in data:
            self.subjects[m.id] = data["subject"]

    def delta(self, folder: str, path: str, q: dict, headers):
        """message: delta of one folder (learn.microsoft.com/graph/delta-query-messages:
        "delta query is a per-folder operation"; learn.microsoft.com/graph/api/message-delta).
        A round lists the folder's messages created or changed since its token (a read or
        flag change brings a message back, "updated"), and, after the first round, an
        ``@removed`` entry for each message that left the folder (moved or deleted), with the
        id it had there. Pages follow ``Prefer: odata.maxpagesize`` (10 by default). A page
        may repeat the last item of the page before (the overview: "the same resource may be
        returned more than once", learn.microsoft.com/graph/delta-query-overview);
        ``$filter=receivedDateTime ge ...`` (the only filter delta takes) is kept in the
        links. A token of an older generation answers 410 Gone with a ``Location`` header:
        the URL of a new full round."""
        size = 10
        pref = re.search(r"odata\.maxpagesize=(\d+)", headers.get("Prefer", "") or "")
        if pref:
            size = int(pref.group(1))
        token = q.get("$skiptoken") or q.get("$deltatoken")
        after, start, gen = (int(x) for x in token.split(".")) if token else (0, 0, self.generation)
        base = f"{self.url}{path}"
        keep = {k: q[k] for k in ("$select", "$filter") if k in q}
        if gen != self.generation:
            return 410, {"error": {"code": "SyncStateNotFound",
                                   "message": "The sync state generation is not found."}}, {
                "Location": base + ("?" + urllib.parse.urlencode(keep) if keep else "")}
        since = _since(q.get("$filter", ""))
        with self.store.lock:
            entries = [(x.changed_at, x, None) for x in self.store.messages
                       if x.folder == folder and x.changed_at > after
                       and (since == float("-inf") or _received(x) >= since)]
            if start:  # not the first round: what left the folder since
                entries += [(c.number, None, self.gid(c.message, c.old_moves)) for c in self.store.changes
                            if c.kind == "moved" and c.old_folder == folder and c.number > after]
        entries.sort(key=lambda e: e[0])
        page = entries[:size]
        value = []
        for number, x, removed in page:
            if removed:
                value.append({"@odata.type": "#microsoft.graph.message", "id": removed,
                              "@removed": {"reason": "deleted"}})
            else:
                value.append({k: v for k, v in self.resource(x).items()
                              if k in ("id", "internetMessageId", "conversationId", "isDraft")})
        out = {"@odata.context": f"{self.url}/v1.0/$metadata#Collection(message)", "value": value}
        if len(entries) > size:
            last = page[-1][0]
            if self.replay_duplicates and len(page) > 1:
                last = page[-2][0]  # the next page starts with this page's last item again
            token = f"{last}.{start}.{gen}"
            out["@odata.nextLink"] = base + "?" + urllib.parse.urlencode({**keep, "$skiptoken": token})
        else:
            last = max([after] + [e[0] for e in page])
            out["@odata.deltaLink"] = base + "?" + urllib.parse.urlencode(
                {**keep, "$deltatoken": f"{max(last, self.store.counter)}.1.{gen}"})
        return 200, out, {}

    def throttled(self) -> tuple[int, dict, dict] | None:
        """Outlook's per-mailbox limits (learn.microsoft.com/graph/throttling-limits,
        "Outlook service limits": 10,000 API requests in a 10 minute period and 4
        concurrent requests, per app per mailbox): 429 with Retry-After past either."""
        with self.flight_lock:
            now = time.time()
            if self.mailbox_limit is None:
                return None
            count, window = self.mailbox_limit
            while self.request_times and self.request_times[0] <= now - window:
                self.request_times.popleft()
            if len(self.request_times) >= count:
                wait = int(self.request_times[0] + window - now) + 1
                return 429, {"error": {"code": "ApplicationThrottled", "message": "Application is over its "
                                       "MailboxConcurrency limit."}}, {"Retry-After": str(wait)}
            if self.in_flight > self.concurrency_limit:
                return 429, {"error": {"code": "ApplicationThrottled", "message": "Application is over its "
                                       "MailboxConcurrency limit."}}, {"Retry-After": "1"}
            self.request_times.append(now)
            return None


def _since(flt: str) -> float:
    found = re.search(r"receivedDateTime\s+(?:ge|gt)\s+(\S+)", flt)
    if not found:
        return float("-inf")
    from datetime import datetime

    return datetime.fromisoformat(found.group(1).replace("Z", "+00:00")).timestamp()


def _received(m) -> float:
    try:
        return email.utils.parsedate_to_datetime(str(headers_of(m.raw).get("Date"))).timestamp()
    except (TypeError, ValueError):
        return float(m.added_at)


class _Handler(QuietHandler):
    def _dispatch(self, method: str) -> None:
        fake: FakeGraph = self.server.fake
        parsed = urllib.parse.urlsplit(self.path)
        body = self.body()
        line = f"{method} {parsed.path}?{parsed.query}"
        fault = fake.faults.take(line)
        if fault:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self.send(fault.status, fault.body or {"error": {"code": "TooManyRequests" if fault.status == 429
                                                             else "ServiceUnavailable", "message": "injected"}},
                      headers=headers)
            return
        if parsed.path.startswith(f"/{TENANT}"):
            status, payload, headers = fake.signin(method, parsed.path[len(TENANT) + 1:], body)
        else:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            with fake.flight_lock:
                fake.in_flight += 1
            try:
                if fake.access_tokens.get(token, 0) < time.time():
                    status, payload, headers = 401, {"error": {"code": "InvalidAuthenticationToken",
                                                               "message": "Access token has expired or is not yet valid."}}, {}
                else:
                    status, payload, headers = fake.throttled() or fake.graph(
                        method, parsed.path, urllib.parse.parse_qs(parsed.query), body, self.headers)
            finally:
                with fake.flight_lock:
                    fake.in_flight -= 1
        ctype = headers.pop("__content_type", "application/json")
        if fake.faults.take_drop(line):
            return self.drop()
        self.send(status, payload, headers=headers, content_type=ctype)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")


def write_token_file(fake: FakeGraph, path, *, flow: str = "device") -> Path:
    """A token file as ``followup accounts add outlook`` writes it, signed in through the
    fake with msal's real device-code flow (or set up for client credentials)."""
    import msal

    from connectors._cloud import write_secret_file

    info = {"provider": "microsoft", "flow": flow, "client_id": fake.client_id, "authority": fake.authority}
    if flow == "client_credentials":
        info["client_secret"] = fake.client_secret
    else:
        cache = msal.SerializableTokenCache()
        app = msal.PublicClientApplication(fake.client_id, authority=fake.authority, token_cache=cache,
                                           validate_authority=False, instance_discovery=False)
        flow_state = app.initiate_device_flow(scopes=["https://graph.microsoft.com/Mail.ReadWrite"])
        result = app.acquire_token_by_device_flow(flow_state)
        if "access_token" not in result:
            raise RuntimeError(f"device flow failed: {result}")
        info["username"] = fake.upn
        info["cache"] = cache.serialize()
    write_secret_file(Path(path), json.dumps(info, indent=1))
    return Path(path)


def main(argv=None) -> None:
    import os

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--port", type=int, default=8026)
    ap.add_argument("--token-file", default="outlook-token.json")
    args = ap.parse_args(argv)
    fake = FakeGraph(args.maildir, port=args.port).start()
    os.environ["REQUESTS_CA_BUNDLE"] = fake.ca_file
    path = write_token_file(fake, args.token_file)
    print(f"Fake Microsoft Graph on {fake.url} serving {args.maildir} ({len(fake.store.messages)} messages)")
    print(f"Token file: {path.resolve()}  (mode 0600)")
    print(f"Before running followup: export REQUESTS_CA_BUNDLE={fake.ca_file}")
    print(f'Account: kind = "outlook", oauth = "{path.resolve()}", host = "{fake.url}"')
    try:
        fake.server.thread.join()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
