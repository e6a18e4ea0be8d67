"""One test per rule of DESIGN.md ("Words", "Thread status", "Ownership", "Protocol
cadence"), each on its own hand-built messages read through the real parser and
classifier. Dates are in Mexico City; holidays are Mexico's."""

from __future__ import annotations

from datetime import datetime, timedelta

from assistant.domain.analysis import (
    Facts, analyze_thread, contact_of, first_quote, first_quote_index, is_inbound, is_outbound,
    is_quote, is_real_reply, scan,
)
from assistant.domain.model import LoggedTouch, ThreadMark
from tests.builders import MX, Thread, dsn_bounce, local, raw_message, read, team_rules

RULES = team_rules()
ANA = "Ana Pérez <ana@acme.example>"
CLIENT = "Diego Ruiz <diego@cliente.example>"


def quote_thread(**kw) -> Thread:
    thread = Thread()
    thread.add(raw_message(frm=ANA, to=CLIENT, subject=kw.pop("subject", "Cotización 1042"),
                           date=kw.pop("date", local(2026, 11, 3, 10)), mid="<q1@acme.example>", **kw))
    return thread


def follow_up(thread: Thread, n: int, when: datetime, frm: str = ANA, to: str = CLIENT) -> None:
    thread.add(raw_message(frm=frm, to=to, subject="Re: Cotización 1042", date=when,
                           mid=f"<f{n}@acme.example>", in_reply_to="<q1@acme.example>",
                           references=["<q1@acme.example>"], body="¿Pudiste revisarla?"))


def client_reply(thread: Thread, n: int, when: datetime, body: str = "Gracias, ¿incluye el envío?",
                 **kw) -> None:
    thread.add(raw_message(frm=kw.pop("frm", CLIENT), to=ANA, subject="RE: Cotización 1042",
                           date=when, mid=f"<r{n}@cliente.example>",
                           in_reply_to="<q1@acme.example>", references=["<q1@acme.example>"],
                           body=body, **kw))


def analyze(thread: Thread, now: datetime, **kw):
    report = analyze_thread(thread.mails, RULES, now, **kw)
    assert report is not None
    return report


# --- Words ---------------------------------------------------------------------------

def test_internal_address_is_company_domain_or_team_member():
    rules = team_rules(members={**RULES.members, "freelance@gmail.example": "sdr"})
    assert rules.is_internal("ventas@acme.example")
    assert rules.is_internal("FREELANCE@gmail.example")
    assert not rules.is_internal("diego@cliente.example")
    assert not rules.is_internal(None)


def test_outbound_needs_an_external_recipient_and_inbound_is_from_external():
    out = read(raw_message(frm=ANA, to=["marta@acme.example", CLIENT], subject="x",
                           date=local(2026, 11, 3), mid="<a@x>"), 1)
    internal_only = read(raw_message(frm=ANA, to="marta@acme.example", subject="x",
                                     date=local(2026, 11, 3), mid="<b@x>"), 2)
    inbound = read(raw_message(frm=CLIENT, to=ANA, subject="x", date=local(2026, 11, 3),
                               mid="<c@x>"), 3)
    assert is_outbound(out, RULES) and not is_inbound(out, RULES)
    assert not is_outbound(internal_only, RULES) and not is_inbound(internal_only, RULES)
    assert is_inbound(inbound, RULES) and not is_outbound(inbound, RULES)


def test_quote_by_subject_keyword_is_accent_and_case_insensitive():
    for subject in ("COTIZACION tubería", "Su cotización", "Quote A-778", "presupuesto 2027"):
        mail = read(raw_message(frm=ANA, to=CLIENT, subject=subject, date=local(2026, 11, 3),
                                mid="<a@x>"), 1)
        assert is_quote(mail, RULES), subject
    mail = read(raw_message(frm=ANA, to=CLIENT, subject="As quoted yesterday",
                            date=local(2026, 11, 3), mid="<a@x>"), 1)
    assert not is_quote(mail, RULES)


def test_quote_by_attachment_file_name():
    mail = read(raw_message(frm=ANA, to=CLIENT, subject="Lo que platicamos", date=local(2026, 11, 3),
                            mid="<a@x>", attachment="Cotizacion_CN-2026-0412.pdf"), 1)
    assert is_quote(mail, RULES)


def test_quote_by_configured_body_phrase():
    mail = read(raw_message(frm=ANA, to=CLIENT, subject="Lo que platicamos", date=local(2026, 11, 3),
                            mid="<a@x>", body="Diego, adjunto nuestra propuesta ECONOMICA."), 1)
    assert is_quote(mail, RULES)


