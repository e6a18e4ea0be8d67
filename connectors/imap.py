"""IMAP accounts (any server; Gmail and Microsoft 365 too), on imapclient.

Reads the inbox and the Sent folder of one account incrementally, and saves drafts in its
Drafts folder. Like every connector it hands over raw RFC 5322 bytes and knows nothing
about quotes or threads.

**Folders.** Sent and Drafts are found by their SPECIAL-USE attributes (RFC 6154), else
by common English and Spanish names (:data:`SENT_NAMES`, :data:`DRAFTS_NAMES`). On Gmail
(capability ``X-GM-EXT-1``) the one folder ``[Gmail]/All Mail`` (``\\All``) is read
instead of every label, and ``X-GM-THRID`` becomes the message's thread id. A
``folders`` list given by the user overrides all of this.

**What is fetched.** Never a large attachment. Every message is first asked up to
:data:`MESSAGE_PREFIX` bytes (``BODY.PEEK[]<0.16384>``, one literal per message like a
header-only fetch): a message that fits is taken whole, which is most mail. For a longer
one the connector keeps its header block (what the parser and the bounce / auto-reply
rules read); a single-part text body is read up to :data:`PART_LIMIT`; a multipart body
is described by its ``BODYSTRUCTURE`` (attachment names, report types) and only these
parts are fetched, each capped at :data:`PART_LIMIT`: the inline text parts, the report
parts (``message/delivery-status`` and the other report types), ``text/rfc822-headers``
parts and the header block of attached messages. From these a faithful skeleton of the
message is assembled: its real header, then the same MIME tree with each part's headers
rebuilt from the BODYSTRUCTURE and the content of the parts that were fetched
(attachments stay empty). :func:`assistant.mail.parse.parse_message` reads it as it
reads the original. Everything is fetched with ``PEEK``: no message is marked read.

**Cursor** (opaque to the caller, JSON)::

    {"v": 1, "kind": "imap",
     "folders": {"INBOX": {"validity": 1795865912, "uid": 1042, "modseq": 2210}, ...}}

``uid`` is the highest UID stored, ``modseq`` the folder's HIGHESTMODSEQ when the server
offers CONDSTORE. A rerun asks ``STATUS (UIDNEXT UIDVALIDITY HIGHESTMODSEQ)`` of each
folder and selects only folders with new mail, so a rerun with nothing new costs a
constant number of commands whatever the mailbox size. A changed UIDVALIDITY re-reads
that folder from the start (downstream Message-ID dedupe keeps this duplicate-free).
Each batch's cursor covers exactly the messages before it, so a dropped connection
resumes after the last stored batch.

``provider_id`` is ``"<folder>:<UIDVALIDITY>:<UID>"``.

**Faults.** A dropped connection, a timeout or a temporary server error
(``[UNAVAILABLE]``, ``[SERVERBUG]``, ``[INUSE]``, ``[LIMIT]``) is retried after a
reconnect, with exponential backoff, ``retries`` times; then :class:`TransientError`. A
refused login is :class:`AuthenticationError`; a configured folder that does not exist,
a certificate that does not verify or a missing STARTTLS is :class:`ConfigurationError`.

**TLS.** ``tls = "ssl"`` speaks TLS from the first byte (port 993); ``"starttls"``
upgrades the plain connection with STARTTLS before anything else is sent, and a server
that does not offer STARTTLS is refused (:class:`ConfigurationError`), never used in
plain text (that is what a STARTTLS-stripping attacker would want); ``"none"`` is for a
server on the same machine. Certificates are always verified, host name included, against
the system's trusted CAs -- or, with ``ca_file``, against the CAs in that PEM file only
(a company's private CA). A certificate that does not verify is a
:class:`ConfigurationError` naming the problem (not trusted, expired, issued for another
host name): retrying cannot fix it, trusting the CA or correcting the host can.

**Authentication.** A password, or ``token_provider``: a plain callable ``() -> str``
returning a fresh OAuth access token, used for XOAUTH2 (Gmail, Microsoft 365).
"""

from __future__ import annotations

import imaplib
import json
import logging
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from .base import (AuthenticationError, Batch, ConfigurationError, ConnectorError,
                   DraftMessage, RawMessage, TransientError)

__all__ = ["ImapConnector", "SENT_NAMES", "DRAFTS_NAMES", "PART_LIMIT"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500
PART_LIMIT = 64 * 1024
"""Bytes fetched at most of each text / report part (the parser keeps 4,000 characters)."""
MESSAGE_PREFIX = 16 * 1024
"""Every message is first asked up to this many bytes: a message that fits is taken
whole (most mail: cheaper than describing it); a larger one is read from its header, and
its body part by part from the BODYSTRUCTURE, so a large attachment is never downloaded."""

SENT_NAMES = ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "Enviados", "Elementos enviados",
              "Mensajes enviados", "Correo enviado", "Enviado", "[Gmail]/Sent Mail",
              "[Gmail]/Enviados", "[Google Mail]/Sent Mail", "[Google Mail]/Enviados")
