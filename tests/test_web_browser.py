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
from assistant.wording import say
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


def _section(html: str, section: str) -> str:
    """A section of the digest's HTML part (``<td id="overdue">`` to the next section; the
    plain-text part wraps a subject inside its column)."""
    return html.split(f'<td id="{section}"', 1)[1].split('<td id="', 1)[0]


def test_rep_marks_won_logs_a_phone_answer_and_snoozes_seen_at_once_everywhere(
        browser, server, web, tmp_path):
    """Issue 14's walk: each outcome is visible at once on the rep's queue, on the team
    page (a manager's) and in the next digest."""
    from assistant.services.digest import build_digests, load_strings

    rows = [r for r in web.followups_of(REP, "drafted")]
    threads = list(dict.fromkeys(r.quote_message_id for r in rows))[:3]
    reports = {r.quote_message_id: r for r in scan(web.settings, web.engine, web.now)}
    won, answered, snoozed = (reports[q] for q in threads)
    row_of = {q: next(r for r in rows if r.quote_message_id == q) for q in threads}
    rep = _sign_in(browser, server, REP)
    manager = _sign_in(browser, server, MANAGER)

    # 1. Won, from the thread page (a reason with it).
    rep.goto(f"{server}/threads/{thread_slug(won.quote_message_id)}")
    assert rep.inner_text("#thread-id") == won.thread_id
    rep.fill("#mark-reason", "Firmó el pedido por teléfono")
    rep.click("#mark-won")
    rep.wait_for_selector(".flash.ok")
    assert "marcada como ganada" in rep.inner_text(".flash.ok")
    assert "Firmó el pedido por teléfono" in rep.inner_text("#history")
    rep.screenshot(path=str(tmp_path / "outcome-won-thread.png"), full_page=True)
    # 2. The client answered by phone, from the queue.
    rep.goto(f"{server}/followups")
    item = rep.locator(f".qitem[data-id='{row_of[answered.quote_message_id].id}']")
    item.locator("button.reply-phone").click()
    rep.wait_for_selector(".flash.ok")
    assert "respuesta del cliente por teléfono" in rep.inner_text(".flash.ok")
    # 3. Snoozed until a day, from the queue.
    item = rep.locator(f".qitem[data-id='{row_of[snoozed.quote_message_id].id}']")
    item.locator("input.snooze-until").fill("2027-01-15")
    item.locator("button.snooze").click()
    rep.wait_for_selector(".flash.ok")
    assert "pospuesta hasta el vie 15 ene" in rep.inner_text(".flash.ok")
    rep.screenshot(path=str(tmp_path / "outcome-queue.png"), full_page=True)

    queue = rep.inner_text("#queue")
    ids = rep.eval_on_selector_all(".qitem", "els => els.map(e => +e.dataset.id)")
    assert row_of[won.quote_message_id].id not in ids          # cancelled: won
    assert row_of[answered.quote_message_id].id not in ids     # cancelled: the client answered
    assert row_of[snoozed.quote_message_id].id in ids and "pospuesta hasta el vie 15 ene" in queue
    assert "vie 15 ene 09:00 2027" in queue  # its follow-up due then, at the send window (next year)

    manager.goto(f"{server}/team")
    manager.wait_for_selector("#scenario-chart")
    text = manager.inner_text("main")
    silent_title, waiting_title = say("web.silent_by_owner", "es"), say("web.clients_waiting", "es")
    silent = text.split(silent_title)[1].split(waiting_title)[0]
    waiting = text.split(waiting_title)[1]
    assert won.subject not in silent and snoozed.subject not in silent
    assert answered.subject in waiting
    manager.screenshot(path=str(tmp_path / "outcome-team.png"), full_page=True)

    digest = next(d for d in build_digests(web.settings, web.engine, web.now)
                  if d.recipient.email == MANAGER)
    t = load_strings(digest.language)
    overdue = _section(digest.html, "overdue")
    assert won.subject not in overdue and snoozed.subject not in overdue
    assert answered.subject in _section(digest.html, "waiting")
    promised = _section(digest.html, "promised")
    assert t["promised_title"] in promised and snoozed.subject in promised
    assert "pospuesto hasta el" in promised
    by_status = {r.quote_message_id: r.status for r in digest.current.reports}
    assert by_status[won.quote_message_id] == "closed"

    # On a phone, the queue and the thread page with their new forms fit the screen.
    phone = _sign_in(browser, server, REP, mobile=True)
    for url in ("/followups", f"/threads/{thread_slug(won.quote_message_id)}"):
        phone.goto(server + url)
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate("""[...document.querySelectorAll('main *')].filter(
            e => e.getBoundingClientRect().right > 391).slice(-5).map(
            e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right))""")
        assert width <= 390, (url, width, wide)
    phone.screenshot(path=str(tmp_path / "outcome-thread-phone.png"), full_page=True)
    phone.context.close()

    # Undo from the flash: the won thread comes back to the queue at once.
    rep.goto(f"{server}/threads/{thread_slug(won.quote_message_id)}")
    rep.click("#unmark")
    rep.wait_for_selector(".flash.ok")
    rep.goto(f"{server}/followups")
    ids = rep.eval_on_selector_all(".qitem", "els => els.map(e => +e.dataset.id)")
    assert row_of[won.quote_message_id].id in ids
    rep.context.close()
    manager.context.close()
