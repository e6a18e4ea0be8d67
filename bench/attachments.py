"""Memory benchmark: ``make bench`` / ``python -m bench.attachments [--total-mb 2048]
[--attachment-mb 5] [--keep DIR] [--followup PATH]``.

Writes a Maildir of quotes, each carrying a PDF attachment of ``--attachment-mb`` MB
(base64-encoded, as mailers send it: about 1.37 times as many bytes in the file), until
the files add up to ``--total-mb`` MB (default: 2 GB of 5 MB attachments), then measures

1. ``followup sync`` from empty: its peak RSS (target < 500 MB, whatever the sizes) and
   its read rate;
2. a second ``followup sync`` with nothing new (peak RSS, seconds);
3. that every message was stored once, with its attachment's name and its whole size.

Each ``followup`` run is a subprocess reaped with ``os.wait4``, which reports the peak RSS
of the child (its parse workers included: a waited-for grandchild's maximum counts), as
:mod:`bench.ingest` does. ``--followup`` measures another build (e.g. the ``main``
branch's ``.venv/bin/followup``) on the same files. Exit status: 0 when every target
passes, 1 otherwise, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import base64
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from assistant.demo.sample import ACCOUNT_ORDER, DOMAIN, settings_toml
from bench.ingest import followup_bin, run_followup, verdict

RSS_MAX_MB = 500.0
ACCOUNT = "ana"


def write_mailbox(root: Path, total_mb: int, attachment_mb: int, seed: int = 11) -> tuple[int, int]:
    """The Maildir of account ``ana`` (and empty ones for the sample's other accounts);
    returns (message files, bytes written)."""
    for account in ACCOUNT_ORDER:
        for sub in ("cur", "new", "tmp"):
            (root / "mail" / account / sub).mkdir(parents=True, exist_ok=True)
    payload = random.Random(seed).randbytes(attachment_mb * 1_000_000)
    encoded = base64.encodebytes(payload)  # 76-character lines
    written, n = 0, 0
    target = total_mb * 1024 * 1024
    cur = root / "mail" / ACCOUNT / "cur"
    while written < target:
        n += 1
        head = (f"From: Ana Pérez <ana@{DOMAIN}>\r\nTo: compras{n}@cliente{n % 50}.example\r\n"
                f"Subject: Cotización CT-{n:05} con planos\r\n"
                f"Date: Tue, 03 Nov 2026 {8 + n % 10:02}:{n % 60:02}:00 -0600\r\n"
                f"Message-ID: <bench-attachment-{n}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
                f'Content-Type: multipart/mixed; boundary="b-{n}"\r\n\r\n'
                f"--b-{n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Buenos días, adjunto la cotización CT-{n:05} y los planos.\r\n\r\n"
                f"--b-{n}\r\nContent-Type: application/pdf; name=\"CT-{n:05}.pdf\"\r\n"
                f"Content-Disposition: attachment; filename=\"CT-{n:05}.pdf\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n").encode()
        tail = f"\r\n--b-{n}--\r\n".encode()
        path = cur / f"{1_700_000_000 + n}.M{n}P1.bench:2,S"
        with open(path, "wb") as fh:
            fh.write(head)
            fh.write(encoded.replace(b"\n", b"\r\n"))
            fh.write(tail)
            written += fh.tell()
    return n, written


def check_store(db: Path, files: int, mail: Path) -> tuple[bool, str]:
    sizes = {p.name.split(":")[0]: p.stat().st_size for p in mail.iterdir()}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT m.size, m.attachment_names, l.provider_id FROM messages m "
                            "JOIN message_locations l ON l.message_pk = m.id").fetchall()
    bad = [r for r in rows if sizes.get(r[2].split("/", 1)[1]) != r[0] or ".pdf" not in r[1]]
    ok = len(rows) == files and not bad
    return ok, f"{len(rows):,} of {files:,} messages stored, {len(bad)} with a wrong size or name"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.attachments",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--total-mb", type=int, default=2048, help="mailbox size (default 2048)")
    ap.add_argument("--attachment-mb", type=int, default=5, help="attachment size (default 5)")
    ap.add_argument("--keep", type=Path, default=None, help="write into DIR and keep it")
    ap.add_argument("--followup", type=Path, default=None,
                    help="the followup executable to measure (default: this environment's)")
    args = ap.parse_args(argv)
    exe = args.followup or followup_bin()
    if not exe.exists():
        print(f"error: {exe} not found", file=sys.stderr)
        return 2
    if args.keep:
        work, cleanup = args.keep.resolve(), None
        if (work / "mail").exists():
            print(f"error: {work / 'mail'} exists", file=sys.stderr)
            return 2
        work.mkdir(parents=True, exist_ok=True)
    else:
        cleanup = tempfile.mkdtemp(prefix="followup-bench-attach-")
        work = Path(cleanup)
    try:
        return _bench(work, exe, args.total_mb, args.attachment_mb)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)
        else:
            print(f"\nkept: {work}")


def _bench(work: Path, exe: Path, total_mb: int, attachment_mb: int) -> int:
    t0 = time.perf_counter()
    files, written = write_mailbox(work, total_mb, attachment_mb)
    settings = work / "settings.toml"
    settings.write_text(settings_toml(), encoding="utf-8")  # the sample team's
    print(f"wrote {files:,} messages with a {attachment_mb} MB attachment each, "
          f"{written / 2**20:,.0f} MB, in {time.perf_counter() - t0:.1f} s into {work}")

    results: list[bool] = []
    rows: list[tuple[str, str, str]] = []

    def row(what: str, value: str, ok: bool | None) -> None:
        rows.append((what, value, "" if ok is None else verdict(ok)))
        if ok is not None:
            results.append(ok)

    runs = [run_followup(label, settings, "sync", cwd=work, exe=exe)
            for label in ("sync (from empty)", "sync (nothing new)")]
    for run in runs:
        if run.returncode != 0:
            row(f"followup {run.label}", f"exit {run.returncode}: {run.stderr.strip()[-300:]}", False)
            continue
        rate = f"{written / 2**20 / run.seconds:,.0f} MB/s" if "empty" in run.label else ""
        row(f"followup {run.label}", f"{run.seconds:.1f} s {rate}".rstrip(), None)
        row(f"  peak RSS: {run.label}", f"{run.peak_rss_mb:,.0f} MB (< {RSS_MAX_MB:g} MB)",
            run.peak_rss_mb < RSS_MAX_MB)
    if runs[0].returncode == 0:
        ok, what = check_store(work / "followup.db", files, work / "mail" / ACCOUNT / "cur")
        row("stored", what, ok)

    width = max(len(r[0]) for r in rows)
    print()
    for what, value, mark in rows:
        print(f"{what.ljust(width)}  {value}  {mark}".rstrip())
    ok = bool(results) and all(results)
    print(f"\noverall: {verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