def test_quote_must_be_outbound():
    inbound = read(raw_message(frm=CLIENT, to=ANA, subject="Solicito cotización",
                               date=local(2026, 11, 3), mid="<a@x>"), 1)
    internal = read(raw_message(frm=ANA, to="marta@acme.example", subject="Fwd: Cotización 1042",
                                date=local(2026, 11, 3), mid="<b@x>"), 2)
    assert not is_quote(inbound, RULES) and not is_quote(internal, RULES)


def test_lead_thread_contact_is_first_external_to_recipient_of_first_quote():
    mail = read(raw_message(frm=ANA, to=["marta@acme.example", CLIENT, "otro@cliente.example"],
                            subject="Cotización", date=local(2026, 11, 3), mid="<a@x>"), 1)
    assert contact_of(mail, RULES) == "diego@cliente.example"


def test_real_reply_is_inbound_message_kind_only():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 4))
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Respuesta automática: Cotización 1042",
                           date=local(2026, 11, 4, 11), mid="<ooo@cliente.example>",
                           in_reply_to="<q1@acme.example>",
                           headers={"Auto-Submitted": "auto-replied"}))
    mails = thread.mails
    assert [is_real_reply(m, RULES) for m in mails] == [False, True, False]


# --- Status --------------------------------------------------------------------------

def test_status_silent_when_next_step_due_and_waiting_before():
    thread = quote_thread(date=local(2026, 11, 3, 10))  # Tuesday
    due = local(2026, 11, 5, 9)  # two business days later, at the send window
    waiting = analyze(thread, due - timedelta(minutes=1))
    silent = analyze(thread, due)
    assert waiting.status == "waiting" and waiting.next_step.due_at == due
    assert silent.status == "silent"
    assert silent.next_step.number == 1 and silent.next_step.channel == "email"


def test_status_closed_when_user_marked_won_or_lost():
    thread = quote_thread()
    report = analyze(thread, local(2026, 12, 1), mark=ThreadMark("<q1@acme.example>", outcome="won"))
    assert report.status == "closed" and report.next_step is None


def test_status_closed_on_decline_in_spanish():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 5), body="Hola Ana, por ahora no nos interesa. Saludos.")
    report = analyze(thread, local(2026, 12, 1))
    assert report.status == "closed" and report.next_step is None
    assert report.last_reply_at == local(2026, 11, 5)


def test_status_closed_on_opt_out_in_english():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 5), body="Please unsubscribe me from these emails.")
    assert analyze(thread, local(2026, 12, 1)).status == "closed"


def test_decline_only_counts_in_the_replys_own_text_not_the_quoted_original():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 5), body=(
        "Sí me interesa, ¿pueden mejorar el precio?\n\n"
        "El mar, 3 nov 2026 a las 10:00, Ana Pérez <ana@acme.example> escribió:\n"
        "> Si no nos interesa algo, avísanos.\n"))
    assert analyze(thread, local(2026, 12, 1)).status == "awaiting_us"


def test_decline_in_an_earlier_reply_does_not_close_when_a_later_reply_reopens():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 5), body="No nos interesa por ahora.")
    follow_up(thread, 1, local(2026, 11, 20))
    client_reply(thread, 2, local(2026, 11, 23), body="Retomemos: envíame la versión 2.")
    assert analyze(thread, local(2026, 12, 1)).status == "awaiting_us"


def test_status_bounced_when_a_bounce_references_the_quote():
    thread = quote_thread()
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 10, 5),
                          mid="<bounce1@mx.acme.example>", original_mid="<q1@acme.example>",
                          failed="diego@cliente.example", original_subject="Cotizacion 1042"))
    report = analyze(thread, local(2026, 12, 1))
    assert report.status == "bounced" and report.next_step is None
    assert report.bounced_recipients == ("diego@cliente.example",)


def test_bounce_without_thread_headers_lands_in_the_quotes_thread():
    thread = quote_thread()
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 10, 5),
                          mid="<bounce1@mx.acme.example>", original_mid="<q1@acme.example>",
                          failed="diego@cliente.example", original_subject="Cotizacion 1042"))
    reports = scan(thread.mails, RULES, local(2026, 12, 1))
    assert len(reports) == 1 and reports[0].status == "bounced"


