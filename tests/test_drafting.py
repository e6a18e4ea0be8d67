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
    FIELDS, LANGUAGES, TemplateProblem, TemplateSource, render, sample_context, shipped_templates,
    validate, validation_contexts,
)
from assistant import data
from assistant.settings import load_settings

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
    starter = load_settings(data.FOLDER / "settings.toml")
    for step in starter.protocol.steps:
        assert all((step.template, lang) in SHIPPED for lang in LANGUAGES), step.template


def test_missing_variable_is_an_error_with_template_name_and_line_never_hola_blank():
    source = TemplateSource("saludo", "es", "{# x #}\nSubject: Hola\n\nHola {{ contact.nombre }},\nsaludos",
                            0, "templates/saludo.es.txt")
    with pytest.raises(TemplateProblem) as err:
        render(source, sample_context("es"))
    assert "templates/saludo.es.txt line 4" in str(err.value) and "nombre" in str(err.value)


def test_a_field_the_variable_does_not_have_is_refused_naming_its_fields():
    """``contact.nombre``: refused when read (even inside a branch a sample would not
    take), in words naming the variable's real fields, not "dict object has no attribute"."""
    source = TemplateSource("x", "es", "Subject: a\n\n{% if false %}{{ contact.nombre }}{% endif %}"
                            "{{ quote['totl'] }}", 0, "x.es.txt")
    with pytest.raises(TemplateProblem) as err:
        render(source, sample_context("es"))
    assert str(err.value).startswith("x.es.txt line 3: contact has no field nombre (contact's fields: "
                                     "name, first_name, email, company, phone, formal)")
    assert "dict object" not in err.value.words("es")
    assert "contact no tiene el campo nombre (campos de contact: name, first_name" in err.value.words("es")
    fine = TemplateSource("y", "es", "Subject: a\n\n{{ contact.get('first_name') }} {{ quote['number'] }}"
                          "{% for contact in [{'x': 1}] %}{{ contact.x }}{% endfor %}"
                          "{% if reply %}{{ reply.date }}{% endif %}", 0, "y.es.txt")
    assert validate([fine]) == []


def test_the_planners_context_has_exactly_the_fields_templates_may_use():
    contexts = validation_contexts("es") + validation_contexts("en")
    for context in contexts:
        for name, fields in FIELDS.items():
            if context[name] is not None:
                assert tuple(context[name]) == fields, name


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


# --- Bounded rendering: hostile templates, legitimate ones -----------------------------

import time  # noqa: E402

import jinja2  # noqa: E402
from jinja2.sandbox import SandboxedEnvironment  # noqa: E402

from assistant.drafting.sandbox import FOLLOWUP_LIMITS, Limits  # noqa: E402
from assistant.drafting.templates import (  # noqa: E402
    split_subject, stored_form, stored_text, validation_contexts,
)
from tests.hostile_templates import CLOCK, HOSTILE  # noqa: E402


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.id)
def test_every_hostile_template_is_refused_at_its_line_in_process(hostile):
    """The sandbox alone (no worker, no clock): each hostile template from the issue, the
    sandbox docs and known reports is refused by a limit that names line 3, fast."""
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as err:
        render(hostile.source(), sample_context("es"))
    elapsed = time.monotonic() - started
    assert err.value.what in hostile.accepted(clock=False), str(err.value)
    assert err.value.line == 3, str(err.value)
    assert str(err.value).startswith(f"h_{hostile.id}.es line 3: "), str(err.value)
    assert elapsed < 2.0


def test_the_clock_case_is_within_every_limit_but_time():
    """The template only the worker's clock stops: it passes every size and step check (so
    a clock is needed), shown by rendering a shortened copy in process."""
    short = CLOCK.code.replace("range(100000)", "range(50)")
    source = TemplateSource("c", "es", f"Subject: a\n\n{short}\nok\n", 0, "c.es")
    assert render(source, sample_context("es")).body == "ok\n"


def test_problems_are_told_in_spanish_and_english_with_their_line():
    source = TemplateSource("x", "es", "Subject: a\n\n\n{{ 'x'|center(5000) }}\n", 0, "x.es")
    with pytest.raises(TemplateProblem) as err:
        render(source, sample_context("es"))
    assert err.value.line == 4
    assert err.value.describe("en") == "x.es line 4: 5,000 is too big for a width (at most 1,000)"
    assert err.value.describe("es") == "x.es línea 4: 5\u00a0000 es demasiado para un ancho (máximo 1\u00a0000)"
    missing = TemplateSource("y", "es", "Subject: a\n\n{{ contact.nombre }}\n", 0, "y.es")
    with pytest.raises(TemplateProblem) as err:
        render(missing, sample_context("es"))
    assert err.value.describe("es") == ("y.es línea 3: contact no tiene el campo nombre (campos de "
                                        "contact: name, first_name, email, company, phone, formal)")


def test_limits_are_the_documented_values():
    assert FOLLOWUP_LIMITS == Limits(source=50_000, nesting=16, tree=80, output=100_000,
                                     value=100_000, created=5_000_000, width=1_000,
                                     int_bits=128, steps=100_000)


