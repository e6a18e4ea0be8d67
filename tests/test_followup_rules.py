"""The follow-up planning rules (assistant.domain.followups): assignee routing per
responsible_role, the duplicate-contact guard, which steps are due, and the stop rules —
the last on threads read through the real parser, classifier and scan."""

from __future__ import annotations

from datetime import timedelta

from assistant.domain.analysis import analyze_thread
from assistant.wording import hold_reason, settlement_reason
from assistant.domain.followups import (
    Contacted, choose_assignee, due_steps, followup_key, recent_other_contact, settle,
)
from assistant.domain.model import LoggedTouch, ThreadMark
from tests.builders import MX, Thread, dsn_bounce, local, raw_message, team_rules

RULES = team_rules()
ANA, CLIENT = "Ana Pérez <ana@acme.example>", "Diego Ruiz <diego@cliente.example>"
MEMBERS = {"marta@acme.example": "manager", "ana@acme.example": "account_executive",
           "luis@acme.example": "account_executive", "sofia@acme.example": "sdr",
           "pablo@acme.example": "sdr", "carla@acme.example": "customer_success",
           "nora@acme.example": "account_executive"}
MANAGERS = {"marta@acme.example": None, "ana@acme.example": "marta@acme.example",
            "luis@acme.example": "marta@acme.example", "sofia@acme.example": "marta@acme.example",
            "pablo@acme.example": "jorge@acme.example", "carla@acme.example": "marta@acme.example",
            "nora@acme.example": "jorge@acme.example"}


# --- Assignee ------------------------------------------------------------------------

def test_assignee_is_the_owner_when_follow_ups_belong_to_owners():
    a = choose_assignee("luis@acme.example", "owner", MEMBERS, MANAGERS)
    assert (a.assignee, a.via) == ("luis@acme.example", "owner")


def test_thread_without_owner_goes_round_robin_to_account_executives():
    picks = [choose_assignee(None, "owner", MEMBERS, MANAGERS, turn=t).assignee for t in range(4)]
    assert picks == ["ana@acme.example", "luis@acme.example", "nora@acme.example", "ana@acme.example"]
    assert choose_assignee(None, "owner", MEMBERS, MANAGERS).via == "round_robin"


def test_sdr_role_maps_the_owner_to_the_sdr_of_the_same_manager():
    a = choose_assignee("ana@acme.example", "sdr", MEMBERS, MANAGERS, turn=5)
    assert (a.assignee, a.via) == ("sofia@acme.example", "mapped")
    b = choose_assignee("nora@acme.example", "sdr", MEMBERS, MANAGERS)
    assert (b.assignee, b.via) == ("pablo@acme.example", "mapped")


def test_sdr_role_without_mapping_goes_round_robin_among_sdrs():
    members = {**MEMBERS, "zed@acme.example": "account_executive"}
    managers = {**MANAGERS, "zed@acme.example": None}
    picks = [choose_assignee("zed@acme.example", "sdr", members, managers, turn=t) for t in (0, 1)]
    assert [p.assignee for p in picks] == ["sofia@acme.example", "pablo@acme.example"]
    assert {p.via for p in picks} == {"round_robin"}


def test_customer_success_role_and_an_owner_who_has_the_role():
    a = choose_assignee("luis@acme.example", "customer_success", MEMBERS, MANAGERS)
    assert a.assignee == "carla@acme.example"
    own = choose_assignee("carla@acme.example", "customer_success", MEMBERS, MANAGERS)
    assert (own.assignee, own.via) == ("carla@acme.example", "owner")
    assert choose_assignee("sofia@acme.example", "sdr", MEMBERS, MANAGERS).assignee == "sofia@acme.example"


def test_previous_assignee_keeps_the_thread_so_the_client_hears_one_voice():
    a = choose_assignee(None, "owner", MEMBERS, MANAGERS, previous="nora@acme.example", turn=0)
    assert a.assignee == "nora@acme.example"
    b = choose_assignee("ana@acme.example", "sdr", MEMBERS, MANAGERS, previous="pablo@acme.example")
    assert b.assignee == "pablo@acme.example"


# --- Duplicate-contact guard ---------------------------------------------------------

NOW = local(2026, 11, 12, 16)


def contacted(days_ago: float, sender="luis@acme.example", to=("diego@cliente.example",), name="Luis Herrera"):
    return Contacted(NOW - timedelta(days=days_ago), sender, name, tuple(to))


