"""``followup serve`` itself, as a subprocess on a free port: what it says about itself
(no server version) and the headers of its pages (signed-in pages are never cached)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from assistant.demo.sample import generate_sample
from assistant.services.scan import open_store
from assistant.settings import load_settings
from assistant.web import users
from tests.web_http import Browser
from tests.webapp import REP

SECRET_PASSWORD = "correct-horse-7731"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(config: str, port: int, *extra: str) -> subprocess.Popen:
    """``followup serve`` in a subprocess, once it accepts connections."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP_")}
    followup = Path(sys.executable).with_name("followup")
    process = subprocess.Popen(
        [str(followup), "--config", config, "serve", "--port", str(port), *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "followup serve did not start"
            time.sleep(0.1)


def test_serve_names_no_server_version_and_signed_in_pages_are_not_stored(tmp_path):
    info = generate_sample(tmp_path / "team")
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    users.set_password(settings, engine, REP, SECRET_PASSWORD, datetime.now(timezone.utc))
    engine.dispose()
    port = _free_port()
    process = _serve(str(info.settings_path), port)
    try:
        browser = Browser(port)
        status, headers, _ = browser.request("GET", "/login")
        assert status == 200 and headers["Server"] == "Followup"
        assert not re.search(r"werkzeug|python", str(headers), re.I)
        assert browser.sign_in(REP, SECRET_PASSWORD)[0] == 302
        status, headers, text = browser.request("GET", "/followups")
        assert status == 200 and "Ana" in text
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Server"] == "Followup"
        status, headers, _ = browser.request("GET", "/static/app.css")
        assert status == 200 and "no-store" not in headers.get("Cache-Control", "")
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert "POST /login" in err and SECRET_PASSWORD not in out + err  # logged, never the password


def test_serve_now_shows_the_team_as_scan_now_does(tmp_path):
    """``serve --now``: the web app reads the time given, so the demo's team page counts
    the silent threads that ``scan --now`` (and the digest) count."""
    import json

    from tests.test_pipeline import run
    from tests.webapp import MANAGER

    info = generate_sample(tmp_path / "team")
    config = str(info.settings_path)
    assert run("--config", config, "sync").returncode == 0
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    users.set_password(settings, engine, MANAGER, SECRET_PASSWORD, datetime.now(timezone.utc))
    engine.dispose()
    scanned = json.loads(run("--config", config, "scan", "--now", info.now.isoformat(),
                             "--json").stdout)["threads"]
    silent = sum(t["status"] == "silent" for t in scanned)
    port = _free_port()
    process = _serve(config, port, "--now", info.now.isoformat())
    try:
        browser = Browser(port)
        assert browser.sign_in(MANAGER, SECRET_PASSWORD)[0] == 302
        status, _, text = browser.request("GET", "/team")
        assert status == 200
        shown = sum(int(n) for n in re.findall(r'<span class="count">(\d+)</span>', text))
        assert shown == silent and silent > 0
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert info.now.isoformat() in out
