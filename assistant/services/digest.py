"""The managers' weekly digest (issue 6): who gets one, what it says, how it is sent.

* **Who**: every member with role ``manager`` and every member someone names as their
  ``manager``. A recipient without a manager of their own gets the company-wide digest
  (every thread, unassigned ones included); the others get their team's: threads owned by
  them or by anyone reporting to them (transitively), plus threads without an owner that
  one of them wrote in.
* **Language**: the manager's — the one they chose in the web app, else
  ``digest.language`` (``es`` by default); one language whatever the mix of their clients'.
* **What**: first what to act on (overdue follow-ups, most overdue first; unclear
  ownership to assign; clients waiting on us), then the numbers of
  :mod:`assistant.domain.metrics` for the last week and the last 90 days with HTML bar
  charts, then the trend versus the previous week (the same metrics computed at ``now``
  minus seven days, on the mail known then).
* **From the read model**: this week's threads are the stored reports
  (:mod:`assistant.services.snapshot`); the metrics walk the messages of the threads
  quoted in the 90-day window only, and last week's snapshot is recomputed from the
  threads that existed then, their messages cut at that moment — never all mail.
* **Templates**: ``digest.html.j2`` and ``digest.txt.j2`` (the layout, shipped in
  ``assistant/data/templates/digest/``) and the wording ``t`` (the catalogue's ``digest.*``
  entries, :func:`assistant.wording.digest_strings`), rendered in a Jinja2 sandbox with
  ``StrictUndefined``. Admins override the layout with files of the same name in
  ``digest/`` of their templates folder (``[templates] folder``), found first, and the
  wording key by key with a ``strings.<language>.toml`` there. A mistake fails loudly.
* **Sending**: :class:`SmtpSender` (``[digest.smtp]``) or :class:`AccountSender` (a
  connected Gmail or Microsoft 365 account, ``digest.send_with``), chosen by
  :func:`sender_for`. Any object with ``send(message: EmailMessage)`` is a
  :class:`DigestSender`.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, format_datetime, make_msgid
from pathlib import Path
from typing import Callable, Iterable, Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Engine

from assistant import data
from assistant.domain import metrics as M
from assistant.domain.analysis import scan as scan_threads
from assistant.domain.calendar import business_days_between, local_date
from assistant.domain.model import LoggedTouch, Mail, Rules, ThreadMark, ThreadReport
from assistant.domain.scope import OPEN_STATUSES, in_scope as thread_in_scope, scope_of
from assistant.settings import Settings, Smtp
from assistant.storage import models, repo
from assistant.wording import Worded, day_time, digest_strings, every_language, say

log = logging.getLogger(__name__)

TEMPLATES = data.DIGEST
"""The shipped digest templates (an admin's ``digest/`` folder is searched first)."""
Folders = Path | str | Sequence[Path | str]
"""One templates folder, or a search path of them (first found wins)."""
MAX_ROWS = 15
"""Rows per "act on" list; the rest is counted ("and 4 more")."""
STATUS_COLORS = {"silent": "#d92d20", "awaiting_us": "#f79009", "waiting": "#2e90fa",
                 "bounced": "#7a271a", "exhausted": "#98a2b3", "closed": "#12b76a"}
SCENARIO_COLORS = {"rep": "#12b76a", "manager": "#f79009", "nobody": "#d92d20",
                   "unclear": "#7f56d9"}


class DigestError(Worded):
    """The digest cannot be built or sent (no recipient, no SMTP server, a bad template):
    a catalogue code and its values (:meth:`words`), or a server's own sentence."""


class NotSent(DigestError):
    """Sending failed before the message left (no connection, refused login, the server
    refused it): trying again cannot send it twice. A plain :class:`DigestError` from a
    sender means it may have gone (the connection was lost while handing it over)."""


REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
           smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)
"""SMTP answers that refuse a message: it was not accepted."""


# --- Who gets which digest -------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    scope: frozenset[str] | None
    """The members whose threads this digest covers; ``None`` = the whole company."""


def recipients(settings: Settings) -> list[Recipient]:
    """The digest recipients, in roster order (see the module docstring); each one's
    scope is :func:`assistant.domain.scope.scope_of` (the web's too)."""
    members = settings.team.members
    managers = {m.email: m.manager for m in members}
    named = {m.manager for m in members if m.manager}
    return [Recipient(m.email, m.name, scope_of(m.email, managers, manages=True))
            for m in members if m.role == "manager" or m.email in named]


def in_scope(report: ThreadReport, scope: frozenset[str] | None) -> bool:
    return thread_in_scope(report.owner, report.owner_candidates, scope)


# --- What the digest is computed from --------------------------------------------------

