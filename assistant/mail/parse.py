"""Raw RFC 5322 bytes -> :class:`ParsedMessage`. Pure, never raises.

The common path is hand-written for speed (the sync ingests mailboxes of 100k messages):
the header block is split at the first blank line and unfolded by hand, only the headers
and MIME parts the rules need are decoded, and MIME parts are found by scanning for
boundary lines with bytes operations. Attachments' content is never decoded. When the
fast path fails on something unexpected, the standard library parser takes over; when
that fails too, a minimal value with a synthetic id and a warning is returned.
"""

from __future__ import annotations

import binascii
from functools import lru_cache
import codecs
import hashlib
import html
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes

from assistant.mail.message import ParsedMessage

__all__ = ["parse_message", "decode_header_value"]

SYNTHETIC_DOMAIN = "synthetic.followup.invalid"

REPORT_TYPES = frozenset(
    ("message/delivery-status", "message/feedback-report", "message/disposition-notification",
     "message/global-delivery-status", "message/global-disposition-notification")
)
EMBEDDED_TYPES = frozenset(
    ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers")
)
# Headers never kept in ``ParsedMessage.headers`` (bulky, never looked at by the rules).
_SKIP_HEADERS = frozenset(
    ("received", "dkim-signature", "domainkey-signature", "authentication-results",
     "received-spf", "x-received", "arc-seal", "arc-message-signature",
     "arc-authentication-results", "x-google-dkim-signature", "x-gm-message-state",
     "x-google-smtp-source", "x-ms-exchange-crosstenant-id", "x-forefront-antispam-report",
     "x-microsoft-antispam-message-info", "x-microsoft-antispam", "x-ms-office365-filtering-correlation-id")
)
_MAX_HEADER_VALUE = 2000
_MAX_PARTS = 300
_MAX_DEPTH = 12
_MAX_REPORT = 4000

