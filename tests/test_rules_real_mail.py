"""DESIGN.md "Real mail (second edition of the rules)": one test (or more) per rule 1–11,
each named after its rule, on messages in the shapes real clients write them — Outlook's
Spanish and English reply blocks, Gmail's attributions, Lotus Notes headers, exports that
lost their thread headers, list and bulk headers — read through the real parser and
classifier. Dates are in Mexico City (holidays: Mexico's); the quote goes out on
Tuesday 1 December 2026."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from assistant.domain.analysis import analyze_thread, contact_of, is_outbound, is_quote, scan
from assistant.domain.model import LoggedTouch, ThreadMark
from assistant.mail.subject import has_reply_prefix, normalize_subject
from tests.builders import Thread, local, raw_message, read, team_rules

RULES = team_rules()
ANA = "Ana Pérez <ana@acme.example>"
CLIENT = "Diego Ruiz <diego@cliente.example>"
COLLEAGUE = "Lucía Mora <lucia.mora@cliente.example>"
QUOTE_ID = "<q1@acme.example>"
QUOTE_AT = local(2026, 12, 1, 10)  # Tuesday


def outlook_es(own: str, quoted: str = "Diego, adjunto la cotización. ¿Te interesa?") -> str:
    """Outlook (Spanish) reply: own text, a line of underscores and the De/Enviado/Para/
    Asunto block above the quoted original."""
    return (f"{own}\n\n________________________________\nDe: Ana Pérez <ana@acme.example>\n"
            "Enviado: martes, 1 de diciembre de 2026 10:00\nPara: Diego Ruiz "
            f"<diego@cliente.example>\nAsunto: Cotización 1042\n\n{quoted}\n")


def gmail_en(own: str, quoted: str = "Diego, attached is our quote. Any questions?") -> str:
    return (f"{own}\n\nOn Tue, Dec 1, 2026 at 10:00 AM Ana Pérez <ana@acme.example> wrote:\n\n"
            + "".join(f"> {line}\n" for line in quoted.splitlines()))


def gmail_es(own: str, quoted: str = "Diego, adjunto la cotización. ¿Te interesa?") -> str:
    return (f"{own}\n\nEl mar, 1 dic 2026 a las 10:00, Ana Pérez (<ana@acme.example>) "
            "escribió:\n\n" + "".join(f"> {line}\n" for line in quoted.splitlines()))


def lotus(own: str, quoted: str = "Diego, attached is our quote. Could you review it?") -> str:
    return (f"{own}\n\n\n\n\"Ana Pérez\" <ana@acme.example> on 12/01/2026 10:00:00 AM\n\n"
            "To:    diego@cliente.example\ncc:\nSubject:    Cotización 1042\n\n\n"
            f"{quoted}\n")


def quote_thread(*, to: str = CLIENT, subject: str = "Cotización 1042", when: datetime = QUOTE_AT,
                 mid: str = QUOTE_ID, thread: Thread | None = None) -> Thread:
    thread = thread or Thread()
    thread.add(raw_message(frm=ANA, to=to, subject=subject, date=when, mid=mid,
                           attachment="CN-1042.pdf"))
    return thread


def reply(thread: Thread, when: datetime, body: str, *, frm: str = CLIENT,
          subject: str = "RE: Cotización 1042", threaded: bool = True, mid: str | None = None,
          headers: dict | None = None, parent: str = QUOTE_ID) -> None:
    thread.add(raw_message(
        frm=frm, to=ANA, subject=subject, date=when,
        mid=mid or f"<r{len(thread.raw)}@{frm.rpartition('@')[2].rstrip('>')}>",
        in_reply_to=parent if threaded else None, references=[parent] if threaded else [],
        body=body, headers=headers))


def follow_up(thread: Thread, when: datetime, n: int = 1) -> None:
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="RE: Cotización 1042", date=when,
                           mid=f"<f{n}@acme.example>", in_reply_to=QUOTE_ID,
                           references=[QUOTE_ID], body="Diego, ¿pudiste revisarla?"))


def report_of(thread: Thread, now: datetime, rules=RULES, **kw):
    reports = scan(thread.mails, rules, now, **kw)
    assert len(reports) >= 1
    return next(r for r in reports if r.quote_message_id == QUOTE_ID)


# --- Rule 1: subdomains and malformed recipients ------------------------------------------

def test_rule1_subdomain_of_a_company_domain_is_internal():
    rules = team_rules()
    assert rules.is_internal("compras@planta.acme.example")
    assert rules.is_internal("ventas@norte.planta.acme.example")
    assert not rules.is_internal("x@notacme.example")  # a suffix, not a subdomain
    mail = read(raw_message(frm="Ing. Rubén <ruben@planta.acme.example>", to=CLIENT,
                            subject="Cotización 77", date=QUOTE_AT, mid="<s@x>"), 1)
    assert is_outbound(mail, rules) and is_quote(mail, rules)


def test_rule1_company_domain_cut_short_inside_a_label_is_malformed():
    rules = team_rules()
    assert rules.address_class("luis@acme.ex") == "malformed"
    assert rules.address_class("luis@acme.exampl") == "malformed"
    # only to a typo of our own domain: neither internal nor external, so not outbound
    typo = read(raw_message(frm=ANA, to="Luis <luis@acme.ex>", subject="Cotización 1042",
                            date=QUOTE_AT, mid="<t@x>"), 1)
    assert not is_outbound(typo, rules) and not is_quote(typo, rules)
    # and never the contact: the first *external* To recipient is
    quote = read(raw_message(frm=ANA, to=["luis@acme.ex", CLIENT], subject="Cotización 1042",
                             date=QUOTE_AT, mid="<u@x>"), 2)
    assert contact_of(quote, rules) == "diego@cliente.example"


def test_rule1_domain_without_a_dot_is_malformed():
    rules = team_rules()
    assert rules.address_class("compras@cliente") == "malformed"
    mail = read(raw_message(frm=ANA, to="compras@cliente", subject="Cotización 1042",
                            date=QUOTE_AT, mid="<v@x>"), 1)
    assert not is_quote(mail, rules)


def test_rule1_a_whole_label_short_is_another_domain():
    rules = team_rules(domains=frozenset({"acme.com.mx"}))
    assert rules.address_class("compras@acme.com") == "external"
    assert rules.address_class("ventas@acme.com.m") == "malformed"
    assert rules.address_class("ventas@acme.com.mx") == "internal"


# --- Rule 2: normalised subject -----------------------------------------------------------

@pytest.mark.parametrize("subject", [
    "RE: Cotización 1042", "Re: RE: cotizacion 1042", "RV: Cotización 1042",
    "Fwd: Cotización  1042", "Rpta: Cotización 1042", "Resp: Cotización 1042",
    "AW: WG: Cotización 1042", "TR: Cotización 1042", "SV: VS: Cotización 1042",
    "Re[2]: Cotización 1042", "RE (2): Cotización 1042", "RE： Cotización 1042",
    "[EXTERNAL] RE: Cotización 1042", "RE: [EXTERNO] COTIZACIÓN\t1042",
])
def test_rule2_normalised_subject_strips_prefixes_and_tags_and_folds(subject):
    assert normalize_subject(subject) == "cotizacion 1042"
    assert has_reply_prefix(subject)


def test_rule2_words_that_only_start_like_a_prefix_stay():
    assert normalize_subject("Revisión de la cotización") == "revision de la cotizacion"
    assert normalize_subject("Tres tubos") == "tres tubos"
    assert not has_reply_prefix("Resumen: pedido") and not has_reply_prefix("[EXTERNO] Pedido")


# --- Rule 4: subject fallback -------------------------------------------------------------

def test_rule4_headerless_reply_joins_the_lead_thread_with_the_same_normalised_subject():
    # Two open quotes to the same contact: the loose-reply rule would be ambiguous, the
    # subject is not.
    thread = quote_thread()
    quote_thread(thread=thread, subject="Cotización 2077 lámina", mid="<q2@acme.example>",
                 when=local(2026, 12, 2, 10))
    reply(thread, local(2026, 12, 3, 9), outlook_es("Diego: ¿el precio incluye el flete?"),
          subject="RE: COTIZACION 1042", threaded=False)
    report = report_of(thread, local(2026, 12, 4))
    assert report.status == "awaiting_us"
    assert report.last_reply_at == local(2026, 12, 3, 9)
    other = next(r for r in scan(thread.mails, RULES, local(2026, 12, 4))
                 if r.quote_message_id == "<q2@acme.example>")
    assert other.last_reply_at is None


def test_rule4_a_colleague_on_the_contacts_domain_joins_and_an_unknown_reference_counts_as_none():
    thread = quote_thread()
    # Lucía answers from her own address; her client cites only the client's internal
    # forward, a message we never saw.
    reply(thread, local(2026, 12, 3, 9), gmail_es("Ana, soy Lucía de compras. ¿Tienen "
          "entrega en Saltillo?"), frm=COLLEAGUE, subject="RE: Fwd: Cotización 1042",
          parent="<internal-fwd-77@cliente.example>")
    report = report_of(thread, local(2026, 12, 4))
    assert report.status == "awaiting_us" and report.contact == "diego@cliente.example"


def test_rule4_a_colleague_on_a_public_mail_domain_does_not_join():
    thread = quote_thread(to="Diego <diego.ruiz@gmail.com>")
    reply(thread, local(2026, 12, 3, 9), "¿Tienen entrega en Saltillo?",
          frm="Otra Persona <otra.persona@gmail.com>", threaded=False)
    report = report_of(thread, local(2026, 12, 4))
    assert report.last_reply_at is None and report.status == "silent"


def test_rule4_only_within_60_days_after_the_threads_last_message():
    for days, joined in ((60, True), (61, False)):
        thread = quote_thread(when=local(2026, 10, 1, 23, 30))  # late evening: local date
        reply(thread, local(2026, 10, 1, 23, 30) + timedelta(days=days),
              "Retomando: ¿siguen vigentes los precios?", frm=COLLEAGUE, threaded=False)
        report = report_of(thread, local(2026, 12, 30))
        assert (report.status == "awaiting_us") is joined, days


def test_rule4_with_several_threads_the_most_recently_active_one_wins():
    thread = quote_thread(subject="Cotización", when=local(2026, 11, 2, 10))
    quote_thread(thread=thread, subject="Cotización", mid="<q2@acme.example>",
                 when=local(2026, 11, 20, 10))
    follow_up(thread, local(2026, 11, 25, 10))  # thread 1 is the most recently active
    reply(thread, local(2026, 11, 26, 9), "¿Me mandan el PDF otra vez?", frm=COLLEAGUE,
          subject="Re: Cotización", threaded=False)
    reports = {r.quote_message_id: r for r in scan(thread.mails, RULES, local(2026, 11, 27))}
    assert reports[QUOTE_ID].status == "awaiting_us"
    assert reports["<q2@acme.example>"].last_reply_at is None


def test_rule4_a_closed_thread_is_not_joined():
    thread = quote_thread()
    reply(thread, local(2026, 12, 2, 9), "No nos interesa por ahora, gracias.")
    reply(thread, local(2026, 12, 3, 9), "¿Tienen otra opción?", frm=COLLEAGUE, threaded=False)
    report = report_of(thread, local(2026, 12, 4))
    assert report.status == "closed" and report.last_reply_at == local(2026, 12, 2, 9)
    marked = quote_thread()
    reply(marked, local(2026, 12, 3, 9), "¿Tienen otra opción?", frm=COLLEAGUE, threaded=False)
    report = report_of(marked, local(2026, 12, 4), marks={QUOTE_ID: ThreadMark(QUOTE_ID, "lost")})
    assert report.last_reply_at is None


def test_rule4_list_mail_never_joins_by_subject():
    thread = quote_thread()
    reply(thread, local(2026, 12, 3, 9), "Resumen del foro: RE: Cotización 1042",
          frm=COLLEAGUE, threaded=False,
          headers={"List-Id": "Compras <compras.lists.cliente.example>"})
    assert report_of(thread, local(2026, 12, 4)).last_reply_at is None


# --- Rule 5: loose replies, narrowed ------------------------------------------------------

def test_rule5_loose_reply_from_the_contact_within_30_days_of_our_last_outbound():
    thread = quote_thread()
    follow_up(thread, local(2026, 12, 4, 10))
    reply(thread, local(2027, 1, 3, 12), "Ana, ¿me confirmas el tiempo de entrega?",
          subject="Pregunta", threaded=False)  # 30 days after Fri 4 Dec
    assert report_of(thread, local(2027, 1, 4)).status == "awaiting_us"


def test_rule5_loose_reply_after_30_days_does_not_join_unless_a_touch_is_recent():
    thread = quote_thread()
    reply(thread, local(2027, 1, 1, 12), "¿Siguen con los precios?", subject="Pregunta",
          threaded=False)  # 31 days after the quote
    assert report_of(thread, local(2027, 1, 4)).last_reply_at is None
    touch = LoggedTouch(QUOTE_ID, "phone", local(2026, 12, 20, 10), "ana@acme.example")
    report = report_of(thread, local(2027, 1, 4), touches=[touch])
    assert report.status == "awaiting_us"


@pytest.mark.parametrize("headers", [
    {"List-Id": "Novedades <novedades.cliente.example>"},
    {"List-Unsubscribe": "<mailto:baja@cliente.example>, <https://cliente.example/baja>"},
    {"Precedence": "bulk"},
    {"Precedence": "list"},
])
def test_rule5_a_newsletter_from_the_contacts_own_address_never_joins(headers):
    thread = quote_thread()
    reply(thread, local(2026, 12, 3, 7), "Conozca nuestras nuevas sucursales.",
          subject="Boletín de diciembre", threaded=False, headers=headers)
    report = report_of(thread, local(2026, 12, 4))
    assert report.last_reply_at is None and report.status == "silent"


def test_rule5_list_headers_on_a_reply_joined_by_its_thread_headers_count_like_any_message():
    thread = quote_thread()
    reply(thread, local(2026, 12, 3, 9), "¿Incluye el flete?",
          headers={"List-Unsubscribe": "<https://cliente.example/baja>"})
    assert report_of(thread, local(2026, 12, 4)).status == "awaiting_us"


def test_rule5_two_open_lead_threads_for_the_contact_are_ambiguous():
    thread = quote_thread()
    quote_thread(thread=thread, subject="Propuesta 88", mid="<q2@acme.example>",
                 when=local(2026, 12, 2, 10))
    reply(thread, local(2026, 12, 3, 9), "¿Cuándo pueden entregar?", subject="Entrega",
          threaded=False)
    assert all(r.last_reply_at is None for r in scan(thread.mails, RULES, local(2026, 12, 4)))


def test_rule5_a_message_citing_only_unknown_ids_counts_as_having_no_thread_headers():
    thread = quote_thread()
    reply(thread, local(2026, 12, 3, 9), "¿Cuándo pueden entregar?", subject="Entrega",
          parent="<never-stored@cliente.example>")
    assert report_of(thread, local(2026, 12, 4)).status == "awaiting_us"


def test_rule5_a_colleague_without_thread_headers_and_another_subject_does_not_join():
    thread = quote_thread()
    reply(thread, local(2026, 12, 3, 9), "¿Cuándo pueden entregar?", subject="Entrega",
          frm=COLLEAGUE, threaded=False)
    assert report_of(thread, local(2026, 12, 4)).last_reply_at is None


# --- Rule 9: holding replies --------------------------------------------------------------

HOLD_AT = local(2026, 12, 3, 11)  # Thursday


def held(body: str, *, rules=RULES, now: datetime = local(2026, 12, 4, 8)):
    thread = quote_thread()
    reply(thread, HOLD_AT, body)
    return report_of(thread, now, rules=rules)


def test_rule9_holding_reply_waits_until_the_named_weekday():
    report = held(outlook_es("Diego: lo reviso con dirección y te confirmo el viernes."))
    assert report.status == "waiting" and report.last_reply_at == HOLD_AT
    assert report.promised_date == date(2026, 12, 4)
    assert report.next_step.number == 1
    assert report.next_step.due_at == local(2026, 12, 8, 9)  # Fri 4 + 2 business days
    assert report.as_json()["promised_date"] == "2026-12-04"
    later = held(outlook_es("Lo reviso y te confirmo el viernes."), now=local(2026, 12, 8, 9))
    assert later.status == "silent" and later.scenario == "nobody"


@pytest.mark.parametrize("own, promised", [
    ("Gracias, te confirmo mañana.", date(2026, 12, 4)),
    ("Gracias, te confirmo mañana por la mañana.", date(2026, 12, 4)),
    ("Lo revisamos y te aviso el lunes.", date(2026, 12, 7)),
    ("Te confirmo el próximo jueves.", date(2026, 12, 10)),
    ("We are reviewing it, I'll get back to you next Monday.", date(2026, 12, 7)),
    ("Le confirmo el 15 de diciembre.", date(2026, 12, 15)),
    ("Le confirmo el 15/12.", date(2026, 12, 15)),
    ("I'll get back to you by December 15.", date(2026, 12, 15)),
    ("We'll get back to you on 15 December.", date(2026, 12, 15)),
    ("Lo vemos la próxima semana.", date(2026, 12, 7)),
    ("Te aviso la semana que entra.", date(2026, 12, 7)),
    ("Let me check with the plant, next week probably.", date(2026, 12, 7)),
    ("Te comento a fin de mes.", date(2026, 12, 31)),
    ("We'll get back to you at the end of the month.", date(2026, 12, 31)),
    ("Te confirmo el lunes 14 de diciembre.", date(2026, 12, 14)),
    ("Le confirmo el 2 de diciembre.", date(2027, 12, 2)),  # strictly after the reply's date
    ("Recibí la cotización del 30 de noviembre. Te confirmo el martes.", date(2026, 12, 8)),
])
def test_rule9_promised_date_forms_in_spanish_and_english(own, promised):
    english = own.split()[0] in ("We", "We'll", "I'll", "Let")
    report = held(gmail_en(own) if english else gmail_es(own))
    assert report.status == "waiting"
    assert report.promised_date == promised
    assert report.next_step.due_at.date() > promised


def test_rule9_without_a_named_date_the_reply_buys_holding_days():
    report = held(outlook_es("Recibido, lo estamos revisando."))
    assert report.promised_date == date(2026, 12, 10)  # Thu 3 + 5 business days
    assert report.next_step.due_at == local(2026, 12, 14, 9)
    shorter = held("Recibido, lo estamos revisando.", rules=team_rules(holding_days=1))
    assert shorter.promised_date == date(2026, 12, 4)


def test_rule9_the_fallback_skips_weekends_and_holidays():
    thread = quote_thread(when=local(2026, 12, 17, 10))
    reply(thread, local(2026, 12, 18, 12), "Gracias, más adelante te comento.")  # Friday
    report = report_of(thread, local(2026, 12, 19))
    assert report.promised_date == date(2026, 12, 28)  # Mon 21 … Thu 24, (Fri 25 holiday), Mon 28


def test_rule9_a_reply_that_asks_something_is_not_holding():
    assert held("Lo reviso, ¿incluye el IVA?").status == "awaiting_us"
    assert held("Let me check. Does the price include freight?").status == "awaiting_us"
    # a ? inside a link asks nothing
    report = held("Lo reviso y te confirmo el viernes: https://cliente.example/po?id=7")
    assert report.status == "waiting" and report.promised_date == date(2026, 12, 4)


def test_rule9_a_decline_is_a_decline_even_with_a_holding_phrase():
    report = held("Lo revisamos con dirección: por ahora no nos interesa.")
    assert report.status == "closed"


def test_rule9_holding_phrases_only_in_the_quoted_original_do_not_count():
    quoted = "Diego, te confirmo el precio el viernes."
    report = held(outlook_es("Perfecto, envíame la ficha técnica por favor", quoted))
    assert report.status == "awaiting_us" and report.promised_date is None
    report = held(gmail_en("Please send the datasheet.", "We'll get back to you next week."))
    assert report.status == "awaiting_us"


def test_rule9_holding_reply_in_a_lotus_notes_reply():
    report = held(lotus("Let me check with my manager, I'll get back to you next Monday."))
    assert report.status == "waiting" and report.promised_date == date(2026, 12, 7)


def test_rule9_an_outbound_message_after_the_holding_reply_is_the_open_ask():
    thread = quote_thread()
    reply(thread, HOLD_AT, "Te confirmo el viernes.")
    follow_up(thread, local(2026, 12, 7, 10))  # Monday
    report = report_of(thread, local(2026, 12, 8))
    assert report.promised_date is None and report.touches == 0
    assert report.next_step.due_at == local(2026, 12, 9, 9)  # Mon 7 + 2 business days


def test_rule9_an_auto_reply_after_the_holding_reply_does_not_undo_it():
    thread = quote_thread()
    reply(thread, HOLD_AT, "Te confirmo el viernes.")
    thread.add(raw_message(frm=CLIENT, to=ANA, subject="Respuesta automática: RE: Cotización 1042",
                           date=HOLD_AT + timedelta(minutes=5), mid="<ooo@cliente.example>",
                           in_reply_to=QUOTE_ID, headers={"Auto-Submitted": "auto-replied"},
                           body="Gracias por su mensaje."))
    assert report_of(thread, local(2026, 12, 4)).promised_date == date(2026, 12, 4)


# --- Rule 10: out-of-office with a return date --------------------------------------------

def ooo(thread: Thread, when: datetime, body: str, *, subject="Respuesta automática: Cotización 1042",
        headers=None, frm: str = CLIENT) -> None:
    thread.add(raw_message(frm=frm, to=ANA, subject=subject, date=when,
                           mid=f"<ooo{len(thread.raw)}@cliente.example>", in_reply_to=QUOTE_ID,
                           references=[QUOTE_ID], body=body,
                           headers=headers or {"Auto-Submitted": "auto-replied"}))


def test_rule10_out_of_office_naming_the_day_back_floors_the_next_step():
    thread = quote_thread()
    ooo(thread, QUOTE_AT + timedelta(minutes=1),
        "Estaré fuera de la oficina hasta el lunes 14 de diciembre, con acceso limitado al correo.")
    report = report_of(thread, local(2026, 12, 4))
    assert report.status == "waiting" and report.last_reply_at is None
    assert report.next_step.due_at == local(2026, 12, 15, 9)  # first business day after Mon 14
    assert report.promised_date == date(2026, 12, 14)
    assert report.scenario == "rep"


@pytest.mark.parametrize("body, subject, back", [
    ("I will be back on December 9.", "Automatic reply: Cotización 1042", date(2026, 12, 9)),
    ("I am out of the office until Monday with limited access to email.",
     "Out of Office: Cotización 1042", date(2026, 12, 7)),
    ("Thank you for your email. I'm returning Wednesday, December 9th.",
     "Automatic reply: Cotización 1042", date(2026, 12, 9)),
    ("Me encuentro de vacaciones. Regreso el 10 de diciembre.",
     "Fuera de la oficina: Cotización 1042", date(2026, 12, 10)),
    ("Estoy de viaje, de regreso el 9/12.", "Respuesta automática: Cotización 1042",
     date(2026, 12, 9)),
])
def test_rule10_day_back_forms_in_spanish_and_english(body, subject, back):
    thread = quote_thread()
    ooo(thread, QUOTE_AT + timedelta(minutes=2), body, subject=subject)
    report = report_of(thread, local(2026, 12, 2))
    assert report.promised_date == back
    assert report.next_step.due_at.date() > back


def test_rule10_a_floor_earlier_than_the_normal_due_date_changes_nothing():
    thread = quote_thread()
    ooo(thread, QUOTE_AT + timedelta(minutes=1), "Fuera de la oficina hasta mañana.")
    report = report_of(thread, local(2026, 12, 2))
    assert report.next_step.due_at == local(2026, 12, 3, 9)  # Tue 1 + 2 business days
    assert report.promised_date is None


def test_rule10_an_auto_reply_before_our_last_outbound_is_ignored():
    thread = quote_thread()
    ooo(thread, QUOTE_AT + timedelta(minutes=1), "Estaré fuera hasta el 18 de diciembre.")
    follow_up(thread, local(2026, 12, 3, 10))
    report = report_of(thread, local(2026, 12, 4))
    assert report.promised_date is None
    assert report.next_step.due_at == local(2026, 12, 8, 9)  # Thu 3 + 3 business days (step 2)


def test_rule10_only_the_contacts_own_auto_reply_counts():
    thread = quote_thread()
    ooo(thread, QUOTE_AT + timedelta(minutes=1), "Estaré fuera hasta el 18 de diciembre.",
        frm=COLLEAGUE)
    assert report_of(thread, local(2026, 12, 2)).promised_date is None


def test_rule10_the_floor_applies_to_a_holding_replys_due_date_and_a_tie_is_rule_9s():
    later = quote_thread()
    reply(later, HOLD_AT, "Te confirmo el viernes.")  # promised Fri 4 -> due Tue 8
    ooo(later, HOLD_AT + timedelta(hours=1), "Estaré fuera hasta el 10 de diciembre.")
    report = report_of(later, local(2026, 12, 4))
    assert report.next_step.due_at == local(2026, 12, 11, 9)
    assert report.promised_date == date(2026, 12, 10)
    tie = quote_thread()
    reply(tie, HOLD_AT, "Te confirmo el viernes.")
    ooo(tie, HOLD_AT + timedelta(hours=1), "Estaré fuera hasta el lunes.")  # floor Tue 8 09:00
    report = report_of(tie, local(2026, 12, 4))
    assert report.next_step.due_at == local(2026, 12, 8, 9)
    assert report.promised_date == date(2026, 12, 4)


# --- Rule 11: scan --json promised_date ---------------------------------------------------

def test_rule11_every_thread_of_scan_json_has_promised_date():
    plain = quote_thread()
    report = report_of(plain, local(2026, 12, 2))
    assert report.as_json()["promised_date"] is None
    assert report_of(plain, local(2026, 12, 2)).promised_reason is None
    holding = quote_thread()
    reply(holding, HOLD_AT, "Te confirmo el viernes.")
    assert report_of(holding, local(2026, 12, 4)).as_json()["promised_date"] == "2026-12-04"


# --- Rule 7 on our side: "Entregado:" is a receipt only when it comes in ------------------

def test_rule7_a_reps_delivered_subject_is_still_a_touch():
    thread = quote_thread()
    thread.add(raw_message(frm=ANA, to=CLIENT, subject="Entregado: pedido 55 y Cotización 1042",
                           date=local(2026, 12, 3, 10), mid="<f9@acme.example>",
                           in_reply_to=QUOTE_ID, references=[QUOTE_ID],
                           body="Diego, te confirmo que el pedido 55 quedó entregado."))
    assert thread.mails[-1].kind == "receipt"  # what the subject alone says
    report = report_of(thread, local(2026, 12, 4))
    assert report.touches == 1 and report.last_outbound_at == local(2026, 12, 3, 10)


def test_a_message_whose_from_names_no_single_sender_is_no_reply():
    thread = quote_thread()
    thread.add(raw_message(frm="client@cliente.example, attacker@evil.example", to=ANA,
                           subject="RE: Cotización 1042", date=local(2026, 12, 3, 9),
                           mid="<x1@evil.example>", in_reply_to=QUOTE_ID, references=[QUOTE_ID],
                           body="No nos interesa, gracias."))
    assert thread.mails[-1].from_addr is None
    report = report_of(thread, local(2026, 12, 4))
    assert report.status == "silent" and report.last_reply_at is None
