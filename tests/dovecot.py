"""A real IMAP server for the tests: Dovecot on 127.0.0.1, started once per session.

Loaded as a pytest plugin (``pytest_plugins`` in ``conftest.py``). The ``dovecot``
fixture starts ``dovecot -c CONFIG`` on a free port with a temporary Maildir store and a
static password for every user, and stops it at the end of the session. Each test makes its
own user (:meth:`Dovecot.new_user`), so tests never see each other's mail.

When ``dovecot`` is not installed the IMAP tests FAIL under CI (the env var ``CI`` is
set; ``.ci/run`` installs it) and are skipped locally with a reason naming
``make dovecot``. See ``/work/shared/dovecot.md`` for the recipe this follows.

:class:`Proxy` sits between a client and Dovecot: it counts the IMAP commands the client
sends and can cut every connection on demand (a dropped connection mid-fetch).
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
from pathlib import Path

import pytest

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
ssl = no
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
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
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
        self.uid = pwd.getpwnam("nobody").pw_uid
        self.gid = grp.getgrnam("nogroup").gr_gid
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> "Dovecot":
        d = self.dir
        for sub in ("run", "state", "log", "mail"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        p = d
        while p != p.parent:  # Dovecot's auth process must traverse every parent
            os.chmod(p, os.stat(p).st_mode | 0o001)
            p = p.parent
        for sub in ("", "log", "state"):
            os.chmod(d / sub, 0o755)
        os.chown(d / "mail", self.uid, self.gid)
        conf = d / "dovecot.conf"
        conf.write_text(_CONFIG.format(d=d, port=self.port, uid=self.uid, gid=self.gid))
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

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
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
    problem = dovecot_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"IMAP tests need Dovecot in CI: {problem}")
        pytest.skip(problem)
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
