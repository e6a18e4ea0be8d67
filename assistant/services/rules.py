"""The rules the domain reads, derived from the settings (or the defaults without any)."""

from __future__ import annotations

from datetime import time

from assistant.domain.model import Rules, StepRule
from assistant.settings import (
    DEFAULT_BUYER_PHRASES, DEFAULT_DECLINE_PHRASES, DEFAULT_EXCLUDE_PHRASES,
    DEFAULT_HOLDING_PHRASES, DEFAULT_NON_QUOTE_PHRASES, DEFAULT_PROMISE_PHRASES,
    DEFAULT_PUBLIC_DOMAINS, DEFAULT_QUOTE_KEYWORDS, DEFAULT_QUOTE_PHRASES,
    DEFAULT_REQUEST_PHRASES, Settings,
)

__all__ = ["rules_from_settings", "default_rules"]


def rules_from_settings(settings: Settings) -> Rules:
    hours, minutes = (int(part) for part in settings.protocol.send_window_start.split(":"))
    return Rules(
        domains=frozenset(settings.company.domains),
        members={m.email: m.role for m in settings.team.members},
        steps=tuple(StepRule(s.after_days, s.channel, s.template) for s in settings.protocol.steps),
        timezone=settings.team.timezone,
        holidays_country=settings.protocol.holidays_country,
        send_window_start=time(hours, minutes),
        quote_keywords=tuple(settings.detection.quote_keywords),
        quote_phrases=tuple(settings.detection.quote_phrases),
        decline_phrases=tuple(settings.detection.decline_phrases),
        request_phrases=tuple(settings.detection.request_phrases),
        exclude_phrases=tuple(settings.detection.exclude_phrases),
        holding_phrases=tuple(settings.detection.holding_phrases),
        public_domains=frozenset(settings.detection.public_domains),
        holding_days=settings.protocol.holding_days,
        buyer_phrases=tuple(settings.detection.buyer_phrases),
        promise_phrases=tuple(settings.detection.promise_phrases),
        non_quote_phrases=tuple(settings.detection.non_quote_phrases),
    )


def default_rules() -> Rules:
    """The rules with no settings file (``inspect`` on its own): no internal domains."""
    return Rules(domains=frozenset(), members={}, steps=(), timezone="UTC",
                 holidays_country="US", send_window_start=time(9, 0),
                 quote_keywords=DEFAULT_QUOTE_KEYWORDS, decline_phrases=DEFAULT_DECLINE_PHRASES,
                 request_phrases=DEFAULT_REQUEST_PHRASES, exclude_phrases=DEFAULT_EXCLUDE_PHRASES,
                 holding_phrases=DEFAULT_HOLDING_PHRASES,
                 public_domains=frozenset(DEFAULT_PUBLIC_DOMAINS),
                 quote_phrases=DEFAULT_QUOTE_PHRASES, buyer_phrases=DEFAULT_BUYER_PHRASES,
                 promise_phrases=DEFAULT_PROMISE_PHRASES,
                 non_quote_phrases=DEFAULT_NON_QUOTE_PHRASES)
