"""Mailbox export files: a Maildir, an mbox file, a folder of ``.eml`` files.

Three connectors behind :class:`connectors.base.Connector`. They hand over raw bytes
only (no parsing beyond finding message and MIME boundaries) and read incrementally. A
message over :data:`WHOLE_MESSAGE_BYTES` is handed over reduced to what the rules read
of it -- its header, its MIME structure, its text parts -- with ``RawMessage.size`` its
whole size: attachments are passed over, never held in memory (:class:`_Reducer`). A
batch ends at ``batch_size`` messages or ``batch_bytes`` bytes, whichever comes first.

Cursors (opaque to the caller, JSON inside):

* Maildir and ``.eml`` folder: ``{"v": 1, "kind": "maildir"|"eml", "mark": <ns>,
  "known": [<16-hex hash of a provider id>, ...], "new": {<new/ directory>: [<hash>,
  ...]}, "dirs": {<directory>: <its ctime when last listed>}}`` -- see :class:`_CtimeScan`
  (``new`` and ``dirs`` are optional: a cursor without them lists every directory once).
* mbox: ``{"v": 1, "kind": "mbox", "offset": <byte offset to resume parsing at>,
  "size": <file size already read up to>, "ino": <inode>, "head": <sha256 of the
  first min(4096, size) bytes>}`` -- see :class:`MboxConnector`.

Drafts are saved where ``fetch`` never looks: the Maildir++ ``.Drafts`` folder of a
Maildir, a ``Drafts/`` folder next to an mbox file, a ``Drafts/`` folder inside an
``.eml`` folder. ``trash_draft`` moves a draft into the Maildir's ``.Trash`` folder, or
into a ``.Trash/`` folder beside ``Drafts/`` (never read either).
"""

from __future__ import annotations

import email.parser
import email.utils
import hashlib
import json
import logging
import os
import re
import secrets
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .base import BATCH_BYTES, Batch, ConfigurationError, Connector, DraftMessage, RawMessage, Skipped

__all__ = [
    "MaildirConnector",
    "MboxConnector",
    "EmlFolderConnector",
    "open_connector",
]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000

# Maildir++ folders (compared on the last dot-separated part, case-insensitively) that
# hold no mail worth reading: drafts, deleted and spam.
EXCLUDED_FOLDERS = frozenset(
    {"drafts", "draft", "trash", "junk", "spam", "deleted", "deleted messages", "deleted items"}
)

# The Maildir "info" part: ":2,FLAGS" (also "!" or ";" as separator on filesystems
# where ":" is not allowed, and the experimental ":1," form).
_INFO_RE = re.compile(r"[:!;][12],[^/]*$")

# At most this many ids of messages sitting in Maildir new/ are remembered in the
# cursor (so that a client moving them to cur/ does not make them look new). Past that,
# moved messages are yielded again and deduplicated downstream by provider id.
MAX_TRACKED_NEW = 20_000

_HEADER_LIMIT = 256 * 1024

WHOLE_MESSAGE_BYTES = 64 * 1024
"""A message up to this size is handed over whole; a larger one is reduced to what the
rules read of it (:class:`_Reducer`): attachments are never read into memory."""


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _key_hash(provider_id: str) -> str:
    data = provider_id.encode("utf-8", "surrogateescape")
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _load_cursor(cursor: str | None, kind: str) -> dict | None:
    if cursor is None or cursor == "":
        return None
    try:
        state = json.loads(cursor)
    except ValueError as exc:
        raise ConfigurationError(f"not a {kind} cursor (invalid JSON): {cursor[:80]!r}") from exc
    if not isinstance(state, dict) or state.get("v") != 1 or state.get("kind") != kind:
        raise ConfigurationError(f"not a {kind} cursor: {cursor[:80]!r}")
    return state


def _dump_cursor(state: dict) -> str:
    return json.dumps(state, separators=(",", ":"), sort_keys=True)


def _unique_name() -> str:
    """A Maildir-style unique name: time, pid, randomness, host."""
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
    return f"{time.time_ns()}.P{os.getpid()}R{secrets.token_hex(8)}.{host}"


def _read_header_block(path: Path) -> bytes:
    """The header lines of a message file (up to the first blank line), or b""."""
    lines: list[bytes] = []
    size = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line in (b"\n", b"\r\n"):
                break
            lines.append(line)
            size += len(line)
            if size > _HEADER_LIMIT:
                break
    return b"".join(lines)


def _followup_id(path: Path) -> str | None:
    try:
        head = _read_header_block(path)
    except OSError:
        return None
    value = email.parser.BytesHeaderParser().parsebytes(head + b"\n").get("X-Followup-Id")
    return None if value is None else str(value).strip()


class _KeyIndex:
    """The ``X-Followup-Id`` of each draft file already read, by path: a planner asks for a
    key once per follow-up, and reading every draft's header each time made a plan of
    n drafts read n²/2 files. A file is read once; each look-up still lists the folder,
    so a draft saved meanwhile by another process is read and found (a draft file's key
    never changes: an edit is a new file)."""

    def __init__(self) -> None:
        self.keys: dict[str, str | None] = {}

    def find(self, entries: list[os.DirEntry], key: str) -> os.DirEntry | None:
        found = None
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.path not in self.keys:
                self.keys[entry.path] = _followup_id(Path(entry.path))
            if found is None and self.keys[entry.path] == key:
                found = entry
        return found


def _with_followup_id(draft: DraftMessage) -> bytes:
    """The draft's bytes, with an ``X-Followup-Id`` header added if it lacks one."""
    head, _, _ = draft.data.partition(b"\n\n")
    parsed = email.parser.BytesHeaderParser().parsebytes(head + b"\n")
    if parsed.get("X-Followup-Id") is not None:
        return draft.data
    eol = b"\r\n" if b"\r\n" in draft.data[:2000] else b"\n"
    key = draft.idempotency_key.encode("ascii", "strict")
    return b"X-Followup-Id: " + key + eol + draft.data


