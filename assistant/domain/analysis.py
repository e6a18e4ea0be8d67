"""Status, ownership and next step of every lead thread (DESIGN.md, the rules themselves).

Pure: :func:`scan` takes plain values and a ``now`` and returns one
:class:`~assistant.domain.model.ThreadReport` per lead thread. Each helper below is
named after the rule it implements so a test can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from assistant.mail.text import detect_language, own_text

from .calendar import add_business_days, at_window, due_at, due_on, is_business_day, local_date
from .joining import join_unthreaded
from .model import LoggedTouch, Mail, NextStep, Rules, ThreadMark, ThreadReport
from .quotes import is_quote, mentions_quote
from .replies import Holding, day_back, decline_phrase, holding
from .threading import group_conversations
from .words import is_inbound, is_outbound, is_real_reply, is_touch

MEANINGFUL_KINDS = ("message",)


# --- Words (assistant.domain.words, assistant.domain.quotes) -------------------------

declines = decline_phrase
"""The decline / opt-out phrase in the reply's own text (:mod:`assistant.domain.replies`)."""


def thread_language(mails: list[Mail], rules: Rules, facts: "Facts | None" = None) -> str | None:
    """The language of a lead thread: its first quote's, else the client's replies'."""
    quote = first_quote(mails, rules, facts)
    if quote is not None:
        language = detect_language(" ".join([quote.subject, own_text(quote.text)]))
        if language:
            return language
    replies = " ".join(own_text(m.text) for m in mails if is_real_reply(m, rules))
    return detect_language(replies) if replies else None