_MSGID_RE = re.compile(r"<\s*([^<>\s\x00-\x1f\x7f]+)\s*>")
_BARE_MSGID_RE = re.compile(r"[^<>\s\x00-\x1f\x7f]+")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_EW_GAP_RE = re.compile(r"(\?=)[ \t\r\n]+(=\?)")
_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')
_DATE_RE = re.compile(
    r"\s*(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s+([+-])(\d{2})(\d{2})(?:\s*\(.*\))?\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_BODY_MSGID_RE = re.compile(rb"^[ \t>]*Message-I[dD]\s*:\s*(<[^<>\s\x00-\x1f\x7f]+>)", re.M | re.I)
_BODY_ORIG_HDR_RE = re.compile(rb"^[ \t>]*(From|To|Subject)\s*:[ \t]*([^\n]*)", re.M | re.I)
_HTML_DROP_RE = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>|<!--.*?-->")
_HTML_BREAK_RE = re.compile(r"(?i)<\s*(?:br|/p|/div|/tr|/li|/h[1-6]|p|div|tr|li|blockquote|/blockquote)\b[^>]*>")
_HTML_TAG_RE = re.compile(r"<[^>]*>")
_BLANKS_RE = re.compile(r"[ \t\xa0]+")
_MANY_NL_RE = re.compile(r"\n\s*\n\s*\n+")

_CODEC_CACHE: dict[str, str | None] = {}
_CHARSET_ALIASES = {"uft-8": "utf-8", "utf8": "utf-8", "unicode-1-1-utf-7": "utf-7",
                    "x-unknown": None, "unknown-8bit": None, "unknown": None,
                    "x-user-defined": None, "ks_c_5601-1987": "cp949", "gb2312": "gbk",
                    "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874"}


# ---------------------------------------------------------------------------- helpers

def _codec(charset: str | None) -> str | None:
    """A Python codec name for a MIME charset, ``None`` when unknown."""
    if not charset:
        return None
    key = charset.strip().strip('"').lower()
    try:
        return _CODEC_CACHE[key]
    except KeyError:
        pass
    name = _CHARSET_ALIASES.get(key, key)
    result = None
    if name:
        try:
            result = codecs.lookup(name).name
        except (LookupError, ValueError):
            result = None
    if len(_CODEC_CACHE) < 512:
        _CODEC_CACHE[key] = result
    return result


def _decode_bytes(raw: bytes, charset: str | None, warnings: list[str], where: str) -> str:
    codec = _codec(charset)
    if codec is None and charset and charset.strip().lower() not in ("us-ascii", "ascii"):
        warnings.append(f"unknown charset {charset!r} in {where}; decoded as UTF-8 with replacement")
    if codec is not None:
        try:
            return raw.decode(codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            warnings.append(f"bytes in {where} are not valid {charset}; decoded with replacement")
            try:
                return raw.decode(codec, "replace")
            except (LookupError, ValueError):
                pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace") if codec is None else raw.decode("utf-8", "replace")


def decode_header_value(value: str, warnings: list[str] | None = None) -> str:
    """Decode RFC 2047 encoded-words; unknown charsets never raise."""
    if "=?" not in value:
        return value
    if len(value) <= 2000:
        decoded, problems = _decode_encoded_words(value)
    else:  # never memoize huge values
        decoded, problems = _decode_encoded_words.__wrapped__(value)
    if problems and warnings is not None:
        warnings.extend(problems)
    return decoded


@lru_cache(maxsize=4096)
def _decode_encoded_words(value: str) -> tuple[str, tuple[str, ...]]:
    """Memoized: a team's mail repeats the same encoded names and subjects thousands of
    times (every message from or to the same correspondents)."""
    value = _EW_GAP_RE.sub(r"\1\2", value)
    sink: list[str] = []

    def repl(m: re.Match[str]) -> str:
        charset, enc, text = m.group(1), m.group(2).upper(), m.group(3)
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
        try:
            if enc == "B":
                text = text.strip()
                raw = binascii.a2b_base64(text + "=" * (-len(text) % 4))
            else:
                raw = binascii.a2b_qp(text.replace("_", " ").encode("ascii", "replace"), header=False)
        except (binascii.Error, ValueError):
            sink.append(f"broken encoded-word {m.group(0)[:60]!r}")
            return m.group(0)
        return _decode_bytes(raw, charset, sink, "header")

    return _ENCODED_WORD_RE.sub(repl, value), tuple(sink)


def _parse_params(value: str, warnings: list[str]) -> tuple[str, dict[str, str]]:
    """``type/subtype`` (lower-cased) and parameters of a Content-Type-like value,
    with RFC 2231 continuations and charsets, RFC 2047 in quoted values tolerated."""
    head, sep, rest = value.partition(";")
    main = head.strip().lower()
    params: dict[str, str] = {}
    if not sep:
        return main, params
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for m in _PARAM_RE.finditer(";" + rest):
        key = m.group(1).lower()
        val = m.group(2).strip()
        if val.startswith('"'):
            val = val[1:-1] if val.endswith('"') and len(val) > 1 else val[1:]
            if "\\" in val:
                val = re.sub(r"\\(.)", r"\1", val)
        if "*" in key:
            base, _, idx = key.partition("*")
            encoded = idx.endswith("*") or idx == ""
            idx = idx.rstrip("*")
            try:
                n = int(idx) if idx else 0
            except ValueError:
                n = 0
            extended.setdefault(base, []).append((n, encoded, val))
        elif key not in params:
            params[key] = val
    for base, pieces in extended.items():
        pieces.sort(key=lambda p: p[0])
        charset = None
        chunks: list[bytes] = []
        for i, (n, encoded, val) in enumerate(pieces):
            if encoded:
                if i == 0 and val.count("'") >= 2:
                    charset, _, val = val.split("'", 2)
                chunks.append(unquote_to_bytes(val))
            else:
                chunks.append(val.encode("utf-8", "replace"))
        try:
            params[base] = _decode_bytes(b"".join(chunks), charset or "utf-8", warnings, "parameter")
        except Exception:  # pragma: no cover - defensive
            pass
    return main, params


def _split_headers(block: str, warnings: list[str]) -> list[tuple[str, str]]:
    """Unfold a header block (LF line endings) into ``(lower-name, raw value)`` pairs."""
    out: list[tuple[str, str]] = []
    name = None
    value = ""
    ascii_block = block.isascii()
    for line in block.split("\n"):
        if not line:
            continue
        c = line[0]
        if c == " " or c == "\t":
            if name is not None:
                value += line
            continue
        n, colon, v = line.partition(":")
        if name is not None and (not colon or "=" in n) and "=" in line and value.rstrip().endswith(";"):
            value += " " + line  # a parameter continuation that lost its indentation
            continue
        key = n.strip()
        # RFC 5322 §2.2: a field name is printable ASCII without space (nor ':')
        if (not colon or not key or len(n) > 76 or " " in key or not key.isprintable()
                or (not ascii_block and not key.isascii())):
            if not out and name is None and line.startswith("From "):
                continue  # mbox separator
            warnings.append(f"malformed header line {line[:60]!r} ignored")
            continue
        if name is not None:
            out.append((name, value))
        name = key.lower()
        value = v
    if name is not None:
        out.append((name, value))
    return out


def _decode_header_block(raw: bytes, warnings: list[str], where: str = "headers") -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        pass
    try:
        # UTF-8 in headers is legitimate (RFC 6532, internationalized email): no warning.
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"raw 8-bit bytes in {where} that are not UTF-8 (read as Windows-1252)")
        return raw.decode("cp1252", "replace")


# ---------------------------------------------------------------------------- addresses
#
# Address headers are parsed from their *raw* value (RFC 5322 §3.4), and only display
# names and comments are RFC 2047-decoded afterwards: "an 'encoded-word' MUST NOT appear
# in any portion of an 'addr-spec'" (RFC 2047 §5), and decoding first lets anyone write
# ``=?utf-8?q?client=40their.example?= <attacker@evil.example>`` and be read as the
# client. What receiving servers authenticate (SPF/DKIM/DMARC alignment) is the raw
# addr-spec, so that is the only thing ever stored as an address. An address is a
# lower-cased addr-spec with exactly one ``@``, no whitespace or control characters, at
# most 254 characters (RFC 5321 §4.5.3.1.3); anything else is dropped with a warning.

_ADDRESS_HEADERS = {"from": "From", "to": "To", "cc": "Cc", "bcc": "Bcc", "reply-to": "Reply-To",
                    "sender": "Sender", "resent-from": "Resent-From", "resent-to": "Resent-To",
                    "resent-cc": "Resent-Cc", "resent-sender": "Resent-Sender"}
_IDENTITY_HEADERS = frozenset(("from", "sender", "reply-to", "resent-from", "resent-sender"))
_MAX_ADDRESSES = 1000
"""Addresses kept per address header; more are dropped with a warning."""
_MAX_ADDRESS_CHARS = 256 * 1024
"""Characters of one address header that are read (~5,000 typical recipients)."""
_MAX_ADDR_LEN = 254
_MAX_NAME_LEN = 256
_CACHED_ADDRESS_VALUE = 2000
"""Longer address headers are parsed without memoizing (no cache of huge strings)."""

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_NON_ASCII = "\u0080-\U0010ffff"
_SIMPLE_ADDR_RE = re.compile(
    r"[ \t]*(?:([^<>@,]*?)[ \t]*<[ \t]*([" + _ATEXT + r".]+@[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*\.?)[ \t]*>"
    r"|([" + _ATEXT + r".]+@[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*\.?))[ \t]*$"
)
# Anything that needs the full grammar: quoted strings, comments, groups, routes, domain
# literals, escapes, control characters.
_ADDR_SLOW_RE = re.compile(r'["();:\\\[\]\x00-\x08\x0a-\x1f\x7f]')
_LOCAL_RE = re.compile(r"[" + _ATEXT + r"." + _NON_ASCII + r"]+")
_DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9_\-" + _NON_ASCII + r"]+\.)*[A-Za-z0-9_\-" + _NON_ASCII + r"]+")
_QUOTED_LOCAL_RE = re.compile(r"[ !#-?A-\[\]-~" + _NON_ASCII + r"]+")
_DOMAIN_LITERAL_RE = re.compile(r"\[[A-Za-z0-9.:\-]+\]")
_ADDR_TOKEN_RE = re.compile(r'([ \t]+)|([^ \t"(),.:;<>@\[\]\\]+)|"((?:[^"\\]|\\.)*\\?)("?)|(.)', re.S)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.S)
_COMMENT_CHUNK_RE = re.compile(r"[^\\()]+")
_NAME_ADDR_RE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[^\s<>()\[\]\"',;:@]*[^\s<>()\[\]\"',;:@.]")
_CTL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CTL_BYTES = bytes(range(0x20)).replace(b"\t", b"").replace(b"\n", b"") + b"\x7f"
"""Control bytes of a header block other than TAB and LF."""


