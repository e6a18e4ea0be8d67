"""`followup mark | unmark | snooze | reply` by short thread id, as a rep runs them: the
installed script in a subprocess, on the demo team's real Maildir folders and SQLite file;
each change read back through `scan --json` and `drafts list --json`."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from assistant.domain.ids import thread_digest
from tests.test_followups_cli import cli, listed, make_demo

NOW = "2026-11-26T16:00:00-06:00"
LATER = "2026-11-26T16:30:00-06:00"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    folder = make_demo(tmp_path_factory, "outcomes-cli")[0]
    # these tests read the CLI's lines in English (team.language; the default is Spanish)
    config = folder / "settings.toml"
    text = config.read_text(encoding="utf-8")
    assert "[team]\n" in text
    config.write_text(text.replace("[team]\n", '[team]\nlanguage = "en"\n', 1), encoding="utf-8")
    return folder


@pytest.fixture
def demo(demo_template, tmp_path):
    """A copy of the demo team per test (paths in settings.toml are relative)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template, folder)
    return folder


def scanned(folder) -> dict[str, dict]:
    result = cli(folder, "scan", "--now", NOW, "--json")
    assert result.returncode == 0, result.stderr
    return {t["thread_id"]: t for t in json.loads(result.stdout)["threads"]}


def drafted(folder) -> tuple[dict, dict]:
    """A drafted follow-up and its thread (by short id)."""
    threads = scanned(folder)
    row = next(r for r in listed(folder) if r["status"] == "drafted" and r["channel"] == "email")
    return row, threads[row["thread_id"]]


def test_every_table_and_json_shows_the_short_id_and_touch_takes_it(demo):
    threads = scanned(demo)
    assert len(threads) > 10
    for short, thread in threads.items():
        assert re.fullmatch(r"[a-z2-7]{7,16}", short)
        assert thread_digest(thread["quote_message_id"]).startswith(short)
        assert list(thread)[:2] == ["thread_id", "quote_message_id"]  # every old field kept
        assert {"subject", "status", "owner", "next_step", "promised_date"} <= set(thread)
    table = cli(demo, "scan", "--now", NOW)
    assert all(short in table.stdout for short in threads)
    rows = listed(demo)
    assert all(r["thread_id"] in threads for r in rows)
    listing = cli(demo, "drafts", "list")
    assert "Thread" in listing.stdout and rows[0]["thread_id"] in listing.stdout
    call = next(r for r in rows if r["channel"] == "phone" and r["status"] == "drafted")
    touched = cli(demo, "touch", call["thread_id"], "--channel", "phone", "--now", NOW)
    assert touched.returncode == 0 and "follow-ups done: 1" in touched.stdout


def test_mark_won_by_short_id_closes_the_thread_and_undo_puts_it_back(demo):
    row, thread = drafted(demo)
    short = row["thread_id"]
    won = cli(demo, "mark", short, "won", "--reason", "Firmó por teléfono", "--by",
              "ana@aceros.example", "--now", NOW)
    assert won.returncode == 0, won.stderr
    assert f"({short}) marked won" in won.stdout and "Pending follow-ups cancelled: 1" in won.stdout
    after = scanned(demo)[short]
    assert after["status"] == "closed" and after["next_step"] is None
    assert {r["id"]: r["status"] for r in listed(demo)}[row["id"]] == "cancelled"
    # A longer prefix and the full Message-ID name the same thread.
    lost = cli(demo, "mark", thread_digest(thread["quote_message_id"])[:12], "lost", "--now", LATER)
    assert lost.returncode == 0 and "marked lost" in lost.stdout
    assert cli(demo, "mark", thread["quote_message_id"], "--undo", "--now", LATER).returncode == 0
    assert scanned(demo)[short]["status"] == "closed"  # the older mark (won) applies again
    undone = cli(demo, "unmark", short, "--now", LATER)
    assert undone.returncode == 0 and "Follow-ups back in the queue: 1" in undone.stdout
    assert scanned(demo)[short]["status"] == thread["status"]
    assert {r["id"]: r["status"] for r in listed(demo)}[row["id"]] == "drafted"
    again = cli(demo, "unmark", short, "--now", LATER)
    assert again.returncode == 1 and "has no mark to undo" in again.stderr