DRAFTS_NAMES = ("Drafts", "Draft", "Borradores", "Borrador", "[Gmail]/Drafts", "[Gmail]/Borradores",
                "[Google Mail]/Drafts", "[Google Mail]/Borradores")
TRASH_NAMES = ("Trash", "Deleted Items", "Deleted Messages", "Papelera", "Elementos eliminados",
               "[Gmail]/Trash", "[Gmail]/Papelera", "[Google Mail]/Trash", "[Google Mail]/Papelera")
ALL_MAIL_NAMES = ("[Gmail]/All Mail", "[Gmail]/Todos", "[Google Mail]/All Mail",
                  "[Google Mail]/Todos")

_TEMPORARY_CODES = (b"[UNAVAILABLE]", b"[SERVERBUG]", b"[INUSE]", b"[LIMIT]", b"[OVERQUOTA]",
                    b"TRY AGAIN", b"TEMPORARY")
_REPORT_TYPES = frozenset((b"message/delivery-status", b"message/feedback-report",
                           b"message/disposition-notification", b"message/global-delivery-status",
                           b"message/global-disposition-notification", b"text/rfc822-headers",
                           b"message/global-headers"))
_EMBEDDED = frozenset((b"message/rfc822", b"message/global"))
_APPENDUID_RE = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.I)
_TOKEN_SAFE = re.compile(rb"^[A-Za-z0-9!#$%&'+\-.^_`|~]+$")


@dataclass
class _Folder:
    name: str
    validity: int
    uid: int  # highest UID handed over
    modseq: int | None = None

    def as_json(self) -> dict:
        out = {"validity": self.validity, "uid": self.uid}
        if self.modseq is not None:
            out["modseq"] = self.modseq
        return out