def _clean_header_text(value: str) -> str:
    """``value`` without control characters (NUL, CR, LF, ...): each becomes a space."""
    if _CTL_RE.search(value) is None:
        return value
    return " ".join(_CTL_RE.sub(" ", value).split())


def _clean_name(name: str) -> str:
    """A display name fit to show and store: no control or format characters (bidi
    overrides, zero-width spaces), whitespace collapsed, at most 256 characters."""
    if not name.isprintable():
        name = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in name)
    if "  " in name or name[:1] == " " or name[-1:] == " ":
        name = " ".join(name.split())
    return name[:_MAX_NAME_LEN]


def _check_addr(addr: str, problems: list[str]) -> str | None:
    """The stored form of a syntactically valid addr-spec, ``None`` (with a problem)
    when it cannot be one."""
    local, _, domain = addr.rpartition("@")
    if domain.endswith("."):
        domain = domain[:-1]
    addr = f"{local}@{domain}".lower()
    if len(addr) > _MAX_ADDR_LEN:
        problems.append(f"address longer than {_MAX_ADDR_LEN} characters ignored: {addr[:60]!r}")
        return None
    if not addr.isascii():
        if any(unicodedata.category(ch)[0] in "CZ" for ch in addr):
            problems.append(f"address with invisible or control characters ignored: {addr[:60]!r}")
            return None
        problems.append(f"address {addr[:80]!r} has non-ASCII characters "
                        "(a different address from any ASCII look-alike)")
    if "=?" in local:
        problems.append(f"encoded word in the address {addr[:80]!r} kept as written "
                        "(RFC 2047 §5: never part of an address)")
    return addr


def _name_problem(name: str, addr: str, problems: list[str]) -> None:
    """Warn when a display name holds an address other than the mailbox's own."""
    if "@" not in name and name.isascii():
        return
    folded = unicodedata.normalize("NFKC", name) if not name.isascii() else name
    for m in _NAME_ADDR_RE.finditer(folded):
        if m.group(0).lower().rstrip(".") != addr:
            problems.append(f"display name {name[:80]!r} holds an address; "
                            f"the address is {addr[:80]!r}")
            return


def _decode_name(raw: str, problems: list[str]) -> str:
    raw = raw.strip()
    if "=?" in raw:
        raw = decode_header_value(raw, problems)
    return _clean_name(raw)


def _read_comment(value: str, i: int) -> tuple[str, int, bool]:
    """The text of the (nested) comment opening at ``value[i]``, the index after it,
    and whether it was closed."""
    depth = 0
    out: list[str] = []
    n = len(value)
    while i < n:
        c = value[i]
        if c == "(":
            if depth:
                out.append(c)
            depth += 1
            i += 1
        elif c == ")":
            depth -= 1
            i += 1
            if depth == 0:
                return "".join(out), i, True
            out.append(c)
        elif c == "\\":
            out.append(value[i + 1: i + 2])
            i += 2
        else:
            m = _COMMENT_CHUNK_RE.match(value, i)
            out.append(m.group(0))
            i = m.end()
    return "".join(out), n, False


def _addr_spec(toks: list[tuple[str, str]], problems: list[str], in_angle: bool) -> str | None:
    """The addr-spec spelt by ``toks`` (whitespace and comments already dropped):
    ``local-part "@" domain``, the local part dot-atoms or a quoted string whose content
    is one, the domain a dot-atom or a domain literal. An obsolete route
    (``<@relay1,@relay2:user@host>``, RFC 5322 §4.4) is dropped."""
    if in_angle and toks and toks[0] == ("s", "@"):
        for k, tok in enumerate(toks):
            if tok == ("s", ":"):
                break
        else:
            problems.append("obsolete route without ':' in an address ignored")
            return None
        problems.append("obsolete route in an address dropped")
        toks = toks[k + 1:]
    at = [k for k, tok in enumerate(toks) if tok == ("s", "@")]
    if len(at) != 1:
        shown = "".join(f'"{t}"' if kind == "q" else t for kind, t in toks)[:60]
        problems.append(f"{'no' if not at else 'more than one'} '@' in address {shown!r}; ignored")
        return None
    for prev, tok in zip(toks, toks[1:]):
        if prev[0] in "aq" and tok[0] in "aq":
            shown = "".join(f'"{t}"' if kind == "q" else t for kind, t in toks)[:60]
            problems.append(f"words without '.' between them in address {shown!r}; ignored")
            return None
    local_parts: list[str] = []
    for kind, text in toks[: at[0]]:
        if kind == "a" or kind == "q" or text == ".":
            local_parts.append(text)
        else:
            problems.append(f"{text!r} in the local part of an address; ignored")
            return None
    local = "".join(local_parts)
    if not local or _LOCAL_RE.fullmatch(local) is None:
        # a quoted local part that is no dot-atom (``"System Administrator"@host``) is
        # kept quoted; one holding '@', '"' or '\\' is refused (one '@' per address)
        if (len(local_parts) == 1 and toks[0][0] == "q" and _QUOTED_LOCAL_RE.fullmatch(local)
                and local.strip() == local):
            local = f'"{local}"'
        else:
            problems.append(f"invalid local part {local[:60]!r} in an address; ignored")
            return None
    dom_toks = toks[at[0] + 1:]
    domain = "".join(text for _, text in dom_toks)
    if any(kind == "q" for kind, _ in dom_toks):
        domain = None
    elif domain.startswith("["):
        if _DOMAIN_LITERAL_RE.fullmatch(domain) is None:
            domain = None
    elif _DOMAIN_RE.fullmatch(domain[:-1] if domain.endswith(".") else domain) is None:
        domain = None
    if domain is None:
        shown = "".join(text for _, text in dom_toks)[:60]
        problems.append(f"invalid domain {shown!r} in an address; ignored")
        return None
    return _check_addr(f"{local}@{domain}", problems)


class _Mailbox:
    """What one comma-separated element of an address list has gathered so far."""

    __slots__ = ("phrase", "comments", "angle", "after", "open_angle", "bad", "start")

    def __init__(self, start: int) -> None:
        self.phrase: list[tuple[str, str]] = []   # tokens before '<' (or the addr-spec)
        self.comments: list[str] = []
        self.angle: list[tuple[str, str]] | None = None
        self.after: list[tuple[str, str]] = []    # tokens after '>'
        self.open_angle = False
        self.bad: str | None = None
        self.start = start


