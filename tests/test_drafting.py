"""Templates (sandboxed Jinja2, StrictUndefined), contact details read from mail text,
and the draft / link builders."""

from __future__ import annotations

import email
from datetime import datetime, timezone
from email.policy import default as default_policy
from urllib.parse import unquote

import pytest

from assistant.drafting.compose import email_draft, reply_subject, whatsapp_link
from assistant.drafting.contacts import find_phone, greeting_name, quote_number, signature_of
from assistant.drafting.templates import (
    LANGUAGES, TemplateProblem, TemplateSource, render, sample_context, shipped_templates, validate,
)
from assistant.settings import load_settings
from assistant.starter import __name__ as _starter  # noqa: F401  (the package exists)

SHIPPED = shipped_templates()
DEFAULT_STEPS = ("followup_1", "call_1", "followup_2", "whatsapp_1", "followup_3")


@pytest.mark.parametrize("name", DEFAULT_STEPS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shipped_template_renders_in_both_languages(name, language):
    source = SHIPPED[name, language]
    assert source.text.startswith("{#") and "Variables:" in source.text.split("#}")[0]
    full = render(source, sample_context(language))
    assert full.subject and full.body.strip()
    assert "Diego" in full.body and "None" not in full.body and "None" not in full.subject
    if name.startswith("followup"):
        assert full.subject == "Re: Cotización CN-2026-0401 lámina galvanizada"
        assert full.body.rstrip().endswith("Tel. +52 81 8300 1020")  # the signature
    sparse = sample_context(language)
    sparse["contact"] = dict(sparse["contact"], first_name=None, phone=None, company=None, name=None)
    sparse["quote"] = dict(sparse["quote"], number=None, attachments=[])
    bare = render(source, sparse)
    assert "None" not in bare.body + bare.subject
    for line in bare.body.splitlines():  # no holes where an optional value was missing
        assert "  " not in line and " ," not in line and " ." not in line, line
    assert len(full.body) < 1100  # short: reps send these, clients read them on a phone


def test_spanish_and_english_templates_are_written_in_their_language():
    es = render(SHIPPED["followup_1", "es"], sample_context("es")).body
    en = render(SHIPPED["followup_1", "en"], sample_context("en")).body
    assert "cotización" in es and "Hola Diego" in es
    assert "quote" in en and "Hi Diego" in en
    assert validate(list(SHIPPED.values())) == []


def test_shipped_templates_cover_the_starter_protocol():
    from pathlib import Path
    starter = load_settings(Path("assistant/starter/settings.toml").resolve())
    for step in starter.protocol.steps:
        assert all((step.template, lang) in SHIPPED for lang in LANGUAGES), step.template


def test_missing_variable_is_an_error_with_template_name_and_line_never_hola_blank():
    source = TemplateSource("saludo", "es", "{# x #}\nSubject: Hola\n\nHola {{ contact.nombre }},\nsaludos",
                            0, "templates/saludo.es.txt")
    with pytest.raises(TemplateProblem) as err:
        render(source, sample_context("es"))
    assert "templates/saludo.es.txt line 4" in str(err.value) and "nombre" in str(err.value)


def test_unknown_top_level_variable_is_refused_before_rendering():
    source = TemplateSource("x", "es", "Subject: a\n\n{% if false %}{{ cliente.nombre }}{% endif %}ok",
                            0, "x.es.txt")
    with pytest.raises(TemplateProblem, match=r"x.es.txt line 3: unknown variable cliente"):
        render(source, sample_context("es"))
    assert validate([source]) and "unknown variable cliente" in validate([source])[0]


def test_syntax_error_names_the_line():
    source = TemplateSource("x", "en", "Subject: a\n\nHi {{ contact.first_name }\n", 0, "x.en.txt")
    with pytest.raises(TemplateProblem, match=r"x.en.txt line 3: syntax error"):
        render(source, sample_context("en"))


@pytest.mark.parametrize("attack", [
    "{{ contact.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ quote.attachments.__class__.__init__.__globals__ }}",
    "{{ owner.name.format.__globals__ }}",
])
def test_sandbox_refuses_python_internals(attack):
    source = TemplateSource("evil", "es", f"Subject: a\n\n{attack}\n", 0, "evil.es.txt")
    with pytest.raises(TemplateProblem) as err:
        render(source, sample_context("es"))
    assert "evil.es.txt" in str(err.value)
    assert validate([source])


@pytest.mark.parametrize("bomb", ["{{ 'x' * 10**9 }}", "{{ [1] * 500000 }}", "{{ 9 ** 999999 }}"])
def test_sandbox_refuses_templates_that_would_build_huge_values(bomb):
    # An admin typing in the live preview must not be able to stall the server.
    source = TemplateSource("bomb", "es", f"Subject: a\n\n{bomb}\n", 0, "bomb.es.txt")
    with pytest.raises(TemplateProblem, match="bomb.es.txt"):
        render(source, sample_context("es"))


def test_ordinary_repetition_in_templates_still_works():
    source = TemplateSource("line", "es", "Subject: a\n\n{{ '-' * 20 }} {{ 2 ** 10 }}\n", 0, "line.es.txt")
    assert render(source, sample_context("es")).body.strip() == "-" * 20 + " 1024"


def test_template_without_subject_or_with_empty_body_is_refused():
    with pytest.raises(TemplateProblem, match="Subject"):
        render(TemplateSource("x", "es", "Hola\n", 0, "x"), sample_context("es"))
    with pytest.raises(TemplateProblem, match="body is empty"):
        render(TemplateSource("x", "es", "Subject: a\n\n{% if false %}x{% endif %}\n", 0, "x"),
               sample_context("es"))


# --- Phones, signatures, names, numbers ----------------------------------------------

SPANISH_REPLY = """Hola Luis,

Sí nos interesa la opción B. ¿Me confirmas el flete a Saltillo?

Saludos,
Ricardo Salinas
Compras | Estructuras del Norte
Tel. 81 1234 5678
Cel. +52 1 81 8765 4321

-----Mensaje original-----
De: Luis Herrera
Enviado: martes, 17 de noviembre de 2026 11:02
Asunto: Cotización

Luis Herrera
Tel. +52 81 8300 1030
"""

ENGLISH_REPLY = """Hi Ana,

Thanks. Could you include freight to Laredo, TX?

--
Karen Walsh
Purchasing | Gulf Coast Pipe
Phone: (956) 555-0142

On Mon, Nov 16, 2026 at 9:30 AM Ana Pérez <ana@acme.example> wrote:
> Attached is our quotation. Tel. +52 81 8300 1020
"""


def test_phone_from_a_spanish_signature_with_default_region_and_legacy_mobile_prefix():
    office = find_phone([SPANISH_REPLY], "MX")
    assert (office.e164, office.display) == ("+528112345678", "+52 81 1234 5678")
    mobile = find_phone([SPANISH_REPLY], "MX", prefer_mobile=True)
    assert mobile.e164 == "+528187654321" and mobile.digits == "528187654321"


def test_phone_from_an_english_signature_after_the_dash_line_not_from_the_quoted_part():
    phone = find_phone([ENGLISH_REPLY], "US")
    assert phone.e164 == "+19565550142"
    assert find_phone(["Thanks!\n\n> Tel. +52 81 8300 1020"], "MX") is None
    assert find_phone(["Gracias, lo reviso.", ENGLISH_REPLY], "US").e164 == "+19565550142"


def test_spanish_phone_in_spain_region():
    assert find_phone(["Un saludo,\nLucía\nMóvil 612 34 56 78"], "ES").e164 == "+34612345678"


def test_signature_names_and_numbers():
    body = "Gerardo, buen día.\n\nAdjunto la cotización.\n\nQuedo atenta.\n\nAna Pérez\nEjecutiva\nTel. +52 81 8300 1020"
    assert signature_of([body], "Ana Pérez") == "Ana Pérez\nEjecutiva\nTel. +52 81 8300 1020"
    assert greeting_name(body) == "Gerardo"
    assert greeting_name("Hi Mike,\n\nPlease find") == "Mike"
    assert greeting_name("Estimado cliente,\n\nAdjuntamos") is None
    assert greeting_name("Ingeniero Quiroga,\n\nAdjunto") is None
    assert greeting_name("Buen día,\n\nAdjunto") is None
    assert quote_number("Material para obra Cumbres", ["Cotizacion_CN-2026-0412.pdf"]) == "CN-2026-0412"
    assert quote_number("Cotización pedido 4471") == "4471"
    assert quote_number("Propuesta de suministro", ["Propuesta_angulo_2026.pdf"]) is None


# --- Draft and links -----------------------------------------------------------------

def test_email_draft_is_a_threaded_reply_carrying_the_idempotency_key():
    data = email_draft(key="fu-abc-1", sender="ana@acme.example", sender_name="Ana Pérez",
                       to="diego@cliente.example", to_name="Diego Ruiz",
                       subject=reply_subject("Cotización 1042", "Cotización 1042"),
                       body="Hola Diego,\n\n¿Cómo vas?\n", in_reply_to="<f1@acme.example>",
                       references=("<q1@acme.example>",), date=datetime(2026, 11, 12, tzinfo=timezone.utc),
                       message_domain="acme.example")
    msg = email.message_from_bytes(data, policy=default_policy)
    assert msg["Subject"] == "Re: Cotización 1042"
    assert msg["In-Reply-To"] == "<f1@acme.example>"
    assert msg["References"] == "<q1@acme.example> <f1@acme.example>"
    assert msg["X-Followup-Id"] == "fu-abc-1"
    assert msg["Message-ID"] == "<fu-abc-1@acme.example>"
    assert msg.get_content() == "Hola Diego,\n\n¿Cómo vas?\n"
    assert reply_subject("RV: Cotización", "x") == "Re: Cotización"
    assert reply_subject("RE: Cotización", "x") == "RE: Cotización"


def test_whatsapp_link_carries_digits_and_the_encoded_message():
    link = whatsapp_link("528187654321", "Hola Diego, ¿cómo vas? 100% listo & más\n")
    assert link.startswith("https://wa.me/528187654321?text=")
    assert unquote(link.split("text=", 1)[1]) == "Hola Diego, ¿cómo vas? 100% listo & más"
    assert whatsapp_link(None, "hola") is None