class ImapConnector:
    """One IMAP account. ``tls``: ``"ssl"`` (port 993), ``"starttls"`` or ``"none"``."""

    kind = "imap"

    def __init__(self, host: str, username: str, *, password: str | None = None,
                 token_provider: Callable[[], str] | None = None, port: int | None = None,
                 tls: str = "ssl", folders: tuple[str, ...] | list[str] = (),
                 batch_size: int = DEFAULT_BATCH_SIZE, timeout: float = 60.0,
                 retries: int = 3, backoff: float = 0.5,
                 ssl_context: ssl.SSLContext | None = None, ca_file: str | None = None) -> None:
        if tls not in ("ssl", "starttls", "none"):
            raise ConfigurationError(f'tls must be "ssl", "starttls" or "none", not {tls!r}')
        if (password is None) == (token_provider is None):
            raise ConfigurationError("an IMAP account needs either a password or an OAuth token provider")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be a positive integer, not {batch_size!r}")
        self.host, self.username = host, username
        self.port = port or (993 if tls == "ssl" else 143)
        self.tls = tls
        self._password = password
        self._token_provider = token_provider
        self.configured_folders = tuple(folders)
        self.batch_size = batch_size
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        if ssl_context is not None and ca_file is not None:
            raise ConfigurationError("give either ssl_context or ca_file, not both")
        self.ca_file = str(ca_file) if ca_file is not None else None
        self._ssl_context = ssl_context
        self._client = None
        self._listing: list[tuple[tuple[bytes, ...], str]] | None = None
        self._failures = 0
        self.gmail = False

    # ------------------------------------------------------------------ connection
    def _connect(self):
        import imapclient
        from imapclient.exceptions import LoginError

        ctx = self._tls_context() if self.tls != "none" else None
        try:
            client = imapclient.IMAPClient(self.host, port=self.port, ssl=self.tls == "ssl",
                                           ssl_context=ctx if self.tls == "ssl" else None,
                                           timeout=self.timeout)
        except socket.gaierror as exc:
            raise TransientError(f"cannot resolve IMAP host {self.host}: {exc}",
                                 code="imap.unknown_host", host=self.host) from exc
        except ssl.SSLCertVerificationError as exc:
            raise self._certificate_error(exc) from exc
        try:
            if self.tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ConfigurationError(
                        f'IMAP {self.host}:{self.port} does not offer STARTTLS, and tls = "starttls" '
                        "never falls back to an unencrypted connection (the server is not set up "
                        "for TLS, or something on the way removed STARTTLS); use the server's TLS "
                        'port with tls = "ssl" (993)')
                try:
                    client.starttls(ctx)
                except ssl.SSLCertVerificationError as exc:
                    raise self._certificate_error(exc) from exc
            if self._token_provider is not None:
                try:
                    token = self._token_provider()
                except ConnectorError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the provider's own failure
                    raise AuthenticationError(f"could not get an OAuth token for {self.username}: {exc}") from exc
                client.oauth2_login(self.username, token)
            else:
                client.login(self.username, self._password)
        except LoginError as exc:
            _quietly_close(client)
            raise AuthenticationError(
                f"IMAP login to {self.host} as {self.username} was refused: {_text(exc)}",
                code="imap.login_refused", host=self.host, user=self.username,
                error=_text(exc)) from exc
        except BaseException:
            _quietly_close(client)
            raise
        self.gmail = client.has_capability("X-GM-EXT-1")
        return client

    def _tls_context(self) -> ssl.SSLContext:
        """The caller's context, else a verifying one: the system's CAs, or only those
        in ``ca_file``."""
        if self._ssl_context is not None:
            return self._ssl_context
        if self.ca_file is None:
            return ssl.create_default_context()
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"ca_file {self.ca_file} cannot be used: {_text(exc)} "
                                     "(it must be a PEM file of CA certificates)") from exc

    def _certificate_error(self, exc: ssl.SSLCertVerificationError) -> ConfigurationError:
        reason = exc.verify_message or _text(exc)
        where = f"{self.host}:{self.port}"
        if "mismatch" in reason.lower():  # "Hostname mismatch" / "IP address mismatch"
            return ConfigurationError(
                f"the TLS certificate of IMAP {where} was issued for another host name "
                f"({reason}): set host to a name the certificate covers")
        trusted = f"the CAs in ca_file {self.ca_file}" if self.ca_file else "the system's trusted CAs"
        if "expired" in reason or "not yet valid" in reason:
            hint = "the server's certificate must be renewed"
        elif self.ca_file:
            hint = "that file does not hold the CA that signed the server's certificate"
        else:
            hint = ("if the server uses a private CA, set ca_file to that CA's certificate (PEM) "
                    "on this account")
        return ConfigurationError(
            f"the TLS certificate of IMAP {where} does not verify against {trusted}: "
            f"{reason}; {hint}")

    @property
    def client(self):
        if self._client is None:
            self._client = self._retrying(self._connect, "connect")
        return self._client

    def _drop(self) -> None:
        if self._client is not None:
            _quietly_close(self._client, logout=False)
            self._client = None

    def close(self) -> None:
        if self._client is not None:
            _quietly_close(self._client)
            self._client = None

    def _retrying(self, action: Callable, what: str):
        """Run ``action()``, reconnecting and retrying after a passing fault."""
        attempt = 0
        while True:
            try:
                return action()
            except ConnectorError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted below
                if not _is_transient(exc):
                    raise
                attempt += 1
                self._drop()
                if attempt > self.retries:
                    raise TransientError(
                        f"IMAP {self.host}: {what} failed {attempt} times: {_text(exc)}",
                        code="imap.failed", host=self.host, times=attempt,
                        error=_text(exc)) from exc
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("IMAP %s: %s failed (%s); retry %d/%d in %.1fs", self.host, what,
                            _text(exc), attempt, self.retries, delay)
                time.sleep(delay)

    # ------------------------------------------------------------------ folders
    def _list(self) -> list[tuple[tuple[bytes, ...], str]]:
        if self._listing is None:
            self._listing = [(tuple(f.lower() for f in flags), name)
                             for flags, _delim, name in self.client.list_folders()]
        return self._listing

    def _special(self, flag: bytes, names: tuple[str, ...]) -> str | None:
        listing = self._list()
        for flags, name in listing:
            if flag.lower() in flags:
                return name
        by_lower = {name.lower(): name for _, name in listing}
        for candidate in names:
            for prefix in ("", "INBOX.", "INBOX/"):
                found = by_lower.get((prefix + candidate).lower())
                if found is not None:
                    return found
        return None

    def folders(self) -> list[str]:
        """The folders ``fetch`` reads, in order."""
        if self.configured_folders:
            existing = {name for _, name in self._list()}
            missing = [f for f in self.configured_folders if f not in existing and f.upper() != "INBOX"]
            if missing:
                raise ConfigurationError(
                    f"IMAP folder {missing[0]!r} not found on {self.host} for {self.username} "
                    f"(folders there: {', '.join(sorted(existing))})", code="imap.no_folder",
                    folder=missing[0], host=self.host, user=self.username,
                    folders=", ".join(sorted(existing)))
            return list(self.configured_folders)
        if self.gmail:
            all_mail = self._special(b"\\All", ALL_MAIL_NAMES)
            if all_mail is not None:
                return [all_mail]
        found = ["INBOX"]
        sent = self._special(b"\\Sent", SENT_NAMES)
        if sent is not None and sent.upper() != "INBOX":
            found.append(sent)
        return found

    def _special_or_created(self, flag: bytes, names: tuple[str, ...]) -> str:
        """The folder of ``flag`` (or of a common name), created as ``names[0]`` if none."""
        found = self._special(flag, names)
        if found is None:
            self.client.create_folder(names[0])
            self._listing = None
            found = names[0]
        return found

    def drafts_folder(self) -> str:
        """The Drafts folder (created as ``Drafts`` when the account has none)."""
        return self._special_or_created(b"\\Drafts", DRAFTS_NAMES)

    # ------------------------------------------------------------------ reading
    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        state = _load_cursor(cursor)
        folders = self._retrying(self.folders, "list folders")
        for name in folders:
            yield from self._fetch_folder(name, state)

    def _status(self, name: str) -> dict:
        what = [b"UIDNEXT", b"UIDVALIDITY"]
        if self.client.has_capability("CONDSTORE"):
            what.append(b"HIGHESTMODSEQ")
        try:
            return self.client.folder_status(name, what)
        except imaplib.IMAP4.error as exc:
            if _is_transient(exc):
                raise
            raise ConfigurationError(f"IMAP folder {name!r} cannot be read on {self.host}: {_text(exc)}") from exc

    def _fetch_folder(self, name: str, state: dict[str, _Folder]) -> Iterator[Batch]:
        """The folder's new mail; a passing fault mid-way reconnects and resumes from
        ``state``, which advances with every batch handed over."""
        while True:
            passing = self._folder_pass(name, state)
            try:
                while True:
                    try:
                        batch = next(passing)
                    except StopIteration:
                        return
                    except ConnectorError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - sorted by _is_transient
                        if not _is_transient(exc):
                            raise
                        self._retry_after(exc, f"reading {name}")
                        break
                    yield batch
            finally:
                passing.close()

    def _retry_after(self, exc: Exception, what: str) -> None:
        self._failures += 1
        self._drop()
        if self._failures > self.retries:
            raise TransientError(f"IMAP {self.host}: {what} failed {self._failures} times: {_text(exc)}") from exc
        delay = self.backoff * 2 ** (self._failures - 1)
        log.warning("IMAP %s: %s failed (%s); retry %d/%d in %.1fs", self.host, what, _text(exc),
                    self._failures, self.retries, delay)
        time.sleep(delay)

    def _folder_pass(self, name: str, state: dict[str, _Folder]) -> Iterator[Batch]:
        client = self.client
        status = self._status(name)
        validity = int(status[b"UIDVALIDITY"])
        uidnext = int(status.get(b"UIDNEXT") or 0)
        modseq = status.get(b"HIGHESTMODSEQ")
        modseq = int(modseq) if modseq is not None else None
        known = state.get(name)
        if known is not None and known.validity != validity:
            log.info("IMAP %s: UIDVALIDITY of %s changed (%s -> %s): reading it again",
                     self.host, name, known.validity, validity)
            known = None
        last = known.uid if known is not None else 0
        if known is not None and uidnext and uidnext - 1 <= last:
            if modseq != known.modseq:  # flags changed or mail expunged: nothing to read
                state[name] = _Folder(name, validity, last, modseq)
                yield Batch([], _dump_cursor(state))
            return
        selected = client.select_folder(name, readonly=True)
        if int(selected.get(b"UIDVALIDITY", validity)) != validity:  # changed since STATUS
            validity, known, last = int(selected[b"UIDVALIDITY"]), None, 0
        uidnext = int(selected.get(b"UIDNEXT") or uidnext)
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"] if last else ["ALL"]) if u > last)
        for start in range(0, len(uids), self.batch_size):
            chunk = uids[start:start + self.batch_size]
            messages = self._read(name, validity, chunk)
            state[name] = _Folder(name, validity, chunk[-1], modseq)
            self._failures = 0
            yield Batch(messages, _dump_cursor(state))
        top = max(last, uidnext - 1 if uidnext else 0, uids[-1] if uids else 0)
        final = _Folder(name, validity, top, modseq)
        if state.get(name) != final:
            state[name] = final
            yield Batch([], _dump_cursor(state))

    def _raw_fetch(self, uids: list[int], items: str) -> dict[int, dict[bytes, object]]:
        """``UID FETCH`` through imaplib, answers read by :func:`_parse_fetch`:
        imapclient's general response parser costs more than the server does here."""
        if not uids:
            return {}
        imap = self.client._imap
        debug, imap.debug = imap.debug, 0  # no per-line debug logging of mail content
        try:
            typ, data = imap.uid("FETCH", _uid_set(uids), items)
        finally:
            imap.debug = debug
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID FETCH failed: {_text(data[-1] if data else typ)}")
        return _parse_fetch(data)

    def _read(self, folder: str, validity: int, uids: list[int]) -> list[RawMessage]:
        items = f"UID BODY.PEEK[]<0.{MESSAGE_PREFIX}>"
        heads = self._raw_fetch(uids, f"(X-GM-THRID {items})" if self.gmail else f"({items})")
        whole: dict[int, bytes] = {}
        headers: dict[int, bytes] = {}
        parts: dict[int, dict[str, bytes]] = {}
        no_header: list[int] = []
        for uid, row in heads.items():
            prefix = _as_bytes(row.get(b"BODY[]<0>"))
            if len(prefix) < MESSAGE_PREFIX:
                whole[uid] = prefix  # the whole message: nothing more to ask
                continue
            end = prefix.find(b"\r\n\r\n")
            if end < 0:
                no_header.append(uid)  # a header longer than the prefix
            else:
                headers[uid] = prefix[:end + 4]
        for uid, row in self._raw_fetch(no_header, "(UID BODY.PEEK[HEADER])").items():
            headers[uid] = _as_bytes(row.get(b"BODY[HEADER]"))
        long_text, multipart = [], []
        for uid, header in headers.items():
            kind = _top_type(header)
            if kind == "multipart":
                multipart.append(uid)  # described by BODYSTRUCTURE, parts fetched
            elif kind in ("text", "message"):  # a body the parser reads (text, report)
                long_text.append(uid)
        for uid, row in self._raw_fetch(long_text, f"(UID BODY.PEEK[TEXT]<0.{PART_LIMIT}>)").items():
            parts[uid] = {"TEXT": _trim(_as_bytes(row.get(b"BODY[TEXT]<0>")))}
        structures = {uid: row.get(b"BODYSTRUCTURE")
                      for uid, row in self._raw_fetch(multipart, "(UID BODYSTRUCTURE)").items()}
        wants: dict[tuple[str, ...], list[int]] = {}
        for uid, structure in structures.items():
            sections: list[str] = []
            if isinstance(structure, list):
                _plan(structure, "", sections, top=True)
            if sections:
                wants.setdefault(tuple(sections), []).append(uid)
        for sections, group in wants.items():
            request = " ".join(f"BODY.PEEK[{s}]" if s.endswith("HEADER") else f"BODY.PEEK[{s}]<0.{PART_LIMIT}>"
                               for s in sections)
            for uid, row in self._raw_fetch(group, f"(UID {request})").items():
                got = parts.setdefault(uid, {})
                for s in sections:
                    if s.endswith("HEADER"):
                        got[s] = _as_bytes(row.get(f"BODY[{s}]".encode()))
                    else:
                        got[s] = _trim(_as_bytes(row.get(f"BODY[{s}]<0>".encode())))
        out = []
        for uid in uids:
            row = heads.get(uid)
            if row is None:
                continue  # expunged meanwhile
            data = whole.get(uid)
            if data is None:
                data = _assemble(headers.get(uid, b""), structures.get(uid), parts.get(uid, {}))
            thrid = row.get(b"X-GM-THRID")
            out.append(RawMessage(f"{folder}:{validity}:{uid}", data,
                                  thread_id=thrid.decode() if isinstance(thrid, bytes) else None,
                                  folder=folder))
        return out

    # ------------------------------------------------------------------ drafts
    def save_draft(self, draft: DraftMessage) -> str:
        data = _with_followup_id(draft)

        def append() -> str:
            folder = self.drafts_folder()
            answer = self.client.append(folder, data, flags=(b"\\Draft", b"\\Seen"))
            m = _APPENDUID_RE.search(answer if isinstance(answer, bytes) else str(answer).encode())
            if m:
                return f"{folder}:{int(m.group(1))}:{int(m.group(2))}"
            found = self.find_draft(draft.idempotency_key)
            if found is None:
                raise ConnectorError(f"draft appended to {folder} on {self.host} but not found again")
            return found

        # Not retried blindly: a reconnect first looks for the draft (the APPEND may have
        # landed before the connection dropped).
        try:
            return append()
        except ConnectorError:
            raise
        except Exception as exc:  # noqa: BLE001
            if not _is_transient(exc):
                raise
            self._drop()
            return self.find_draft(draft.idempotency_key) or self._retrying(append, "save draft")

    def find_draft(self, idempotency_key: str) -> str | None:
        if not _TOKEN_SAFE.match(idempotency_key.encode("ascii", "replace")):
            raise ValueError(f"idempotency key must be a plain token, not {idempotency_key!r}")

        def search() -> str | None:
            folder = self.drafts_folder()
            selected = self.client.select_folder(folder, readonly=True)
            validity = int(selected[b"UIDVALIDITY"])
            uids = self.client.search(["HEADER", "X-Followup-Id", idempotency_key])
            if not uids:
                return None
            # SEARCH HEADER matches substrings: confirm the exact value.
            got = self.client.fetch(sorted(uids), [b"BODY.PEEK[HEADER.FIELDS (X-FOLLOWUP-ID)]"])
            for uid in sorted(got):
                value = got[uid].get(b"BODY[HEADER.FIELDS (X-FOLLOWUP-ID)]", b"")
                if value.split(b":", 1)[-1].strip() == idempotency_key.encode():
                    return f"{folder}:{validity}:{uid}"
            return None

        return self._retrying(search, "find draft")

    def trash_folder(self) -> str:
        """The Trash folder: SPECIAL-USE ``\\Trash``, else a common name (created as
        ``Trash`` when the account has none)."""
        return self._special_or_created(b"\\Trash", TRASH_NAMES)

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        """``UID MOVE`` (RFC 6851) of the draft into the Trash folder; a server without MOVE
        gets ``UID COPY``, ``\\Deleted`` and ``UID EXPUNGE`` of that one message (RFC 4315
        UIDPLUS; without UIDPLUS the message is left flagged ``\\Deleted``: a plain EXPUNGE
        would also remove what the person flagged). False when the UID is not there any
        more, the folder's UIDVALIDITY changed, or its ``X-Followup-Id`` is not the key."""
        folder, validity, uid = _parse_draft_ref(provider_id)
        if folder is None:
            return False
        key = idempotency_key.encode()

        def move() -> bool:
            trash = self.trash_folder()
            selected = self.client.select_folder(folder)
            if int(selected[b"UIDVALIDITY"]) != validity:
                return False
            got = self.client.fetch([uid], [b"BODY.PEEK[HEADER.FIELDS (X-FOLLOWUP-ID)]"])
            value = got.get(uid, {}).get(b"BODY[HEADER.FIELDS (X-FOLLOWUP-ID)]", b"")
            if value.split(b":", 1)[-1].strip() != key:
                return False
            if self.client.has_capability("MOVE"):
                self.client.move([uid], trash)
            else:
                self.client.copy([uid], trash)
                self.client.add_flags([uid], [b"\\Deleted"])
                if self.client.has_capability("UIDPLUS"):
                    self.client.uid_expunge([uid])
            return True

        # A retried MOVE after a dropped connection finds the UID gone (False): the draft
        # is in the Trash either way.
        return self._retrying(move, "trash draft")


