"""A command costs what it uses: ``followup`` loads a command's module when it runs.

Every start of ``followup`` paid for every command group and every service (planning,
review, the digest, the web app...) before; on a slow 2-core machine a command's start-up
was most of its time. These tests hold the lazy table of :mod:`assistant.cli` to the
commands it names and keep the start-up free of the services a command does not use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

from assistant.cli import COMMANDS, main


def test_every_command_of_the_table_loads_under_its_own_name():
    assert len(COMMANDS) >= 20
    for name in COMMANDS:
        command = main.get_command(click.Context(main), name)
        assert isinstance(command, click.Command) and command.name == name, name
    assert main.get_command(click.Context(main), "nosuch") is None
    assert sorted(main.commands) == sorted(COMMANDS)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('assistant', 'connectors', 'jinja2', 'flask')))))"],
                         capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_starting_followup_loads_no_command_module_and_no_service_it_does_not_use():
    loaded = _modules_after("import assistant.cli")
    assert {f"assistant.cli.{module}" for module, _ in COMMANDS.values()} & loaded == set()
    for heavy in ("assistant.services.planning", "assistant.services.digest",
                  "assistant.services.review", "assistant.web", "flask", "jinja2"):
        assert heavy not in loaded, heavy


def test_a_command_loads_its_own_module_only():
    loaded = _modules_after("from assistant.cli import main\n"
                            "main.get_command(None, 'scan')")
    assert "assistant.cli.threads" in loaded
    assert "assistant.cli.followups" not in loaded and "assistant.cli.web" not in loaded


def test_the_demos_hints_name_followup_as_this_shell_can_run_it(tmp_path, monkeypatch):
    """``make demo`` runs ``.venv/bin/followup``, which a fresh shell does not find by
    name: the hints print that path then, and plain ``followup`` when the PATH's
    ``followup`` is this very program."""
    from assistant.cli.demo import command_name

    program = Path(sys.prefix) / "bin" / "followup"
    monkeypatch.setenv("PATH", str(tmp_path))  # no followup on the PATH
    assert command_name(str(program)) == str(program)
    assert command_name(".venv/bin/followup") == ".venv/bin/followup"
    monkeypatch.setenv("PATH", f"{program.parent}{os.pathsep}{tmp_path}")
    assert command_name(str(program)) == "followup"
    assert command_name("followup") == "followup"
    other = tmp_path / "followup"  # another followup first on the PATH: not this one
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{program.parent}")
    assert command_name(str(program)) == str(program)