def test_hold_when_a_colleague_wrote_to_the_same_contact_within_quiet_days():
    reason = recent_other_contact("diego@cliente.example", "ana@acme.example",
                                  [contacted(3.5), contacted(2.9)], NOW, 3, timezone="America/Mexico_City")
    assert (reason.code, hold_reason(reason)) == (
        "hold.other_contact", "Luis Herrera wrote to diego@cliente.example on 9 Nov")


def test_hold_reason_is_in_the_threads_language():
    reason = recent_other_contact("diego@cliente.example", "ana@acme.example", [contacted(2.9)],
                                  NOW, 3, timezone="America/Mexico_City")
    assert hold_reason(reason, "es") == "Luis Herrera escribió a diego@cliente.example el 9 nov"


def test_hold_when_a_colleague_wrote_to_the_same_client_domain():
    reason = recent_other_contact("diego@cliente.example", "ana@acme.example",
                                  [contacted(1, to=("compras@cliente.example",))], NOW, 3,
                                  timezone="America/Mexico_City")
    assert hold_reason(reason) == "Luis Herrera wrote to compras@cliente.example on 11 Nov"


def test_no_hold_for_own_messages_old_messages_public_domains_or_quiet_days_zero():
    assert recent_other_contact("diego@cliente.example", "luis@acme.example",
                                [contacted(1)], NOW, 3) is None
    assert recent_other_contact("diego@cliente.example", "ana@acme.example",
                                [contacted(3.2)], NOW, 3) is None
    assert recent_other_contact("diego@gmail.com", "ana@acme.example",
                                [contacted(1, to=("otra.persona@gmail.com",))], NOW, 3) is None
    assert recent_other_contact("diego@cliente.example", "ana@acme.example",
                                [contacted(1)], NOW, 0) is None


# --- Due steps and stop rules on real threads ----------------------------------------

def quote(thread: Thread, day: int = 3) -> None:
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="Cotización 1042", date=local(2026, 11, day, 10),
                           mid="<q1@acme.example>", attachment="CN-1042.pdf"))


def reply(thread: Thread, when, body="Gracias, ¿incluye el envío?", **kw):
    thread.add(raw_message(frm=kw.pop("frm", CLIENT), to=ANA, subject=kw.pop("subject", "RE: Cotización 1042"),
                           date=when, mid=f"<r{len(thread.raw)}@cliente.example>",
                           in_reply_to="<q1@acme.example>", references=["<q1@acme.example>"],
                           body=body, **kw))


def report_of(thread: Thread, now, **kw):
    report = analyze_thread(thread.mails, RULES, now, **kw)
    assert report is not None
    return report


def test_due_steps_once_per_thread_and_step():
    thread = Thread()
    quote(thread)
    report = report_of(thread, NOW)
    assert report.status == "silent"
    due = due_steps([report], set(), NOW)
    assert [(d.step, d.channel, d.template) for d in due] == [(1, "email", "followup_1")]
    assert due[0].key == followup_key("<q1@acme.example>", 1)
    assert due_steps([report], {due[0].key}, NOW) == []
    assert due_steps([report_of(thread, local(2026, 11, 4, 16))], set(), local(2026, 11, 4, 16)) == []


def test_real_reply_cancels_pending_follow_ups():
    thread = Thread()
    quote(thread)
    reply(thread, local(2026, 11, 12, 11))
    outcome = settle("drafted", 1, report_of(thread, NOW))
    assert outcome.status == "cancelled" and settlement_reason(outcome) == "the client replied on 12 Nov"


def test_decline_cancels_with_the_phrase():
    thread = Thread()
    quote(thread)
    reply(thread, local(2026, 11, 12, 11), body="Gracias, pero por ahora no nos interesa.")
    outcome = settle("held", 1, report_of(thread, NOW))
    assert outcome.status == "cancelled"
    assert settlement_reason(outcome) == 'thread closed: reply says "no nos interesa"'
    assert dict(outcome.values) == {"closed_code": "declined", "closed_value": "no nos interesa"}


def test_bounce_cancels_and_names_the_address():
    thread = Thread()
    quote(thread)
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 10, 1), mid="<b1@mx>",
                          original_mid="<q1@acme.example>", failed="diego@cliente.example",
                          original_subject="Cotización 1042"))
    outcome = settle("approved", 1, report_of(thread, NOW))
    assert outcome.status == "cancelled"
    assert settlement_reason(outcome) == "bounced: diego@cliente.example (fix the address)"


