"""Short thread ids: what people type instead of a quote's Message-ID (pure).

A thread's *digest* is a function of its quote's Message-ID alone: the SHA-256 of the id
(without its ``<>``), in lower-case base32 (letters and the digits 2-7), cut to
:data:`DIGEST_LENGTH` characters. The read model stores it (``threads.thread_id``,
indexed). What a table or a JSON object shows is the digest's shortest prefix of at
least :data:`SHOWN` characters that no other stored thread's digest shares (lengthened on
collision, like git's abbreviated commits): an id once shown stays a prefix of its
thread's digest forever, so it keeps working unless a later thread collides with it,
and then the error lists both.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

__all__ = ["DIGEST_LENGTH", "SHOWN", "thread_digest", "shortest_prefixes", "neighbours_in",
           "looks_like_id"]

DIGEST_LENGTH = 16
"""80 bits: no two threads of any mailbox share one."""
SHOWN = 7
"""35 bits: collisions are rare below a few tens of thousands of threads."""
_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def thread_digest(quote_message_id: str) -> str:
    """The stored digest of a thread (see the module doc)."""
    raw = hashlib.sha256(quote_message_id.strip().strip("<>").encode("utf-8", "surrogatepass"))
    return base64.b32encode(raw.digest()).decode("ascii").lower()[:DIGEST_LENGTH]


def looks_like_id(text: str) -> bool:
    """Whether ``text`` can be (a prefix of) a digest: 4 or more base32 characters."""
    text = text.strip().lower()
    return 4 <= len(text) <= DIGEST_LENGTH and set(text) <= _ALPHABET


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def shortest_prefixes(wanted: Iterable[str], neighbours: dict[str, tuple[str | None, str | None]]
                      ) -> dict[str, str]:
    """Each digest of ``wanted`` shortened to its shortest unambiguous prefix (at least
    :data:`SHOWN`), given each one's stored ``(predecessor, successor)`` in sorted order
    (``None`` at an end)."""
    out: dict[str, str] = {}
    for digest in wanted:
        before, after = neighbours.get(digest, (None, None))
        length = max([SHOWN, *(_common(digest, other) + 1 for other in (before, after) if other)])
        out[digest] = digest[:min(length, len(digest))]
    return out


def neighbours_in(sorted_digests: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """``(predecessor, successor)`` of each digest of a sorted list."""
    out = {}
    for i, digest in enumerate(sorted_digests):
        out[digest] = (sorted_digests[i - 1] if i else None,
                       sorted_digests[i + 1] if i + 1 < len(sorted_digests) else None)
    return out
