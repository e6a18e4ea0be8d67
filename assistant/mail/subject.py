"""Subjects as threads compare them (DESIGN.md rule 2). Pure.

Mail clients prefix a reply's or forward's subject in their user's language (``RE:``,
``RV:`` in Spanish Outlook, ``AW:``/``WG:`` in German, ``TR:`` in French, ``SV:``/``VS:``
in the Nordic ones, ``Rpta:``/``Resp:`` in Latin American webmail), sometimes counted
(``Re[2]:``, ``RE (2):``) or with a full-width colon (``：``), and gateways add tags
(``[EXTERNAL]``, ``[EXTERNO]``). The normalised subject strips all of that, repeatedly,
from the start, then folds case, accents and runs of white space.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.mail.text import normalize

__all__ = ["normalize_subject", "has_reply_prefix", "REPLY_PREFIXES"]

REPLY_PREFIXES = ("re", "fw", "fwd", "rv", "rpta", "resp", "aw", "wg", "tr", "sv", "vs")

_PREFIX_RE = re.compile(
    r"^\s*(?:" + "|".join(REPLY_PREFIXES) + r")\s*(?:\[\s*\d+\s*\]|\(\s*\d+\s*\))?\s*[:：]",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"^\s*\[[^\[\]]{1,60}\]")


def _strip(subject: str) -> tuple[str, bool]:
    """The subject without its leading prefixes and tags, and whether a reply/forward
    prefix was among them."""
    had_prefix = False
    while True:
        m = _PREFIX_RE.match(subject)
        if m is not None:
            had_prefix = True
            subject = subject[m.end():]
            continue
        m = _TAG_RE.match(subject)
        if m is not None:
            subject = subject[m.end():]
            continue
        return subject, had_prefix


@lru_cache(maxsize=8192)
def normalize_subject(subject: str) -> str:
    """``"RE: [EXTERNO] RV: Cotización  1042"`` -> ``"cotizacion 1042"``."""
    return normalize(_strip(subject or "")[0])


def has_reply_prefix(subject: str) -> bool:
    """The subject starts (after any tags) with a reply or forward prefix."""
    return _strip(subject or "")[1]
