"""The command line's tables at 80 and 120 columns: every line fits, and no word is split
(each address, subject word and hold reason word of the JSON output appears whole).
The installed ``followup`` script in a subprocess with ``COLUMNS`` set, on the demo."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from assistant.cli.tables import print_table
from tests.test_pipeline import run

NOW = "2026-11-26T16:00:00-06:00"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables") / "demo"
    assert run("demo", "--dir", str(folder)).returncode == 0
    return folder


def cli(folder, columns: int, *args: str):
    result = run("--config", str(folder / "settings.toml"), *args, env={"COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    return result.stdout


def assert_fits_and_words_whole(out: str, columns: int, texts) -> None:
    # a line may run over only to keep a word longer than the line whole (a wa.me link)
    too_long = [line for line in out.splitlines() if len(line) > columns
                and max(len(word) for word in line.split()) <= columns // 2]
    assert not too_long, too_long
    words = {word for text in texts if text for word in text.split()}
    missing = sorted(word for word in words if word not in out)
    assert not missing, missing  # a word split across lines or cells is not found whole


@pytest.mark.parametrize("columns", [80, 120])
def test_scan_and_drafts_list_fit_and_keep_every_word_whole(demo, columns):
    threads = json.loads(cli(demo, columns, "scan", "--now", NOW, "--json"))["threads"]
    scanned = cli(demo, columns, "scan", "--now", NOW)
    assert_fits_and_words_whole(scanned, columns, [t["subject"] for t in threads]
                                + [t["contact"] for t in threads] + [t["owner"] for t in threads])
    rows = json.loads(cli(demo, columns, "drafts", "list", "--json"))["followups"]
    listed = cli(demo, columns, "drafts", "list")
    assert_fits_and_words_whole(listed, columns, [r["subject"] for r in rows]
                                + [r["assignee"] for r in rows] + [r["hold_reason"] for r in rows])
    assert any(r["hold_reason"] for r in rows)


@pytest.mark.parametrize("columns", [80, 120])
def test_accounts_list_is_a_table_and_json_and_tsv_stay_machine_readable(demo, columns):
    table = cli(demo, columns, "accounts", "list")
    accounts = json.loads(cli(demo, columns, "accounts", "list", "--json"))["accounts"]
    assert [a["name"] for a in accounts] == ["ana", "luis", "marta", "ventas"]
    assert {a["status"] for a in accounts} == {"ok"} and all(a["last_sync_at"] for a in accounts)
    assert_fits_and_words_whole(table, columns, [a["name"] + " " + a["where"] for a in accounts])
    # Side by side when the paths fit, else one "Header: value" block per account (how long
    # the temporary folder's path is decides which): a table with headers either way.
    assert "\t" not in table
    lines = table.splitlines()
    # (a block joins its "Header: value" fragments with " · ": "Estado:" may be mid-line;
    # the demo's team speaks Spanish)
    assert "Estado" in "".join(lines[2:4]) or table.count("Estado: al día") == 4
    tsv = cli(demo, columns, "accounts", "list", "--tsv").splitlines()
    assert [line.split("\t")[:2] for line in tsv] == [[a["name"], "maildir"] for a in accounts]


@pytest.mark.parametrize("columns", [80, 120])
def test_templates_list_fits(demo, columns):
    out = cli(demo, columns, "templates", "list").split("Archivos de plantillas:")[0]  # then prose
    assert_fits_and_words_whole(out, columns, ["followup_1", "call_1", "whatsapp_1", "(incluida)"])


def test_a_table_that_fits_is_drawn_with_cells_wrapped_between_words():
    out = io.StringIO()
    console = Console(file=out, width=60, color_system=None)
    subject = "Cotización anual de varilla corrugada y lámina galvanizada para obra"
    print_table(console, "T", ("ID", "Subject", "Owner"), [["7", subject, "ana@aceros.example"]])
    text = out.getvalue()
    assert "┃ ID" in text and all(len(line) <= 60 for line in text.splitlines())
    assert all(word in text for word in subject.split()) and "ana@aceros.example" in text
    assert len([line for line in text.splitlines() if line.startswith("│")]) > 1  # wrapped


def test_a_table_too_narrow_for_a_word_becomes_one_block_per_row():
    out = io.StringIO()
    console = Console(file=out, width=40, color_system=None)
    address = "gerardo.trevino@grupoindustrialrio.example"
    print_table(console, "T", ("ID", "Status", "Note"), [["12", "held", f"wrote to {address}"]])
    text = out.getvalue()
    assert address in text and "│" not in text
    assert "ID: 12 · Status: held" in text


def test_a_person_in_a_block_reads_name_then_address_in_brackets():
    """A person cell (the name over the address in a table) never leaves its address to
    run into the next field of a block."""
    out = io.StringIO()
    console = Console(file=out, width=40, color_system=None)
    address = "gerardo.trevino@grupoindustrialrio.example"
    print_table(console, "T", ("ID", "Owner", "Next"), [["12", f"Gerardo Treviño\n{address}", "nobody"]])
    text = out.getvalue()
    assert f"Owner: Gerardo Treviño ({address})" in text.replace("\n    ", " ")
    assert f"{address} · Next" not in text
