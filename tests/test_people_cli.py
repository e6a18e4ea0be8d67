"""The CLI shows people by name (issue 14, item 5): `scan` and `drafts list` put each
contact's and owner's name above their address; the JSON keeps its addresses (the
contract). The real `followup` command in a subprocess, on a real Maildir and SQLite."""

from __future__ import annotations

import json

from tests.people_team import NOW, write_team
from tests.test_pipeline import run


def test_scan_and_drafts_list_show_names_with_the_address_below(tmp_path):
    config = str(write_team(tmp_path))
    assert run("--config", config, "sync").returncode == 0
    scan = run("--config", config, "scan", "--now", NOW.isoformat(), env={"COLUMNS": "200"})
    assert scan.returncode == 0, scan.stderr
    lines = scan.stdout.splitlines()
    # The name on one line, the address on the next, in the same column.
    at = next(n for n, line in enumerate(lines) if "Raúl Quiroga" in line)
    column = lines[at].index("Raúl Quiroga")
    assert lines[at + 1][column:].startswith("rquiroga@barandalesmx")  # folded by width at most
    assert "Ana Pérez" in scan.stdout and "Diego Ramírez" in scan.stdout
    assert "Barandalesmx" not in scan.stdout
    # A shared mailbox with no person's name: its address only.
    assert "compras@aceroslozano.example" in scan.stdout and "Compras\n" not in scan.stdout

    document = json.loads(run("--config", config, "scan", "--now", NOW.isoformat(), "--json").stdout)
    assert {t["contact"] for t in document["threads"]} == {
        "rquiroga@barandalesmx.example", "diego@constructoranorte.example", "compras@aceroslozano.example"}
    assert {t["owner"] for t in document["threads"]} == {"ana@acerosbajio.example"}

    assert run("--config", config, "drafts", "plan", "--now", NOW.isoformat()).returncode == 0
    listed = run("--config", config, "drafts", "list", env={"COLUMNS": "200"})
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("Ana Pérez") == 3        # the assignee of each, address below
    assert listed.stdout.count("ana@acerosbajio.example") == 3
    shown = run("--config", config, "drafts", "show", "1")
    assert "asignado a Ana Pérez (ana@acerosbajio.example)" in shown.stdout  # team.language
    assert "contacto: Raúl Quiroga (rquiroga@barandalesmx.example)" in shown.stdout


def test_templates_list_shows_the_usted_variants_of_the_protocols_steps(tmp_path):
    config = str(write_team(tmp_path))
    listing = run("--config", config, "templates", "list", env={"COLUMNS": "200"})
    assert listing.returncode == 0, listing.stderr
    rows = {line.split("│")[1].strip(): line for line in listing.stdout.splitlines() if line.count("│") > 4}
    assert "sí, en hilos formales (de usted)" in rows["followup_1_usted"]
    assert "sí, en hilos formales" not in rows["followup_2_usted"]  # followup_2 is no step here