def test_manual_won_or_lost_cancels():
    thread = Thread()
    quote(thread)
    for outcome_name in ("won", "lost"):
        mark = ThreadMark("<q1@acme.example>", outcome=outcome_name)
        outcome = settle("drafted", 1, report_of(thread, NOW, mark=mark))
        assert (outcome.status, settlement_reason(outcome)) == ("cancelled", f"thread closed: marked {outcome_name}")


def test_out_of_office_does_not_cancel():
    thread = Thread()
    quote(thread)
    reply(thread, local(2026, 11, 3, 10, 5), subject="Respuesta automática: Cotización 1042",
          body="Estoy fuera de la oficina hasta el lunes.", headers={"Auto-Submitted": "auto-replied"})
    report = report_of(thread, NOW)
    assert report.status == "silent"
    assert settle("drafted", 1, report) is None


def test_step_taken_by_mail_or_logged_touch_is_done_and_finished_states_stay():
    thread = Thread()
    quote(thread)
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="Re: Cotización 1042", date=local(2026, 11, 6, 9),
                           mid="<f1@acme.example>", in_reply_to="<q1@acme.example>", body="¿Pudiste verla?"))
    report = report_of(thread, NOW)
    assert settle("drafted", 1, report).status == "done"
    assert settle("drafted", 2, report) is None
    touched = report_of(thread, NOW, touches=[LoggedTouch("<q1@acme.example>", "phone",
                                                          local(2026, 11, 12, 12, 0))])
    assert settle("drafted", 2, touched).status == "done"
    for final in ("done", "skipped", "cancelled"):
        assert settle(final, 1, report) is None
    assert local(2026, 11, 12).tzinfo is MX


def asked_and_answered(thread: Thread, day: int) -> None:
    """The client asks on ``day`` of November at 11:00; Ana answers at 12:00."""
    reply(thread, local(2026, 11, day, 11))
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="RE: Cotización 1042", date=local(2026, 11, day, 12),
                           mid="<a1@acme.example>", in_reply_to="<q1@acme.example>",
                           references=["<q1@acme.example>"], body="Sí, incluye el envío."))


def test_a_real_reply_starts_a_round_whose_step_1_is_a_follow_up_of_its_own():
    """Quote, step 1 planned; the client asks, we answer, then silence: step 1 is due
    again under the new round's key; the old round's pending follow-up is cancelled and a
    sent one done -- also when the reply was read after the follow-up was planned (a chat
    export, a delayed sync: planned after the reply's date, still the old round's)."""
    thread = Thread()
    quote(thread)
    before = report_of(thread, NOW)
    [old] = due_steps([before], set(), NOW)
    asked_and_answered(thread, 16)
    later = local(2026, 11, 30, 16)
    report = report_of(thread, later)
    assert report.status == "silent" and report.next_step.number == 1
    for planned_at in (NOW, local(2026, 11, 20, 9)):  # before the reply; after it, read late
        for status in ("drafted", "cancelled"):
            [new] = due_steps([report], {old.key: (planned_at, status, False)}, later)
            assert new.step == 1 and new.key != old.key
        assert settle("drafted", 1, report, old.key, planned_at).status == "cancelled"
        assert settle("sent", 1, report, old.key, planned_at).status == "done"
    assert due_steps([report], {old.key: (NOW, "cancelled", False), new.key: (later, "drafted", False)},
                     later) == []
    assert settle("drafted", 1, report, new.key, later) is None


def test_a_follow_up_planned_before_keys_named_rounds_counts_as_its_rounds():
    """Migration 0019's legacy follow-ups: a first-round key planned after the round's
    reply was that round's step under the old keys -- never planned twice; one planned
    before the reply, or cancelled (by the reply), is the old round's."""
    thread = Thread()
    quote(thread)
    [old] = due_steps([report_of(thread, NOW)], set(), NOW)
    asked_and_answered(thread, 13)
    later = local(2026, 11, 30, 16)
    report = report_of(thread, later)
    after_reply = local(2026, 11, 20, 9)
    assert due_steps([report], {old.key: (after_reply, "drafted", True)}, later) == []
    assert settle("drafted", 1, report, old.key, after_reply, legacy=True) is None
    assert due_steps([report], {old.key: (after_reply, "cancelled", True)}, later)
    assert due_steps([report], {old.key: (NOW, "drafted", True)}, later)
    assert settle("drafted", 1, report, old.key, NOW, legacy=True).status == "cancelled"
