"""What the loopback Gmail and Graph servers share: a Maildir-backed message store,
injected faults (throttling, errors), a threaded stdlib HTTP server, a self-signed TLS
certificate (msal accepts only https authorities)."""

from __future__ import annotations

import datetime as _dt
import email.parser
import email.utils
import ipaddress
import json
import os
import re
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_MID = re.compile(r"<[^<>\s]+>")


@dataclass
class StoredMessage:
    id: str
    raw: bytes
    folder: str  # "inbox" | "sent" | "drafts" | "junk" | "trash" | a path: "inbox/Clientes", "Archive"
    thread: str
    message_id: str | None
    added_at: int  # history id / change number when it arrived
    source: str | None = None  # Maildir file name
    changed_at: int = 0  # change number of its last change (arrival, move, read/flag)
    moves: int = 0  # how often it changed folder (Graph gives a moved message a new id)


@dataclass(frozen=True)
class Change:
    """One entry of the store's change log (Gmail history, Graph delta)."""

    number: int
    kind: str  # "added" | "moved" | "touched"
    message: StoredMessage
    old_folder: str | None = None
    old_moves: int = 0


SPECIAL_FOLDERS = {"sent": "sent", "drafts": "drafts", "junk": "junk", "spam": "junk", "trash": "trash",
                   "deleted items": "trash", "outbox": "outbox"}


def maildir_folder(name: str) -> str:
    """A Maildir++ subfolder name (``.Sent``, ``.Inbox.Clientes``, ``.Archive``) as a store
    folder: the special ones by name, ``inbox/...`` below the Inbox, else a path."""
    parts = name.lstrip(".").split(".")
    special = SPECIAL_FOLDERS.get(parts[0].lower())
    if special and len(parts) == 1:
        return special
    if parts[0].lower() == "inbox":
        return "/".join(["inbox"] + parts[1:])
    return "/".join(parts)


def headers_of(raw: bytes):
    head = raw.replace(b"\r\n", b"\n").partition(b"\n\n")[0]
    return email.parser.BytesHeaderParser().parsebytes(head + b"\n")


