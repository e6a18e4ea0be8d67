"""Pure text helpers: normalisation, phrase and keyword matching, own text (rule 8), language.

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


# ------------------------------------------------------------------------------ own text
#
# DESIGN.md "Real mail", rule 8. A reply is read line by line, top to bottom:
#
# * ``>``-quoted lines (and Supercite's ``AB>``) are never own text;
# * a *reply header* -- an attribution ("On … wrote:", "El … escribió:", "Em … escreveu:",
#   "<date> <name> <addr>:"), a header block ("From: / Sent: / To: / Subject:", "De: /
#   Enviado el: / Para: / Asunto:", bold ``*From:*``, Lotus Notes' "To: / cc: / Subject:"),
#   a Lotus Notes "Name <addr> on 03/27/2000 10:00 AM" line, a separator ("-----Original
#   Message-----", "-----Mensaje original-----", "Forwarded message", a line of
#   underscores) -- starts the quoted original. When what follows the header is
#   ``>``-quoted, the sender may answer below or between the quoted lines (bottom-posting,
#   inline replies): their unquoted lines there are own text again. Otherwise the rest of
#   the message is the quoted original;
# * a signature after a ``-- `` (or ``--``) line, a mobile sign-off ("Sent from my
#   iPhone", "Enviado desde mi …", "Get Outlook for Android") and a confidentiality
#   disclaimer end the own text;
# * an "external sender" banner a mail gateway puts above the message is not own text.

_QUOTED_RE = re.compile(r"[ \t]*(?:>|[A-Z]{1,3}>(?=[ \t>]|$))")
"""A ``>``-quoted line; also Supercite's initials quoting (``AB> text``)."""

_VERBS = (r"(?:wrote|writes|escribi[oó]|escrevi?eu|escreveu|a\s+[ée]crit|schrieb|"
          r"ha\s+scritto|schreef|(?:het\s+volgende\s+)?geschreven|skrev|napisa[lł](?:\(a\))?|"
          r"napsal(?:\(a\))?|kirjoitti|[ií]rta|yazd[ıi]|написал[аи]?|пише|пишет|寫道|写道)")
_VERB_RE = re.compile(r"(?<!\w)" + _VERBS + r"(?!\w)", re.I)
_VERB_LAST = r"(?<!\w)(?:" + _VERBS + r"|sent)(?!\w)"
_LEAD_RE = re.compile(
    r"[-*\s]*(?:on|el|em|le|am|op|il|in\s+data|den|p[åa]|w\s+dniu|dnia|dne|d[ňn]a|at|"
    r"in\s+message|quoting|citando(?:\s+a)?|cita[çc][ãa]o\s+de|zitat\s+von)\s", re.I)
"""The first words of an attribution in the common clients' languages ("On", "El", "Em",
"Le", "Am", "Op", "Il", "Den"/"På", "W dniu", "Dnia", …, Horde's "Quoting"/"Citando")."""
_VERB_ANY_RE = re.compile(_VERB_LAST, re.I)
_AFTER_LAST_VERB_RE = re.compile(r"\s*(?::|-{2,})?[\s:*-]*$")
_WHO_AFTER_VERB_RE = re.compile(r"(?s)(?P<who>\s.{1,160}?)\s*:\s*$")
_DATE_OR_TIME_RE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[:.]\d{2}(?!\d)|(?<!\d)(?:19|20)\d{2}(?!\d)")
_TIME_RE = re.compile(r"\d{1,2}[:.h]\d{2}")
_SHORT_NAME_RE = re.compile(r"\s*[^\W\d_][^.!?:;,]{0,60}")
_DATE_ADDR_RE = re.compile(r"(?s)(?P<head>.{0,200}?)<?[^\s<>@]+@[^\s<>@]+>\s*(?P<colon>:?)\s*$")
_ISO_GMT_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} GMT[+-]\d{2}:\d{2}\s+\S")
_LOTUS_ON_RE = re.compile(
    r"(?P<who>.{1,150}?)\s+on\s+\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"(?P<time>\s+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?\s?[Mm]\.?)?)?\s*$")
