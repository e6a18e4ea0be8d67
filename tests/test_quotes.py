"""Quote detection (DESIGN.md "Words" and rule 3; assistant/domain/quotes.py), through the
real parser: every message is raw bytes read the way sync reads them."""

from __future__ import annotations

from assistant.domain.quotes import is_quote, quote_reading
from assistant.services.inspection import inspect_files
from assistant.settings import (
    DEFAULT_BUYER_PHRASES, DEFAULT_NON_QUOTE_PHRASES, DEFAULT_PROMISE_PHRASES, DEFAULT_QUOTE_PHRASES,
)

from tests.builders import local, raw_message, read, team_rules

RULES = team_rules(quote_phrases=DEFAULT_QUOTE_PHRASES, buyer_phrases=DEFAULT_BUYER_PHRASES,
                   promise_phrases=DEFAULT_PROMISE_PHRASES, non_quote_phrases=DEFAULT_NON_QUOTE_PHRASES)
ANA = "Ana Pérez <ana@acme.example>"
CLIENT = "diego@cliente.example"


def mail(subject: str, body: str = "Hola.", *, frm: str = ANA, to=CLIENT, attachment=None, **kw):
    return read(raw_message(frm=frm, to=to, subject=subject, date=local(2026, 11, 3), mid="<q@acme.example>",
                            body=body, attachment=attachment, **kw), 1)


def test_rule3_request_phrase_in_subject_is_not_a_quote():
    m = mail("Solicitud de cotización — flete refrigerado", "Favor de enviar tarifa.")
    assert not is_quote(m, RULES)
    assert "asks for a quote" in quote_reading(m, RULES).reason


def test_rule3_request_phrase_after_reply_prefix_still_a_quote():
    body = ("Buen día José, le adjunto nuestra propuesta con precios vigentes.\n\n"
            "De: José <jose@cliente.example>\nEnviado: lunes, 2 de noviembre de 2026 09:14\n"
            "Para: Ana\nAsunto: Solicitud de cotización\n\n¿Nos puede cotizar 40 piezas?")
    assert is_quote(mail("RE: Solicitud de cotización", body), RULES)
    # the same subject without the prefix is the buyer's request
    assert not is_quote(mail("Solicitud de cotización", body), RULES)


def test_rule3_request_phrase_in_own_text_is_the_buyers():
    assert not is_quote(mail("Cotización de rodamientos", "Buen día, ¿nos puede cotizar 50 rodamientos 6205?"),
                        RULES)
    assert not is_quote(mail("Ball valves - quotation", "Hello, please send us a quotation for 30 valves."),
                        RULES)


def test_rule3_request_phrase_only_in_the_quoted_original_does_not_count():
    body = ("Gerardo, adjunto la cotización.\n\n"
            "El lun, 2 nov 2026 a las 9:00, Gerardo <g@cliente.example> escribió:\n"
            "> ¿Nos puede cotizar 30 toneladas?")
    assert is_quote(mail("Re: lámina cal 24", body), RULES)


def test_rule3_request_phrase_naming_the_buyers_request_does_not_ask():
    assert is_quote(mail("Cotización #882", "Gracias por su solicitud de cotización. Adjunto el detalle."), RULES)
    assert is_quote(mail("RE: RFQ-88213 consumables", "Please find attached our quotation for RFQ-88213.",
                         attachment="ACME_Quotation_RFQ-88213.pdf"), RULES)


def test_rule3_exclusion_phrase_in_subject_is_not_a_quote():
    assert not is_quote(mail("Cotización del dólar para el pedido"), RULES)
    assert not is_quote(mail("Tipo de cambio para facturación"), RULES)
    # plural and hyphenated forms of an exclusion phrase are the same phrase
    assert not is_quote(mail("Real-Time Quotes access for the desk"), RULES)
    assert not is_quote(mail("Stock quotes for ACME today"), RULES)


def test_rule3_export_attachment_marker_names_the_file():
    m = mail("Material para la obra", "Gerardo, le envío lo solicitado.\n\n << File: Cotizacion_Obra_Apodaca.pdf >>")
    assert is_quote(m, RULES)
    assert "Cotizacion_Obra_Apodaca.pdf" in quote_reading(m, RULES).reason
    assert is_quote(mail("Supply for your accounts", "Here it is.\n\n <<Coral_Supply_Quote_June2001.xls>>"), RULES)


def test_notes_attachment_markers_name_the_file():
    assert is_quote(mail("Data platform", "Alex, here you go.\n\n(See attached file: Acme_Proposal_v2.pdf)"), RULES)
    assert is_quote(mail("Interim agreement", "Tom, as promised.\n\n - UCCSU_term_sheet_proposal.doc"), RULES)


def test_rule3_marker_in_a_replys_quoted_original_is_not_its_attachment():
    body = ("Recibido, gracias.\n\n-----Original Message-----\nFrom: Compras [mailto:c@cliente.example]\n"
            "Sent: Monday, November 2, 2026 9:10 AM\nTo: Ana\nSubject: lista\n\n"
            "Adjunto la cotización de tu competencia.\n << File: Cotizacion_Competidor.pdf >>")
    assert not is_quote(mail("RE: lista de material", body), RULES)


def test_rule3_quote_phrase_counts_only_in_own_text():
    body = ("Hola, ¿pudiste revisarla?\n\n-----Mensaje original-----\nDe: Ana\n"
            "Enviado el: lunes\nPara: Diego\nAsunto: Cotización 1042\n\nAdjunto la cotización 1042.")
    assert not is_quote(mail("RE: Cotización 1042", body), RULES)


