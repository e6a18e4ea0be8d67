"""The sample mailbox generator: deterministic, realistic, and fast at scale."""

from __future__ import annotations

import email
import email.policy
import time
import tomllib
from collections import defaultdict
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from assistant.demo.sample import DEMO_THREADS, generate_sample, main

ACCOUNTS = ("ana", "luis", "marta", "ventas")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _messages(dest: Path) -> list[tuple[str, email.message.Message]]:
    out = []
    for p in sorted((dest / "mail").rglob("*")):
        if p.is_file():
            acct = p.relative_to(dest / "mail").parts[0]
            out.append((acct, email.message_from_bytes(p.read_bytes(), policy=email.policy.default)))
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    dest = tmp_path_factory.mktemp("demo")
    info = generate_sample(dest)
    return dest, info, _messages(dest)


def test_byte_identical_across_runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ia, ib = generate_sample(a), generate_sample(b)
    assert ia.message_files == ib.message_files and ia.now == ib.now
    ta, tb = _tree(a), _tree(b)
    assert ta == tb
    assert len([k for k in ta if k.startswith("mail")]) == ia.message_files
    pa, pb = generate_sample(a / "p", threads=50, seed=3), generate_sample(b / "p", threads=50, seed=3)
    assert _tree(a / "p") == _tree(b / "p")
    assert (pa.message_files, pa.threads) == (pb.message_files, pb.threads)


def test_settings_and_layout(demo):
    dest, info, _ = demo
    assert info.settings_path == dest / "settings.toml"
    cfg = tomllib.loads(info.settings_path.read_text(encoding="utf-8"))
    assert cfg["company"]["domains"] == ["aceros.example"]
    assert cfg["team"]["timezone"] == "America/Mexico_City"
    roles = {m["email"]: m["role"] for m in cfg["team"]["members"]}
    assert roles["marta@aceros.example"] == "manager"
    assert roles["ana@aceros.example"] == roles["luis@aceros.example"] == "account_executive"
    assert "sdr" in roles.values() and "ventas@aceros.example" not in roles
    assert [a["name"] for a in cfg["accounts"]] == list(ACCOUNTS)
    assert all(a["kind"] == "maildir" for a in cfg["accounts"])
    assert [(s["after_days"], s["channel"]) for s in cfg["protocol"]["steps"]] == [
        (2, "email"), (3, "phone"), (4, "email"), (5, "whatsapp"), (7, "email")]
    assert cfg["protocol"]["holidays_country"] == "MX"
    assert cfg["storage"]["url"] == "sqlite:///followup.db"
    for acct in ACCOUNTS:
        for sub in ("cur", "new", "tmp"):
            assert (dest / "mail" / acct / sub).is_dir()
    assert info.now.weekday() < 5 and info.now.hour >= 12
    assert info.threads == len(DEMO_THREADS) + 1  # plus one non-lead thread


def test_every_message_has_id_and_date_and_copies_share_bytes(demo):
    dest, info, msgs = demo
    assert len(msgs) == info.message_files
    by_id = defaultdict(set)
    for acct, m in msgs:
        assert m["Message-ID"], m["Subject"]
        d = parsedate_to_datetime(m["Date"])
        assert d.tzinfo is not None
        assert datetime(2026, 11, 1, tzinfo=d.tzinfo) < d < datetime(2026, 12, 1, tzinfo=d.tzinfo)
        by_id[m["Message-ID"]].add(acct)
    assert any(len(v) >= 2 for v in by_id.values())
    files = defaultdict(set)
    for p in (dest / "mail").rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            files[email.message_from_bytes(data)["Message-ID"]].add(data)
    assert all(len(v) == 1 for v in files.values())  # every copy has the same bytes


