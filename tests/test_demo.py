"""The demo pipeline as a library (assistant.demo.pipeline): what ``followup demo`` prints
is what these stages return."""

from __future__ import annotations

import os

from assistant.demo import pipeline
from assistant.demo.sample import DEMO_THREADS


def test_the_demo_pipeline_gives_the_answer_key_and_every_stages_output(tmp_path, monkeypatch):
    monkeypatch.setenv("FOLLOWUP_DATABASE_URL", "sqlite:///" + str(tmp_path / "elsewhere.db"))
    dest, info = pipeline.prepare(tmp_path / "demo")
    done = pipeline.run(dest, info)
    # the demo's own database, never the one the environment names
    assert done.settings.storage.sqlite_path == dest / "followup.db"
    assert not (tmp_path / "elsewhere.db").exists()
    assert os.environ["FOLLOWUP_DATABASE_URL"].endswith("elsewhere.db")  # left as it was
    assert {r.account for r in done.synced} == {a.name for a in done.settings.accounts}
    assert all(r.error is None and r.stored > 0 for r in done.synced)
    got = {r.subject: r for r in done.reports}
    assert sorted(got) == sorted(t["subject"] for t in DEMO_THREADS)
    for want in DEMO_THREADS:
        assert (got[want["subject"]].status, got[want["subject"]].owner) == (
            want["status"], want["owner"]), want["why"]
    assert done.planned.created and {f.id for f in done.followups} >= set(done.planned.created)
    managers = {m.name for m in done.settings.team.members if m.role == "manager"}
    assert {name for name, _ in done.digests} == managers
    assert all(path.read_text(encoding="utf-8").lstrip().startswith("<") for _, path in done.digests)
    assert sorted(done.passwords) == sorted(m.email for m in done.settings.team.members)


def test_a_demo_starts_from_scratch_each_time(tmp_path):
    first = pipeline.run(*pipeline.prepare(tmp_path))
    second = pipeline.run(*pipeline.prepare(tmp_path))
    assert [r.stored for r in second.synced] == [r.stored for r in first.synced]
    assert [r.as_json() for r in second.reports] == [r.as_json() for r in first.reports]
    assert len(second.followups) == len(first.followups)
