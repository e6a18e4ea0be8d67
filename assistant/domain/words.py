"""DESIGN.md "Words": which messages are ours, theirs, and real replies. Pure.

Addresses are internal, external or malformed (:meth:`Rules.address_class`, rule 1).
"""

from __future__ import annotations

from .model import Mail, Rules

__all__ = ["is_outbound", "is_inbound", "is_real_reply"]


def is_outbound(mail: Mail, rules: Rules) -> bool:
    """From an internal address with at least one external recipient (a malformed
    recipient, rule 1, is not external)."""
    return rules.is_internal(mail.from_addr) and any(rules.is_external(r) for r in mail.recipients)


def is_inbound(mail: Mail, rules: Rules) -> bool:
    """From an external address (or no readable address: a server, a robot)."""
    return rules.is_external(mail.from_addr)


def is_real_reply(mail: Mail, rules: Rules) -> bool:
    """An inbound message whose kind is ``message`` (not an auto-reply, bounce, delay,
    complaint or receipt)."""
    return mail.kind == "message" and is_inbound(mail, rules)
