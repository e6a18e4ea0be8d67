"""The read model (assistant/services/snapshot.py) gives exactly the answer of a scan of
all stored mail: after one big sync, after mail arriving in many small syncs in random
orders (replies before their quotes, colleagues' header-less answers before the thread
they join, copies in several mailboxes), after marks and logged touches, after a rules
change — and `followup rebuild` gives it again. On real SQLite files and PostgreSQL."""

from __future__ import annotations

import json
import random
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from assistant.demo.sample import generate_sample
from assistant.services import snapshot
from assistant.services.ingest import sync_account
from assistant.services.review import touch
from assistant.services.rules import rules_from_settings
from assistant.services.scan import open_store, scan, scan_from_mail
from assistant.services.sync import sync
from assistant.settings import load_settings
from assistant.storage import models, repo
from assistant.storage.db import open_database
from connectors.mailbox import MaildirConnector
from tests.test_pipeline import run

FIXTURES = Path(__file__).parent / "fixtures"


def answers(reports) -> dict:
    """Every field a reader sees, per thread."""
    out = {}
    for r in reports:
        row = r.as_json()
        row.update(quote_sent_at=r.quote_sent_at.isoformat() if r.quote_sent_at else None,
                   closed_code=r.closed_code, closed_value=r.closed_value, bounced=list(r.bounced_recipients),
                   promised_reason=r.promised_reason,
                   last_outbound_at=r.last_outbound_at.isoformat() if r.last_outbound_at else None)
        out[r.quote_message_id] = row
    return out


def assert_same(settings, engine, now) -> dict:
    stored = answers(scan(settings, engine, now))
    from_mail = answers(scan_from_mail(settings, engine, now))
    assert stored.keys() == from_mail.keys()
    for key in stored:
        assert stored[key] == from_mail[key], key
    return stored


def hold_back(team: Path) -> dict[str, list[Path]]:
    """Move every mailbox file out of its Maildir (into ``held/``): what will arrive."""
    pending: dict[str, list[Path]] = {}
    for box in sorted((team / "mail").iterdir()):
        held = team / "held" / box.name
        held.mkdir(parents=True)
        files = []
        for path in sorted(box.rglob("*")):
            if path.is_file() and path.parent.name in ("cur", "new"):
                target = held / f"{len(files):05d}-{path.parent.parent.name}-{path.name}"
                path.rename(target)
                files.append((target, path))
        pending[box.name] = files
    return pending


