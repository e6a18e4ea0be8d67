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


def _closed(code, value):
    from datetime import datetime, timezone

    from assistant.domain.model import ThreadReport

    return ThreadReport(quote_message_id="<q@x>", subject="Cotización", contact=None,
                        status="closed" if code else "silent", owner=None, scenario="clear",
                        owner_candidates=(), touches=0, last_outbound_at=None,
                        last_reply_at=datetime(2026, 11, 27, tzinfo=timezone.utc), next_step=None,
                        closed_code=code, closed_value=value)


def test_a_closed_threads_reason_is_worded_from_its_code_as_the_domain_used_to_word_it():
    from assistant.wording import closed_reason

    assert closed_reason(_closed("marked", "won")) == "marked won"
    assert closed_reason(_closed("marked", "lost")) == "marked lost"
    assert closed_reason(_closed("declined", "ya no lo necesitamos")) == 'reply says "ya no lo necesitamos"'
    assert closed_reason(_closed("marked", "lost"), "es") == "marcado como perdido"
    assert closed_reason(_closed(None, None)) is None


def test_the_stored_closed_reason_is_a_code_and_reads_back_also_from_the_old_english():
    from assistant.storage.repo import closed_column, closed_from_column

    for code, value in (("marked", "won"), ("declined", 'dijo: "no, gracias"'), (None, None)):
        assert closed_from_column(closed_column(code, value)) == (code, value)
    assert closed_from_column("marked lost") == ("marked", "lost")
    assert closed_from_column('reply says "ya compramos"') == ("declined", "ya compramos")


# --- Due dates for people (issue 14, item 7) ------------------------------------------------

def test_due_words_count_business_days_of_the_teams_calendar_in_both_languages():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from assistant.wording import due_words

    zone = ZoneInfo("America/Mexico_City")
    now = datetime(2026, 11, 26, 16, 0, tzinfo=zone)  # Thursday

    def words(day: int, month: int = 11, hour: int = 9, language: str = "es") -> str:
        due = datetime(2026, month, day, hour, 0, tzinfo=zone)
        return due_words(due, now, timezone="America/Mexico_City", country="MX", language=language)

    assert words(26) == "vence hoy" and words(26, language="en") == "due today"
    assert words(26, hour=23) == "vence hoy"  # the local date counts, not 24 hours
    assert words(27) == "vence mañana" and words(27, language="en") == "due tomorrow"
    assert words(30) == "vence en 2 días hábiles"  # Fri 27, Mon 30 (weekend skipped)
    assert words(30, language="en") == "due in 2 business days"
    assert words(25) == "1 día hábil de atraso"
    assert words(23) == "3 días hábiles de atraso"
    assert words(23, language="en") == "3 business days overdue"
    assert words(13) == "8 días hábiles de atraso"  # Mon 16 Nov is a holiday in Mexico
    # a Monday after a weekend: Friday's step is 1 business day late
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=zone)
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=zone)
    assert due_words(friday, monday, timezone="America/Mexico_City", country="MX",
                     language="en") == "1 business day overdue"
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=zone)
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=zone)
    assert due_words(saturday, sunday, timezone="America/Mexico_City", country="MX",
                     language="es") == "vencido desde el 28 nov"
    # Friday to Tuesday after a weekend: not "tomorrow", 2 business days
    assert due_words(datetime(2026, 12, 1, 9, 0, tzinfo=zone), friday,
                     timezone="America/Mexico_City", country="MX") == "due in 2 business days"


def test_figures_are_written_as_their_reader_writes_numbers():
    from assistant.wording import figure

    assert figure(20.0, "es") == "20" and figure(20, "en") == "20"
    assert figure(2.5, "es") == "2,5" and figure(2.5, "en") == "2.5"
    assert figure(2.25, "es") == "2,2" or figure(2.25, "es") == "2,3"  # one decimal
    assert figure(None, "es") == "—"