def test_real_reply_after_a_bounce_is_not_bounced():
    thread = quote_thread()
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 10, 5),
                          mid="<bounce1@mx.acme.example>", original_mid="<q1@acme.example>",
                          failed="diego@cliente.example", original_subject="Cotizacion 1042"))
    client_reply(thread, 1, local(2026, 11, 4))
    assert analyze(thread, local(2026, 12, 1)).status == "awaiting_us"


def test_delay_warning_is_not_a_bounce():
    thread = quote_thread()
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 3, 14),
                          mid="<delay1@mx.acme.example>", original_mid="<q1@acme.example>",
                          failed="diego@cliente.example", original_subject="Cotizacion 1042",
                          status="4.4.7", action="delayed"))
    report = analyze(thread, local(2026, 11, 4))
    assert report.status == "waiting"


def test_status_awaiting_us_when_last_meaningful_message_is_a_real_reply():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 4, 16))
    report = analyze(thread, local(2026, 12, 1))
    assert report.status == "awaiting_us" and report.next_step is None
    assert report.last_reply_at == local(2026, 11, 4, 16)


def test_status_exhausted_when_touches_reach_the_protocol_steps():
    thread = quote_thread(date=local(2026, 11, 2, 10))
    for n, day in enumerate((4, 9, 13, 20, 30), start=1):
        follow_up(thread, n, local(2026, 11, day, 10))
    report = analyze(thread, local(2026, 12, 20))
    assert report.touches == 5 and report.status == "exhausted" and report.next_step is None


def test_status_order_closed_beats_bounced_beats_awaiting():
    thread = quote_thread()
    client_reply(thread, 1, local(2026, 11, 4), body="Not interested, thanks.")
    # a later outbound that bounced: closed still wins (rule 1 before rule 2)
    follow_up(thread, 1, local(2026, 11, 10))
    thread.add(dsn_bounce(to="ana@acme.example", date=local(2026, 11, 10, 10, 5),
                          mid="<b@mx>", original_mid="<f1@acme.example>",
                          failed="diego@cliente.example", original_subject="Re: Cotizacion 1042"))
    assert analyze(thread, local(2026, 12, 1)).status == "closed"


# --- Open ask, touches, cadence ------------------------------------------------------

def test_touches_are_outbound_messages_after_the_open_ask():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    follow_up(thread, 1, local(2026, 11, 5, 10))
    follow_up(thread, 2, local(2026, 11, 10, 10))
    report = analyze(thread, local(2026, 11, 11))
    assert report.touches == 2
    assert report.next_step.number == 3 and report.next_step.channel == "email"
    # step 3: 4 business days after Tue 10 Nov = Wed 11, Thu 12, Fri 13, (Mon 16 holiday), Tue 17
    assert report.next_step.due_at == local(2026, 11, 17, 9)


def test_internal_forward_is_not_a_touch():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    thread.add(raw_message(frm=ANA, to="marta@acme.example", subject="Fwd: Cotización 1042",
                           date=local(2026, 11, 4, 10), mid="<fwd@acme.example>",
                           in_reply_to="<q1@acme.example>", references=["<q1@acme.example>"]))
    report = analyze(thread, local(2026, 11, 5, 12))
    assert report.touches == 0 and report.owner_candidates == ("ana@acme.example",)
    assert report.next_step.due_at == local(2026, 11, 5, 9)


def test_logged_call_and_whatsapp_touches_count():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    follow_up(thread, 1, local(2026, 11, 5, 10))
    touches = [LoggedTouch("<q1@acme.example>", "phone", local(2026, 11, 10, 12))]
    report = analyze(thread, local(2026, 11, 11), touches=touches)
    assert report.touches == 2 and report.next_step.number == 3
    assert report.last_outbound_at == local(2026, 11, 10, 12)


def test_cadence_restarts_after_a_reply():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    follow_up(thread, 1, local(2026, 11, 5, 10))
    follow_up(thread, 2, local(2026, 11, 10, 10))
    client_reply(thread, 1, local(2026, 11, 11, 10), body="Dame unos días.")
    follow_up(thread, 3, local(2026, 11, 11, 12))  # the new open ask
    report = analyze(thread, local(2026, 11, 12, 8))
    assert report.touches == 0
    assert report.next_step.number == 1
    assert report.next_step.due_at == local(2026, 11, 13, 9)  # Wed 11 + 2 business days


