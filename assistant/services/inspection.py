"""``followup inspect``: how the rules read raw message files (no store involved)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from assistant.domain.analysis import is_quote, mentions_quote
from assistant.domain.model import Rules
from assistant.domain.parsed import mail_from_parsed
from assistant.mail.classify import classify
from assistant.mail.parse import parse_message
from assistant.mail.text import detect_language, reply_text
from assistant.services.rules import default_rules
from assistant.wording import Worded

__all__ = ["Inspection", "inspect_files"]


@dataclass(frozen=True)
class Inspection:
    file: str
    message_id: str | None
    kind: str | None
    bounced_recipients: tuple[str, ...]
    bounce_permanent: bool | None
    is_quote: bool
    language: str | None
    warnings: tuple[str | Worded, ...]
    """The parser's own notes (technical, English), and this module's (worded)."""
    subject: str = ""
    from_addr: str | None = None

    def as_json(self) -> dict:
        return {"file": self.file, "message_id": self.message_id, "kind": self.kind,
                "bounced_recipients": list(self.bounced_recipients),
                "bounce_permanent": self.bounce_permanent, "is_quote": self.is_quote,
                "language": self.language, "warnings": [str(w) for w in self.warnings]}


def inspect_files(paths: Iterable[str], rules: Rules | None) -> list[Inspection]:
    """How the rules read raw message files. Without settings (``rules`` None), a message
    "is a quote" when its subject, attachment names or body match the quote rules, since
    there are no internal domains to tell outbound mail from inbound (and it is of kind
    ``message``)."""
    results = []
    for name in paths:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(Inspection(name, None, None, (), None, False, None,
                                      (Worded("inspect.unreadable_file",
                                               error=exc.strerror or str(exc)),)))
            continue
        parsed = parse_message(data)
        warnings = list(parsed.warnings)
        if not parsed.reads_as_mail:
            warnings.append(Worded("inspect.not_mail"))
            results.append(Inspection(name, None, None, (), None, False, None, tuple(warnings)))
            continue
        kind = classify(parsed)
        mail = mail_from_parsed(parsed, kind)
        if rules is None:
            # No internal domains to tell outbound from inbound: judge the content, but a
            # robot's answer that echoes a quote's subject is never itself a quote.
            quote = kind.kind == "message" and mentions_quote(mail, default_rules())
        else:
            quote = is_quote(mail, rules)
        results.append(Inspection(
            file=name, message_id=parsed.message_id, kind=kind.kind,
            bounced_recipients=kind.bounced_recipients, bounce_permanent=kind.bounce_permanent,
            is_quote=quote,
            language=detect_language(parsed.subject + "\n" + reply_text(parsed.text)),
            warnings=tuple(warnings), subject=parsed.subject, from_addr=parsed.from_addr))
    return results
