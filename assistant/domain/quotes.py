"""Which outbound message is a quote (DESIGN.md "Words" and rule 3, read on real mail). Pure.

A quote is an outbound message that *sends an offer*. :func:`quote_reading` decides, in
this order (each step names the shape of real mail it covers):

1. Not a person's offer: a list or bulk message (``List-Id``, ``List-Unsubscribe``,
   ``Precedence``: newsletters), a calendar message (``Invitación:``, ``Accepted:``, ``New
   Time Proposed:``: meeting mail about a proposal), a mass mailing (more than
   :data:`MASS_MAIL_RECIPIENTS` external recipients), or own text with an unsubscribe line
   (marketing sent by hand).
2. Rule 3: a subject with an exclusion phrase (``tipo de cambio``, ``stock quote``; plural
   and hyphenated forms too: ``Real-Time Quotes``) is not a quote.
3. Rule 3: a message that *asks for* a quote — a request phrase (``request_phrases``, and
   ``buyer_phrases`` for the many other ways buyers ask) in its subject or own text — is the
   buyer's. A request phrase in a subject with a reply or forward prefix does not count
   (our answer to "Solicitud de cotización" is a quote). A request phrase that *names* the
   buyer's request instead of making one — after "su", "your", "gracias por", "in response
   to"…, or followed by its number ("RFQ-88213") — does not ask either: sellers write "Gracias
   por su solicitud de cotización, adjunto…" and "our quotation for RFQ 4471".
4. Evidence that an offer is sent, all in the message's **own text** (rule 8,
   :func:`assistant.mail.text.own_text`) except attachments:
   - an attachment whose name has a quote keyword; names come from the MIME parts and from
     the markers exports leave (rule 3: ``<< File: NAME >>``, ``<<NAME.ext>>``; and Lotus
     Notes' ``(See attached file: NAME)`` and `` - NAME.ext`` lines). A reply carries only
     its own files, so in a reply only markers in its own text count; a forward carries the
     original's files, so there markers anywhere count;
   - a quote phrase (``quote_phrases``);
   - the act of sending: a sending verb shortly before a quote word ("adjunto la
     cotización", "te paso precio", "please find attached our quotation", "revised
     proposal attached");
   - a price: an amount with a currency ("$4.80", "USD 5.60", "S/ 8,430", "28.50 USD")
     next to price words ("precio", "c/u", "+ IVA", "per unit", "offer"…) and no billing
     words (an invoice, a payment reminder, a salary is not an offer).
   Sending acts and prices in a question ("¿le envío la cotización?") or in a sentence with
   a promise (``promise_phrases``: "en breve le envío la cotización") do not count.
5. Without such evidence, a quote keyword in the subject (outside ``non_quote_phrases``:
   "propuesta de fecha", "oferta laboral", "quote of the day"…) makes a quote only when the
   subject is not a reply: in a reply (``Re:``, ``RE:``, ``Rpta:``…) the thread's old
   subject is kept by every answer, nudge and thank-you, so a reply is a quote only when it
   sends something (the evidence above, or any document attached). A fresh or forwarded
   subject with a keyword is a quote unless its own text only promises one.

``is_quote`` adds the outbound test (DESIGN.md "Words") and that the message is a person's
(kind ``message``: an out-of-office echoing a quote's subject is not a quote).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from assistant.mail.subject import REPLY_PREFIXES
from assistant.mail.text import own_text

from .model import Mail, Rules
from .words import is_outbound

__all__ = ["is_quote", "mentions_quote", "quote_reading", "attachment_names", "QuoteReading",
           "MASS_MAIL_RECIPIENTS"]

MASS_MAIL_RECIPIENTS = 10
"""More external recipients than this make a mailing, not a quote (quotes go to a buyer
and the few colleagues in the decision)."""


@dataclass(frozen=True, slots=True)
class QuoteReading:
    """The answer and why (``inspect`` and the benchmark show the reason)."""

    quote: bool
    reason: str


# --- Folding ---------------------------------------------------------------------------
# Text is compared folded: lower case, accents stripped, runs of white space as one space.
# str.translate on the lower-cased text is several times faster than NFKD per message.

_ACCENTS = (("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ú", "u"), ("ñ", "n"), ("ü", "u"),
            ("à", "a"), ("è", "e"), ("ì", "i"), ("ò", "o"), ("ù", "u"), ("â", "a"), ("ê", "e"),
            ("î", "i"), ("ô", "o"), ("û", "u"), ("ä", "a"), ("ë", "e"), ("ï", "i"), ("ö", "o"),
            ("ã", "a"), ("õ", "o"), ("ç", "c"), ("’", "'"), ("‘", "'"))
_NAME_SEPARATORS = str.maketrans({"_": " ", "-": " ", ".": " ", "+": " "})


def _fold(text: str) -> str:
    """Lower case, accents stripped, white space runs as one space. (A chain of C-level
    replaces of the few accented letters of Spanish and English mail: str.translate and NFKD
    are several times slower on every message of a scan.)"""
    low = text.lower()
    if not low.isascii():
        if "\u0301" in low or "\u0303" in low or "\u0308" in low:
            low = unicodedata.normalize("NFC", low)
        for accented, plain in _ACCENTS:
            if accented in low:
                low = low.replace(accented, plain)
    return " ".join(low.split())


def _fold_name(name: str) -> str:
    return _fold(unicodedata.normalize("NFC", name).translate(_NAME_SEPARATORS))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def _find_all(folded: str, phrase: str, plural: bool = False) -> list[tuple[int, int]]:
    """Spans of ``phrase`` (folded) in ``folded`` on word boundaries; with ``plural`` an
    ``s``/``es`` may follow the last word."""
    spans = []
    start = folded.find(phrase)
    n = len(phrase)
    while start >= 0:
        end = start + n
        if plural:
            if folded.startswith("es", end) and not (end + 2 < len(folded) and folded[end + 2].isalnum()):
                end += 2
            elif folded.startswith("s", end) and not (end + 1 < len(folded) and folded[end + 1].isalnum()):
                end += 1
        left_ok = start == 0 or not _is_word_char(folded[start - 1]) or not _is_word_char(phrase[0])
        right_ok = end >= len(folded) or not _is_word_char(folded[end]) or not _is_word_char(phrase[-1])
        if left_ok and right_ok:
            spans.append((start, end))
        start = folded.find(phrase, start + 1)
    return spans


# --- Vocabulary ------------------------------------------------------------------------

_COMMON = frozenset(
    "de la el le te les nos me mi su sus tu tus un una por para con que favor the a an to of for "
    "you your our us we me my can could please send find here is are be will with this that "
    "and or in on at it comercial commercial ventas sales back get".split())
"""Words too frequent (or too frequent in signatures: "Gerente comercial") to anchor a phrase."""

_SEND_ES = (r"adjunt[oa]s?|adjuntamos|anex[oa]s?|anexamos|envio|enviamos|comparto|compartimos|"
            r"paso|pasamos|remito|remitimos|reenvio|reenviamos|mando|mandamos|"
            r"(?:le|te|les)?\s?(?:hago|hacemos) llegar|va|van|aqui (?:esta|va|tiene)|ahi (?:va|te va)")
_SEND_EN = (r"attached (?:is|are|please find|you will find|you'll find)|please find|"
            r"find attached|attaching|i'm attaching|enclosed (?:is|are|please find)|here (?:is|are)|"
            r"here's|sending you|i am sending|i'm sending|we are sending|forwarding|resending")
_SEND_ANCHORS = ("adjunt", "anex", " envi", "compart", " paso ", " pasamos", "remit", " mando", " mandamos",
                 "llegar", " va ", " van ", " aqui ", " ahi ", "attach", " find ", "enclosed", " here",
                 "sending", "forwarding")
"""Cheap tests (on " " + the folded text) that a sending verb may be there."""
_PRICE_NOUNS = r"precios?|costos?|tarifas?|prices?|pricing|costs?|rates?|offer|bid"
_AFTER_NOUN = r"attached|adjunt[oa]s?|anex[oa]s?|enclosed"

_AMOUNT = re.compile(
    r"(?:us\$|u\$s|rd\$|r\$|\$|€|£|usd|mxn|eur|gbp|cop|clp|ars|pen|s/\.?|bs\.?)\s?\.?\d"
    r"|(?<![\w.])(?:q|uf)\s?\d{1,3}(?:[.,]\d{3})+"
    r"|(?<![\w.])uf \d"
    r"|\d(?:[\d.,']*\d)?\s?(?:usd|dlls?|dolares|dollars|mxn|pesos|eur|euros|€|gbp|cop|clp|ars|pen|"
    r"soles|quetzales)(?![a-z])")
_AMOUNT_ANCHORS = ("$", "€", "£", "usd", "mxn", " eur", "gbp", " cop", " clp", " ars", " pen ", "s/",
                   " bs", " uf ", " q ", "dlls", "dolares", "dollars", " pesos", " soles", "quetzales")
_PRICE_CUE = re.compile(
    r"\b(?:precios?|prices?|pricing|priced|costos?|costs?|tarifas?|rates?|total|subtotal|valor|importe|"
    r"quedan? en|sale (?:en|a)|c/u|each|iva|igv|itbis|taxes|tax|descuento|discount|% off|offer|"
    r"offering|oferta|ofrecer|ofrecemos|we can do|te la dejo|te lo dejo|se la dejo|cotiz\w*|quot\w*|"
    r"propos\w*|propuesta|presupuesto|estimate|bid|fee|flete|instalad[oa]|puesto en obra|fob|cif|"
    r"dap|ddp|exw|neto|netos)\b"
    r"|\bpor (?:pieza|unidad|kilo|kg|tonelada|metro|m2|rollo|hoja|tramo|bolsa|persona|juego|caja|mes|"
    r"usuario|licencia|hora|noche)\b"
    r"|\bper (?:unit|box|user|month|seat|case|night|hour|ton|mmbtu|mwh|year|piece)\b"
    r"|/(?:mmbtu|mwh|mes|month|user|seat|yr|year|m|kg|ton|hr|hora)\b")
_BILLING = re.compile(
    r"\b(?:factura|facturas|invoice|invoices|vence|vencid[oa]s?|vencimiento|past due|overdue|adeudo|"
    r"saldo pendiente|outstanding balance|amount due|importe a pagar|pay online|recordatorio de pago|"
    r"payment reminder|receipt|recibo|reembolso|refund|sueldo|salario|salary|nomina|payroll|"
    r"reporte de gastos|expense report)\b")
_BULK_TEXT = re.compile(
    r"\b(?:unsubscribe|darte de baja|darse de baja|si no desea recibir|si no deseas recibir|"
    r"cancelar (?:tu|su) suscripcion|opt[ -]out|manage (?:your )?preferences|responda baja)\b")
_BULK_ANCHORS = ("subscri", " baja", "no desea", " opt", "preferences", "suscrip")

_REFERENCE_BEFORE = re.compile(
    r"(?:\b(?:su|sus|tu|tus|vuestra|vuestras|your|their|the|this|that|esta|este|dicha|dicho|our|"
    r"nuestra|nuestro)\s+(?:\w+\s+)?"
    r"|\b(?:gracias por|thank you for|thanks for|en respuesta a|en atencion a|in response to|"
    r"response to|respuesta a|regarding|referente a|relativ[oa] a|respecto a|de acuerdo a|"
    r"conforme a|segun|per|re:?|ref\.?|for|para)\s+(?:\w+\s+){0,2})$")
_IDENTIFIER_AFTER = re.compile(r"\s?(?:no\.?|n[o°º]|#|-|:)?\s?#?[a-z]{0,4}[-/]?\d")

_SENTENCE_END = re.compile(r"[!?;\n]|(?<!\d)\.|\.(?!\d)")

_CALENDAR = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)*(?:invitation|updated invitation|invitaci[oó]n|invitaci[oó]n actualizada|"
    r"accepted|aceptad[oa]|declined|rechazad[oa]|tentative|provisional|tentativ[oa]|canceled|cancelled|"
    r"cancelad[oa]|new time proposed|nueva hora propuesta|meeting forward notification)\s*:",
    re.IGNORECASE)
_REPLY_ONLY = ("re", "rpta", "resp", "aw", "sv")
_PREFIX = re.compile(
    r"^\s*(?:\[[^\[\]]{1,60}\]\s*)*(" + "|".join(REPLY_PREFIXES) + r")\s*(?:\[\s*\d+\s*\]|\(\s*\d+\s*\))?\s*[:：]",
    re.IGNORECASE)

_MARKERS = re.compile(
    r"<<\s*file:\s*([^<>\n]+?)\s*>>"
    r"|<<\s*([^<>\n]+?\.[a-z0-9]{2,5})\s*(?:>>|<<)"
    r"|\(see attached file:\s*([^()\n]+?)\)"
    r"|^[ \t]*-[ \t]+([^\n]+?\.(?:pdf|docx?|xlsx?|xlsm|pptx?|csv|rtf|odt|ods|zip|txt|htm|html|url))[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_DOCUMENT = re.compile(r"\.(?:pdf|docx?|xlsx?|xlsm|pptx?|odt|ods|rtf|csv)\s*$", re.IGNORECASE)


def _anchor(phrase: str, avoid: tuple[str, ...]) -> str:
    """A piece of ``phrase`` (folded) whose absence from a folded text proves the phrase
    absent: its longest word that is neither common nor part of a quote keyword (those
    are in every follow-up and every signature), else the whole phrase. Word anchors
    carry a leading space and are looked for in " " + text (a word start)."""
    words = phrase.split()
    good = [w for w in words if w not in _COMMON and not any(w in k for k in avoid)
            and w.isalpha() and len(w) > 3]
    anchor = max(good, key=len) if good else phrase
    return " " + anchor if anchor[0].isalnum() else anchor


class _Vocabulary:
    """The folded lists of one set of rules, with the prefilters that keep a scan fast."""

    def __init__(self, keywords, quote_phrases, request_phrases, buyer_phrases, exclude_phrases,
                 non_quote_phrases, promise_phrases):
        fold = lambda items: tuple(dict.fromkeys(p for p in (_fold(i) for i in items) if p))
        self.keywords = fold(keywords)
        self.offers = fold(quote_phrases)
        self.requests = fold(tuple(request_phrases) + tuple(buyer_phrases))
        self.excludes = fold(exclude_phrases)
        self.non_quotes = fold(non_quote_phrases)
        self.promises = fold(promise_phrases)
        self.masks = self.non_quotes + self.requests
        kw = "|".join(re.escape(k).replace(r"\ ", r"\s") for k in sorted(self.keywords, key=len, reverse=True))
        nouns = f"(?:{kw}|{_PRICE_NOUNS})(?:e?s)?" if kw else f"(?:{_PRICE_NOUNS})"
        self.act = re.compile(rf"(?<![a-z])(?:(?:{_SEND_ES}|{_SEND_EN})(?:\W+[\w']+){{0,4}}?\W+{nouns}(?![a-z])"
                              rf"|{nouns}(?:\W+[\w']+){{0,4}}?\W+(?:{_AFTER_NOUN}))(?![a-z])")
        self.request_anchors = tuple((_anchor(p, self.keywords), p) for p in self.requests)
        self.offer_anchors = tuple((_anchor(p, self.keywords), p) for p in self.offers)
        self.promise_anchors = tuple((_anchor(p, ()), p) for p in self.promises)
        self.non_quote_anchors = tuple((_anchor(p, ()), p) for p in self.non_quotes)
        self.request_probe = _Probe(self.request_anchors)
        self.promise_probe = _Probe(self.promise_anchors)
        phrase_anchors = [a for a, _ in self.request_anchors + self.offer_anchors + self.promise_anchors]
        self.any_probe = _Probe(self.request_anchors + self.offer_anchors + self.promise_anchors
                                + tuple((" " + w, w) for w in _TRIGGER_WORDS))
        """The cheap test of :func:`_may_matter` (with :data:`_TRIGGER_SYMBOLS`)."""
        self.non_quote_probe = _Probe(self.non_quote_anchors)


class _Probe:
    """One set test for the word anchors of a phrase list, ``in`` tests for the rest."""

    def __init__(self, anchored: tuple[tuple[str, str], ...]):
        self.words = frozenset(a[1:] for a, _ in anchored if a[1:].isalpha())
        texts = dict.fromkeys(a for a, _ in anchored if not a[1:].isalpha())
        self.texts = tuple(((_TOKEN.findall(a) or [""])[0], a) for a in texts)
        """(first word, anchor): the anchor is looked for only when its first word is there."""
        self.gates = frozenset(gate for gate, _ in self.texts)

    def hit(self, folded: str, tokens: frozenset | set) -> bool:
        if not self.words.isdisjoint(tokens):
            return True
        if self.gates.isdisjoint(tokens):  # the common case: one C-level set test
            return False
        spaced = " " + folded
        return any(a in spaced for gate, a in self.texts if gate in tokens)


_BULK_WORDS = frozenset("unsubscribe baja desea deseas suscripcion opt preferences".split())


@lru_cache(maxsize=16)
def _vocabulary(*lists: tuple[str, ...]) -> _Vocabulary:
    return _Vocabulary(*lists)


def _vocab(rules: Rules) -> _Vocabulary:
    vocab = rules.memo.get("quotes")
    if vocab is None:
        vocab = rules.memo["quotes"] = _vocab_of(rules)
    return vocab


def _vocab_of(rules: Rules) -> _Vocabulary:
    return _vocabulary(rules.quote_keywords, rules.quote_phrases, rules.request_phrases,
                       rules.buyer_phrases, rules.exclude_phrases, rules.non_quote_phrases,
                       rules.promise_phrases)


def _present(folded: str, anchored: tuple[tuple[str, str], ...], plural: bool = False) -> list[tuple[int, int, str]]:
    """Occurrences of the anchored phrases in ``folded`` (the cheap anchor test first)."""
    found = []
    spaced = " " + folded
    for anchor, phrase in anchored:
        if anchor in spaced:
            found.extend((s, e, phrase) for s, e in _find_all(folded, phrase, plural))
    return found


def _outside(spans: list[tuple[int, int]], masks: list[tuple[int, int]]) -> bool:
    return any(not any(ms <= s and e <= me for ms, me in masks) for s, e in spans)


# --- Subjects and attachment names -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Subject:
    prefix: str | None
    """``reply``, ``forward`` or None (the outermost prefix decides: "RE: RV: x" is a reply)."""
    excluded: str | None
    asking: str | None
    keyword: str | None
    weak: bool
    """The only keyword is one that real mail mostly uses for something else (``estimate``:
    of time, effort, odds): alone it does not make a quote."""
    question: bool
    """The subject asks ("¿Recibió nuestra cotización?"): a nudge or a survey, not the offer."""
    cue_text: str
    """The folded subject without the phrases that mask keywords (price cues are read here too)."""


def _prefix_kind(subject: str) -> str | None:
    m = _PREFIX.match(subject)
    if m is None:
        return None
    return "reply" if m.group(1).lower() in _REPLY_ONLY else "forward"


@lru_cache(maxsize=65536)
def _read_subject(subject: str, vocab: _Vocabulary) -> _Subject:
    folded = _fold(subject.replace("-", " ").replace("_", " "))
    tokens = set(_TOKEN.findall(folded))
    excluded = next((p for p in vocab.excludes if p in folded and _find_all(folded, p, plural=True)), None)
    requests = _present(folded, vocab.request_anchors) if vocab.request_probe.hit(folded, tokens) else []
    asking = next((p for s, e, p in requests if _asks(folded, s, e)), None)
    masks = [(s, e) for s, e, _ in requests]
    if vocab.non_quote_probe.hit(folded, tokens):
        masks += [span for p in vocab.non_quotes if p in folded for span in _find_all(folded, p, plural=True)]
    found = [k for k in vocab.keywords if k in folded and _outside(_find_all(folded, k, plural=True), masks)]
    return _Subject(_prefix_kind(subject), excluded, asking, found[0] if found else None,
                    bool(found) and all(k in _WEAK_KEYWORDS for k in found),
                    "?" in subject or "¿" in subject, _blank(folded, masks))


def _blank(folded: str, spans) -> str:
    for s, e in spans:
        folded = folded[:s] + " " * (e - s) + folded[e:]
    return folded


_WEAK_KEYWORDS = frozenset({"estimate", "estimates"})
_DOCUMENT_NOUNS = frozenset(
    "rfq rfp rfi quote quotation cotizacion presupuesto propuesta proposal oferta request pricing".split())


def _asks(folded: str, start: int, end: int) -> bool:
    """A request phrase at ``folded[start:end]`` asks for a quote, unless it names the
    buyer's request: after a possessive or "gracias por", "in response to"… ("su solicitud
    de cotización", "in response to your RFQ"), or a request document followed by its number
    ("RFQ 4471", "solicitud de cotización N° 88")."""
    if _REFERENCE_BEFORE.search(folded[max(0, start - 40):start]):
        return False
    last = folded[start:end].rsplit(" ", 1)[-1]
    return last not in _DOCUMENT_NOUNS or _IDENTIFIER_AFTER.match(folded, end) is None


def _name_keyword(name: str, vocab: _Vocabulary) -> str | None:
    folded = _fold_name(name)
    masks = [span for p in vocab.non_quotes if p in folded for span in _find_all(folded, p, plural=True)]
    return next((k for k in vocab.keywords if k in folded and _outside(_find_all(folded, k, plural=True), masks)),
                None)


def attachment_names(mail: Mail, *, own: str | None = None, forward: bool = False) -> tuple[str, ...]:
    """The message's attachment file names: its MIME attachments, and the names in the
    markers exports leave when the file is gone (``<< File: NAME >>``, ``<<NAME.ext>>``,
    Notes' ``(See attached file: NAME)`` and `` - NAME.ext`` lines). Markers are read in
    ``own`` (the own text: a reply carries only its own files) unless ``forward`` or no
    own text is given."""
    names = list(mail.attachment_names)
    body = mail.text if (own is None or forward) else own
    if body and ("<<" in body or "attached file" in body.lower() or "- " in body):
        for m in _MARKERS.finditer(body):
            names.append(next(g for g in m.groups() if g))
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


# --- Own text --------------------------------------------------------------------------

def _sentence(folded: str, pos: int) -> str:
    start = 0
    for m in _SENTENCE_END.finditer(folded, 0, pos):
        start = m.end()
    m = _SENTENCE_END.search(folded, pos)
    end = m.start() if m else len(folded)
    # a question mark closes the sentence it belongs to
    if m and folded[m.start()] == "?":
        end = m.end()
    return folded[start:end]


def _counts(folded: str, pos: int, vocab: _Vocabulary) -> bool:
    """An offer at ``pos`` counts unless its sentence is a question or a promise."""
    sentence = _sentence(folded, pos)
    if "?" in sentence or "¿" in sentence:
        return False
    spaced = " " + sentence
    return not any(a in spaced and _find_all(sentence, p) for a, p in vocab.promise_anchors)


def _offer_in(folded: str, subject: _Subject, vocab: _Vocabulary) -> str | None:
    """Evidence in the folded own text that an offer is sent (phrases that give a quote
    word another meaning, and the buyer's request named in passing, are blanked first)."""
    for s, _, phrase in _present(folded, vocab.offer_anchors):
        if _counts(folded, s, vocab):
            return f"offer phrase '{phrase}'"
    spans = [(s, e) for s, e, _ in _present(folded, vocab.request_anchors)]
    spans += [span for a, p in vocab.non_quote_anchors if a in " " + folded
              for span in _find_all(folded, p, plural=True)]
    if spans:
        folded = _blank(folded, spans)
    spaced = " " + folded
    if any(a in spaced for a in _SEND_ANCHORS):
        for m in vocab.act.finditer(folded):
            if _counts(folded, m.start(), vocab):
                return f"sends an offer: '{m.group(0)}'"
    if any(a in spaced for a in _AMOUNT_ANCHORS):
        if _BILLING.search(folded) or _BILLING.search(subject.cue_text):
            return None
        if not (_PRICE_CUE.search(folded) or _PRICE_CUE.search(subject.cue_text)):
            return None
        for m in _AMOUNT.finditer(folded):
            if _counts(folded, m.start(), vocab):
                return f"price '{m.group(0).strip()}'"
    return None


_CUTS = ("-----original message", "----- original message", "-----mensaje original", "----- mensaje original",
         "---------- forwarded message", "-------- mensaje reenviado", "begin forwarded message",
         "\n-- \n", "\n--\n", "\n__________")
_HEADER_PAIRS = (("\nfrom:", ("\nsent:", "\nto:", "\ndate:")), ("\nde:", ("\nenviado", "\npara:", "\nfecha:")))
_ATTRIBUTIONS = (" wrote:", " escribió:", " escribio:")


def _head(text: str) -> str:
    """The text before the first reply header, separator or signature that rule 8 always
    cuts at (a cheap superset of the own text: only what can be in it is worth
    :func:`own_text`'s full reading)."""
    low = text.lower()
    cut = len(low)
    for marker in _CUTS:
        i = low.find(marker, 0, cut)
        if i >= 0:
            cut = i
    for first, nexts in _HEADER_PAIRS:
        i = low.find(first, 0, cut)
        while i >= 0:
            window = low[i + 1:i + 400]
            if any(n in window for n in nexts):
                cut = i
                break
            i = low.find(first, i + 1, cut)
    for marker in _ATTRIBUTIONS:
        i = low.find(marker, 0, cut)
        if i >= 0:
            cut = max(low.rfind("\n", 0, i), 0)
    return text[:cut]


_MARKER_ANCHORS = ("<<", "attached file", ".pdf", ".doc", ".xls", ".ppt", ".odt", ".ods", ".rtf", ".csv")


_TRIGGER_WORDS = frozenset(
    # sending verbs (the act pattern), currency words, unsubscribe lines, Notes markers
    "adjunto adjunta adjuntos adjuntas adjuntamos anexo anexa anexos anexas anexamos envio enviamos "
    "comparto compartimos paso pasamos remito remitimos reenvio reenviamos mando mandamos llegar va "
    "van aqui ahi attached attaching enclosed here here's sending forwarding resending find "
    "usd mxn eur gbp cop clp ars pen bs uf q dlls dolares dollars pesos soles quetzales "
    "unsubscribe baja desea deseas suscripcion opt preferences".split())
_TRIGGER_SYMBOLS = ("$", "€", "£", "s/", "<<") + _MARKER_ANCHORS[2:]
_TOKEN = re.compile(r"[a-z0-9']+")


def _may_matter(folded: str, tokens: set, vocab: _Vocabulary) -> bool:
    """Cheap test: could the own text hold a request, a promise, an offer, a price, a
    marker or a bulk line? (False proves it cannot; the own text is then not worth cutting.)"""
    return vocab.any_probe.hit(folded, tokens) or any(a in folded for a in _TRIGGER_SYMBOLS)


# --- The decision ----------------------------------------------------------------------

def quote_reading(mail: Mail, rules: Rules) -> QuoteReading:
    """Whether the message's content is a quote, and why (the outbound test is not made
    here: see :func:`is_quote`)."""
    subject_text = mail.subject or ""
    if mail.list_mail:
        return QuoteReading(False, "a list or bulk message")
    if _CALENDAR.match(subject_text):
        return QuoteReading(False, "calendar mail")
    if sum(1 for r in mail.recipients if rules.is_external(r)) > MASS_MAIL_RECIPIENTS:
        return QuoteReading(False, "a mailing to many recipients")
    vocab = _vocab(rules)
    subject = _read_subject(subject_text, vocab)
    if subject.excluded:
        return QuoteReading(False, f"exclusion phrase '{subject.excluded}' in subject")
    if subject.asking and subject.prefix is None:
        return QuoteReading(False, f"asks for a quote: '{subject.asking}' in subject")

    text = mail.text or ""
    forward = subject.prefix != "reply"
    head = _head(text) if text else ""
    folded_head = _fold(head) if head else ""
    tokens = set(_TOKEN.findall(folded_head)) if folded_head else set()
    # Fast paths: what the head (a superset of the own text) cannot hold needs no own_text.
    may_ask = bool(folded_head) and (vocab.request_probe.hit(folded_head, tokens)
                                     or not _BULK_WORDS.isdisjoint(tokens))
    if not may_ask and head.strip():
        names = attachment_names(mail, own=head, forward=forward)
        named = next((n for n in names if _name_keyword(n, vocab)), None)
        if named and (forward or not any(a in folded_head for a in _MARKER_ANCHORS[:2])):
            return QuoteReading(True, f"attachment '{named}'")
        if (subject.keyword and forward and not subject.weak and not subject.question
                and not vocab.promise_probe.hit(folded_head, tokens)):
            return QuoteReading(True, f"keyword '{subject.keyword}' in subject")
    own = ""
    folded_own = ""
    if text and (not head.strip() or _may_matter(folded_head, tokens, vocab)):
        own = own_text(text)
        folded_own = _fold(own) if own else ""
    for s, e, phrase in _present(folded_own, vocab.request_anchors):
        if _asks(folded_own, s, e):
            return QuoteReading(False, f"asks for a quote: '{phrase}'")
    if folded_own and any(a in " " + folded_own for a in _BULK_ANCHORS) and _BULK_TEXT.search(folded_own):
        return QuoteReading(False, "marketing (an unsubscribe line)")

    names = attachment_names(mail, own=own, forward=forward)
    for name in names:
        keyword = _name_keyword(name, vocab)
        if keyword:
            return QuoteReading(True, f"attachment '{name}'")
    if folded_own:
        offer = _offer_in(folded_own, subject, vocab)
        if offer:
            return QuoteReading(True, offer)
    if subject.keyword is None:
        return QuoteReading(False, "no quote keyword and no offer in its own text")
    document = next((n for n in names if _DOCUMENT.search(n)), None)
    if subject.prefix == "reply":
        if document:
            return QuoteReading(True, f"a reply in a quote thread with '{document}' attached")
        return QuoteReading(False, "a reply in a quote thread that sends nothing")
    if (subject.weak or subject.question) and document:
        return QuoteReading(True, f"keyword '{subject.keyword}' in subject and '{document}' attached")
    if subject.weak:
        return QuoteReading(False, f"'{subject.keyword}' alone, with no offer in its own text")
    if subject.question:
        return QuoteReading(False, "a question about a quote, with no offer in its own text")
    if folded_own and _present(folded_own, vocab.promise_anchors):
        return QuoteReading(False, "announces a quote for later")
    return QuoteReading(True, f"keyword '{subject.keyword}' in subject")


def mentions_quote(mail: Mail, rules: Rules) -> bool:
    """The content half of "quote" (:func:`quote_reading`), without the outbound test
    (``inspect`` without settings has no company domains to tell outbound mail)."""
    return quote_reading(mail, rules).quote


def is_quote(mail: Mail, rules: Rules, *, outbound: bool | None = None) -> bool:
    """An outbound message whose content is a quote (:func:`quote_reading`). A message of
    another kind than ``message`` (our own out-of-office echoing a quote's subject, a
    quoting system's ``Auto-Submitted`` mail) is a quote only by a quote document attached:
    CRM and CPQ tools send real quotes that way, robots' echoes of a subject are not offers.
    ``outbound``: the caller's already known answer of ``is_outbound`` (a scan asks it once)."""
    if outbound is None:
        outbound = is_outbound(mail, rules)
    if not outbound:
        return False
    if mail.kind != "message":
        vocab = _vocab(rules)
        return any(_name_keyword(name, vocab) for name in attachment_names(mail))
    return quote_reading(mail, rules).quote
