"""assistant.mail.text: normalisation, phrases, keywords, own text (rule 8), language."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.mail.parse import html_to_text, parse_message
from assistant.mail.text import (contains_phrase, detect_language, has_keyword, normalize, own_text,
                                 reply_text)

FIX = Path(__file__).parent / "fixtures" / "corpus"
REPLIES = Path(__file__).parent / "fixtures" / "replies"
DECLINES = ["no nos interesa", "not interested", "unsubscribe"]
QUOTE_KEYWORDS = ["cotización", "cotizacion", "presupuesto", "propuesta", "oferta", "quote",
                  "quotation", "proposal", "estimate"]


def test_normalize() -> None:
    assert normalize("  Cotización\tRÁPIDA \n Ñandú ") == "cotizacion rapida nandu"
    assert normalize("Straße") == "strasse"
    assert normalize("") == ""


def test_contains_phrase() -> None:
    assert contains_phrase("Gracias, pero NO NOS INTERESA por ahora", ["not interested", "no nos interesa"]) == "no nos interesa"
    assert contains_phrase("We are not   interested.", ["not interested"]) == "not interested"
    assert contains_phrase("uninterested", ["interested"]) is None
    assert contains_phrase("Fuera de la Oficína", ["fuera de la oficina"]) == "fuera de la oficina"
    assert contains_phrase("", ["x"]) is None


@pytest.mark.parametrize("text,expected", [
    ("Cotizacion_CT-12.pdf", "cotización"),  # first keyword of the list that matches
    ("Quote A-778", "quote"),
    ("Re: COTIZACIÓN para obra", "cotización"),
    ("Presupuestos 2026.xlsx", "presupuesto"),
    ("Nuestras ofertas", "oferta"),
    ("proposal-v2.docx", "proposal"),
    ("he quoted the price", None),
    ("unquote", None),
    ("Estimated delivery", None),
    ("Reunión del lunes", None),
])
def test_has_keyword(text: str, expected: str | None) -> None:
    assert has_keyword(text, QUOTE_KEYWORDS) == expected


@pytest.mark.parametrize("text", [
    "Hello\n\nOn Mon, Mar 2, 2026 at 10:00 AM Ana <ana@acme.example> wrote:\n> the quote\n",
    "Hello\n\nEl lun, 2 mar 2026 a las 10:00, Ana Ruiz (<ana@acme.example>) escribió:\n> la cotización\n",
    "Hello\n\n-----Original Message-----\nFrom: Ana\nSent: Monday\nSubject: Quote\n",
    "Hello\n\n-----Mensaje original-----\nDe: Ana\nEnviado: lunes\n",
    "Hello\n\nFrom: Ana Ruiz <ana@acme.example>\nSent: Monday, March 2, 2026 10:00 AM\nTo: Jose\nSubject: Quote\n\nold text\n",
    "Hello\n\nDe: Ana Ruiz <ana@acme.example>\nEnviado el: lunes, 2 de marzo de 2026 10:00\nPara: José\nAsunto: Cotización\n",
    "Hello\n________________________________\nFrom: Ana\n",
    "Hello\n\nSent from my iPhone\n",
    "Hello\n\nEnviado desde mi iPhone\n",
    "Hello\n> quoted\n> more\n",
    "Hello\n\n-- \nAna Ruiz\nVentas\n",
])
def test_reply_text_cuts_quote_and_signature(text: str) -> None:
    assert reply_text(text) == "Hello"


def test_reply_text_bottom_posted() -> None:
    assert reply_text("On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello\n") == "Hello"


def test_reply_text_keeps_plain_text() -> None:
    assert reply_text("Line one.\n\nLine two: details.\n") == "Line one.\n\nLine two: details."
    assert reply_text("") == ""


@pytest.mark.parametrize("path", sorted((FIX / "talon").glob("*.eml")), ids=lambda p: p.name)
def test_talon_standard_replies(path: Path) -> None:
    assert reply_text(parse_message(path.read_bytes()).text) == "Hello"


@pytest.mark.parametrize("text,lang", [
    ("Hola Ana, gracias por la cotización. La revisamos con el equipo y te contamos esta semana.", "es"),
    ("Hi Ana, thanks for the quote. We will review it with the team and let you know this week.", "en"),
    ("OK", None),
    ("", None),
    ("12345 67890", None),
])
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


# ------------------------------------------------------------------ rule 8: own text
# DESIGN.md "Real mail", rule 8. The literals below follow the shapes of real replies
# (tests/fixtures/replies/SOURCES.txt names the public files that showed each shape).

OUR_QUOTE_ES = ("Estimado Diego:\n\nAdjunto la cotización. ¿Les interesa? Si no, no hay problema,\n"
                "no nos interesa insistir.\n\nSaludos,\nAna")


def test_rule8_gracias_above_our_quoted_decline_is_not_a_decline() -> None:
    body = ("Gracias\n\n"
            "El mar, 3 nov 2026 a las 10:02, Ana Pérez <ana@acme.example> escribió:\n"
            + "\n".join("> " + line for line in OUR_QUOTE_ES.split("\n")))
    assert contains_phrase(body, DECLINES) == "no nos interesa"  # in the message ...
    assert own_text(body) == "Gracias"
    assert contains_phrase(own_text(body), DECLINES) is None  # ... not in what the client wrote


def test_rule8_outlook_spanish_header_block_cuts_the_quote() -> None:
    body = ("Gracias, lo revisamos y te confirmo el viernes.\n\nDiego\n\n"
            "De: Ana Pérez [mailto:ana@acme.example]\n"
            "Enviado el: martes, 3 de noviembre de 2026 10:02 a. m.\n"
            "Para: Diego Ramírez <diego@cliente.example>; Laura Soto <laura@cliente.example>;\n"
            "compras@cliente.example\n"
            "CC: Marta Luna <marta@acme.example>\n"
            "Asunto: Cotización CT-2026-1042\n\n" + OUR_QUOTE_ES)
    assert own_text(body) == "Gracias, lo revisamos y te confirmo el viernes.\n\nDiego"


def test_rule8_outlook_spanish_header_block_with_names_only() -> None:
    body = ("Recibido.\n\nDe: Ana Pérez\nEnviado el: martes, 3 de noviembre de 2026 10:02\n"
            "Para: Diego Ramírez\nAsunto: Cotización\n\n" + OUR_QUOTE_ES)
    assert own_text(body) == "Recibido."


def test_rule8_outlook_web_spanish_enviado_block_after_underscores() -> None:
    body = ("No nos interesa por ahora, gracias.\n\n________________________________\n"
            "De: Ana Pérez <ana@acme.example>\nEnviado: lunes, 2 de noviembre de 2026 17:45\n"
            "Para: Laura Soto <laura@cliente.example>\nAsunto: Propuesta 2027\n\n"
            "Laura, la semana que entra te busco.")
    assert own_text(body) == "No nos interesa por ahora, gracias."


def test_rule8_outlook_for_mac_fecha_block() -> None:
    body = ("Perfecto.\n\nDe: Ana Pérez <ana@acme.example>\n"
            "Fecha: jueves, 5 de noviembre de 2026, 12:30\nPara: Diego Ramírez <diego@cliente.example>\n"
            "Asunto: Re: Cotización 1042\n\n¿Te confirmo mañana?")
    assert own_text(body) == "Perfecto."


def test_rule8_outlook_english_from_sent_to_subject_block() -> None:
    body = ("Let me check with the plant.\n\nFrom: Ana Perez <ana@acme.example>\n"
            "Sent: Tuesday, November 3, 2026 10:02 AM\nTo: Tom Baker <tom@client.example>\n"
            "Subject: Quote Q-778\n\nNot interested? Reply unsubscribe.")
    assert own_text(body) == "Let me check with the plant."


def test_rule8_outlook_bold_from_block() -> None:
    body = ("Outlook with a reply\n\n ------------------------------\n\n"
            "*From:* Ana Perez [mailto:ana@acme.example]\n*Sent:* Thursday, February 09, 2012 1:36 PM\n"
            "*To:* tom@client.example\n*Subject:* Quote\n\nNot interested? Just say so.")
    assert own_text(body) == "Outlook with a reply"
    assert own_text(body.replace("From:", "De:").replace("Sent:", "Enviado el:")
                    .replace("To:", "Para:").replace("Subject:", "Asunto:")) == "Outlook with a reply"


def test_rule8_outlook_html_reply_reduced_to_text() -> None:
    # Outlook's HTML header block: a <b>key</b> per line, values wrapped
    html = ("<div><p>Ana, gracias. Lo estamos revisando.</p><p>Diego</p></div>"
            "<div style='border-top:solid #E1E1E1 1.0pt'><p><b>De:</b><br>Ana Pérez [mailto:ana@acme.example]</p>"
            "<p><b>Enviado el:</b> martes, 3 de noviembre de 2026 10:02<br>a. m.</p><p><b>Para:</b> Diego</p>"
            "<p><b>Asunto:</b> Cotización</p></div><p>¿Les interesa? Si no, no nos interesa insistir.</p>")
    assert own_text(html_to_text(html)) == "Ana, gracias. Lo estamos revisando.\n\nDiego"


def test_rule8_portuguese_outlook_enviada_em_block() -> None:
    body = ("Recebido, obrigado.\n\nDe: Ana Pérez <ana@acme.example>\n"
            "Enviada em: terça-feira, 3 de novembro de 2026 10:02\nPara: Roberto Lima\n"
            "Assunto: Proposta comercial\n\nSegue a proposta.")
    assert own_text(body) == "Recebido, obrigado."


@pytest.mark.parametrize("attribution", [
    "On Mon, Mar 2, 2026 at 10:00 AM Ana Perez <ana@acme.example> wrote:",  # Gmail
    "On Mar 2, 2026, at 10:00, Ana Perez <ana@acme.example> wrote:",  # Apple Mail
    "On 02/03/2026 10:00, Ana Perez wrote:",  # Thunderbird
    "El lun, 2 mar 2026 a las 10:00, Ana Pérez (<ana@acme.example>) escribió:",  # Gmail es
    "El 2 mar 2026, a las 10:00, Ana Pérez <ana@acme.example> escribió:",  # Apple Mail es
    "El 02/03/26 a las 10:00, Ana Pérez escribió:",  # Thunderbird es
    "El jueves, 21 de noviembre de 2013, Ana Pérez escribió:",  # Gmail mobile es
    "Em seg., 2 de mar. de 2026 às 10:00, Ana Pérez <ana@acme.example> escreveu:",  # Gmail pt
    "---- On Mon, 02 Mar 2026 10:00:00 -0600 ana@acme.example wrote ----",  # Zoho
    "2026-03-02 10:00 GMT-06:00 Ana Pérez <ana@acme.example>:",  # old Gmail
    "02.03.2026, 10:00, \"Ana Pérez\" <ana@acme.example>:",  # Yandex / mail.ru
])
def test_rule8_attribution_lines_cut_the_quote(attribution: str) -> None:
    body = f"Lo reviso y te aviso.\n\n{attribution}\n\n¿Les interesa? Si no, no nos interesa insistir."
    assert own_text(body) == "Lo reviso y te aviso."


@pytest.mark.parametrize("attribution", [
    "El mar, 3 nov 2026 a las 10:02, Ana Pérez - Acme Ventas <ana.perez@acme.example>\nescribió:",
    "El lun., 2 de nov. de 2026 17:45, Ana Pérez <\nana.perez.ventas@acme.example> escribió:",
    "On Dec 16, 2011, at 12:47 PM, Ana Perez\n<ana@acme.example>\nwrote:",
    "Em 10 de julho de 2017 às 16:32:35, Ana Pérez (\nana@acme.example) escreveu:",
])
def test_rule8_gmail_attribution_wrapped_over_two_lines(attribution: str) -> None:
    body = f"Gracias, lo vemos el lunes.\n\n{attribution}\n\n> ¿Les interesa? Si no, no nos interesa insistir."
    assert own_text(body) == "Gracias, lo vemos el lunes."


def test_rule8_attribution_right_below_the_last_sentence_takes_only_its_own_lines() -> None:
    body = ("Regretfully I only have time\nto test this in 2 weeks. I will let you know then...\n"
            "Op 16 aug. 2014 05:13 schreef \"Ana\" <ana@acme.example> het\nvolgende geschreven:\n\n> old")
    assert own_text(body) == "Regretfully I only have time\nto test this in 2 weeks. I will let you know then..."


@pytest.mark.parametrize("separator", [
    "-----Original Message-----", "-----Mensaje original-----", "----- Mensaje original -----",
    "-------- Mensaje original --------", "-------- Mensagem original --------",
    "---------- Forwarded message ---------", "---------- Mensaje reenviado ----------",
    "Inicio del mensaje reenviado:", "Begin forwarded message:",
    "________________________________", "__",
])
def test_rule8_separators_cut_the_quote(separator: str) -> None:
    body = f"Te comento la próxima semana.\n\n{separator}\n\n¿Les interesa? Si no, no nos interesa insistir."
    assert own_text(body) == "Te comento la próxima semana."


def test_rule8_forwarded_content_is_not_own_text() -> None:
    body = ("Laura, te reenvío la cotización.\n\n---------- Forwarded message ---------\n"
            "De: Ana Pérez <ana@acme.example>\nDate: mar, 3 nov 2026 a las 10:02\n"
            "Subject: Cotización\nTo: Diego <diego@cliente.example>\n\n" + OUR_QUOTE_ES)
    assert own_text(body) == "Laura, te reenvío la cotización."
    assert own_text("---------- Forwarded message ---------\nFrom: Ana <ana@acme.example>\n"
                    "Date: Tue, Nov 3, 2026\nSubject: Quote\n\nNot interested?") == ""


def test_rule8_lotus_notes_on_date_line() -> None:
    body = ("We are reviewing the quote. I will let you know next week.\n\nTom\n\n\n"
            "\"Ana Perez\" <ana@acme.example> on 03/27/2000 10:00:12 AM\n\n"
            "Please respond to ana@acme.example\n\n"
            "To:   Tom Baker/Purchasing/ClientCo@CLIENTCO\ncc:\nSubject:  Quote Q-778\n\n"
            "Not interested? No problem, just tell us.")
    assert own_text(body) == "We are reviewing the quote. I will let you know next week.\n\nTom"


@pytest.mark.parametrize("line", [
    "Ana Perez/Ventas/Acme@ACME on 03/27/2000 10:00 AM",
    "Ana Perez <ana@acme.example> on 03/08/2001 02:06:06 PM",
    "ana@acme.example on 27.03.2000 10:00",
    "Ana Perez/Ventas/Acme on 03/27/2000 10:00 AM",
])
def test_rule8_lotus_notes_on_date_line_variants(line: str) -> None:
    body = f"Gracias, lo revisamos.\n\n{line}\n\nTo: Diego\ncc:\nSubject: Cotizacion\n\n¿Les interesa?"
    assert own_text(body) == "Gracias, lo revisamos."


def test_rule8_lotus_notes_sender_and_date_lines_above_to_cc_subject_block() -> None:
    body = ("Not interested at this time, thank you.\n\nJane\n\n\nAna Perez\n03/27/2000 04:59 PM\n\n"
            "To:   Jane Doe/Purchasing/ClientCo@CLIENTCO\ncc:   \"Tom Baker\" <tom@client.example>\n"
            "From: Ana Perez/Sales/Acme@ACME\nSubject:  Re: Quote\n\nAre you interested?")
    assert own_text(body) == "Not interested at this time, thank you.\n\nJane"


def test_rule8_lotus_notes_column_layout() -> None:
    body = ("Thanks Ana, we'll get back to you next week.\n\n- Tom\n\n\n"
            + " " * 86 + "\n"
            + " " * 22 + "\"Ana Perez\"\n"
            + " " * 22 + "<ana@acme.exampl         To:       Tom Baker <tom@client.example>\n"
            + " " * 22 + "e>                       cc:\n"
            + " " * 47 + "Subject:  Quote Q-2002-778\n"
            + " " * 22 + "08/08/2002 04:24\n" + " " * 22 + "PM\n\n\n\n"
            "Tom, are you interested? If not, we are not interested in insisting.")
    assert own_text(body) == "Thanks Ana, we'll get back to you next week.\n\n- Tom"


def test_rule8_lotus_notes_forwarded_by_separator() -> None:
    body = ("Laura, please review.\n\n---------------------- Forwarded by Tom Baker/Purchasing/ClientCo"
            " on 03/27/2000\n11:15 AM ---------------------------\n\nAna Perez\n03/27/2000 10:00 AM\n\n"
            "To: Tom Baker/Purchasing/ClientCo@CLIENTCO\ncc:\nSubject: Quote\n\nNot interested?")
    assert own_text(body) == "Laura, please review."


def test_rule8_quoted_lines_dropped_and_bottom_posted_answer_kept() -> None:
    body = ("El mar, 3 nov 2026 a las 10:02, Ana Pérez (<ana@acme.example>) escribió:\n"
            "> Diego, ¿les interesa la cotización?\n>\n> Ana\n\nNo, gracias. Por ahora no nos interesa.\n\nDiego\n")
    assert own_text(body) == "No, gracias. Por ahora no nos interesa.\n\nDiego"
    assert own_text("> ¿Les interesa?\n\nSí, envíenme la orden.") == "Sí, envíenme la orden."


def test_rule8_inline_answers_between_quoted_lines_kept() -> None:
    body = ("Te contesto entre líneas.\n\nEl mar, 3 nov 2026 a las 10:02, Ana <ana@acme.example> escribió:\n"
            "> ¿Necesitan el acero antes de diciembre?\n\nSí, antes del 15.\n\n"
            "> ¿Les interesa el servicio de corte?\n\nNo, ese no nos interesa.\n\n> Saludos, Ana\n")
    assert own_text(body) == "Te contesto entre líneas.\n\nSí, antes del 15.\n\nNo, ese no nos interesa."


def test_rule8_quote_line_wrapped_by_the_client_is_not_own_text() -> None:
    body = ("Gracias, lo revisamos.\n\nEl mar, 3 nov 2026 a las 10:02, Ana <ana@acme.example> escribió:\n"
            "> Estimado Diego: adjunto la cotización del acero estructural. ¿Les interesa? Si\n"
            "no, no hay problema, no nos interesa insistir.\n> Saludos, Ana\n")
    assert own_text(body) == "Gracias, lo revisamos."


def test_rule8_unquoted_text_after_a_header_is_the_quoted_original() -> None:
    # no ">" below the header: nothing after it is the sender's, even after a blank line
    body = "Gracias.\n\nOn Nov 26, 2013 you wrote:\n\nNot interested? Tell us.\n\nAna"
    assert own_text(body) == "Gracias."


def test_rule8_only_quoted_text_means_no_own_text() -> None:
    assert own_text("> ¿Les interesa?\n> Si no, no nos interesa insistir.\n") == ""
    assert own_text("El 3 nov 2026, Ana <ana@acme.example> escribió:\n\nNo nos interesa insistir.") == ""


def test_rule8_supercite_initials_quoting_dropped() -> None:
    assert own_text("Answer.\n\nAP> Are you interested?\nAP> If not, not interested.\n") == "Answer."


@pytest.mark.parametrize("dashes", ["-- ", "--"])
def test_rule8_signature_after_dash_dash_dropped(dashes: str) -> None:
    body = f"Va, mañana te confirmo.\n\n{dashes}\nDiego Ramírez\nNo nos interesa recibir publicidad."
    assert own_text(body) == "Va, mañana te confirmo."


@pytest.mark.parametrize("text", [
    "And here is a fix -- this is not a signature.\n\nkthxbai",
    "Puntos:\n-- precio\n-- entrega\n\nGracias",
    "## Key Points\n----\n\n1. Precio\n\n====\n\nFin.",
])
def test_rule8_dashes_that_are_not_a_signature_line_are_kept(text: str) -> None:
    assert own_text(text) == text


@pytest.mark.parametrize("signoff", [
    "Sent from my iPhone", "Enviado desde mi iPhone", "Enviado desde mi smartphone Samsung Galaxy.",
    "Enviado do meu iPhone", "Sent from my Verizon, Samsung Galaxy smartphone",
    "Get Outlook for Android<https://aka.ms/ghei36>", "Obtener Outlook para iOS<https://aka.ms/o0ukef>",
    "Enviado desde Yahoo Mail para Android", "Sent from Mail for Windows", "Envoyé de mon iPhone",
])
def test_rule8_mobile_signoffs_dropped(signoff: str) -> None:
    body = f"Lo reviso y te aviso el viernes.\n\n{signoff}\n\n¿Les interesa? Si no, no nos interesa insistir."
    assert own_text(body) == "Lo reviso y te aviso el viernes."


@pytest.mark.parametrize("text", [
    "Here is another email\n\nSent from my desk, is much easier then my mobile phone.",
    "The notification was sent from my iPhone app to all users.",
    "Enviado desde la planta el lunes\nllega el martes a su almacén.",
])
def test_rule8_sent_from_in_a_sentence_is_kept(text: str) -> None:
    assert own_text(text) == text


@pytest.mark.parametrize("disclaimer", [
    "AVISO DE CONFIDENCIALIDAD: Este correo electrónico y sus anexos son confidenciales. Si usted no "
    "es el destinatario, no nos interesa que lo conserve.",
    "Este mensaje y sus anexos son confidenciales y para uso exclusivo del destinatario.",
    "La información contenida en este correo es confidencial.",
    "CONFIDENTIALITY NOTICE: This e-mail is intended solely for the addressee. Not interested? Delete it.",
    "If you are not the intended recipient, please delete this message. Unsubscribe here.",
])
def test_rule8_confidentiality_disclaimer_dropped(disclaimer: str) -> None:
    body = f"Recibimos la propuesta, te comento la próxima semana.\n\nLaura\n\n{disclaimer}"
    assert own_text(body) == "Recibimos la propuesta, te comento la próxima semana.\n\nLaura"


@pytest.mark.parametrize("banner", [
    "CAUTION: This email originated from outside of the organization. Do not click links or open\n"
    "attachments unless you recognize the sender and know the content is safe.",
    "PRECAUCIÓN: Este correo electrónico se originó fuera de la organización. No haga clic en vínculos.",
    "[EXTERNAL] This message came from an external sender.",
])
def test_rule8_external_sender_banner_dropped(banner: str) -> None:
    assert own_text(f"{banner}\n\nGracias, le comento a mi jefe.") == "Gracias, le comento a mi jefe."


def test_rule8_prose_lines_starting_with_de_para_asunto_are_not_a_header() -> None:
    text = ("Ana, buenos días:\n\nDe: nuestra parte todo listo para firmar.\n"
            "Para: el lunes tendremos la orden de compra.\n\nAsunto: el pago será a 30 días.\n\nDiego")
    assert own_text(text) == text
    prose = "De: acuerdo con lo hablado, seguimos.\nGracias."
    assert own_text(prose) == prose


@pytest.mark.parametrize("text", [
    "On the other hand, we should be careful.\nOn average, this works well.",
    "El precio nos parece bien.\nEl lunes te confirmo: 40 toneladas.",
    "I need emails that come from: john@example.com\n\nThe data comes From: our database.",
    "Formatos:\n2024-01-15 14:30:25\n15.01.2024 14:30\nJan 15, 2024 at 14:30",
    "Entrega en Monterrey/Saltillo on 12/15/2026",
])
def test_rule8_prose_that_looks_like_a_header_is_kept(text: str) -> None:
    assert own_text(text) == text


def test_rule8_reply_text_is_own_text() -> None:
    body = "Gracias\n\nEl 3 nov 2026, Ana <ana@acme.example> escribió:\n> no nos interesa"
    assert reply_text(body) == own_text(body) == "Gracias"


def test_rule8_own_text_is_linear_on_pathological_input() -> None:
    # github/email_reply_parser's long-quote case: huge ">" runs and many "On" lines
    body = "Hi\n" + (">" * 20000 + "\nasdf\nOn Thursday:\n" + "x" * 500 + "\n") * 50
    started = time.perf_counter()
    assert own_text.__wrapped__(body).startswith("Hi")
    assert time.perf_counter() - started < 1.0


def _reply_fixtures() -> list[Path]:
    return sorted(p for p in REPLIES.glob("*") if p.suffix in (".txt", ".eml") and p.name != "SOURCES.txt")


@pytest.mark.parametrize("path", _reply_fixtures(), ids=lambda p: p.name)
def test_rule8_reply_fixtures(path: Path) -> None:
    raw = path.read_bytes()
    text = parse_message(raw).text if path.suffix == ".eml" else raw.decode("utf-8")
    expected = path.with_suffix(".own").read_text(encoding="utf-8").strip()
    assert own_text(text) == expected


@pytest.mark.parametrize("name,expected", [
    ("email_es_wrap.txt", "Hola Anna,\n\nGracias por escribirme. Las condiciones me parecen razonables, puedo hablar\n"
                          "mañana por la mañana.\n\nSaludos\nB"),
    ("email_en_wrap.txt", "Hi Anna,\n\nThanks for the offer — the timing could work. Could you share the rate and\n"
                          "the start date?\n\n/B"),
    ("email_danish_1.txt", "Hej Peter,\n\nTak for din mail. Det lyder godt.\n\nMed venlig hilsen\nAnders Andersen"),
    ("multiline_on.txt", ""),
])
def test_rule8_held_out_mail_parser_reply_files(name: str, expected: str) -> None:
    assert own_text((FIX / "mail-parser-reply" / name).read_text(encoding="utf-8")) == expected