"""Lotus Notes: ``"Name" <addr> on 03/27/2000 10:00 AM``, ``Name/Org/Acme@ACME on …``."""
_LOTUS_DATE_LINE_RE = re.compile(
    r"\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?\s?[Mm]\.?)?\s*$")
_LOTUS_AUX_RE = re.compile(r"\s*(?:please\s+respond\s+to|sent\s+by\s*:)", re.I)

_SEPARATOR_RE = re.compile(
    r"[\s>*]*(?:"
    r"-{2,}\s*(?:original\s+message|reply\s+message|forwarded\s+message|mensaje\s+original|"
    r"mensaje\s+reenviado|mensagem\s+original|mensagem\s+(?:re)?encaminhada|message\s+d'origine|"
    r"message\s+transf[ée]r[ée]|urspr[üu]ngliche\s+nachricht|weitergeleitete\s+nachricht|"
    r"messaggio\s+originale|messaggio\s+inoltrato|oorspronkelijk\s+bericht|doorgestuurd\s+bericht|"
    r"oprindelig\s+(?:besked|meddelelse)|ursprungligt\s+meddelande|opprinnelig\s+melding|"
    r"wiadomo[śs][ćc]\s+oryginalna|исходное\s+сообщение|пересылаемое\s+сообщение|"
    r"原始邮件|邮件原件|原始郵件)\s*-{2,}"
    r"|(?:begin\s+forwarded\s+message|inicio\s+del\s+mensaje\s+reenviado|"
    r"in[íi]cio\s+da\s+mensagem\s+(?:re)?encaminhada|d[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|"
    r"anfang\s+der\s+weitergeleiteten\s+nachricht)\s*:?"
    r"|-{3,}\s*(?:forwarded|reenviado)\s+(?:by|por)\s.*"
    r"|_{2,}"
    r")[\s*]*$", re.I)
"""Separators above a quoted or forwarded original: Outlook's ``-----Original
Message-----`` / ``-----Mensaje original-----`` (and other languages), Gmail's and
Android's "Forwarded message" / "Mensaje reenviado", Apple Mail's "Begin forwarded
message:" / "Inicio del mensaje reenviado:", Lotus Notes' "---- Forwarded by … on …", and
a line of underscores (Outlook, Hotmail, mailing-list footers)."""

_KEY_ROLES = (
    ("from", r"from|de|von|van|da|fr[åa]n|fra|od|от|发件人|exp[ée]diteur|remitente|remetente"),
    ("date", r"sent|date|enviado(?:\s+el|\s+em)?|enviada(?:\s+em)?|fecha|data|gesendet|datum|"
             r"envoy[ée](?:\s+le)?|inviato|verzonden|skickat|sendt|dato|wys[łl]ano|отправлено|"
             r"дата|发送时间|message\s+du"),
    ("to", r"to|para|an|[àa]|aan|till|til|do|кому|收件人|destinataire|destinatario|destinat[áa]rio"),
    ("cc", r"cc|cco|bcc|ccn|kopie|kopia|copie\s+[àa]|copia|копия|抄送"),
    ("subject", r"subject|asunto|assunto|betreff|objet|oggetto|onderwerp|[äa]mne|emne|temat|"
                r"тема|主题|sujet"),
    ("other", r"reply-to|responder\s+a|importance|importancia|prioridad|attachments?|"
              r"datos\s+adjuntos|adjuntos|anexos?|pi[eè]ces?\s+jointes?|sent\s+by|organi[sz]ation"),
)
_KEY_RE = re.compile(
    r"\s*[*_]{0,2}\s*(?:" + "|".join(f"(?P<{role}>{keys})" for role, keys in _KEY_ROLES)
    + r")\s*[*_]{0,2}\s*:(?!//)", re.I)
