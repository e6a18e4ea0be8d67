"""The reps' morning list (issue 14): each business morning, every rep with follow-ups
waiting for them gets one short email, in their language, listing them.

* **Who**: every assignee of a ``drafted`` follow-up due by ``now`` (drafted email
  follow-ups, call tasks, WhatsApp messages: :mod:`assistant.services.planning` made
  them at the send window), unless ``digest.morning_list = false`` (the whole team) or
  the person turned it off on the web app's "My settings" page (``web_users.morning_email``).
* **Language**: the one the person chose in the web app, else ``digest.language``.
* **What**: each follow-up with its client and how late it is, a link to its page in the
  web app (``web.base_url``), calls with a ``tel:`` link, WhatsApp with a ``wa.me`` link.
  Wording in :mod:`assistant.wording` (``morning.*``); layout in ``morning.html.j2`` /
  ``morning.txt.j2`` (shipped in ``assistant/data/templates/morning/``; an admin's
  ``morning/`` in the templates folder is found first), rendered like the digest.
* **When**: the scheduler's ``morning`` job, at ``protocol.send_window_start`` on business
  days, right after planning; ``followup morning`` by hand.
* **Once a day**: each (rep, local date) is claimed in ``morning_lists``
  (:data:`assistant.storage.claims.MORNING_SEND`) before sending, so two workers or a
  rerun never send it twice. Only a send that surely did not leave
  (:class:`assistant.services.digest.NotSent`: no connection, the server refused it) is
  tried again; one lost while handing it over (``unknown``), or whose worker died
  mid-way (``sending``), is not: a missed list is better than the same list twice.
* **Sending**: the digest's sender (:func:`assistant.services.digest.sender_for`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine

from assistant import data
from assistant.domain.calendar import business_days_between, local_date
from assistant.services import digest as digests
from assistant.settings import Settings
from assistant.storage import claims, models, repo
from assistant.storage import users as stored_users
from assistant.wording import say, short_day

log = logging.getLogger(__name__)

STATUSES = ("drafted",)
"""The follow-ups a morning list shows: prepared and waiting for their assignee."""


@dataclass(frozen=True)
class Item:
    fid: int
    channel: str
    step: int
    subject: str
    contact: str
    due: str
    late: str
    url: str | None
    """The follow-up's page in the web app (``None`` without ``web.base_url``)."""
    action: str
    """What to do: review the draft, call NUMBER, message on WhatsApp."""
    action_url: str | None
    """``tel:``, ``https://wa.me/...``, or the page (email follow-ups)."""
    is_late: bool = False
    """Due before today."""
    contact_name: str | None = None
    """Who the contact is (:func:`assistant.services.people.names`), shown before the
    address; ``None`` when nothing names them."""


@dataclass(frozen=True)
class MorningList:
    email: str
    name: str
    language: str
    subject: str
    items: tuple[Item, ...]
    html: str = field(repr=False)
    text: str = field(repr=False)
    enabled: bool = True
    """False: the person turned the list off (it is built, never sent)."""


def _language(settings: Settings, chosen: str | None) -> str:
    return chosen if chosen in ("es", "en") else settings.digest.language


def build_lists(settings: Settings, engine: Engine, now: datetime, *,
                rep: str | None = None) -> list[MorningList]:
    """Every rep's morning list at ``now`` (or only ``rep``'s), reps in roster order."""
    f = models.Followup
    with engine.connect() as conn:
        rows = [row for row in repo.followups_where(conn, statuses=STATUSES, order_by=(f.due_at, f.id))
                if row.assignee and models.as_utc(row.due_at) <= now]
    if rep is not None:
        rows = [row for row in rows if row.assignee == rep.strip().lower()]
    by_rep: dict[str, list[models.Followup]] = {}
    for row in rows:
        by_rep.setdefault(row.assignee, []).append(row)
    order = {m.email: i for i, m in enumerate(settings.team.members)}
    prefs = stored_users.preferences(engine, list(by_rep)) if by_rep else {}
    subjects = _thread_subjects(settings, engine, rows, now)
    people = _contact_names(settings, engine, rows)
    lists = []
    for email in sorted(by_rep, key=lambda e: (order.get(e, len(order)), e)):
        language, enabled = prefs.get(email, (None, True))
        lists.append(_render(settings, email, _language(settings, language), by_rep[email],
                             subjects, now, enabled=enabled, people=people))
    return lists


def _thread_subjects(settings: Settings, engine: Engine, rows: list[models.Followup],
                     now: datetime) -> dict[str, str]:
    from assistant.services import pages
    from assistant.services.rules import rules_from_settings

    return pages.queue_subjects(engine, rules_from_settings(settings), rows, now) if rows else {}


def _contact_names(settings: Settings, engine: Engine, rows: list[models.Followup]) -> dict[str, str]:
    """address -> the contact's name, for the contacts these follow-ups go to."""
    from assistant.services import people

    if not rows:
        return {}
    found = people.names(settings, engine, {row.contact for row in rows},
                         {row.quote_message_id for row in rows})
    return {address: who.name for address, who in found.items() if who.name}


def followup_url(settings: Settings, fid: int) -> str | None:
    base = settings.web.base_url
    return f"{base}/followups/{fid}" if base else None