def _write_atomically(tmp: Path, final: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``tmp``, fsync it, then rename it to ``final``."""
    with open(tmp, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, final)


class _FileDrafts:
    """Drafts kept as one ``.eml`` file each in a plain folder (mbox and eml accounts)."""

    def __init__(self, folder: Path, id_prefix: str) -> None:
        self.folder = folder
        self.id_prefix = id_prefix
        self._index = _KeyIndex()

    def save(self, draft: DraftMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = _unique_name() + ".eml"
        _write_atomically(self.folder / (".tmp-" + name), self.folder / name, _with_followup_id(draft))
        return self.id_prefix + name

    def update(self, provider_id: str, draft: DraftMessage) -> str:
        old = self.folder / provider_id.removeprefix(self.id_prefix)
        new_id = self.save(draft)
        old.unlink(missing_ok=True)
        return new_id

    def find(self, key: str) -> str | None:
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return None
        found = self._index.find([e for e in entries if not e.name.startswith(".")
                                  and e.name.lower().endswith(".eml")], key)
        return None if found is None else self.id_prefix + found.name

    def trash(self, provider_id: str, key: str) -> bool:
        """Move the draft file into ``.Trash/`` beside the drafts folder (a dot folder:
        never read as mail), if it is there and still carries ``key``."""
        name = provider_id.removeprefix(self.id_prefix)
        path = self.folder / name
        if "/" in name or name.startswith(".") or _followup_id(path) != key:
            return False
        trash = self.folder.parent / ".Trash"
        trash.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(path, trash / name)
        except FileNotFoundError:
            return False
        return True


class _DraftsInFolder:
    """``save_draft``/``find_draft`` for connectors keeping drafts in ``self._drafts``."""

    _drafts: _FileDrafts

    def save_draft(self, draft: DraftMessage) -> str:
        return self._drafts.save(draft)

    def find_draft(self, idempotency_key: str) -> str | None:
        return self._drafts.find(idempotency_key)

    def update_draft(self, provider_id: str, draft: DraftMessage) -> str:
        return self._drafts.update(provider_id, draft)

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        return self._drafts.trash(provider_id, idempotency_key)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------
# Large messages: keep what the rules read, never an attachment's content
# ---------------------------------------------------------------------------------------

_TOP_HEADER_BYTES = 1024 * 1024  # a message's own header block
_PART_HEADER_BYTES = 64 * 1024  # a MIME part's, or an attached message's, header block
_PART_TEXT_BYTES = 64 * 1024  # the parser reads at most 64,000 bytes of a text or report part
_BODY_TEXT_BYTES = 256 * 1024  # a single-part text body: quoted headers and loose delivery
#                                reports are looked for in its first 128 and 256 KiB
_MESSAGE_BYTES = 2 * 1024 * 1024  # all that is kept of one message, boundaries aside
_MAX_PARTS = 1000  # the parser reads 300
_MAX_DEPTH = 16  # open multiparts (the parser goes 12 deep)
_LINE_BYTES = 64 * 1024  # longer lines are read in pieces
_REPORT_TYPES = frozenset((
    "message/delivery-status", "message/feedback-report", "message/disposition-notification",
    "message/global-delivery-status", "message/global-disposition-notification",
    "text/rfc822-headers", "message/global-headers"))
_EMBEDDED = frozenset(("message/rfc822", "message/global"))
_BLANK = (b"\n", b"\r\n")


@dataclass(slots=True)
class _Level:
    delimiter: bytes  # b"--" + boundary
    digest: bool  # multipart/digest: a part without Content-Type is a message/rfc822


class _Reducer:
    """What the rules read of a message fed line by line: its header block, every MIME
    part's header block and boundary line, the text and report parts (capped), the start
    of text attachments (where bounces quote the returned message's headers), and
    attached messages the same way (their header, their text) -- the bytes exactly as
    they are in the file, with only the rest of the lines left out. Binary content
    (``application/*``, ``image/*``, …: attachments) is never kept, so a message of any
    size is reduced to a bounded skeleton that the parser reads as it reads the original
    (what it reads of it is kept: see the caps above). The IMAP connector builds the same
    kind of skeleton from BODYSTRUCTURE. One difference is by design: where the parser
    looks for quoted headers only in the first 128 KiB of a body, it may find them in
    the skeleton behind an attachment it would not have read past in the whole file.

    ``dropping`` says the lines up to the next one starting with ``--`` will be left out:
    a file reader may skip them without reading them line by line (:func:`_read_message`).
    """

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.budget = _MESSAGE_BYTES
        self.stack: list[_Level] = []
        self.mode = "headers"  # headers | keep | drop | done
        self.header: list[bytes] = []
        self.header_room = _TOP_HEADER_BYTES
        self.top = True  # the header block being read is the message's own
        self.default_type = "text/plain"
        self.room = 0  # bytes still kept in "keep" mode
        self.parts = 0
        self.line_start = True
        self.cut = False

    @property
    def dropping(self) -> bool:
        return self.line_start and (self.mode == "drop" or (self.mode == "keep" and not self.room))

    @property
    def done(self) -> bool:
        return self.mode == "done"

    def _emit(self, line: bytes) -> None:
        if self.cut:  # the line before was kept only in part: end it first
            self.out.append(b"\n")
            self.cut = False
        self.out.append(line)

    def _take(self, line: bytes, room: int) -> int:
        """Keep ``line`` if it fits in ``room`` and in the message's budget; return the
        room left, or -1 when the line was left out (then so is the rest of that text)."""
        if len(line) <= room and len(line) <= self.budget:
            self._emit(line)
            self.budget -= len(line)
            return room - len(line)
        return -1

    def feed(self, line: bytes) -> None:
        at_start, self.line_start = self.line_start, line.endswith(b"\n")
        if self.mode == "done":
            return
        if at_start and self.out and not self.out[-1].endswith(b"\n"):
            self.cut = True  # a long line's first pieces were kept, its last one not
        if at_start and self.stack and line.startswith(b"--") and self._boundary(line):
            return
        if self.mode == "headers":
            if line in _BLANK and (self.header or self.top is False):
                self._end_header(line)  # (a part may have no header at all)
            elif line in _BLANK:
                self._emit(line)  # blank lines before a message's header block
            else:
                left = self._take(line, self.header_room)
                if left >= 0:
                    self.header.append(line)  # what is kept is what is read
                self.header_room = max(left, 0)
        elif self.mode == "keep":
            self.room = max(self._take(line, self.room), 0)
        if not self.stack and self.dropping:
            self.mode = "done"  # no boundary can bring anything back: stop reading

    def _boundary(self, line: bytes) -> bool:
        text = line.rstrip(b"\r\n")
        # Outermost first, as the parser splits the outer parts before the inner ones.
        for index, level in enumerate(self.stack):
            if not text.startswith(level.delimiter):
                continue
            rest = text[len(level.delimiter):]
            closing = rest.startswith(b"--")
            if not closing and rest.strip():
                continue
            del self.stack[index + 1:]
            self.parts += 1
            if self.parts > _MAX_PARTS or len(line) > self.budget:
                self._close_all(line)  # the parser stops at 300 parts anyway
                return True
            self._emit(line)
            self.budget -= len(line)
            if closing:
                self.stack.pop()
                self.mode = "drop"  # the epilogue: the parser never reads it
            else:
                self._start_header(top=False, digest=level.digest)
            return True
        return False

    def _close_all(self, line: bytes) -> None:
        """End the skeleton here, every open multipart closed: what follows is not kept."""
        eol = b"\r\n" if line.endswith(b"\r\n") else b"\n"
        self.cut = False
        self._emit(eol)
        for level in reversed(self.stack):
            self._emit(level.delimiter + b"--" + eol)
        self.stack.clear()
        self.mode = "done"

    def _start_header(self, *, top: bool | None, digest: bool = False) -> None:
        """``top``: True for the message's own header, None for an attached message's,
        False for a MIME part's."""
        self.mode = "headers"
        self.header = []
        self.top = top
        self.header_room = _TOP_HEADER_BYTES if top is True else _PART_HEADER_BYTES
        self.default_type = "message/rfc822" if digest else "text/plain"

    def _end_header(self, blank: bytes) -> None:
        self._emit(blank)
        block = b"".join(self.header)[:_TOP_HEADER_BYTES]
        top, self.header = self.top, []
        fields = email.parser.BytesHeaderParser().parsebytes(block + b"\n")
        ctype = fields.get_content_type() if fields.get("Content-Type") else self.default_type
        if ctype.startswith("multipart/"):
            boundary = fields.get_param("boundary")
            if isinstance(boundary, tuple):  # RFC 2231 form
                boundary = email.utils.collapse_rfc2231_value(boundary)
            if boundary and str(boundary).strip() and len(self.stack) < _MAX_DEPTH:
                delimiter = b"--" + str(boundary).strip().encode("ascii", "replace")
                self.stack.append(_Level(delimiter, ctype == "multipart/digest"))
            self._keep(_PART_TEXT_BYTES)  # the preamble (read as text if no boundary follows)
        elif ctype in _EMBEDDED:
            self._start_header(top=None)  # the attached message's own header block
        elif ctype in _REPORT_TYPES or (
                ctype in ("text/plain", "text/html")
                and not (fields.get_content_disposition() == "attachment" and fields.get_filename())):
            self._keep(_BODY_TEXT_BYTES if top is True else _PART_TEXT_BYTES)
        elif ctype.startswith(("text/", "message/")):
            # A text attachment or another kind of message part (message/partial, /news):
            # the parser looks for a returned message's quoted headers there. Its start.
            self._keep(_PART_TEXT_BYTES)
        else:
            self.mode = "drop"  # binary content: an attachment, never read

    def _keep(self, room: int) -> None:
        self.mode = "keep"
        self.room = room

    def data(self) -> bytes:
        return b"".join(self.out)


def _skip_to_dashes(fh) -> None:
    """From the start of a line, move ``fh`` to the start of the next line beginning with
    ``--`` (or to its end), reading a megabyte at a time: how an attachment is passed over."""
    head = fh.read(2)
    fh.seek(-len(head), os.SEEK_CUR)
    if head == b"--":
        return
    while True:
        chunk = fh.read(1024 * 1024)
        if not chunk:
            return
        found = chunk.find(b"\n--")
        if found >= 0:
            fh.seek(found + 1 - len(chunk), os.SEEK_CUR)
            return
        if len(chunk) > 2:
            fh.seek(-2, os.SEEK_CUR)  # a "\n--" may straddle two reads


def _read_message(path: str, whole: int = WHOLE_MESSAGE_BYTES) -> tuple[bytes, int | None]:
    """A message file's bytes (up to ``whole`` bytes), or for a larger one its reduced
    skeleton and its size."""
    fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    try:
        data = os.read(fd, whole + 1)  # (a regular file reads short only at its end)
    finally:
        os.close(fd)
    if len(data) <= whole:
        return data, None
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(0)
        reducer = _Reducer()
        while not reducer.done:
            if reducer.dropping:
                _skip_to_dashes(fh)
            line = fh.readline(_LINE_BYTES)
            if not line:
                break
            reducer.feed(line)
        return reducer.data(), size


# ---------------------------------------------------------------------------------------
# ctime high-water scanning (Maildir and .eml folders)
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    key: str  # provider id
    path: str
    ctime: int  # st_ctime_ns
    folder: str | None
    sticky: bool = False  # Maildir new/: will probably be renamed to cur/ later
    hashed: str | None = None  # _key_hash(key), once computed
    directory: str | None = None  # os.path.dirname(path), when the listing knows it

    @property
    def dir_path(self) -> str:
        return self.directory or os.path.dirname(self.path)

    @property
    def hash(self) -> str:
        if self.hashed is None:
            self.hashed = _key_hash(self.key)
        return self.hashed


class _CtimeScan:
    """Incremental listing of a tree of one-message-per-file by ``st_ctime_ns``.

    Why ctime: on Linux a file's ctime is set by the kernel when the file is created and
    again whenever it is renamed (or chmod-ed); nobody can set it from user space (``cp
    -p``, ``rsync -t`` and ``touch`` only set mtime/atime). Maildir delivery writes into
    ``tmp/`` and renames into ``new/``, so every newly arrived file has a ctime at least
    as late as its arrival. A cursor therefore only needs a high-water mark ``mark``:
    files with ``ctime < mark`` were all seen. The listing is one ``scandir`` plus one
    ``stat`` per file of each directory whose entries changed since the mark (a Maildir
    ``cur/`` left alone is not listed: see :class:`_Listing`); file contents are read
    only for files at or above the mark.

    Ties and races: ctimes have coarse granularity (several files can share one), and a
    file can be renamed into place while we are listing other directories. So the mark
    never moves past the time the listing started minus ``settle_ns``; everything already
    yielded at or above the mark is remembered in ``known`` (short hashes of provider
    ids). A file is new iff ``ctime >= mark`` and its id is not in ``known``.

    Renames that are not new mail: a message moved ``new/`` -> ``cur/`` by a client gets
    a fresh ctime but keeps its provider id, so ``known`` also holds the ids of the
    messages yielded while they sat in ``new/`` (up to ``MAX_TRACKED_NEW``). A message
    re-flagged inside ``cur/`` (``:2,S`` -> ``:2,RS``) also gets a fresh ctime and is
    yielded again with the same provider id; downstream deduplication by (account,
    provider id) makes that harmless, and it is bounded by what users touched.

    Files that vanish between listing and reading (a client moved them) are skipped
    silently and not remembered: their new location has a ctime above the mark, so the
    next run reads them there. Unreadable files go to ``Batch.skipped`` and are not
    remembered either; the cursor keeps their ids and directories (``retry``,
    ``retry_dirs``) until they are read or gone, so their directories are listed whole
    meanwhile, and each sync tries them again (and reports them again while they stay
    unreadable: the user is told until the file is fixed or removed).
    """

    def __init__(
        self,
        kind: str,
        batch_size: int,
        settle_ns: int,
        read: Callable[[_Entry], tuple[bytes, int | None]],
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self.kind = kind
        self.batch_size = batch_size
        self.settle_ns = settle_ns
        self.read = read
        self.batch_bytes = batch_bytes

    def fetch(
        self, cursor: str | None,
        list_entries: Callable[["_Listing"], Iterable[_Entry]],
    ) -> Iterator[Batch]:
        """``list_entries(listing)``: see :class:`_Listing`."""
        state = _load_cursor(cursor, self.kind)
        mark0 = int(state["mark"]) if state else 0
        known0 = frozenset(state["known"]) if state else frozenset()
        new0 = {d: list(h) for d, h in state.get("new", {}).items()} if state else {}
        retry0 = frozenset(state.get("retry", ())) if state else frozenset()
        retry_dirs = frozenset(state.get("retry_dirs", ())) if state else frozenset()
        safe = time.time_ns() - self.settle_ns  # taken before listing (see class doc)

        covered: list[_Entry] = []  # at/above mark0 and already known
        covered_sticky: list[_Entry] = []  # below mark0, in new/
        candidates: list[_Entry] = []
        seen_keys: set[str] = set()
        retry: dict[str, str] = {}  # unreadable files still there: key hash -> directory
        listing = _Listing(mark0, retry_dirs,
                           known0.union(*new0.values()) if new0 else known0,
                           dict(state.get("dirs", {})) if state else {}, new0, safe)
        for entry in list_entries(listing):
            if entry.key in seen_keys:  # mid-rename: listed in new/ and cur/
                continue
            seen_keys.add(entry.key)
            again = bool(retry0) and entry.hash in retry0
            if again:
                retry[entry.hash] = os.path.dirname(entry.path)
            if entry.ctime < mark0 and not again:
                if entry.sticky:
                    covered_sticky.append(entry)
            elif entry.hash in listing.known:
                covered.append(entry)
            else:
                candidates.append(entry)
        candidates.sort(key=lambda e: (e.ctime, e.key))

        # The ids of the messages sitting in each new/ directory: those of a directory
        # left unlisted (unchanged) as the cursor had them, the listed ones' as found.
        room = MAX_TRACKED_NEW
        sticky: dict[str, list[str]] = {}
        for directory in listing.unlisted:
            sticky[directory] = new0[directory][:room]
            room -= len(sticky[directory])
        for directory in listing.listed_new:
            sticky.setdefault(directory, [])
        for e in covered_sticky + covered:
            if e.sticky and room > 0:
                sticky.setdefault(e.dir_path, []).append(e.hash)
                room -= 1
        done: list[_Entry] = []  # processed, readable, still present (in ctime order)

        def cursor_at(mark: int, last: bool, keep: frozenset[str] = frozenset()) -> str:
            known = {e.hash for e in covered if e.ctime >= mark} | keep
            for e in reversed(done):  # done is in ctime order: only its tail is >= mark
                if e.ctime < mark:
                    break
                known.add(e.hash)
            if sticky:  # each id once: those in new/ are known through "new"
                known.difference_update(*sticky.values())
            state = {"v": 1, "kind": self.kind, "mark": mark, "known": sorted(known)}
            if sticky:
                state["new"] = {d: sorted(h) for d, h in sticky.items()}
            if retry:  # see _Listing
                state["retry"] = sorted(retry)
                state["retry_dirs"] = sorted(set(retry.values()))
            # Every listed file is processed once the last batch is: its directories
            # are seen as they stood (before this, those of the previous listing).
            dirs = {**listing.dirs, **listing.listed} if last else listing.dirs
            if dirs:
                state["dirs"] = dirs
            return _dump_cursor(state)

        if not candidates:
            # Nothing new; but a directory listed because it changed (a message read or
            # removed, or a cursor from before directories were recorded) is recorded as
            # it stands now, so the next sync need not list it: a batch of no messages.
            if any(listing.dirs.get(d) != ctime or (d in listing.listed_new and d not in new0)
                   for d, ctime in listing.listed.items()):
                # (what the cursor knew stays known: nothing was read)
                yield Batch([], cursor_at(mark0, True, known0))
            return
        messages: list[RawMessage] = []
        skipped: list[str] = []
        held = 0  # bytes of data in ``messages``
        advised = 0  # candidates[:advised] were announced to the kernel (_will_need)
        for index, entry in enumerate(candidates):
            if index + PREFETCH_FILES // 2 >= advised:
                _will_need(candidates[advised:advised + PREFETCH_FILES])
                advised += PREFETCH_FILES
            try:
                data, size = self.read(entry)
            except FileNotFoundError:
                pass  # moved away since listing: read at its new place next run
            except OSError as exc:
                skipped.append(Skipped(f"{entry.path}: cannot read: {exc.strerror or exc}",
                                       code="skip.unreadable", path=entry.path,
                                       error=exc.strerror or exc))
                retry[entry.hash] = os.path.dirname(entry.path)
            else:
                retry.pop(entry.hash, None)
                if data:
                    messages.append(RawMessage(entry.key, data, folder=entry.folder, size=size))
                    held += len(data)
                else:
                    skipped.append(Skipped(f"{entry.path}: empty file", code="skip.empty",
                                           path=entry.path))
                done.append(entry)
                if entry.sticky and room > 0:
                    sticky.setdefault(entry.dir_path, []).append(entry.hash)
                    room -= 1
            last = index == len(candidates) - 1
            if (len(messages) + len(skipped) >= self.batch_size or held >= self.batch_bytes
                    or (last and (messages or skipped))):
                yield Batch(messages, cursor_at(max(mark0, min(entry.ctime, safe)), last),
                            skipped)
                messages, skipped, held = [], [], 0


def _visible(folder: str) -> Iterator[os.DirEntry]:
    """The entries of ``folder`` not starting with a dot; none if it has gone."""
    try:
        it = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:  # permissions, a symlink loop: the user must fix the folder
        raise ConfigurationError(f"cannot read the folder {folder}: {exc.strerror or exc}",
                                 code="path.unreadable", path=folder,
                                 error=exc.strerror or exc) from None
    with it:
        for entry in it:
            if not entry.name.startswith("."):
                yield entry


@dataclass
class _Listing:
    """What a listing may leave out (``list_entries(listing)`` of :class:`_CtimeScan`).

    A file's directory changes (its ctime is set) whenever a file is delivered, renamed
    or removed there, so a directory whose ctime is the one recorded when it was last
    listed whole (``dirs``) holds the same files as then, and is not listed: a sync with
    nothing new costs one ``stat`` per directory, not one per message. As Python's
    ``mailbox.Maildir`` (which re-reads a folder whose mtime changed, and any folder read
    less than two seconds ago) and ``notmuch new`` (which does not trust a directory
    mtime as recent as the scan itself) do, a directory changed less than ``settle_ns``
    before the listing started (``settled``) is not recorded: a file delivered in the
    same clock tick as the ``stat`` cannot hide behind an unchanged ctime.

    * A Maildir ``cur/`` is also skipped when its ctime is below ``mark`` (every file in
      it was seen).
    * A Maildir ``new/`` is skipped only when the cursor also holds the ids of the
      messages sitting there (``new``): they stay known without a look at the files
      (:meth:`skips_new` records it in ``unlisted``).

    Except the directories in ``retry_dirs``, which hold a file that could not be read
    (fixing its permissions sets only the file's ctime): listed whole, every file. A new/
    file already yielded (its id's hash in ``known``) is given a ctime of 0 without a
    ``stat``: only its presence counts there. The listing records in ``listed`` the
    ctime each directory it read had just before it was read (when settled), and in
    ``listed_new`` every new/ directory it read.
    """

    mark: int
    retry_dirs: frozenset[str]
    known: frozenset[str]
    dirs: dict[str, int]
    new: dict[str, list[str]] = field(default_factory=dict)
    settled: int = 0
    listed: dict[str, int] = field(default_factory=dict)
    listed_new: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    def _unchanged(self, directory: str, ctime: int | None, *, below_mark: bool) -> bool:
        if ctime is None:
            return False
        if (self.mark > 0 and directory not in self.retry_dirs
                and ((below_mark and ctime < self.mark) or self.dirs.get(directory) == ctime)):
            return True
        if ctime < self.settled:
            self.listed[directory] = ctime
        return False

    def skips(self, directory: str) -> bool:
        """Whether ``directory`` (a ``cur/``) need not be listed; else its ctime is
        recorded in ``listed``."""
        return self._unchanged(directory, _dir_ctime(directory), below_mark=True)

    def skips_new(self, directory: str) -> bool:
        """Whether ``directory`` (a ``new/``) need not be listed: unchanged since the
        cursor recorded the messages in it; else recorded in ``listed_new`` (and its
        ctime in ``listed``)."""
        ctime = _dir_ctime(directory)
        if directory in self.new:
            if self._unchanged(directory, ctime, below_mark=False):
                self.unlisted.append(directory)
                return True
        elif ctime is not None and ctime < self.settled:
            self.listed[directory] = ctime
        if ctime is not None:
            self.listed_new.append(directory)
        return False


def _dir_ctime(directory: str) -> int | None:
    try:
        return os.stat(directory).st_ctime_ns
    except OSError:
        return None  # gone or unreadable: the listing says so


def _file_ctime(entry: os.DirEntry) -> int | None:
    """``st_ctime_ns`` of a listed regular file; ``None`` for a vanished file or a folder.

    A link that cannot be followed (a loop) keeps its own ctime: reading it then fails
    and it is reported in ``Batch.skipped``.
    """
    try:
        st = entry.stat()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            return entry.stat(follow_symlinks=False).st_ctime_ns
        except OSError:
            return None
    return st.st_ctime_ns if stat.S_ISREG(st.st_mode) else None


def _read_file(entry: _Entry) -> tuple[bytes, int | None]:
    return _read_message(entry.path)


PREFETCH_FILES = 512
"""How many files ahead of the one being read the kernel is told they will be read."""


def _will_need(entries: Sequence[_Entry]) -> None:
    """Tell the kernel these files will be read soon (``posix_fadvise(WILLNEED)``): it
    starts reading them from disk at once, many at a time, instead of one by one as each
    ``read`` blocks. Mail that has left the page cache (a first sync of a large mailbox,
    a machine that reclaims idle cache) is then read while the previous files are
    processed. Best effort: a file that cannot be opened is left to :func:`_read_message`
    to report; where the call does not exist (macOS, Windows), nothing is done."""
    if _FADVISE is None:
        return
    for entry in entries:
        try:
            fd = os.open(entry.path, os.O_RDONLY | _O_CLOEXEC)
        except OSError:
            continue
        try:
            _FADVISE(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


_FADVISE = getattr(os, "posix_fadvise", None)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class _ScannedFolder:
    """Shared set-up of the two ctime-scanned connectors (Maildir, .eml folder)."""

    kind: str

    def __init__(self, path: Path, *, batch_size: int = DEFAULT_BATCH_SIZE, settle_seconds: float = 2.0,
                 batch_bytes: int = BATCH_BYTES) -> None:
        self.path = Path(path)
        _check_batch_size(batch_size)
        _check_batch_size(batch_bytes, "batch_bytes")
        self.batch_size = batch_size
        self._scan = _CtimeScan(self.kind, batch_size, int(settle_seconds * 1e9), _read_file,
                                batch_bytes)
        self._draft_keys = _KeyIndex()
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def _entries(self, listing: _Listing) -> Iterator[_Entry]:
        raise NotImplementedError

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        self._check()
        return self._scan.fetch(cursor, self._entries)


# ---------------------------------------------------------------------------------------
# Maildir
# ---------------------------------------------------------------------------------------


class MaildirConnector(_ScannedFolder):
    """A Maildir with its Maildir++ subfolders (``.Sent``, ``.Archive``, ...).

    Reads ``cur/`` and ``new/`` of the root (folder ``"INBOX"``) and of every Maildir++
    subfolder except drafts, trash and spam (:data:`EXCLUDED_FOLDERS`). ``provider_id``
    is ``"<folder>/<unique name>"`` without the ``:2,FLAGS`` info part, so moving a
    message from ``new/`` to ``cur/`` or changing its flags keeps its id.

    ``settle_seconds``: the cursor's high-water mark stays this far behind the time a
    listing started, to cover ctime granularity and concurrent deliveries (messages
    above it are remembered by id instead).
    """

    kind = "maildir"

    def _check(self) -> None:
        if not self.path.is_dir():
            missing = not self.path.exists()
            raise ConfigurationError(f"Maildir {'not found' if missing else 'is not a folder'}: {self.path}",
                                     code="maildir.missing" if missing else "path.not_folder",
                                     kind="Maildir", path=self.path)
        if not ((self.path / "cur").is_dir() or (self.path / "new").is_dir()):
            raise ConfigurationError(f"not a Maildir (no cur/ or new/ folder): {self.path}",
                                     code="maildir.not_maildir", path=self.path)

    def folders(self) -> list[tuple[str, Path]]:
        """The (folder name, folder path) pairs that ``fetch`` reads."""
        found = [("INBOX", self.path)]
        try:
            it = os.scandir(self.path)
        except OSError as exc:
            raise ConfigurationError(f"cannot read the Maildir {self.path}: {exc.strerror or exc}",
                                     code="path.unreadable", path=self.path,
                                     error=exc.strerror or exc) from None
        with it:
            for entry in it:
                name = entry.name
                if not name.startswith(".") or name in (".", "..") or not entry.is_dir():
                    continue
                folder = name[1:]
                if folder.rsplit(".", 1)[-1].lower() in EXCLUDED_FOLDERS:
                    continue
                if os.path.isdir(os.path.join(entry.path, "cur")) or os.path.isdir(
                    os.path.join(entry.path, "new")
                ):
                    found.append((folder, Path(entry.path)))
        return sorted(found, key=lambda f: (f[0] != "INBOX", f[0]))

    def _entries(self, listing: _Listing) -> Iterator[_Entry]:
        mark, known = listing.mark, listing.known
        for folder, folder_path in self.folders():
            for sub in ("cur", "new"):
                directory = os.path.join(folder_path, sub)
                if listing.skips(directory) if sub == "cur" else listing.skips_new(directory):
                    continue
                whole = directory in listing.retry_dirs
                for entry in _visible(directory):
                    name = entry.name
                    # The info part (":2,FLAGS") is after the last comma, if any.
                    key = f"{folder}/{_INFO_RE.sub('', name) if ',' in name else name}"
                    if sub == "new" and known:
                        hashed = _key_hash(key)
                        if hashed in known:
                            # Already yielded: only its presence counts (no stat per file).
                            yield _Entry(key, entry.path, 0, folder, True, hashed, directory)
                            continue
                    ctime = _file_ctime(entry)
                    if ctime is not None and (ctime >= mark or sub == "new" or whole):
                        yield _Entry(key, entry.path, ctime, folder, sub == "new", None, directory)

    @property
    def drafts_path(self) -> Path:
        return self.path / ".Drafts"

    def save_draft(self, draft: DraftMessage) -> str:
        root = self.drafts_path
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        unique = _unique_name()
        _write_atomically(root / "tmp" / unique, root / "cur" / f"{unique}:2,D", _with_followup_id(draft))
        return f"Drafts/{unique}"

    def _draft_files(self, provider_id: str) -> list[os.DirEntry]:
        """The files of the draft ``provider_id`` in ``.Drafts`` (``cur/`` or ``new/``)."""
        unique = provider_id.removeprefix("Drafts/")
        found = []
        for sub in ("cur", "new"):
            try:
                entries = list(os.scandir(self.drafts_path / sub))
            except FileNotFoundError:
                continue
            found += [e for e in entries if _INFO_RE.sub("", e.name) == unique]
        return found

    def update_draft(self, provider_id: str, draft: DraftMessage) -> str:
        """Save the new version, then remove the old file (a crash in between leaves both;
        ``find_draft`` returns one of them and the next edit replaces it)."""
        new_id = self.save_draft(draft)
        for entry in self._draft_files(provider_id):
            os.unlink(entry.path)
        return new_id

    def trash_draft(self, provider_id: str, idempotency_key: str) -> bool:
        """Move the draft's file into the Maildir++ ``.Trash`` folder (created if missing;
        never read as mail), into its ``cur/`` with the same name and flags."""
        files = [e for e in self._draft_files(provider_id)
                 if _followup_id(Path(e.path)) == idempotency_key]
        if not files:
            return False
        trash = self.path / ".Trash"
        for sub in ("tmp", "new", "cur"):
            (trash / sub).mkdir(parents=True, exist_ok=True)
        moved = False
        for entry in files:
            try:
                os.rename(entry.path, trash / "cur" / entry.name)
                moved = True
            except FileNotFoundError:
                continue  # moved or deleted meanwhile
        return moved

    def find_draft(self, idempotency_key: str) -> str | None:
        index = self._draft_keys
        for sub in ("cur", "new"):
            try:
                entries = [e for e in os.scandir(self.drafts_path / sub) if not e.name.startswith(".")]
            except FileNotFoundError:
                continue
            found = index.find(entries, idempotency_key)
            if found is not None:
                return f"Drafts/{_INFO_RE.sub('', found.name)}"
        return None

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------
# Folder of .eml files
# ---------------------------------------------------------------------------------------


class EmlFolderConnector(_ScannedFolder, _DraftsInFolder):
    """A folder (read recursively) of ``.eml`` files, one RFC 5322 message each.

    ``provider_id`` is the file's path relative to the folder (``/``-separated);
    ``folder`` is its parent folder relative to the root (``None`` at the root). The
    ``Drafts/`` folder at the root holds drafts saved here and is never read as mail.
    Incremental by ctime as :class:`MaildirConnector` (see :class:`_CtimeScan`).
    """

    kind = "eml"

    @property
    def _drafts(self) -> _FileDrafts:
        return _FileDrafts(self.path / "Drafts", "Drafts/")

    def _check(self) -> None:
        if not self.path.is_dir():
            missing = not self.path.exists()
            raise ConfigurationError(f".eml folder {'not found' if missing else 'is not a folder'}: {self.path}",
                                     code="eml.missing" if missing else "path.not_folder",
                                     kind=".eml", path=self.path)

    def _entries(self, listing: _Listing) -> Iterator[_Entry]:
        mark = listing.mark
        stack = [("", str(self.path))]
        while stack:
            rel_dir, abs_dir = stack.pop()
            for entry in _visible(abs_dir):
                name = entry.name
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if entry.is_dir(follow_symlinks=False):
                    if not (rel_dir == "" and name == "Drafts"):
                        stack.append((rel, entry.path))
                    continue
                if not name.lower().endswith(".eml"):
                    continue
                ctime = _file_ctime(entry)
                if ctime is not None and ctime >= mark:
                    yield _Entry(rel, entry.path, ctime, rel_dir or None)


# ---------------------------------------------------------------------------------------
# mbox
# ---------------------------------------------------------------------------------------

_HEAD_BYTES = 4096
_ESCAPED_FROM = re.compile(rb"^>+From ")


def _is_blank(line: bytes) -> bool:
    return line in (b"\n", b"\r\n")


def _unescape(line: bytes) -> bytes:
    """mboxrd: ``>From `` -> ``From ``, ``>>From `` -> ``>From `` (one level off)."""
    return line[1:] if _ESCAPED_FROM.match(line) else line


class MboxConnector(_DraftsInFolder):
    """One mbox file (mboxrd/mboxo, LF or CRLF; e.g. a Google Takeout export).

    The file is streamed line by line, never loaded whole. A message starts at a
    ``From `` line at the start of the file (or of the resume offset) or right after a
    blank line; the blank line before the next ``From `` line is the separator and is
    not part of the message. ``>From `` lines are unescaped (mboxrd). ``provider_id`` is
    the byte offset of the message's ``From `` line, as a decimal string.

    Cursor: ``offset`` where parsing resumes (the start of the next message), ``size``
    how far the file has been read, the file's inode and a SHA-256 of its first
    ``min(4096, size)`` bytes. A rerun on the same file with the same size yields
    nothing; a grown file is read from ``offset``; a file with another inode, a smaller
    size or another head is read again from 0 (downstream dedupe by Message-ID).

    The last message of the file is yielded even when it may be cut (a truncated
    export). When the file does not end with the blank separator line, the cursor's
    ``offset`` stays at that message's start, so if the file grows later (the message
    was still being written) the message is yielded again, complete, with the same
    provider id.
    """

    kind = "mbox"

    def __init__(self, path: Path, *, batch_size: int = DEFAULT_BATCH_SIZE,
                 batch_bytes: int = BATCH_BYTES) -> None:
        self.path = Path(path)
        _check_batch_size(batch_size)
        _check_batch_size(batch_bytes, "batch_bytes")
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self._drafts = _FileDrafts(self.path.parent / "Drafts", "Drafts/")
        self._check()

    def _check(self) -> None:
        if not self.path.exists():
            raise ConfigurationError(f"mbox file not found: {self.path}",
                                     code="mbox.missing", path=self.path)
        if not self.path.is_file():
            raise ConfigurationError(f"mbox path is not a file: {self.path}",
                                     code="mbox.not_file", path=self.path)

    @staticmethod
    def _head_hash(fh, size: int) -> str:
        fh.seek(0)
        return hashlib.sha256(fh.read(min(_HEAD_BYTES, size))).hexdigest()

    def _state(self, fh, st: os.stat_result, offset: int, size: int) -> str:
        return _dump_cursor(
            {
                "v": 1,
                "kind": "mbox",
                "offset": offset,
                "size": size,
                "ino": st.st_ino,
                "head": self._head_hash(fh, size),
            }
        )

    def fetch(self, cursor: str | None) -> Iterator[Batch]:
        self._check()
        state = _load_cursor(cursor, "mbox")
        try:
            fh = open(self.path, "rb", buffering=1024 * 1024)
        except FileNotFoundError as exc:
            raise ConfigurationError(f"mbox file not found: {self.path}",
                                     code="mbox.missing", path=self.path) from exc
        with fh:
            st = os.fstat(fh.fileno())
            size = st.st_size
            start = 0
            if state is not None:
                same = (
                    state["ino"] == st.st_ino
                    and size >= state["size"]
                    and self._head_hash(fh, state["size"]) == state["head"]
                )
                if not same:
                    log.info("mbox %s was replaced or truncated: reading it again from the start", self.path)
                elif size == state["size"]:
                    return
                else:
                    start = state["offset"]
            if size == 0:
                return
            yield from self._read_from(fh, st, start, size)

    def _read_from(self, fh, st: os.stat_result, start: int, size: int) -> Iterator[Batch]:
        fh.seek(start)
        pos = start
        messages: list[RawMessage] = []
        skipped: list[str] = []
        held = 0  # bytes of data in ``messages``
        msg_start: int | None = None  # offset of the current message's From line
        lines: list[bytes] = []
        length = 0  # bytes of the current message so far
        reducer: _Reducer | None = None  # once the message proves large (see RawMessage)
        garbage = 0
        garbage_text = False
        prev_blank = True  # the resume offset counts as a file start
        at_start = True  # ``line`` starts a line (lines longer than _LINE_BYTES come in pieces)

        def finish() -> None:
            nonlocal held
            if reducer is not None:
                data, whole = reducer.data(), length - (len(lines[-1]) if lines else 0)
            else:
                if lines and _is_blank(lines[-1]):
                    del lines[-1]  # the separator line written after every message
                data, whole = b"".join(lines), None
            messages.append(RawMessage(str(msg_start), data, folder=self.path.name, size=whole))
            held += len(data)

        while pos < size:
            line = fh.readline(_LINE_BYTES)
            if not line:
                break  # the file shrank while reading
            if len(line) > size - pos:  # grew while reading: stop at the size we stat-ed
                line = line[: size - pos]
            if at_start and line.startswith(b"From ") and (prev_blank or msg_start is None):
                if msg_start is not None:
                    finish()
                elif garbage:
                    if garbage_text:
                        skipped.append(Skipped(
                            f"{self.path}: {garbage} bytes before the first 'From ' line"
                            f" at offset {start} skipped (not mbox data)", code="skip.not_mbox",
                            path=self.path, bytes=garbage, offset=start))
                    garbage, garbage_text = 0, False
                if len(messages) + len(skipped) >= self.batch_size or held >= self.batch_bytes:
                    yield Batch(messages, self._state(fh, st, pos, pos), skipped)
                    fh.seek(pos + len(line))
                    messages, skipped, held = [], [], 0
                msg_start = pos
                lines, length, reducer = [], 0, None
            elif msg_start is None:
                garbage += len(line)
                garbage_text = garbage_text or bool(line.strip())
            else:
                text = _unescape(line) if at_start else line
                length += len(text)
                if reducer is not None:
                    reducer.feed(text)
                    lines = [text] if _is_blank(text) else []  # maybe the separator
                else:
                    lines.append(text)
                    if length > WHOLE_MESSAGE_BYTES:
                        reducer = _Reducer()
                        for kept in lines:
                            reducer.feed(kept)
                        lines = [text] if _is_blank(text) else []
            prev_blank = at_start and _is_blank(line)
            at_start = line.endswith(b"\n")
            pos += len(line)

        end = pos
        resume = end
        if msg_start is not None:
            if not (lines and _is_blank(lines[-1])):
                resume = msg_start  # possibly still being written: re-read it if the file grows
            finish()
        elif garbage and garbage_text:
            skipped.append(Skipped(
                f"{self.path}: {garbage} bytes at offset {start} hold no 'From ' line (not mbox data)",
                code="skip.not_mbox", path=self.path, bytes=garbage, offset=start))
        if messages or skipped:
            yield Batch(messages, self._state(fh, st, resume, end), skipped)


# ---------------------------------------------------------------------------------------
# Factory
# ---------------------------------------------------------------------------------------


def _check_batch_size(batch_size: int, name: str = "batch_size") -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"{name} must be a positive integer, not {batch_size!r}")


_KINDS: dict[str, type] = {
    "maildir": MaildirConnector,
    "mbox": MboxConnector,
    "eml": EmlFolderConnector,
}


def open_connector(kind: str, path: Path, **options) -> Connector:
    """Open the mailbox export connector for ``kind`` (``maildir``, ``mbox``, ``eml``).

    Raises :class:`ConfigurationError` naming the path and what is wrong with it (a
    missing path, a file where a folder is expected); the caller adds the account name.
    """
    try:
        cls = _KINDS[kind]
    except KeyError:
        raise ConfigurationError(
            f"unknown mailbox kind {kind!r} (expected one of: {', '.join(_KINDS)})"
        ) from None
    try:
        return cls(Path(path), **options)
    except TypeError as exc:
        raise ConfigurationError(f"bad option for a {kind} account: {exc}") from exc
