"""No page of the web app scrolls sideways (issue 14, item 7): every GET page of Flask's
url_map, with sample ids, for a rep, a manager-admin and an SDR, at 390 px (a phone) and
1280 px (a laptop), in Chromium -- ``document.scrollingElement.scrollWidth`` never wider
than the window. Harness: tests/test_web_browser.py."""

from __future__ import annotations

import re

from assistant.web.services import thread_slug
from tests.test_web_browser import _sign_in, browser, server  # noqa: F401  (fixtures)
from tests.webapp import MANAGER, REP, SDR, web, web_template  # noqa: F401

WIDTHS = (390, 1280)
_ARG = re.compile(r"<(?:\w+:)?(\w+)>")


def page_urls(web) -> list[str]:
    """Every GET route of the app, its ``<args>`` filled with ids of the sample team."""
    from assistant.services.review import list_followups

    rows = list_followups(web.engine)
    held = next((r for r in rows if r.status == "held"), rows[0])
    # the thread with the longest contact address: the one most likely to overflow
    threads = sorted(web.app.extensions["followup"].threads(web.now),
                     key=lambda r: -len(r.contact or ""))
    sample = {"fid": str(held.id), "slug": thread_slug(threads[0].quote_message_id),
              "name": "followup_1", "language": "es"}
    urls = []
    for rule in web.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        urls.append(_ARG.sub(lambda m: sample[m.group(1)], rule.rule))
    return sorted(set(urls))


def test_no_page_scrolls_sideways_at_390_and_1280_px_for_any_role(browser, server, web):
    urls = page_urls(web)
    assert {"/followups", "/team", "/admin/settings", "/admin/templates"} <= set(urls), urls
    wide = []
    for email in (REP, MANAGER, SDR):
        for width in WIDTHS:
            page = _sign_in(browser, server, email, mobile=width == 390)
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_load_state()
            for url in urls:
                page.goto(server + url)
                scroll, inner = page.evaluate(
                    "[document.scrollingElement.scrollWidth, window.innerWidth]")
                if scroll > inner:
                    wide.append((email, width, url, scroll))
            page.context.close()
    assert not wide, "\n".join(map(str, wide))
