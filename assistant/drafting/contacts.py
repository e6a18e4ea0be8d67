"""What a follow-up needs to know about people, read from mail text (pure, no I/O).

* :func:`find_phone` — the contact's phone from their own messages (signatures), with
  the ``phonenumbers`` library, default region = ``protocol.holidays_country``;
* :func:`signature_of` — a team member's signature, from the end of their own messages;
* :func:`quote_number` — the quote's number from its subject or attachment names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import phonenumbers

from assistant.mail.text import reply_text

_MOBILE_WORDS = re.compile(r"\b(cel|celular|m[oó]vil|mobile|cell|whats\s*app|wa)\b", re.I)
_MX_LEGACY_MOBILE = re.compile(r"\+\s*52[\s.-]*1[\s.-]+(?=\d)")
"""Mexico's old "+52 1" mobile prefix, still common in signatures; the number is the same
without the 1 (since 2019), and WhatsApp wants it without."""


@dataclass(frozen=True)
class Phone:
    e164: str
    """``+528122334455``"""
    display: str
    """``+52 81 2233 4455``"""
    mobile_hint: bool = False

    @property
    def digits(self) -> str:
        return self.e164.lstrip("+")


def normalise_phone(text: str | None, region: str) -> str | None:
    """A phone number as E.164 (``+528122334455``), read like a signature's: numbers
    without a country code in ``region``, Mexico's old ``+52 1`` mobile prefix dropped;
    ``None`` when it is no valid number."""
    if not text:
        return None
    cleaned = _MX_LEGACY_MOBILE.sub("+52 ", text.strip())
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_SIG_LINE = re.compile(r"\n-- ?\n")


def own_text(text: str) -> str:
    """The author's own text with their signature (``reply_text`` drops the ``-- ``
    signature block; phones live there)."""
    text = text.replace("\r\n", "\n")
    parts = _SIG_LINE.split(text, maxsplit=1)
    own = reply_text(parts[0])
    if len(parts) == 2:
        own += "\n-- \n" + reply_text(parts[1])
    return own


def find_phone(texts: Iterable[str], region: str, *, prefer_mobile: bool = False) -> Phone | None:
    """The first phone number in the author's own text of these messages (newest first:
    pass them in that order). Quoted text below a reply is not the author's, so it is
    skipped (it would usually be our own signature)."""
    candidates: list[Phone] = []
    for text in texts:
        own = _MX_LEGACY_MOBILE.sub("+52 ", own_text(text or ""))
        for line in own.splitlines():
            for match in phonenumbers.PhoneNumberMatcher(line, region):
                number = match.number
                if not phonenumbers.is_valid_number(number):
                    continue
                candidates.append(Phone(
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                    phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                    bool(_MOBILE_WORDS.search(line))))
        if candidates:
            break
    if not candidates:
        return None
    if prefer_mobile:
        for phone in candidates:
            if phone.mobile_hint:
                return phone
    return candidates[0]


def signature_of(texts: Iterable[str], name: str) -> str | None:
    """The signature block of a member's own messages: after a ``-- `` line, else the
    last paragraph when it starts with their name (up to six lines)."""
    first = name.split()[0].lower() if name else ""
    for text in texts:
        own = own_text(text or "").strip()
        if not own:
            continue
        if "\n-- \n" in own:
            block = own.rsplit("\n-- \n", 1)[1].strip()
            if block and len(block.splitlines()) <= 6:
                return block
        block = own.rsplit("\n\n", 1)[-1].strip()
        lines = block.splitlines()
        if lines and len(lines) <= 6 and first and lines[0].lower().startswith(first):
            return block
    return None


_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,4}-\d{4}-\d{2,5}(?:-R\d+)?|[A-Z]{1,4}-\d{3,6}(?:-\d{2,4})?)(?![A-Za-z0-9])")
_BARE = re.compile(r"(?i)\b(?:no\.?|n[úu]m(?:ero)?\.?|pedido|folio|#)\s*(\d{3,8})\b")


def quote_number(subject: str, attachment_names: Iterable[str] = ()) -> str | None:
    """``CN-2026-0401`` from "Cotización CN-2026-0401 ..." or from "Cotizacion_CN-2026-0401.pdf";
    ``4471`` from "Cotización pedido 4471"; ``None`` when nothing looks like a number."""
    texts = [subject or ""] + [re.sub(r"\.[A-Za-z0-9]{2,4}$", "", n).replace("_", " ")
                                for n in attachment_names]
    for text in texts:
        match = _CODE.search(text)
        if match:
            return match.group(1)
    match = _BARE.search(subject or "")
    return match.group(1) if match else None


def first_name(display_name: str | None, email: str | None = None) -> str | None:
    """"Ing. Raúl Quiroga" -> "Raúl"; no name -> None (templates choose a neutral greeting)."""
    if display_name:
        words = [w for w in display_name.replace(",", " ").split()
                 if not re.fullmatch(r"(?i)(ing|lic|dr|dra|sr|sra|srta|mr|mrs|ms|arq|c\.p)\.?", w)]
        if words and "@" not in words[0] and not words[0].isupper():
            return words[0]
    return None


_GREETING_WORDS = {"hola", "hi", "hello", "dear", "estimado", "estimada", "buen", "buenos",
                   "buenas", "good", "querido", "querida", "hey", "saludos", "apreciable"}
_TITLES = {"ing", "ingeniero", "ingeniera", "lic", "licenciado", "licenciada", "dr", "dra",
           "doctor", "doctora", "sr", "sra", "srta", "señor", "señora", "mr", "mrs", "ms", "arq"}


def greeting_name(text: str | None, email: str | None = None) -> str | None:
    """The first name a quote greets its contact by ("Gerardo, buen día." / "Hi Mike,"),
    when the greeting is plainly a first name (not "Estimado cliente", not a title)."""
    if not text:
        return None
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    head = re.split(r"[,:;.!]", line, maxsplit=1)[0].split()
    if not head or len(head) > 3:
        return None
    words = list(head)
    while words and words[0].lower() in _GREETING_WORDS:
        words.pop(0)
    if not words or words[0].lower().rstrip(".") in _TITLES:
        return None
    word = words[0]
    if not word[:1].isupper() or not word.isalpha() or word.lower() in {"día", "dia", "tardes", "morning"}:
        return None
    return word


def company_from(email: str | None) -> str | None:
    """A readable company name from a client's domain (``grupolozano.example`` ->
    ``Grupolozano``); ``None`` for public mail domains."""
    from assistant.domain.followups import PUBLIC_MAIL_DOMAINS

    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].lower()
    if domain in PUBLIC_MAIL_DOMAINS:
        return None
    return domain.split(".")[0].replace("-", " ").title()
