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
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_to_datetime
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

_MSGID_RE = re.compile(r"<\s*([^<>\s]+)\s*>")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_EW_GAP_RE = re.compile(r"(\?=)[ \t\r\n]+(=\?)")
_PARAM_RE = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')
_SIMPLE_ADDR_RE = re.compile(
    r"\s*(?:([^<>\"(),;:@]*?)\s*<\s*([^<>\s\"(),;:@]+@[^<>\s\"(),;:]+)\s*>|([^<>\s\"(),;:@]+@[^<>\s\"(),;:]+))\s*$"
)
_DATE_RE = re.compile(
    r"\s*(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s+([+-])(\d{2})(\d{2})(?:\s*\(.*\))?\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_BODY_MSGID_RE = re.compile(rb"^[ \t>]*Message-I[dD]\s*:\s*(<[^<>\s]+>)", re.M | re.I)
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
    decoded, problems = _decode_encoded_words(value)
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
        if not colon or not n or " " in n.strip() or len(n) > 76:
            if not out and name is None and line.startswith("From "):
                continue  # mbox separator
            warnings.append(f"malformed header line {line[:60]!r} ignored")
            continue
        if name is not None:
            out.append((name, value))
        name = n.strip().lower()
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


def _addresses(value: str | None) -> tuple[tuple[str, str], ...]:
    """``(name, lower-cased addr-spec)`` pairs of an address header."""
    if not value:
        return ()
    return _address_pairs(value)


@lru_cache(maxsize=4096)
def _address_pairs(value: str) -> tuple[tuple[str, str], ...]:
    """Memoized for the same reason as encoded words: the same From/To lines recur."""
    out: list[tuple[str, str]] = []
    if '"' not in value and "(" not in value and ";" not in value and ":" not in value:
        for piece in value.split(","):
            if not piece.strip():
                continue
            m = _SIMPLE_ADDR_RE.match(piece)
            if m is None:
                break
            addr = m.group(2) or m.group(3)
            out.append(((m.group(1) or "").strip(), addr.lower()))
        else:
            return tuple(out)
        out = []
    try:
        for name, addr in getaddresses([value]):
            addr = addr.strip()
            if addr and "@" in addr:
                out.append((name, addr.lower()))
    except Exception:
        pass
    return tuple(out)


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
            hdrs[name] = decode_header_value(value.strip(), st.warnings)
    st.orig_headers = hdrs


def _visit(ctype: str, params: dict[str, str], hdrs: dict[str, str], body: bytes,
           st: _State, depth: int, has_separator: bool = True) -> None:
    st.nparts += 1
    st.part_types.append(ctype)
    disp_value = hdrs.get("content-disposition", "")
    disposition, dparams = _parse_params(disp_value, st.warnings) if disp_value else ("", {})
    filename = dparams.get("filename") or params.get("name")
    if filename:
        st.attachments.append(decode_header_value(filename, st.warnings).strip())
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
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
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


def _minimal(data: bytes, warnings: list[str]) -> ParsedMessage:
    return ParsedMessage(
        message_id=_synthetic_id(data), synthetic_id=True, from_addr=None, from_name=None,
        to=(), cc=(), bcc=(), subject="", date=None, in_reply_to=None, references=(),
        headers={}, content_type="text/plain", report_type=None, part_types=("text/plain",),
        attachment_names=(), text="", report="", original_message_id=None,
        original_headers={}, warnings=tuple(warnings),
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
    pairs = _split_headers(text_block, warnings)
    headers: dict[str, str] = {}
    msgid_count = 0
    for name, value in pairs:
        if name == "message-id":
            msgid_count += 1
        if name in headers or name in _SKIP_HEADERS:
            continue
        value = value.strip()
        if "=?" in value:
            value = decode_header_value(value, warnings)
        if len(value) > _MAX_HEADER_VALUE:
            value = value[:_MAX_HEADER_VALUE]
        headers[name] = value
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
    elif raw_id and " " not in raw_id and "@" in raw_id:
        message_id = f"<{raw_id.strip('<>')}>"
        warnings.append("Message-ID without angle brackets")
    else:
        message_id = _synthetic_id(data)
        synthetic = True
        warnings.append("empty or invalid Message-ID; synthetic id used" if raw_id or msgid_count
                        else "missing Message-ID; synthetic id used")

    froms = _addresses(headers.get("from"))
    from_name = froms[0][0] or None if froms else None
    from_addr = froms[0][1] if froms else None
    if from_addr is None and headers.get("from"):
        warnings.append(f"unparseable From {headers['from'][:60]!r}")
    to = tuple(a for _, a in _addresses(headers.get("to")))
    cc = tuple(a for _, a in _addresses(headers.get("cc")))
    bcc = tuple(a for _, a in _addresses(headers.get("bcc")))
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
        warnings=tuple(dict.fromkeys(warnings)),
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
            hdrs[name] = decode_header_value(hm.group(2).decode("utf-8", "replace").strip())
    st.orig_headers = hdrs


def _stdlib_parse(data: bytes, max_text: int, note: str) -> ParsedMessage:
    """Slow, tolerant path for what the fast path could not read."""
    from email.parser import BytesParser
    from email.policy import compat32

    warnings = [note]
    msg = BytesParser(policy=compat32).parsebytes(data)
    headers: dict[str, str] = {}
    for name, value in msg.items():
        name = name.lower()
        if name not in headers and name not in _SKIP_HEADERS:
            headers[name] = decode_header_value(" ".join(str(value).split()), warnings)[:_MAX_HEADER_VALUE]
    raw_id = headers.get("message-id", "")
    m = _MSGID_RE.search(raw_id)
    froms = _addresses(headers.get("from"))
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
        from_addr=froms[0][1] if froms else None, from_name=(froms[0][0] or None) if froms else None,
        to=tuple(a for _, a in _addresses(headers.get("to"))),
        cc=tuple(a for _, a in _addresses(headers.get("cc"))),
        bcc=tuple(a for _, a in _addresses(headers.get("bcc"))),
        subject=" ".join(headers.get("subject", "").split()), date=_parse_date(headers.get("date"), warnings),
        in_reply_to=f"<{irt.group(1)}>" if irt else None,
        references=tuple(f"<{r}>" for r in _MSGID_RE.findall(headers.get("references", ""))),
        headers=headers, content_type=msg.get_content_type(), report_type=report_type,
        part_types=tuple(part_types), attachment_names=tuple(n for n in (p.get_filename() for p in msg.walk()) if n),
        text=(text_parts[0] if text_parts else "")[:max_text], report=report, original_message_id=None,
        original_headers={}, warnings=tuple(warnings),
    )