def test_demo_has_every_ingredient(demo):
    _, _, msgs = demo
    ms = [m for _, m in msgs]
    subjects = [str(m["Subject"]) for m in ms]
    ids = {m["Message-ID"] for m in ms}
    for kw in ("Cotización", "Presupuesto", "Propuesta", "Quote", "Proposal"):
        assert any(s.startswith(kw) for s in subjects), kw
    # Quote by attachment name only.
    att = [m for m in ms if any(p.get_filename() == "Cotizacion_CN-2026-0412.pdf"
                                for p in m.iter_attachments())]
    assert att and "otiz" not in str(att[0]["Subject"])
    # Bounce: a DSN whose rfc822-headers part names an existing quote's Message-ID.
    dsns = [m for m in ms if m.get_content_type() == "multipart/report"]
    failed = [m for m in dsns if "Action: failed" in m.as_string()]
    delayed = [m for m in dsns if "Action: delayed" in m.as_string()]
    assert failed and delayed
    for m in dsns:
        assert m.get_param("report-type") == "delivery-status"
        assert "MAILER-DAEMON" in str(m["From"])
        parts = {p.get_content_type(): p for p in m.walk()}
        assert "message/delivery-status" in parts
        returned = email.message_from_string(parts["text/rfc822-headers"].get_payload())
        assert returned["Message-ID"] in ids
    assert "Status: 5.1.1" in failed[0].as_string()
    # Auto-replies, Spanish (RFC 3834) and Outlook English.
    assert any(m["Auto-Submitted"] == "auto-replied" and s.startswith("Respuesta automática")
               for m, s in zip(ms, subjects))
    assert any(s.startswith("Automatic reply:") and m["X-Auto-Response-Suppress"]
               and not m["Auto-Submitted"] for m, s in zip(ms, subjects))
    # Replies threaded with In-Reply-To/References, and one loose reply without them.
    assert any(m["In-Reply-To"] and m["References"] for m in ms)
    loose = [m for m in ms if str(m["Subject"]) == "Pregunta sobre la malla"]
    assert loose and not loose[0]["In-Reply-To"] and not loose[0]["References"]
    # "no nos interesa" only below the quoted original in one reply; plain declines too.
    bodies = [m.get_body(("plain",)).get_content() if m.get_body(("plain",)) else "" for m in ms]
    assert any("> Ricardo: la opción A no nos interesa" in b for b in bodies)
    assert any(b.startswith("Ana, gracias") and "no nos interesa" in b for b in bodies)
    assert any("not interested" in b for b in bodies)
    assert any("Tel. +52 81 1234 5678" in b for b in bodies)
    # Internal forward, shared mailbox, manager quote, evening quote in UTC.
    assert any(s.startswith("RV:") and all("aceros.example" in a for a in str(m["To"]).split(","))
               for m, s in zip(ms, subjects))
    assert any("ventas@aceros.example" in str(m["From"]) for m in ms)
    assert any("marta@aceros.example" in str(m["From"]) and "Propuesta" in s
               for m, s in zip(ms, subjects))
    assert any(m["Date"].endswith("03:30:00 +0000") for m in ms)
    # Two reps writing to the same client on one thread.
    ptr = {str(m["From"]) for m, s in zip(ms, subjects) if "perfiles tubulares" in s}
    assert len(ptr) == 2


def test_cli(tmp_path, capsys):
    assert main([str(tmp_path / "x"), "--threads", "20", "--seed", "5"]) == 0
    assert "threads:  20" in capsys.readouterr().out
    assert main([str(tmp_path / "x")]) == 2  # refuses a non-empty mail folder
    assert main([str(tmp_path / "x"), "--overwrite"]) == 0


def test_procedural_scale(tmp_path):
    t0 = time.perf_counter()
    info = generate_sample(tmp_path, threads=200)
    elapsed = time.perf_counter() - t0
    assert info.threads == 200 and info.message_files >= 800
    assert sum(1 for p in (tmp_path / "mail").rglob("*") if p.is_file()) == info.message_files
    assert elapsed < 5
    msgs = _messages(tmp_path)
    assert all(m["Message-ID"] and m["Date"] for _, m in msgs)
    assert len({m["Message-ID"] for _, m in msgs}) < len(msgs)  # copies in several mailboxes


def test_expected_table_matches_the_demo_messages(demo):
    _, _, msgs = demo
    firsts = {(str(m["Subject"]), m["From"].addresses[0].addr_spec, m["To"].addresses[0].addr_spec)
              for _, m in msgs if m["To"] and not m["In-Reply-To"]}
    for t in DEMO_THREADS:
        owner = t["owner"] or "ventas@aceros.example"
        assert (t["subject"], owner, t["contact"]) in firsts, t["subject"]


def test_demo_scan_gives_every_expected_answer(tmp_path):
    """DEMO_THREADS is the demo's answer key: the scan at the suggested ``now`` gives it,
    field by field (second edition of the rules)."""
    from assistant.services.scan import open_store, scan
    from assistant.services.sync import sync
    from assistant.settings import load_settings

    info = generate_sample(tmp_path)
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    sync(settings, engine)
    got = {r.subject: r.as_json() for r in scan(settings, engine, info.now)}
    assert sorted(got) == sorted(t["subject"] for t in DEMO_THREADS)
    for want in DEMO_THREADS:
        report = got[want["subject"]]
        fields = ("contact", "owner", "status", "scenario", "touches", "next_step", "promised_date")
        assert {k: report[k] for k in fields} == {k: want[k] for k in fields}, want["why"]
