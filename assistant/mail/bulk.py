"""Mailing-list and bulk mail (DESIGN.md rule 5). Pure.

A list or bulk message — ``List-Id`` or ``List-Unsubscribe`` (RFC 2919, RFC 2369), or
``Precedence: bulk | list | junk`` — is a newsletter, a conference mailing or a list
post even when it comes from a client's own address: it never joins a quote thread by
the subject or loose-reply rules (it still counts when its thread headers join it).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["is_list_or_bulk"]

_BULK_PRECEDENCE = frozenset(("bulk", "list", "junk"))


def is_list_or_bulk(headers: Mapping[str, str]) -> bool:
    """``headers``: lower-cased names (as in ``ParsedMessage.headers``)."""
    if "list-id" in headers or "list-unsubscribe" in headers:
        return True
    precedence = headers.get("precedence", "").strip().lower()
    return precedence.split(";", 1)[0].strip() in _BULK_PRECEDENCE