class Facts:
    """The word-level rules above, asked once per message for the length of one scan
    (a scan asks each message the same questions many times). Keyed by ``id(mail)``:
    valid only while the scanned mails are alive, so a Facts never outlives its scan."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._outbound: dict[int, bool] = {}
        self._quote: dict[int, bool] = {}
        self._decline: dict[int, str | None] = {}

    def outbound(self, mail: Mail) -> bool:
        key = id(mail)
        value = self._outbound.get(key)
        if value is None:
            value = self._outbound[key] = is_outbound(mail, self.rules)
        return value

    def touch(self, mail: Mail) -> bool:
        """:func:`~assistant.domain.words.is_touch`, from the cached outbound answer."""
        if mail.kind == "message":
            return self.outbound(mail)
        return mail.kind == "receipt" and is_touch(mail, self.rules)

    def inbound(self, mail: Mail) -> bool:
        return self.rules.is_external(mail.from_addr)

    def real_reply(self, mail: Mail) -> bool:
        """:func:`~assistant.domain.words.is_real_reply`."""
        return (mail.kind == "message" and mail.from_addr is not None
                and self.rules.is_external(mail.from_addr))

    def quote(self, mail: Mail) -> bool:
        key = id(mail)
        value = self._quote.get(key)
        if value is None:
            value = self._quote[key] = is_quote(mail, self.rules, outbound=self.outbound(mail))
        return value

    def learn_first_quote(self, mails: list[Mail], index: int | None) -> None:
        """Record what :func:`first_quote` found in ``mails`` when it was asked elsewhere
        (a rebuild's worker): no message before ``index`` is a quote, the one at it is."""
        stop = len(mails) if index is None else index
        for mail in mails[:stop]:
            self._quote[id(mail)] = False
        if index is not None:
            self._quote[id(mails[index])] = True

    def declines(self, mail: Mail) -> str | None:
        key = id(mail)
        if key not in self._decline:
            self._decline[key] = declines(mail, self.rules)
        return self._decline[key]


def first_quote(mails: list[Mail], rules: Rules, facts: Facts | None = None) -> Mail | None:
    """The earliest quote of a conversation."""
    index = first_quote_index(mails, rules, facts)
    return None if index is None else mails[index]


def first_quote_index(mails: list[Mail], rules: Rules, facts: Facts | None = None) -> int | None:
    """Where :func:`first_quote` is in ``mails`` (``None``: there is none)."""
    facts = facts or Facts(rules)
    for index, mail in enumerate(mails):
        if facts.quote(mail):
            return index
    return None


def contact_of(quote: Mail, rules: Rules) -> str | None:
    """The first external ``To`` recipient of the first quote (then Cc, then Bcc, for the
    rare quote sent with nobody external in To)."""
    for group in (quote.to, quote.cc, quote.bcc):
        for address in group:
            if rules.is_external(address):
                return address
    return None


# --- Timeline ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Event:
    at: datetime
    outbound: bool
    mail: Mail | None = None


def _timeline(mails: list[Mail], quote: Mail, touches: list[LoggedTouch], facts: Facts) -> list[_Event]:
    """The meaningful events from the first quote on: our outbound messages (auto-replies
    from our side are not touches), logged calls and WhatsApp messages, and real replies."""
    events: list[_Event] = []
    for mail in mails:
        if (mail.date, mail.message_id) < (quote.date, quote.message_id):
            continue
        if facts.touch(mail):
            events.append(_Event(mail.date, True, mail))
        elif facts.real_reply(mail):
            events.append(_Event(mail.date, False, mail))
    for touch in touches:  # a logged call (ours), or the client's answer by phone (theirs)
        if touch.at >= quote.date:
            events.append(_Event(touch.at, not touch.inbound, None))
    events.sort(key=lambda e: (e.at, 0 if e.mail is None else 1,
                               e.mail.message_id if e.mail else ""))
    return events


def owner_candidates(mails: list[Mail], rules: Rules, facts: Facts | None = None) -> tuple[str, ...]:
    """The distinct internal senders of outbound messages in the thread."""
    facts = facts or Facts(rules)
    seen: dict[str, None] = {}
    for mail in mails:
        if facts.touch(mail) and mail.from_addr:
            seen.setdefault(mail.from_addr, None)
    return tuple(seen)


def owner_of(quote: Mail, mark: ThreadMark | None, rules: Rules) -> str | None:
    """An explicit assignment by a user, else the sender of the first quote if that sender
    is a team member, else none."""
    if mark and mark.owner:
        return mark.owner
    if quote.from_addr and quote.from_addr in rules.members:
        return quote.from_addr
    return None


def scenario_of(owner: str | None, candidates: tuple[str, ...], status: str, touches: int,
                rules: Rules) -> str:
    """The four cases, first that applies: unclear, nobody, manager, rep."""
    if owner is None or len(candidates) >= 2:
        return "unclear"
    if status == "silent" and touches == 0:
        return "nobody"
    if rules.members.get(owner) == "manager":
        return "manager"
    return "rep"


def bounced_last_outbound(mails: list[Mail], last_outbound: Mail | None,
                          rules: Rules, facts: Facts | None = None, *,
                          replied_at: datetime | None = None) -> Mail | None:
    """The bounce the last outbound message drew, if no real reply came after it
    (``replied_at``: the latest real reply outside email, which counts too)."""
    if last_outbound is None:
        return None
    bounce = None
    for mail in mails:
        if mail.kind != "bounce":
            continue
        if mail.original_message_id == last_outbound.message_id or (
            mail.original_message_id is None and mail.date >= last_outbound.date
        ):
            bounce = mail
    if bounce is None:
        return None
    facts = facts or Facts(rules)
    if replied_at is not None and replied_at > bounce.date:
        return None
    if any(m.date > bounce.date and facts.real_reply(m) for m in mails):
        return None
    return bounce


# --- The whole thread ----------------------------------------------------------------

def analyze_thread(mails: list[Mail], rules: Rules, now: datetime, *,
                   mark: ThreadMark | None = None,
                   touches: Iterable[LoggedTouch] = (),
                   facts: Facts | None = None) -> ThreadReport | None:
    """Status, owner, scenario and next step of one conversation; ``None`` when it holds
    no quote (not a lead thread)."""
    facts = facts or Facts(rules)
    quote = first_quote(mails, rules, facts)
    if quote is None:
        return None
    logged = sorted(touches, key=lambda t: t.at)
    events = _timeline(mails, quote, logged, facts)
    replies = [e for e in events if not e.outbound]
    outbound = [e for e in events if e.outbound]
    last_reply = replies[-1] if replies else None

    # open ask: the first outbound after the last real reply (the first quote if none)
    if last_reply is None:
        open_ask = outbound[0]
    else:
        open_ask = next((e for e in outbound if e.at > last_reply.at), None)
    if open_ask is None:
        touch_count = 0
    else:
        ask_index = next(i for i, e in enumerate(outbound) if e is open_ask)
        touch_count = len(outbound) - ask_index - 1
    # Steps a rep skipped since the open ask (or the client's last reply) count as steps
    # taken for the cadence, not as touches.
    since = last_reply.at if last_reply is not None else (outbound[0].at if outbound else quote.date)
    skips = [at for at in (mark.skipped if mark else ()) if at > since]
    steps_taken = touch_count + len(skips)
    last_outbound_event = outbound[-1] if outbound else None
    outbound_mails = [e.mail for e in outbound if e.mail is not None]
    last_outbound_mail = outbound_mails[-1] if outbound_mails else None

    candidates = owner_candidates(mails, rules, facts)
    owner = owner_of(quote, mark, rules)
    # A reply logged outside email (mail None) declines nothing and holds nothing.
    decline = facts.declines(last_reply.mail) if last_reply and last_reply.mail else None
    outside = [e.at for e in replies if e.mail is None]
    bounce = bounced_last_outbound(mails, last_outbound_mail, rules, facts,
                                   replied_at=outside[-1] if outside else None)
    last_meaningful = events[-1] if events else None

    contact = contact_of(quote, rules)
    held = None
    if (last_reply is not None and last_reply.mail is not None and last_meaningful is last_reply
            and not decline and not (mark and mark.outcome)):
        held = holding(last_reply.mail, rules, local_date(last_reply.at, rules.timezone))

    next_step: NextStep | None = None
    snoozed_until: date | None = None
    closed: tuple[str, str] | None = None  # (code, value): worded by assistant.wording
    promised: tuple[str, date] | None = None
    if mark and mark.outcome:
        status, closed = "closed", ("marked", mark.outcome)
    elif decline:
        status, closed = "closed", ("declined", decline)
    elif bounce is not None:
        status = "bounced"
    elif last_meaningful is not None and not last_meaningful.outbound and held is None:
        status = "awaiting_us"
    elif steps_taken >= len(rules.steps):
        status = "exhausted"
    else:
        step = rules.steps[steps_taken]
        assert last_outbound_event is not None
        window = dict(timezone=rules.timezone, country=rules.holidays_country,
                      window_start=rules.send_window_start)
        if skips and skips[-1] > last_outbound_event.at:
            due = due_at(skips[-1], step.after_days, **window)  # counted from the skip
        elif held is not None:
            due = due_on(held.promised, step.after_days, **window)
            promised = ("promised", held.promised)
        else:
            due = due_at(last_outbound_event.at, step.after_days, **window)
        back = contact_back(mails, contact, last_outbound_event.at, rules)
        if back is not None:
            floor = at_window(add_business_days(back, 1, rules.holidays_country),
                              timezone=rules.timezone, window_start=rules.send_window_start)
            if floor > due:
                due, promised = floor, ("back", back)
        snoozed = snooze_floor(mark, rules)
        if snoozed is not None and snoozed > due:
            due, promised = snoozed, None
            snoozed_until = mark.snoozed_until
        next_step = NextStep(steps_taken + 1, step.channel, step.template, due)
        status = "silent" if now >= due else "waiting"

    tz = _zone(rules.timezone)
    return ThreadReport(
        quote_message_id=quote.message_id,
        subject=quote.subject,
        contact=contact,
        status=status,
        owner=owner,
        scenario=scenario_of(owner, candidates, status, touch_count, rules),
        owner_candidates=candidates,
        touches=touch_count,
        last_outbound_at=last_outbound_event.at.astimezone(tz) if last_outbound_event else None,
        last_reply_at=last_reply.at.astimezone(tz) if last_reply else None,
        next_step=next_step,
        quote_sent_at=quote.date.astimezone(tz),
        closed_code=closed[0] if closed else None,
        closed_value=closed[1] if closed else None,
        bounced_recipients=bounce.bounced_recipients if bounce else (),
        mail_keys=tuple(m.key for m in mails),
        promised_date=promised[1] if promised else None,
        promised_reason=promised[0] if promised else None,
        snoozed_until=snoozed_until,
    )


def snooze_floor(mark: ThreadMark | None, rules: Rules) -> datetime | None:
    """A snooze's floor on the next step: the first business day on or after the day
    snoozed until, at the send window (``None`` without a snooze)."""
    if mark is None or mark.snoozed_until is None:
        return None
    day = mark.snoozed_until
    if not is_business_day(day, rules.holidays_country):
        day = add_business_days(day, 1, rules.holidays_country)
    return at_window(day, timezone=rules.timezone, window_start=rules.send_window_start)


def contact_back(mails: list[Mail], contact: str | None, since: datetime,
                 rules: Rules) -> date | None:
    """Rule 10: the day the contact's latest auto-reply after our last outbound event
    (``since``) says they are back, if one names it."""
    if not contact:
        return None
    for mail in reversed(mails):
        if mail.date <= since:
            break
        if mail.kind == "auto_reply" and mail.from_addr == contact:
            back = day_back(mail, rules, local_date(mail.date, rules.timezone))
            if back is not None:
                return back
    return None


_ZONES: dict[str, object] = {}


def _zone(name: str):
    zone = _ZONES.get(name)
    if zone is None:
        from zoneinfo import ZoneInfo
        zone = _ZONES[name] = ZoneInfo(name)
    return zone


def build_threads(mails: Iterable[Mail], rules: Rules, *,
                  marks: dict[str, ThreadMark] | None = None,
                  touches: dict[str, list[LoggedTouch]] | None = None,
                  facts: Facts | None = None,
                  conversations: list[list[Mail]] | None = None) -> list[list[Mail]]:
    """Conversations by thread headers, then messages without them joined by rules 4
    (same subject, the contact or their colleague) and 5 (loose reply).
    ``conversations``: ``mails`` already grouped by :func:`group_conversations`."""
    facts = facts or Facts(rules)
    if conversations is None:
        conversations = group_conversations(list(mails))
    return join_unthreaded(
        [list(c) for c in conversations], rules,
        quote_of=lambda c: first_quote(c, rules, facts),
        contact_of=lambda quote: contact_of(quote, rules),
        inbound=facts.inbound, touch=facts.touch, declines=facts.declines,
        real_reply=facts.real_reply, marks=marks or {}, touches=touches or {},
    )


def scan(mails: Iterable[Mail], rules: Rules, now: datetime, *,
         marks: dict[str, ThreadMark] | None = None,
         touches: Iterable[LoggedTouch] = ()) -> list[ThreadReport]:
    """Every lead thread's report at ``now``, oldest quote first."""
    marks = marks or {}
    touches_by_thread: dict[str, list[LoggedTouch]] = {}
    for touch in touches:
        touches_by_thread.setdefault(touch.thread, []).append(touch)
    mails = list(mails)  # kept alive for the whole scan: Facts keys on id(mail)
    facts = Facts(rules)
    reports = []
    for conversation in build_threads(mails, rules, marks=marks, touches=touches_by_thread,
                                      facts=facts):
        quote = first_quote(conversation, rules, facts)
        if quote is None:
            continue
        report = analyze_thread(conversation, rules, now, mark=marks.get(quote.message_id),
                                touches=touches_by_thread.get(quote.message_id, ()),
                                facts=facts)
        if report is not None:
            reports.append(report)
    reports.sort(key=lambda r: (r.quote_sent_at, r.quote_message_id))
    return reports