def test_reply_in_a_quote_thread_is_a_quote_only_when_it_sends_an_offer():
    assert not is_quote(mail("RE: Cotización 1042", "Hola Gerardo, ¿tuvo oportunidad de revisarla?"), RULES)
    assert is_quote(mail("RE: Cotización 1042", "Nuevo total $184,300.00 MXN más IVA, flete incluido."), RULES)
    assert is_quote(mail("RE: Cotización 1042", "Va la revisión 2.", attachment="COT-1042-rev2.pdf"), RULES)


def test_fresh_subject_with_a_keyword_is_a_quote():
    assert is_quote(mail("Cotización 1042"), RULES)
    assert is_quote(mail("Propuesta contrato anual 2027", "Ing. Quiroga, anexo nuestra propuesta."), RULES)


def test_offer_in_the_body_without_any_keyword_is_a_quote():
    assert is_quote(mail("Precio lámina negra", "Don Beto, te paso precio: lámina cal. 14 a $1,180 la hoja, más IVA."),
                    RULES)
    assert is_quote(mail("Re: gloves volume", "For 2,000 boxes we can offer USD 5.60 per box, delivered."), RULES)


def test_invoices_and_salaries_are_not_prices_offered():
    assert not is_quote(mail("Factura A-2231", "Adjuntamos la factura A-2231 por $184,300.00 MXN."), RULES)
    assert not is_quote(mail("Oferta laboral — Ejecutivo de ventas", "Sueldo mensual bruto: $32,000."), RULES)


def test_a_promised_quote_is_not_a_quote_yet():
    assert not is_quote(mail("RE: Solicitud de cotización", "José, recibido. En breve le envío la cotización."),
                        RULES)
    assert not is_quote(mail("Thank You for Your Quote Request",
                             "We have received your request and will contact you within 24 hours."), RULES)


def test_a_question_offering_to_send_is_not_a_quote():
    assert not is_quote(mail("Seguimiento a su visita", "¿Le envío una cotización de nuestra línea de perfiles?"),
                        RULES)


def test_other_meanings_of_quote_words_do_not_count():
    assert not is_quote(mail("Propuesta de fecha para visita a planta", "¿Te acomoda el jueves?"), RULES)
    assert not is_quote(mail("Quote of the Day", '"The best way to predict the future is to create it."'), RULES)
    assert not is_quote(mail("Time estimate for the SSO fix", "2-3 business days."), RULES)
    assert not is_quote(mail("Could we use a quote from you on our website?"), RULES)
    assert not is_quote(mail("Duke meeting - our estimate", "I estimate our odds in the 70-80% range."), RULES)


def test_calendar_lists_and_mailings_are_not_quotes():
    assert not is_quote(mail("Nueva hora propuesta: Revisión de cotización"), RULES)
    assert not is_quote(mail("Accepted: Proposal review - Northwind"), RULES)
    assert not is_quote(mail("Ofertas de noviembre", headers={"List-Unsubscribe": "<https://acme.example/baja>"}),
                        RULES)
    many = [f"a{i}@c{i}.example" for i in range(12)]
    assert not is_quote(mail("Oferta de fin de año", to=many), RULES)


def test_quote_must_be_outbound_and_a_persons_message():
    assert not is_quote(mail("Cotización 1042", frm=CLIENT, to="ana@acme.example"), RULES)
    assert not is_quote(mail("Cotización 1042", to="marta@acme.example"), RULES)
    auto = mail("Respuesta automática: Cotización 1042", headers={"Auto-Submitted": "auto-replied"})
    assert auto.kind == "auto_reply" and not is_quote(auto, RULES)


def test_a_quoting_systems_automatic_mail_is_a_quote_by_its_document():
    # CRM / CPQ tools mark the quotes they send Auto-Submitted: the PDF is the offer
    crm = mail("Quotation S00042", "Dear customer, please find your quotation.",
               headers={"Auto-Submitted": "auto-generated"}, attachment="Quotation_S00042.pdf")
    assert crm.kind == "auto_reply" and is_quote(crm, RULES)
    echo = mail("Respuesta automática: Cotización 1042", headers={"Auto-Submitted": "auto-replied"},
                attachment="logo.png")
    assert not is_quote(echo, RULES)


def test_estimate_alone_or_a_question_subject_is_a_quote_with_a_document_attached():
    assert not is_quote(mail("Estimate", "Hi Dan, see you Monday."), RULES)
    assert is_quote(mail("Estimate", "Hi Dan.", attachment="4471.pdf"), RULES)
    assert not is_quote(mail("¿Recibiste la cotización?", "Diego, ¿la pudiste ver?"), RULES)
    assert is_quote(mail("¿Recibiste la cotización?", "Te la reenvío.", attachment="CN-1042.pdf"), RULES)


def test_inspect_without_settings_judges_content(tmp_path):
    quote = tmp_path / "q.eml"
    quote.write_bytes(raw_message(frm=ANA, to=CLIENT, subject="Cotización 1042", date=local(2026, 11, 3),
                                  mid="<q@x>", body="Adjunto la cotización."))
    ask = tmp_path / "a.eml"
    ask.write_bytes(raw_message(frm=ANA, to=CLIENT, subject="Solicitud de cotización", date=local(2026, 11, 3),
                                mid="<a@x>"))
    results = {r.file: r.is_quote for r in inspect_files([str(quote), str(ask)], None)}
    assert results == {str(quote): True, str(ask): False}
