"""A real Tryton server for the CRM tests: ``trytond`` + ``sale_opportunity`` on 127.0.0.1.

Loaded as a pytest plugin (``pytest_plugins`` in ``conftest.py``). Three stages, each
cached so the suite stays fast:

1. **The venv** (``make tryton``, or the first test session): Tryton lives in its OWN
   virtual environment, never in the project's, under ``~/.cache/followup/tryton-venv``
   (``FOLLOWUP_TRYTON_VENV`` overrides it), installed from PyPI with pip
   (``trytond-sale-opportunity`` pulls ``trytond`` and the modules it depends on).
2. **The template database** (once per Tryton version, under ``~/.cache/followup/``):
   ``trytond-admin -d NAME --all`` on the SQLite backend (``TRYTOND_DATABASE__URI=sqlite://``,
   ``TRYTOND_DATABASE__PATH`` the folder), the admin password from ``TRYTONPASSFILE``, then
   ``-u sale_opportunity --activate-dependencies``; then, over JSON-RPC as a person would
   in the client, a currency (MXN), the company, and one Tryton user + employee per member
   of the sample team (matched by their email).
3. **Per test**: the template file copied to a fresh database name in the server's
   folder (one ``trytond`` per session serves them all; SQLite keeps one file per
   database), so every test starts from the same clean company.

``python -m tests.tryton install`` is what ``make tryton`` runs.

When the venv cannot be installed the tests FAIL under CI (``CI`` set) and are skipped
locally naming ``make tryton``.
"""

from __future__ import annotations

import base64
import fcntl
import itertools
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CACHE = Path(os.environ.get("FOLLOWUP_CACHE", Path.home() / ".cache" / "followup"))
VENV = Path(os.environ.get("FOLLOWUP_TRYTON_VENV", CACHE / "tryton-venv"))
REQUIREMENT = "trytond-sale-opportunity>=8.0,<9"
"""Tryton's CRM module (the 8.x series: ``/<database>/rpc/``, the JSON-RPC path the connector uses)."""
ADMIN_PASSWORD = "admin-secret"
TEMPLATE_NAME = "followup_template"
INSTALL_HINT = "run `make tryton` (installs trytond + sale_opportunity in their own venv)"

TEAM = (  # the sample team (assistant.demo.sample.TEAM): Tryton users + employees
    ("ana", "Ana Pérez", "ana@aceros.example"),
    ("luis", "Luis Herrera", "luis@aceros.example"),
    ("marta", "Marta Garza", "marta@aceros.example"),
    ("sofia", "Sofía Cantú", "sofia@aceros.example"),
)


def _bin(name: str) -> Path:
    return VENV / "bin" / name


def install() -> Path:
    """The Tryton venv, created once (a file lock keeps parallel workers to one install)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "tryton-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = VENV / ".installed"
        if not stamp.exists():
            if not _bin("python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(_bin("python")), "-m", "pip", "install", "--quiet",
                            REQUIREMENT], check=True)
            stamp.write_text(REQUIREMENT + "\n")
    return VENV


def version() -> str:
    out = subprocess.run([str(_bin("python")), "-c", "import trytond; print(trytond.__version__)"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(folder: Path, port: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TRYTOND_DATABASE__URI": "sqlite://", "TRYTOND_DATABASE__PATH": str(folder)})
    if port is not None:
        env["TRYTOND_WEB__LISTEN"] = f"127.0.0.1:{port}"
    return env


class Server:
    """``trytond`` on 127.0.0.1 serving the SQLite database ``database`` in ``folder``
    (its pool loaded at start: ``-d``; trytond 8.2 answers a database it did not load at
    start with an empty pool)."""

    def __init__(self, folder: Path, database: str, port: int | None = None):
        self.folder = folder
        self.database = database
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = open(folder / "trytond.log", "ab")
        self.process = subprocess.Popen(
            [str(_bin("trytond")), "-d", database], env=_environment(folder, self.port),
            stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trytond exited: see {self.folder / 'trytond.log'}")
            try:
                rpc(self.url + "rpc/", "common.server.version", [])
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        raise RuntimeError("trytond did not answer within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


_ids = itertools.count(1)


def rpc(url: str, method: str, params: list, session: str | None = None):
    """One JSON-RPC call as Tryton's client makes it (``{"id", "method", "params"}``)."""
    body = json.dumps({"id": next(_ids), "method": method, "params": params}).encode()
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = "Session " + session
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    if answer.get("error"):
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