class MailStore:
    """Messages of one mailbox, read from a Maildir (``.Sent`` is the sent folder;
    ``cur``/``new`` of the root are the inbox). New files are picked up by ``rescan``."""

    def __init__(self, maildir: str | Path | None) -> None:
        self.maildir = Path(maildir) if maildir else None
        self.lock = threading.RLock()
        self.messages: list[StoredMessage] = []
        self.counter = 1000  # change number: Gmail historyId
        self.changes: list[Change] = []
        self._by_id: dict[str, StoredMessage] = {}
        self._folders: tuple[int, list[str]] | None = None  # (change number, folders) cache
        self._seen_files: set[str] = set()
        self._by_mid: dict[str, StoredMessage] = {}
        self.rescan()

    def rescan(self) -> None:
        if self.maildir is None:
            return
        with self.lock:
            subfolders = sorted(p for p in (self.maildir.iterdir() if self.maildir.is_dir() else ())
                                if p.name.startswith(".") and ((p / "cur").is_dir() or (p / "new").is_dir()))
            for folder, base in [("inbox", self.maildir)] + [(maildir_folder(p.name), p) for p in subfolders]:
                files = []
                for sub in ("cur", "new"):
                    d = base / sub
                    if d.is_dir():
                        files += [p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")]
                for path in sorted(files, key=lambda p: p.name):
                    key = str(path.relative_to(self.maildir)).replace(":2,", "").split(":")[0]
                    key = key.replace("/new/", "/").replace("/cur/", "/").replace("new/", "").replace("cur/", "")
                    if key in self._seen_files:
                        continue
                    self._seen_files.add(key)
                    self.add(path.read_bytes(), folder, source=key)

    def add(self, raw: bytes, folder: str, *, thread: str | None = None,
            source: str | None = None) -> StoredMessage:
        with self.lock:
            self.counter += 1
            h = headers_of(raw)
            mid = (h.get("Message-ID") or "").strip() or None
            if thread is None:
                thread = None
                refs = _MID.findall(str(h.get("References") or "")) + _MID.findall(str(h.get("In-Reply-To") or ""))
                for ref in refs:
                    if ref in self._by_mid:
                        thread = self._by_mid[ref].thread
                        break
            msg_id = f"{self.counter:016x}"
            stored = StoredMessage(msg_id, raw, folder, thread or msg_id, mid, self.counter, source,
                                   changed_at=self.counter)
            self.messages.append(stored)
            self._by_id[msg_id] = stored
            self.changes.append(Change(self.counter, "added", stored))
            if mid and mid not in self._by_mid:
                self._by_mid[mid] = stored
            return stored

    def move(self, stored: StoredMessage, folder: str) -> StoredMessage:
        """A mail client (or a rule) moves the message to ``folder``."""
        with self.lock:
            self.counter += 1
            change = Change(self.counter, "moved", stored, stored.folder, stored.moves)
            stored.folder, stored.changed_at, stored.moves = folder, self.counter, stored.moves + 1
            self.changes.append(change)
            return stored

    def touch(self, stored: StoredMessage) -> StoredMessage:
        """Read or flagged in a mail client: the message changes, its content does not."""
        with self.lock:
            self.counter += 1
            stored.changed_at = self.counter
            self.changes.append(Change(self.counter, "touched", stored))
            return stored

    def folders(self) -> list[str]:
        with self.lock:
            key = (self.counter, len(self.messages))
            if self._folders is None or self._folders[0] != key:
                self._folders = (key, sorted({m.folder for m in self.messages}))
            return self._folders[1]

    def remove(self, stored: StoredMessage) -> None:
        with self.lock:
            self.messages.remove(stored)
            self._by_id.pop(stored.id, None)

    def get(self, msg_id: str) -> StoredMessage | None:
        with self.lock:
            return self._by_id.get(msg_id)

    def by_message_id(self, mid: str) -> StoredMessage | None:
        mid = mid.strip()
        if not mid.startswith("<"):
            mid = f"<{mid}>"
        with self.lock:
            for m in self.messages:
                if m.message_id == mid and m.folder != "drafts":
                    return m
        return None


@dataclass
class Fault:
    pattern: str  # regex searched in "METHOD /path?query"
    status: int
    times: int = 1
    retry_after: str | None = None
    body: dict | None = None


@dataclass
class Faults:
    """Injected failures, consumed in order (thread-safe)."""

    items: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: list[str] = field(default_factory=list)

    def add(self, pattern: str, status: int, *, times: int = 1, retry_after: str | None = None,
            body: dict | None = None) -> None:
        with self.lock:
            self.items.append(Fault(pattern, status, times, retry_after, body))

    def drop_after(self, pattern: str, *, times: int = 1) -> None:
        """The next ``times`` requests matching ``pattern`` are carried out, then the
        connection is closed before the answer: the client cannot know they succeeded."""
        with self.lock:
            self.items.append(Fault(pattern, 0, times))

    def take_drop(self, request_line: str) -> bool:
        with self.lock:
            for f in self.items:
                if f.status == 0 and f.times > 0 and re.search(f.pattern, request_line):
                    f.times -= 1
                    return True
        return False

    def take(self, request_line: str) -> Fault | None:
        with self.lock:
            self.log.append(request_line)
            for f in self.items:
                if f.status and f.times > 0 and re.search(f.pattern, request_line):
                    f.times -= 1
                    return f
        return None


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if os.environ.get("FAKE_VERBOSE"):
            super().log_message(format, *args)

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def drop(self) -> None:
        """Close the connection without an answer (the request was carried out)."""
        import socket

        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, status: int, payload=None, *, headers: dict | None = None,
             content_type: str = "application/json") -> None:
        if payload is None:
            data = b""
        elif isinstance(payload, (bytes, bytearray)):
            data = bytes(payload)
        else:
            data = json.dumps(payload).encode()
        self.send_response(status)
        if data or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread."""

    def __init__(self, handler_cls, port: int = 0, *, tls: bool = False) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # handlers reach the fake through self.server.fake
        self.ca_file: str | None = None
        if tls:
            cert, key = self_signed_cert()
            self.ca_file = cert
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread: threading.Thread | None = None

    def start(self):
        # A short poll: stop() (shutdown) waits for the loop's next poll, 0.5 s by default.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FakeService:
    """Start/stop of a fake whose ``self.server`` is a :class:`Server`."""

    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    def start(self):
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def self_signed_cert() -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost; (cert file, key file) in a temp folder.
    The cert file doubles as the CA bundle (``REQUESTS_CA_BUNDLE``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"followup-fake-{os.getpid()}-{id(key):x}")])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp(prefix="followup-fake-tls-"))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(folder / "key.pem", 0o600)
    return str(folder / "cert.pem"), str(folder / "key.pem")


def rfc1123(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)