@dataclass(frozen=True)
class Inputs:
    """All stored mail, touches and marks at once: the full recomputation
    (:func:`snapshot`), which the read model's digest (:func:`build_digests`) must equal."""

    mails: list[Mail]
    touches: list[LoggedTouch]
    marks: dict[str, ThreadMark]
    holds: list[str] | None
    """``quote_message_id`` of each follow-up the duplicate-contact guard held; ``None``
    when the follow-ups table does not exist."""


def load_inputs(engine: Engine) -> Inputs:
    with engine.connect() as conn:
        return Inputs(repo.load_mails(conn, engine), repo.load_touches(conn),
                      repo.load_marks(conn), repo.held_followups(conn))


def load_holds(engine: Engine) -> list[str] | None:
    """Follow-ups held by the duplicate-contact guard (``hold_reason`` set), from the
    drafting issue's ``followups`` table; ``None`` when that table does not exist."""
    with engine.connect() as conn:
        return repo.held_followups(conn)


@dataclass(frozen=True)
class Snapshot:
    """The scan and the metrics at one moment."""

    at: datetime
    reports: list[ThreadReport]
    week: M.TeamMetrics
    quarter: M.TeamMetrics
    holds_missing: bool = False
    """The follow-ups table does not exist: duplicate-contact holds read 0."""
    week_window: M.Window | None = None
    quarter_window: M.Window | None = None
    """The periods ``week`` and ``quarter`` count (:func:`windows`)."""


@dataclass(frozen=True)
class Moment:
    """The team's threads at one moment, for every recipient: the reports, and the mail
    and touches the metrics walk (those of the threads quoted in the 90-day window)."""

    at: datetime
    reports: list[ThreadReport]
    mails: list[Mail]
    touches: list[LoggedTouch]


QUARTER_DAYS = 90


def snapshot(inputs: Inputs, rules: Rules, at: datetime,
             scope: frozenset[str] | None = None) -> Snapshot:
    """The scan at ``at`` on all the mail and touches known then (the full
    recomputation), and its metrics for the threads in ``scope``. (``inputs.marks``:
    the caller's, today's unless it read them with :func:`repo.marks_at`.)"""
    return scoped(_rescanned(at, rules, inputs.mails, inputs.touches, inputs.marks), rules,
                  scope, inputs.holds)


def windows(at: datetime, timezone: str) -> tuple[M.Window, M.Window]:
    """The digest's two periods at ``at``: the week (the seven whole local days before
    the day of ``at``) and the 90 days before it."""
    today = local_date(at, timezone)
    return (M.Window.days_before(today, 7, timezone),
            M.Window.days_before(today, QUARTER_DAYS, timezone))


def scoped(moment: Moment, rules: Rules, scope: frozenset[str] | None,
           holds: list[str] | None) -> Snapshot:
    """One recipient's snapshot of a :class:`Moment`: its threads in ``scope`` and their
    metrics for the week and the 90 days before the moment's day (:func:`windows`)."""
    at = moment.at
    reports = [r for r in moment.reports if in_scope(r, scope)]
    held = holds or ()
    week_window, quarter_window = windows(at, rules.timezone)
    week = M.compute(reports, rules, at, week_window, mails=moment.mails,
                     touches=moment.touches, holds=held)
    quarter = M.compute(reports, rules, at, quarter_window,
                        mails=moment.mails, touches=moment.touches, holds=held)
    return Snapshot(at, reports, week, quarter, holds_missing=holds is None,
                    week_window=week_window, quarter_window=quarter_window)


def _rescanned(at: datetime, rules: Rules, mails: Iterable[Mail],
               touches: Iterable[LoggedTouch], marks: dict[str, ThreadMark]) -> Moment:
    mails = [m for m in mails if m.date <= at]
    touches = [t for t in touches if t.at <= at]
    return Moment(at, scan_threads(mails, rules, at, marks=marks, touches=touches), mails, touches)


def stored_moment(engine: Engine, rules: Rules, at: datetime) -> Moment:
    """The threads at ``at`` from the read model: the stored reports when no stored mail
    is dated after ``at`` (``now``, the usual case), the cohort recomputed otherwise."""
    from assistant.services import snapshot as read_model

    reports = read_model.reports(engine, rules, at)
    with engine.connect() as conn:
        later = repo.mail_after(conn, at)
    if later:
        return past_moment(engine, rules, at, since=None)
    window = windows(at, rules.timezone)[1]
    cohort = [r.quote_message_id for r in reports if r.quote_sent_at in window]
    by_thread = read_model.thread_mails(engine, cohort)
    keys = {thread: tuple(m.key for m in mails) for thread, mails in by_thread.items()}
    reports = [replace(r, mail_keys=keys.get(r.quote_message_id, ())) for r in reports]
    with engine.connect() as conn:
        touches = [t for t in repo.load_touches(conn, cohort) if t.at <= at]
    return Moment(at, reports, [m for mails in by_thread.values() for m in mails], touches)


