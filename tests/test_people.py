"""People by name (issue 14, item 5), the pure parts: names and companies from display
names and signatures, and whether a thread speaks "usted" (assistant/drafting/contacts.py).
Texts are written for these tests, shaped after real Mexican B2B mail; the formality
labels are in tests/fixtures/formality/ (one TSV per source)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.drafting.contacts import (
    Identity, formality, identify, is_formal, signature_identity, split_display_name,
)
from assistant.mail.parse import parse_message
from assistant.mail.text import own_text

FIXTURES = Path(__file__).parent / "fixtures"


# --- display names -----------------------------------------------------------------------

@pytest.mark.parametrize("display, person, company", [
    ("Juan Pérez | Barandales MX", "Juan Pérez", "Barandales MX"),
    ("Ventas - Aceros del Norte", None, "Aceros del Norte"),
    ("Laura Soto (Constructora del Norte)", "Laura Soto", "Constructora del Norte"),
    ("Diego Ramírez - Gerente de Compras", "Diego Ramírez", None),
    ("Pérez, Juan", "Juan Pérez", None),
    ("Ing. Raúl Quiroga", "Raúl Quiroga", None),
    ("RAÚL QUIROGA", "Raúl Quiroga", None),
    ("Grupo Lozano S.A. de C.V.", None, "Grupo Lozano S.A. de C.V."),
    ("Compras Barandales", None, None),           # a shared mailbox: nobody to greet
    ("Facturación", None, None),
    ("rquiroga", None, None),                      # the mailbox name, not a person
    ("rquiroga@barandales.example", None, None),
    ("'Emily Carter'", "Emily Carter", None),
    ("Mike O'Brien / Northwind Traders", "Mike O'Brien", "Northwind Traders"),
])
def test_the_person_and_the_company_in_a_display_name(display, person, company):
    assert split_display_name(display, "rquiroga@barandales.example") == (person, company)


# --- signatures --------------------------------------------------------------------------

ES_OUTLOOK = ("Gracias, Ana.\r\n\r\nLo revisamos con el área de compras y te confirmo el viernes.\r\n\r\n"
              "Saludos cordiales,\r\nDiego Ramírez\r\nGerente de Compras | Constructora del Norte\r\n"
              "Tel. +52 81 8300 1020\r\n")
ES_TWO_LINES = ("Ana, recibimos la propuesta. Te comento la próxima semana.\n\nSaludos,\nLaura Soto\n"
                "Constructora del Norte\n\nEl jueves 3 de diciembre de 2026, Ana Pérez escribió:\n"
                "> Saludos,\n> Ana Pérez\n> Acme\n")
ES_ATTE_SAME_LINE = "No nos interesa por ahora, gracias por la atención.\n\nAtte. Laura Soto"
ES_DASH_DASH = ("Va, mañana te confirmo.\n\n-- \nIng. Mario Treviño Garza\nJefe de Proyectos\n"
                "Aceros del Norte, S.A. de C.V.\nmario.trevino@aceros.example | +52 81 1234 5678\n")
EN_REGARDS = ("Thanks, we'll review it next week.\n\nBest regards,\nEmily Carter\nPurchasing Manager\n"
              "Greenleaf Markets Inc.\n")
EN_FIRST_NAME_ONLY = "Could you send the spec sheet?\n\nThanks,\nTom\n"


@pytest.mark.parametrize("text, name, company", [
    (ES_OUTLOOK, "Diego Ramírez", "Constructora del Norte"),
    (ES_TWO_LINES, "Laura Soto", "Constructora del Norte"),   # not our own quoted signature
    (ES_ATTE_SAME_LINE, "Laura Soto", None),
    (ES_DASH_DASH, "Mario Treviño Garza", "Aceros del Norte, S.A. de C.V."),
    (EN_REGARDS, "Emily Carter", "Greenleaf Markets Inc."),
    (EN_FIRST_NAME_ONLY, "Tom", None),
    ("Recibido, gracias.\n", None, None),
])
def test_the_name_and_company_a_contact_signs_with(text, name, company):
    assert signature_identity([text]) == (name, company)


def test_a_full_name_in_an_older_signature_beats_a_first_name_in_the_newest():
    assert signature_identity([EN_FIRST_NAME_ONLY.replace("Tom", "Emily"), EN_REGARDS]) == (
        "Emily Carter", "Greenleaf Markets Inc.")


# --- one identity from all of it -----------------------------------------------------------

def test_identity_prefers_the_admins_then_headers_then_signature_never_the_domain():
    email = "rquiroga@barandalesmx.example"
    # Nothing known: no name, and no company made from "barandalesmx".
    assert identify(email=email) == Identity(None, None)
    assert identify(email=email).first_name is None
    # The From display name they send under, the company from their signature.
    sig = "Saludos,\nRaúl Quiroga\nCompras | Barandales MX\n"
    found = identify(email=email, from_names=["rquiroga", "Raúl Quiroga"], texts=[sig])
    assert found == Identity("Raúl Quiroga", "Barandales MX") and found.first_name == "Raúl"
    # The To name the rep wrote, when the contact's mail names nobody.
    assert identify(email=email, from_names=["rquiroga"], to_names=["Ing. Raúl Quiroga"]).name == "Raúl Quiroga"
    # A company in the display name, when the signature has none.
    assert identify(email=email, from_names=["Raúl Quiroga | Barandales MX"]) == Identity(
        "Raúl Quiroga", "Barandales MX")
    # [[contacts]] wins.
    assert identify(email=email, from_names=["Raúl Quiroga | Barandales MX"], known_name="Raúl Q.",
                    known_company="Barandales de México") == Identity("Raúl Q.", "Barandales de México")


# --- usted or tú ---------------------------------------------------------------------------

def _labelled(tsv: str, folder: Path, read) -> list[tuple[str, str, str | None]]:
    rows = []
    for line in (FIXTURES / "formality" / tsv).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, label = line.split("\t")
        rows.append((name, label, formality(read(folder / name)) or "none"))
    return rows


SOURCES = {
    # source: (labels, folder, how to read a file into its own text, agreement at least)
    "written": ("labels.tsv", FIXTURES / "formality", lambda p: p.read_text(encoding="utf-8"), 1.0),
    "replies": ("replies-labels.tsv", FIXTURES / "replies", lambda p: p.read_text(encoding="utf-8"), 1.0),
    "qa-real-team": ("qa-real-team-labels.tsv", FIXTURES / "qa-real-team" / "mail",
                     lambda p: own_text(parse_message(p.read_bytes()).text), 0.93),
}


@pytest.mark.parametrize("source", SOURCES)
def test_formality_agrees_with_the_labels_of_each_source(source):
    tsv, folder, read, floor = SOURCES[source]
    rows = _labelled(tsv, folder, read)
    agree = sum(label == got for _, label, got in rows)
    misses = [(name, label, got) for name, label, got in rows if label != got]
    print(f"{source}: {agree}/{len(rows)} agree ({agree / len(rows):.0%}); misses: {misses}")
    assert len(rows) >= 18
    assert agree / len(rows) >= floor, misses
    # A text labelled "tu" is never read as "usted" (a formal draft to a tú client reads
    # cold; the reverse is the costlier mistake, and none of these make it).
    assert not [m for m in misses if m[1] == "tu" and m[2] == "usted"], misses


def test_ustedes_and_a_third_person_le_say_nothing_about_usted():
    assert formality("¿Ustedes tienen el calibre 14? Mándame precio.") == "tu"
    assert formality("Le comento a mi jefe y te aviso.") == "tu"
    assert formality("Les confirmamos el lunes.") is None
    assert formality("Buen día, le envío la cotización. Quedo a sus órdenes.") == "usted"


def test_a_thread_is_formal_only_when_both_sides_write_usted():
    ours = ["Estimado Ing. Quiroga: le envío la cotización. Quedo a sus órdenes."]
    theirs_usted = ["Recibí su cotización, le confirmo el jueves. Atentamente, Raúl Quiroga"]
    theirs_tu = ["Gracias Ana, te confirmo el jueves."]
    assert is_formal(ours, theirs_usted)
    assert not is_formal(ours, theirs_tu)
    assert not is_formal(["Hola Raúl, te envío la cotización."], theirs_usted)
    assert not is_formal(ours, [])                       # the client never wrote
    assert not is_formal(ours, ["Recibido.", *theirs_tu])  # their newest form decides
    assert is_formal(ours, ["Recibido.", *theirs_usted])
