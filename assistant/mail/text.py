"""Pure text helpers: normalisation, phrase and keyword matching, reply trimming, language.

Everything here is accent- and case-insensitive: text is compared after :func:`normalize`
(casefold, accents stripped, whitespace collapsed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["normalize", "contains_phrase", "has_keyword", "own_text", "reply_text",
           "detect_language"]

_WS_RE = re.compile(r"\s+")


# The combining-mark blocks (accents, tildes, cedillas once decomposed by NFKD). A regex
# over these ranges is ~10x faster than testing unicodedata.combining() per character.
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))


@lru_cache(maxsize=256)
def normalize(text: str) -> str:
    """Casefold, strip accents (NFKD, combining marks dropped), collapse whitespace."""
    if not text:
        return ""
    return _WS_RE.sub(" ", _strip_accents(text.casefold())).strip()


def _words_pattern(norm: str) -> str:
    return r"\s+".join(re.escape(w) for w in norm.split(" "))


@lru_cache(maxsize=1024)
def _phrase_re(phrase: str) -> re.Pattern[str] | None:
    norm = normalize(phrase)
    if not norm:
        return None
    left = r"(?<!\w)" if norm[0].isalnum() or norm[0] == "_" else ""
    right = r"(?!\w)" if norm[-1].isalnum() or norm[-1] == "_" else ""
    return re.compile(left + _words_pattern(norm) + right)


@lru_cache(maxsize=1024)
def _keyword_re(keyword: str) -> re.Pattern[str] | None:
    norm = normalize(keyword)
    if not norm:
        return None
    return re.compile(r"(?<![a-z])" + _words_pattern(norm) + r"(?:s|es)?(?![a-z])")


@lru_cache(maxsize=256)
def _prepared(items: tuple[str, ...], compile_item) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    return tuple((item, normalize(item), pattern) for item in items
                 if (pattern := compile_item(item)) is not None)


def _first_match(text: str, items: Iterable[str], compile_item) -> str | None:
    if not text:
        return None
    norm = normalize(text)
    # A plain substring test (C speed) rules out almost every item before its regex runs:
    # normalised text has single spaces, exactly like the normalised item.
    for item, literal, pattern in _prepared(tuple(items), compile_item):
        if literal in norm and pattern.search(norm):
            return item
    return None


def contains_phrase(text: str, phrases: Iterable[str]) -> str | None:
    """The first of ``phrases`` (in the given order) found in ``text`` on word boundaries,
    accent- and case-insensitively; ``None`` when none is."""
    return _first_match(text, phrases, _phrase_re)


def has_keyword(text: str, keywords: Iterable[str]) -> str | None:
    """The first of ``keywords`` in ``text`` not glued to other letters (plural -s/-es
    allowed): ``Cotizacion_CT-12.pdf`` and ``Quote A-778`` match ``quote``/``cotizacion``,
    ``quoted`` does not."""
    return _first_match(text, keywords, _keyword_re)


# ------------------------------------------------------------------------------ reply text

_ATTRIBUTION_START = re.compile(
    r"^\s*(?:on|el|am|le|il|op|em|den|w dniu|dne|el dia)\b.{0,300}?"
    r"(?:wrote|escribi[oó]|schrieb|a [eé]crit|ha scritto|schreef|escreveu|skrev|napisa[lł]|napsal)\s*:?\s*$",
    re.I | re.S,
)
_ATTRIBUTION_LOOSE = re.compile(
    r"(?:wrote|escribi[oó]|schrieb|a [eé]crit|ha scritto|schreef|geschreven|escreveu|skrev|"
    r"napisa[lł](?:\(a\))?|napsal|написал[аи]?|пише|пишет|kirjoitti|[ií]rta|yazd[ıi]|寫道|写道)\s*:\s*$",
    re.I,
)
_GMAIL_ATTRIBUTION = re.compile(r"^\s*\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} GMT[+-]\d{2}:\d{2} .*[:>]?\s*$")
_SEPARATOR = re.compile(
    r"^\s*\*?\s*(?:-{2,}\s*(?:original message|mensaje original|message d'origine|urspr[üu]ngliche nachricht|"
    r"messaggio originale|mensagem original|forwarded message|mensaje reenviado)\s*-{2,}|"
    r"_{10,}|-{10,}|={10,}|begin forwarded message:?)\s*\*?\s*$",
    re.I,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|de|von|da|van|od|fra|från)\s*:\*?\s+\S", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(?:sent|enviado(?: el)?|fecha|date|gesendet|envoy[ée]|inviato|verzonden|to|para|an|[àa]|subject|asunto|cc)\s*:",
    re.I,
)
_SIGNOFF = re.compile(
    r"^\s*(?:sent from my|enviado desde mi|sent from (?:outlook|mail|yahoo|samsung|windows)|"
    r"get outlook for|enviado desde (?:outlook|yahoo|correo)|envoy[ée] (?:de|depuis) mon|von meinem .* gesendet)\b",
    re.I,
)
_SIG_DASH = re.compile(r"^-- ?$")
_ATTRIBUTION_LEAD = re.compile(r"^(?:on|el|am|le|il|op|em|den|w dniu|dne)\b", re.I)


def reply_text(text: str) -> str:
    """The reply's own text: without the quoted original, attribution lines, forwarded
    header blocks ("From: … Sent: …" / "De: … Enviado: …"), separators, "Sent from my …"
    and the ``-- `` signature."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            cut = i
            break
        if _SEPARATOR.match(line) or _SIGNOFF.match(line) or _SIG_DASH.match(line.rstrip()):
            cut = i
            break
        if _HEADER_FROM.match(line):
            nxt = [ln for ln in lines[i + 1: i + 6] if ln.strip()]
            if nxt and any(_HEADER_NEXT.match(ln) for ln in nxt[:3]):
                cut = i
                break
        if stripped and _ATTRIBUTION_LEAD.match(stripped):
            if any(_ATTRIBUTION_START.match(" ".join(s.strip() for s in lines[i: i + k])) for k in range(1, 5)):
                cut = i
                break
        if stripped and _is_attribution(lines, i):
            cut = i
            break
    own = "\n".join(lines[:cut]).strip()
    if own or cut >= len(lines):
        return own
    # bottom-posted reply: the text after the quote, without quoted lines
    rest = [ln for ln in lines[cut:] if not ln.lstrip().startswith(">")]
    for j, ln in enumerate(rest[:3]):
        if ln.rstrip().endswith(":"):
            rest = rest[j + 1:]
            break
    rest_text = "\n".join(rest).strip()
    if rest_text and rest_text != text.strip():
        trimmed = reply_text(rest_text)
        if trimmed:
            return trimmed
    return text.strip()


