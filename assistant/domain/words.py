"""DESIGN.md "Words": which messages are ours, theirs, and real replies. Pure.

Addresses are internal, external or malformed (:meth:`Rules.address_class`, rule 1).
"""

from __future__ import annotations

from assistant.mail.classify import RECEIPT_PREFIX_RE

from .model import Mail, Rules

__all__ = ["is_outbound", "is_inbound", "is_real_reply", "is_touch"]


def is_outbound(mail: Mail, rules: Rules) -> bool:
    """From an internal address with at least one external recipient (a malformed
    recipient, rule 1, is not external)."""
    if not rules.is_internal(mail.from_addr):
        return False
    for recipient in mail.recipients:
        if rules.is_external(recipient):
            return True
    return False


def is_inbound(mail: Mail, rules: Rules) -> bool:
    """From an external address (or no readable address: a server, a robot)."""
    return rules.is_external(mail.from_addr)


def is_real_reply(mail: Mail, rules: Rules) -> bool:
    """An inbound message whose kind is ``message`` (not an auto-reply, bounce, delay,
    complaint or receipt), from a readable sender: a person's reply names its author, and
    a From that names no single address (several mailboxes, a spoofing attempt) answers
    nothing."""
    return mail.kind == "message" and mail.from_addr is not None and is_inbound(mail, rules)


def is_touch(mail: Mail, rules: Rules) -> bool:
    """Our outbound message written by a person (a touch of the timeline): its kind is
    ``message`` — our own robots' auto-replies are not touches. A subject that starts with
    ``Delivered:`` / ``Entregado:`` is a receipt only on inbound mail (rule 7), so a rep's
    "Entregado: pedido 55" is still a touch."""
    if not is_outbound(mail, rules):
        return False
    return mail.kind == "message" or (mail.kind == "receipt"
                                      and RECEIPT_PREFIX_RE.match(mail.subject or "") is not None)
