"""WhatsApp "Export chat" files, read as plain values: text in, messages out (no I/O).

Like imapclient's response parser, this module only turns what it is handed into values
and is tested with literals (``tests/test_whatsapp_parse.py``); the connector
(:mod:`connectors.whatsapp`) reads the files.

The shapes it reads (both apps, any locale that writes numeric dates):

* Android: ``12/11/26, 10:15 - Name: text`` -- a day and month in either order, a two- or
  four-digit year, an optional comma, 24-hour time or a 12-hour time with ``AM``/``PM``,
  ``a. m.``/``p. m.`` (the spaces often U+00A0 or U+202F), then `` - ``.
* iPhone: ``[12/11/26, 10:15:32] Name: text`` -- seconds, square brackets; a U+200E mark
  before the line and before the text of system notices and attachments.
* A message runs to the next line that starts with a date header (multi-line messages);
  the lines before the first header (a byte-order mark, blank lines) are kept as
  ``preamble``.
* System notices (the encryption notice, "created group", a changed security code) have
  no sender on Android, and the chat's name as sender with a U+200E-marked text on
  iPhone: both come out with ``kind = "system"``.
* Media left out of the export (``<Media omitted>``, ``<Multimedia omitido>``, ``image
  omitted``, ``imagen omitida``) are ``media``; attached files (``NAME (file attached)``,
  ``NAME (archivo adjunto)``, ``<attached: NAME>``, ``<adjunto: NAME>``) are ``media`` with
  their ``attachment``; ``This message was deleted`` / ``Se eliminó este mensaje.`` are
  ``deleted``; an edited message's ``<This message was edited>`` marker is cut off.

Dates carry no zone (the phone's local time): ``at`` is naive. The day/month order is
decided per file from the values (a first field over 12 means day first, a second one
over 12 month first), else from the caller's ``date_order``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ChatMessage", "ParsedChat", "ChatParseError", "parse_chat", "decode_export",
           "chat_title", "DATE_ORDERS"]

DATE_ORDERS = ("day_first", "month_first")

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACES = {"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " "}
_MARK_RE = re.compile("[" + _MARKS + "]")
_SPACE_RE = re.compile("[" + "".join(_SPACES) + "]")

_DATE = r"(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{1,4})"
_AMPM = r"(?P<ampm>[aApP]\.?\s?[mM]\.?)"
_ANDROID = re.compile(
    r"^[" + _MARKS + r"]*" + _DATE + r",?\s(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:\s?" + _AMPM
    + r")?\s[-\u2013]\s(?P<rest>.*)$", re.S)
_IOS = re.compile(
    r"^[" + _MARKS + r"]*\[" + _DATE + r",?\s(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:\s?" + _AMPM + r")?\]\s(?P<rest>.*)$", re.S)

# System notices: how they start, in English and Spanish (folded: no accents, lower case).
_SYSTEM_STARTS = (
    "messages and calls are end-to-end encrypted", "messages to this chat and calls are",
    "los mensajes y las llamadas estan cifrados", "los mensajes y llamadas estan cifrados",
    "los mensajes de este chat y las llamadas", "your security code with", "tu codigo de seguridad",
    "you created group", "creaste el grupo", "you were added", "te anadio", "te añadio",
    "this chat is with a business account", "este chat es con una cuenta de empresa",
    "disappearing messages", "los mensajes temporales", "you blocked this contact",
    "bloqueaste a este contacto", "you unblocked this contact", "desbloqueaste a este contacto",
    "missed voice call", "missed video call", "llamada perdida", "videollamada perdida",
)
_SYSTEM_CONTAINS = (
    " created group ", " creo el grupo ", " added ", " anadio a ", " left", " salio del grupo",
    " changed the subject", " cambio el asunto", " changed this group's icon",
    " cambio la imagen de este grupo", " changed to ", " cambio su numero", " joined using",
    " se unio usando", " removed ", " elimino a ", " is a contact", " es un contacto",
)
_OMITTED = re.compile(
    r"^(?:<\s*(?:media omitted|multimedia omitido|archivo omitido)\s*>"
    r"|(?:image|video|audio|sticker|gif|document|contact card|imagen|video|audio|sticker|gif"
    r"|documento|tarjeta de contacto)\s+(?:omitted|omitid[oa]))$", re.I)
_DOCUMENT_OMITTED = re.compile(r"^(?P<name>.+?)\s*(?:•.*)?\s+(?:document omitted|documento omitido)$", re.I)
_ATTACHED_ANDROID = re.compile(r"^(?P<name>\S.*?)\s+\((?:file attached|archivo adjunto)\)(?:\n(?P<caption>.*))?$",
                               re.I | re.S)
_ATTACHED_IOS = re.compile(r"^<\s*(?:attached|adjunto)\s*:\s*(?P<name>[^>]+?)\s*>(?:\n(?P<caption>.*))?$",
                           re.I | re.S)
_DELETED = (
    "this message was deleted", "you deleted this message", "se elimino este mensaje",
    "eliminaste este mensaje", "este mensaje fue eliminado",
)
_EDITED = re.compile(r"\s*<(?:this message was edited|se edit[oó] este mensaje\.?|mensaje editado)>\s*$", re.I)
_TITLE = re.compile(
    r"^(?:whatsapp chat with|whatsapp chat -|chat de whatsapp con|chat de whatsapp -|"
    r"whatsapp chat mit|conversa do whatsapp com)\s+(?P<name>.+)$", re.I)


class ChatParseError(ValueError):
    """The text is not a WhatsApp chat export (no line starts with a date header)."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message (or system notice) of a chat export."""

    at: datetime
    """Naive: the phone's local time."""
    sender: str | None
    """As the export writes it (a saved contact's name, a phone number, the exporter's own
    name); ``None`` for Android system notices."""
    text: str
    """The message's text, lines joined with ``\\n``, the direction marks removed."""
    kind: str
    """``text`` | ``media`` | ``deleted`` | ``system``."""
    first_line: int
    """1-based number of the line the message starts on."""
    line_count: int
    attachment: str | None = None
    """The file name of an attached file, when the export names it."""
    edited: bool = False