# ---------------------------------------------------------------------- helpers

def _with_followup_id(draft: DraftMessage) -> bytes:
    from .mailbox import _with_followup_id as add

    data = add(draft)
    if b"\r\n" not in data[:2000]:
        data = data.replace(b"\n", b"\r\n")  # IMAP APPEND wants CRLF lines
    return data


def _parse_draft_ref(provider_id: str) -> tuple[str | None, int, int]:
    """``"<folder>:<UIDVALIDITY>:<UID>"`` -> its parts (folder None when malformed)."""
    folder, _, rest = provider_id.rpartition(":")
    folder, _, validity = folder.rpartition(":")
    if not folder or not validity.isdigit() or not rest.isdigit():
        return None, 0, 0
    return folder, int(validity), int(rest)


def _text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def _quietly_close(client, logout: bool = True) -> None:
    try:
        if logout:
            client.logout()
        else:
            client.shutdown()
    except Exception:  # noqa: BLE001 - closing a dead connection
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def _is_transient(exc: BaseException) -> bool:
    from imapclient.exceptions import LoginError

    if isinstance(exc, LoginError):
        return False
    if isinstance(exc, (imaplib.IMAP4.abort, OSError, EOFError)):  # timeouts are OSErrors
        return True
    if isinstance(exc, imaplib.IMAP4.error):
        raw = str(exc).upper().encode()
        return any(code in raw for code in _TEMPORARY_CODES)
    return False


