"""What a follow-up needs to know about people, read from mail text (pure, no I/O).

* :func:`find_phone` — the contact's phone from their own messages (signatures), with
  the ``phonenumbers`` library, default region = ``protocol.holidays_country``;
* :func:`signature_of` — a team member's signature, from the end of their own messages;
* :func:`quote_number` — the quote's number from its subject or attachment names;
* :func:`split_display_name` — the person and the company in a display name
  (``"Juan Pérez | Barandales MX"``, ``"Ventas - Aceros del Norte"``, ``"Pérez, Juan"``);
* :func:`signature_identity` — the name and company a contact signs with;
* :func:`identify` — a contact's name and company from all of these, the admins'
  ``[[contacts]]`` entry first; never a company made from the mail domain;
* :func:`formality` / :func:`is_formal` — whether a text, and a thread, speak "usted".
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


_SEPARATORS = re.compile(r"\s+[|/–—-]\s+|\s*\|\s*|\s+@\s+|\s*[()\[\]]\s*")
_ROLE_WORDS = frozenset("""
gerente gerencia director directora direccion jefe jefa compras compra ventas venta ejecutivo
ejecutiva coordinador coordinadora coordinacion supervisor supervisora encargado encargada
area departamento depto analista asistente comprador compradora representante administracion
facturacion contabilidad cobranza logistica almacen atencion clientes cliente info informacion
contacto recepcion soporte mantenimiento proyectos ingenieria
manager purchasing procurement buyer sales head team department dept office assistant sales
operations accounting billing support customer service info contact admin noreply no-reply
ceo cfo coo cto vp president presidente socio owner founder fundador
""".split())
"""Words of a job title or a shared mailbox (``Ventas``, ``Gerente de Compras``): such a
part of a display name or signature is neither the person nor the company."""
_COMPANY_SUFFIX = re.compile(
    r"(?i)(?:\b|(?<=\s))(s\.?\s?a\.?(?:\s*de\s*c\.?\s?v\.?)?|s\.?\s?a\.?\s?c\.?|s\.?\s?a\.?\s?p\.?\s?i\.?"
    r"|s\.?\s+de\s+r\.?\s?l\.?(?:\s*de\s*c\.?\s?v\.?)?|s\.?\s?l\.?|s\.?\s?r\.?\s?l\.?|s\.?\s?c\.?"
    r"|inc\.?|llc|ltd\.?|ltda\.?|gmbh|corp\.?|co\.|plc)(?=$|[\s,.)])")
_COMPANY_WORDS = frozenset("""
grupo aceros acero constructora construcciones industrias industrial comercial comercializadora
distribuidora distribuciones servicios materiales soluciones ingenieria logistica transportes
alimentos textiles maderas inversiones agricola corporativo corporacion laboratorios farmacia
ferreteria plasticos empaques quimica metales herrajes barandales importadora exportadora
tecnologia sistemas consultores consultoria hotel hoteles restaurante panaderia boticas cafes
group industries company holdings solutions systems services supplies supply technologies markets
foods logistics manufacturing consulting partners labs
""".split())
_PARTICLES = frozenset("de del la las los y e da do dos van von di le el".split())
_TITLE_WORD = re.compile(r"(?i)^(ing|lic|dr|dra|sr|sra|srta|mr|mrs|ms|arq|c\.?p|mtro|mtra|prof)\.?$")
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:[-'’][^\W\d_]+)*\.?$")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"\s+", text.strip()) if w]


def _folded(word: str) -> str:
    from assistant.mail.text import normalize

    return normalize(word).strip(".,:;")


def _is_role(part: str) -> bool:
    return any(_folded(w) in _ROLE_WORDS for w in _words(part))


def _is_company(part: str) -> bool:
    words = _words(part)
    return bool(_COMPANY_SUFFIX.search(part) or "&" in part or re.search(r"\d", part)
                or any(_folded(w) in _COMPANY_WORDS for w in words)
                or (not all(w.isupper() for w in words if w.isalpha())
                    and any(len(w) >= 2 and w.isupper() and w.isalpha() for w in words[1:])))


def _person(part: str) -> str | None:
    """``part`` as a person's name (titles dropped; "RAÚL QUIROGA" -> "Raúl Quiroga"), or
    None when it does not read as one: 1 to 4 capitalised words, particles aside."""
    words = [w for w in _words(part) if not _TITLE_WORD.match(w)]
    if not words or len(words) > 5 or not all(_NAME_WORD.match(w) for w in words):
        return None
    if all(w.isupper() for w in words if len(w) > 1):
        words = [w.lower() if w.lower() in _PARTICLES else w.capitalize() for w in words]
    core = [w for w in words if w.lower() not in _PARTICLES]
    if not core or len(core) > 4 or not all(w[:1].isupper() for w in core):
        return None
    if words[0].lower() in _PARTICLES:
        return None
    return " ".join(words)


def split_display_name(display: str | None, email: str | None = None) -> tuple[str | None, str | None]:
    """(person, company) of a display name: ``"Juan Pérez | Barandales MX"`` -> both;
    ``"Ventas - Aceros del Norte"`` -> (None, "Aceros del Norte"); ``"Pérez, Juan"`` ->
    ("Juan Pérez", None); an address, a bare mailbox name (``rquiroga``) or a job title
    -> nothing."""
    if not display:
        return None, None
    text = display.strip().strip("\"'").strip()
    if email:
        text = text.replace(email, " ").replace(email.lower(), " ")
    text = re.sub(r"<[^>]*>|\S+@\S+", " ", text).strip(" \"'<>")
    if not text:
        return None, None
    local = (email or "").partition("@")[0].lower()
    if local and _folded(text).replace(" ", "") in {local, local.replace(".", ""), local.replace("_", "")} \
            and text == text.lower():
        return None, None
    parts = [p.strip(" ,") for p in _SEPARATORS.split(text) if p and p.strip(" ,")]
    if len(parts) == 1 and text.count(",") == 1 and not _is_company(text):
        last, first = (p.strip() for p in text.split(","))
        if _person(last) and _person(first):
            return _person(f"{first} {last}"), None
    person = company = None
    for part in parts:
        if _is_role(part) and not _COMPANY_SUFFIX.search(part):
            continue
        if _is_company(part):
            company = company or part
        elif person is None and _person(part):
            person = _person(part)
        elif len(parts) > 1 and company is None and person is not None:
            company = part
    return person, company


_CLOSING = re.compile(
    r"(?i)^\s*(saludos(?:\s+cordiales)?|un\s+(?:cordial\s+)?saludo|cordialmente|atentamente|"
    r"atte\.?|quedo\s+(?:a\s+(?:sus|tus)\s+[oó]rdenes|atent[oa]s?)[^\n]*|gracias[^\n]{0,30}|"
    r"(?:best\s+|kind\s+|warm\s+)?regards|best|thanks[^\n]{0,20}|thank\s+you|sincerely|cheers)"
    r"\s*[,.!:]?\s*(?P<rest>[^\n]*)$")


def _signature_lines(text: str) -> list[str]:
    """The lines of the signature block of one own text: after ``-- ``, else after the
    last closing line ("Saludos,", "Atentamente", "Regards,"), else none."""
    own = own_text(text or "").rstrip()
    if "\n-- \n" in own:
        lines = own.rsplit("\n-- \n", 1)[1].splitlines()
    else:
        lines = own.splitlines()
        for n in range(len(lines) - 1, max(-1, len(lines) - 9), -1):
            match = _CLOSING.match(lines[n])
            if match:
                rest = match.group("rest").strip()
                lines = ([rest] if rest else []) + lines[n + 1:]
                break
        else:
            return []
    return [ln.strip() for ln in lines if ln.strip()][:6]


def signature_identity(texts: Iterable[str]) -> tuple[str | None, str | None]:
    """The (name, company) a person signs with, from their own texts (newest first): the
    first signature block that names them. ``Diego Ramírez`` / ``Gerente de Compras |
    Constructora del Norte`` -> ("Diego Ramírez", "Constructora del Norte")."""
    best_name = best_company = None
    for text in texts:
        lines = _signature_lines(text)
        if not lines:
            continue
        name = _person(lines[0]) if not _is_role(lines[0]) and not _is_company(lines[0]) else None
        company = None
        for line in lines[1 if name else 0:]:
            if "@" in line or re.search(r"\d{3}|https?:|www\.", line):
                continue
            parts = [p.strip(" ,") for p in _SEPARATORS.split(line) if p.strip(" ,")]
            found = [p for p in parts if not _is_role(p) or _COMPANY_SUFFIX.search(p)]
            if len(parts) > 1 and found:
                company = found[-1]
                break
            if len(parts) == 1 and found and (_COMPANY_SUFFIX.search(line) or _is_company(line)
                                              or ("," not in line and _person(line))):
                company = line
                break
        if name and (best_name is None or (" " in name and " " not in best_name)):
            best_name = name
        best_company = best_company or company
        if best_name and " " in best_name and best_company:
            break
    return best_name, best_company


@dataclass(frozen=True)
class Identity:
    """What drafts and pages call a contact: ``name`` (None: greet neutrally, show the
    address), ``company`` (None: say nothing), ``first_name`` (the greeting's)."""

    name: str | None = None
    company: str | None = None

    @property
    def first_name(self) -> str | None:
        return first_name(self.name)


def identify(*, from_names: Iterable[str | None] = (), to_names: Iterable[str | None] = (),
             texts: Iterable[str] = (), email: str | None = None, known_name: str | None = None,
             known_company: str | None = None) -> Identity:
    """A contact's name and company: the admins' (``known_*``, from ``[[contacts]]``)
    first; else the person in the display names they send under (``from_names``, newest
    first), the name they sign with, the display name our side wrote them under
    (``to_names``); the company from their signature, then from those display names.
    Never from the mail domain."""
    from_split = [split_display_name(n, email) for n in from_names if n]
    to_split = [split_display_name(n, email) for n in to_names if n]
    signed, signed_company = signature_identity(texts)
    people = [p for p, _ in from_split if p]
    full = [p for p in people if " " in p] + ([signed] if signed and " " in signed else []) + \
        [p for p, _ in to_split if p and " " in p]
    name = known_name or (full[0] if full else None) or (people[0] if people else None) or signed \
        or next((p for p, _ in to_split if p), None)
    company = known_company or signed_company or next(
        (c for _, c in from_split + to_split if c), None)
    return Identity(name, company)


# --- "usted" or "tú" ---------------------------------------------------------------------

_USTED = [(re.compile(p), w) for p, w in (
    (r"\busted\b", 3),
    (r"\ba sus (?:ordenes|apreciables ordenes)\b", 3),
    (r"\bquedo (?:atent[oa] )?a sus\b", 3),
    (r"\b(?:su|sus) (?:amable|atenta|apreciable|preferencia|atencion|valiosa|respuesta|comentarios"
     r"|cotizacion|pedido|solicitud|orden|empresa|equipo|confirmacion|interes|tiempo|correo|mensaje"
     r"|visita|llamada|apoyo|propuesta|requerimiento)\b", 2),
    (r"\ble (?:envio|enviamos|adjunto|comparto|compartimos|comento|confirmo|aviso|agradezco"
     r"|agradecemos|escribo|saluda|saludo|informo|recuerdo|hago llegar|mando|marco|llamo"
     r"|contacto|parece|interesa|queda|sirve|acomoda|cotizo|cotizamos|ofrecemos|ofrezco)\b", 1),
    (r"\b(?:podria|pudiera|puede|tiene|desea|necesita|gusta|quiere|prefiere) (?:usted|confirmar"
     r"|indicar|enviar|revisar|compartir|decirme|indicarme|enviarme|confirmarme|apoyarme)\b", 1),
    (r"\breciba (?:un )?(?:cordial|afectuoso)", 3),
    (r"\b(?:estimad[oa]s?|apreciable) (?:sr|sra|srta|ing|lic|arq|dr|dra|senor|senora|cliente)\b", 1),
    (r"\b(?:agradezco|agradecemos) (?:su|de antemano su)\b", 2),
    (r"\bme permito\b", 1),
)]
_TU = [(re.compile(p), w) for p, w in (
    (r"\btu\b", 2),
    (r"\b(?:contigo|tus)\b", 2),
    (r"\bte (?:envio|mando|adjunto|comparto|comento|confirmo|aviso|escribo|llamo|marco"
     r"|parece|interesa|queda|sirve|acomoda|cotizo|agradezco|busco|paso|contesto|reenvio"
     r"|mandamos|enviamos|enviare|confirmare)\b", 3),
    (r"\b(?:tienes|puedes|quieres|necesitas|prefieres|estas|sabes|podrias|pudiste|viste|tuviste"
     r"|pediste|mandaste|enviaste|comentaste|llamas|avisas|respondes|confirmas"
     r"|recibiste|revisaste|dime|avisame|confirmame|mandame|enviame|llamame|escribeme|comentame)\b", 3),
    (r"\bquedo (?:atent[oa] )?a tus\b", 3),
    (r"\bcomo estas\b", 3),
)]


def formality(text: str | None) -> str | None:
    """``"usted"``, ``"tu"`` or None (no sign either way) for one Spanish own text (the
    caller passes the author's own text: quoted mail and signatures are someone else's).

    "ustedes" says nothing (Mexican Spanish uses it for "you all" to anyone), nor does a
    bare "le" ("le comento a mi jefe" is about a third person): the usted forms that count
    are addressed ones — "usted", "le envío", "su cotización", "quedo a sus órdenes",
    "reciba un cordial saludo". Weighted, the stronger side wins; a tie says nothing."""
    from assistant.mail.text import normalize

    if not text:
        return None
    norm = normalize(text)
    usted = sum(w * len(p.findall(norm)) for p, w in _USTED)
    tu = sum(w * len(p.findall(norm)) for p, w in _TU)
    if usted > tu:
        return "usted"
    if tu > usted:
        return "tu"
    return None


def voice(texts: Iterable[str]) -> str | None:
    """How one side writes: the formality of its newest text that shows one."""
    for text in texts:
        found = formality(text)
        if found:
            return found
    return None


def is_formal(ours: Iterable[str], theirs: Iterable[str]) -> bool:
    """A thread is formal when both sides write "usted" (each side's newest text that
    shows a form: ``ours`` and ``theirs`` newest first, own texts)."""
    return voice(ours) == "usted" and voice(theirs) == "usted"
