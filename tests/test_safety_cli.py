"""Safety and recovery on the command line (issue 14, item 3): ``demo`` never writes over
a folder it did not create, a protocol step naming a missing template stops every command
that plans, a held follow-up is planned again once its cause is gone, and ``run --once``
without a digest sender warns and carries on. The installed ``followup`` script in a
subprocess, on real folders and SQLite files."""

from __future__ import annotations

import json
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
    own = folder / "mail" / "pedro" / "cur"  # a mailbox the sample does not name
    own.mkdir(parents=True)
    (own / "1.eml").write_bytes(b"Subject: mine\n\nhola\n")
    result = run("demo", "--dir", str(folder), "--force")
    assert result.returncode == 0, result.stderr
    assert (folder / "settings.toml").is_file() and (folder / "notes.txt").is_file()
    assert (own / "1.eml").read_bytes() == b"Subject: mine\n\nhola\n"
    assert (folder / "mail" / "ana" / "cur").is_dir()
    again = run("demo", "--dir", str(folder), "--force")  # its own mailboxes written anew
    assert again.returncode == 0 and (own / "1.eml").exists()


def test_demo_refuses_a_file_in_place_of_its_folder(tmp_path):
    target = tmp_path / "demo"
    target.write_text("x", encoding="utf-8")
    result = run("demo", "--dir", str(target))
    assert result.returncode == 2, result.stderr
    assert target.read_text(encoding="utf-8") == "x"


# --- Template names checked before planning; held follow-ups planned again ---------------

NOW = "2026-11-26T16:00:00-06:00"


def sample_team(tmp_path: Path) -> Path:
    from assistant.demo.sample import generate_sample

    root = tmp_path / "team"
    generate_sample(root)
    # these tests read the CLI's lines in English (team.language; the default is Spanish)
    edit_settings(root, "[team]\n", '[team]\nlanguage = "en"\n')
    assert run("--config", str(root / "settings.toml"), "sync").returncode == 0
    return root