def test_right_at_the_limits_a_template_still_renders():
    at_limits = ("{{ ('x' * 99990)|length }} {{ 'x'|center(1000)|length }} {{ 2 ** 127 }} "
                 "{{ '%1000d'|format(7)|length }} {{ range(100000)|list|length }} "
                 "{{ " + "(" * 15 + "1" + ")" * 15 + " }}")
    source = TemplateSource("edge", "en", f"Subject: a\n\n{at_limits}\n", 0, "edge.en")
    body = render(source, sample_context("en")).body
    assert body.split() == ["99990", "1000", str(2 ** 127), "1000", "100000", "1"]
    over = at_limits.replace("99990", "100001")
    with pytest.raises(TemplateProblem, match="edge.en line 3: this builds a value"):
        render(TemplateSource("edge", "en", f"Subject: a\n\n{over}\n", 0, "edge.en"),
               sample_context("en"))


ADMIN_EDITS = [
    "{% for a in quote.attachments %}- {{ a }} ({{ loop.index }}/{{ loop.length }}, "
    "{{ loop.cycle('par', 'impar') }})\n{% else %}(sin adjuntos)\n{% endfor %}",
    "{{ contact.name|upper }} · {{ quote.subject|truncate(30) }} · {{ contact.company|default('su empresa') }}",
    "{{ owner.signature|indent(2) }}\n{{ quote.subject|wordwrap(20) }}\n{{ contact.name|center(40) }}|",
    "{{ quote.attachments|join(', ') }} / {{ quote.attachments|map('upper')|join('; ') }}",
    "{{ '%s días, paso %d de %d'|format(days_since_quote, step.number, step.total) }}",
    "{{ '{:>3}|{:,}|{:.2f}'.format(step.number, 1234567, 3.14159) }} {{ '%05.1f' % 3.14159 }}",
    "{{ '-' * 20 }} {{ 2 ** 10 }} {{ days_since_quote * 2 + 1 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 1 / 4 }}",
    "{% set ns = namespace(n=0) %}{% for a in quote.attachments %}{% set ns.n = ns.n + 1 %}"
    "{% endfor %}{{ ns.n }} adjunto(s)",
    "{% macro saludo(nombre, coma=',') %}Hola {{ nombre }}{{ coma }}{% endmacro %}"
    "{{ saludo(contact.first_name or 'equipo') }}",
    "{% if step.number == 1 %}Primero{% elif step.number < step.total %}Intermedio{% else %}"
    "Último{% endif %}: {{ step.number }}/{{ step.total }}",
    "{% set firma %}{{ owner.name }} — {{ company }}{% endset %}{{ firma|upper }}\n"
    "{% filter title %}gracias por su tiempo{% endfilter %}",
    "{{ quote.subject.split()|first }} {{ contact.email.split('@')[1] }} "
    "{{ 'Sr(a). ' ~ contact.name }} {{ quote.subject.replace('Cotización', 'Propuesta') }}",
    "{{ contact.name.ljust(20) }}|{{ range(step.total)|list|length }} {{ [1, 2, 3]|sum }} "
    "{{ {'b': 1, 'a': 2}|dictsort }} {{ quote.attachments|length }}",
    "{{ quote|tojson }} {{ {'n': step.number}|tojson(indent=2) }}",
    "{% for row in [quote.attachments, [company]] %}{% for x in row %}{{ x }};{% endfor %}{% endfor %}",
    "{% for i in [1, [2, [3]]] recursive %}{% if i is iterable %}{{ loop(i) }}{% else %}{{ i }}{% endif %}{% endfor %}",
    "{{ contact.phone or 'sin teléfono' }} {{ quote.number if quote.number else 's/n' }} "
    "{{ language }} {{ (days_since_quote > 2) and 'tarde' or 'a tiempo' }}",
]