def past_moment(engine: Engine, rules: Rules, at: datetime, *,
                since: datetime | None) -> Moment:
    """The threads at a past moment ``at``, recomputed from the mail of the threads that
    existed then only — those quoted before ``at`` (and, with ``since``, active after it:
    quoted, written or answered), plus the later-quoted threads holding mail from before
    ``at`` — their messages cut at ``at`` (never a rescan of all mail)."""
    from assistant.services import snapshot as read_model

    with engine.connect() as conn:
        threads = repo.threads_existing_at(conn, at, active_since=since)
        marks = repo.marks_at(conn, at)
    mails = [m for ms in read_model.thread_mails(engine, threads).values() for m in ms]
    with engine.connect() as conn:
        touches = repo.load_touches(conn, list(threads) + [m.message_id for m in mails])
    return _rescanned(at, rules, mails, touches, marks)


# --- Rendering -------------------------------------------------------------------------

@dataclass(frozen=True)
class Digest:
    recipient: Recipient
    language: str
    subject: str
    html: str
    text: str
    current: Snapshot = field(repr=False)
    previous: Snapshot = field(repr=False)


def search_path(settings: Settings) -> tuple[Path, ...]:
    """Where this team's digest templates are looked for: ``digest/`` of the admins'
    templates folder, when it exists, then the shipped ones."""
    return data.search_path(settings.templates.folder, "digest")


def _folders(folder: Folders) -> tuple[Path, ...]:
    return (Path(folder),) if isinstance(folder, (str, Path)) else tuple(Path(f) for f in folder)


def environment(folder: Folders = TEMPLATES) -> SandboxedEnvironment:
    """The digest templates' environment: the bounded sandbox of the follow-ups, HTML
    escaping for ``*.html.j2``. :func:`render` renders in a worker process with it
    (:mod:`assistant.rendering`), never in this one."""
    from assistant.drafting.sandbox import sandbox

    return sandbox(FileSystemLoader(_folders(folder)), html_extensions=HTML_EXTENSIONS,
                   keep_trailing_newline=True)


HTML_EXTENSIONS = ("html.j2",)


def load_strings(language: str, folder: Folders = TEMPLATES) -> dict:
    """The digest's wording in ``language``: the catalogue's (:func:`assistant.wording.
    digest_strings`), with the keys of ``strings.<language>.toml`` of each folder of the
    search path (an admin's) written over it: an admin's file need only hold the keys it
    changes."""
    merged: dict = digest_strings(language)
    for one in reversed(_folders(folder)):
        path = one / f"strings.{language}.toml"
        if not path.exists():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DigestError("digest.err.wording", path=str(path), error=str(exc)) from exc
        merged = _merged(merged, table)
    return merged


def _merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = (_merged(out[key], value) if isinstance(value, dict)
                    and isinstance(out.get(key), dict) else value)
    return out


class _Format:
    """Dates, shares and names, in the digest's language."""

    def __init__(self, settings: Settings, strings: dict, language: str) -> None:
        self.settings, self.t, self.language = settings, strings, language
        self.zone = ZoneInfo(settings.team.timezone)

    def date(self, moment: datetime | None) -> str:
        if moment is None:
            return self.t["none"]
        local = moment.astimezone(self.zone)
        dates = self.t["dates"]
        return f'{dates["days"][local.weekday()]} {local.day} {dates["months"][local.month - 1]}'

    def day(self, day) -> str:
        dates = self.t["dates"]
        return f'{dates["days"][day.weekday()]} {day.day} {dates["months"][day.month - 1]}'

    def why(self, report: ThreadReport) -> str:
        """Rules 9–11: "promised: Fri 4 Dec" / "back on Mon 14 Dec", or a user's snooze
        ("snoozed until Fri 15 Jan"); "" when the protocol's own cadence set the date."""
        if report.snoozed_until is not None:  # a user's snooze (issue 14)
            return self.t["why"]["snoozed"].replace("{day}", self.day(report.snoozed_until))
        if report.promised_date is None or report.promised_reason is None:
            return ""
        return self.t["why"][report.promised_reason].replace("{day}", self.day(report.promised_date))

    def pct(self, value: float | None) -> str:
        if value is None:
            return self.t["none"]
        number = round(value * 100)
        return f"{number} %" if self.language == "es" else f"{number}%"

    def share(self, share: M.Share) -> str:
        if share.value is None:
            return self.t["none"]
        return f"{self.pct(share.value)} ({share.numerator}/{share.denominator})"

    def number(self, value: float | int | None) -> str:
        if value is None:
            return self.t["none"]
        if isinstance(value, float) and not value.is_integer():
            text_ = f"{value:.1f}"
            return text_.replace(".", ",") if self.language == "es" else text_
        return str(int(value))

    def name(self, email: str | None) -> str:
        if email is None:
            return self.t["nobody"]
        member = self.settings.team.member(email)
        return member.name if member else email


