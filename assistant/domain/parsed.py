"""A freshly parsed message as the domain reads it (``inspect``, the tests' builders and
the benchmarks build :class:`~assistant.domain.model.Mail` values from raw files)."""

from __future__ import annotations

from datetime import datetime, timezone

from assistant.domain.model import Mail
from assistant.mail.bulk import is_list_or_bulk

__all__ = ["mail_from_parsed"]


def mail_from_parsed(parsed, kind, *, key: int = 0, seen_at: datetime | None = None,
                     thread_hints: tuple[str, ...] = ()) -> Mail:
    """The domain's view of a freshly parsed and classified message (``kind`` is the
    :class:`~assistant.mail.classify.Classification`), as storage would give it back."""
    return Mail(key=key, message_id=parsed.message_id,
                date=parsed.date or seen_at or datetime.now(timezone.utc),
                from_addr=parsed.from_addr, to=parsed.to, cc=parsed.cc, bcc=parsed.bcc,
                subject=parsed.subject, in_reply_to=parsed.in_reply_to,
                references=parsed.references, kind=kind.kind,
                attachment_names=parsed.attachment_names, text=parsed.text,
                original_message_id=parsed.original_message_id,
                bounced_recipients=kind.bounced_recipients, thread_hints=thread_hints,
                list_mail=is_list_or_bulk(parsed.headers))
