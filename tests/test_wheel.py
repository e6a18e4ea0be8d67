"""A non-editable install works: the wheel built from the files of a fresh clone, installed
with its dependencies into a new virtual environment, gives a ``followup`` whose ``init``,
``demo``, ``drafts plan`` and ``digest`` work from a folder outside the repository, with
the templates shipped in the wheel, and a team's own templates folder found first.

Dependencies come from pip's usual sources (its cache, ``/opt/wheels``, the index): the
new environment gets only what ``pyproject.toml`` declares, none of the test extras."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from assistant.wording import digest_strings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "assistant" / "data" / "templates"
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "assistant", "connectors")


def _fresh_clone(dest: Path) -> Path:
    """The build inputs as a fresh clone has them: the files git tracks (or would, once
    added), as they are in the working tree; no .venv, build/ or *.egg-info."""
    try:
        names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                                "-z", *BUILD_INPUTS], cwd=ROOT, capture_output=True, check=True
                               ).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    for name in filter(None, names):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def _run(args: list, *, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _literal_pieces(text: str) -> set[str]:
    """A template's pieces of plain text between its Jinja tags, long enough to be its own."""
    body = text.split("#}", 1)[-1].split("\n", 2)[-1]  # after the header and the Subject line
    return {piece.strip() for chunk in re.split(r"\{[{%#].*?[}%#]\}", body, flags=re.S)
            for piece in chunk.splitlines() if len(piece.strip()) >= 15}


def test_a_wheel_installed_in_a_fresh_venv_runs_init_demo_plan_and_digest(tmp_path):
    """One test (one build and install, ~30 s): each stage below asserts its own outcome."""
    installed = _install(tmp_path)
    _check_the_installed_package_is_the_wheel_not_the_source_tree(installed)
    _check_init_writes_the_shipped_starter_settings(installed)
    _check_demo_plans_drafts_and_writes_the_digest_from_the_shipped_templates(installed)
    _check_drafts_plan_and_digest_use_the_teams_templates_folder_first(installed)


