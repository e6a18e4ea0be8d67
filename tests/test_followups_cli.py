"""The follow-up commands as a rep and an admin run them: the installed `followup` script
in a subprocess, on the demo team's real Maildir folders and SQLite file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.test_pipeline import run

NOW = "2026-11-26T16:00:00-06:00"


def make_demo(tmp_path_factory, label: str) -> tuple[Path, str]:
    """`followup demo` into a fresh folder: the folder and what it printed."""
    folder = tmp_path_factory.mktemp(label) / "demo"
    result = run("demo", "--dir", str(folder))
    assert result.returncode == 0, result.stderr
    return folder, result.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo(tmp_path_factory, "fu-cli")


def cli(folder: Path, *args: str, env: dict | None = None):
    return run("--config", str(folder / "settings.toml"), *args, env=env)


def listed(folder: Path) -> list[dict]:
    result = cli(folder, "drafts", "list", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["followups"]
    return document["followups"]


def find(rows: list[dict], channel: str, subject_part: str) -> dict:
    return next(r for r in rows if r["channel"] == channel and subject_part in r["subject"])


def test_demo_plans_and_lists_the_sample_teams_follow_ups(demo):
    folder, out = demo
    assert "Seguimientos planeados al" in out and ": 12 (retenidos: 1)" in out  # team.language
    assert "tel:+528122334455" in out and "https://wa.me/528115552030?text=" in out
    assert "Marta Garza escribió a" in out
    drafts = list((folder / "mail" / "ana" / ".Drafts" / "cur").iterdir())
    assert len(drafts) == 5 and all(b"X-Followup-Id: fu-" in p.read_bytes() for p in drafts)


def test_list_json_is_the_contracts_shape_and_plan_again_adds_nothing(demo):
    folder, _ = demo
    rows = listed(folder)
    keys = ["id", "thread_id", "quote_message_id", "step", "channel", "assignee", "status", "due_at",
            "subject", "body", "link", "hold_reason", "cc"]
    assert rows and all(list(r) == keys for r in rows)
    assert {r["status"] for r in rows} <= {"held", "drafted", "approved", "sent", "done", "skipped", "cancelled"}
    again = cli(folder, "drafts", "plan", "--now", NOW)
    assert again.returncode == 0 and again.stdout.startswith("Seguimientos planeados: 0; retenidos: 0")  # team.language
    assert len(listed(folder)) == len(rows)


def test_show_approve_skip_and_touch(demo):
    folder, _ = demo
    rows = listed(folder)
    wa = find(rows, "whatsapp", "Diego Morales")
    shown = cli(folder, "drafts", "show", str(wa["id"]))
    assert shown.returncode == 0 and "enlace: https://wa.me/528115552030?text=Hola%20Diego" in shown.stdout
    assert "plantilla: whatsapp_1 (es, versión 0)" in shown.stdout
    # the thread by the short id `drafts list` and `scan` show (and every command takes)
    assert f"conversación: {wa['thread_id']}  contacto: Diego Morales" in shown.stdout, shown.stdout
    assert wa["quote_message_id"] not in shown.stdout

    mail = find(rows, "email", "Cotización pedido 4471")
    approved = cli(folder, "drafts", "approve", str(mail["id"]))
    assert approved.returncode == 0 and "aprobado" in approved.stdout  # the demo's team.language
    assert "carpeta Borradores del buzón ana; envíalo desde tu correo" in approved.stdout

    skipped = cli(folder, "drafts", "skip", str(wa["id"]), "--reason", "el cliente pidió esperar")
    assert skipped.returncode == 0
    again = cli(folder, "drafts", "approve", str(wa["id"]))
    assert again.returncode == 1 and "está omitido: no se puede aprobar" in again.stderr

    call = find(rows, "phone", "Daniela Zambrano")
    prefix = call["quote_message_id"].strip("<>")[:16]
    touched = cli(folder, "touch", prefix, "--channel", "phone", "--note", "Revisa el lunes",
                  "--now", "2026-11-26T17:00:00-06:00")
    assert touched.returncode == 0 and "seguimientos hechos: 1" in touched.stdout
    assert f"en {call['thread_id']};" in touched.stdout, touched.stdout  # not its Message-ID
    after = {r["id"]: r["status"] for r in listed(folder)}
    assert (after[mail["id"]], after[wa["id"]], after[call["id"]]) == ("approved", "skipped", "done")
    assert cli(folder, "drafts", "show", "999").returncode == 1


def test_edit_through_editor_is_revalidated_and_an_empty_body_refused(demo, tmp_path):
    folder, _ = demo
    row = find(listed(folder), "email", "Material para obra Cumbres")
    script = tmp_path / "editor.py"
    script.write_text("import sys, pathlib\n"
                      "p = pathlib.Path(sys.argv[1])\n"
                      "text = p.read_text()\n"
                      "assert text.startswith('Subject: Re: Material para obra Cumbres')\n"
                      "p.write_text(open(sys.argv[0] + '.new').read())\n")
    (tmp_path / "editor.py.new").write_text("Subject: Re: Material para obra Cumbres\n\n \n")
    editor = {"EDITOR": f"{sys.executable} {script}"}
    refused = cli(folder, "drafts", "edit", str(row["id"]), env=editor)
    assert refused.returncode == 1 and "el cuerpo está vacío" in refused.stderr
    (tmp_path / "editor.py.new").write_text("Subject: Re: Material para obra Cumbres\n\n"
                                            "Rosa, ¿te llamo mañana para revisarla?\n\nAna\n")
    saved = cli(folder, "drafts", "edit", str(row["id"]), env=editor)
    assert saved.returncode == 0, saved.stderr
    after = next(r for r in listed(folder) if r["id"] == row["id"])
    assert after["body"] == "Rosa, ¿te llamo mañana para revisarla?\n\nAna\n"
    import email
    from email.policy import default
    drafts = [email.message_from_bytes(p.read_bytes(), policy=default)
              for p in (folder / "mail" / "ana" / ".Drafts" / "cur").iterdir()]
    mine = [d for d in drafts if d["Subject"] == "Re: Material para obra Cumbres"]
    assert len(drafts) == 5 and len(mine) == 1  # replaced in the mailbox, not added
    assert mine[0].get_content() == "Rosa, ¿te llamo mañana para revisarla?\n\nAna\n"


def test_templates_list_validate_preview_and_refused_save(demo, tmp_path):
    folder, _ = demo
    listing = cli(folder, "templates", "list")
    assert listing.returncode == 0 and "followup_1" in listing.stdout and "whatsapp_1" in listing.stdout
    ok = cli(folder, "templates", "validate")
    assert ok.returncode == 0 and "Todas las plantillas se generan bien." in ok.stdout
    rows = listed(folder)
    rosa = find(rows, "email", "Material para obra Cumbres")
    preview = cli(folder, "templates", "preview", "followup_2", "--thread",
                  rosa["quote_message_id"][:18], "--now", NOW)
    assert preview.returncode == 0 and preview.stdout.startswith("Asunto: Re: Material para obra Cumbres")
    assert "Rosa, retomo la cotización CN-2026-0412" in preview.stdout
    assert "de noviembre" in preview.stdout
    # The English template on this Spanish thread words its dates in English.
    in_english = cli(folder, "templates", "preview", "followup_2", "--thread",
                     rosa["quote_message_id"][:18], "--lang", "en", "--now", NOW)
    assert in_english.returncode == 0 and "coming back to the quote" in in_english.stdout
    assert "November" in in_english.stdout and "noviembre" not in in_english.stdout
    english = cli(folder, "templates", "preview", "call_1", "--lang", "en")
    assert "Call Diego Morales" in english.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("Subject: Re: {{ quote.subject }}\n\n{{ owner.name.__class__.__mro__ }}\n")
    refused = cli(folder, "templates", "save", "followup_1", str(bad), "--lang", "es",
                  "--author", "marta@aceros.example")
    assert refused.returncode == 1 and "no se guardó" in refused.stderr and "línea 3" in refused.stderr
    assert cli(folder, "templates", "validate").returncode == 0


def test_drafts_list_status_takes_the_word_people_read_in_either_language(demo):
    folder, _ = demo
    every = listed(folder)
    def ids(status: str) -> list[int]:
        result = cli(folder, "drafts", "list", "--json", "--status", status)
        assert result.returncode == 0, result.stderr
        return [r["id"] for r in json.loads(result.stdout)["followups"]]
    held = [r["id"] for r in every if r["status"] == "held"]
    assert held and ids("held") == held == ids("retenido") == ids("Retenido")
    assert ids("por revisar") == ids("ready for review") == [r["id"] for r in every if r["status"] == "drafted"]
    bogus = cli(folder, "drafts", "list", "--status", "listo")
    assert bogus.returncode == 2 and "retenido, por revisar, aprobado" in bogus.stderr