"""A header line of a quoted message's header block, in the languages Spanish and English
teams receive (Outlook: "De: / Enviado el: / Para: / CC: / Asunto:", Outlook Web
"Enviado:", Outlook for Mac "Fecha:", Portuguese "Enviada em: / Assunto:", …), with
Outlook's bold ``*From:*`` as plain-text converters render it."""
_MID_KEY_RE = re.compile(r"\s*\S.*?\s{2,}(?P<key>to|cc|subject)\s*:", re.I)
"""Lotus Notes' column layout: the sender in the left column, "To: / cc: / Subject:" on
the right of the same lines."""
_ADDR_RE = re.compile(r"@|mailto:", re.I)

_SIG_DASH_RE = re.compile(r"--[ \t]?$")
_SIGNOFF_RE = re.compile(
    r"(?:sent|enviado|enviada|envoy[ée]|inviato|gesendet|verzonden|verstuurd|sendt|skickat|"
    r"wys[łl]ano|odesl[aá]no)\s+(?:from|desde|de|do|da|depuis|[àa]\s+partir\s+de|von|vanaf|"
    r"met|fra|fr[åa]n|z|with|con|com|via|usando|a\s+trav[ée]s\s+de)\s+(?P<rest>.{1,80}?)\s*$"
    r"|(?:get|obtener|obtenga|descarga|descargar|download|t[ée]l[ée]charger|baixe|baixar|obter|"
    r"holen\s+sie\s+sich)\s+(?:the\s+)?(?:\[\s*)?outlook\s+(?:for|para|pour|f[üu]r)\s+(?:ios|android)\b.*"
    r"|von\s+meinem\s+\S+(?:\s+\S+){0,3}\s+gesendet\b.*"
    r"|ᐧ",
    re.I)
"""Mobile and app sign-offs: "Sent from my iPhone", "Enviado desde mi Samsung Galaxy",
"Enviado do meu iPhone", "Get Outlook for Android", "Obtener Outlook para iOS", and the
"ᐧ" marker mail trackers append to Gmail messages."""
_LINK_RE = re.compile(r"<[^>]*>|\(https?://[^)]*\)|\[[^\]]*\]\([^)]*\)|https?://\S+")

_DISCLAIMER_RE = re.compile(
    r"[\W_]*(?:"
    r"aviso\s+(?:de\s+)?(?:confidencialidad|confidencialidade|privacidad|legal)"
    r"|(?:nota|advertencia|cl[aá]usula|declaraci[oó]n)\s+(?:de\s+)?confidencialidad"
    r"|confidencialidad(?:e)?\s*:"
    r"|confidential(?:ity)?\s+(?:notice|note|statement|warning|disclaimer)"
    r"|(?:legal\s+)?disclaimer\s*(?::|$)"
    r"|(?:este|el\s+presente)\s+(?:correo|mensaje|e-?mail|email)(?:\s+electr[oó]nico)?\b.{0,80}?"
    r"(?:confidencial|privilegiad|(?:dirigido|destinado)\s+(?:exclusiva|[uú]nica)mente)"
    r"|(?:la|toda\s+la)\s+informaci[oó]n\s+(?:contenida|incluida|transmitida)\s+en\s+(?:este|el\s+presente)"
    r"|si\s+(?:usted\s+)?(?:no\s+es\s+el\s+destinatario|ha\s+recibido\s+este\s+(?:correo|mensaje)"
    r"(?:\s+electr[oó]nico)?\s+por\s+error)"
    r"|this\s+(?:e-?mail|message|communication|transmission)\b.{0,80}?"
    r"(?:confidential|privileged|intended\s+(?:solely|only|exclusively)\s+for)"
    r"|the\s+information\s+(?:contained\s+)?in\s+this\s+(?:e-?mail|message|communication|transmission)"
    r"|if\s+you\s+(?:are\s+not\s+the\s+intended\s+recipient|have\s+received\s+this\s+"
    r"(?:e-?mail|message|communication)\s+in\s+error)"
    r"|esta\s+mensagem\b.{0,80}?(?:confidencia|destinat)"
    r"|le\s+informazioni\s+contenute\s+in\s+questo"
    r"|antes\s+de\s+imprimir|please\s+consider\s+the\s+environment"
    r")", re.I)