def test_out_of_office_in_spanish_does_not_stop_the_cadence():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Fuera de la oficina: Cotización 1042",
                           date=local(2026, 11, 3, 10, 1), mid="<ooo@cliente.example>",
                           in_reply_to="<q1@acme.example>", references=["<q1@acme.example>"],
                           body="Estaré de vacaciones hasta el lunes."))
    report = analyze(thread, local(2026, 11, 6))
    assert report.last_reply_at is None and report.touches == 0 and report.next_step.number == 1
    # second edition (rule 10): back Monday 9, so step 1 waits for Tuesday 10 at 09:00
    assert report.status == "waiting" and report.next_step.due_at == local(2026, 11, 10, 9)
    assert analyze(thread, local(2026, 11, 10, 9)).status == "silent"


def test_out_of_office_in_outlooks_english_form_does_not_stop_the_cadence():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Automatic reply: Cotización 1042",
                           date=local(2026, 11, 3, 10, 1), mid="<ooo@cliente.example>",
                           in_reply_to="<q1@acme.example>", references=["<q1@acme.example>"],
                           headers={"X-Auto-Response-Suppress": "All",
                                    "X-MS-Exchange-Inbox-Rules-Loop": "diego@cliente.example"},
                           body="I am out of the office until Monday with limited access to email."))
    report = analyze(thread, local(2026, 11, 6))
    assert report.last_reply_at is None and report.next_step.number == 1
    # second edition (rule 10): out until Monday 9, so step 1 waits for Tuesday 10
    assert report.status == "waiting" and report.next_step.due_at == local(2026, 11, 10, 9)


def test_day_boundary_an_evening_quote_is_dated_by_its_local_day():
    # Thursday 5 Nov 21:30 in Mexico City is Friday 03:30 UTC: the local day counts.
    thread = quote_thread(date=local(2026, 11, 5, 21, 30))
    report = analyze(thread, local(2026, 11, 6))
    assert report.next_step.due_at == local(2026, 11, 9, 9)  # Fri 6, Mon 9


def test_holiday_inside_a_cadence_gap_is_skipped():
    # Monday 16 Nov 2026 is Revolution Day (third Monday of November) in Mexico.
    thread = quote_thread(date=local(2026, 11, 12, 10))
    report = analyze(thread, local(2026, 11, 13))
    assert report.next_step.due_at == local(2026, 11, 17, 9)  # Fri 13, (Mon 16), Tue 17


def test_weekends_are_skipped_and_due_time_is_the_send_window_in_team_zone():
    thread = quote_thread(date=local(2026, 11, 6, 10))  # Friday
    report = analyze(thread, local(2026, 11, 7))
    assert report.next_step.due_at == local(2026, 11, 10, 9)  # Mon 9, Tue 10
    assert report.next_step.due_at.utcoffset() == timedelta(hours=-6)


def test_next_step_is_null_for_closed_bounced_awaiting_and_exhausted():
    closed = quote_thread()
    client_reply(closed, 1, local(2026, 11, 4), body="no nos interesa")
    awaiting = quote_thread()
    client_reply(awaiting, 1, local(2026, 11, 4))
    for thread in (closed, awaiting):
        assert analyze(thread, local(2026, 12, 1)).next_step is None


# --- Ownership -----------------------------------------------------------------------

def test_owner_is_the_first_quote_sender_when_a_team_member():
    report = analyze(quote_thread(), local(2026, 11, 4))
    assert report.owner == "ana@acme.example" and report.scenario == "rep"


def test_owner_explicit_assignment_wins():
    report = analyze(quote_thread(), local(2026, 11, 4),
                     mark=ThreadMark("<q1@acme.example>", owner="luis@acme.example"))
    assert report.owner == "luis@acme.example"


def test_shared_mailbox_quote_has_no_owner_and_is_unclear():
    thread = Thread()
    thread.add(raw_message(frm="Ventas <ventas@acme.example>", to=CLIENT, subject="Cotización 77",
                           date=local(2026, 11, 3), mid="<v1@acme.example>"))
    report = analyze(thread, local(2026, 11, 4))
    assert report.owner is None and report.scenario == "unclear"
    assert report.owner_candidates == ("ventas@acme.example",)


def test_two_internal_senders_make_ownership_unclear():
    thread = quote_thread(date=local(2026, 11, 3, 10))
    follow_up(thread, 1, local(2026, 11, 5, 10), frm="Luis <luis@acme.example>")
    report = analyze(thread, local(2026, 11, 6))
    assert report.owner == "ana@acme.example"
    assert set(report.owner_candidates) == {"ana@acme.example", "luis@acme.example"}
    assert report.scenario == "unclear"


def test_scenario_nobody_when_silent_with_no_touches():
    report = analyze(quote_thread(date=local(2026, 11, 3)), local(2026, 11, 20))
    assert report.status == "silent" and report.touches == 0 and report.scenario == "nobody"


