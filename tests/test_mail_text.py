"""assistant.mail.text: normalisation, phrases, keywords, reply text, language."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mail.parse import parse_message
from assistant.mail.text import contains_phrase, detect_language, has_keyword, normalize, reply_text

FIX = Path(__file__).parent / "fixtures" / "corpus"
QUOTE_KEYWORDS = ["cotización", "cotizacion", "presupuesto", "propuesta", "oferta", "quote",
                  "quotation", "proposal", "estimate"]


def test_normalize() -> None:
    assert normalize("  Cotización\tRÁPIDA \n Ñandú ") == "cotizacion rapida nandu"
    assert normalize("Straße") == "strasse"
    assert normalize("") == ""


def test_contains_phrase() -> None:
    assert contains_phrase("Gracias, pero NO NOS INTERESA por ahora", ["not interested", "no nos interesa"]) == "no nos interesa"
    assert contains_phrase("We are not   interested.", ["not interested"]) == "not interested"
    assert contains_phrase("uninterested", ["interested"]) is None
    assert contains_phrase("Fuera de la Oficína", ["fuera de la oficina"]) == "fuera de la oficina"
    assert contains_phrase("", ["x"]) is None


@pytest.mark.parametrize("text,expected", [
    ("Cotizacion_CT-12.pdf", "cotización"),  # first keyword of the list that matches
    ("Quote A-778", "quote"),
    ("Re: COTIZACIÓN para obra", "cotización"),
    ("Presupuestos 2026.xlsx", "presupuesto"),
    ("Nuestras ofertas", "oferta"),
    ("proposal-v2.docx", "proposal"),
    ("he quoted the price", None),
    ("unquote", None),
    ("Estimated delivery", None),
    ("Reunión del lunes", None),
])
def test_has_keyword(text: str, expected: str | None) -> None:
    assert has_keyword(text, QUOTE_KEYWORDS) == expected


@pytest.mark.parametrize("text", [
    "Hello\n\nOn Mon, Mar 2, 2026 at 10:00 AM Ana <ana@acme.example> wrote:\n> the quote\n",
    "Hello\n\nEl lun, 2 mar 2026 a las 10:00, Ana Ruiz (<ana@acme.example>) escribió:\n> la cotización\n",
    "Hello\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\nSubject: Quote\n",
    "Hello\n\n-----Mensaje original-----\nDe: Ana\nEnviado: lunes\n",
    "Hello\n\nFrom: Ana Ruiz <ana@acme.example>\nSent: Monday, March 2, 2026 10:00 AM\nTo: Jose\nSubject: Quote\n\nold text\n",
    "Hello\n\nDe: Ana Ruiz <ana@acme.example>\nEnviado el: lunes, 2 de marzo de 2026 10:00\nPara: José\nAsunto: Cotización\n",
    "Hello\n________________________________\nFrom: Ana\n",
    "Hello\n\nSent from my iPhone\n",
    "Hello\n\nEnviado desde mi iPhone\n",
    "Hello\n> quoted\n> more\n",
    "Hello\n\n-- \nAna Ruiz\nVentas\n",
])
def test_reply_text_cuts_quote_and_signature(text: str) -> None:
    assert reply_text(text) == "Hello"


def test_reply_text_bottom_posted() -> None:
    assert reply_text("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello\n") == "Hello"


def test_reply_text_keeps_plain_text() -> None:
    assert reply_text("Line one.\n\nLine two: details.\n") == "Line one.\n\nLine two: details."
    assert reply_text("") == ""


@pytest.mark.parametrize("path", sorted((FIX / "talon").glob("*.eml")), ids=lambda p: p.name)
def test_talon_standard_replies(path: Path) -> None:
    assert reply_text(parse_message(path.read_bytes()).text) == "Hello"


@pytest.mark.parametrize("text,lang", [
    ("Hola Ana, gracias por la cotización. La revisamos con el equipo y te contamos esta semana.", "es"),
    ("Hi Ana, thanks for the quote. We will review it with the team and let you know this week.", "en"),
    ("OK", None),
    ("", None),
    ("12345 67890", None),
])
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang
