"""Drafts that call people by name (issue 14, item 5): the greeting from the contact's own
mail, the "usted" template on a formal thread (or a contact marked formal), the company
never made from the domain, and the reply threaded on the latest real message — never the
client's out-of-office. Real Maildir, real SQLite / PostgreSQL, the real planner."""

from __future__ import annotations

import email
from email.policy import default as default_policy

import pytest

from assistant.services.planning import plan
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.settings import load_settings
from tests.people_team import NOW, write_team


def contact_entry(email: str, **keys) -> str:
    """A ``[[contacts]]`` entry of settings.toml."""
    lines = [f'email = "{email}"'] + [
        f"{key} = {str(value).lower()}" if isinstance(value, bool) else f'{key} = "{value}"'
        for key, value in keys.items()]
    return "\n[[contacts]]\n" + "\n".join(lines) + "\n"


def _planned(tmp_path, database_url, extra: str = ""):
    settings = load_settings(write_team(tmp_path, extra), environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    try:
        sync(settings, engine)
        result = plan(settings, engine, NOW)
        rows = {r.contact: r for r in list_followups(engine)}
    finally:
        engine.dispose()
    drafts = {}
    for sub in ("cur", "new"):
        for path in (tmp_path / "mail" / "ana" / ".Drafts" / sub).glob("*"):
            msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            drafts[msg["X-Followup-Id"]] = msg
    return result, rows, drafts


def test_drafts_greet_by_name_use_usted_when_both_sides_do_and_reply_to_the_real_message(tmp_path, database_url):
    result, rows, drafts = _planned(tmp_path, database_url)
    assert len(result.created) == 3 and not result.held, (result, rows)

    raul = rows["rquiroga@barandalesmx.example"]
    assert raul.template == "followup_1_usted" and raul.language == "es"
    draft = drafts[raul.key]
    body = draft.get_content()
    assert body.startswith("Buen día, Raúl Quiroga:")
    assert "Le escribo para dar seguimiento a lo que comentamos el miércoles 11 de noviembre sobre la cotización CN-2026-0412" in body  # he replied: a new round
    assert "Barandales MX" in body and "Barandalesmx" not in body
    assert " te " not in body and "¿cómo estás?" not in body
    # Threaded on our answer (the latest real message), not on his out-of-office.
    assert draft["In-Reply-To"] == "<ans-0412.ana@acerosbajio.example>"
    assert "<ooo-raul.1@mail.barandalesmx.example>" not in draft["References"]
    assert draft["References"].split() == ["<cot-0412.ana@acerosbajio.example>",
                                           "<CAK7raul.1@mail.barandalesmx.example>",
                                           "<ans-0412.ana@acerosbajio.example>"]
    assert draft["To"].addresses[0].display_name == "Raúl Quiroga"

    diego = rows["diego@constructoranorte.example"]
    assert diego.template == "followup_1"
    body = drafts[diego.key].get_content()
    assert body.startswith("Hola Diego, ¿cómo estás?")
    assert drafts[diego.key]["To"].addresses[0].display_name == "Diego Ramírez"

    compras = rows["compras@aceroslozano.example"]
    body = drafts[compras.key].get_content()
    assert body.startswith("Buen día, ¿cómo estás?")      # neutral: "Compras" is no one's name
    assert "Aceroslozano" not in body and "Compras" not in body.split("\n")[0]
    assert drafts[compras.key]["To"].addresses[0].display_name == ""


def test_a_contact_marked_formal_gets_usted_and_the_admins_name(tmp_path, database_url):
    extra = contact_entry("diego@constructoranorte.example", name="Diego Ramírez Treviño",
                          company="Constructora del Norte de Monterrey", formal=True)
    _, rows, drafts = _planned(tmp_path, database_url, extra)
    diego = rows["diego@constructoranorte.example"]
    assert diego.template == "followup_1_usted"
    body = drafts[diego.key].get_content()
    assert body.startswith("Buen día, Diego Ramírez Treviño:")
    assert "Constructora del Norte de Monterrey" in body


def test_an_admins_edit_of_the_usted_template_is_the_one_used(tmp_path, database_url):
    settings = load_settings(write_team(tmp_path), environ={"FOLLOWUP_DATABASE_URL": database_url})
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "followup_1_usted.es.txt").write_text(
        "Subject: Re: {{ quote.subject }}\n\nApreciable {{ contact.name or 'cliente' }}:\n\n"
        "Le saludo de nuevo.\n\n{{ owner.signature }}\n", encoding="utf-8")
    engine = open_store(settings)
    try:
        sync(settings, engine)
        plan(settings, engine, NOW)
        raul = next(r for r in list_followups(engine) if r.contact == "rquiroga@barandalesmx.example")
    finally:
        engine.dispose()
    assert raul.template == "followup_1_usted"
    assert raul.body.startswith("Apreciable Raúl Quiroga:")