"""The first line of a confidentiality / legal disclaimer (Spanish, English, Portuguese):
"AVISO DE CONFIDENCIALIDAD", "Este correo … confidencial", "La información contenida en
este …", "Si usted no es el destinatario …", "CONFIDENTIALITY NOTICE", "This e-mail … is
intended solely for", "If you are not the intended recipient", eco footers."""

_BANNER_START_RE = re.compile(
    r"[\W_]*(?:caution|warning|notice|attention|atenci[oó]n|precauci[oó]n|advertencia|aviso|"
    r"cuidado|importante|external|externo|externa|ext)\b", re.I)
_BANNER_BODY_RE = re.compile(
    r"outside\s+(?:of\s+)?(?:the|your|our)\s+organi[sz]ation|external\s+(?:sender|email|e-mail)|"
    r"fuera\s+de\s+(?:la|su|nuestra)\s+organizaci[oó]n|remitente\s+externo|correo\s+externo|"
    r"origin[oó]\s+fuera|fora\s+da\s+(?:sua\s+)?organiza", re.I)
"""A gateway's "external sender" warning above the message ("CAUTION: This email
originated from outside of the organization …", "PRECAUCIÓN: Este correo se originó fuera
de la organización …")."""

_DECORATION_RE = re.compile(r"\s*[-_=*~]{2,}\s*$")

_CANDIDATE_CHARS_RE = re.compile(r"[:@<>\d]")
_FIRST_WORDS = frozenset("""
on el em le am op il in den på pa w dnia dne dňa dna at quoting citando citação citacao zitat
sent enviado enviada envoyé envoye inviato gesendet verzonden verstuurd sendt skickat wysłano
wyslano odesláno odeslano get obtener obtenga descarga descargar download télécharger
telecharger baixe baixar obter holen von aviso nota advertencia cláusula clausula declaración
declaracion confidencialidad confidencialidade confidential confidentiality disclaimer legal
este la toda si this the if esta antes please begin inicio início début debut anfang ᐧ
""".split())


def _candidate(s: str) -> bool:
    """``s`` (a stripped, non-blank line) has what every reply header, signature, sign-off
    and disclaimer line has: a leading mark, a colon, an address, a digit, or one of their
    first words. Ordinary prose lines are let through without trying each shape."""
    if not s[0].isalnum() or _CANDIDATE_CHARS_RE.search(s):
        return True
    return s.split(None, 1)[0].lower().rstrip(",.;") in _FIRST_WORDS


_STOP, _HEADER = 0, 1


def _is_quoted(line: str) -> bool:
    return ">" in line and _QUOTED_RE.match(line) is not None


def _quoted_content(line: str) -> str:
    return line.lstrip(" \t>").strip()


def _key_role(line: str) -> str | None:
    """The role of the header key that starts ``line`` ("De:" -> "from"), if any."""
    if ":" not in line[:60]:
        return None
    m = _KEY_RE.match(line)
    if m is None:
        return None
    return m.lastgroup


