"""The pure WhatsApp export parser, with literals (like imapclient's response parser tests),
then the fixture files: every line of each file accounted for, counted independently."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from connectors.whatsapp import read_export
from connectors.whatsapp_parse import ChatParseError, chat_title, decode_export, parse_chat

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
NNBSP, NBSP, LRM = "\u202f", "\u00a0", "\u200e"


def one(text: str, **kw):
    chat = parse_chat(text, **kw)
    assert len(chat.messages) == 1, chat.messages
    return chat.messages[0]


# --- Android ---------------------------------------------------------------------------

def test_spanish_android_12_hour_with_narrow_no_break_spaces():
    m = one(f"13/11/26, 4:41{NNBSP}p.{NNBSP}m. - Roberto Salinas: ¿Incluye flete?\n")
    assert (m.at, m.sender, m.text, m.kind) == (datetime(2026, 11, 13, 16, 41), "Roberto Salinas",
                                                "¿Incluye flete?", "text")


@pytest.mark.parametrize("header", [
    "12/11/2026 10:15 p. m. - ",            # four-digit year, no comma, plain spaces
    f"12/11/2026, 10:15{NBSP}p.{NBSP}m. - ",  # no-break spaces
    "12/11/26, 22:15 - ",                    # 24-hour
    "12/11/26 22:15 - ",
    "12.11.26, 22:15 - ",                    # dots between the numbers
    "12/11/26, 10:15 PM - ",
    "12/11/26, 10:15 pm - ",
])
def test_android_header_variants(header):
    m = one(header + "Ana: hola", date_order="day_first")
    assert m.at == datetime(2026, 11, 12, 22, 15)
    assert (m.sender, m.text) == ("Ana", "hola")


def test_twelve_midnight_and_noon():
    chat = parse_chat("1/2/26, 12:05 a. m. - A: x\n1/2/26, 12:05 p. m. - A: y\n")
    assert [m.at.hour for m in chat.messages] == [0, 12]


def test_english_android_month_first_from_the_values():
    chat = parse_chat("11/18/26, 3:31 PM - Ana: hi\n11/19/26, 9:12 AM - Megan: thanks\n",
                      date_order="day_first")
    assert chat.date_order == "month_first" and chat.date_order_from == "values"
    assert chat.messages[1].at == datetime(2026, 11, 19, 9, 12)


def test_an_ambiguous_file_takes_the_callers_order():
    text = "3/6/26, 10:00 - A: x\n"
    assert parse_chat(text, date_order="day_first").messages[0].at.month == 6
    chat = parse_chat(text, date_order="month_first")
    assert chat.messages[0].at.month == 3 and chat.date_order_from == "default"
    with pytest.raises(ValueError):
        parse_chat(text, date_order="dmy")


def test_one_day_over_12_decides_the_whole_file():
    chat = parse_chat("3/6/26, 10:00 - A: x\n25/6/26, 10:00 - A: y\n", date_order="month_first")
    assert chat.date_order == "day_first"
    assert chat.messages[0].at == datetime(2026, 6, 3, 10, 0)


def test_multi_line_messages_and_a_date_inside_the_text():
    chat = parse_chat("12/11/26, 10:15 - Ana: línea uno\nlínea dos\n\n2026-11-12 10:30 entrega\n"
                      "12/11/26, 10:16 - Roberto: ok\n")
    first, second = chat.messages
    assert first.text == "línea uno\nlínea dos\n\n2026-11-12 10:30 entrega"
    assert (first.first_line, first.line_count) == (1, 4)
    assert (second.first_line, second.line_count, second.sender) == (5, 1, "Roberto")


def test_android_system_notices_have_no_sender():
    chat = parse_chat(
        "12/11/26, 9:02 - Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie "
        "fuera de este chat puede leerlos.\n"
        "12/11/26, 9:03 - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
        "12/11/26, 9:04 - Roberto Salinas es un contacto.\n"
        "12/11/26, 9:05 - Ana creó el grupo \"Válvulas\"\n")
    assert [(m.sender, m.kind) for m in chat.messages] == [(None, "system")] * 4
    assert chat.senders() == ()


@pytest.mark.parametrize("text, kind, attachment", [
    ("<Media omitted>", "media", None),
    ("<Multimedia omitido>", "media", None),
    ("IMG-20261113-WA0007.jpg (archivo adjunto)", "media", "IMG-20261113-WA0007.jpg"),
    ("Cotizacion COT-2291.pdf (file attached)", "media", "Cotizacion COT-2291.pdf"),
    ("Se eliminó este mensaje.", "deleted", None),
    ("Eliminaste este mensaje.", "deleted", None),
    ("This message was deleted", "deleted", None),
    ("You deleted this message", "deleted", None),
])
def test_android_media_attachments_and_deleted(text, kind, attachment):
    m = one(f"12/11/26, 10:15 - Roberto: {text}")
    assert (m.kind, m.attachment, m.sender) == (kind, attachment, "Roberto")


def test_an_attached_file_with_a_caption():
    m = one("12/11/26, 10:15 - Roberto: foto.jpg (archivo adjunto)\nasí quedó")
    assert (m.kind, m.attachment, m.line_count) == ("media", "foto.jpg", 2)


def test_edited_marker_is_cut_off():
    m = one("12/11/26, 10:15 - Ana: le confirmo mañana <Se editó este mensaje.>")
    assert (m.text, m.edited) == ("le confirmo mañana", True)
    m = one("11/20/26, 10:15 AM - Ana: see you Monday <This message was edited>")
    assert (m.text, m.edited) == ("see you Monday", True)


def test_an_unsaved_number_as_sender_loses_its_direction_marks():
    m = one("11/19/26, 9:12 AM - \u202a+52 1 81 1234 5678\u202c: hola")
    assert m.sender == "+52 1 81 1234 5678"


def test_an_empty_message_keeps_its_sender():
    m = one("12/11/26, 10:15 - Ana:")
    assert (m.sender, m.text) == ("Ana", "")


# --- iPhone ----------------------------------------------------------------------------

def test_english_iphone_with_seconds_and_am_pm():
    m = one("[11/21/26, 8:02:47 AM] Megan Doyle: Got it", date_order="month_first")
    assert (m.at, m.sender, m.text) == (datetime(2026, 11, 21, 8, 2, 47), "Megan Doyle", "Got it")


def test_spanish_iphone_24_hour_and_a_narrow_space_before_a_m():
    assert one("[14/11/26, 17:02:11] Lucía: Gracias").at == datetime(2026, 11, 14, 17, 2, 11)
    m = one(f"[14/11/26, 5:02:11{NNBSP}p.{NNBSP}m.] Lucía: Gracias")
    assert m.at == datetime(2026, 11, 14, 17, 2, 11)


def test_iphone_notices_and_attachments_carry_a_left_to_right_mark():
    chat = parse_chat(
        f"[12/11/26, 11:20:04] Grupo Lara: {LRM}Los mensajes y las llamadas están cifrados de "
        "extremo a extremo.\n"
        f"{LRM}[12/11/26, 11:20:40] Ana: {LRM}<adjunto: 00000003-Propuesta.pdf>\n"
        f"{LRM}[12/11/26, 11:21:00] Ana: {LRM}<attached: 00000004-PHOTO-2026-11-12.jpg>\n"
        f"{LRM}[12/11/26, 11:22:00] Lucía: {LRM}imagen omitida\n"
        f"{LRM}[12/11/26, 11:23:00] Lucía: {LRM}sticker omitted\n"
        f"{LRM}[12/11/26, 11:24:00] Lucía: {LRM}Q-77.pdf • {LRM}2 páginas {LRM}documento omitido\n")
    kinds = [(m.sender, m.kind, m.attachment) for m in chat.messages]
    assert kinds == [("Grupo Lara", "system", None),
                     ("Ana", "media", "00000003-Propuesta.pdf"),
                     ("Ana", "media", "00000004-PHOTO-2026-11-12.jpg"),
                     ("Lucía", "media", None), ("Lucía", "media", None),
                     ("Lucía", "media", "Q-77.pdf")]
    assert chat.platform == "ios" and chat.senders() == ("Ana", "Lucía")


def test_an_android_shaped_line_inside_an_iphone_chat_is_text():
    chat = parse_chat("[12/11/26, 11:20:04] Ana: mira lo que me llegó:\n12/11/26, 10:00 - Juan: hola\n")
    assert len(chat.messages) == 1
    assert chat.messages[0].text.endswith("12/11/26, 10:00 - Juan: hola")


# --- Not a chat, odd bytes, zips, names -----------------------------------------------

def test_text_without_a_date_header_is_refused():
    with pytest.raises(ChatParseError):
        parse_chat("Subject: hola\n\nno es un chat\n")


def test_an_impossible_date_is_text_of_the_message_before():
    chat = parse_chat("12/11/26, 10:15 - Ana: hola\n31/02/26, 10:16 - no: es fecha\n")
    assert len(chat.messages) == 1 and chat.messages[0].line_count == 2


def test_decoding_bom_crlf_and_latin1():
    assert decode_export("\ufeff12/11/26, 10:15 - Ana: sí\r\n".encode("utf-8")).startswith("12/")
    assert decode_export("12/11/26, 10:15 - Ana: sí".encode("utf-16")).endswith("sí")
    assert decode_export("12/11/26, 10:15 - Ana: sí".encode("cp1252")).endswith("sí")
    chat = parse_chat("\n12/11/26, 10:15 - Ana: uno\r\ndos\r\n")
    assert chat.preamble == (1,) and chat.messages[0].text == "uno\ndos"


@pytest.mark.parametrize("name, title", [
    ("WhatsApp Chat with Megan Doyle.txt", "Megan Doyle"),
    ("WhatsApp Chat - Harbor Logistics.zip", "Harbor Logistics"),
    ("Chat de WhatsApp con Roberto Salinas (1).txt", "Roberto Salinas"),
    ("Chat de WhatsApp con +52 81 1234 5678.zip", "+52 81 1234 5678"),
    ("_chat.txt", None),
])
def test_chat_title_from_the_file_name(name, title):
    assert chat_title(name) == title


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_read_export_finds_the_chat_text_in_an_iphone_zip():
    data = _zip(**{"00000003-Propuesta.pdf": b"%PDF", "_chat.txt": "[14/11/26, 17:02:11] Lucía: Gracias".encode()})
    title, chat = read_export(data, "WhatsApp Chat - Lucía Lara.zip")
    assert title == "Lucía Lara" and chat.messages[0].sender == "Lucía"


def test_read_export_refuses_a_zip_without_chat_text_and_a_broken_zip():
    with pytest.raises(ChatParseError, match="no chat .txt"):
        read_export(_zip(**{"foto.jpg": b"\xff\xd8"}), "x.zip")
    with pytest.raises(ChatParseError, match="zip"):
        read_export(b"PK\x03\x04broken", "x.zip")


# --- The fixture files: nothing lost ---------------------------------------------------

_HEADER_LIKE = re.compile(r"^\u200e?\[?\d{1,2}[/.]\d{1,2}[/.]\d{2,4},? \d{1,2}[:.]\d{2}")


def independent_headers(text: str) -> list[int]:
    """Line numbers that start a message, by a rule of their own (not the parser's): a line
    that starts with a date and a time."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if _HEADER_LIKE.match(line)]


def assert_nothing_lost(text: str, chat) -> None:
    lines = text.splitlines()
    assert chat.line_total == len(lines)
    covered = list(chat.preamble)
    for m in chat.messages:
        covered.extend(range(m.first_line, m.first_line + m.line_count))
    assert sorted(covered) == list(range(1, len(lines) + 1)), "a line belongs to no message or to two"
    assert [m.first_line for m in chat.messages] == independent_headers(text)
    for m in chat.messages:  # each message's text is its lines' text (markers aside)
        last = lines[m.first_line + m.line_count - 2] if m.line_count > 1 else None
        if last is not None and last.strip():
            assert last.replace("\u200e", "").strip() in m.text


DEV = {
    "Chat de WhatsApp con Roberto Salinas.txt": ("android", "day_first", 8, ("Ana Pérez", "Roberto Salinas")),
    "WhatsApp Chat with +1 (415) 555-0147.txt": ("android", "month_first", 6, ("Ana Perez", "+1 (415) 555-0147")),
    "en-iphone-_chat.txt": ("ios", "month_first", 6, ("Ana Perez", "Megan Doyle")),
    "es-iphone-_chat.txt": ("ios", "day_first", 6, ("Ana Pérez", "Lucía Lara")),
}


@pytest.mark.parametrize("name", sorted(DEV))
def test_fixture_files_parse_without_loss(name):
    text = decode_export((FIXTURES / name).read_bytes())
    chat = parse_chat(text, date_order="day_first" if "en-" not in name else "month_first")
    platform, order, count, senders = DEV[name]
    assert (chat.platform, chat.date_order, len(chat.messages), chat.senders()) == (
        platform, order, count, senders)
    assert_nothing_lost(text, chat)


def test_an_iphone_notice_names_the_chat():
    chat = parse_chat(f"[12/11/26, 11:20:04] Grupo Lara: {LRM}Messages and calls are end-to-end "
                      "encrypted.\n[12/11/26, 11:21:04] Ana: hola\n")
    assert chat.name == "Grupo Lara"
    assert parse_chat("12/11/26, 10:15 - Ana: hola").name is None
