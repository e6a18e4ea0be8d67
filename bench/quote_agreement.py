"""Agreement of ``is_quote`` with a labelled set of outbound mail: ``python -m bench.quote_agreement``.

The set lives in ``bench/quote_set_*.txt``: about 190 small messages we wrote in the shapes
found in public business mail (the Enron corpus and its exports, Spanish-language quote
mail from Latin American quote and CRM tools, English CRM templates, calendar and list
robots). Each item names its family, its label (``quote`` / ``no``), a one-line reason
and the source tag that showed the shape (``SOURCES`` below). Items are read exactly as
sync reads mail: raw RFC 5322 bytes through ``parse_message``, ``classify`` and
``mail_from_parsed``, judged with the product's default ``[detection]`` settings for a
team on ``acme.example``.

Every fourth item (in file order) is **held out**: its misses are not printed unless
``--show-held`` is given, so rules are tuned on the other three quarters only and the
held-out numbers say how well they carry over.

``--baseline`` also scores the first-edition rule (a keyword in the subject or an
attachment name, nothing else) for the before/after comparison.

Exit status 0 when the tuning and held-out parts both reach precision >= 0.90 and
recall >= 0.80, else 1 (2 when the set cannot be read).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from assistant.domain.model import Mail, Rules
from assistant.domain.parsed import mail_from_parsed
from assistant.domain.quotes import is_quote
from assistant.domain.words import is_outbound
from assistant.mail.classify import classify
from assistant.mail.parse import parse_message
from assistant.mail.text import has_keyword
from assistant.settings import Detection

SET_DIR = Path(__file__).resolve().parent
PRECISION_TARGET = 0.90
RECALL_TARGET = 0.80

SOURCES = {
    "enron-notes": "Enron corpus as mbox (jpvance123/Amdocs_ML_Email_Analytics, MailDir_to_MBOX/enron/: "
                   "enron.lokay-m.sent_items, enron.arnold-j.compaq, ...): Lotus Notes and Outlook "
                   "exports, '<< File: x >>', '<<x.url>>', '(See attached file: x)', ' - x.doc' markers",
    "enron-sqlite": "Enron sample in SQLite's FTS3 tests (fts3ac.test, INSERT INTO email ...): "
                    "forwards, newsletters, attachment markers",
    "enron-web": "enron-mail.com pages (sent folders of arnold-j, sanders-r, taylor-m, mims-thurston-p, "
                 "dasovich-j): proposals as ideas, deal offers, estimates of odds",
    "es-quote-apps": "Spanish quote-sending code in public repos (mailto/nodemailer cotización templates: "
                     "'Adjunto la cotización N°', vigencia, IVA, 'tenemos el agrado de cotizar', "
                     "Prestashop roja45quotationspro mail_send_quote_mx)",
    "es-ack": "web-form confirmation mails in public repos ('Hemos recibido su solicitud de cotización', "
              "'Thank you for your quote request')",
    "es-crm": "Spanish CRM/sales follow-up templates and pipelines in public repos (seguimiento, "
              "propuesta económica stages, boletines)",
    "en-crm": "English CRM and quote-tool templates in public repos ('Attached is our proposal for ...', "
              "'Quote for ... valid for 30 days', 'Estimate 1043 from ...', follow-up templates)",
    "calendar": "calendar mail: Outlook 'Propose New Time' (SSWConsulting/SSW.Rules.Content), iMIP "
                "COUNTER, Google Calendar 'Invitación:' subjects",
    "qotd": "'Quote of the Day' mailer scripts in public repos (smtplib sendmail 'Subject: Quote of the day')",
    "market": "market-quote mail: exchange rates, stock quotes (DESIGN.md rule 3 exclusions)",
    "talon": "/work/shared/corpus talon-fixtures and sisimai (auto-replies, bounces)",
}

DOMAIN = "acme.example"


@dataclass
class Item:
    ident: str
    family: str
    label: bool
    reason: str
    source: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    body: str = ""
    index: int = 0
    fresh: bool = False
    """From ``quote_set_*_heldout.txt``: written after the rules, never tuned on."""

    @property
    def held_out(self) -> bool:
        return self.fresh or self.index % 4 == 3


def load_items(folder: Path = SET_DIR) -> list[Item]:
    items: list[Item] = []
    for path in sorted(folder.glob("quote_set_*.txt")):
        current: Item | None = None
        in_body = False
        body: list[str] = []

        def close() -> None:
            if current is not None:
                current.body = "\n".join(body).strip("\n") + "\n"
                items.append(current)

        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("%% "):
                close()
                ident, family, label = line[3:].split()
                if label not in ("quote", "no"):
                    raise ValueError(f"{path.name}: {ident}: label must be quote or no")
                current, in_body, body = Item(ident, family, label == "quote", "", ""), False, []
                current.fresh = path.stem.endswith("_heldout")
                continue
            if current is None:
                continue
            if not in_body:
                if line.startswith("# reason:"):
                    current.reason = line.split(":", 1)[1].strip()
                elif line.startswith("# source:"):
                    current.source = line.split(":", 1)[1].strip()
                    if current.source not in SOURCES:
                        raise ValueError(f"{path.name}: {current.ident}: unknown source {current.source}")
                elif not line.strip():
                    in_body = True
                elif line.startswith("Attach:"):
                    current.attachments.append(line.split(":", 1)[1].strip())
                else:
                    name, _, value = line.partition(":")
                    current.headers.append((name.strip(), value.strip()))
            else:
                body.append(line)
        close()
    for i, item in enumerate(items):
        item.index = i
    return items


def build(item: Item) -> bytes:
    """The item as raw RFC 5322 bytes (LF line ends, UTF-8 8bit parts, like an export)."""
    when = datetime(2026, 11, 2, 15, tzinfo=timezone.utc) + timedelta(minutes=item.index)
    headers = list(item.headers)
    names = {n.lower() for n, _ in headers}
    if "date" not in names:
        headers.append(("Date", format_datetime(when)))
    if "message-id" not in names:
        headers.append(("Message-ID", f"<{item.ident}@bench.acme.example>"))
    headers.append(("MIME-Version", "1.0"))
    lines = [f"{n}: {v}" for n, v in headers]
    if "content-type" in names:
        return ("\n".join(lines) + "\n\n" + item.body).encode("utf-8")
    if not item.attachments:
        lines += ['Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
        return ("\n".join(lines) + "\n\n" + item.body).encode("utf-8")
    boundary = "==quote-bench=="
    lines.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
    parts = [f"--{boundary}", 'Content-Type: text/plain; charset="utf-8"',
             "Content-Transfer-Encoding: 8bit", "", item.body]
    for name in item.attachments:
        payload = base64.b64encode(b"%PDF-1.4 bench " + name.encode("utf-8")).decode()
        parts += [f"--{boundary}", "Content-Type: application/octet-stream",
                  f'Content-Disposition: attachment; filename="{name}"',
                  "Content-Transfer-Encoding: base64", "", payload]
    parts.append(f"--{boundary}--")
    return ("\n".join(lines) + "\n\n" + "\n".join(parts) + "\n").encode("utf-8")


def bench_rules() -> Rules:
    """The product's default ``[detection]`` rules for a team on ``acme.example``."""
    from datetime import time as _time

    d = Detection()
    return Rules(domains=frozenset({DOMAIN}), members={}, steps=(), timezone="America/Mexico_City",
                 holidays_country="MX", send_window_start=_time(9, 0),
                 quote_keywords=tuple(d.quote_keywords), quote_phrases=tuple(d.quote_phrases),
                 decline_phrases=tuple(d.decline_phrases), request_phrases=tuple(d.request_phrases),
                 exclude_phrases=tuple(d.exclude_phrases), holding_phrases=tuple(d.holding_phrases),
                 public_domains=frozenset(d.public_domains),
                 **{k: tuple(getattr(d, k)) for k in _extra_rule_keys(d)})