@dataclass(frozen=True, slots=True)
class ParsedChat:
    messages: tuple[ChatMessage, ...]
    platform: str
    """``android`` | ``ios`` (the header shape of the first message)."""
    date_order: str
    """``day_first`` | ``month_first``: as decided for this file."""
    date_order_from: str
    """``values`` (a field over 12 settled it) or ``default`` (the caller's)."""
    preamble: tuple[int, ...] = ()
    """Line numbers before the first message (blank lines, a byte-order mark)."""
    line_total: int = 0

    @property
    def name(self) -> str | None:
        """The chat's name, when an iPhone notice gives it (its "sender")."""
        return next((m.sender for m in self.messages if m.kind == "system" and m.sender), None)

    def senders(self) -> tuple[str, ...]:
        """The distinct senders of real messages (system notices left out), in order."""
        seen: dict[str, None] = {}
        for message in self.messages:
            if message.sender is not None and message.kind != "system":
                seen.setdefault(message.sender, None)
        return tuple(seen)


def fold(text: str) -> str:
    """What phrases are compared on: lower case ASCII (accents off, other characters
    dropped), runs of white space as one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", _SPACE_RE.sub(" ", text)).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split())


def _unmark(text: str) -> str:
    return _MARK_RE.sub("", text) if not text.isascii() else text


def _spaces(text: str) -> str:
    return _SPACE_RE.sub(" ", text) if not text.isascii() else text


def decode_export(data: bytes) -> str:
    """An export's bytes as text: UTF-8 (with or without a byte-order mark), else
    UTF-16 with a byte-order mark, else Latin-1 (never fails)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def chat_title(file_name: str) -> str | None:
    """The chat's name from an export's file name: ``WhatsApp Chat with Juan Pérez.txt``,
    ``WhatsApp Chat - Juan Pérez.zip``, ``Chat de WhatsApp con Juan Pérez (1).txt``; ``None``
    for ``_chat.txt`` and other names."""
    name = file_name.rsplit("/", 1)[-1]
    name = re.sub(r"\.(txt|zip)$", "", name, flags=re.I)
    name = _spaces(_unmark(re.sub(r"\s*\(\d+\)$", "", name))).strip()
    match = _TITLE.match(name)
    return match.group("name").strip() if match else None


@dataclass
class _Header:
    line: int
    a: int
    b: int
    c: int
    hour: int
    minute: int
    second: int
    ampm: str | None
    rest: str
    ios: bool


def _header(line: str, number: int, platform: str | None = None) -> _Header | None:
    """The date header ``line`` starts with; once the file's ``platform`` is known, only
    that app's shape counts (the other's is text)."""
    clean = _spaces(line)
    match = _IOS.match(clean) if platform != "android" else None
    ios = match is not None
    if match is None:
        match = _ANDROID.match(clean) if platform != "ios" else None
        if match is None:
            return None
    ampm = match.group("ampm")
    second = match.groupdict().get("s")
    return _Header(number, int(match.group("a")), int(match.group("b")), int(match.group("c")),
                   int(match.group("h")), int(match.group("m")), int(second or 0),
                   ampm[0].lower() if ampm else None,
                   match.group("rest"), ios)


