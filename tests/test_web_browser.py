"""End to end in a real browser: Playwright's Python package driving Debian's Chromium
(``make browser`` installs it; never ``playwright install``). The app runs in a thread on
werkzeug's server on 127.0.0.1 and a free port; screenshots go to the test's tmp folder.

In CI (``CI`` set) a missing Chromium fails the test; locally it skips, naming the fix."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from assistant.services.scan import scan
from assistant.services.templates import template_history
from tests.conftest import require_system_tool
from werkzeug.serving import make_server

from assistant.web.services import thread_slug
from tests.webapp import MANAGER, OTHER_REP, REP, web, web_template  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: run `make browser` (installs Debian's chromium)"
    return None


@pytest.fixture
def browser():
    require_system_tool(_missing(), "browser tests need Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(web):
    httpd = make_server("127.0.0.1", 0, web.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def _sign_in(browser, base, email, *, mobile=False):
    size = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, locale="es-MX")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    return page


def test_rep_approves_one_draft_and_skips_another_on_a_phone(browser, server, web, tmp_path):
    page = _sign_in(browser, server, REP, mobile=True)
    page.wait_for_selector("#queue")
    assert "Mis seguimientos" in page.inner_text("h1")  # the browser asked for Spanish
    page.screenshot(path=str(tmp_path / "rep-queue.png"), full_page=True)
    first, second = [r for r in web.followups_of(REP, "drafted")][:2]
    # Keyboard: the first item is selected; j moves down, o opens.
    ids = page.eval_on_selector_all(".qitem", "els => els.map(e => +e.dataset.id)")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(rf"/followups/{ids[1]}$"))
    page.goto(f"{server}/followups/{first.id}")
    page.screenshot(path=str(tmp_path / "rep-followup.png"), full_page=True)
    page.click("#approve")
    page.wait_for_selector(".flash.ok")
    assert web.get(first.id).status == "approved"
    page.goto(f"{server}/followups/{second.id}")
    page.fill("#skip-reason", "Ya compró a otro proveedor")
    page.click("#skip")
    page.wait_for_selector(".flash.ok")
    assert web.get(second.id).status == "skipped"
    assert web.get(second.id).closed_reason == "Ya compró a otro proveedor"
    assert f'data-id="{first.id}"' not in page.content()
    page.screenshot(path=str(tmp_path / "rep-after.png"), full_page=True)
    page.context.close()


def test_admin_edits_a_template_sees_the_preview_saves_and_rolls_back(browser, server, web, tmp_path):
    page = _sign_in(browser, server, MANAGER)
    page.goto(server + "/admin/templates/followup_1/es")
    page.wait_for_selector("#preview-body")
    before = page.inner_text("#preview-body")
    assert before.strip()
    text = page.input_value("#template-text")
    edited = text.replace("¿cómo estás?", "¿cómo va todo por allá? MARCA-NUEVA")
    assert edited != text
    page.fill("#template-text", edited)
    from playwright.sync_api import expect

    expect(page.locator("#preview-body")).to_contain_text("MARCA-NUEVA")  # live, no save yet
    assert not template_history(web.engine)
    page.screenshot(path=str(tmp_path / "admin-preview.png"), full_page=True)
    # A broken line shows the error with its line number, and the last good preview stays.
    page.fill("#template-text", edited + "\n{{ contact.nope( }}\n")
    page.wait_for_selector("#preview-error:not([hidden])")
    assert re.search(r"línea \d+", page.inner_text("#preview-error"))  # the UI's language
    page.fill("#template-text", edited)
    page.click("#save-template")
    page.wait_for_selector(".flash.ok")
    history = template_history(web.engine)
    assert [(v.version, v.author) for v in history] == [(1, MANAGER)]
    page.goto(server + "/admin/templates/followup_1/es/history?a=0&b=1")
    assert "MARCA-NUEVA" in page.inner_text("#diff")
    page.screenshot(path=str(tmp_path / "admin-history.png"), full_page=True)
    page.click("button.rollback[data-version='0']")
    page.wait_for_selector(".flash.ok")
    latest = template_history(web.engine)[-1]
    assert latest.version == 2 and "MARCA-NUEVA" not in latest.body
    page.context.close()


def test_manager_assigns_an_owner(browser, server, web, tmp_path):
    page = _sign_in(browser, server, MANAGER)
    page.goto(server + "/team")
    page.wait_for_selector("#scenario-chart")
    target = next(r for r in scan(web.settings, web.engine, web.now)
                  if r.owner is None and r.status not in ("closed", "exhausted"))
    row = page.locator(f"li[data-thread='{thread_slug(target.quote_message_id)}']")
    row.locator("select[name=owner]").select_option(OTHER_REP)
    page.screenshot(path=str(tmp_path / "manager-team.png"), full_page=True)
    row.locator("button").click()
    page.wait_for_selector(".flash.ok")
    after = next(r for r in scan(web.settings, web.engine, web.now)
                 if r.quote_message_id == target.quote_message_id)
    assert after.owner == OTHER_REP
    page.context.close()
