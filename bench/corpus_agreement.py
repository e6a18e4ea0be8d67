"""Agreement of parse+classify with the labelled real-world corpus.

Runs over every file of the corpus (default ``/work/shared/corpus``, or the folder given
as the first argument), checks that nothing raises, and for the labelled sources prints a
confusion table, % agreement on ``kind`` per source and overall, and the disagreements.

Expected kinds:
- sisimai ``labels.tsv``: ``bounce`` -> bounce (or delay, when the content is a delay
  warning: see ``_bounce_or_delay_by_content``), except reason ``delivered`` (status 2.x.x,
  really a delivery receipt) -> receipt, reason ``feedback`` -> complaint, reason
  ``vacation`` -> auto_reply; ``feedback-report`` -> complaint; ``auto-reply``;
  ``not-bounce`` -> message.
- flanker / mimekit ``labels.tsv``: bounce, delay-notice -> delay, complaint,
  read-receipt -> receipt; everything else -> message (reported, not in the target).
- flufl-bounce: all are bounces or delay warnings; which are warnings was decided by
  reading them (``FLUFL_DELAYS`` below: "will keep trying", "delayed 24 hours", ...).
"""

from __future__ import annotations

import re
import sys
import traceback
from collections import Counter, defaultdict
from pathlib import Path

from assistant.mail.classify import classify
from assistant.mail.message import KINDS
from assistant.mail.parse import parse_message

FLUFL_DELAYS = {"dsn_05.txt", "dsn_06.txt", "dsn_07.txt", "dsn_08.txt", "dsn_17.txt",
                "simple_03.txt", "simple_21.txt", "simple_22.txt", "simple_28.txt",
                "simple_35.txt", "simple_40.txt"}
# read and decided by content: not a bounce at all
FLUFL_OTHER = {"groupwise_03.txt": "message",  # a human "RE:" reply with attachments
               "qmail_08.txt": "auto_reply"}   # "Auto reply", Precedence: auto_reply
TARGET_KINDS = {"bounce", "delay", "complaint", "receipt", "auto_reply"}


def _labels(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


_ACTION_RE = re.compile(rb"^action:\s*([a-z]+)", re.I | re.M)
_WARNING_SUBJECT_RE = re.compile(
    rb"^subject:[^\n]*(?:delay|warning|not yet been delivered|still being retried)", re.I | re.M)


def _bounce_or_delay_by_content(path: Path) -> str:
    """sisimai files every undelivered mail as "bounce", delay warnings included, and
    flanker's labels come from subjects ("Cannot send message for 5 days" with a final
    ``Action: failed`` is labelled a delay there); decide
    from the content: a DSN ``Action: failed`` is a bounce (even with a 4.x.x status: the
    MTA gave up), ``Action: delayed`` without a failure, or a warning subject, is a delay."""
    try:
        raw = path.read_bytes()
    except OSError:
        return "bounce"
    actions = {a.lower() for a in _ACTION_RE.findall(raw)}
    if b"failed" in actions:
        return "bounce"
    if b"delayed" in actions:
        return "delay"
    head = raw.split(b"\n\n", 1)[0] if b"\n\n" in raw else raw[:4000]
    return "delay" if _WARNING_SUBJECT_RE.search(head.replace(b"\r", b"")) else "bounce"


def expected_kinds(root: Path) -> dict[str, dict[Path, str]]:
    out: dict[str, dict[Path, str]] = defaultdict(dict)
    sis = root / "sisimai-set-of-emails"
    if (sis / "labels.tsv").is_file():
        for row in _labels(sis / "labels.tsv"):
            path, category = row[0], row[1]
            detail = row[2] if len(row) > 2 else ""
            reasons = {p.split("|")[2] for p in detail.split("; ") if p.count("|") >= 3}
            if category.startswith("feedback-report"):
                kind = "complaint"
            elif category == "auto-reply":
                kind = "auto_reply"
            elif category == "not-bounce":
                kind = "message"
            elif reasons and reasons <= {"delivered"}:
                kind = "receipt"
            elif reasons and reasons <= {"feedback"}:
                kind = "complaint"
            elif reasons and reasons <= {"vacation"}:
                kind = "auto_reply"
            else:
                kind = _bounce_or_delay_by_content(sis / "files" / path)
            out["sisimai"][sis / "files" / path] = kind
    for name, folder in (("flanker", "flanker-fixtures"), ("mimekit", "mimekit-testdata")):
        base = root / folder
        if not (base / "labels.tsv").is_file():
            continue
        for row in _labels(base / "labels.tsv"):
            category = row[1]
            if category.startswith(("bounce", "delay")):
                kind = _bounce_or_delay_by_content(base / "files" / row[0])
            elif category.startswith("feedback-report"):
                kind = "complaint"
            elif category.startswith("read-receipt"):
                kind = "receipt"
            elif category.startswith("raw TNEF"):
                continue
            else:
                kind = "message"
            out[name][base / "files" / row[0]] = kind
    flufl = root / "flufl-bounce" / "files" / "data"
    if flufl.is_dir():
        for p in sorted(flufl.iterdir()):
            out["flufl-bounce"][p] = FLUFL_OTHER.get(p.name) or ("delay" if p.name in FLUFL_DELAYS else "bounce")
    return out


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpus")
    crashes = 0
    nfiles = 0
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        nfiles += 1
        try:
            classify(parse_message(p.read_bytes()))
        except Exception:
            crashes += 1
            print(f"CRASH {p}")
            traceback.print_exc()
    print(f"files parsed: {nfiles}, crashes: {crashes}\n")

    all_hit = all_n = tgt_hit = tgt_n = 0
    disagreements = []
    for source, files in expected_kinds(root).items():
        confusion: Counter[tuple[str, str]] = Counter()
        for path, want in files.items():
            if not path.is_file():
                continue
            got = classify(parse_message(path.read_bytes())).kind
            confusion[(want, got)] += 1
            if want != got:
                disagreements.append((source, path.relative_to(root), want, got))
        n = sum(confusion.values())
        hit = sum(c for (w, g), c in confusion.items() if w == g)
        tn = sum(c for (w, g), c in confusion.items() if w in TARGET_KINDS)
        th = sum(c for (w, g), c in confusion.items() if w in TARGET_KINDS and w == g)
        all_hit += hit
        all_n += n
        tgt_hit += th
        tgt_n += tn
        print(f"== {source}: {hit}/{n} = {100 * hit / max(n, 1):.1f}% "
              f"(bounce/delay/complaint/receipt/auto_reply: {th}/{tn} = {100 * th / max(tn, 1):.1f}%)")
        used = [k for k in KINDS if any(k in key for key in confusion)]
        print("   expected \\ got " + " ".join(f"{k[:9]:>9s}" for k in used))
        for w in used:
            print(f"   {w:15s} " + " ".join(f"{confusion[(w, g)]:9d}" for g in used))
    print(f"\nOVERALL: {all_hit}/{all_n} = {100 * all_hit / max(all_n, 1):.1f}%; "
          f"target kinds {tgt_hit}/{tgt_n} = {100 * tgt_hit / max(tgt_n, 1):.1f}%")
    if disagreements:
        print("\nDisagreements (source, file, expected, got):")
        for d in disagreements:
            print("  ", *d)
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
