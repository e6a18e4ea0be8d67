"""Make parsed values storable on every backend, the same way on each.

PostgreSQL refuses what SQLite takes: a NUL character in any text, a lone UTF-16
surrogate (not UTF-8), a string longer than its ``VARCHAR(n)`` column, an integer past
32 bits. One such value in a message used to roll its whole batch back, for ever. Here
every value a message row carries is cleaned before it is written, whatever the backend,
so the same mail gives the same rows on SQLite and PostgreSQL:

* NUL characters are removed and lone surrogates become U+FFFD;
* an identifier longer than its column (Message-ID, In-Reply-To, References, addresses,
  provider ids) is cut and ends with a hash of the whole value, so two different long
  values stay different and the same long value (a Message-ID and the In-Reply-To that
  quotes it) is fitted the same way everywhere: threading still holds;
* a display name is cut; the size is capped at the largest 32-bit integer.

Each change adds a warning to the message (``stored: …``), naming the field, never its
content.
"""

from __future__ import annotations

import hashlib
import re

from assistant.storage.models import Message, MessageLocation, SetAsideMessage

INT32_MAX = 2**31 - 1
_HASH_CHARS = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def _length(column) -> int:
    return column.type.length


MESSAGE_ID_CHARS = _length(Message.__table__.c.message_id)
ADDRESS_CHARS = _length(Message.__table__.c.from_addr)
NAME_CHARS = _length(Message.__table__.c.from_name)
PROVIDER_ID_CHARS = min(_length(MessageLocation.__table__.c.provider_id),
                        _length(SetAsideMessage.__table__.c.provider_id))
THREAD_ID_CHARS = _length(MessageLocation.__table__.c.thread_id)
FOLDER_CHARS = min(_length(MessageLocation.__table__.c.folder),
                   _length(SetAsideMessage.__table__.c.folder))
ATTACHMENT_NAME_CHARS = 500
RECIPIENT_NAME_CHARS = 900
"""A recipient's ``Name <addr>`` (a name shortened beyond this is no use to greet)."""


def _plain(value: str) -> bool:
    """No NUL, no lone surrogate (C-speed checks: most text is ASCII or valid UTF-8)."""
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean(value: str) -> str:
    """``value`` without NUL characters, its lone surrogates replaced by U+FFFD."""
    if _plain(value):
        return value
    value = value.replace("\x00", "")
    if _SURROGATE.search(value) is not None:
        # A valid pair becomes its character again; a lone half becomes U+FFFD.
        value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]


def fit_identifier(value: str, limit: int) -> str:
    """``value`` if it fits in ``limit`` characters, else its start, ``~`` and a hash of
    all of it (a ``<…>`` Message-ID keeps its brackets): stable and distinct."""
    if len(value) <= limit:
        return value
    marker = "~" + _digest(value)
    if value.startswith("<") and value.endswith(">"):
        return value[:limit - len(marker) - 1] + marker + ">"
    return value[:limit - len(marker)] + marker


def fit_address(value: str, limit: int = ADDRESS_CHARS) -> str:
    """An over-long address keeps its domain (rules tell colleagues from clients by it)
    and gets a hashed, shortened local part."""
    if len(value) <= limit:
        return value
    local, at, domain = value.rpartition("@")
    marker = "~" + _digest(value)
    if at and local and len(domain) + len(marker) + 2 <= limit:
        return local[:limit - len(domain) - len(marker) - 1] + marker + "@" + domain
    return fit_identifier(value, limit)


def fit_name(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1] + "…"


# field -> (kind, limit); kinds: "id" (hashed identifier), "address", "name", "text".
_SCALARS = {
    "message_id": ("id", MESSAGE_ID_CHARS),
    "in_reply_to": ("id", MESSAGE_ID_CHARS),
    "original_message_id": ("id", MESSAGE_ID_CHARS),
    "from_addr": ("address", ADDRESS_CHARS),
    "from_name": ("name", NAME_CHARS),
    "subject": ("text", 0),
    "body_text": ("text", 0),
}
_LISTS = {
    "to_addrs": ("address", ADDRESS_CHARS),
    "cc_addrs": ("address", ADDRESS_CHARS),
    "bcc_addrs": ("address", ADDRESS_CHARS),
    "bounced_recipients": ("address", ADDRESS_CHARS),
    "references": ("id", MESSAGE_ID_CHARS),
    "attachment_names": ("name", ATTACHMENT_NAME_CHARS),
    "recipient_names": ("name", RECIPIENT_NAME_CHARS),
}
_LABEL = {"message_id": "Message-ID", "in_reply_to": "In-Reply-To",
          "original_message_id": "the returned message's Message-ID", "from_addr": "From address",
          "from_name": "From name", "subject": "Subject", "body_text": "body",
          "to_addrs": "To", "cc_addrs": "Cc", "bcc_addrs": "Bcc",
          "bounced_recipients": "bounced recipients", "references": "References",
          "attachment_names": "attachment names", "recipient_names": "recipient names"}


def _fit(kind: str, limit: int, value: str) -> str:
    if kind == "id":
        return fit_identifier(value, limit)
    if kind == "address":
        return fit_address(value, limit)
    if kind == "name":
        return fit_name(value, limit)
    return value


def _fine(row: dict) -> bool:
    """Nothing to change (nearly every message)."""
    for name, (_kind, limit) in _SCALARS.items():
        value = row.get(name)
        if value and ((limit and len(value) > limit) or not _plain(value)):
            return False
    for name, (_kind, limit) in _LISTS.items():
        for value in row.get(name) or ():
            if len(value) > limit or not _plain(value):
                return False
    return row.get("size", 0) <= INT32_MAX and all(map(_plain, row.get("warnings") or ()))


def make_storable(row: dict) -> None:
    """Clean and fit a message row in place (see the module doc); add one ``stored: …``
    warning per kind of change."""
    if _fine(row):
        return
    cleaned: list[str] = []
    fitted: list[str] = []

    def fix(name: str, kind: str, limit: int, value: str) -> str:
        label = _LABEL[name]
        new = clean(value)
        if new is not value and label not in cleaned:
            cleaned.append(label)
        fit = _fit(kind, limit, new)
        if fit != new and label not in fitted:
            fitted.append(label)
        return fit

    for name, (kind, limit) in _SCALARS.items():
        if row.get(name):
            row[name] = fix(name, kind, limit, row[name])
    for name, (kind, limit) in _LISTS.items():
        if row.get(name):
            row[name] = [fix(name, kind, limit, value) for value in row[name]]
    notes = []
    if cleaned:
        notes.append("stored: NUL or invalid characters removed from " + ", ".join(cleaned))
    if fitted:
        notes.append("stored: " + ", ".join(fitted) + " longer than the database allows; "
                     "shortened (identifiers end with a hash of the whole value)")
    row["size"] = min(row.get("size", 0), INT32_MAX)
    row["warnings"] = [clean(w) for w in row.get("warnings") or ()] + notes


def storable_location(provider_id: str) -> str:
    """A provider id as it is stored (and looked up): cleaned and fitted."""
    return fit_identifier(clean(provider_id), PROVIDER_ID_CHARS)


def storable_optional(value: str | None, limit: int) -> str | None:
    return None if value is None else fit_identifier(clean(value), limit)