def _header_block(lines: list[str], i: int) -> tuple[int, int] | None:
    """Lines ``i..`` form a quoted message's header block: ``(start, end)``, where
    ``start`` also takes in the separator or decoration lines just above it (a line of
    dashes, Lotus Notes' sender and date lines) and ``end`` is past its last header line
    (values may wrap over several lines; HTML reduced to text puts blank lines between
    headers). Lines that merely start with "De:" or "Para:" in prose are not a block: it
    takes the sender, the date and a third header (Outlook's "De: / Enviado: / Para:",
    also with names only), or two headers beside an address ("Date: / To: <addr>",
    Lotus Notes' "To: / cc: / Subject:")."""
    n = len(lines)
    roles: set[str] = set()
    has_addr = False
    found = False
    first_role: str | None = None
    columns = _key_role(lines[i]) is None  # Lotus Notes' column layout
    end = i
    cont = 0
    blanks = 0
    j = i
    while j < n and j < i + 80:
        line = lines[j]
        if not line.strip():
            blanks += 1
            if blanks > 2:
                break
            j += 1
            continue
        if _is_quoted(line):
            break
        role = _key_role(line)
        if role is None:
            mid = _MID_KEY_RE.match(line) if columns else None
            if mid is not None:
                role = mid.group("key").lower()
        if role is not None:
            if first_role is None:
                first_role = role
            roles.add(role)
            cont = 0
            end = j + 1
        else:
            # a wrapped value (a long "Para:" list wraps over dozens of lines): only right
            # after a header line, and not after a blank line
            if blanks or (cont >= 6 and not found):
                break
            cont += 1
            end = j + 1
        blanks = 0
        if _ADDR_RE.search(line):
            has_addr = True
        if not found and j - i >= 12:
            break
        if not found:
            found = (({"from", "date"} <= roles and len(roles) >= 3)
                     or (has_addr and len(roles) >= 2 and bool(roles & {"from", "date", "subject", "cc"})))
        j += 1
    if not found:
        return None
    return _block_start(lines, i, lotus=first_role in ("to", "cc", "subject"), columns=columns), end


def _block_start(lines: list[str], i: int, *, lotus: bool = False, columns: bool = False) -> int:
    """Where a header block starting at line ``i`` really begins: above it, blank lines
    and lines of dashes or equals signs; for Lotus Notes' "To: / cc: / Subject:" block,
    the date line ("09/22/2000 04:59 PM") and the sender's name above it; for Notes'
    column layout, the left column ("John Smith", "<jsmith@…")."""
    start = i
    k = i - 1
    while k >= 0 and (lotus or columns):
        line = lines[k]
        if not line.strip() or _DECORATION_RE.match(line):
            k -= 1
            continue
        if lotus and _LOTUS_DATE_LINE_RE.match(line):
            start = k
            if k >= 1 and lines[k - 1].strip() and len(lines[k - 1].split()) <= 6 \
                    and ":" not in lines[k - 1] and not _is_quoted(lines[k - 1]):
                start = k - 1
            return start
        if columns and len(line) - len(line.lstrip(" ")) >= 8 and len(line.strip()) <= 60:
            start = k  # Lotus Notes' left column ("      John Smith", "      <jsmith@…")
            k -= 1
            continue
        break
    # blank and decoration lines right above belong to the header
    k = start - 1
    while k >= 0 and (not lines[k].strip() or _DECORATION_RE.match(lines[k])):
        if _DECORATION_RE.match(lines[k]):
            start = k
        k -= 1
    return start


def _header_tail(lines: list[str], j: int) -> int:
    """Past the lines that follow a reply header and still belong to it: Lotus Notes'
    "Please respond to" and "Sent by:" lines and the header block ("To: / cc: / Subject:")
    under an attribution, a Lotus line or a separator."""
    n = len(lines)
    k = j
    blanks = 0
    while k < n and blanks <= 2:
        line = lines[k]
        if not line.strip():
            blanks += 1
            k += 1
            continue
        if _LOTUS_AUX_RE.match(line):
            k += 1
            blanks = 0
            if k < n and lines[k].strip() and _key_role(lines[k]) is None and len(lines[k].split()) <= 3:
                k += 1  # "Please respond to\nlist@example.org"
            j = k
            continue
        if _key_role(line) is not None:
            block = _header_block(lines, k)
            if block is not None:
                return block[1]
        break
    return j


