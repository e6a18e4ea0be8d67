"""assistant.domain.metrics on hand-built threads whose answers are worked out by hand.

Calendar: team in Mexico City, MX holidays (Mon 16 Nov 2026 is Revolution Day), protocol
steps after 2, 3, 4, 5, 7 business days. ``NOW`` is Thu 26 Nov 2026 16:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from assistant.domain.analysis import scan
from assistant.domain.metrics import Share, Window, compute, touch_numbers, thread_events
from assistant.domain.model import LoggedTouch, Mail
from tests.builders import local, team_rules

RULES = team_rules()
NOW = local(2026, 11, 26, 16)


class Book:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    def mail(self, mid: str, at: datetime, frm: str, to: str, subject: str, *,
             reply_to: str | None = None, kind: str = "message", text: str = "Hola.",
             original: str | None = None) -> str:
        self.mails.append(Mail(
            key=len(self.mails) + 1, message_id=mid, date=at, from_addr=frm, to=(to,),
            subject=subject, in_reply_to=reply_to, references=(reply_to,) if reply_to else (),
            kind=kind, text=text, original_message_id=original))
        return mid

    def thread(self, name: str, owner: str, contact: str, quoted: datetime,
               followups: list[datetime] = (), by: str | None = None) -> str:
        subject = f"Cotización {name}"
        last = quote = self.mail(f"<{name}@acme.example>", quoted, owner, contact, subject)
        for n, at in enumerate(followups, start=1):
            last = self.mail(f"<{name}.f{n}@acme.example>", at, by or owner, contact,
                             "Re: " + subject, reply_to=last)
        return quote


def build():
    book = Book()
    ana, luis, marta = "ana@acme.example", "luis@acme.example", "marta@acme.example"
    ids = {
        # silent since the quote: step 1 due Wed 4 Nov, 15 business days late (16 Nov off)
        "A": book.thread("A", ana, "a@uno.example", local(2026, 11, 2)),
        # this week's quote: step 1 due Wed 25 Nov, 1 business day late
        "B": book.thread("B", luis, "b@dos.example", local(2026, 11, 23)),
        # five unanswered follow-ups: exhausted; first follow-up 4 business days after
        "C": book.thread("C", ana, "c@tres.example", local(2026, 11, 3),
                         [local(2026, 11, d) for d in (9, 10, 11, 12, 13)]),
        "D": book.thread("D", luis, "d@cuatro.example", local(2026, 11, 4)),
        # the manager quotes, follows up 2 business days later, the client declines
        "E": book.thread("E", marta, "e@cinco.example", local(2026, 11, 5), [local(2026, 11, 9)]),
        "F": book.thread("F", ana, "f@seis.example", local(2026, 11, 6)),
        # Ana quotes, Luis follows up (two senders: unclear); step 2 due Tue 17 Nov, 7 late
        "G": book.thread("G", ana, "g@siete.example", local(2026, 11, 9), [local(2026, 11, 11)],
                         by=luis),
        "I": book.thread("I", luis, "i@nueve.example", local(2026, 11, 10)),
        # quoted in July: outside the 90-day window
        "H": book.thread("H", ana, "h@ocho.example", local(2026, 7, 1)),
    }
    # D: the client asks a question the next day: awaiting us for 14 business days
    book.mail("<d.r@cuatro.example>", local(2026, 11, 5, 12), "d@cuatro.example", ana,
              "Re: Cotización D", reply_to=ids["D"], text="¿Incluye flete?")
    book.mail("<e.r@cinco.example>", local(2026, 11, 10, 12), "e@cinco.example", marta,
              "Re: Cotización E", reply_to="<E.f1@acme.example>", text="No nos interesa, gracias.")
    book.mail("<f.dsn@mx.acme.example>", local(2026, 11, 6, 10, 5), "MAILER-DAEMON@mx.acme.example",
              ana, "Undelivered Mail Returned to Sender", kind="bounce", reply_to=ids["F"],
              original=ids["F"])
    # I: a logged call Tue 17 Nov (4 business days after the quote), answered Wed 18 Nov
    book.mail("<i.r@nueve.example>", local(2026, 11, 18, 12), "i@nueve.example", luis,
              "Re: Cotización I", reply_to=ids["I"], text="Sí, envíen la orden.")
    touches = [LoggedTouch(ids["I"], "phone", local(2026, 11, 17, 11), luis)]
    return book.mails, touches, ids


@pytest.fixture(scope="module")
def world():
    mails, touches, ids = build()
    reports = scan(mails, RULES, NOW, touches=touches)
    holds = [ids["G"], ids["G"], ids["H"]]
    quarter = compute(reports, RULES, NOW, Window.ending(NOW, 90), mails=mails, touches=touches,
                      holds=holds)
    week = compute(reports, RULES, NOW, Window.ending(NOW, 7), mails=mails, touches=touches,
                   holds=holds)
    return {"reports": {r.quote_message_id: r for r in reports}, "ids": ids,
            "quarter": quarter, "week": week, "mails": mails, "touches": touches}


def test_the_hand_built_threads_have_the_statuses_the_metrics_assume(world):
    status = {name: world["reports"][mid].status for name, mid in world["ids"].items()}
    assert status == {"A": "silent", "B": "silent", "C": "exhausted", "D": "awaiting_us",
                      "E": "closed", "F": "bounced", "G": "silent", "I": "awaiting_us",
                      "H": "silent"}


def test_quotes_sent_counts_the_quotes_of_the_window(world):
    assert world["quarter"].team.quotes_sent == 8  # H was quoted in July
    assert world["week"].team.quotes_sent == 1  # only B since Thu 19 Nov 16:00
    owners = world["quarter"].by_owner
    assert {o: m.quotes_sent for o, m in owners.items()} == {
        "ana@acme.example": 4, "luis@acme.example": 3, "marta@acme.example": 1}


def test_threads_by_status(world):
    assert world["quarter"].team.by_status == {"closed": 1, "bounced": 1, "awaiting_us": 2,
                                               "exhausted": 1, "silent": 3, "waiting": 0}
    assert world["week"].team.by_status["silent"] == 1


def test_clients_waiting_on_us_oldest_first_with_business_days(world):
    ids = world["ids"]
    waiting = world["quarter"].team.waiting_on_us
    assert [(w.quote_message_id, w.business_days) for w in waiting] == [(ids["D"], 14), (ids["I"], 6)]
    assert world["quarter"].team.oldest_wait_days == 14


def test_follow_up_debt_counts_overdue_steps_and_business_days_late(world):
    ids = world["ids"]
    debt = world["quarter"].team.debt
    assert [(o.quote_message_id, o.step, o.business_days) for o in debt] == [
        (ids["A"], 1, 15), (ids["G"], 2, 7), (ids["B"], 1, 1)]
    assert world["quarter"].team.debt_days == 23
    assert world["quarter"].by_owner["luis@acme.example"].debt_days == 1


def test_abandoned_after_at_most_one_follow_up(world):
    # stalled (>= 5 business days late): A (0 touches) and G (1 touch); judged: + C exhausted
    assert world["quarter"].team.abandoned == Share(2, 3)
    assert world["quarter"].by_owner["ana@acme.example"].abandoned == Share(2, 3)
    assert world["week"].team.abandoned.value is None  # B is only 1 business day late


def test_reached_five_follow_ups_before_closing(world):
    # finished: C (5 follow-ups) and E (1 follow-up before the decline)
    assert world["quarter"].team.reached_five == Share(1, 2)


def test_reply_rate_by_touch_number(world):
    rate = world["quarter"].team.reply_rate
    assert rate[0] == Share(1, 8)  # only D's client answered the quote itself (a bounce is no answer)
    assert rate[1] == Share(2, 4)  # E answered the e-mail follow-up, I the logged call
    assert [rate[n] for n in (2, 3, 4, 5)] == [Share(0, 1)] * 4


def test_median_business_days_from_quote_to_first_follow_up(world):
    # C 4, E 2, G 2, I 4 (the logged call); D's client wrote first: not counted
    assert world["quarter"].team.first_followup_days == 3
    assert world["quarter"].by_owner["marta@acme.example"].first_followup_days == 2
    assert world["week"].team.first_followup_days is None


def test_not_followed_up_scenario_mix_holds_and_bounces(world):
    team = world["quarter"].team
    assert team.not_followed_up == 2  # A and B
    assert team.scenarios == {"rep": 4, "manager": 1, "nobody": 2, "unclear": 1}
    assert team.duplicate_holds == 2  # H's hold is outside the window
    assert team.bounces == 1


def test_touch_numbers_restart_after_a_real_reply(world):
    mails = {m.key: m for m in world["mails"]}
    from assistant.domain.analysis import Facts

    report = world["reports"][world["ids"]["E"]]
    numbers = [(n, answered) for _, n, answered in
               touch_numbers(thread_events(report, mails, (), Facts(RULES)))]
    assert numbers == [(0, False), (1, True)]


def test_metrics_follow_the_clock_not_the_wall():
    mails, touches, ids = build()
    later = NOW + timedelta(days=7)
    reports = scan(mails, RULES, later, touches=touches)
    team = compute(reports, RULES, later, Window.ending(later, 90), mails=mails,
                   touches=touches).team
    # a week on: B is 6 business days late (stalled, abandoned), D waits 19 business days
    assert team.abandoned == Share(3, 4)
    assert team.oldest_wait_days == 19
