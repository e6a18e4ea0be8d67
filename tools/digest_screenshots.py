"""Screenshots of the weekly digest (and a rep's morning list) as a mail client shows
them, rendered by Chromium at desktop (1280 px) and phone (390 px) widths, in Spanish and
English, into docs/screenshots/. A script, not a test: ``make screenshots``.

The sample team (``assistant.demo.sample``) is generated in a temporary folder, synced
and planned at its own ``now``; ``web.base_url`` is set so the threads show as links.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": (1280, 3000), "phone": (390, 5600)}


def shoot(html_file: Path, png: Path, width: int, height: int) -> None:
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--force-device-scale-factor=1", f"--window-size={width},{height}",
                    f"--screenshot={png}", html_file.as_uri()],
                   check=True, capture_output=True, timeout=120)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from assistant.demo.sample import generate_sample
    from assistant.services import digest as D, morning as MO
    from assistant.services.planning import plan
    from assistant.services.scan import open_store
    from assistant.services.sync import sync
    from assistant.settings import load_settings

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        info = generate_sample(folder)
        text = info.settings_path.read_text(encoding="utf-8")
        info.settings_path.write_text(text.replace(
            "[storage]", '[web]\nbase_url = "https://followup.aceros.example"\n\n[storage]'),
            encoding="utf-8")
        settings = load_settings(info.settings_path, environ={})
        engine = open_store(settings)
        sync(settings, engine)
        plan(settings, engine, info.now)
        [digest] = D.build_digests(settings, engine, info.now)
        pages = {}
        for language in ("es", "en"):
            rendered = D.render(settings, digest.recipient, digest.current, digest.previous,
                                language=language)
            pages[f"digest-{language}"] = rendered.html
        [ana] = [m for m in MO.build_lists(settings, engine, info.now) if m.email.startswith("ana@")]
        pages["morning-es"] = ana.html
        written = []
        for name, html in pages.items():
            source = folder / f"{name}.html"
            source.write_text(html, encoding="utf-8")
            for size, (width, height) in SIZES.items():
                if name.startswith("morning"):
                    height = 1800 if size == "desktop" else 2600
                png = OUT / f"{name}-{size}.png"
                shoot(source, png, width, height)
                written.append(png)
        engine.dispose()
    for png in written:
        print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