def own_text(text: str) -> str:
    """DESIGN.md rule 8: what a message's sender wrote themselves — the text decline,
    holding and quote phrases are looked for in (the quoted original, reply headers and
    the signature cut off)."""
    return reply_text(text)


def _is_attribution(lines: list[str], i: int) -> bool:
    """Lines ``i..i+2`` form an attribution ("<date> <someone> wrote:") followed by a blank
    line, a quoted line or the end."""
    if _GMAIL_ATTRIBUTION.match(lines[i]):
        return True
    for k in range(1, 4):
        chunk = lines[i: i + k]
        if len(chunk) < k or (k > 1 and (not chunk[-1].strip() or not re.search(r"[\d@]", chunk[0]))):
            return False
        cand = " ".join(s.strip() for s in chunk)
        if len(cand) > 300:
            return False
        if _ATTRIBUTION_LOOSE.search(cand) and re.search(r"[\d@]", cand):
            nxt = lines[i + k] if i + k < len(lines) else ""
            if not nxt.strip() or nxt.lstrip().startswith(">") or k >= 2:
                return True
    return False
    return "\n".join(lines[:cut]).strip()


# ------------------------------------------------------------------------------ language

_STOP_ES = frozenset(
    "de la que el en y a los se del las un por con no una su para es al lo como mas o pero sus le ha "
    "me si sin sobre este ya entre cuando todo esta ser son dos tambien fue habia era muy hasta desde "
    "nos durante estos estas usted ustedes gracias hola saludos favor cotizacion quedo atento atentos "
    "estimado estimada buenos buenas dias tardes nuestra nuestro esta estamos tenemos podemos".split()
)
_STOP_EN = frozenset(
    "the of and to in is you that it he was for on are as with his they i at be this have from or "
    "one had by but not what all were we when your can said there use an each which she do how their "
    "if will up other about out many then them these so would thanks thank hi hello regards please "
    "quote attached let me know our us any could should".split()
)
_WORD_RE = re.compile(r"[a-zñ]+")


def detect_language(text: str) -> str | None:
    """``"es"`` or ``"en"`` by stop-word counting; ``None`` when there is too little
    evidence (fewer than 3 stop words, or no clear winner)."""
    if not text:
        return None
    words = _WORD_RE.findall(normalize(text[:5000]))
    es = sum(1 for w in words if w in _STOP_ES)
    en = sum(1 for w in words if w in _STOP_EN)
    if es + en < 3:
        return None
    if es >= en * 1.5 and es > en:
        return "es"
    if en >= es * 1.5 and en > es:
        return "en"
    return None