def _order(headers: list[_Header], default: str) -> tuple[str, str]:
    if any(h.a > 31 for h in headers):
        return "year_first", "values"
    if any(h.a > 12 for h in headers):
        return "day_first", "values"
    if any(h.b > 12 for h in headers):
        return "month_first", "values"
    return default, "default"


def _when(h: _Header, order: str) -> datetime | None:
    if order == "year_first":
        year, month, day = h.a, h.b, h.c
    elif order == "day_first":
        day, month, year = h.a, h.b, h.c
    else:
        month, day, year = h.a, h.b, h.c
    if year < 100:
        year += 2000
    hour = h.hour
    if h.ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if h.ampm == "p" else 0)
    try:
        return datetime(year, month, day, hour, h.minute, h.second)
    except ValueError:
        return None


def _split_sender(rest: str, ios: bool) -> tuple[str | None, str]:
    """``Name: text`` -> (name, text); a notice without a sender -> (None, rest)."""
    if not ios and _is_system(rest):
        return None, rest
    sender, sep, text = rest.partition(": ")
    if not sep:
        if rest.endswith(":") and 0 < len(rest) <= 81:
            return rest[:-1], ""  # an empty message
        return None, rest
    if ios and sender.startswith("\u200e"):
        return None, rest
    return sender, text


def _is_system(text: str) -> bool:
    head = fold(text[:80])  # fold drops the direction marks
    if head.startswith(_SYSTEM_STARTS):
        return True
    if ": " in text:
        return False
    folded = fold(text[:300])
    return any(part in " " + folded for part in _SYSTEM_CONTAINS)


def _kind(text: str, marked: bool) -> tuple[str, str, str | None, bool]:
    """(kind, text, attachment, edited) of one message's text. ``marked``: the text began
    with U+200E (iPhone's notices and attachments)."""
    edited = False
    match = _EDITED.search(text)
    if match:
        text, edited = text[:match.start()], True
    bare = _unmark(text).strip()
    if len(bare) <= 40 and fold(bare).rstrip(".") in _DELETED:
        return "deleted", bare, None, edited
    if _OMITTED.match(bare):
        return "media", bare, None, edited
    for pattern in (_ATTACHED_ANDROID, _ATTACHED_IOS):
        match = pattern.match(bare)
        if match:
            return "media", bare, match.group("name").strip(), edited
    match = _DOCUMENT_OMITTED.match(bare)
    if match:
        return "media", bare, match.group("name").strip(), edited
    if marked and _is_system(bare):
        return "system", bare, None, edited
    return "text", bare if marked else _unmark(text), None, edited


def parse_chat(text: str, *, date_order: str = "day_first") -> ParsedChat:
    """Every message of an export's text. ``date_order`` (``day_first`` |
    ``month_first``) decides ``1/2/26`` when no value in the file does.

    Raises :class:`ChatParseError` when no line starts with a date header. Never drops a
    line: each belongs to one message (``first_line``, ``line_count``) or to the preamble.
    """
    if date_order not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {DATE_ORDERS}, not {date_order!r}")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it starts none
    headers: list[_Header] = []
    body: list[list[str]] = []
    preamble: list[int] = []
    platform: str | None = None
    for number, line in enumerate(lines, start=1):
        header = _header(line, number, platform)
        if header is not None:
            platform = platform or ("ios" if header.ios else "android")
            headers.append(header)
            body.append([header.rest])
        elif headers:
            body[-1].append(line)
        else:
            preamble.append(number)
    if not headers:
        raise ChatParseError("no line starts with a WhatsApp date header "
                             "(like \"12/11/26, 10:15 - Name: text\" or \"[12/11/26, 10:15:32] Name: text\")")
    order, source = _order(headers, date_order)
    messages: list[ChatMessage] = []
    for header, parts in zip(headers, body):
        at = _when(header, order)
        joined = "\n".join(parts)
        if at is None:  # an impossible date: the line is text of the message before
            if messages:
                prev = messages[-1]
                messages[-1] = ChatMessage(prev.at, prev.sender, prev.text + "\n" + joined, prev.kind,
                                           prev.first_line, prev.line_count + len(parts),
                                           prev.attachment, prev.edited)
            else:
                preamble.extend(range(header.line, header.line + len(parts)))
            continue
        sender, content = _split_sender(joined, header.ios)
        if sender is None:
            kind, content, attachment, edited = "system", _unmark(content).strip(), None, False
        else:
            sender = _spaces(_unmark(sender)).strip()
            kind, content, attachment, edited = _kind(content, content.startswith("\u200e"))
        messages.append(ChatMessage(at, sender, content, kind, header.line, len(parts),
                                    attachment, edited))
    return ParsedChat(tuple(messages), platform or "android",
                      order if order != "year_first" else "day_first", source,
                      tuple(sorted(preamble)), len(lines))