def edit_settings(root: Path, old: str, new: str) -> None:
    path = root / "settings.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_step_naming_a_missing_template_stops_plan_serve_and_run(tmp_path):
    root = sample_team(tmp_path)
    edit_settings(root, 'template = "call_1"', 'template = "cal_1"')
    config = str(root / "settings.toml")
    for args in (("drafts", "plan", "--now", NOW), ("run", "--once", "--now", NOW),
                 ("serve", "--port", "1")):
        result = run("--config", config, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        err = result.stderr
        assert "protocol.steps[2] (step 2, call)" in err and "'cal_1'" in err, err
        assert config in err and "call_1" in err and "followup_1" in err  # what exists
        assert "Traceback" not in err
    # nothing was planned
    listed = run("--config", config, "drafts", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == {"followups": []}


def test_saving_the_missing_template_is_allowed_and_then_planning_runs(tmp_path):
    root = sample_team(tmp_path)
    edit_settings(root, 'template = "call_1"', 'template = "llamada_1"')
    config = str(root / "settings.toml")
    text = root / "llamada.txt"
    text.write_text("Subject: Llamar a {{ contact.name }}\n\nPreguntar por {{ quote.subject }}.\n",
                    encoding="utf-8")
    saved = run("--config", config, "templates", "save", "llamada_1", str(text), "--lang", "es",
                "--author", "marta@aceros.example")
    assert saved.returncode == 0, saved.stderr
    planned = run("--config", config, "drafts", "plan", "--now", NOW)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.startswith("Planned ")


def test_a_follow_up_held_for_a_missing_mailbox_is_planned_once_the_mailbox_is_added(tmp_path):
    root = sample_team(tmp_path)
    config = str(root / "settings.toml")
    edit_settings(root, 'owner = "luis@aceros.example"\n', "")
    first = run("--config", config, "drafts", "plan", "--now", NOW)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    held_lines = [line for line in lines if line.startswith("  held #")]
    assert lines[0].startswith("Planned ") and lines[0].endswith(":"), first.stdout
    assert any("no mailbox for luis@aceros.example" in line for line in held_lines), first.stdout
    luis_ids = {int(line.split("#")[1].split(":")[0]) for line in held_lines
                if "no mailbox for luis@aceros.example" in line}
    edit_settings(root, 'path = "mail/luis"\n', 'path = "mail/luis"\nowner = "luis@aceros.example"\n')
    second = run("--config", config, "drafts", "plan", "--now", NOW)
    assert second.returncode == 0, second.stderr
    assert f"({len(luis_ids)} of them held before, now ready)" in second.stdout, second.stdout
    assert "no mailbox" not in second.stdout
    rows = {r["id"]: r for r in json.loads(run("--config", config, "drafts", "list",
                                                "--json").stdout)["followups"]}
    for fid in luis_ids:  # the same follow-up, now drafted in Luis's mailbox
        assert rows[fid]["status"] == "drafted" and rows[fid]["hold_reason"] is None
    drafts = list((root / "mail" / "luis" / ".Drafts").rglob("*.aceros*")) or \
        [p for p in (root / "mail" / "luis" / ".Drafts").rglob("*") if p.is_file()]
    assert len(drafts) >= len([f for f in luis_ids if rows[f]["channel"] == "email"])
    third = run("--config", config, "drafts", "plan", "--now", NOW)
    assert third.stdout.startswith("Planned 0 follow-ups"), third.stdout


# --- run --once with no way to send the digest --------------------------------------------

MONDAY = "2026-11-30T09:30:00-06:00"  # the digest's slot (08:00) and the plan's (09:00) passed


def test_run_once_without_a_digest_sender_warns_in_one_line_and_still_syncs_and_plans(tmp_path):
    from tests.test_digest import Inbox, _free_port
    from aiosmtpd.controller import Controller

    root = sample_team(tmp_path)
    config = str(root / "settings.toml")
    for tick in range(2):  # every tick, the same one line (the day's plan runs once)
        result = run("--config", config, "run", "--once", "--now", MONDAY)
        assert result.returncode == 0, result.stderr
        # the morning lists go out through the same sender: skipped too, under the same warning
        assert result.stdout.splitlines() == ["sync: done"] + ["plan: done"] * (tick == 0) + [
            "morning: skipped (see the warning above)", "digest: skipped (see the warning above)"]
        warnings = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(warnings) == 1 and "digest skipped" in warnings[0], result.stderr
        assert "[digest.smtp]" in warnings[0] and config in warnings[0]
        assert "Traceback" not in result.stderr
    listed = json.loads(run("--config", config, "drafts", "list", "--json").stdout)["followups"]
    assert listed  # the plan ran
    # once a sender is configured, the next tick sends this week's digest
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        edit_settings(root, "[storage]", f'[digest.smtp]\nhost = "127.0.0.1"\n'
                      f'port = {controller.port}\nsecurity = "none"\n\n[storage]')
        sent = run("--config", config, "run", "--once", "--now", MONDAY)
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stderr
    assert "digest: done" in sent.stdout and "morning: done" in sent.stdout
    # the skipped ticks claimed nothing: the day's morning lists (one per rep with due
    # follow-ups) and the week's digest (the manager) all go out at the first tick that can
    received = [e.rcpt_tos for e in inbox.envelopes]
    assert received[-1] == ["marta@aceros.example"]  # the digest, after the morning lists
    reps = {rcpt for rcpts in received[:-1] for rcpt in rcpts}
    assert reps and all(len(r) == 1 for r in received) and len(received[:-1]) == len(reps)
    assert reps <= {f["assignee"] for f in listed}


def test_a_missing_database_file_is_refused_not_made_anew_empty(tmp_path):
    """A moved database or a typo in storage.url: a command that reads the team's data
    says where it looked and what to do (exit 1) and creates nothing -- a new empty file
    would forget every mark, snooze and logged answer, and the next plan would chase the
    clients again. ``sync`` creates it."""
    root = sample_team(tmp_path)
    config = str(root / "settings.toml")
    (root / "followup.db").rename(root / "moved.db")
    for command in (["scan"], ["drafts", "list"], ["drafts", "plan", "--now", NOW], ["digest"],
                    ["mark", "abcdefg", "won"]):
        result = run("--config", config, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert f"no database at {root / 'followup.db'}" in result.stderr and "followup sync" in result.stderr
        assert not (root / "followup.db").exists(), command
    assert run("--config", config, "sync").returncode == 0
    assert (root / "followup.db").exists()
    assert run("--config", config, "scan", "--now", NOW).returncode == 0


def test_an_empty_database_file_is_refused_as_a_missing_one_is(tmp_path):
    """A database file of 0 bytes (a copy that failed, a `touch`): SQLite would take it as a
    new database and the command would set it up empty, every mark forgotten. Refused
    with exit 1 and left as it is; ``sync`` builds it from the mail."""
    root = sample_team(tmp_path)
    config = str(root / "settings.toml")
    db = root / "followup.db"
    db.unlink()
    db.write_bytes(b"")
    for command in (["scan"], ["drafts", "list"]):
        result = run("--config", config, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert f"the database file {db} is empty (0 bytes)" in result.stderr, result.stderr
        assert db.stat().st_size == 0, command
    assert run("--config", config, "sync").returncode == 0
    assert db.stat().st_size > 0
    assert run("--config", config, "scan", "--now", NOW).returncode == 0
