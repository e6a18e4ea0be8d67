"""Shared set-up of the web app tests: the sample team synced, its follow-ups planned,
every member's password set to ``demo``; each test gets its own copy of the folder."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from assistant.demo.sample import generate_sample
from assistant.services import review
from assistant.services.planning import plan
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.settings import Settings, load_settings
from assistant.web import create_app
from assistant.demo.pipeline import DEMO_PASSWORD, demo_passwords

REP = "ana@aceros.example"
OTHER_REP = "luis@aceros.example"
MANAGER = "marta@aceros.example"  # manager and admin in the sample team
SDR = "sofia@aceros.example"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebEnv:
    folder: Path
    settings: Settings
    engine: object
    now: datetime
    app: object

    def client(self, email: str | None = None, *, lang: str = "en"):
        client = self.app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        if email:
            page = client.get("/login")
            response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD,
                                                   "csrf_token": csrf(page.text)})
            assert response.status_code == 302, response.text
        return client

    def followups_of(self, email: str, status: str | None = None):
        return [r for r in list_followups(self.engine)
                if r.assignee == email and (status is None or r.status == status)]

    def get(self, fid: int):
        return review.get(self.engine, fid)


def csrf(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def app_for(settings: Settings, engine, now: datetime):
    return create_app(settings, engine, clock=lambda: now, secret="test-secret")


@pytest.fixture(scope="session")
def web_template(tmp_path_factory):
    dest = tmp_path_factory.mktemp("web-sample")
    info = generate_sample(dest)
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    sync(settings, engine)
    plan(settings, engine, info.now)
    demo_passwords(settings, engine, info.now)
    engine.dispose()
    return dest, info.now


@pytest.fixture
def web(web_template, tmp_path) -> WebEnv:
    source, now = web_template
    folder = tmp_path / "team"
    shutil.copytree(source, folder)
    settings = load_settings(folder / "settings.toml", environ={})
    engine = open_store(settings)
    yield WebEnv(folder, settings, engine, now, app_for(settings, engine, now))
    engine.dispose()
