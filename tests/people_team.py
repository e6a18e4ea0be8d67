"""A small team whose clients show every way mail names people (issue 14, item 5):

* Raúl Quiroga (``rquiroga@barandalesmx.example``): the rep wrote him under
  ``"Ing. Raúl Quiroga"``; he sends as bare ``rquiroga`` and signs ``Compras | Barandales
  MX``; both sides write "usted"; his out-of-office is the thread's last message;
* Diego (``diego@constructoranorte.example``): sends as ``"Diego Ramírez | Constructora
  del Norte"``, tú on both sides;
* ``compras@aceroslozano.example``: a shared mailbox named ``"Compras"``, nobody to greet
  (and no company made from the domain).

Every message is shaped after real Outlook / Gmail mail (reply headers, signatures, an
Exchange out-of-office), written for these tests."""

from __future__ import annotations

from pathlib import Path

from tests.builders import local, raw_message

SETTINGS = '''
[company]
name = "Aceros del Bajío"
domains = ["acerosbajio.example"]

[team]
timezone = "America/Mexico_City"

[[team.members]]
email = "ana@acerosbajio.example"
name = "Ana Pérez"
role = "account_executive"
manager = "marta@acerosbajio.example"

[[team.members]]
email = "marta@acerosbajio.example"
name = "Marta Garza"
role = "manager"

[[accounts]]
name = "ana"
kind = "maildir"
path = "mail/ana"
owner = "ana@acerosbajio.example"

[protocol]
holidays_country = "MX"
send_window_start = "09:00"

[[protocol.steps]]
after_days = 2
channel = "email"
template = "followup_1"

[[protocol.steps]]
after_days = 2
channel = "phone"
template = "call_1"

[storage]
url = "sqlite:///followup.db"
'''

ANA = '"Ana Pérez" <ana@acerosbajio.example>'
SIGNATURE = "Saludos cordiales,\nAna Pérez\nEjecutiva de cuenta | Aceros del Bajío\nTel. +52 442 123 4567"
NOW = local(2026, 11, 20, 12)
"""A Friday: every thread's first step (2 business days after its last outbound) is due."""


def messages() -> dict[str, bytes]:
    q1 = "<cot-0412.ana@acerosbajio.example>"
    r1 = "<CAK7raul.1@mail.barandalesmx.example>"
    a1 = "<ans-0412.ana@acerosbajio.example>"
    ooo = "<ooo-raul.1@mail.barandalesmx.example>"
    q2 = "<cot-0415.ana@acerosbajio.example>"
    r2 = "<CAdiego.2@mail.gmail.example>"
    q3 = "<cot-0419.ana@acerosbajio.example>"
    return {
        "1-quote-raul": raw_message(
            frm=ANA, to='"Ing. Raúl Quiroga" <rquiroga@barandalesmx.example>',
            subject="Cotización CN-2026-0412 barandal inoxidable", date=local(2026, 11, 10, 10), mid=q1,
            body="Buen día, Ing. Quiroga:\n\nLe envío la cotización CN-2026-0412 del barandal de acero "
                 "inoxidable para la obra de San Pedro.\n\nQuedo a sus órdenes.\n\n" + SIGNATURE,
            attachment="CN-2026-0412.pdf"),
        "2-reply-raul": raw_message(
            frm="rquiroga <rquiroga@barandalesmx.example>", to=ANA,
            subject="RE: Cotización CN-2026-0412 barandal inoxidable", date=local(2026, 11, 11, 9),
            mid=r1, in_reply_to=q1, references=[q1],
            body="Ana, buen día:\n\nRecibí su cotización, gracias. ¿El precio incluye la instalación?\n\n"
                 "Saludos,\nRaúl Quiroga\nCompras | Barandales MX\nTel. 81 2233 4455\n\n"
                 "De: Ana Pérez <ana@acerosbajio.example>\nEnviado: martes, 10 de noviembre de 2026 10:00\n"
                 "Para: Ing. Raúl Quiroga\nAsunto: Cotización CN-2026-0412 barandal inoxidable\n\n"
                 "Buen día, Ing. Quiroga:\n"),
        "3-answer-raul": raw_message(
            frm=ANA, to='"Ing. Raúl Quiroga" <rquiroga@barandalesmx.example>',
            subject="RE: Cotización CN-2026-0412 barandal inoxidable", date=local(2026, 11, 12, 10),
            mid=a1, in_reply_to=r1, references=[q1, r1],
            body="Ing. Quiroga:\n\nSí, el precio incluye la instalación en obra. Le agradezco su "
                 "interés.\n\n" + SIGNATURE),
        "4-ooo-raul": raw_message(
            frm="rquiroga <rquiroga@barandalesmx.example>", to=ANA,
            subject="Respuesta automática: RE: Cotización CN-2026-0412 barandal inoxidable",
            date=local(2026, 11, 12, 10, 1), mid=ooo, in_reply_to=a1, references=[q1, r1, a1],
            headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
            body="Estoy fuera de la oficina con acceso limitado al correo."),
        "5-quote-diego": raw_message(
            frm=ANA, to="diego@constructoranorte.example",
            subject="Cotización CN-2026-0415 lámina galvanizada", date=local(2026, 11, 16, 10), mid=q2,
            body="Hola Diego, ¿cómo estás?\n\nTe envío la cotización CN-2026-0415 que me pediste.\n\n"
                 + SIGNATURE, attachment="CN-2026-0415.pdf"),
        "0-request-diego": raw_message(
            frm='"Diego Ramírez | Constructora del Norte" <diego@constructoranorte.example>', to=ANA,
            subject="lámina galvanizada", date=local(2026, 11, 13, 17), mid=r2,
            body="Ana, ¿me mandas precio de la lámina calibre 26? Te marco el lunes.\n\nDiego"),
        "6-quote-compras": raw_message(
            frm=ANA, to='"Compras" <compras@aceroslozano.example>',
            subject="Cotización CN-2026-0419 perfiles", date=local(2026, 11, 16, 11), mid=q3,
            body="Buen día:\n\nAdjunto la cotización CN-2026-0419.\n\n" + SIGNATURE,
            attachment="CN-2026-0419.pdf"),
    }


def write_team(root: Path, extra_settings: str = "") -> Path:
    folder = root / "mail" / "ana"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name, data in messages().items():
        (folder / "cur" / f"{name}:2,S").write_bytes(data)
    path = root / "settings.toml"
    path.write_text(SETTINGS + extra_settings, encoding="utf-8")
    return path
