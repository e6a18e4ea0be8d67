"""Agreement of parse+classify with labelled real-world mail, reported per source.

``python -m bench.corpus_agreement [CORPUS] [--fixtures DIR] [--external DIR]`` runs over every file of the
shared corpus (default ``/work/shared/corpus``), checks that nothing raises, and prints for
each labelled source a confusion table and % agreement on ``kind`` (never one blended
figure: the sources differ in what they hold), then the disagreements. A file that cannot
be read as mail counts as kind ``None``, as ``followup inspect`` reports it.

Sources and their expected kinds:
- sisimai ``labels.tsv``: ``bounce`` -> bounce (or delay, when the content is a delay
  warning: see ``_bounce_or_delay_by_content``), except reason ``delivered`` (status 2.x.x,
  really a delivery receipt) -> receipt, reason ``feedback`` -> complaint, reason
  ``vacation`` -> auto_reply; ``feedback-report`` -> complaint; ``auto-reply``;
  ``not-bounce`` -> message; and the files DESIGN.md's rules read otherwise than sisimai
  (``BY_DESIGN`` below, one reason each).
- flanker / mimekit ``labels.tsv``: bounce, delay-notice -> delay, complaint,
  read-receipt -> receipt; everything else -> message (reported, not in the target).
- flufl-bounce: all are bounces or delay warnings; which are warnings was decided by
  reading them (``FLUFL_DELAYS`` below: "will keep trying", "delayed 24 hours", ...).
- own-shapes: ``tests/fixtures/shapes/labels.tsv``, fixtures we wrote in the shapes public
  mail showed for rules 6 and 7 (challenge-response, out-of-office subjects, delivered and
  relayed reports, people quoting bounces, blank lines before the headers); each label
  has its reason and the public file that showed the shape.
- rgl-MailBounceDetector: real files copied with their MIT licence under
  ``tests/fixtures/public/``, labelled by reading them.
- replies-as-RE, replies-as-RE-automatic-reply, replies-as-FW-undeliverable: every human reply body of the reply
  corpora copied under ``tests/fixtures/replies/`` (talon, email-reply-trimmer, github and
  crisp reply parsers), sent by a person under ``RE: Cotización CT-12`` and under
  ``RE: Automatic reply: Cotización CT-12`` (and, but for talon, ``FW: Undeliverable: ...``):
  all must stay ``message``.
- ``--external DIR`` (repeatable): labelled corpora kept outside the repository (their
  licences may not allow copying them in), one source per folder holding a ``labels.tsv``
  (DIR itself, or each of its sub-folders): tab-separated ``file``, expected kind (one of
  the kinds, or ``not mail``), reason; a first row starting with ``file`` and ``#`` lines
  are skipped. Reported per folder like the others.
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
# Files whose kind under DESIGN.md differs from sisimai's category, with the rule that says so.
BY_DESIGN = {
    "maildir/bsd/lhost-sendmail-14.eml": "message",  # rule 7: a person forwards a bounce ("Fwd:", own note, not from MAILER-DAEMON)
}
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
REPLY_SUBJECTS = {"replies-as-RE": "RE: Cotización CT-12",
                  "replies-as-RE-automatic-reply": "RE: Automatic reply: Cotización CT-12",
                  "replies-as-FW-undeliverable": "FW: Undeliverable: Cotización CT-12"}


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


def _wrap_reply(body: bytes, subject: str, n: int) -> bytes:
    """A reply corpus body (no headers) as the message a client's person sends."""
    head = (f"From: Cliente Uno <cliente@cliente.example>\nTo: ana@acme.example\nSubject: {subject}\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 -0600\nMessage-ID: <reply-{n}@cliente.example>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n")
    return head.encode("utf-8") + body


def fixture_kinds(fixtures: Path) -> dict[str, dict[object, str]]:
    """Sources kept in the project: our shape fixtures, copied public files, reply bodies."""
    out: dict[str, dict[object, str]] = defaultdict(dict)
    for source, base in (("own-shapes", fixtures / "shapes"),
                         ("rgl-MailBounceDetector", fixtures / "public" / "rgl-MailBounceDetector")):
        if (base / "labels.tsv").is_file():
            for row in _labels(base / "labels.tsv"):
                out[source][base / row[0]] = row[1]
    replies = sorted(p for p in (fixtures / "replies").rglob("*.txt")
                     if p.name != "SOURCES.txt") if (fixtures / "replies").is_dir() else []
    talon = sorted((fixtures / "corpus" / "talon").glob("*.eml")) if (fixtures / "corpus" / "talon").is_dir() else []
    for source, subject in REPLY_SUBJECTS.items():
        for n, p in enumerate(replies):
            out[source][(p, subject, n)] = "message"
        if source == "replies-as-RE":
            for p in talon:
                out[source][p] = "message"
    return out