def test_sync_keeps_the_names_the_rep_gave_recipients(tmp_path, database_url):
    from assistant.storage import repo

    settings = load_settings(write_team(tmp_path), environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    try:
        sync(settings, engine)
        with engine.connect() as conn:
            given = repo.recipient_names(conn, ["<cot-0412.ana@acerosbajio.example>",
                                                "<cot-0419.ana@acerosbajio.example>",
                                                "<CAK7raul.1@mail.barandalesmx.example>"])
            sent = repo.sender_names(conn, ["rquiroga@barandalesmx.example", "diego@constructoranorte.example"])
    finally:
        engine.dispose()
    assert given == {"rquiroga@barandalesmx.example": ["Ing. Raúl Quiroga"],
                     "compras@aceroslozano.example": ["Compras"],
                     "ana@acerosbajio.example": ["Ana Pérez"]}
    assert sent == {"rquiroga@barandalesmx.example": ["rquiroga"],
                    "diego@constructoranorte.example": ["Diego Ramírez | Constructora del Norte"]}


def test_a_forward_to_a_colleague_neither_sets_the_tone_nor_is_replied_to(tmp_path, database_url):
    from tests.builders import local, raw_message

    write_team(tmp_path)
    (tmp_path / "mail" / "ana" / "cur" / "7-forward-to-marta:2,S").write_bytes(raw_message(
        frm='"Ana Pérez" <ana@acerosbajio.example>', to='"Marta Garza" <marta@acerosbajio.example>',
        subject="RV: Cotización CN-2026-0412 barandal inoxidable", date=local(2026, 11, 13, 9),
        mid="<fwd-0412.ana@acerosbajio.example>", in_reply_to="<ans-0412.ana@acerosbajio.example>",
        references=["<cot-0412.ana@acerosbajio.example>", "<ans-0412.ana@acerosbajio.example>"],
        body="Marta, te reenvío lo de Barandales para que lo veas tú también.\n\nAna"))
    _, rows, drafts = _planned(tmp_path, database_url)
    raul = rows["rquiroga@barandalesmx.example"]
    assert raul.template == "followup_1_usted"
    assert drafts[raul.key]["In-Reply-To"] == "<ans-0412.ana@acerosbajio.example>"


def test_a_contacts_phone_from_settings_is_the_one_a_call_task_dials(tmp_path, database_url):
    from assistant.services.planning import load_world, thread_context

    extra = contact_entry("compras@aceroslozano.example", company="Aceros Lozano",
                          phone="+52 81 5555 0101")
    settings = load_settings(write_team(tmp_path, extra), environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    try:
        sync(settings, engine)
        world = load_world(settings, engine, NOW)
        report = next(r for r in world.reports if r.contact == "compras@aceroslozano.example")
        context, phone, language = thread_context(settings, world, report, 2, "phone",
                                                  "ana@acerosbajio.example", NOW)
        raul = next(r for r in world.reports if r.contact == "rquiroga@barandalesmx.example")
        raul_context, raul_phone, _ = thread_context(settings, world, raul, 2, "phone",
                                                     "ana@acerosbajio.example", NOW)
    finally:
        engine.dispose()
    assert phone.e164 == "+528155550101" and language == "es"
    assert context["contact"]["company"] == "Aceros Lozano" and context["contact"]["name"] is None
    assert context["contact"]["formal"] is False
    assert raul_phone.e164 == "+528122334455"            # from his signature
    assert raul_context["contact"]["formal"] is True
    assert raul_context["contact"]["company"] == "Barandales MX"


def test_a_contacts_names_follow_new_mail_newest_name_first(tmp_path, database_url):
    """Names are read once per read-model generation (a page asked again and again reads
    the contacts' mail once); new mail that names the contact anew moves them on."""
    from assistant.services.app import Followup
    from assistant.storage import repo
    from tests.builders import local, raw_message

    settings = load_settings(write_team(tmp_path), environ={"FOLLOWUP_DATABASE_URL": database_url})
    engine = open_store(settings)
    app = Followup(settings, engine, clock=lambda: NOW)
    diego = "diego@constructoranorte.example"
    inbox = tmp_path / "mail" / "ana" / "new"

    def deliver(name: str, day: int, n: int) -> None:
        (inbox / f"diego-{n}").write_bytes(raw_message(
            frm=f"{name} <{diego}>", to="ana@acerosbajio.example", subject="Otra consulta",
            date=local(2026, 11, day, 10), mid=f"<diego-{n}@constructoranorte.example>"))

    try:
        sync(settings, engine)
        before = app.names([diego])[diego]
        assert app.names([diego.upper()])[diego] == before  # the same answer, asked again
        deliver("Diego Salinas", 20, 1)
        sync(settings, engine)
        assert app.names([diego])[diego].name == "Diego Salinas" != before.name
        with engine.connect() as conn:
            assert repo.sender_names(conn, [diego])[diego][0] == "Diego Salinas"
        deliver("Diego Ramírez | Constructora del Norte", 21, 2)  # the old name, newest again
        sync(settings, engine)
        with engine.connect() as conn:
            assert repo.sender_names(conn, [diego])[diego] == [
                "Diego Ramírez | Constructora del Norte", "Diego Salinas"]
        assert app.names([diego])[diego] == before
    finally:
        engine.dispose()
