"""WhatsApp chat exports: a folder (or one file) of "Export chat" files, ``.txt`` or the
``.zip`` an export with media makes (its chat ``.txt`` read, the media passed over).

Not a mail connector: there are no RFC 5322 bytes and no drafts. ``fetch(cursor)``
yields one :class:`ChatExport` per export file that is new or changed since ``cursor``
(the parsed chat, see :mod:`connectors.whatsapp_parse`); the caller matches the chat to a
contact, stores what it means and then records the file with :meth:`cursor_after` in the
same transaction. A re-exported chat (the same file grown, or a new file of the same chat)
is handed over whole again: its messages are deduplicated downstream by a stable key
(chat, time, sender, text).

Cursor (opaque to the caller, JSON inside): ``{"v": 1, "kind": "whatsapp", "files":
{<file path relative to the folder>: <sha256 of its bytes>}}``. A file whose chat was set
aside (no contact matched it) is left out of the cursor, so it is read again next time.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .base import ConfigurationError
from .whatsapp_parse import ChatParseError, ParsedChat, chat_title, decode_export, parse_chat

__all__ = ["ChatExport", "WhatsAppConnector", "read_export"]

MAX_EXPORT_BYTES = 64 * 1024 * 1024
"""A chat text larger than this is not read (a zip's media do not count)."""


@dataclass(frozen=True, slots=True)
class ChatExport:
    """One export file, read."""

    provider_id: str
    """The file's path relative to the account's folder (its name for a one-file account)."""
    digest: str
    """SHA-256 of the file's bytes: what the cursor remembers."""
    title: str | None
    """The chat's name from the file name (``WhatsApp Chat with Juan``), if it says."""
    chat: ParsedChat | None
    error: str | None = None
    """Why the file could not be read as a chat (``chat`` is then ``None``)."""


def read_export(data: bytes, name: str, *, date_order: str = "day_first") -> tuple[str | None, ParsedChat]:
    """The title and parsed chat of an export's bytes (a ``.txt`` or a ``.zip``). Pure:
    bytes in, values out. Raises :class:`ChatParseError` for what is not a chat export."""
    title = chat_title(name)
    if data[:4] == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise ChatParseError(f"not a readable zip file ({exc})") from None
        with archive:
            texts = [i for i in archive.infolist()
                     if i.filename.lower().endswith(".txt") and not i.is_dir()]
            if not texts:
                raise ChatParseError("the zip holds no chat .txt file")
            chosen = next((i for i in texts if i.filename.rsplit("/", 1)[-1] == "_chat.txt"),
                          None) or next((i for i in texts if chat_title(i.filename)), texts[0])
            if chosen.file_size > MAX_EXPORT_BYTES:
                raise ChatParseError(f"its chat text is larger than {MAX_EXPORT_BYTES // 2**20} MiB")
            data = archive.read(chosen)
            title = title or chat_title(chosen.filename)
    return title, parse_chat(decode_export(data), date_order=date_order)


class WhatsAppConnector:
    """The export files of one folder (read recursively), or one export file."""

    kind = "whatsapp"

    def __init__(self, path: Path, *, date_order: str = "day_first") -> None:
        self.path = Path(path)
        self.date_order = date_order
        self._check()

    def _check(self) -> None:
        if not self.path.exists():
            raise ConfigurationError(f"WhatsApp export folder not found: {self.path}",
                                     code="whatsapp.missing", path=self.path)

    def files(self) -> list[tuple[str, Path]]:
        """(provider id, path) of every export file, sorted."""
        if self.path.is_file():
            return [(self.path.name, self.path)]
        found = []
        for file in self.path.rglob("*"):
            if file.is_file() and file.suffix.lower() in (".txt", ".zip") \
                    and not any(part.startswith(".") for part in file.relative_to(self.path).parts):
                found.append((file.relative_to(self.path).as_posix(), file))
        return sorted(found)

    @staticmethod
    def _files_of(cursor: str | None) -> dict[str, str]:
        if not cursor:
            return {}
        try:
            state = json.loads(cursor)
        except ValueError:
            raise ConfigurationError(f"not a whatsapp cursor (invalid JSON): {cursor[:80]!r}") from None
        if not isinstance(state, dict) or state.get("v") != 1 or state.get("kind") != "whatsapp":
            raise ConfigurationError(f"not a whatsapp cursor: {cursor[:80]!r}")
        return dict(state.get("files") or {})

    @classmethod
    def cursor_after(cls, cursor: str | None, export: ChatExport, *, keep: bool = True) -> str:
        """``cursor`` with ``export`` recorded (``keep``) or forgotten (read it again)."""
        files = cls._files_of(cursor)
        if keep:
            files[export.provider_id] = export.digest
        else:
            files.pop(export.provider_id, None)
        return json.dumps({"v": 1, "kind": "whatsapp", "files": files},
                          separators=(",", ":"), sort_keys=True)

    def fetch(self, cursor: str | None) -> Iterator[ChatExport]:
        """Every export file that is new or changed since ``cursor``, read."""
        self._check()
        known = self._files_of(cursor)
        for provider_id, file in self.files():
            try:
                data = file.read_bytes()
            except OSError as exc:
                yield ChatExport(provider_id, "", None, None, f"cannot read the file: {exc.strerror or exc}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if known.get(provider_id) == digest:
                continue
            try:
                title, chat = read_export(data, file.name, date_order=self.date_order)
            except ChatParseError as exc:
                yield ChatExport(provider_id, digest, chat_title(file.name), None, str(exc))
                continue
            yield ChatExport(provider_id, digest, title, chat)

    def probe(self) -> str:
        """``accounts test``: how many export files there are and what the first one holds."""
        files = self.files()
        if not files:
            return f"no export files (.txt, .zip) in {self.path}"
        first = next(self.fetch(None))
        if first.chat is None:
            return f"{len(files)} export files; {first.provider_id}: {first.error}"
        return (f"{len(files)} export files; {first.provider_id}: {len(first.chat.messages)} "
                f"messages ({first.chat.platform}, {first.chat.date_order.replace('_', ' ')})")

    def close(self) -> None:
        pass