def _extra_rule_keys(d: Detection) -> list[str]:
    """[detection] lists added after the first edition that Rules also carries."""
    known = {"quote_keywords", "quote_phrases", "decline_phrases", "request_phrases",
             "exclude_phrases", "holding_phrases", "public_domains"}
    return [k for k in getattr(d, "__dataclass_fields__", {}) if k not in known
            and k in Rules.__dataclass_fields__]


def first_edition_is_quote(mail: Mail, rules: Rules) -> bool:
    """The rule before this work: outbound, and a keyword in the subject or an attachment
    name (the default quote_phrases were empty)."""
    return is_outbound(mail, rules) and (
        has_keyword(mail.subject, rules.quote_keywords) is not None
        or any(has_keyword(n, rules.quote_keywords) for n in mail.attachment_names))


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: bool, said: bool) -> None:
        if label and said:
            self.tp += 1
        elif said:
            self.fp += 1
        elif label:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self) -> str:
        n = self.tp + self.fp + self.fn + self.tn
        return (f"n={n:3d}  precision {self.precision:6.1%}  recall {self.recall:6.1%}  "
                f"(tp {self.tp}, fp {self.fp}, fn {self.fn}, tn {self.tn})")


def evaluate(items: list[Item], judge, rules: Rules) -> tuple[dict, list[tuple[Item, bool]]]:
    scores: dict[tuple[str, str], Score] = defaultdict(Score)
    misses = []
    for item in items:
        parsed = parse_message(build(item))
        mail = mail_from_parsed(parsed, classify(parsed), key=item.index + 1)
        said = bool(judge(mail, rules))
        part = "held-out" if item.held_out else "tuning"
        for key in ((part, item.family), (part, "ALL"), ("both", item.family), ("both", "ALL")):
            scores[key].add(item.label, said)
        if said != item.label:
            misses.append((item, said))
    return scores, misses