class Admin:
    """The admin user's JSON-RPC session on one database (setting up and checking)."""

    def __init__(self, server_url: str, database: str):
        self.url = f"{server_url}{database}/rpc/"
        user_id, token = rpc(self.url, "common.db.login",
                             ["admin", {"password": ADMIN_PASSWORD}, "en"])[:2]
        self.session = base64.b64encode(f"admin:{user_id}:{token}".encode()).decode()
        self.context = self.call("model.res.user.get_preferences", True, {})

    def call(self, method: str, *params):
        return rpc(self.url, method, list(params), self.session)

    def model(self, model: str, method: str, *params):
        return self.call(f"model.{model}.{method}", *params, self.context)


def _set_up_company(server_url: str, database: str) -> None:
    admin = Admin(server_url, database)
    currency, = admin.model("currency.currency", "create",
                            [{"name": "Peso mexicano", "code": "MXN", "symbol": "$"}])
    party, = admin.model("party.party", "create", [{"name": "Aceros del Norte"}])
    company, = admin.model("company.company", "create", [{"party": party, "currency": currency}])
    admin_id = admin.model("res.user", "search", [("login", "=", "admin")])[0]
    groups = admin.model("res.group", "search", [])  # every right, the buttons' too
    admin.model("res.user", "write", [admin_id],
                {"companies": [["add", [company]]], "company": company,
                 "groups": [["add", groups]]})
    admin = Admin(server_url, database)  # the preferences (context) now name the company
    for login, name, email in TEAM:
        person, = admin.model("party.party", "create", [{"name": name}])
        employee, = admin.model("company.employee", "create",
                                [{"party": person, "company": company}])
        admin.model("res.user", "create", [{
            "login": login, "name": name, "email": email,
            "companies": [["add", [company]]], "company": company,
            "employees": [["add", [employee]]], "employee": employee}])


def template() -> Path:
    """The initialised database file (made once per Tryton version and cached)."""
    install()
    folder = CACHE / f"tryton-db-{version()}"
    path = folder / f"{TEMPLATE_NAME}.sqlite"
    with open(CACHE / "tryton-db.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return path
        work = folder.with_name(folder.name + ".building")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / f"{TEMPLATE_NAME}.sqlite").touch()  # the SQLite backend opens, never creates
        passfile = work / "admin.pass"
        passfile.write_text(ADMIN_PASSWORD)
        env = _environment(work)
        env["TRYTONPASSFILE"] = str(passfile)
        admin = [str(_bin("trytond-admin")), "-d", TEMPLATE_NAME]
        subprocess.run(admin + ["--all", "--email", "admin@aceros.example"], env=env,
                       check=True, capture_output=True)
        subprocess.run(admin + ["-u", "sale_opportunity", "--activate-dependencies"], env=env,
                       check=True, capture_output=True)
        server = Server(work, TEMPLATE_NAME)
        try:
            _set_up_company(server.url, TEMPLATE_NAME)
        finally:
            server.stop()
        with sqlite3.connect(work / f"{TEMPLATE_NAME}.sqlite") as db:  # the WAL into the file
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(work / f"{TEMPLATE_NAME}.sqlite", path)
        shutil.rmtree(work, ignore_errors=True)
        return path


class Tryton:
    """One test's Tryton: a copy of the template database and a server for it.
    :meth:`stop` and :meth:`start` take it down and up again (a CRM that is down)."""

    def __init__(self, folder: Path, template_path: Path, name: str = "followup"):
        self.folder = folder
        self.database = name
        shutil.copy2(template_path, folder / f"{name}.sqlite")
        self.server: Server | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.start()

    def start(self) -> None:
        """(Again) on the same port: the settings written for it still hold."""
        self.server = Server(self.folder, self.database, self.port)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def admin(self) -> Admin:
        return Admin(self.server.url, self.database)


def _fixtures():
    import pytest

    from tests.conftest import require_system_tool

    @pytest.fixture(scope="session")
    def tryton_template():
        try:
            return template()
        except (OSError, subprocess.CalledProcessError) as exc:
            require_system_tool(f"Tryton could not be set up ({exc})", INSTALL_HINT)

    @pytest.fixture
    def tryton(tryton_template, tmp_path):
        """A running Tryton with a fresh copy of the set-up company (stopped after). Its
        database sits in memory-backed /dev/shm where there is one (SQLite syncs each
        commit to disk: a first sync of the sample team is hundreds of commits)."""
        shm = Path("/dev/shm")
        base = Path(tempfile.mkdtemp(prefix="followup-tryton-", dir=shm)) \
            if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path / "tryton"
        base.mkdir(exist_ok=True)
        server = Tryton(base, tryton_template)
        yield server
        server.stop()
        if base.parent == shm:
            shutil.rmtree(base, ignore_errors=True)

    return tryton_template, tryton


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        print(install())
        print(template())
    else:
        sys.exit("usage: python -m tests.tryton install")
else:
    try:
        import pytest  # noqa: F401
        tryton_template, tryton = _fixtures()
    except ImportError:  # run by make without pytest
        pass