def external_kinds(base: Path) -> dict[str, dict[Path, str]]:
    """Labelled folders outside the repository (``--external``): ``base/labels.tsv`` or
    ``base/*/labels.tsv``, one source per folder, named after it."""
    out: dict[str, dict[Path, str]] = defaultdict(dict)
    folders = [base] if (base / "labels.tsv").is_file() else sorted(
        p for p in base.iterdir() if (p / "labels.tsv").is_file())
    for folder in folders:
        for row in _labels(folder / "labels.tsv"):
            if len(row) < 2 or row[0] == "file":
                continue
            out[folder.name][folder / row[0]] = row[1].strip()
    return out


def read_kind(item: object) -> str | None:
    """The kind of a file (or of a wrapped reply body); ``None`` when it is not mail, by
    the same test as ``followup inspect``."""
    if isinstance(item, tuple):
        path, subject, n = item
        data = _wrap_reply(path.read_bytes(), subject, n)
    else:
        data = item.read_bytes()
    parsed = parse_message(data)
    if not parsed.reads_as_mail:
        return None
    return classify(parsed).kind


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
            out["sisimai"][sis / "files" / path] = BY_DESIGN.get(path, kind)
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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    fixtures = FIXTURES
    externals: list[Path] = []
    while "--external" in args:
        i = args.index("--external")
        externals.append(Path(args[i + 1]))
        del args[i:i + 2]
    if "--fixtures" in args:
        i = args.index("--fixtures")
        fixtures = Path(args[i + 1])
        del args[i:i + 2]
    root = Path(args[0] if args else "/work/shared/corpus")
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

    sources = dict(expected_kinds(root))
    sources.update(fixture_kinds(fixtures))
    for base in externals:
        sources.update(external_kinds(base))
    disagreements = []
    summary = []
    for source, files in sources.items():
        confusion: Counter[tuple[str, str]] = Counter()
        for item, want in files.items():
            path = item[0] if isinstance(item, tuple) else item
            if not path.is_file():
                continue
            try:
                got = read_kind(item)
            except Exception:
                crashes += 1
                print(f"CRASH {path}")
                traceback.print_exc()
                continue
            got_name = "not mail" if got is None else got
            confusion[(want, got_name)] += 1
            if want != got_name:
                shown = path.relative_to(root) if path.is_relative_to(root) else path.relative_to(fixtures.parent.parent) if path.is_relative_to(fixtures.parent.parent) else path
                if isinstance(item, tuple):
                    shown = f"{shown} (as {item[1]!r})"
                disagreements.append((source, shown, want, got_name))
        n = sum(confusion.values())
        hit = sum(c for (w, g), c in confusion.items() if w == g)
        tn = sum(c for (w, g), c in confusion.items() if w in TARGET_KINDS)
        th = sum(c for (w, g), c in confusion.items() if w in TARGET_KINDS and w == g)
        summary.append((source, hit, n, th, tn))
        print(f"== {source}: {hit}/{n} = {100 * hit / max(n, 1):.1f}% "
              f"(bounce/delay/complaint/receipt/auto_reply: {th}/{tn} = {100 * th / max(tn, 1):.1f}%)")
        used = [k for k in (*KINDS, "not mail") if any(k in key for key in confusion)]
        print("   expected \\ got " + " ".join(f"{k[:9]:>9s}" for k in used))
        for w in used:
            if any(key[0] == w for key in confusion):
                print(f"   {w:15s} " + " ".join(f"{confusion[(w, g)]:9d}" for g in used))
    print("\nPer source (kind agreement; never blended):")
    for source, hit, n, th, tn in summary:
        print(f"   {source:32s} {hit:5d}/{n:<5d} {100 * hit / max(n, 1):6.1f}%")
    if disagreements:
        print("\nDisagreements (source, file, expected, got; at most 20 a source):")
        shown_per: Counter[str] = Counter()
        for d in disagreements:
            shown_per[d[0]] += 1
            if shown_per[d[0]] <= 20:
                print("  ", *d)
        for source, count in shown_per.items():
            if count > 20:
                print(f"   ... and {count - 20} more in {source}")
    return 1 if crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
