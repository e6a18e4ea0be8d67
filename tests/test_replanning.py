"""A held follow-up is planned again once its cause is gone (issue 14, item 3): the
template its step names is fixed, a team member of the responsible role is added. The
planning service on the demo team's real Maildir folders and a SQLite file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from assistant.demo.sample import generate_sample
from assistant.services.planning import plan
from assistant.services.review import list_followups, save_edit
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.settings import load_settings
from assistant.wording import reason_words


def team(tmp_path: Path, old: str, new: str):
    info = generate_sample(tmp_path / "demo")
    path = info.settings_path
    good = path.read_text(encoding="utf-8")
    assert old in good
    path.write_text(good.replace(old, new), encoding="utf-8")
    settings = load_settings(path, environ={})
    engine = open_store(settings)
    sync(settings, engine)
    return info, path, good, settings, engine


def test_held_for_a_misspelt_template_then_planned_once_the_step_names_a_real_one(tmp_path):
    info, path, good, settings, engine = team(tmp_path, 'template = "followup_1"',
                                              'template = "folowup_1"')
    first = plan(settings, engine, info.now)
    typo = {fid: why for fid, why in first.hold_reasons.items()
            if "folowup_1" in reason_words(why, "es")}
    assert typo and set(typo) <= set(first.held)
    assert all(r.body == "" for r in list_followups(engine) if r.id in typo)
    path.write_text(good, encoding="utf-8")
    fixed = load_settings(path, environ={})
    second = plan(fixed, engine, info.now)
    # one of them is now held by the duplicate-contact guard instead (a colleague wrote
    # to that client): its reason is the new one, the template one is gone
    guarded = set(second.held)
    assert len(guarded) == 1 and guarded <= set(typo)
    assert all("folowup" not in reason_words(second.hold_reasons[f], "es")
               and "escribió a" in reason_words(second.hold_reasons[f], "es") for f in guarded)
    assert set(second.replanned) == set(typo) - guarded <= set(second.created)
    rows = {r.id: r for r in list_followups(engine)}
    for fid in set(typo) - guarded:
        assert rows[fid].status == "drafted" and rows[fid].hold_reason is None
        assert rows[fid].template == "followup_1" and rows[fid].body and rows[fid].draft_ref
    # planned once: a third run changes nothing, no second draft in any mailbox
    third = plan(fixed, engine, info.now)
    assert not third.created and not third.replanned
    drafts = [p for p in (info.settings_path.parent / "mail").rglob(".Drafts/*/*") if p.is_file()]
    assert len(drafts) == len({r.key for r in rows.values() if r.draft_ref})
    engine.dispose()


def test_a_held_follow_up_a_person_edited_stays_theirs_when_the_mailbox_is_added(tmp_path):
    info, path, good, settings, engine = team(tmp_path, 'owner = "luis@aceros.example"\n', "")
    first = plan(settings, engine, info.now)
    luis = [fid for fid, why in first.hold_reasons.items() if "luis@aceros.example" in why]
    assert len(luis) >= 2, first.hold_reasons
    edited = luis[0]  # a person writes this one by hand: it stays theirs
    save_edit(settings, engine, edited, "Subject: Re: a mano\n\nLo escribo yo.\n",
              now=info.now + timedelta(minutes=5))
    path.write_text(good, encoding="utf-8")
    second = plan(load_settings(path, environ={}), engine, info.now)
    assert set(second.replanned) == set(luis) - {edited}
    rows = {r.id: r for r in list_followups(engine)}
    assert rows[edited].status == "held" and rows[edited].body.startswith("Lo escribo yo.")
    assert all(rows[f].account == "luis" and rows[f].status == "drafted" for f in second.replanned)
    engine.dispose()
