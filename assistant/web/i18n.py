"""The web UI's language: the user's choice (kept in their session and in
``web_users.language``), else the browser's ``Accept-Language``, else Spanish.

The words are in the one catalogue, :mod:`assistant.wording`: templates write the English
(``{{ _("Sign in") }}``) of a catalogue entry and :func:`translate` gives it in the page's
language; identifiers go through ``term`` (``{{ term("status", report.status) }}``).
"""

from __future__ import annotations

from assistant.wording import web_text

LANGUAGES = ("es", "en")
DEFAULT = "es"


def choose(chosen: str | None, accept_languages) -> str:
    if chosen in LANGUAGES:
        return chosen
    best = accept_languages.best_match(LANGUAGES) if accept_languages else None
    return best or DEFAULT


def translate(lang: str, text: str, **kwargs) -> str:
    """``text`` (the English of a catalogue entry) in ``lang``."""
    return web_text(text, lang, **kwargs)