def _render(settings: Settings, email: str, language: str, rows: list[models.Followup],
            subjects: dict[str, str], now: datetime, *, enabled: bool,
            people: dict[str, str] | None = None) -> MorningList:
    tz, country = settings.team.timezone, settings.protocol.holidays_country
    today = local_date(now, tz)
    member = settings.team.member(email)
    name = member.name if member else email
    items = []
    for row in rows:
        late = business_days_between(local_date(models.as_utc(row.due_at), tz), today, country)
        url = followup_url(settings, row.id)
        if row.channel == "phone":
            action = (say("morning.call", language, phone=row.phone) if row.phone
                      else say("morning.no_phone", language))
            action_url = row.link if row.link and row.link.startswith("tel:") else None
        elif row.channel == "whatsapp":
            action = (say("morning.whatsapp", language) if row.link
                      else say("morning.no_phone", language))
            action_url = row.link if row.link and row.link.startswith("https://wa.me/") else None
        else:
            action, action_url = say("morning.review", language), url
        items.append(Item(
            row.id, row.channel, row.step,
            subjects.get(row.quote_message_id) or row.subject or "—", row.contact or "—",
            short_day(local_date(models.as_utc(row.due_at), tz), language),
            say("morning.due_today", language) if late <= 0 else
            say("morning.late_one", language) if late == 1 else say("morning.late", language, n=late),
            url, action, action_url, late > 0,
            (people or {}).get((row.contact or "").lower())))
    base = settings.web.base_url
    subject = say("morning.subject", language, n=len(items), date=short_day(today, language))
    context = dict(
        language=language, subject=subject, company=settings.company.name,
        greeting=say("morning.greeting", language, name=name.split()[0] if name else email),
        intro=say("morning.intro", language),
        channels={c: say(f"morning.channel.{c}", language) for c in ("email", "phone", "whatsapp")},
        items=[{**asdict(i), "step_word": say("morning.step", language, step=i.step)} for i in items],
        all_link=say("morning.all", language, url=f"{base}/followups") if base else "",
        opt_out=(say("morning.opt_out", language, url=f"{base}/me") if base
                 else say("morning.opt_out_no_link", language)),
        footer=say("morning.footer", language, company=settings.company.name),
    )
    folder = data.search_path(settings.templates.folder, "morning")
    html = digests._render(folder, context, label="morning.html.j2", name="morning.html.j2")
    text = digests._render(folder, context, label="morning.txt.j2", name="morning.txt.j2")
    return MorningList(email, name, language, subject, tuple(items), html, text, enabled)


def to_message(settings: Settings, morning: MorningList, *, now: datetime | None = None) -> EmailMessage:
    """A multipart/alternative message: the plain-text part, then the HTML part."""
    return digests.compose(settings, (morning.name, morning.email), morning.subject,
                           morning.language, morning.text, morning.html, now=now)


@dataclass(frozen=True)
class SendResult:
    email: str
    status: str
    """sent | skipped (already sent or tried today) | opted_out | failed (it did not leave:
    retried) | unknown (lost while handing it over: it may have arrived; not retried)."""
    items: int
    error: str | None = None
    cause: BaseException | None = field(default=None, compare=False, repr=False)
    """The error itself (:func:`assistant.wording.words_of` words it for its reader)."""


def period_of(settings: Settings, now: datetime) -> str:
    """The day a morning list belongs to: the local date of ``now``."""
    return local_date(now, settings.team.timezone).isoformat()


def send_lists(settings: Settings, engine: Engine, now: datetime, sender, *,
               period: str | None = None, rep: str | None = None,
               holder: str | None = None) -> list[SendResult]:
    """Send every due morning list of ``period`` (default: today's local date) once: a
    list already sent that day is skipped, a failed one is sent again, one person's
    failure never stops the others."""
    period = period or period_of(settings, now)
    table = models.MorningList
    results = []
    for morning in build_lists(settings, engine, now, rep=rep):
        if not morning.enabled:
            results.append(SendResult(morning.email, "opted_out", len(morning.items)))
            continue
        where = (table.rep == morning.email) & (table.period == period)
        if not claims.claim_send(engine, claims.MORNING_SEND,
                                 dict(rep=morning.email, period=period, language=morning.language,
                                      items=len(morning.items)), where, holder, now):
            results.append(SendResult(morning.email, "skipped", len(morning.items)))
            continue
        try:
            sender.send(to_message(settings, morning, now=now))
        except digests.NotSent as exc:  # it did not leave: the next run sends it
            log.error("morning list for %s: %s", morning.email, exc)
            claims.finish_send(engine, claims.MORNING_SEND, where, "failed", now, str(exc))
            results.append(SendResult(morning.email, "failed", len(morning.items), str(exc), exc))
            continue
        except Exception as exc:  # noqa: BLE001 - one rep's failure never stops the others
            # Lost while handing it over: it may have arrived. Never sent again that day.
            log.error("morning list for %s may have been sent (not sent again today): %s",
                      morning.email, exc)
            claims.finish_send(engine, claims.MORNING_SEND, where, "unknown", now, str(exc))
            results.append(SendResult(morning.email, "unknown", len(morning.items), str(exc), exc))
            continue
        claims.finish_send(engine, claims.MORNING_SEND, where, "sent", now, None)
        results.append(SendResult(morning.email, "sent", len(morning.items)))
    return results


def output_files(folder: Path, lists: list[MorningList]) -> list[tuple[Path, MorningList, str]]:
    """``followup morning --out DIR``: ``morning-<local part>.html`` and ``.txt`` per rep
    (the path, the list, the text)."""
    out = []
    for morning in lists:
        stem = f"morning-{morning.email.split('@')[0]}"
        out += [(folder / f"{stem}.html", morning, morning.html),
                (folder / f"{stem}.txt", morning, morning.text)]
    return out