def test_scenario_manager_when_the_owner_is_a_manager():
    thread = Thread()
    thread.add(raw_message(frm="Marta <marta@acme.example>", to=CLIENT, subject="Propuesta anual",
                           date=local(2026, 11, 3), mid="<m1@acme.example>"))
    report = analyze(thread, local(2026, 11, 4))
    assert report.scenario == "manager" and report.status == "waiting"


# --- Threading -----------------------------------------------------------------------

def test_reply_in_a_fresh_email_from_the_contact_is_a_loose_reply():
    thread = quote_thread(date=local(2026, 11, 3))
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Precio", date=local(2026, 11, 6),
                           mid="<fresh@cliente.example>", body="¿Me mejoras el precio?"))
    reports = scan(thread.mails, RULES, local(2026, 11, 20))
    assert len(reports) == 1
    assert reports[0].status == "awaiting_us" and reports[0].last_reply_at == local(2026, 11, 6)


def test_loose_reply_with_two_open_threads_for_the_contact_is_left_alone():
    thread = quote_thread(date=local(2026, 11, 3))
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="Presupuesto B", date=local(2026, 11, 4),
                           mid="<q2@acme.example>"))
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Precio", date=local(2026, 11, 6),
                           mid="<fresh@cliente.example>"))
    reports = scan(thread.mails, RULES, local(2026, 11, 20))
    assert [r.status for r in reports] == ["silent", "silent"]


def test_loose_reply_must_come_from_the_contacts_exact_address():
    thread = quote_thread(date=local(2026, 11, 3))
    thread.add(raw_message(frm="Otro <compras@cliente.example>", to=ANA, subject="Precio",
                           date=local(2026, 11, 6), mid="<fresh@cliente.example>"))
    reports = scan(thread.mails, RULES, local(2026, 11, 20))
    assert reports[0].status == "silent"


def test_provider_thread_ids_join_messages_without_thread_headers():
    from dataclasses import replace

    thread = quote_thread(date=local(2026, 11, 3))
    thread.add(raw_message(frm="compras@cliente.example", to=ANA, subject="Re: Cotización",
                           date=local(2026, 11, 5), mid="<x@cliente.example>"))
    mails = [replace(m, thread_hints=("ana:thr-1",)) for m in thread.mails]
    reports = scan(mails, RULES, local(2026, 11, 20))
    assert reports[0].status == "awaiting_us"


def test_replies_to_a_message_we_never_saw_still_join_the_thread():
    thread = quote_thread(date=local(2026, 11, 3))
    client_reply(thread, 1, local(2026, 11, 4))
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="Re: Cotización 1042", date=local(2026, 11, 5),
                           mid="<f9@acme.example>", in_reply_to="<unseen@cliente.example>",
                           references=["<q1@acme.example>", "<unseen@cliente.example>"]))
    reports = scan(thread.mails, RULES, local(2026, 11, 6))
    assert len(reports) == 1 and reports[0].status == "waiting" and reports[0].touches == 0


def test_scan_orders_threads_by_quote_date_and_reports_times_in_team_zone():
    one = quote_thread(date=local(2026, 11, 3))
    other = Thread()
    other.add(raw_message(frm=ANA, to="b@otro.example", subject="Quote 9", date=local(2026, 11, 2),
                          mid="<q9@acme.example>"))
    reports = scan(other.mails + one.mails, RULES, local(2026, 11, 20))
    assert [r.quote_message_id for r in reports] == ["<q9@acme.example>", "<q1@acme.example>"]
    assert reports[0].last_outbound_at.tzinfo.key == MX.key
    assert first_quote(one.mails, RULES).message_id == "<q1@acme.example>"


def test_a_first_quote_found_elsewhere_is_learned_without_reading_the_messages_again():
    one = quote_thread()
    follow_up(one, 2, local(2026, 11, 10))
    mails = one.mails
    assert first_quote_index(mails, RULES) == 0
    facts = Facts(RULES)
    # Told (by a rebuild's worker) that the second message is the first quote, a Facts
    # answers from what it was told: no message before it is a quote, it is one.
    facts.learn_first_quote(mails, 1)
    assert first_quote(mails, RULES, facts) is mails[1]
    assert facts.quote(mails[0]) is False and facts.quote(mails[1]) is True
    nothing = Facts(RULES)
    nothing.learn_first_quote(mails, None)
    assert first_quote(mails, RULES, nothing) is None