def _render(folder: Folders, context: dict, *, label: str, name: str | None = None,
            text: str | None = None) -> str:
    """One digest template (``name``, in ``folder``) or wording string (``text``), in a
    render worker: bounded in time, memory and size like the follow-ups."""
    from assistant.drafting.sandbox import TemplateProblem
    from assistant.rendering import renderer

    try:
        return renderer().render_text(context, label=label, name=name, text=text, folder=folder,
                                      html_extensions=HTML_EXTENSIONS, keep_trailing_newline=True)
    except TemplateProblem as exc:  # it names the template and the line
        raise DigestError("digest.err.template", error=every_language(exc)) from None


def thread_url(settings: Settings, quote_message_id: str) -> str | None:
    """The thread's page in the web app (``web.base_url``), ``None`` without one."""
    from assistant.services.pages import thread_slug

    base = settings.web.base_url
    return f"{base}/threads/{thread_slug(quote_message_id)}" if base else None


def wrap_cell(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``: broken between words, and a word longer
    than the width (an address) after its ``@`` or dots, cut only when nothing else fits;
    a newline in ``text`` starts a new line."""
    import re

    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split():
            pieces = [word] if len(word) <= width else [p for p in re.findall(r"[^@.]*[@.]?", word) if p]
            first = True
            for piece in pieces:
                while len(piece) > width:  # no place to break: cut
                    lines.append(line) if line else None
                    line, piece = piece[:width], piece[width:]
                gap = " " if first and line else ""
                if len(line) + len(gap) + len(piece) <= width:
                    line += gap + piece
                else:
                    if line:
                        lines.append(line)
                    line = piece
                first = False
        lines.append(line)
    return lines or [""]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int],
               right: Sequence[int] = (), links: Sequence[str | None] = (),
               gap: bool = True, lines_after: Sequence[str | None] = ()) -> list[str]:
    """Rows as aligned plain-text columns (a cell wraps inside its width, never into the
    next column: :func:`wrap_cell`), a rule under the headers; under each row, its
    ``lines_after`` entry (an address: whole, never broken into a column) and its link,
    each on a line of its own."""
    def lines(cells: Sequence[str]) -> list[str]:
        wrapped = [wrap_cell(cell, width) for cell, width in zip(cells, widths)]
        out = []
        for i in range(max(len(w) for w in wrapped)):
            parts = []
            for col, (w, width) in enumerate(zip(wrapped, widths)):
                piece = w[i] if i < len(w) else ""
                parts.append(piece.rjust(width) if col in right else piece.ljust(width))
            out.append("  ".join(parts).rstrip())
        return out

    out = lines(headers)
    out.append("  ".join("-" * width for width in widths))
    for i, row in enumerate(rows):
        if i and gap:
            out.append("")
        out += lines(row)
        after = lines_after[i] if i < len(lines_after) else None
        if after:
            out.append(f"  {after}")
        link = links[i] if i < len(links) else None
        if link:
            out.append(f"  {link}")
    return out


def render(settings: Settings, recipient: Recipient, current: Snapshot, previous: Snapshot, *,
           language: str | None = None, folder: Folders | None = None,
           people: dict | None = None) -> Digest:
    """The digest of one recipient from two snapshots (``current`` at ``now``,
    ``previous`` a week before), rendered from the templates in ``folder`` (default: the
    admins' folder, then the shipped one: :func:`search_path`). ``people``: who the
    contacts are (:func:`assistant.services.people.names`), shown above their address."""
    from assistant.wording import period_name

    language = language or settings.digest.language
    folder = search_path(settings) if folder is None else _folders(folder)
    t = load_strings(language, folder)
    f = _Format(settings, t, language)
    now = current.at
    rules_tz, country = settings.team.timezone, settings.protocol.holidays_country
    today = local_date(now, rules_tz)

    def late(moment: datetime) -> int:
        return business_days_between(local_date(moment, rules_tz), today, country)

    def contact_name(address: str | None) -> str | None:
        found = (people or {}).get((address or "").lower())
        return found.name if found and found.name else None

    def thread(r: ThreadReport, **values) -> dict:
        return {"id": r.quote_message_id, "subject": r.subject or "—", "contact": r.contact or "—",
                "contact_name": contact_name(r.contact),
                "owner": f.name(r.owner), "url": thread_url(settings, r.quote_message_id), **values}

    reports = current.reports
    silent = sorted((r for r in reports if r.status == "silent" and r.next_step),
                    key=lambda r: (r.next_step.due_at, r.quote_sent_at))
    overdue = [thread(r, step=f'{r.next_step.number}/{len(settings.protocol.steps)} '
                              f'{t["channel"].get(r.next_step.channel, r.next_step.channel)}',
                      due=f.date(r.next_step.due_at), late=late(r.next_step.due_at), why=f.why(r))
               for r in silent]
    unclear = [thread(r, candidates=", ".join(f.name(c) for c in r.owner_candidates) or t["none"])
               for r in reports if r.scenario == "unclear" and r.status in OPEN_STATUSES]
    waiting = [thread(r, since=f.date(r.last_reply_at), days=late(r.last_reply_at))
               for r in sorted((r for r in reports if r.status == "awaiting_us"),
                               key=lambda r: r.last_reply_at)]
    promised = [thread(r, why=f.why(r), due=f.date(r.next_step.due_at))
                for r in sorted((r for r in reports if (r.promised_date or r.snoozed_until)
                                 and r.next_step
                                 and r.status in ("waiting", "silent")),
                                key=lambda r: r.next_step.due_at)]
    week, quarter = current.week.team, current.quarter.team
    before = previous.week.team
    holds_note = t["duplicate_holds_note"] if current.holds_missing else ""

    def waits(m: M.Metrics) -> str:
        return (say("digest_max", language, n=len(m.waiting_on_us), days=m.oldest_wait_days)
                if m.waiting_on_us else "0")

    # Each metric: how it reads (shown) and the number compared week to week, which way
    # is good ("up" or "down"), and a note.
    measures = [
        ("quotes_sent", lambda m: m.quotes_sent, str, "up", ""),
        ("debt", lambda m: len(m.debt), str, "down", ""),
        ("debt_days", lambda m: m.debt_days, str, "down", ""),
        ("waiting_on_us", lambda m: len(m.waiting_on_us), None, "down", ""),
        ("abandoned", lambda m: m.abandoned.value, None, "down", t["abandoned_benchmark"]),
        ("reached_five", lambda m: m.reached_five.value, None, "up", t["reached_five_benchmark"]),
        ("first_followup", lambda m: m.first_followup_days, f.number, "down", ""),
        ("not_followed_up", lambda m: m.not_followed_up, str, "down", ""),
        ("duplicate_holds", lambda m: m.duplicate_holds, str, "down", holds_note),
        ("bounces", lambda m: m.bounces, str, "down", ""),
    ]
    shown = {"waiting_on_us": waits, "abandoned": lambda m: f.share(m.abandoned),
             "reached_five": lambda m: f.share(m.reached_five)}
    numbers = []
    for key, value, show, good, note in measures:
        show_of = shown.get(key) or (lambda m, value=value, show=show: show(value(m)))
        change = _trend(key, t[key],
                        value(week), value(before), up_is_good=good == "up")
        numbers.append({"key": key, "label": t[key], "note": note, "week": show_of(week),
                        "previous": show_of(before), "quarter": show_of(quarter),
                        "arrow": change["arrow"], "color": change["color"]})
    tz = settings.team.timezone
    week_window = current.week_window or windows(now, tz)[0]
    quarter_window = current.quarter_window or windows(now, tz)[1]
    before_window = previous.week_window or windows(previous.at, tz)[0]
    periods = {
        "week": period_name(week_window.first_day(tz), week_window.last_day(tz), language),
        "previous": period_name(before_window.first_day(tz), before_window.last_day(tz), language),
        "quarter": period_name(quarter_window.first_day(tz), quarter_window.last_day(tz), language,
                               days=QUARTER_DAYS),
        "week_short": period_name(week_window.first_day(tz), week_window.last_day(tz), language,
                                  short=True),
        "previous_short": period_name(before_window.first_day(tz), before_window.last_day(tz),
                                      language, short=True),
    }
    total = max(quarter.quotes_sent, 1)
    status_bars = [{"key": s, "label": t["status"][s], "value": quarter.by_status[s],
                    "pct": round(100 * quarter.by_status[s] / total), "color": STATUS_COLORS[s]}
                   for s in ("silent", "awaiting_us", "waiting", "bounced", "exhausted", "closed")]
    scenario_bars = [{"key": s, "label": t["scenario"][s], "value": quarter.scenarios.get(s, 0),
                      "pct": round(100 * quarter.scenarios.get(s, 0) / total),
                      "color": SCENARIO_COLORS[s]} for s in M.SCENARIOS]
    reply_bars = [{"key": str(n),
                   "label": t["touch_0"] if n == 0 else
                   f'{t["touch_n"]} {n}{"+" if n == M.REPLY_RATE_MAX_TOUCH else ""}',
                   "value": f.share(share), "pct": round(100 * (share.value or 0)),
                   "color": "#2e90fa"}
                  for n, share in quarter.reply_rate.items()]
    owners = []
    for owner, m in sorted(current.quarter.by_owner.items(),
                           key=lambda item: (item[0] is None, f.name(item[0]))):
        owners.append({"email": owner or "", "name": f.name(owner), "quotes": m.quotes_sent,
                       "silent": m.by_status["silent"], "waiting": len(m.waiting_on_us),
                       "debt_days": m.debt_days, "abandoned": f.share(m.abandoned)})
    trend = [{"key": row["key"], "label": row["label"], "now": row["week"],
              "before": row["previous"], "arrow": row["arrow"], "color": row["color"]}
             for row in numbers]  # kept for admins' own templates written before v2
    scope = t["company_wide"] if recipient.scope is None else f'{t["team_of"]} {recipient.name}'
    local_now = now.astimezone(f.zone)
    values = dict(overdue=len(overdue), waiting=len(waiting), unclear=len(unclear),
                  date=f.date(now), scope=scope)
    strings = f"strings.{language}.toml"
    subject = " ".join(_render(folder, values, label=f"{strings}: subject", text=t["subject"]).split())
    shown_overdue = overdue[:MAX_ROWS]

    def who(r: dict) -> str:  # the contact's name; the address goes on a line of its own
        return r["contact_name"] or ""

    def addresses(rows: list[dict]) -> list[str]:
        return [r["contact"] for r in rows]

    def under(subject: str, r: dict) -> str:
        return subject + (f'\n{who(r)}' if who(r) else "")

    text_tables = {
        "overdue": text_table(
            [t["subject_col"], t["owner_col"], t["step_col"], t["due_col"], t["late_short"]],
            [[under(r["subject"], r) + (f'\n({r["why"]})' if r["why"] else ""),
              r["owner"], r["step"], r["due"], str(r["late"])]
             for r in shown_overdue], (30, 13, 11, 10, 6), right=(4,),
            links=[r["url"] for r in shown_overdue], lines_after=addresses(shown_overdue)),
        "unclear": text_table(
            [t["subject_col"], t["contact_col"], t["candidates_col"]],
            [[r["subject"], who(r) or "—", r["candidates"]] for r in unclear], (30, 22, 22),
            links=[r["url"] for r in unclear], lines_after=addresses(unclear)),
        "waiting": text_table(
            [t["subject_col"], t["owner_col"], t["since_col"], t["late_short"]],
            [[under(r["subject"], r), r["owner"], r["since"], str(r["days"])]
             for r in waiting], (34, 16, 14, 6), right=(3,), links=[r["url"] for r in waiting],
            lines_after=addresses(waiting)),
        "promised": text_table(
            [t["subject_col"], t["owner_col"], t["promised_col"], t["next_col"]],
            [[under(r["subject"], r), r["owner"], r["why"], r["due"]] for r in promised],
            (30, 14, 18, 12), links=[r["url"] for r in promised], lines_after=addresses(promised)),
        "numbers": text_table(
            ["", periods["week_short"], periods["previous_short"], ""],
            [[r["label"], r["week"], r["previous"], r["arrow"]] for r in numbers],
            (36, 16, 16, 2), right=(1, 2), gap=False),
    }
    context = dict(
        t=t, language=language, subject=subject, company=settings.company.name, scope=scope,
        recipient_name=recipient.name.split()[0] if recipient.name else recipient.email,
        period=periods["week"], periods=periods, links=settings.web.base_url is not None,
        overdue=shown_overdue, overdue_total=len(overdue),
        overdue_more=max(len(overdue) - MAX_ROWS, 0),
        overdue_more_text=_render(folder, {"n": max(len(overdue) - MAX_ROWS, 0)},
                                  label=f"{strings}: and_more", text=t["and_more"]),
        unclear=unclear, waiting=waiting, promised=promised, numbers=numbers, status_bars=status_bars,
        scenario_bars=scenario_bars, reply_bars=reply_bars, owners=owners, trend=trend,
        text_tables=text_tables,
        footer=_render(folder, {"time": f"{day_time(local_now, language)} {local_now.year}",
                                "timezone": settings.team.timezone},
                       label=f"{strings}: footer", text=t["footer"]),
    )
    html = _render(folder, context, label="digest.html.j2", name="digest.html.j2")
    plain = _render(folder, context, label="digest.txt.j2", name="digest.txt.j2")
    return Digest(recipient, language, subject, html, plain, current, previous)


def _trend(key: str, label: str, now: float | int | None, before: float | int | None, *,
           up_is_good: bool = False, show=str) -> dict:
    if now is None or before is None or now == before:
        arrow, color = "=", "#52606d"
    else:
        up = now > before
        arrow = "▲" if up else "▼"
        color = "#027a48" if up == up_is_good else "#b42318"
    return {"key": key, "label": label, "now": show(now) if now is not None else "—",
            "before": show(before) if before is not None else "—", "arrow": arrow,
            "color": color}


def contact_names(settings: Settings, engine: Engine, reports) -> dict:
    """Who the contacts of these threads are (``render``'s ``people``)."""
    from assistant.services import people

    return people.names(settings, engine, {r.contact for r in reports},
                        {r.quote_message_id for r in reports})


def build_digests(settings: Settings, engine: Engine, now: datetime, *,
                  manager: str | None = None, folder: Folders | None = None) -> list[Digest]:
    """Every recipient's digest at ``now`` (or only ``manager``'s)."""
    from assistant.services.rules import rules_from_settings

    chosen = recipients(settings)
    if manager is not None:
        chosen = [r for r in chosen if r.email == manager.strip().lower()]
        if not chosen:
            names = ", ".join(r.email for r in recipients(settings)) or "—"
            raise DigestError("digest.err.not_a_recipient", manager=manager, names=names)
    if not chosen:
        raise DigestError("digest.err.nobody")
    rules = rules_from_settings(settings)
    current = stored_moment(engine, rules, now)
    before = now - timedelta(days=7)
    previous = past_moment(engine, rules, before, since=windows(before, rules.timezone)[1].start)
    holds = load_holds(engine)
    chosen_languages = reader_languages(engine)
    named = contact_names(settings, engine, current.reports)
    return [render(settings, recipient, scoped(current, rules, recipient.scope, holds),
                   scoped(previous, rules, recipient.scope, holds), folder=folder,
                   language=chosen_languages.get(recipient.email), people=named)
            for recipient in chosen]


def reader_languages(engine: Engine) -> dict[str, str]:
    """Each manager's language: the one they chose in the web app (a manager who never
    chose one reads ``digest.language``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.storage import users

    try:
        return users.languages(engine)
    except SQLAlchemyError:  # a database before the web's users: everyone reads digest.language
        return {}


def output_files(out: str, digests: list[Digest]) -> list[tuple[Path, Digest]]:
    """Where ``digest --out FILE`` writes: FILE itself for one digest, else one file per
    recipient, named after the local part of their address (``digest-marta.html``)."""
    path = Path(out)
    if len(digests) == 1:
        return [(path, digests[0])]
    return [(path.with_name(f"{path.stem}-{d.recipient.email.split('@')[0]}{path.suffix}"), d)
            for d in digests]


def file_text(settings: Settings, digest: Digest, path: Path, *, now: datetime) -> str:
    """The HTML part for ``.html`` (and any other suffix), the plain text for ``.txt``,
    the whole message for ``.eml``."""
    if path.suffix == ".txt":
        return digest.text
    if path.suffix == ".eml":
        return to_message(settings, digest, now=now).as_string()
    return digest.html


# --- The message and its sending -------------------------------------------------------

def default_sender(settings: Settings) -> str:
    return settings.digest.sender or f"followup@{settings.company.domains[0]}"


def to_message(settings: Settings, digest: Digest, *, now: datetime | None = None) -> EmailMessage:
    """A multipart/alternative message: the plain-text part, then the HTML part."""
    return compose(settings, (digest.recipient.name, digest.recipient.email), digest.subject,
                   digest.language, digest.text, digest.html, now=now)


def compose(settings: Settings, to: tuple[str, str], subject: str, language: str, text: str,
            html: str, *, now: datetime | None = None) -> EmailMessage:
    """One of Followup's own emails (the digest, a morning list): from
    :func:`default_sender`, marked auto-generated, text then HTML."""
    message = EmailMessage()
    message["From"] = formataddr((f"Followup · {settings.company.name}", default_sender(settings)))
    message["To"] = formataddr(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=default_sender(settings).rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the parts: set_content drops Content-*
    return message


class DigestSender(Protocol):
    """Where digests go out: :class:`SmtpSender` or :class:`AccountSender`."""

    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    """Sends through ``[digest.smtp]``: STARTTLS (verified), implicit TLS, or plain SMTP
    on a loopback host. The password comes from the ``password_env`` variable."""

    def __init__(self, smtp: Smtp, *, environ: Mapping[str, str] = os.environ,
                 timeout: float = 30.0, tls_context: ssl.SSLContext | None = None) -> None:
        self.smtp, self.environ, self.timeout = smtp, environ, timeout
        self.tls_context = tls_context

    def send(self, message: EmailMessage) -> None:
        smtp = self.smtp
        context = self.tls_context or ssl.create_default_context()
        password = None
        if smtp.username:
            password = self.environ.get(smtp.password_env or "")
            if not password:
                raise NotSent("digest.err.smtp_password", variable=smtp.password_env)
        handing_over = False
        try:
            if smtp.security == "ssl":
                client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=self.timeout,
                                          context=context)
            else:
                client = smtplib.SMTP(smtp.host, smtp.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if smtp.security == "starttls":
                    client.starttls(context=context)
                    client.ehlo()
                if smtp.username:
                    client.login(smtp.username, password)
                handing_over = True
                client.send_message(message)
        except REFUSED as exc:  # the server answered no: the message did not go
            raise NotSent(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            kind = DigestError if handing_over else NotSent  # lost mid-way: it may have gone
            raise kind(f"SMTP {smtp.host}:{smtp.port}: {exc}") from exc


class AccountSender:
    """Sends through a connected Gmail or Microsoft 365 account (``digest.send_with``):
    the connector's ``send_message`` (Gmail ``messages.send``, Graph ``sendMail`` in MIME
    form) takes the message's bytes; the copy lands in that mailbox's Sent folder.
    ``open_connector(account)`` is :func:`assistant.services.sync.open_connector_for`."""

    def __init__(self, account, *, open_connector: Callable | None = None) -> None:
        self.account = account
        self.open_connector = open_connector

    def send(self, message: EmailMessage) -> None:
        from assistant.services.sync import open_connector_for
        from connectors.base import ConnectorError

        connector = (self.open_connector or open_connector_for)(self.account)
        try:
            send_message = getattr(connector, "send_message", None)
            if send_message is None:
                raise NotSent("digest.err.cannot_send", account=self.account.name,
                              kind=self.account.kind)
            send_message(message.as_bytes(policy=SMTP_POLICY))
        except ConnectorError as exc:
            raise DigestError("digest.err.account", account=self.account.name,
                              error=str(exc)) from exc
        finally:
            connector.close()


def can_send(settings: Settings) -> bool:
    """Whether the settings give the digest a way out: an account to send with, or a
    ``[digest.smtp]`` section (``init``'s starter settings have neither)."""
    return settings.digest.send_with != "smtp" or settings.digest.smtp is not None


def sender_for(settings: Settings) -> DigestSender:
    if settings.digest.send_with != "smtp":
        account = settings.account(settings.digest.send_with)
        if account is None:  # load_settings checks it; a hand-built Settings may not
            raise DigestError("digest.err.send_with", name=settings.digest.send_with)
        return AccountSender(account)
    if settings.digest.smtp is not None:
        return SmtpSender(settings.digest.smtp)
    raise DigestError("digest.err.no_sender", file=str(settings.path))


@dataclass(frozen=True)
class SendResult:
    recipient: str
    status: str
    """sent | skipped (already sent for this period) | failed."""
    error: str | None = None
    cause: BaseException | None = field(default=None, compare=False, repr=False)
    """The error itself (:func:`assistant.wording.words_of` words it for its reader)."""


def send_digests(settings: Settings, engine: Engine, now: datetime, sender: DigestSender, *,
                 period: str | None = None, manager: str | None = None,
                 holder: str | None = None, folder: Folders | None = None) -> list[SendResult]:
    """Build and send every recipient's digest. With a ``period`` (the scheduler's slot),
    each recipient's digest for it is sent once, whatever the number of workers or reruns
    (a failed one is retried by the next run); without, each call sends (and logs) anew.
    A recipient whose sending fails is logged and the others go on."""
    period = period or f"manual:{now.astimezone(timezone.utc).isoformat()}"
    results = []
    for digest in build_digests(settings, engine, now, manager=manager, folder=folder):
        email = digest.recipient.email
        if not _claim_digest(engine, email, period, digest, holder, now):
            results.append(SendResult(email, "skipped"))
            continue
        try:
            sender.send(to_message(settings, digest, now=now))
        except Exception as exc:  # noqa: BLE001 - one recipient's failure never stops the others
            log.error("digest for %s: %s", email, exc)
            _finish_digest(engine, email, period, "failed", now, str(exc))
            results.append(SendResult(email, "failed", str(exc), exc))
            continue
        _finish_digest(engine, email, period, "sent", now, None)
        results.append(SendResult(email, "sent"))
    return results


def _claim_digest(engine: Engine, manager: str, period: str, digest: Digest,
                  holder: str | None, now: datetime) -> bool:
    from assistant.storage import claims

    table = models.DigestRecord
    return claims.claim_send(engine, claims.DIGEST_SEND,
                             dict(manager=manager, period=period, language=digest.language,
                                  subject=digest.subject),
                             (table.manager == manager) & (table.period == period), holder, now)


def _finish_digest(engine: Engine, manager: str, period: str, status: str, now: datetime,
                   error: str | None) -> None:
    from assistant.storage import claims

    table = models.DigestRecord
    claims.finish_send(engine, claims.DIGEST_SEND,
                       (table.manager == manager) & (table.period == period), status, now, error)


def digest_log(engine: Engine) -> list[tuple[str, str, str]]:
    """``(manager, period, status)`` of every digest recorded, oldest first."""
    with engine.connect() as conn:
        return repo.digest_records(conn)
