"""The same message delivered to several mailboxes, recognised from its bytes.

A team's mail holds most messages more than once: the rep's Sent copy, the manager's
Cc copy, the shared mailbox's. Servers deliver a message's bytes unchanged and *prepend*
their trace fields -- ``Return-Path`` and ``Received`` (RFC 5321 §4.4), and their
kin (``Delivered-To``, ``Authentication-Results``, ARC and DKIM signatures) -- at the top
of the header block. :func:`delivered_identity` digests a message without that leading
run of trace fields: two files with the same identity differ at most in fields the
parser never reads for a message's Message-ID, sender, date, subject or text, so they
are the same message and parse to the same Message-ID and fingerprint. Sync uses it to
skip parsing a copy of a message it stored earlier in the same run
(:mod:`assistant.services.ingest`).

The identity is given only when that holds by construction, else ``None`` (the message
is parsed as usual):

* the trace run is printable ASCII (tabs allowed), each field well-formed (a known
  trace name, a colon, continuation lines indented), so the header block decodes, and
  its control characters are cleaned, the same with or without it;
* what follows starts with a plain field name (letters, digits, ``-``), so no mbox
  ``From`` line, byte-order mark, blank line or unindented continuation is involved;
* a blank line ends the headers somewhere after it.

Line endings are those the parser reads (CRLF as LF, see ``parse._normalise``).
"""

from __future__ import annotations

import hashlib
import re

TRACE_FIELDS = frozenset((
    "return-path", "received", "delivered-to", "x-original-to", "x-received",
    "received-spf", "authentication-results", "arc-seal", "arc-message-signature",
    "arc-authentication-results", "dkim-signature", "x-google-dkim-signature",
    "x-google-smtp-source", "x-gm-message-state", "x-envelope-from", "x-envelope-to",
))
"""Fields servers add at the top on delivery; none is read for what makes two copies
the same message (Message-ID, From, Date, Subject, the MIME headers and the body)."""

_FIELD_START_RE = re.compile(rb"([A-Za-z0-9-]{1,76}):")
_PRINTABLE_RE = re.compile(rb"[\t\x20-\x7e]*\Z")


def delivered_identity(data: bytes) -> bytes | None:
    """A 16-byte digest of ``data`` without its leading trace fields, or ``None`` when
    the message does not have the plain shape the module doc describes."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None  # a lone CR: the parser's own rules decide what it is
    if b"\n\n" not in data:
        return None
    start = 0
    while True:
        m = _FIELD_START_RE.match(data, start)
        if m is None:
            return None
        if m.group(1).lower().decode("ascii") not in TRACE_FIELDS:
            break  # the first field the sender wrote: the identity starts here
        end = _field_end(data, start)
        if end is None or not _PRINTABLE_RE.match(data[start:end].replace(b"\n", b"")):
            return None
        start = end
    blank = data.find(b"\n\n", start)
    if blank < 0:
        return None
    return hashlib.sha256(data[start:]).digest()[:16]


def _field_end(data: bytes, start: int) -> int | None:
    """Where the field starting at ``start`` ends (after its last line's LF)."""
    at = start
    while True:
        nl = data.find(b"\n", at)
        if nl < 0:
            return None
        at = nl + 1
        if data[at:at + 1] not in (b" ", b"\t"):
            return at
