"""The held-out QA team (tests/fixtures/qa-real-team): 26 lead threads in the shapes real
clients write (Outlook, Gmail, Lotus Notes, exports without thread headers, colleagues'
replies, newsletters, holding replies, out-of-office return dates, relay receipts,
forwarded bounces), whose answer key an engineer derived by hand from DESIGN.md alone,
without reading the implementation. Synced and scanned through the real CLI, every field
of `scan --json` must match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.test_pipeline import assert_matches_expected, run

TEAM = Path(__file__).parent / "fixtures" / "qa-real-team"


def test_qa_real_team_scan_matches_the_hand_derived_answer_key(tmp_path):
    team = tmp_path / "team"
    shutil.copytree(TEAM, team, ignore=shutil.ignore_patterns("followup.db*"))
    for box in (team / "mail").iterdir():  # git keeps no empty Maildir folders
        for folder in [box, *(p for p in box.iterdir() if p.name.startswith("."))]:
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(exist_ok=True)
    expected = json.loads((TEAM / "expected.json").read_text(encoding="utf-8"))
    settings = str(team / "settings.toml")
    synced = run("--config", settings, "sync")
    assert synced.returncode == 0, synced.stderr
    scan = run("--config", settings, "scan", "--now", expected["now"], "--json")
    assert scan.returncode == 0, scan.stderr
    assert_matches_expected(json.loads(scan.stdout), expected)
