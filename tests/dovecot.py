"""A real IMAP server for the tests: Dovecot on 127.0.0.1, started once per session.

Loaded as a pytest plugin (``pytest_plugins`` in ``conftest.py``). The ``dovecot``
fixture starts ``dovecot -c CONFIG`` on a free port with a temporary Maildir store and a
static password for every user, and stops it at the end of the session. Each test makes its
own user (:meth:`Dovecot.new_user`), so tests never see each other's mail.

The same server speaks TLS: a throw-away CA (:func:`make_certificates`, made at start
with ``cryptography``) signs a certificate for ``localhost`` and ``127.0.0.1``; the imap
port offers STARTTLS and ``ssl_port`` is an implicit-TLS (993-style) listener; both
answer on 127.0.0.1 and on 127.0.0.2, an address the certificate does not name. ``ca_file`` is the
CA's PEM file, which the tests trust (or not).

When ``dovecot`` is not installed the IMAP tests FAIL under CI (the env var ``CI`` is
set; ``.ci/run`` installs it) and are skipped locally with a reason naming
``make dovecot``. See ``/work/shared/dovecot.md`` for the recipe this follows.

:class:`Proxy` sits between a client and Dovecot: it counts the IMAP commands the client
sends, keeps the bytes it sent, can cut every connection on demand (a dropped connection
mid-fetch) and can strip STARTTLS from what the server offers (a downgrade attack).
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address
from pathlib import Path

import pytest

from tests.conftest import require_system_tool

PASSWORD = "secret"
INSTALL_HINT = "run `make dovecot` (apt-get install dovecot-imapd)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_CONFIG = """\
base_dir = {d}/run
state_dir = {d}/state
instance_name = followup-test-{port}
log_path = {d}/log/dovecot.log
info_log_path = {d}/log/dovecot.log
debug_log_path = {d}/log/dovecot.log
verbose_proctitle = yes
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/tls/server.pem
ssl_key = <{d}/tls/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
first_valid_gid = 1
# Any user name logs in with the password "secret" (a passwd-file would need a reload
# per new user): each test's user gets its own Maildir under mail/<user>.
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/mail/%u
}}
mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1 127.0.0.2
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1 127.0.0.2
    port = {ssl_port}
    ssl = yes
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


class Dovecot:
    """A running Dovecot: ``host``, ``port``, users made with :meth:`new_user`."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir)
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.ssl_port = _free_port()
        self.ca_file = self.dir / "tls" / "ca.pem"
        self.uid = pwd.getpwnam("nobody").pw_uid
        self.gid = grp.getgrnam("nogroup").gr_gid
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> "Dovecot":
        d = self.dir
        for sub in ("run", "state", "log", "mail", "tls"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        make_certificates(d / "tls")
        p = d
        while p != p.parent:  # Dovecot's auth process must traverse every parent
            os.chmod(p, os.stat(p).st_mode | 0o001)
            p = p.parent
        for sub in ("", "log", "state"):
            os.chmod(d / sub, 0o755)
        os.chown(d / "mail", self.uid, self.gid)
        conf = d / "dovecot.conf"
        conf.write_text(_CONFIG.format(d=d, port=self.port, ssl_port=self.ssl_port, uid=self.uid,
                                       gid=self.gid))
        check = subprocess.run(["dovecot", "-c", str(conf), "-n"], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"dovecot config check failed: {check.stderr}")
        with open(d / "log" / "start.txt", "wb") as out:  # not a pipe: the daemon keeps it open
            subprocess.run(["dovecot", "-c", str(conf)], check=True, stdout=out, stderr=out)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start; log:\n{self.log()[-3000:]}")

    @property
    def master_pid(self) -> int:
        return int((self.dir / "run" / "master.pid").read_text().split()[0])

    def stop(self) -> None:
        try:
            pid = self.master_pid
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return (self.dir / "log" / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- users -----------------------------------------------------------------------
    def new_user(self, prefix: str = "user", *,
                 folders: tuple[str, ...] = ("Sent", "Drafts")) -> str:
        """A fresh user (name unique in the session; password :data:`PASSWORD`) with
        ``folders`` created."""
        with self._lock:
            name = f"{prefix}{next(self._names)}"
        with self.client(name) as imap:
            for folder in folders:
                _ok(imap.create(_quote(folder)))
        return name

    def client(self, user: str, password: str = "secret") -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=30)
        imap.login(user, password)
        return imap

    def append(self, user: str, folder: str, messages, *, password: str = "secret",
               flags: str = "") -> None:
        """APPEND each raw message to ``folder`` (created when missing)."""
        with self.client(user, password) as imap:
            if folder != "INBOX":
                imap.create(_quote(folder))  # NO when it exists: fine
            for data in messages:
                _ok(imap.append(_quote(folder), flags or None, None, data))

    def imap_processes(self, user: str) -> list[int]:
        """Pids of this server's imap processes serving ``user`` (verbose_proctitle)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            ppid = next((int(line.split()[1]) for line in status.splitlines()
                         if line.startswith("PPid:")), 0)
            if ppid == self.master_pid and "/imap [" in cmd and f"[{user} " in cmd:
                pids.append(int(entry))
        return pids

    def kill_imap(self, user: str) -> int:
        """SIGKILL the server processes serving ``user``: their connections drop."""
        pids = self.imap_processes(user)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return len(pids)