def report(title: str, scores: dict, misses: list, show_held: bool) -> bool:
    print(f"\n== {title}")
    families = sorted({fam for _, fam in scores if fam != "ALL"})
    ok = True
    for part in ("tuning", "held-out", "both"):
        print(f"  {part}:")
        for fam in families + ["ALL"]:
            if (part, fam) in scores:
                print(f"    {fam:12s} {scores[part, fam].line()}")
        if part != "both":
            total = scores[part, "ALL"]
            ok = ok and total.precision >= PRECISION_TARGET and total.recall >= RECALL_TARGET
    shown = [(i, s) for i, s in misses if show_held or not i.held_out]
    hidden = len(misses) - len(shown)
    print(f"  misses ({len(misses)}{f', {hidden} held-out not shown' if hidden else ''}):")
    for item, said in shown:
        kind = "false quote" if said else "missed quote"
        print(f"    {item.ident:8s} {kind:12s} [{item.family}] {item.reason}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quote_agreement", description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", action="store_true", help="also score the first-edition rule")
    ap.add_argument("--show-held", action="store_true", help="list held-out misses too")
    args = ap.parse_args(argv)
    try:
        items = load_items()
    except (OSError, ValueError) as exc:
        print(f"cannot read the labelled set: {exc}", file=sys.stderr)
        return 2
    rules = bench_rules()
    quotes = sum(i.label for i in items)
    held = sum(i.held_out for i in items)
    print(f"{len(items)} labelled outbound messages ({quotes} quotes, {len(items) - quotes} not), "
          f"{held} held out; targets precision >= {PRECISION_TARGET:.0%}, recall >= {RECALL_TARGET:.0%}")
    if args.baseline:
        scores, misses = evaluate(items, first_edition_is_quote, rules)
        report("first edition (keyword in subject or attachment name)", scores, misses, True)
    t0 = time.perf_counter()
    scores, misses = evaluate(items, is_quote, rules)
    elapsed = time.perf_counter() - t0
    ok = report("is_quote (this branch)", scores, misses, args.show_held)
    print(f"\n  {elapsed / len(items) * 1e6:.0f} us per message (parse + classify + is_quote)")
    print("  targets met" if ok else "  targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