def _install(base: Path) -> tuple[Path, dict, Path]:
    """Build the wheel, install it into a new venv: (the venv's bin folder, the
    environment for commands, a work folder outside the repository)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "FOLLOWUP_CONFIG",
                        "FOLLOWUP_DATABASE_URL", "FOLLOWUP_SECRET_KEY")}
    env["PYTHONNOUSERSITE"] = "1"
    source = _fresh_clone(base / "clone")
    wheels = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, source],
         cwd=base, env=env)
    [wheel] = wheels.glob("followup-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=base, env=env)
    bin_ = venv / "bin"
    _run([bin_ / "python", "-m", "pip", "install", "--quiet", wheel], cwd=base, env=env, timeout=540)
    work = base / "work"
    work.mkdir()
    assert not work.is_relative_to(ROOT)
    return bin_, env, work


def _check_the_installed_package_is_the_wheel_not_the_source_tree(installed) -> None:
    bin_, env, work = installed
    found = _run([bin_ / "python", "-c",
                  "import assistant, connectors, assistant.data as d; "
                  "print(assistant.__file__); print(connectors.__file__); print(d.TEMPLATES)"],
                 cwd=work, env=env).stdout.split()
    venv = bin_.parent.resolve()
    for path in map(Path, found):
        assert path.resolve().is_relative_to(venv) and not path.resolve().is_relative_to(ROOT), path
    templates = Path(found[2])
    assert sorted(p.name for p in templates.glob("*.txt")) == sorted(p.name for p in SHIPPED.glob("*.txt"))
    assert sorted(p.name for p in (templates / "digest").iterdir()) == sorted(
        p.name for p in (SHIPPED / "digest").iterdir())
    assert (templates.parent.parent / "storage" / "migrations" / "script.py.mako").is_file()
    assert (templates.parent.parent / "web" / "static" / "app.css").is_file()
    modules = _run([bin_ / "python", "-c", "import importlib.util as u; "
                    "print([m for m in ('pytest', 'hypothesis', 'playwright', 'aiosmtpd') "
                    "if u.find_spec(m)])"], cwd=work, env=env).stdout.strip()
    assert modules == "[]"  # only the declared dependencies: the test extras are not there


def _check_init_writes_the_shipped_starter_settings(installed) -> None:
    bin_, env, work = installed
    folder = work / "init"
    folder.mkdir()
    result = _run([bin_ / "followup", "init"], cwd=folder, env=env)
    assert "Se escribió settings.toml" in result.stdout  # the starter settings: [team] language = "es"
    assert (folder / "settings.toml").read_text(encoding="utf-8") == (ROOT / "settings.toml").read_text(
        encoding="utf-8")
    assert (folder / "followup.db").stat().st_size > 0
    listing = _run([bin_ / "followup", "templates", "list"], cwd=folder,
                   env=dict(env, COLUMNS="200")).stdout
    assert "followup_1.es.txt (incluida)" in listing and str(bin_.parent) in listing.replace("\n", "")
    assert "Todas las plantillas se generan bien." in _run([bin_ / "followup", "templates", "validate"],
                                           cwd=folder, env=env).stdout


def _check_demo_plans_drafts_and_writes_the_digest_from_the_shipped_templates(installed) -> None:
    bin_, env, work = installed
    dest = work / "demo"
    _run([bin_ / "followup", "demo", "--dir", dest], cwd=work, env=env)
    strings = digest_strings("es")  # the catalogue's digest wording
    page = (dest / "digest-marta.html").read_text(encoding="utf-8")
    assert strings["title"] in page and strings["overdue_title"] in page and "<table" in page
    listed = json.loads(_run([bin_ / "followup", "--config", dest / "settings.toml", "drafts",
                              "list", "--json"], cwd=work, env=env).stdout)["followups"]
    drafted = [f for f in listed if f["status"] == "drafted"]
    assert len(drafted) >= 5 and {f["channel"] for f in drafted} == {"email", "phone", "whatsapp"}
    steps = tomllib.loads((dest / "settings.toml").read_text(encoding="utf-8"))["protocol"]["steps"]
    for f in drafted:  # each one's text is its step's shipped template's
        name = steps[f["step"] - 1]["template"]
        shipped = set().union(*(_literal_pieces((SHIPPED / f"{name}.{lang}.txt").read_text(
            encoding="utf-8")) for lang in ("es", "en")))
        assert any(line in f["body"] for line in shipped), (name, f["body"])
    drafts = list((dest / "mail").glob("*/.Drafts/*/*"))
    assert drafts, "no email draft was written to a Maildir Drafts folder"


def _check_drafts_plan_and_digest_use_the_teams_templates_folder_first(installed) -> None:
    bin_, env, work = installed
    team = work / "team"
    sample = _run([bin_ / "python", "-m", "assistant.demo.sample", team], cwd=work, env=env).stdout
    now = next(line.split()[1] for line in sample.splitlines() if line.startswith("now:"))
    config = ["--config", team / "settings.toml"]
    _run([bin_ / "followup", *config, "sync"], cwd=work, env=env)
    # the admins' folder: templates/ next to settings.toml (the default), copies of the
    # shipped files taken from the installed package
    installed_templates = Path(_run([bin_ / "python", "-c", "import assistant.data as d; "
                                     "print(d.TEMPLATES)"], cwd=work, env=env).stdout.strip())
    own = team / "templates"
    (own / "digest").mkdir(parents=True)
    for lang in ("es", "en"):
        text = (installed_templates / f"followup_1.{lang}.txt").read_text(encoding="utf-8")
        lines = ["Subject: [propia] {{ quote.subject }}" if line.startswith("Subject:") else line
                 for line in text.splitlines()]
        (own / f"followup_1.{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (own / "digest" / "strings.es.toml").write_text('title = "Resumen de la carpeta propia"\n',
                                                    encoding="utf-8")

    planned = _run([bin_ / "followup", *config, "drafts", "plan", "--now", now], cwd=work, env=env)
    # the demo team's team.language: its digest.language, es
    assert planned.stdout.startswith("Seguimientos planeados: ") and not planned.stdout.startswith(
        "Seguimientos planeados: 0;"), \
        planned.stdout
    listed = json.loads(_run([bin_ / "followup", *config, "drafts", "list", "--json"],
                             cwd=work, env=env).stdout)["followups"]
    steps = tomllib.loads((team / "settings.toml").read_text(encoding="utf-8"))["protocol"]["steps"]
    first = [f for f in listed if steps[f["step"] - 1]["template"] == "followup_1"
             and f["status"] == "drafted"]
    rest = [f for f in listed if steps[f["step"] - 1]["template"] != "followup_1"
            and f["status"] == "drafted"]
    assert first and rest
    assert all("[propia]" in f["subject"] for f in first), [f["subject"] for f in first]
    assert not any("[propia]" in f["subject"] for f in rest)

    out = team / "digest.html"
    _run([bin_ / "followup", *config, "digest", "--now", now, "--out", out], cwd=work, env=env)
    page = out.read_text(encoding="utf-8")
    strings = digest_strings("es")  # the catalogue's digest wording
    assert "Resumen de la carpeta propia" in page and strings["title"] not in page
    assert strings["overdue_title"] in page  # the keys the team did not change: shipped

