"""What the Gmail and Microsoft Graph connectors share: polite retries and token files.

* :class:`Backoff` retries throttled (429) and failing (5xx) calls with exponential
  backoff that honours ``Retry-After``; its ``sleep`` is injectable and its longest
  wait capped, so tests never sleep for real.
* :func:`read_secret_file` / :func:`write_secret_file` / :func:`create_secret_file`: token
  files are accepted only with mode 0600 (no group or other bits) and always written with
  it, atomically, through a randomly named ``O_CREAT|O_EXCL|O_NOFOLLOW`` temporary file.
* :func:`with_followup_id`: a draft's bytes carrying its ``X-Followup-Id`` header.

No business logic here, and never a token in a log line or an error message.
"""

from __future__ import annotations

import email.parser
import email.utils
import logging
import os
import random
import re
import secrets
import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .base import ConfigurationError, DraftMessage, SendOutcomeUnknown, TransientError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())


@dataclass
class Backoff:
    """Exponential backoff with jitter that honours ``Retry-After``.

    ``delay(attempt, retry_after)`` is ``retry_after`` when the server gave one, else
    ``base * 2**attempt`` (with up to 25 % jitter), never more than ``max_delay``.
    After ``tries`` failed attempts the caller raises :class:`TransientError`.
    """

    tries: int = 6
    base: float = 1.0
    max_delay: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            wait = retry_after
        else:
            wait = self.base * (2 ** attempt) * (1 + random.random() / 4)
        return min(wait, self.max_delay)

    def wait(self, attempt: int, retry_after: float | None, what: str) -> None:
        """Sleep before retry ``attempt + 1``, or raise TransientError when out of tries."""
        if attempt + 1 >= self.tries:
            raise TransientError(f"{what}: still failing after {self.tries} tries; "
                                 "the next sync will retry", code="retry.exhausted", what=what,
                                 tries=self.tries)
        wait = self.delay(attempt, retry_after)
        log.info("%s: retrying in %.1f s", what, wait)
        self.sleep(wait)


class Throttled(Exception):
    """A send refused before the provider accepted it (429, a rate limit): safe to retry."""

    def __init__(self, wait: float | None) -> None:
        super().__init__(wait)
        self.wait = wait


class Unclear(Exception):
    """A send whose outcome is unknown: a timeout, a dropped connection or a 5xx after the
    request went out (Google: a server error "does not mean the request failed"; Graph's
    202 means accepted, not delivered)."""


SENT_COPY_CHECKS = 3
"""How often an unclear send looks for its sent copy (waiting between looks, for the
provider to file it) before it may send again."""


def send_exactly_once(send: Callable[[], str], find_sent: Callable[[], str | None] | None,
                      backoff: Backoff, what: str) -> str:
    """Run a non-idempotent ``send`` (returns the sent message's id) at most once per
    acceptance: retried after :class:`Throttled` (never accepted); after :class:`Unclear`
    the sent copy is looked for (``find_sent``, by Message-ID) before any retry, and found
    means done. Without a way to look (no Message-ID), or when every try stays unclear,
    :class:`SendOutcomeUnknown` -- never a blind second send."""
    attempt = 0
    while True:
        try:
            return send()
        except Throttled as exc:
            backoff.wait(attempt, exc.wait, f"{what} (throttled before it was accepted)")
            attempt += 1
            continue
        except Unclear as exc:
            reason = str(exc) or "no answer"
        if find_sent is None:
            raise SendOutcomeUnknown(f"{what}: {reason}; it may have been sent (no Message-ID to "
                                     "look for it by): check the Sent folder before sending again")
        for look in range(SENT_COPY_CHECKS):
            found = find_sent()
            if found:
                log.info("%s: the lost answer's message was sent; not sending again", what)
                return found
            if look + 1 < SENT_COPY_CHECKS:
                backoff.sleep(backoff.delay(look, None))
        try:
            backoff.wait(attempt, None, f"{what} ({reason}; no sent copy found)")
        except TransientError:
            raise SendOutcomeUnknown(f"{what}: {reason}, and no sent copy found; it may still "
                                     "arrive: the next try looks for it before sending") from None
        attempt += 1


def check_secret_mode(path: Path) -> None:
    """Refuse a token file that others may read (fix: ``chmod 600``)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigurationError(f"token file {path} not found", code="token.missing",
                                 path=path) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"token file {path} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run `chmod 600 {path}`", code="token.readable", path=path,
            mode=f"{stat.S_IMODE(mode):04o}")


def read_secret_file(path: Path, *, fix: str) -> str:
    """The text of a 0600 token file; ``fix`` says how to create it when it is missing."""
    path = Path(path)
    if not path.exists():
        command = re.search(r"`([^`]+)`", fix)  # the command the fix names, for any language
        raise ConfigurationError(f"token file {path} not found; {fix}",
                                 **({"code": "token.missing_run", "command": command[1]} if command
                                    else {"code": "token.missing"}), path=path)
    check_secret_mode(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read token file {path}: {exc}; {fix}") from None


_SECRET_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))


def _new_secret_temp(path: Path, text: str) -> Path:
    """A new file holding ``text`` beside ``path``, mode 0600 from the first byte, under a
    random name opened with ``O_CREAT|O_EXCL|O_NOFOLLOW``: a file or symlink planted
    under that name is never opened (another random name is tried), so nobody who can
    write the folder can make us write a secret through a link or into their file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for _ in range(16):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, _SECRET_FLAGS, 0o600)
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(f"cannot create a temporary file next to {path}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)  # whatever the umask
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_secret_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, mode 0600 from the first byte: a random
    exclusive temporary file (:func:`_new_secret_temp`), renamed into place. ``rename``
    replaces whatever is at ``path`` (a symlink included) and never follows it."""
    path = Path(path)
    tmp = _new_secret_temp(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def create_secret_file(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text`` (mode 0600) unless something is there already,
    a symlink included: ``False`` then, and nothing is written. Atomic: the file appears
    whole (``link`` of a random exclusive temporary file), so a concurrent reader never
    sees it half written, and of two concurrent creators exactly one wins."""
    path = Path(path)
    tmp = _new_secret_temp(path, text)
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        return False
    except OSError:
        # a file system without hard links: an exclusive, non-following create in place
        try:
            fd = os.open(path, _SECRET_FLAGS, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return True


def header_of(data: bytes, name: str) -> str | None:
    head, _, _ = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    value = email.parser.BytesHeaderParser().parsebytes(head + b"\n").get(name)
    return None if value is None else str(value).strip()


def with_followup_id(draft: DraftMessage) -> bytes:
    """The draft's bytes, with an ``X-Followup-Id`` header added if it lacks one."""
    if header_of(draft.data, "X-Followup-Id") is not None:
        return draft.data
    eol = b"\r\n" if b"\r\n" in draft.data[:2000] else b"\n"
    return b"X-Followup-Id: " + draft.idempotency_key.encode("ascii") + eol + draft.data


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
