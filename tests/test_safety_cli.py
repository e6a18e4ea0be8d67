"""Safety and recovery on the command line (issue 14, item 3): ``demo`` never writes over
a folder it did not create, a protocol step naming a missing template stops every command
that plans, a held follow-up is planned again once its cause is gone, and ``run --once``
without a digest sender warns and carries on. The installed ``followup`` script in a
subprocess, on real folders and SQLite files."""

from __future__ import annotations

from pathlib import Path

from assistant.demo.pipeline import DEMO_MARKER
from tests.test_pipeline import run


def test_demo_refuses_a_folder_holding_files_it_did_not_create(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "settings.toml").write_text("[company]\nname = \"Mine\"\n", encoding="utf-8")
    (folder / "notes.txt").write_text("my notes", encoding="utf-8")
    result = run("demo", "--dir", str(folder))
    assert result.returncode == 2
    assert str(folder) in result.stderr
    assert "notes.txt" in result.stderr and "settings.toml" in result.stderr
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    # nothing touched
    assert (folder / "settings.toml").read_text(encoding="utf-8") == "[company]\nname = \"Mine\"\n"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "settings.toml"]


def test_demo_reuses_its_own_folder_and_refuses_once_the_user_adds_a_file(tmp_path):
    folder = tmp_path / "demo"
    first = run("demo", "--dir", str(folder))
    assert first.returncode == 0, first.stderr
    assert (folder / DEMO_MARKER).is_file()
    again = run("demo", "--dir", str(folder))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("synced") == first.stdout.count("synced")
    (folder / "quotes.xlsx").write_bytes(b"PK\x03\x04")
    refused = run("demo", "--dir", str(folder))
    assert refused.returncode == 2 and "quotes.xlsx" in refused.stderr
    assert "settings.toml" not in refused.stderr.split("(", 1)[1].split(")", 1)[0]
    assert (folder / "quotes.xlsx").read_bytes() == b"PK\x03\x04"


def test_demo_force_writes_into_a_used_folder(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes", encoding="utf-8")
    result = run("demo", "--dir", str(folder), "--force")
    assert result.returncode == 0, result.stderr
    assert (folder / "settings.toml").is_file() and (folder / "notes.txt").is_file()


def test_demo_refuses_a_file_in_place_of_its_folder(tmp_path):
    target = tmp_path / "demo"
    target.write_text("x", encoding="utf-8")
    result = run("demo", "--dir", str(target))
    assert result.returncode == 2, result.stderr
    assert target.read_text(encoding="utf-8") == "x"