def make_certificates(folder: Path) -> None:
    """A throw-away CA (``ca.pem``) and a server certificate it signed for ``localhost``
    and ``127.0.0.1`` (``server.pem`` with the chain, ``server.key``), EC keys: instant."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Followup tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Followup test CA")).issuer_name(name("Followup test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=2))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                          x509.IPAddress(ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    key_file = folder / "server.key"
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(result) -> None:
    typ, data = result
    if typ != "OK":
        raise RuntimeError(f"IMAP {typ}: {data}")


class Proxy:
    """A TCP relay in front of Dovecot that counts the client's IMAP commands.

    ``commands`` lists the command names (``"LOGIN"``, ``"UID FETCH"``, ...) of every
    tagged line the client sent; :meth:`cut` closes every open connection at once.
    """

    def __init__(self, host: str, port: int, *, strip_starttls: bool = False) -> None:
        self.target = (host, port)
        self.strip_starttls = strip_starttls
        self.sent = bytearray()
        """Every byte the clients sent (to check what crossed the wire in clear)."""
        self.server = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self.server.getsockname()[:2]
        self.commands: list[str] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        pending = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if count:
                    with self._lock:
                        self.sent += data
                    pending += data
                    *lines, pending = pending.split(b"\r\n")
                    for line in lines:
                        words = line.split(b" ")
                        if len(words) >= 2 and words[0][:1].isalnum() and words[1].isalpha():
                            name = words[1].upper()
                            if name == b"UID" and len(words) > 2:
                                name += b" " + words[2].upper()
                            with self._lock:
                                self.commands.append(name.decode())
                elif self.strip_starttls:  # the server's side: "offer" no STARTTLS
                    data = data.replace(b" STARTTLS", b"")
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def reset(self) -> None:
        with self._lock:
            self.commands.clear()
            self.sent.clear()

    def cut(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.cut()
        self.server.close()


def dovecot_problem() -> str | None:
    if shutil.which("dovecot") is None:
        return f"dovecot is not installed: {INSTALL_HINT}"
    if os.geteuid() != 0:
        return f"the Dovecot test server needs root (mail files owned by nobody): {INSTALL_HINT} and run as root"
    return None


def start_dovecot(data_dir: Path | None = None) -> Dovecot:
    """Start a server (for the benchmark and the fixture); raise when it cannot run."""
    problem = dovecot_problem()
    if problem:
        raise RuntimeError(problem)
    return Dovecot(Path(data_dir or tempfile.mkdtemp(prefix="followup-dovecot-"))).start()


@pytest.fixture(scope="session")
def dovecot():
    require_system_tool(dovecot_problem(), "IMAP tests need Dovecot")
    # Not under pytest's basetemp: pytest resets that folder to mode 0700, which Dovecot's
    # unprivileged processes cannot traverse.
    data_dir = Path(tempfile.mkdtemp(prefix="followup-dovecot-"))
    server = Dovecot(data_dir).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def imap_proxy(dovecot):
    proxy = Proxy(dovecot.host, dovecot.port)
    try:
        yield proxy
    finally:
        proxy.close()