def _phrase_text(toks: list[tuple[str, str]]) -> str:
    return "".join(" " if kind == "w" else text for kind, text in toks)


def _finish(box: _Mailbox, value: str, end: int, out: list[tuple[str, str]],
            problems: list[str], identity: bool) -> None:
    shown = value[box.start:end].strip()[:60]
    if box.bad is not None:
        problems.append(f"{box.bad} in {shown!r}; ignored")
        return
    if box.angle is not None:
        if box.open_angle:
            problems.append(f"missing '>' in {shown!r}")
        if any(t == ("s", "@") or t == ("s", "<") for t in box.after):
            problems.append(f"text after the address in {shown!r}; ignored")
            return
        toks = [t for t in box.angle if t[0] != "w"]
        if not toks:
            return  # the null address <>
        addr = _addr_spec(toks, problems, True)
        if addr is None:
            return
        if ("s", "@") in box.phrase:
            # ``a@x <b@y>``: readers that take the first addr-spec (Python's parseaddr,
            # email.headerregistry) see a@x, mail clients and servers b@y. For an author
            # (From, Sender, Reply-To) that is only safe when both agree; a recipient is
            # who the mail was delivered to: the '<...>' address.
            other = _addr_spec([t for t in box.phrase if t[0] != "w"], [], False)
            if other != addr:
                if identity:
                    problems.append(f"ambiguous mailbox {shown!r} (an unquoted address before "
                                    "'<...>' may be read as the address); ignored")
                    return
                problems.append(f"unquoted address before '<...>' in {shown!r}; "
                                "the '<...>' address is kept")
        names = box.phrase if any(k != "w" for k, _ in box.phrase) else box.after
        name = _decode_name(_phrase_text(names), problems)
        if not name and box.comments:
            name = _decode_name(" ".join(box.comments), problems)
    else:
        toks = [t for t in box.phrase if t[0] != "w"]
        if not toks:
            return  # an empty element: ",," or a trailing comma
        if ("s", "@") not in toks:
            name = _decode_name(_phrase_text(box.phrase), problems)
            if _NAME_ADDR_RE.search(unicodedata.normalize("NFKC", name)):
                problems.append(f"no address in {shown!r}: the address-like {name[:80]!r} is "
                                "only a name (quoted or RFC 2047-encoded); ignored")
            else:
                problems.append(f"no address in {shown!r}; ignored")
            return
        addr = _addr_spec(toks, problems, False)
        if addr is None:
            return
        name = _decode_name(" ".join(box.comments), problems) if box.comments else ""
    _name_problem(name, addr, problems)
    out.append((name, addr))


def _simple_address_list(value: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]] | None:
    """The common case (``Name <addr>, addr``, names perhaps RFC 2047-encoded) by one
    regular expression per address; ``None`` when the full grammar is needed."""
    out: list[tuple[str, str]] = []
    problems: list[str] = []
    for piece in value.split(","):
        if not piece.strip():
            continue
        m = _SIMPLE_ADDR_RE.match(piece)
        if m is None:
            return None
        addr = m.group(2) or m.group(3)
        if "=?" in addr:
            return None
        addr = _check_addr(addr, problems)
        if addr is None:
            return None
        name = m.group(1)
        if name:
            name = _decode_name(name, problems)
            _name_problem(name, addr, problems)
        out.append((name or "", addr))
        if len(out) > _MAX_ADDRESSES:
            break
    return tuple(out), tuple(problems)


