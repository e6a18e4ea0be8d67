"""Screenshots of the web app for the docs (issue 14): the rep's queue, a thread page and
the manager's team page, at 1280 px (desktop) and 390 px (phone), in Spanish and English,
on the demo team at its own time.

A tool script, not a test or a benchmark: it writes the demo into a temporary folder,
serves the web app on 127.0.0.1 (werkzeug's server in a thread, a free port), signs in
with Chromium (Playwright's Python package driving ``/usr/bin/chromium``, as
tests/test_web_browser.py does) and saves full-page PNGs into ``docs/screenshots/``:
``<page>-<es|en>-<desktop|phone>.png``. Each page is checked for sideways scrolling too.

``python -m bench.screenshots [--out docs/screenshots]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"es": "es-MX", "en": "en-US"}
REP, MANAGER = "ana@aceros.example", "marta@aceros.example"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "screenshots"))
    options = parser.parse_args(argv)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)

    import logging

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request

    from assistant.demo import pipeline
    from assistant.web import create_app
    from assistant.web.services import thread_slug

    with tempfile.TemporaryDirectory() as tmp:
        done = pipeline.run(*pipeline.prepare(Path(tmp) / "demo"))
        now = done.info.now
        app = create_app(done.settings, done.app.engine, clock=lambda: now, secret="screenshots")
        # the thread page of the rep's first follow-up that waits for her
        mine = [f for f in done.followups if f.assignee == REP and f.status in ("drafted", "held")]
        slug = thread_slug(mine[0].quote_message_id)
        pages = {"queue": (REP, "/followups"), "thread": (REP, f"/threads/{slug}"),
                 "team": (MANAGER, "/team")}
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        serving = threading.Thread(target=httpd.serve_forever, daemon=True)
        serving.start()
        base = f"http://127.0.0.1:{httpd.server_port}"
        written, wide = [], []
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for language, locale in LOCALES.items():
                    for size_name, size in SIZES.items():
                        for who in (REP, MANAGER):
                            context = browser.new_context(viewport=size, locale=locale)
                            page = context.new_page()
                            page.goto(base + "/login")
                            page.fill("input[name=email]", who)
                            page.fill("input[name=password]", pipeline.DEMO_PASSWORD)
                            page.click("button[type=submit]")
                            page.wait_for_load_state()
                            for name, (email, url) in pages.items():
                                if email != who:
                                    continue
                                page.goto(base + url)
                                scroll, inner = page.evaluate(
                                    "[document.scrollingElement.scrollWidth, window.innerWidth]")
                                if scroll > inner:
                                    wide.append(f"{name} {language} {size_name}: {scroll} > {inner}")
                                path = out / f"{name}-{language}-{size_name}.png"
                                page.screenshot(path=str(path), full_page=True)
                                written.append(path)
                            context.close()
                browser.close()
        finally:
            httpd.shutdown()
            serving.join(5)
            done.app.engine.dispose()
    for path in sorted(written):
        print(path)
    for line in wide:
        print(f"OVERFLOW {line}", file=sys.stderr)
    return 1 if wide else 0


if __name__ == "__main__":
    sys.exit(main())