def _attribution(lines: list[str], i: int) -> int | None:
    """Lines ``i..end-1`` are an attribution line ("On … wrote:", "El … escribió:",
    "Em … escreveu:", "Am … schrieb …:", "Name <addr> wrote:", "<date>, "Name" <addr>:",
    Zoho's "---- On … wrote ----", …), possibly wrapped over up to six lines by the
    client (Gmail wraps long ones); ``end`` or ``None``. A sentence above an attribution
    is not taken in: when the first line reads as prose and the lines below it are an
    attribution on their own, the attribution starts below."""
    first = lines[i]
    if not (_LEAD_RE.match(first) or "@" in first or "<" in first
            or _DATE_OR_TIME_RE.search(first[:40]) or _VERB_RE.search(first)):
        return None
    n = len(lines)
    parts: list[str] = []
    size = 0
    blanks = 0
    best = None
    for k in range(i, min(n, i + 6)):
        raw = lines[k]
        s = raw.strip()
        if not s:
            blanks += 1
            if blanks > 2:
                break
            continue
        if k > i and _is_quoted(raw) and len(_quoted_content(raw)) > 30:
            break
        parts.append(s)
        size += len(s) + 1
        if size > 420:
            break
        if not (s.endswith(":") or s.endswith("-") or s.endswith(">") or _VERB_RE.search(s)
                or (k == i and _ISO_GMT_RE.match(s))):
            continue
        if not _reads_as_attribution(" ".join(parts), lines, k + 1):
            continue
        if k > i and not _opens_attribution(first) and any(
                lines[j].strip() and not _is_quoted(lines[j])
                and _reads_as_attribution(" ".join(p.strip() for p in lines[j:k + 1] if p.strip()), lines, k + 1)
                for j in range(i + 1, k + 1)):
            return None  # the attribution starts below this line
        best = k + 1
        if not s.endswith(">"):
            return best
        # "<date> Name <addr>" may still go on: Gmail's "On … Some One / < / mailto:… / > wrote:"
    return best


def _prose_like(line: str) -> bool:
    """A line that ends a sentence and names nobody: not the first line of an attribution
    (Gmail's "… pharetra sodales ante sem sit amet metus." above "On …")."""
    s = line.rstrip()
    return s[-1:] in (".", "!", "?", "…") and "@" not in s and "<" not in s


def _opens_attribution(line: str) -> bool:
    """A first line that an attribution wrapped from ("On Mon, Aug 26, 2019 at 4:37 PM
    The Hiring Engine <", "pe 20. lokakuuta 2017 klo 17.50 John Coe"), not a sentence."""
    return not _prose_like(line) and (_LEAD_RE.match(line) is not None
                                      or _DATE_OR_TIME_RE.search(line) is not None)


def _next_is_quote(lines: list[str], j: int, *, pipes: bool = False) -> bool:
    """The first non-blank line from ``j`` on is quoted (``|``-quoted too, with ``pipes``)."""
    n = len(lines)
    while j < n and not lines[j].strip():
        j += 1
    return j < n and (_is_quoted(lines[j]) or (pipes and lines[j].lstrip().startswith("|")))