def _parse_address_list(value: str, identity: bool = True
                        ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """``(name, addr-spec)`` pairs of a raw address header value, and its problems.
    ``identity``: the header names authors (From, Sender, Reply-To), not recipients."""
    if _ADDR_SLOW_RE.search(value) is None:
        fast = _simple_address_list(value)
        if fast is not None:
            return fast
    out: list[tuple[str, str]] = []
    problems: list[str] = []
    n = len(value)
    pos = 0
    in_group = False
    box = _Mailbox(0)
    while pos < n:
        if len(out) > _MAX_ADDRESSES:
            break
        c = value[pos]
        if c == "(":
            text, pos, closed = _read_comment(value, pos)
            if not closed:
                box.bad = "unclosed comment"
            box.comments.append(text)
            continue
        m = _ADDR_TOKEN_RE.match(value, pos)
        pos = m.end()
        if m.group(1) is not None:
            tok = ("w", " ")
        elif m.group(2) is not None:
            tok = ("a", m.group(2))
        elif m.group(3) is not None:
            body = m.group(3)
            if not m.group(4):
                box.bad = box.bad or "unclosed quoted string"
            tok = ("q", _QUOTED_PAIR_RE.sub(r"\1", body) if "\\" in body else body)
        else:
            tok = ("s", m.group(5))
        if box.open_angle:
            if c == ">":
                box.open_angle = False
            else:
                box.angle.append(tok)  # type: ignore[union-attr]
            continue
        if c == ",":
            _finish(box, value, pos - 1, out, problems, identity)
            box = _Mailbox(pos)
        elif c == ";":
            _finish(box, value, pos - 1, out, problems, identity)
            box = _Mailbox(pos)
            if in_group:
                in_group = False
            else:
                problems.append("';' outside a group read as ','")
        elif c == ":" and box.angle is None and ("s", "@") not in box.phrase:
            # group syntax (RFC 5322 §3.4): "display-name:" mailboxes ";"
            if in_group:
                problems.append("group inside a group")
            in_group = True
            box = _Mailbox(pos)
        elif c == "<":
            if box.angle is not None:
                box.bad = box.bad or "two '<...>' addresses"
            box.angle = []
            box.open_angle = True
        elif c == ")" or c == ">":
            box.bad = box.bad or f"unbalanced {c!r}"
        elif box.angle is not None:
            box.after.append(tok)
        else:
            box.phrase.append(tok)
    _finish(box, value, n, out, problems, identity)
    return tuple(out), tuple(problems)


def _render(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """An address list that any RFC 5322 reader parses back to exactly these addresses
    (names quoted), for ``ParsedMessage.headers``."""
    out = []
    for name, addr in pairs:
        if name:
            name = name.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{name}" <{addr}>')
        else:
            out.append(addr)
    return ", ".join(out)


def _named_recipients(addresses: dict[str, tuple[tuple[str, str], ...]]) -> tuple[str, ...]:
    """``"Name" <addr>`` for each To and Cc address that came with a display name
    (:attr:`ParsedMessage.recipient_names`), from the pairs already parsed."""
    out: dict[str, str] = {}
    for key in ("to", "cc"):
        for name, addr in addresses.get(key, ()):
            name, addr = " ".join(name.split()), addr.strip().lower()
            if name and "@" in addr and name.lower() != addr and addr not in out:
                quoted = name.replace("\\", "\\\\").replace('"', '\\"')
                out[addr] = f'"{quoted}" <{addr}>'  # not RFC 2047-encoded: read back as is
    return tuple(out.values())


def _address_value(raw: str, key: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...], str]:
    """One occurrence of address header ``key``: its pairs, its warnings (labelled) and
    what ``ParsedMessage.headers`` shows for it. The whole raw value is read (up to
    ``_MAX_ADDRESS_CHARS``), never a length-cut copy."""
    label = _ADDRESS_HEADERS[key]
    raw = raw.strip()
    notes: list[str] = []
    if len(raw) > _MAX_ADDRESS_CHARS:
        notes.append(f"{label} header of {len(raw):,} characters: only the first "
                     f"{_MAX_ADDRESS_CHARS:,} are read")
        raw = raw[:_MAX_ADDRESS_CHARS]
    pairs, problems = _parse_address_list(raw, key in _IDENTITY_HEADERS)
    notes.extend(f"{label}: {problem}" for problem in problems)
    if len(pairs) > _MAX_ADDRESSES:
        notes.append(f"{label}: more than {_MAX_ADDRESSES:,} addresses; "
                     f"the first {_MAX_ADDRESSES:,} are kept")
        pairs = pairs[:_MAX_ADDRESSES]
    shown = _render(pairs) if pairs else _clean_header_text(raw)
    return pairs, tuple(notes), shown[:_MAX_HEADER_VALUE]


_address_pairs = lru_cache(maxsize=16384)(_address_value)
"""``_address_value`` memoized for the same reason as encoded words: the same From/To
lines recur. Only values up to ``_CACHED_ADDRESS_VALUE`` characters: no cache of huge
strings."""


def _address_fields(values: dict[str, list[str]], headers: dict[str, str],
                    warnings: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Parse every occurrence of every address header (raw values, before any length
    cut); put a safe rendering of each in ``headers``; return the pairs per header."""
    result: dict[str, tuple[tuple[str, str], ...]] = {}
    for key, raws in values.items():
        if len(raws) == 1:
            raw = raws[0]
            pairs, notes, shown = (_address_pairs(raw, key) if len(raw) <= _CACHED_ADDRESS_VALUE
                                   else _address_value(raw, key))
            if notes:
                warnings.extend(notes)
            result[key] = pairs
            headers[key] = shown
            continue
        label = _ADDRESS_HEADERS[key]
        warnings.append(f"{len(raws)} {label} headers" + (
            "; their addresses are read together" if key != "from" else ""))
        merged: list[tuple[str, str]] = []
        texts: list[str] = []
        for raw in raws:
            pairs, notes, shown = _address_value(raw, key)
            warnings.extend(notes)
            merged.extend(pairs)
            if shown:
                texts.append(shown)
        if len(merged) > _MAX_ADDRESSES:
            warnings.append(f"{label}: more than {_MAX_ADDRESSES:,} addresses; "
                            f"the first {_MAX_ADDRESSES:,} are kept")
            del merged[_MAX_ADDRESSES:]
        result[key] = tuple(merged)
        headers[key] = ", ".join(texts)[:_MAX_HEADER_VALUE]
    return result


def _sender(values: dict[str, list[str]], pairs: tuple[tuple[str, str], ...],
            warnings: list[str]) -> tuple[str | None, str | None]:
    """``(from_addr, from_name)``: the one address of From, else nobody. A From naming
    several different mailboxes (or several From headers that disagree) names no single
    author that a receiving server could have checked: the sender is left unknown."""
    if len(pairs) == 1:
        return pairs[0][1], pairs[0][0] or None
    addrs = list(dict.fromkeys(a for _, a in pairs))
    if len(addrs) == 1:
        name = next((n for n, _ in pairs if n), "")
        return addrs[0], name or None
    if addrs:
        shown = ", ".join(addrs[:3]) + (", ..." if len(addrs) > 3 else "")
        warnings.append(f"From names {len(addrs)} different addresses ({shown}); "
                        "the sender is left unknown")
    elif "from" in values:
        warnings.append(f"unparseable From {' '.join(v.strip() for v in values['from'])[:60]!r}")
    return None, None


def _parse_date(value: str | None, warnings: list[str]) -> datetime | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        warnings.append("empty Date header")
        return None
    m = _DATE_RE.match(value)
    if m is not None:
        mon = _MONTHS.get(m.group(2).lower())
        if mon is not None:
            try:
                off = timedelta(hours=int(m.group(8)), minutes=int(m.group(9)))
                if m.group(7) == "-":
                    off = -off
                dt = datetime(int(m.group(3)), mon, int(m.group(1)), int(m.group(4)),
                              int(m.group(5)), int(m.group(6) or 0), tzinfo=timezone(off))
                return dt.astimezone(timezone.utc)
            except (ValueError, OverflowError):
                pass
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        warnings.append(f"unparseable Date {value[:60]!r}")
        return None
    if dt is None:
        warnings.append(f"unparseable Date {value[:60]!r}")
        return None
    try:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        warnings.append(f"Date out of range {value[:60]!r}")
        return None


def _decode_transfer(raw: bytes, cte: str, warnings: list[str], limit: int) -> bytes:
    cte = cte.strip().lower()
    if cte == "base64":
        s = raw[: limit * 2 + 64]
        s = b"".join(s.split())
        s = s[: len(s) // 4 * 4]
        try:
            return binascii.a2b_base64(s)
        except (binascii.Error, ValueError):
            warnings.append("broken base64 body")
            s = re.sub(rb"[^A-Za-z0-9+/]", b"", s)
            s = s[: len(s) // 4 * 4]
            try:
                return binascii.a2b_base64(s)
            except (binascii.Error, ValueError):
                return b""
    if cte == "quoted-printable":
        return binascii.a2b_qp(raw[: limit * 4])
    if cte and cte not in ("7bit", "8bit", "binary", "") and not cte.startswith("x-"):
        warnings.append(f"unknown Content-Transfer-Encoding {cte[:30]!r}")
    return raw[: limit * 4]


def html_to_text(markup: str) -> str:
    """A rough plain-text rendering of an HTML body, enough for the rules."""
    markup = _HTML_DROP_RE.sub(" ", markup)
    markup = _HTML_BREAK_RE.sub("\n", markup)
    markup = _HTML_TAG_RE.sub("", markup)
    text = html.unescape(markup)
    text = _BLANKS_RE.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _MANY_NL_RE.sub("\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------------------- MIME walk

class _State:
    __slots__ = ("warnings", "part_types", "attachments", "plain", "html", "report",
                 "orig_headers", "max_text", "nparts", "report_type")

    def __init__(self, warnings: list[str], max_text: int) -> None:
        self.warnings = warnings
        self.part_types: list[str] = []
        self.attachments: list[str] = []
        self.plain: str | None = None
        self.html: str | None = None
        self.report: str | None = None
        self.orig_headers: dict[str, str] | None = None
        self.max_text = max_text
        self.nparts = 0
        self.report_type: str | None = None


def _part_headers(block: bytes, st: _State) -> dict[str, str]:
    hdrs: dict[str, str] = {}
    for name, value in _split_headers(_decode_header_block(block, st.warnings, "part headers"), st.warnings):
        if name not in hdrs:
            hdrs[name] = value.strip()
    return hdrs


def _split_block(data: bytes) -> tuple[bytes, bytes, bool]:
    """Header block, body, and whether a blank line separated them."""
    if data.startswith(b"\n"):
        return b"", data[1:], True
    i = data.find(b"\n\n")
    if i < 0:
        return data, b"", False
    return data[:i], data[i + 2:], True


def _embedded_headers(body: bytes, st: _State) -> None:
    if st.orig_headers is not None:
        return
    block, _, _ = _split_block(body.lstrip(b"\n")[:65536])
    hdrs = {}
    for name, value in _split_headers(_decode_header_block(block, st.warnings, "embedded headers"), []):
        if name in ("message-id", "from", "to", "subject", "date") and name not in hdrs:
            hdrs[name] = _clean_header_text(decode_header_value(value.strip(), st.warnings))[:_MAX_HEADER_VALUE]
    st.orig_headers = hdrs


def _visit(ctype: str, params: dict[str, str], hdrs: dict[str, str], body: bytes,
           st: _State, depth: int, has_separator: bool = True) -> None:
    st.nparts += 1
    st.part_types.append(ctype)
    disp_value = hdrs.get("content-disposition", "")
    disposition, dparams = _parse_params(disp_value, st.warnings) if disp_value else ("", {})
    filename = dparams.get("filename") or params.get("name")
    if filename:
        st.attachments.append(_clean_header_text(decode_header_value(filename, st.warnings)).strip())
    if ctype.startswith("multipart/"):
        boundary = params.get("boundary")
        if ctype == "multipart/report" and st.report_type is None:
            st.report_type = (params.get("report-type") or "").strip().lower() or None
        if not boundary:
            st.warnings.append(f"{ctype} without boundary; body read as text")
            if st.plain is None:
                st.plain = _decode_bytes(body[: st.max_text * 4], params.get("charset"), st.warnings, "body")[: st.max_text]
            return
        _walk_multipart(body, boundary, st, depth + 1, ctype == "multipart/digest")
        return
    attachment = disposition == "attachment"
    cte = hdrs.get("content-transfer-encoding", "")
    if ctype in EMBEDDED_TYPES:
        _embedded_headers(body, st)
        return
    if ctype in REPORT_TYPES:
        if st.report is None:
            raw = _decode_transfer(body, cte, st.warnings, _MAX_REPORT)
            st.report = _decode_bytes(raw, params.get("charset") or "utf-8", st.warnings, "report")[:_MAX_REPORT]
        return
    if attachment and filename:
        return
    if ctype == "text/plain" and st.plain is None:
        raw = _decode_transfer(body, cte, st.warnings, st.max_text)
        st.plain = _decode_bytes(raw, params.get("charset"), st.warnings, "body")[: st.max_text]
    elif ctype == "text/html" and st.html is None:
        raw = _decode_transfer(body, cte, st.warnings, st.max_text * 4)
        st.html = _decode_bytes(raw, params.get("charset"), st.warnings, "body")


def _walk_multipart(body: bytes, boundary: str, st: _State, depth: int, digest: bool) -> None:
    if depth > _MAX_DEPTH:
        st.warnings.append("MIME nesting too deep; inner parts skipped")
        return
    delim = b"--" + boundary.strip().encode("ascii", "replace")
    n = len(delim)
    positions: list[int] = []
    closed = False
    if body.startswith(delim):
        pos = 0
    else:
        pos = body.find(b"\n" + delim)
        if pos >= 0:
            pos += 1
    while pos >= 0:
        end = pos + n
        if body.startswith(b"--", end):
            closed = True
            positions.append(pos)
            break
        # a boundary line: only whitespace may follow the delimiter
        eol = body.find(b"\n", end)
        tail = body[end:eol] if eol >= 0 else body[end:]
        if not tail.strip():
            positions.append(pos)
        nxt = body.find(b"\n" + delim, end)
        pos = nxt + 1 if nxt >= 0 else -1
    if not positions:
        st.warnings.append(f"MIME boundary {boundary[:40]!r} not found; body read as text")
        if st.plain is None:
            st.plain = _decode_bytes(body[: st.max_text * 4], None, st.warnings, "body")[: st.max_text]
        return
    if not closed:
        st.warnings.append("closing MIME boundary missing (message truncated?)")
        positions.append(len(body))
    for start, stop in zip(positions, positions[1:]):
        if st.nparts >= _MAX_PARTS:
            st.warnings.append("too many MIME parts; the rest skipped")
            return
        line_end = body.find(b"\n", start)
        if line_end < 0 or line_end >= stop:
            continue
        part = body[line_end + 1: stop - 1 if stop > line_end + 1 else stop]
        block, pbody, sep = _split_block(part)
        if not sep and block and b":" not in block.split(b"\n", 1)[0]:
            block, pbody = b"", part  # no headers at all
        hdrs = _part_headers(block, st) if block else {}
        ctype_value = hdrs.get("content-type")
        if ctype_value:
            ctype, params = _parse_params(ctype_value, st.warnings)
            if "/" not in ctype:
                st.warnings.append(f"invalid Content-Type {ctype[:40]!r} in a part")
                ctype = "text/plain"
        else:
            ctype, params = ("message/rfc822" if digest else "text/plain"), {}
        _visit(ctype, params, hdrs, pbody, st, depth)


# ---------------------------------------------------------------------------- entry point

def _synthetic_id(normalised: bytes) -> str:
    return f"<{hashlib.sha256(normalised).hexdigest()}@{SYNTHETIC_DOMAIN}>"


def _normalise(data: bytes) -> bytes:
    """LF line endings. CR alone ends lines only in a file that has no LF at all (old Mac
    files): where lines end in LF or CRLF a lone CR is no line break (RFC 5322 §2.2;
    mail servers read it so) and becomes a space, so ``X-A: 1\rFrom: client@...`` adds
    no From header that the receiving server never saw."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            data = data.replace(b"\r", b" " if b"\n" in data else b"\n")
    return data


def parse_message(data: bytes, *, max_text: int = 4000) -> ParsedMessage:
    """Read raw RFC 5322 bytes into a :class:`ParsedMessage`. Never raises."""
    try:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            data = str(data).encode("utf-8", "surrogateescape")
        data = _normalise(bytes(data))
    except Exception as exc:  # pragma: no cover - defensive
        return _minimal(b"", [f"unreadable input: {exc}"])
    try:
        return _fast_parse(data, max_text)
    except Exception as exc:
        try:
            return _stdlib_parse(data, max_text, f"fast parser failed ({type(exc).__name__}: {exc}); used the standard library")
        except Exception as exc2:
            return _minimal(data, [f"message could not be parsed: {type(exc2).__name__}: {exc2}"])


def _stored_warnings(warnings: list[str]) -> tuple[str, ...]:
    """Each warning once, without control characters (some quote what they warn about)."""
    return tuple(dict.fromkeys(_clean_header_text(w) for w in warnings))


def _minimal(data: bytes, warnings: list[str]) -> ParsedMessage:
    return ParsedMessage(
        message_id=_synthetic_id(data), synthetic_id=True, from_addr=None, from_name=None,
        to=(), cc=(), bcc=(), subject="", date=None, in_reply_to=None, references=(),
        headers={}, content_type="text/plain", report_type=None, part_types=("text/plain",),
        attachment_names=(), text="", report="", original_message_id=None,
        original_headers={}, warnings=_stored_warnings(warnings),
    )


_BLANK_START = frozenset((b"\n", b" ", b"\t", b"\xef"))
_LEADING_BLANKS_RE = re.compile(rb"(?:\xef\xbb\xbf)?(?:[ \t]*\n)*")
_HEADER_LINE_RE = re.compile(rb"From |[!-9;-~]{1,76}[ \t]*:")


def _after_leading_blank_lines(data: bytes, start: int) -> int:
    """Where the headers (or an mbox ``From `` line) begin when a file has blank or
    white-space-only lines, or a UTF-8 byte-order mark, before its first header, as
    Exchange reports saved to disk do (DESIGN.md rule 7): past them when a header line
    follows, else ``start`` unchanged (a body without headers stays one)."""
    m = _LEADING_BLANKS_RE.match(data, start)
    if m.end() == start or _HEADER_LINE_RE.match(data, m.end()) is None:
        return start
    return m.end()


def _fast_parse(data: bytes, max_text: int) -> ParsedMessage:
    warnings: list[str] = []
    if not data.strip():
        return _minimal(data, ["empty message"])
    start = 0
    if data[:1] in _BLANK_START:
        start = _after_leading_blank_lines(data, 0)
    if data.startswith(b"From ", start):
        nl = data.find(b"\n", start)
        start = nl + 1 if nl >= 0 else len(data)
        if data[start:start + 1] in _BLANK_START:
            start = _after_leading_blank_lines(data, start)
    block, body, sep = _split_block(data[start:] if start else data)
    if not sep:
        warnings.append("no blank line after the headers (message cut short?)")
    text_block = _decode_header_block(block, warnings)
    block_ctl = len(block.translate(None, _CTL_BYTES)) != len(block)  # (bytes: C-fast)
    pairs = _split_headers(text_block, warnings)
    headers: dict[str, str] = {}
    address_values: dict[str, list[str]] = {}
    msgid_count = 0
    for name, value in pairs:
        if name == "message-id":
            msgid_count += 1
        if name in _ADDRESS_HEADERS:
            address_values.setdefault(name, []).append(value)  # parsed raw, uncut: below
            continue
        if name in headers or name in _SKIP_HEADERS:
            continue
        value = value.strip()
        if "=?" in value:
            value = _clean_header_text(decode_header_value(value, warnings))
        elif block_ctl:
            value = _clean_header_text(value)
        if len(value) > _MAX_HEADER_VALUE:
            value = value[:_MAX_HEADER_VALUE]
        headers[name] = value
    addresses = _address_fields(address_values, headers, warnings)
    if not pairs:
        warnings.append("no headers")

    # Message-ID
    raw_id = headers.get("message-id", "").strip()
    synthetic = False
    if msgid_count > 1:
        warnings.append("duplicate Message-ID header; the first one is used")
    m = _MSGID_RE.search(raw_id) if raw_id else None
    if m is not None:
        message_id = f"<{m.group(1)}>"
    elif raw_id and "@" in raw_id and _BARE_MSGID_RE.fullmatch(raw_id.strip("<>")):
        message_id = f"<{raw_id.strip('<>')}>"
        warnings.append("Message-ID without angle brackets")
    else:
        message_id = _synthetic_id(data)
        synthetic = True
        warnings.append("empty or invalid Message-ID; synthetic id used" if raw_id or msgid_count
                        else "missing Message-ID; synthetic id used")

    from_addr, from_name = _sender(address_values, addresses.get("from", ()), warnings)
    to = tuple(a for _, a in addresses.get("to", ()))
    cc = tuple(a for _, a in addresses.get("cc", ()))
    bcc = tuple(a for _, a in addresses.get("bcc", ()))
    subject = " ".join(headers.get("subject", "").split()) if "subject" in headers else ""
    date = _parse_date(headers.get("date"), warnings)
    irt_value = headers.get("in-reply-to")
    irt = _MSGID_RE.search(irt_value) if irt_value else None
    in_reply_to = f"<{irt.group(1)}>" if irt else None
    refs_value = headers.get("references")
    references = tuple(f"<{r}>" for r in _MSGID_RE.findall(refs_value)) if refs_value else ()

    # Body
    st = _State(warnings, max_text)
    ctype_value = headers.get("content-type")
    if ctype_value:
        ctype, params = _parse_params(ctype_value, warnings)
        if "/" not in ctype or " " in ctype:
            warnings.append(f"invalid Content-Type {ctype[:40]!r}; text/plain assumed")
            ctype, params = "text/plain", {k: v for k, v in params.items() if k == "charset"}
    else:
        ctype, params = "text/plain", {}
    _visit(ctype, params, headers, body, st, 0)
    text = st.plain
    if text is None and st.html is not None:
        text = html_to_text(st.html)
    text = (text or "")[:max_text]
    if st.report is None and b"elivery-status" in body:
        _loose_report(body, st)
    if st.orig_headers is None and body:
        _body_original(body, st)
    orig = st.orig_headers or {}
    om = _MSGID_RE.search(orig.get("message-id", "")) if orig.get("message-id") else None
    original_message_id = f"<{om.group(1)}>" if om else None
    return ParsedMessage(
        message_id=message_id, synthetic_id=synthetic, from_addr=from_addr, from_name=from_name,
        to=to, cc=cc, bcc=bcc, subject=subject, date=date, in_reply_to=in_reply_to,
        references=references, headers=headers, content_type=ctype, report_type=st.report_type,
        part_types=tuple(st.part_types), attachment_names=tuple(st.attachments), text=text,
        report=st.report or "", original_message_id=original_message_id, original_headers=orig,
        warnings=_stored_warnings(warnings), recipient_names=_named_recipients(addresses),
    )


_LOOSE_REPORT_RE = re.compile(
    rb"^content-type:[ \t]*message/(?:global-)?delivery-status[^\n]*\n(?:[^\n]+\n)*\n", re.I | re.M)


def _loose_report(body: bytes, st: _State) -> None:
    """A delivery-status part the MIME walk did not reach: inside a forwarded
    ``message/rfc822`` or in a non-MIME message that still has boundary lines."""
    m = _LOOSE_REPORT_RE.search(body, 0, 262144)
    if m is None:
        return
    end = body.find(b"\n--", m.end())
    chunk = body[m.end(): end if end >= 0 else m.end() + _MAX_REPORT]
    st.report = _decode_bytes(chunk[:_MAX_REPORT], "utf-8", st.warnings, "report")


def _body_original(body: bytes, st: _State) -> None:
    """Quoted headers of a returned message in a non-MIME bounce body."""
    chunk = body[:131072]
    if b"essage-" not in chunk and b"ESSAGE-" not in chunk:
        return
    m = _BODY_MSGID_RE.search(chunk)
    if m is None:
        return
    hdrs = {"message-id": m.group(1).decode("ascii", "replace")}
    # the quoted From/To/Subject closest before or after the Message-ID line
    window = chunk[max(0, m.start() - 4000): m.end() + 4000]
    for hm in _BODY_ORIG_HDR_RE.finditer(window):
        name = hm.group(1).decode("ascii").lower()
        if name not in hdrs:
            hdrs[name] = _clean_header_text(decode_header_value(hm.group(2).decode("utf-8", "replace").strip()))
    st.orig_headers = hdrs


def _stdlib_parse(data: bytes, max_text: int, note: str) -> ParsedMessage:
    """Slow, tolerant path for what the fast path could not read."""
    from email.parser import BytesParser
    from email.policy import compat32

    warnings = [note]
    msg = BytesParser(policy=compat32).parsebytes(data)
    headers: dict[str, str] = {}
    address_values: dict[str, list[str]] = {}
    for name, value in msg.items():
        name = name.lower()
        if name in _ADDRESS_HEADERS:
            address_values.setdefault(name, []).append(" ".join(str(value).split()))
        elif name not in headers and name not in _SKIP_HEADERS:
            value = decode_header_value(" ".join(str(value).split()), warnings)
            headers[name] = _clean_header_text(value)[:_MAX_HEADER_VALUE]
    addresses = _address_fields(address_values, headers, warnings)
    from_addr, from_name = _sender(address_values, addresses.get("from", ()), warnings)
    raw_id = headers.get("message-id", "")
    m = _MSGID_RE.search(raw_id)
    irt = _MSGID_RE.search(headers.get("in-reply-to", ""))
    text_parts = []
    part_types = []
    report = ""
    report_type = None
    for part in msg.walk():
        ct = part.get_content_type()
        part_types.append(ct)
        if ct == "multipart/report" and report_type is None:
            report_type = (part.get_param("report-type") or "").lower() or None
        if not part.is_multipart() and ct in ("text/plain",) and not text_parts:
            payload = part.get_payload(decode=True) or b""
            text_parts.append(_decode_bytes(payload[: max_text * 4], part.get_content_charset(), warnings, "body"))
        if ct in REPORT_TYPES and not report:
            payload = part.get_payload()
            report = str(payload if isinstance(payload, str) else "\n".join(str(p) for p in payload))[:_MAX_REPORT]
    return ParsedMessage(
        message_id=f"<{m.group(1)}>" if m else _synthetic_id(data), synthetic_id=m is None,
        from_addr=from_addr, from_name=from_name,
        to=tuple(a for _, a in addresses.get("to", ())),
        cc=tuple(a for _, a in addresses.get("cc", ())),
        bcc=tuple(a for _, a in addresses.get("bcc", ())),
        subject=" ".join(headers.get("subject", "").split()), date=_parse_date(headers.get("date"), warnings),
        in_reply_to=f"<{irt.group(1)}>" if irt else None,
        references=tuple(f"<{r}>" for r in _MSGID_RE.findall(headers.get("references", ""))),
        headers=headers, content_type=msg.get_content_type(), report_type=report_type,
        part_types=tuple(part_types), attachment_names=tuple(n for n in (p.get_filename() for p in msg.walk()) if n),
        text=(text_parts[0] if text_parts else "")[:max_text], report=report, original_message_id=None,
        original_headers={}, warnings=_stored_warnings(warnings),
        recipient_names=_named_recipients(addresses),
    )