def _stock_render(text: str, context: dict) -> tuple[str, str]:
    """Jinja's own sandbox, without our limits: what a template rendered as before."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    return split_subject(env.from_string(text).render(**context))


@pytest.mark.parametrize("edit", ADMIN_EDITS)
def test_realistic_admin_edits_render_exactly_as_jinja_renders_them(edit):
    for language in LANGUAGES:
        text = f"{{# an edited template #}}\nSubject: Re: {{{{ quote.subject }}}}\n\n{edit}\n\n{{{{ owner.signature }}}}\n"
        source = TemplateSource("edit", language, text, 0, "edit.txt")
        for context in validation_contexts(language):
            ours = render(source, context)
            assert (ours.subject, ours.body) == _stock_render(text, context)


@pytest.mark.parametrize("key", sorted(SHIPPED), ids="_".join)
def test_shipped_templates_render_exactly_as_jinja_renders_them(key):
    source = SHIPPED[key]
    for context in validation_contexts(source.language):
        ours = render(source, context)
        assert (ours.subject, ours.body) == _stock_render(source.text, context)


def test_an_edited_version_stores_what_is_validated_and_names_the_admins_lines():
    text = "{# header #}\n\nSubject: Re: {{ quote.subject }}\n\n\nHola {{ contact.first_name }}\n{{ x.y }}\n"
    stored = stored_form(text, "followup_1.es (edited)")
    assert stored.text == "Subject: Re: {{ quote.subject }}\n\nHola {{ contact.first_name }}\n{{ x.y }}\n"
    assert stored.text == stored_text(stored.subject, stored.body)
    assert [stored.edited_line(n) for n in (1, 3, 4)] == [3, 6, 7]
    with pytest.raises(TemplateProblem) as err:
        render(TemplateSource("f", "es", stored.text, 0, "followup_1.es (edited)"), sample_context("es"))
    assert err.value.line == 4 and stored.locate(err.value).line == 7
    assert "line 7: unknown variable x" in str(stored.locate(err.value))


def test_a_set_before_the_subject_line_is_refused_not_silently_dropped():
    with pytest.raises(TemplateProblem) as err:
        stored_form("{# ok #}\n{% set saludo = 'Hola' %}\nSubject: {{ saludo }}\n\nx\n", "f.es (edited)")
    assert err.value.what == "preamble" and err.value.line == 2
    assert "line 2: only {# comments #} may come before the 'Subject:' line" in str(err.value)
    with pytest.raises(TemplateProblem, match="first line must be 'Subject"):
        stored_form("Hola\n", "f.es (edited)")


# ------------------------------------------------------------- who a follow-up copies


def _mail(sender, to=(), cc=(), bcc=()):
    from datetime import datetime, timezone

    from assistant.domain.model import Mail
    return Mail(key=1, message_id="<m@x>", date=datetime(2026, 11, 2, tzinfo=timezone.utc),
                from_addr=sender, to=tuple(to), cc=tuple(cc), bcc=tuple(bcc))


def _external(address: str) -> bool:
    """As the demo team's rules read addresses: aceros.example (and its subdomains) is
    ours; a domain cut short or without a dot is malformed."""
    domain = address.rpartition("@")[2]
    return "." in domain and not domain.endswith("aceros.example") and domain != "aceros.ex"


def test_a_follow_up_copies_the_clients_people_on_the_message_it_answers():
    from assistant.drafting.compose import reply_cc

    # Our quote to the buyer, the buyer's boss and our own colleague in copy.
    quote = _mail("ana@aceros.example", to=["rosa@cliente.example"],
                  cc=["Jefe@Cliente.example", "marta@aceros.example", "luis@planta.aceros.example"])
    assert reply_cc(quote, "rosa@cliente.example", external=_external) == ("jefe@cliente.example",)
    # The client's answer came from a colleague, the contact in copy: the colleague is
    # copied, the contact is the To; Bcc is never anyone's business.
    answer = _mail("compras@cliente.example", to=["ana@aceros.example"],
                   cc=["rosa@cliente.example", "otra@proveedor.example"], bcc=["oculto@cliente.example"])
    assert reply_cc(answer, "rosa@cliente.example", external=_external) == (
        "compras@cliente.example", "otra@proveedor.example")
    # Robots, bounced and malformed addresses, and repeats are left out; at most CC_MAX.
    noisy = _mail("noreply@cliente.example",
                  to=["rosa@cliente.example", "no-reply@portal.example", "postmaster@cliente.example"],
                  cc=["rebotado@cliente.example", "ana@aceros.ex", "x@localhost", "JEFE@cliente.example",
                      "jefe@cliente.example"] + [f"p{n}@cliente.example" for n in range(12)])
    got = reply_cc(noisy, "rosa@cliente.example", external=_external, left_out=["Rebotado@cliente.example"])
    assert got[0] == "jefe@cliente.example" and len(got) == 10
    assert not {"noreply@cliente.example", "no-reply@portal.example", "postmaster@cliente.example",
                "rebotado@cliente.example", "ana@aceros.ex", "x@localhost"} & set(got)
    assert reply_cc(None, "rosa@cliente.example", external=_external) == ()


def test_the_draft_carries_the_copied_people_with_their_names():
    from datetime import datetime, timezone
    from email import message_from_bytes
    from email.policy import default

    from assistant.drafting.compose import email_draft
    data = email_draft(key="k1", sender="ana@aceros.example", sender_name="Ana Pérez",
                       to="rosa@cliente.example", to_name="Rosa", subject="Re: Cotización",
                       body="Hola\n", in_reply_to="<q@aceros.example>", references=(),
                       date=datetime(2026, 11, 2, tzinfo=timezone.utc), message_domain="aceros.example",
                       cc=[("Jesús Peña", "jefe@cliente.example"), (None, "compras@cliente.example")])
    msg = message_from_bytes(data, policy=default)
    assert [(a.display_name, a.addr_spec) for a in msg["Cc"].addresses] == [
        ("Jesús Peña", "jefe@cliente.example"), ("", "compras@cliente.example")]
    plain = email_draft(key="k2", sender="ana@aceros.example", sender_name=None, to="rosa@cliente.example",
                        to_name=None, subject="Re: x", body="b\n", in_reply_to=None, references=(),
                        date=datetime(2026, 11, 2, tzinfo=timezone.utc), message_domain="aceros.example")
    assert message_from_bytes(plain, policy=default)["Cc"] is None