def _reads_as_attribution(joined: str, lines: list[str], after: int) -> bool:
    """``joined`` (the attribution's lines joined by spaces, ``after`` the line below it)
    reads as an attribution: a verb of writing at the end ("… escribió:", "… wrote"), or
    followed by the sender ("… schrieb Max <max@…>:", "… skrev Jeff <…>:"), next to a
    date, a time or an address; or a date with the sender's address and no verb
    ("02.03.2026, 10:00, "Ana" <ana@…>:", "2026-03-02 10:00 GMT-06:00 Ana …")."""
    has_digit_or_addr = "@" in joined or any(c.isdigit() for c in joined)
    lead = _LEAD_RE.match(joined) is not None
    verb = None
    for verb in _VERB_ANY_RE.finditer(joined):
        pass  # the last one
    head = joined[:verb.start()] if verb is not None else ""
    if verb is not None and 3 <= len(head) <= 300 and _AFTER_LAST_VERB_RE.match(joined, verb.end()):
        if lead and has_digit_or_addr:
            return True
        if "@" in head or "<" in head or (head[:1].isdigit() and has_digit_or_addr):
            return True
        # "<weekday>, <date> … <name> wrote:" (Finnish, Norwegian, Hungarian Gmail)
        if _DATE_OR_TIME_RE.search(head[:40]) and has_digit_or_addr:
            return True
        # Word's "Ana Ruiz wrote:" right above a quote
        if len(joined.split()) <= 6 and joined.endswith(":") and _next_is_quote(lines, after):
            return True
        return False
    m = None
    if verb is not None and verb.group().lower() != "sent":
        m = _WHO_AFTER_VERB_RE.match(joined, verb.end())
    if m is not None and 3 <= len(head) <= 250:
        who = m.group("who")
        if not has_digit_or_addr:
            return False
        if not (lead or "@" in head or "<" in head or _DATE_OR_TIME_RE.search(head[:40])):
            return False
        if any(c in who for c in "<@\"") or _TIME_RE.search(who) or _TIME_RE.search(head):
            return True
        return _SHORT_NAME_RE.fullmatch(who) is not None
    # "<date> <name> <addr>:" without a verb (old Gmail, Yandex, mail.ru, Russian Gmail)
    m = _DATE_ADDR_RE.match(joined)
    if m is not None and _DATE_OR_TIME_RE.search(m.group("head")) and len(joined) <= 260:
        return bool(m.group("colon")) or _next_is_quote(lines, after, pipes=True)
    if _ISO_GMT_RE.match(joined):
        return True
    return False


def _is_signoff(s: str) -> bool:
    m = _SIGNOFF_RE.match(s)
    if m is None:
        return False
    rest = m.group("rest")
    if rest is None:
        return True
    rest = _LINK_RE.sub(" ", rest).strip().rstrip(".!")
    if not rest or len(rest.split()) > 8 or any(c in rest for c in ".!?;"):
        return False
    # "Sent from my Verizon, Samsung Galaxy smartphone" is a sign-off; "Sent from my desk,
    # is much easier …" is a sentence
    for after_comma in rest.split(",")[1:]:
        word = after_comma.strip()[:1]
        if word and not word.isupper() and not word.isdigit():
            return False
    return True


def _stands_alone(lines: list[str], i: int) -> bool:
    """Nothing of the sender's follows line ``i`` directly: the end, a blank or quoted
    line, or a reply header (a sign-off is a line of its own, not the start of a
    sentence that goes on)."""
    if i + 1 >= len(lines):
        return True
    nxt = lines[i + 1]
    return (not nxt.strip() or _is_quoted(nxt) or _SEPARATOR_RE.match(nxt) is not None
            or _SIG_DASH_RE.match(nxt.strip()) is not None
            or _key_role(nxt) is not None or _attribution(lines, i + 1) is not None)


def _marker(lines: list[str], i: int) -> tuple[int, int, int] | None:
    """What line ``i`` (not quoted, not blank) starts, if anything: ``(_STOP, i, i)`` for
    a signature, sign-off or disclaimer (nothing from there on is own text), ``(_HEADER,
    start, end)`` for a reply header spanning ``start..end-1`` (the quoted original
    follows); ``None`` for an ordinary line."""
    line = lines[i]
    s = line.strip()
    if not _candidate(s):
        return None
    if _SIG_DASH_RE.match(s):
        return _STOP, i, i
    if _SEPARATOR_RE.match(line):
        return _HEADER, _block_start(lines, i), _header_tail(lines, i + 1)
    if _DISCLAIMER_RE.match(s) or (_is_signoff(s) and _stands_alone(lines, i)):
        return _STOP, i, i
    if _key_role(line) is not None or _MID_KEY_RE.match(line):
        block = _header_block(lines, i)
        if block is not None:
            return _HEADER, block[0], _header_tail(lines, block[1])
    m = _LOTUS_ON_RE.match(s)
    if m is not None and _lotus_sender(m.group("who"), m.group("time")):
        return _HEADER, i, _header_tail(lines, i + 1)
    end = _attribution(lines, i)
    if end is not None:
        return _HEADER, _block_start(lines, i), _header_tail(lines, end)
    return None