def test_reply_by_phone_is_a_real_reply_at_that_time_and_can_be_undone(demo):
    row, thread = drafted(demo)
    short = row["thread_id"]
    done = cli(demo, "reply", short, "--channel", "phone", "--note", "Pide precio con flete",
               "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "the client is waiting on us" in done.stdout
    after = scanned(demo)[short]
    assert after["status"] == "awaiting_us" and after["next_step"] is None
    assert after["last_reply_at"] == NOW and after["touches"] == 0
    assert {r["id"]: r["status"] for r in listed(demo)}[row["id"]] == "cancelled"
    snooze = cli(demo, "snooze", short, "--until", "2027-01-15", "--now", NOW)
    assert snooze.returncode == 1 and "no follow-up to snooze: it is waiting on us" in snooze.stderr
    undone = cli(demo, "reply", short, "--undo", "--now", LATER)
    assert undone.returncode == 0 and "Answer by phone undone" in undone.stdout
    assert scanned(demo)[short]["last_reply_at"] == thread["last_reply_at"]
    assert {r["id"]: r["status"] for r in listed(demo)}[row["id"]] == "drafted"


def test_snooze_until_a_day_moves_the_step_and_its_draft_and_undo_restores_them(demo):
    row, thread = drafted(demo)
    short = row["thread_id"]
    done = cli(demo, "snooze", short, "--until", "2027-01-16", "--now", NOW)  # a Saturday
    assert done.returncode == 0, done.stderr
    assert "snoozed until Sat 16 Jan: the next follow-up is due Mon 18 Jan 09:00" in done.stdout
    after = scanned(demo)[short]
    assert after["status"] == "waiting"
    assert after["next_step"]["due_at"] == "2027-01-18T09:00:00-06:00"
    assert after["promised_date"] is None  # rule 11's field is the client's promise only
    moved = next(r for r in listed(demo) if r["id"] == row["id"])
    assert moved["status"] == "drafted" and moved["due_at"] == "2027-01-18T09:00:00-06:00"
    table = cli(demo, "scan", "--now", NOW).stdout
    assert "snoozed until Sat 16 Jan" in table
    undone = cli(demo, "snooze", short, "--undo", "--now", LATER)
    assert undone.returncode == 0 and "Snooze undone" in undone.stdout
    assert scanned(demo)[short]["next_step"] == thread["next_step"]
    assert next(r for r in listed(demo) if r["id"] == row["id"])["due_at"] == row["due_at"]


def test_bad_ids_dates_and_usage_are_clear_errors_that_change_nothing(demo):
    before = scanned(demo)
    unknown = cli(demo, "mark", "zzzzzzz", "won", "--now", NOW)
    assert unknown.returncode == 1 and "no quote thread matches 'zzzzzzz'" in unknown.stderr
    shared = next(iter(before.values()))["quote_message_id"].strip("<>")[:3]
    ambiguous = cli(demo, "reply", shared, "--channel", "phone", "--now", NOW)
    assert ambiguous.returncode == 1 and "threads:" in ambiguous.stderr
    assert sum(short in ambiguous.stderr for short in before) >= 2  # the candidates, by id
    short = next(s for s, t in before.items() if t["status"] == "silent")
    bad_day = cli(demo, "snooze", short, "--until", "15/01/2027", "--now", NOW)
    # Not a date at all is a usage error, like a bad --now (exit 2); a real day that
    # cannot be used (in the past) is refused (exit 1).
    assert bad_day.returncode == 2 and "is not a date: write it as YYYY-MM-DD" in bad_day.stderr
    no_such_day = cli(demo, "snooze", short, "--until", "2027-02-30", "--now", NOW)
    assert no_such_day.returncode == 2 and "'2027-02-30' is not a date" in no_such_day.stderr
    past = cli(demo, "snooze", short, "--until", "2026-11-01", "--now", NOW)
    assert past.returncode == 1 and "is before today (Thu 26 Nov)" in past.stderr
    usage = cli(demo, "mark", short, "--now", NOW)
    assert usage.returncode == 2 and "give either won or lost, or --undo" in usage.stderr
    nothing = cli(demo, "snooze", short, "--undo", "--now", NOW)
    assert nothing.returncode == 1 and "has no snooze to undo" in nothing.stderr
    stranger = cli(demo, "mark", short, "lost", "--by", "pepe@otro.example", "--now", NOW)
    assert stranger.returncode == 2 and "ana@aceros.example" in stranger.stderr  # the team, listed
    touched = cli(demo, "touch", short, "--channel", "phone", "--by", "nadie", "--now", NOW)
    assert touched.returncode == 2 and "--by" in touched.stderr
    assert scanned(demo) == before


def test_the_outcome_commands_speak_the_teams_language(demo):
    """[team] language chooses the CLI's language (Spanish by default): mark and its undo
    say it in Spanish, an unknown thread too -- never a line of the other language."""
    config = demo / "settings.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('language = "en"\n', "", 1),
                      encoding="utf-8")
    short = next(t for t, r in scanned(demo).items() if r["status"] in ("silent", "waiting"))
    done = cli(demo, "mark", short, "won", "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert "marcada como" in done.stdout and "marked" not in done.stdout
    undone = cli(demo, "mark", short, "--undo", "--now", LATER)
    assert undone.returncode == 0 and "Marca deshecha" in undone.stdout, undone.stdout
    unknown = cli(demo, "mark", "zzzzzzz", "won", "--now", NOW)
    assert unknown.returncode == 1 and "ninguna conversación" in unknown.stderr, unknown.stderr
    assert "no quote thread" not in unknown.stderr
