"""Follow-up planning rules (DESIGN.md "Protocol cadence", "Ownership" -> assignee).

Pure: plain values in, plain values out, ``now`` passed in. The service layer
(:mod:`assistant.services.planning`, :mod:`assistant.services.reconcile`) loads the rows, calls these and writes the results.

* :func:`due_steps` — which lead threads get a follow-up now (once per thread and step);
* :func:`choose_assignee` — who does it, per ``protocol.responsible_role``;
* :func:`recent_other_contact` — the duplicate-contact guard (``protocol.quiet_days``);
* :func:`settle` — what a pending follow-up becomes when its thread moved on (stop rules,
  or the step was taken: done).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Literal, Mapping, Sequence

from .model import ThreadReport

FollowupStatus = Literal["held", "drafted", "approved", "sent", "done", "skipped", "cancelled"]
FOLLOWUP_STATUSES: tuple[FollowupStatus, ...] = (
    "held", "drafted", "approved", "sent", "done", "skipped", "cancelled")
PENDING: tuple[FollowupStatus, ...] = ("held", "drafted", "approved")
"""Follow-ups still waiting for a person (the stop rules cancel these)."""

PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "hotmail.com", "hotmail.es", "outlook.com", "outlook.es",
    "live.com", "live.com.mx", "msn.com", "yahoo.com", "yahoo.com.mx", "yahoo.es", "icloud.com",
    "me.com", "aol.com", "prodigy.net.mx", "proton.me", "protonmail.com", "gmx.com",
})
"""Domains shared by unrelated people: "same client domain" never applies to them."""


def followup_key(quote_message_id: str, step: int, since: datetime | None = None) -> str:
    """The idempotency key of a (thread, round, step): ASCII, header-safe, stable across
    runs. A round is the cadence after one real reply (``since``: the thread's last real
    reply, ``ThreadReport.last_reply_at``): after the client answers -- a question we
    answered, a holding reply, an answer by phone -- the cadence starts over at step 1
    (DESIGN.md rule 9, "A real reply stops the cadence"), and that step 1 is a new
    follow-up, not the one of the round before. The first round (no reply yet) keeps the
    key of a (thread, step), as keys were before rounds counted."""
    digest = hashlib.sha256(quote_message_id.encode("utf-8")).hexdigest()[:24]
    if since is None:
        return f"fu-{digest}-{step}"
    moment = since.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"fu-{digest}-r{moment}-{step}"


# --- Which threads are due -----------------------------------------------------------

def of_this_round(key: str, planned_at: datetime | None, report: ThreadReport, step: int,
                  *, legacy: bool = False, status: str | None = None) -> bool:
    """Whether the follow-up ``key`` (planned at ``planned_at``, now ``status``) is step
    ``step`` of the thread's current round (:func:`followup_key`).

    ``legacy``: planned before the database's keys named rounds (migration 0019). Such a
    first-round key planned after the round's reply and not cancelled was this round's
    step under the old keys, and counts as this round's (planned once, never twice).
    Every key planned since is read strictly: a reply read late (a chat export, a delayed
    sync) still moves its thread to the next round."""
    if key == followup_key(report.quote_message_id, step, report.last_reply_at):
        return True
    return (legacy and report.last_reply_at is not None and planned_at is not None
            and status != "cancelled"
            and key == followup_key(report.quote_message_id, step)
            and planned_at >= report.last_reply_at)


@dataclass(frozen=True, slots=True)
class DueStep:
    report: ThreadReport
    step: int
    channel: str
    template: str
    due_at: datetime
    key: str


def due_steps(reports: Iterable[ThreadReport],
              existing_keys: set[str] | frozenset[str] | Mapping[str, tuple[datetime, str, bool]],
              now: datetime) -> list[DueStep]:
    """Every silent thread whose next step is due at ``now`` and has no follow-up yet in
    this round. ``existing_keys``: the threads' follow-up keys, with when each was planned,
    its status and whether it is legacy (to recognise an old first-round key of this
    round: :func:`of_this_round`)."""
    planned = existing_keys if isinstance(existing_keys, Mapping) else dict.fromkeys(existing_keys)
    due = []
    for report in reports:
        step = report.next_step
        if report.status != "silent" or step is None or step.due_at > now:
            continue
        key = followup_key(report.quote_message_id, step.number, report.last_reply_at)
        first = followup_key(report.quote_message_id, step.number)
        old = planned.get(first) if first != key else None
        if key in planned or (old is not None and of_this_round(
                first, old[0], report, step.number, status=old[1], legacy=old[2])):
            continue
        due.append(DueStep(report, step.number, step.channel, step.template, step.due_at, key))
    return due


# --- Assignee ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Assignment:
    assignee: str | None
    via: Literal["owner", "mapped", "round_robin", "none"]


def choose_assignee(owner: str | None, responsible_role: str, members: dict[str, str],
                    managers: dict[str, str | None], *, previous: str | None = None,
                    turn: int = 0) -> Assignment:
    """Who follows this thread up.

    ``members`` maps each team member's email to their role, in settings order;
    ``managers`` maps each to their manager's email. ``previous`` is who had the thread's
    earlier follow-ups (kept, so a client keeps one voice); ``turn`` is the round-robin
    counter (how many threads were handed out round-robin so far).

    * ``owner``: the owner; a thread without owner goes round-robin to the account
      executives (every member when there are none).
    * ``sdr`` / ``customer_success``: the owner if they have that role; else the member
      of that role *mapped* to the owner — one who shares the owner's manager, or reports
      to the owner (round-robin among them when several); else round-robin among all
      members of the role.
    """
    role = "account_executive" if responsible_role == "owner" else responsible_role
    pool = [email for email, r in members.items() if r == role]
    if responsible_role == "owner" and not pool:
        pool = list(members)
    if previous and (previous in pool or (responsible_role == "owner" and previous == owner)):
        return Assignment(previous, "mapped" if previous != owner else "owner")
    if owner and (responsible_role == "owner" or members.get(owner) == role):
        return Assignment(owner, "owner")
    if owner:
        team_lead = managers.get(owner)
        mapped = [m for m in pool
                  if (team_lead and managers.get(m) == team_lead) or managers.get(m) == owner]
        if mapped:
            return Assignment(mapped[turn % len(mapped)], "mapped")
    if not pool:
        return Assignment(None, "none")
    return Assignment(pool[turn % len(pool)], "round_robin")


# --- Duplicate-contact guard ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Contacted:
    """One outbound message (or logged touch) from a team address to a client address."""

    at: datetime
    sender: str
    sender_name: str | None
    recipients: tuple[str, ...]


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class OtherContact:
    """The hold reason ``hold.other_contact``: ``who`` (a colleague's name, else address)
    wrote to ``recipient`` on ``day`` (the team's local date)."""

    code = "hold.other_contact"
    who: str
    recipient: str
    day: date

    @property
    def values(self) -> dict:
        return {"who": self.who, "recipient": self.recipient, "day": self.day}


def recent_other_contact(contact: str | None, assignee: str | None,
                         history: Sequence[Contacted], now: datetime, quiet_days: int,
                         *, timezone: str = "UTC") -> OtherContact | None:
    """Why to hold: another internal person wrote to ``contact`` (or to anyone at the
    contact's company domain) within ``quiet_days`` before ``now`` — the latest such
    message (stored as its code, worded by :func:`assistant.wording.hold_reason` in the
    reader's language: "Luis Herrera wrote to diego@cliente.example on 9 Nov"); else ``None``.
    """
    if not contact or quiet_days <= 0:
        return None
    contact = contact.lower()
    domain = _domain(contact)
    same_domain_counts = domain not in PUBLIC_MAIL_DOMAINS
    since = now - timedelta(days=quiet_days)
    latest: tuple[datetime, Contacted, str] | None = None
    for item in history:
        if item.at < since or item.at > now:
            continue
        if assignee and item.sender.lower() == assignee.lower():
            continue
        for recipient in item.recipients:
            r = recipient.lower()
            if r == contact or (same_domain_counts and _domain(r) == domain):
                if latest is None or item.at > latest[0]:
                    latest = (item.at, item, r)
                break
    if latest is None:
        return None
    at, item, recipient = latest
    from zoneinfo import ZoneInfo
    local = at.astimezone(ZoneInfo(timezone))
    return OtherContact(item.sender_name or item.sender, recipient, local.date())


# --- Stop rules and completion -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Settlement:
    """What a follow-up becomes, and why: a reason code (``settle.*`` / ``cancel.*``,
    worded by :func:`assistant.wording.settlement_reason`) and its values."""

    status: FollowupStatus
    code: str
    values: tuple[tuple[str, object], ...] = ()


def settle(status: str, step: int, report: ThreadReport | None,
           key: str | None = None, planned_at: datetime | None = None, *,
           legacy: bool = False) -> Settlement | None:
    """What a follow-up becomes now that its thread is ``report``; ``None``: unchanged.

    ``key``, ``planned_at``: the follow-up's idempotency key and when it was planned
    (``legacy``: see :func:`of_this_round`).
    One of an earlier round (the client has
    replied since it was planned, :func:`followup_key`) is settled as the reply settles
    it, whatever the thread does now: sent, ``done``; pending, ``cancelled`` (the step of
    the new round is a follow-up of its own).

    * the step was taken (the thread's touches reached it — the rep sent the draft or a
      rewrite from their own mail client, or logged the call): ``done``;
    * a sent follow-up whose thread then moved on in any way: ``done``;
    * a pending one (held, drafted, approved) whose thread closed (won/lost, decline),
      bounced, or got a real reply: ``cancelled`` with the reason. An out-of-office reply
      changes nothing (the thread stays silent).
    """
    if report is None or status not in PENDING + ("sent",):
        return None
    if key is not None and not of_this_round(key, planned_at, report, step,
                                             legacy=legacy, status=status):
        if status == "sent":
            return Settlement("done", "settle.moved_on")
        when = report.last_reply_at
        if when is None:
            return Settlement("cancelled", "cancel.replied")
        return Settlement("cancelled", "cancel.replied_on", (("day", when.date()),))
    taken = report.touches >= step and report.status not in ("awaiting_us",)
    if taken or (status == "sent" and report.status != "silent"):
        return Settlement("done", "settle.step_taken" if taken else "settle.moved_on")
    if status == "sent":
        return None
    if report.status == "closed":
        # Why it closed is the report's own code and value (worded with the reason).
        return Settlement("cancelled", "cancel.closed",
                          (("closed_code", report.closed_code),
                           ("closed_value", report.closed_value)))
    if report.status == "bounced":
        who = ", ".join(report.bounced_recipients) or report.contact or "the contact"
        return Settlement("cancelled", "cancel.bounced", (("who", who),))
    if report.status == "awaiting_us":
        when = report.last_reply_at
        if when is None:
            return Settlement("cancelled", "cancel.replied")
        return Settlement("cancelled", "cancel.replied_on", (("day", when.date()),))
    return None