def _lotus_sender(who: str, time: str | None) -> bool:
    """The left part of a Lotus Notes "… on <date> <time>" line names a sender: an
    address, a quoted name, or a Notes name ("Ana Ruiz/Ventas/Acme") before a time."""
    return "@" in who or "<" in who or who.startswith('"') or ("/" in who and time is not None)


def _banner_end(lines: list[str]) -> int:
    """Past a gateway's "external sender" banner at the top of the message, if any."""
    n = len(lines)
    i = 0
    while i < n and not lines[i].strip():
        i += 1
    if i >= n or _BANNER_START_RE.match(lines[i]) is None:
        return 0
    j = i
    chunk = []
    while j < n and lines[j].strip() and j < i + 6:
        chunk.append(lines[j])
        j += 1
    if _BANNER_BODY_RE.search(" ".join(chunk)) is None:
        return 0
    return j


def _wrapped_quote_run(lines: list[str], i: int) -> int:
    """Past the unquoted lines at ``i`` that a client's line wrapping cut out of the quoted
    line above them (``> … Nullam pharetra d`` / ``ignissim odio?`` / ``>``): no blank
    line on either side, a quoted line right below, and the run continues the sentence
    (it starts in lower case, or the quoted line above is long and stops mid-sentence).
    ``i`` when the lines are the sender's own (an inline answer)."""
    if i == 0 or not _is_quoted(lines[i - 1]):
        return i
    above = _quoted_content(lines[i - 1])
    if not above:
        return i
    n = len(lines)
    j = i
    while j < n and j < i + 2 and lines[j].strip() and not _is_quoted(lines[j]):
        j += 1
    if j >= n or not _is_quoted(lines[j]):
        return i
    first = lines[i].strip()[:1]
    if first.islower() or (len(above) >= 60 and above[-1] not in ".?!:;"):
        return j
    return i


def _assemble(lines: list[str], keep: list[int]) -> str:
    """The kept lines; where quoted lines were left out between them, one blank line."""
    out: list[str] = []
    prev = None
    gap = False
    for k in keep:
        if prev is not None and k != prev + 1:
            while out and not out[-1].strip():
                out.pop()
            gap = bool(out)
        prev = k
        if not lines[k].strip() and (gap or not out):
            continue
        if gap:
            out.append("")
            gap = False
        out.append(lines[k])
    while out and (not out[-1].strip() or _DECORATION_RE.match(out[-1])):
        out.pop()
    return "\n".join(out).strip()


@lru_cache(maxsize=2048)
def own_text(text: str) -> str:
    """DESIGN.md rule 8: what the sender of a message wrote themselves -- the text decline,
    holding and quote phrases are looked for in. The quoted original is cut at the reply
    headers of the common clients (attributions, Outlook's and Lotus Notes' header
    blocks, "Original Message" separators, a line of underscores), ``>``-quoted lines
    are dropped (the sender's answers between or below them are kept), and so are the
    signature after a ``-- `` line, mobile sign-offs, confidentiality disclaimers and a
    gateway's "external sender" banner. Pure; ``""`` when the sender wrote nothing."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    n = len(lines)
    keep: list[int] = []
    i = _banner_end(lines)
    while i < n:
        line = lines[i]
        if _is_quoted(line):
            i += 1
            continue
        if not line.strip():
            keep.append(i)
            i += 1
            continue
        run_end = _wrapped_quote_run(lines, i)
        if run_end > i:
            i = run_end
            continue
        marker = _marker(lines, i)
        if marker is None:
            keep.append(i)
            i += 1
            continue
        kind, start, end = marker
        if start < i:
            keep = [k for k in keep if k < start]
        if kind == _STOP or not _next_is_quote(lines, end):
            break
        i = end
    return _assemble(lines, keep)


def reply_text(text: str) -> str:
    """The earlier name of :func:`own_text` (same function)."""
    return own_text(text)


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