def deliver_in_rounds(settings, engine, pending, rng, rounds: int, check=None) -> None:
    """Deliver the held files in ``rounds`` random slices, each synced and indexed."""
    everything = [(box, f) for box, files in pending.items() for f in files]
    rng.shuffle(everything)
    size = max(1, len(everything) // rounds + 1)
    for start in range(0, len(everything), size):
        for box, (held, original) in everything[start:start + size]:
            original.parent.mkdir(parents=True, exist_ok=True)
            held.rename(original)
        for account in settings.accounts:
            sync_account(engine, account.name, account.kind,
                         MaildirConnector(account.path, settle_seconds=0))
        snapshot.refresh(engine, rules_from_settings(settings))
        if check is not None:
            check()


@pytest.fixture
def sample(tmp_path):
    info = generate_sample(tmp_path / "team")
    return info, load_settings(info.settings_path, environ={})


def test_one_sync_gives_the_answer_of_a_scan_of_all_mail(sample, database_url):
    info, settings = sample
    engine = open_database(database_url)
    sync(settings, engine)
    answers_now = assert_same(settings, engine, info.now)
    assert len(answers_now) == 26
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM index_queue")) == 0
        assert conn.scalar(text("SELECT count(*) FROM threads")) == 26


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mail_arriving_in_random_order_over_many_syncs_gives_the_same_answer(sample, seed):
    info, settings = sample
    engine = open_database(settings.storage.url)
    pending = hold_back(info.settings_path.parent)
    rng = random.Random(seed)
    deliver_in_rounds(settings, engine, pending, rng, rounds=9,
                      check=lambda: assert_same(settings, engine, info.now))
    final = assert_same(settings, engine, info.now)
    assert len(final) == 26
    rebuilt = snapshot.rebuild(engine, rules_from_settings(settings))
    assert rebuilt.rebuilt and answers(scan(settings, engine, info.now)) == final


@pytest.mark.parametrize("team, now", [
    ("examples/basic-team", "2026-12-10T20:00:00+00:00"),
    ("qa-real-team", None),
])
@pytest.mark.parametrize("seed", [7, 8])
def test_real_shaped_teams_in_random_order(tmp_path, team, now, seed):
    """Header-less replies, colleagues, newsletters, holding replies: rules 4 and 5 see
    the same threads whatever the order the mail came in."""
    dest = tmp_path / "team"
    shutil.copytree(FIXTURES / team, dest, ignore=shutil.ignore_patterns("followup.db*"))
    expected = json.loads((dest / "expected.json").read_text(encoding="utf-8"))
    now_at = datetime.fromisoformat(now or expected["now"])
    settings = load_settings(dest / "settings.toml", environ={})
    engine = open_store(settings)
    pending = hold_back(dest)
    deliver_in_rounds(settings, engine, pending, random.Random(seed), rounds=6,
                      check=lambda: assert_same(settings, engine, now_at))
    got = {"now": now_at.isoformat(),
           "threads": [r.as_json() for r in scan(settings, engine, now_at)]}
    from tests.test_pipeline import assert_matches_expected
    assert_matches_expected(got, expected)


def test_marks_and_logged_touches_are_reflected_at_once(sample):
    info, settings = sample
    engine = open_store(settings)
    sync(settings, engine)
    reports = {r.subject: r for r in scan(settings, engine, info.now)}
    rosa = reports["Material para obra Cumbres"]
    assert rosa.status == "silent" and rosa.touches == 0
    touch(settings, engine, rosa.quote_message_id, "phone", by="ana@aceros.example",
          now=info.now)
    after = assert_same(settings, engine, info.now)[rosa.quote_message_id]
    assert after["touches"] == 1 and after["status"] == "waiting"
    with engine.begin() as conn:
        repo.save_mark(conn, rosa.quote_message_id, outcome="won",
                       at=datetime.now(timezone.utc), by="ana@aceros.example")
    assert assert_same(settings, engine, info.now)[rosa.quote_message_id]["status"] == "closed"


def test_changed_rules_rebuild_on_first_read(sample, tmp_path):
    info, settings = sample
    engine = open_store(settings)
    sync(settings, engine)
    before = answers(scan(settings, engine, info.now))
    text_ = info.settings_path.read_text(encoding="utf-8")
    assert "\n[protocol]\n" in text_
    info.settings_path.write_text(text_.replace("\n[protocol]\n", "\n[protocol]\nholding_days = 1\n", 1),
                                  encoding="utf-8")
    changed = load_settings(info.settings_path, environ={})
    assert changed.protocol.holding_days == 1
    after = assert_same(changed, engine, info.now)
    lamina = next(k for k, v in after.items() if v["subject"] == "Presupuesto lámina antiderrapante")
    assert before[lamina]["promised_date"] == "2026-12-01" and after[lamina]["promised_date"] == "2026-11-25"


def test_rebuild_command_gives_the_incremental_answer(sample):
    info, settings = sample
    config = str(info.settings_path)
    assert run("--config", config, "sync").returncode == 0
    now = info.now.isoformat()
    incremental = run("--config", config, "scan", "--now", now, "--json").stdout
    rebuilt = run("--config", config, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "26 conversaciones de cotización" in rebuilt.stdout  # team.language: es by default
    assert run("--config", config, "scan", "--now", now, "--json").stdout == incremental


def test_a_20000_message_mailbox_incremental_equals_rebuild(tmp_path):
    info = generate_sample(tmp_path / "big", threads=4600, seed=11)
    assert info.message_files >= 20000
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    pending = hold_back(info.settings_path.parent)
    deliver_in_rounds(settings, engine, pending, random.Random(5), rounds=5)
    incremental = assert_same(settings, engine, info.now)
    assert len(incremental) >= 4600
    with engine.connect() as conn:  # each thread's stored metric events too
        events = repo.thread_touchpoints(conn, incremental)
    assert sum(map(len, events.values())) > len(incremental)
    snapshot.rebuild(engine, rules_from_settings(settings))
    assert answers(scan(settings, engine, info.now)) == incremental
    with engine.connect() as conn:
        assert repo.thread_touchpoints(conn, incremental) == events


def _read_model_tables(engine) -> dict:
    """Everything a rebuild writes, in a comparable order."""
    with engine.connect() as conn:
        return {
            "threads": conn.execute(text("SELECT * FROM threads ORDER BY quote_message_id")).all(),
            "join_keys": conn.execute(text("SELECT key, conversation_id FROM join_keys "
                                           "ORDER BY key, conversation_id")).all(),
            "refs": conn.execute(text("SELECT ref_id, message_pk FROM message_refs "
                                      "ORDER BY ref_id, message_pk")).all(),
            "messages": conn.execute(text("SELECT id, conversation_id, thread_key FROM messages "
                                          "ORDER BY id")).all(),
        }


def test_a_rebuild_in_forked_workers_stores_what_one_process_stores(sample):
    info, settings = sample
    engine = open_store(settings)
    sync(settings, engine)
    rules = rules_from_settings(settings)
    snapshot.rebuild(engine, rules, workers=0)
    alone = _read_model_tables(engine)
    assert len(alone["threads"]) >= 20 and alone["join_keys"] and alone["refs"]
    snapshot.rebuild(engine, rules, workers=2)
    assert _read_model_tables(engine) == alone
    assert answers(scan(settings, engine, info.now)) == answers(scan_from_mail(settings, engine, info.now))


def test_a_thread_row_holds_exactly_the_columns_the_fast_insert_writes(sample):
    info, settings = sample
    engine = open_store(settings)
    sync(settings, engine)
    report = scan_from_mail(settings, engine, info.now)[0]
    assert tuple(repo.thread_row(report)) == repo.THREAD_COLUMNS
    with engine.connect() as conn:
        stored = {row[1] for row in conn.execute(text("PRAGMA table_info(threads)"))}
    assert set(repo.THREAD_COLUMNS) <= stored
