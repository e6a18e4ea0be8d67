"""The same team through every door (issue 13, "done when"): the worked example with its
replies spread over Inbox subfolders and Archive, served by the Graph fake and by the
Gmail fake, gives exactly the `scan --json` of the plain Maildir import."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.test_cloud_connectors import Provider
from tests.test_pipeline import NOW, run

MEMBERS = ("camila", "jorge")


def spread_replies(maildir: Path) -> int:
    """Move every reply of the Inbox (In-Reply-To set) into ``.Inbox.Clientes`` or
    ``.Archive`` (Maildir++ folders), alternately, as mail rules would; how many moved."""
    from tests.fakes._common import headers_of

    moved = 0
    for sub in ("cur", "new"):
        for path in sorted((maildir / sub).glob("*")) if (maildir / sub).is_dir() else []:
            if not headers_of(path.read_bytes()).get("In-Reply-To"):
                continue
            target = maildir / (".Inbox.Clientes" if moved % 2 == 0 else ".Archive")
            for folder in ("cur", "new", "tmp"):
                (target / folder).mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), target / sub / path.name)
            moved += 1
    return moved


def scan_json(settings: Path, env: dict) -> dict:
    done = run("--config", str(settings), "sync", env=env)
    assert done.returncode == 0, done.stderr
    scan = run("--config", str(settings), "scan", "--now", NOW, "--json", env=env)
    assert scan.returncode == 0, scan.stderr
    return json.loads(scan.stdout)


def test_a_team_spread_over_folders_scans_the_same_through_graph_gmail_and_maildir(basic_team, tmp_path,
                                                                                  monkeypatch):
    expected = scan_json(basic_team / "settings.toml", {})
    assert expected["threads"]
    original = (basic_team / "settings.toml").read_text(encoding="utf-8")
    for kind in ("outlook", "gmail"):
        team = tmp_path / kind
        shutil.copytree(basic_team, team, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
        moved = sum(spread_replies(team / "mail" / name) for name in MEMBERS)
        assert moved >= 2
        fakes, env, text = [], {}, original
        try:
            for name in MEMBERS:
                (tmp_path / f"{kind}-{name}").mkdir()
                p = Provider(kind, tmp_path / f"{kind}-{name}", monkeypatch, maildir=team / "mail" / name)
                fakes.append(p.fake)
                text = text.replace(f'kind = "maildir"\npath = "mail/{name}"',
                                    f'kind = "{kind}"\noauth = "{p.token}"\nhost = "{p.fake.url}"\nsync_days = 0')
            (team / "settings.toml").write_text(text, encoding="utf-8")
            if kind == "outlook":  # each fake has its own certificate: trust both
                bundle = tmp_path / "ca.pem"
                bundle.write_text("".join(Path(f.ca_file).read_text() for f in fakes))
                env["REQUESTS_CA_BUNDLE"] = str(bundle)
            got = scan_json(team / "settings.toml", env)
            assert got == expected, kind
            if kind == "outlook":  # the replies were read from the subfolders
                assert any(f.requests(r"mailFolders/AQMk[0-9a-f]+/messages/delta") for f in fakes)
        finally:
            for f in fakes:
                f.stop()
