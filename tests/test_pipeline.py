"""The whole pipeline as a user runs it: `followup sync` then `followup scan --json`,
through the installed console script, on real Maildir folders and a real database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

FOLLOWUP = str(Path(sys.executable).with_name("followup"))
NOW = "2026-12-10T20:00:00+00:00"


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FOLLOWUP_CONFIG", None)
    if env is None or "FOLLOWUP_DATABASE_URL" not in env:
        full_env.pop("FOLLOWUP_DATABASE_URL", None)
    return subprocess.run([FOLLOWUP, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)


def assert_matches_expected(got: dict, expected: dict) -> None:
    """Field by field; times compared as instants, owner_candidates as a set."""
    assert datetime.fromisoformat(got["now"]) == datetime.fromisoformat(expected["now"])
    by_id = {t["quote_message_id"]: t for t in got["threads"]}
    assert set(by_id) == {t["quote_message_id"] for t in expected["threads"]}
    for want in expected["threads"]:
        have = by_id[want["quote_message_id"]]
        for key, value in want.items():
            if key == "owner_candidates":
                assert set(have[key]) == set(value), (want["subject"], key)
            elif key == "next_step" and value is not None:
                assert have[key] is not None, (want["subject"], key)
                assert have[key]["number"] == value["number"]
                assert have[key]["channel"] == value["channel"]
                assert (datetime.fromisoformat(have[key]["due_at"])
                        == datetime.fromisoformat(value["due_at"])), want["subject"]
            elif key.endswith("_at") and value is not None:
                assert datetime.fromisoformat(have[key]) == datetime.fromisoformat(value), key
            else:
                assert have[key] == value, (want["subject"], key, have[key], value)


def test_worked_example_sync_then_scan_matches_expected_json(basic_team):
    settings = basic_team / "settings.toml"
    first = run("--config", str(settings), "sync")
    assert first.returncode == 0, first.stderr
    assert "camila: leídos 8, nuevos 8" in first.stdout and "jorge: leídos 2, nuevos 2" in first.stdout
    scan = run("--config", str(settings), "scan", "--now", NOW, "--json")
    assert scan.returncode == 0, scan.stderr
    got = json.loads(scan.stdout)
    expected = json.loads((basic_team / "expected.json").read_text())
    assert_matches_expected(got, expected)
    for thread in got["threads"]:  # the contract's extra field
        assert "last_outbound_at" in thread
    assert (basic_team / "followup.db").exists()  # relative SQLite path: next to settings


def test_second_sync_reads_nothing_and_scan_is_unchanged(basic_team):
    settings = str(basic_team / "settings.toml")
    assert run("--config", settings, "sync").returncode == 0
    before = run("--config", settings, "scan", "--now", NOW, "--json").stdout
    again = run("--config", settings, "sync")
    assert "camila: leídos 0, nuevos 0" in again.stdout
    assert run("--config", settings, "scan", "--now", NOW, "--json").stdout == before


def test_new_mail_between_syncs_changes_the_answer(basic_team):
    settings = str(basic_team / "settings.toml")
    run("--config", settings, "sync")
    reply = (b"From: Beatriz <beatriz@dos.example>\nTo: camila@andina.example\n"
             b"Subject: Re: Presupuesto herrajes\nDate: Thu, 10 Dec 2026 08:00:00 -0500\n"
             b"Message-ID: <new-reply@dos.example>\n"
             b"In-Reply-To: <179586352451.22711.7174246281855257163@andina.example>\n\n"
             b"Gracias, \xc2\xbfel precio incluye IVA?\n")
    (basic_team / "mail" / "camila" / "new" / "1800000000.new1.host").write_bytes(reply)
    out = run("--config", settings, "sync")
    assert "camila: leídos 1, nuevos 1" in out.stdout
    got = json.loads(run("--config", settings, "scan", "--now", NOW, "--json").stdout)
    beatriz = next(t for t in got["threads"] if t["contact"] == "beatriz@dos.example")
    assert beatriz["status"] == "awaiting_us"


@pytest.mark.postgres
def test_worked_example_on_postgresql(basic_team, postgres_url):
    settings = str(basic_team / "settings.toml")
    env = {"FOLLOWUP_DATABASE_URL": postgres_url}
    assert run("--config", settings, "sync", env=env).returncode == 0
    scan = run("--config", settings, "scan", "--now", NOW, "--json", env=env)
    assert scan.returncode == 0, scan.stderr
    assert_matches_expected(json.loads(scan.stdout), json.loads((basic_team / "expected.json").read_text()))
    assert not (basic_team / "followup.db").exists()  # the override was used


def test_invalid_settings_exit_2_naming_key_file_and_fix(tmp_path):
    bad = tmp_path / "settings.toml"
    text = (Path(__file__).parent / "fixtures/examples/basic-team/settings.toml").read_text()
    bad.write_text(text.replace('timezone = "America/Bogota"', 'timezone = "America/Bogata"'))
    result = run("--config", str(bad), "scan")
    assert result.returncode == 2
    assert "team.timezone" in result.stderr and str(bad) in result.stderr.replace("\n", "")
    assert "Fix:" in result.stderr


def test_missing_settings_file_says_run_init(tmp_path):
    result = run("scan", cwd=tmp_path)
    assert result.returncode == 2 and "followup init" in result.stderr


def test_init_writes_a_starter_that_loads_and_creates_the_database(tmp_path):
    result = run("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "settings.toml").exists() and (tmp_path / "followup.db").exists()
    assert run("init", cwd=tmp_path).returncode == 1  # never overwrites silently
    assert run("scan", "--json", cwd=tmp_path).returncode == 0
    # --force starts over and keeps what the person wrote, each time in a file of its own
    settings = tmp_path / "settings.toml"
    for n, backup in ((1, "settings.toml.bak"), (2, "settings.toml.bak2")):
        settings.write_text(settings.read_text(encoding="utf-8") + f"# edited {n}\n", encoding="utf-8")
        edited = settings.read_text(encoding="utf-8")
        forced = run("init", "--force", cwd=tmp_path)
        assert forced.returncode == 0 and backup in forced.stdout, forced.stdout
        assert (tmp_path / backup).read_text(encoding="utf-8") == edited
        assert "# edited" not in settings.read_text(encoding="utf-8")


def test_starter_settings_is_the_documented_root_example():
    root = Path(__file__).parents[1]
    assert (root / "settings.toml").read_text() == (root / "assistant/data/settings.toml").read_text()


def test_the_readme_lists_every_command():
    from assistant.cli import main

    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    # A command starts its line, or follows " | " on it ("mark THREAD --undo | unmark THREAD").
    listed = {part.split()[0] for line in lines for part in line.split(" | ") if part.strip()}
    listed &= set(main.commands) | {line.split()[0] for line in lines}
    assert set(main.commands) - listed == set(), "commands missing from the README"
    assert listed - set(main.commands) == set(), "the README lists commands that do not exist"


def test_dead_account_is_reported_and_the_others_sync(basic_team):
    shutil.rmtree(basic_team / "mail" / "jorge")
    result = run("--config", str(basic_team / "settings.toml"), "sync")
    assert result.returncode == 1
    assert "camila: leídos 8, nuevos 8" in result.stdout  # team.language: es by default
    assert "jorge: FALLÓ" in result.stdout and "mail/jorge" in result.stdout


def test_sync_one_account(basic_team):
    result = run("--config", str(basic_team / "settings.toml"), "sync", "--account", "jorge")
    assert result.returncode == 0 and "jorge: leídos 2" in result.stdout and "camila" not in result.stdout
    unknown = run("--config", str(basic_team / "settings.toml"), "sync", "--account", "nadie")
    assert unknown.returncode == 2 and "camila, jorge" in unknown.stderr


def test_human_scan_groups_by_status(basic_team):
    settings = str(basic_team / "settings.toml")
    run("--config", settings, "sync")
    out = run("--config", settings, "scan", "--now", NOW).stdout
    # team.language: the settings name none, so digest.language's default, es
    assert out.index("Sin respuesta —") < out.index("En espera —") < out.index("Cerradas")
    assert "Propuesta suministro anual" in out
    # second edition: the holding reply and the out-of-office say why they wait (rule 11)
    assert "Nos toca —" not in out
    assert "prometido: vie 11 dic" in out and "de regreso el mar 15 dic" in out


def test_inspect_works_without_settings(tmp_path, basic_team):
    ooo = next((basic_team / "mail" / "camila" / "cur").glob("*Q6*"))
    quote = next((basic_team / "mail" / "camila" / "new").glob("*Q1*"))
    result = run("inspect", str(ooo), str(quote), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    messages = json.loads(result.stdout)["messages"]
    assert [m["kind"] for m in messages] == ["auto_reply", "message"]
    assert [m["is_quote"] for m in messages] == [False, True]
    assert messages[1]["language"] == "es"
    assert set(messages[0]) == {"file", "message_id", "kind", "bounced_recipients",
                                "bounce_permanent", "is_quote", "language", "warnings"}


def test_inspect_unreadable_file_gets_kind_null_and_a_warning(tmp_path):
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    result = run("inspect", str(tmp_path / "empty.eml"), str(tmp_path / "binary.bin"),
                 str(tmp_path / "missing.eml"), "--json", cwd=tmp_path)
    messages = json.loads(result.stdout)["messages"]
    assert [m["kind"] for m in messages] == [None, None, None]
    assert all(m["warnings"] for m in messages)
    assert result.returncode == 1


def test_demo_runs_twice_from_scratch(tmp_path):
    for _ in range(2):
        result = run("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Sincronizado ana: leídos" in result.stdout
        assert "nuevos 0" not in result.stdout.split("Sincronizado ana")[1].split("\n")[0]
        assert "Sin respuesta —" in result.stdout and "Agotada —" in result.stdout


def _as_mbox_and_eml(basic_team: Path) -> None:
    """Rewrite the example's accounts: camila as an mbox file (cut mid-message at the
    end, like an interrupted export), jorge as a folder of .eml files."""
    def messages(account: str) -> list[Path]:
        folder = basic_team / "mail" / account
        return sorted([*folder.glob("cur/*"), *folder.glob("new/*")])

    camila = messages("camila")
    with open(basic_team / "camila.mbox", "wb") as mbox:
        for path in camila:
            data = path.read_bytes().replace(b"\nFrom ", b"\n>From ")
            mbox.write(b"From camila@andina.example Thu Dec 10 00:00:00 2026\n" + data + b"\n")
        mbox.write(b"From x@y Thu Dec 10 00:00:00 2026\nFrom: cut@exa")  # truncated export
    eml = basic_team / "jorge-eml" / "2026"
    eml.mkdir(parents=True)
    for n, path in enumerate(messages("jorge")):
        (eml / f"{n}.eml").write_bytes(path.read_bytes())
    settings = basic_team / "settings.toml"
    text = settings.read_text()
    text = text.replace('kind = "maildir"\npath = "mail/camila"', 'kind = "mbox"\npath = "camila.mbox"')
    text = text.replace('kind = "maildir"\npath = "mail/jorge"', 'kind = "eml"\npath = "jorge-eml"')
    settings.write_text(text)


def test_same_mail_as_mbox_and_eml_folder_gives_the_same_scan(basic_team):
    _as_mbox_and_eml(basic_team)
    settings = str(basic_team / "settings.toml")
    first = run("--config", settings, "sync")
    assert first.returncode == 0, first.stderr
    assert "camila: leídos 9" in first.stdout and "con avisos al leerlos 1" in first.stdout
    got = json.loads(run("--config", settings, "scan", "--now", NOW, "--json").stdout)
    assert_matches_expected(got, json.loads((basic_team / "expected.json").read_text()))
    again = run("--config", settings, "sync")
    assert "camila: leídos 0" in again.stdout and "jorge: leídos 0" in again.stdout


def test_an_unreadable_mail_folder_is_reported_and_the_other_accounts_sync(basic_team):
    # A Maildir++ subfolder that cannot be listed (here a symlink loop, since tests may
    # run as root): camila is reported as needing attention, jorge still syncs.
    archive = basic_team / "mail" / "camila" / ".Archive"
    (archive / "new").mkdir(parents=True)
    (archive / "cur").symlink_to(archive / "cur")
    result = run("--config", str(basic_team / "settings.toml"), "sync")
    assert result.returncode == 1
    assert "camila: FALLÓ" in result.stdout and "jorge: leídos 2, nuevos 2" in result.stdout
    assert "Traceback" not in result.stderr
    listing = run("--config", str(basic_team / "settings.toml"), "accounts", "list")
    assert "requiere atención" in listing.stdout  # the status, worded (needs_attention)


def test_a_password_in_the_database_url_query_is_refused_in_settings(basic_team):
    settings = basic_team / "settings.toml"
    settings.write_text(settings.read_text().replace(
        'url = "sqlite:///followup.db"', 'url = "postgresql://bob@db/f?password=hunter2"'))
    result = run("--config", str(settings), "scan")
    assert result.returncode == 2 and "storage.url" in result.stderr
    assert "FOLLOWUP_DATABASE_URL" in result.stderr


def test_a_step_naming_no_template_is_a_settings_error_counted_as_the_settings_are(tmp_path):
    from assistant.demo.sample import generate_sample

    info = generate_sample(tmp_path / "team")
    text = info.settings_path.read_text(encoding="utf-8")
    info.settings_path.write_text(text.replace('template = "followup_1"', 'template = "seguimiento_1"', 1),
                                  encoding="utf-8")
    assert run("--config", str(info.settings_path), "sync").returncode == 0
    refused = run("--config", str(info.settings_path), "drafts", "plan", "--now", info.now.isoformat())
    assert refused.returncode == 2
    # Steps count from 1 here as in every settings error (and the docs); the channel in words.
    assert "protocol.steps[1] (paso 1, correo)" in refused.stderr, refused.stderr
    assert "seguimiento_1" in refused.stderr and str(info.settings_path) in refused.stderr


def test_a_morning_with_nothing_due_says_when_in_the_teams_words(tmp_path):
    from assistant.demo.sample import generate_sample

    info = generate_sample(tmp_path / "team")
    config = str(info.settings_path)
    assert run("--config", config, "sync").returncode == 0  # nothing planned: nothing due
    quiet = run("--config", config, "morning", "--now", "2026-11-26T09:00:00-06:00")
    assert quiet.returncode == 0, quiet.stderr
    assert "Nadie tiene seguimientos pendientes para el jue 26 nov 09:00." in quiet.stdout
