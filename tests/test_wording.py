"""The message catalogue: every code worded in English and Spanish, with the same values."""

from datetime import date

import pytest

from assistant.wording import CATALOGUE, LANGUAGES, placeholders, say, short_day


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_worded_in_every_language_with_the_same_placeholders(code):
    entry = CATALOGUE[code]
    assert set(entry) == set(LANGUAGES), code
    assert placeholders(entry["en"]) == placeholders(entry["es"]), code


def test_say_words_a_code_in_the_readers_language_and_falls_back_to_english():
    day = short_day(date(2026, 12, 4), "es")
    assert say("waiting.promised", "es", day=day) == "prometido: vie 4 dic"
    assert say("waiting.back", "fr", day="Mon 14 Dec") == "back on Mon 14 Dec"
    with pytest.raises(KeyError):
        say("no.such.code", "en")