def _load_cursor(cursor: str | None) -> dict[str, _Folder]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
        if state.get("v") != 1 or state.get("kind") != "imap":
            raise ValueError
        return {name: _Folder(name, int(f["validity"]), int(f["uid"]), f.get("modseq"))
                for name, f in state["folders"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigurationError(f"not an imap cursor: {cursor[:80]!r}") from exc


def _dump_cursor(state: dict[str, _Folder]) -> str:
    return json.dumps({"v": 1, "kind": "imap",
                       "folders": {name: f.as_json() for name, f in sorted(state.items())}},
                      separators=(",", ":"), sort_keys=True)


# -- raw FETCH answers ---------------------------------------------------------------

_OPEN, _CLOSE = object(), object()
_TOKEN_RE = re.compile(rb'[()]|"(?:[^"\\]|\\.)*"|[^\s()"\[]+(?:\[[^\]]*\][^\s()"]*)?|\[[^\]]*\]')
_LITERAL_TAIL_RE = re.compile(rb"\{\d+\}\s*$")
_ESCAPE_RE = re.compile(rb"\\(.)")
_CONTENT_TYPE_RE = re.compile(rb"(?im)^content-type:[ \t]*(?:\r?\n[ \t]+)?([a-z0-9!#$&^_.+-]+)/")


def _uid_set(uids: list[int]) -> str:
    """``1:5,9,12:13`` -- compact for the long runs a mailbox has."""
    out, start, prev = [], None, None
    for uid in sorted(uids):
        if start is None:
            start = prev = uid
        elif uid == prev + 1:
            prev = uid
        else:
            out.append(f"{start}:{prev}" if prev != start else str(start))
            start = prev = uid
    out.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(out)


def _scan(text: bytes, tokens: list) -> None:
    text = _LITERAL_TAIL_RE.sub(b"", text)
    for tok in _TOKEN_RE.findall(text):
        if tok == b"(":
            tokens.append(_OPEN)
        elif tok == b")":
            tokens.append(_CLOSE)
        elif tok[:1] == b'"':
            tok = tok[1:-1]
            tokens.append(_ESCAPE_RE.sub(rb"\1", tok) if b"\\" in tok else tok)
        elif tok == b"NIL":
            tokens.append(None)
        else:
            tokens.append(tok)


_SIMPLE_ROW_RE = re.compile(rb"\d+ \(((?:[A-Za-z0-9-]+ [0-9]+ )*)([^\s()\"{]+) \{\d+\}\Z")


def _parse_simple_fetch(data: list) -> dict[int, dict[bytes, object]] | None:
    """The common answer in one pass: per message ``N (UID u [X-GM-THRID t] ITEM {n}``,
    its literal, then ``)``. ``None`` for any other shape (the general parser reads it)."""
    out: dict[int, dict[bytes, object]] = {}
    expect_close = False
    for item in data:
        if isinstance(item, tuple):
            m = _SIMPLE_ROW_RE.match(item[0])
            if expect_close or m is None:
                return None
            words = m.group(1).split()
            row: dict[bytes, object] = {words[i].upper(): words[i + 1] for i in range(0, len(words), 2)}
            row[m.group(2).upper()] = item[1]
            uid = row.get(b"UID")
            if uid is None:
                return None
            out[int(uid)] = row
            expect_close = True
        elif item == b")" and expect_close:
            expect_close = False
        else:
            return None
    return None if expect_close else out


def _parse_fetch(data: list) -> dict[int, dict[bytes, object]]:
    """imaplib's FETCH answer (lines and ``(line, literal)`` pairs) -> ``{uid: {ITEM:
    value}}``; lists for parenthesised values, bytes for strings, atoms and literals,
    ``None`` for NIL. Item names are upper-cased (``BODY[HEADER]``, ``BODY[1]<0>``)."""
    simple = _parse_simple_fetch(data)
    if simple is not None:
        return simple
    tokens: list = []
    for item in data:
        if isinstance(item, tuple):
            _scan(item[0], tokens)
            tokens.append(item[1] if isinstance(item[1], bytes) else b"")
        elif isinstance(item, bytes):
            _scan(item, tokens)
    stack: list[list] = [[]]
    for tok in tokens:
        if tok is _OPEN:
            stack.append([])
        elif tok is _CLOSE:
            if len(stack) > 1:
                done = stack.pop()
                stack[-1].append(done)
        else:
            stack[-1].append(tok)
    while len(stack) > 1:  # unbalanced answer: keep what was read
        done = stack.pop()
        stack[-1].append(done)
    out: dict[int, dict[bytes, object]] = {}
    for value in stack[0]:
        if not isinstance(value, list):
            continue  # the sequence number before each message's list
        row = {}
        for i in range(0, len(value) - 1, 2):
            key = value[i]
            if isinstance(key, bytes):
                row[key.upper()] = value[i + 1]
        uid = row.get(b"UID")
        if isinstance(uid, bytes) and uid.isdigit():
            out[int(uid)] = row
    return out


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else b""


def _top_type(header: bytes) -> str:
    """``multipart``, ``text`` (no Content-Type is text) or another top-level type."""
    m = _CONTENT_TYPE_RE.search(header)
    return m.group(1).lower().decode("ascii", "replace") if m else "text"


# -- BODYSTRUCTURE -> what to fetch -> a MIME skeleton the parser reads -------------

def _lower(value) -> bytes:
    return value.lower() if isinstance(value, bytes) else b""


def _params(seq) -> list[tuple[bytes, bytes]]:
    if not isinstance(seq, list):
        return []
    return [(k, v if isinstance(v, bytes) else b"") for k, v in zip(seq[::2], seq[1::2])
            if isinstance(k, bytes)]


def _children(bs: list) -> int:
    """How many child parts a (raw, parsed) BODYSTRUCTURE list starts with (0: a leaf)."""
    n = 0
    while n < len(bs) and isinstance(bs[n], list):
        n += 1
    return n


def _multipart_info(bs: list, n: int) -> tuple[bytes, list, object]:
    subtype = bs[n] if n < len(bs) else b"mixed"
    params = _params(bs[n + 1]) if n + 1 < len(bs) else []
    disposition = bs[n + 2] if n + 2 < len(bs) else None
    return b"multipart/" + (_lower(subtype) or b"mixed"), params, disposition


def _leaf_info(bs: list) -> tuple[bytes, list, bytes, object]:
    """(type/subtype, params, transfer encoding, disposition) of a single part."""
    ctype = _lower(bs[0]) + b"/" + _lower(bs[1] if len(bs) > 1 else b"")
    params = _params(bs[2]) if len(bs) > 2 else []
    encoding = _lower(bs[5]) if len(bs) > 5 else b""
    if ctype in _EMBEDDED:
        disp_index = 11
    elif ctype.startswith(b"text/"):
        disp_index = 9
    else:
        disp_index = 8
    disposition = bs[disp_index] if len(bs) > disp_index else None
    return ctype, params, encoding, disposition


def _is_attachment(disposition) -> bool:
    if not isinstance(disposition, list) or not disposition:
        return False
    if _lower(disposition[0]) != b"attachment":
        return False
    names = _params(disposition[1] if len(disposition) > 1 else None)
    return any(k.lower().startswith(b"filename") for k, _ in names)


def _boundary(params: list) -> bytes | None:
    return next((v for k, v in params if k.lower() == b"boundary" and v), None)


def _plan(bs: list, path: str, sections: list[str], top: bool = False) -> None:
    """Append the sections of ``bs`` worth fetching (text, reports, embedded headers)."""
    n = _children(bs)
    if n:
        if top and _boundary(_multipart_info(bs, n)[1]) is None:
            sections.append("TEXT")
            return
        for i in range(n):
            _plan(bs[i], f"{path}.{i + 1}" if path else str(i + 1), sections)
        return
    ctype, params, _encoding, disposition = _leaf_info(bs)
    section = path or "1"
    if ctype in _EMBEDDED:
        if path:
            sections.append(f"{section}.HEADER")
    elif ctype in _REPORT_TYPES:
        sections.append(section)
    elif ctype.startswith(b"text/") and not _is_attachment(disposition):
        if ctype in (b"text/plain", b"text/html") or not any(k.lower() == b"name" for k, _ in params):
            sections.append(section)


def _trim(value: bytes) -> bytes:
    """A part cut at :data:`PART_LIMIT` ends at its last whole line (no broken base64 quad
    or quoted-printable escape)."""
    if len(value) >= PART_LIMIT:
        cut = value.rfind(b"\n")
        if cut > 0:
            return value[:cut + 1]
    return value


def _param_bytes(key: bytes, value: bytes) -> bytes:
    if key.endswith(b"*") and _TOKEN_SAFE.match(value or b"x"):
        return b"; " + key + b"=" + value
    return b'; ' + key + b'="' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _part_header(bs: list) -> bytes:
    n = _children(bs)
    if n:
        ctype, params, disposition = _multipart_info(bs, n)
        encoding = b""
    else:
        ctype, params, encoding, disposition = _leaf_info(bs)
    out = b"Content-Type: " + ctype + b"".join(_param_bytes(k, v) for k, v in params) + b"\r\n"
    if isinstance(disposition, list) and disposition and isinstance(disposition[0], bytes):
        dparams = _params(disposition[1] if len(disposition) > 1 else None)
        out += (b"Content-Disposition: " + disposition[0].lower()
                + b"".join(_param_bytes(k, v) for k, v in dparams) + b"\r\n")
    if encoding and encoding not in (b"7bit", b"8bit", b"binary"):
        out += b"Content-Transfer-Encoding: " + encoding + b"\r\n"
    return out


def _render(bs: list, path: str, parts: dict[str, bytes]) -> bytes:
    n = _children(bs)
    if n:
        boundary = _boundary(_multipart_info(bs, n)[1]) or b"followup-part"
        out = [b"\r\n"]
        for i in range(n):
            sub = f"{path}.{i + 1}" if path else str(i + 1)
            out.append(b"--" + boundary + b"\r\n" + _part_header(bs[i]) + b"\r\n"
                       + _render(bs[i], sub, parts) + b"\r\n")
        out.append(b"--" + boundary + b"--\r\n")
        return b"".join(out)
    section = path or "1"
    ctype = _lower(bs[0]) + b"/" + _lower(bs[1] if len(bs) > 1 else b"")
    if ctype in _EMBEDDED:
        return parts.get(f"{section}.HEADER", b"")
    return parts.get(section, b"")


def _assemble(header: bytes, structure, parts: dict[str, bytes]) -> bytes:
    """A long message as the parser should see it: its real header, then its body -- the
    first :data:`PART_LIMIT` bytes of a single-part body, or the MIME tree rebuilt from
    ``structure`` (the parsed BODYSTRUCTURE) with the fetched parts filled in."""
    if not header.endswith(b"\n\n") and not header.endswith(b"\r\n\r\n"):
        header = header.rstrip(b"\r\n") + b"\r\n\r\n"
    if "TEXT" in parts:
        return header + parts["TEXT"]
    if not isinstance(structure, list):
        return header
    return header + _render(structure, "", parts)


def open_imap_connector(account, *, token_provider: Callable[[], str] | None = None,
                        **options) -> ImapConnector:
    """The connector of an ``[[accounts]]`` entry of kind ``imap`` (duck-typed: ``name``,
    ``host``, ``port``, ``tls``, ``username``, ``password_env``, ``oauth``, ``folders``,
    ``ca_file``).

    The password is read from the environment variable named by ``password_env``. With
    ``oauth``, ``token_provider`` (a plain ``() -> str`` returning an access token) is
    used; without one, ``connectors.cloud.imap_token_provider(account)`` is asked for it
    when the OAuth connectors provide that hook.
    """
    import os

    password = None
    if account.oauth and token_provider is None:
        try:
            from connectors.cloud import imap_token_provider  # type: ignore[attr-defined]
        except ImportError:
            raise ConfigurationError(
                f'account "{account.name}": IMAP with OAuth needs a token provider, which this '
                "version of Followup does not have yet; use an app password with "
                "password_env instead") from None
        token_provider = imap_token_provider(account)
    if token_provider is None:
        password = os.environ.get(account.password_env or "")
        if not password:
            raise ConfigurationError(
                f'account "{account.name}": the environment variable {account.password_env} '
                "(its password_env) is not set; set it to the account's (app) password",
                code="secret.unset", account=account.name, variable=account.password_env)
    return ImapConnector(account.host, account.username, password=password,
                         token_provider=token_provider, port=account.port, tls=account.tls,
                         folders=account.folders, ca_file=getattr(account, "ca_file", None),
                         **options)
