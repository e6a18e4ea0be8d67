"""Digest v2 (issue 14): every thread of the digest links to its page in the web app
(``web.base_url``); each link, opened by the manager signed in, is that thread's page."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from markupsafe import escape

from assistant.services import digest as D
from assistant.services.pages import thread_id
from assistant.settings import load_settings
from tests.webapp import MANAGER, app_for, web, web_template  # noqa: F401

BASE = "https://followup.aceros.example/app"


def test_every_thread_in_the_digest_links_to_its_page_and_each_link_opens(web):
    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    path = web.folder / "settings-links.toml"
    path.write_text(text.replace("[storage]", f'[web]\nbase_url = "{BASE}"\n\n[storage]'),
                    encoding="utf-8")
    settings = load_settings(path, environ={})
    [digest] = D.build_digests(settings, web.engine, web.now)
    rows = [(html.unescape(thread), html.unescape(url)) for thread, url in
            re.findall(r'<tr class="thread" data-thread="([^"]+)" data-url="([^"]+)"', digest.html)]
    threads = {r.quote_message_id: r for r in digest.current.reports}
    listed = [r for r in threads.values() if r.status in ("silent", "awaiting_us")]
    assert {thread for thread, _ in rows} >= {r.quote_message_id for r in listed}
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', digest.html)]
    assert hrefs and all(h.startswith(f"{BASE}/threads/") for h in hrefs)
    assert set(hrefs) == {url for _, url in rows}
    for _, url in rows:  # the plain-text part carries the same links
        assert f"  {url}\n" in digest.text
    client = app_for(settings, web.engine, web.now).test_client()
    page = client.get("/login")
    from tests.webapp import csrf
    from assistant.demo.pipeline import DEMO_PASSWORD

    signed = client.post("/login", data={"email": MANAGER, "password": DEMO_PASSWORD,
                                         "csrf_token": csrf(page.text)})
    assert signed.status_code == 302
    for thread, url in rows:
        parts = urlsplit(url)
        assert parts.path.startswith("/app/threads/")
        app_path = parts.path.removeprefix("/app")  # the proxy in front strips its prefix
        assert thread_id(app_path.rsplit("/", 1)[1]) == thread  # the right thread
        response = client.get(app_path)
        assert response.status_code == 200, url
        subject = threads[thread].subject
        assert str(escape(subject)) in response.text, url


def test_without_base_url_the_digest_has_no_links(web):
    [digest] = D.build_digests(web.settings, web.engine, web.now)
    assert web.settings.web.base_url is None
    assert "href=" not in digest.html and "data-url" not in digest.html
    assert "/threads/" not in digest.text


def test_a_bad_base_url_is_a_settings_error_naming_key_file_and_fix(web):
    from click.testing import CliRunner

    from assistant.cli import main
    from assistant.settings import SettingsError

    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    path = web.folder / "settings-bad.toml"
    for bad in ("followup.aceros.example", "ftp://x.example", "https://x.example/?a=1"):
        path.write_text(text.replace("[storage]", f'[web]\nbase_url = "{bad}"\n\n[storage]'),
                        encoding="utf-8")
        try:
            load_settings(path, environ={})
        except SettingsError as exc:
            message = str(exc)
        else:
            raise AssertionError(f"{bad} was accepted")
        assert "web.base_url" in message and str(path) in message and "https://" in message
    result = CliRunner().invoke(main, ["--config", str(path), "digest"])
    assert result.exit_code == 2 and "web.base_url" in result.output


def test_digest_and_morning_list_fit_a_phone_and_a_desktop_in_chromium(web, tmp_path):
    """The fluid column: at 390 px (a phone) and 1280 px nothing is wider than the window;
    on a desktop the column stops at 680 px (the morning list at 600 px)."""
    from tests.test_web_browser import _missing, ARGS, CHROMIUM
    from tests.conftest import require_system_tool
    from assistant.services import morning as MO

    require_system_tool(_missing(), "browser tests need Chromium")
    from playwright.sync_api import sync_playwright

    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    path = web.folder / "settings-links.toml"
    path.write_text(text.replace("[storage]", f'[web]\nbase_url = "{BASE}"\n\n[storage]'),
                    encoding="utf-8")
    settings = load_settings(path, environ={})
    [digest] = D.build_digests(settings, web.engine, web.now)
    english = D.render(settings, digest.recipient, digest.current, digest.previous, language="en")
    lists = MO.build_lists(settings, web.engine, web.now)
    files = {"digest-es": (digest.html, "#digest", 680), "digest-en": (english.html, "#digest", 680),
             "morning": (lists[0].html, "#morning", 600)}
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for name, (html_text, column, widest) in files.items():
                source = tmp_path / f"{name}.html"
                source.write_text(html_text, encoding="utf-8")
                for width in (390, 1280):
                    page = chromium.new_page(viewport={"width": width, "height": 900})
                    page.goto(source.as_uri())
                    scroll = page.evaluate("document.documentElement.scrollWidth")
                    box = page.locator(column).bounding_box()
                    assert scroll <= width, (name, width, scroll)
                    assert box["width"] <= min(widest, width), (name, width, box)
                    if width == 1280:
                        assert box["width"] == widest
                    page.close()
        finally:
            chromium.close()
