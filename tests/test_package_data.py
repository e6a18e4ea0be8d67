"""The files a run reads ship inside the package (``assistant/data/``, the web app's
templates and static files, the migrations), and the admins' own templates folder
(``[templates] folder``, default ``templates/`` next to ``settings.toml``) is searched
first, file by file; an edited version stored in the database still wins over both.
The wheel itself is built, installed and run in ``test_wheel.py``."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from assistant import data
from assistant.drafting.templates import file_templates, shipped_templates
from assistant.demo.sample import generate_sample
from assistant.services import digest as D
from assistant.services.planning import plan
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.services.templates import save_template, template_sources, validate_templates
from assistant.settings import load_settings
from assistant.settings import SettingsError
from assistant.wording import digest_strings

ROOT = Path(__file__).resolve().parents[1]


def test_every_file_the_package_reads_is_declared_as_package_data():
    """A data file under assistant/ or connectors/ that pyproject's package-data does not
    name is missing from the wheel (the bug that left `pip install .` without templates)."""
    try:
        tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                                  "assistant", "connectors"], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout: {exc}")
    files = {name for name in tracked if not name.endswith(".py")}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]
    covered = {str(path.relative_to(ROOT)) for package, patterns in declared.items()
               for pattern in patterns for path in (ROOT / package).glob(pattern)}
    assert files and files <= covered, sorted(files - covered)
    for needed in ("assistant/data/settings.toml", "assistant/data/templates/followup_1.es.txt",
                   "assistant/data/templates/digest/digest.html.j2",
                   "assistant/storage/migrations/script.py.mako",
                   "assistant/web/templates/base.html", "assistant/web/static/app.css"):
        assert needed in covered, needed
    assert not (ROOT / "templates").exists()  # no second copy outside the package


def test_the_shipped_files_are_found_inside_the_package():
    assert data.TEMPLATES.is_relative_to(Path(data.__file__).parent)
    assert data.starter_settings() == (ROOT / "settings.toml").read_text(encoding="utf-8")
    assert {(n, lang) for n, lang in shipped_templates()} >= {("followup_1", "es"), ("call_1", "en")}
    assert (D.TEMPLATES / "digest.html.j2").is_file() and D.TEMPLATES.parent == data.TEMPLATES


# --- [templates] folder ------------------------------------------------------------------

def _settings_file(folder: Path) -> Path:
    path = folder / "settings.toml"
    path.write_text(data.starter_settings(), encoding="utf-8")
    return path


def _named(path: Path, value: str, key: str = "folder") -> Path:
    """The starter's commented-out ``[templates] folder`` line, written as ``key = value``."""
    text = path.read_text(encoding="utf-8")
    assert '\n# folder = "templates"\n' in text
    path.write_text(text.replace('\n# folder = "templates"\n', f"\n{key} = {value}\n"),
                    encoding="utf-8")
    return path


def test_the_templates_folder_defaults_to_templates_next_to_the_settings_file(tmp_path):
    settings = load_settings(_settings_file(tmp_path))
    assert settings.templates.folder == (tmp_path / "templates").resolve()
    assert not settings.templates.folder.exists()  # the default need not exist
    assert data.search_path(settings.templates.folder) == (data.TEMPLATES,)
    (tmp_path / "templates").mkdir()
    assert data.search_path(settings.templates.folder) == (settings.templates.folder, data.TEMPLATES)


def test_a_named_templates_folder_is_resolved_against_the_settings_file(tmp_path):
    (tmp_path / "own" / "tpl").mkdir(parents=True)
    settings = load_settings(_named(_settings_file(tmp_path), '"own/tpl"'))
    assert settings.templates.folder == (tmp_path / "own" / "tpl").resolve()


@pytest.mark.parametrize("value, make, message, fix", [
    ('"missing"', None, r"templates\.folder: .*missing does not exist", "mkdir -p"),
    ('"a-file"', "file", r"templates\.folder: folder = \"a-file\" is .*a-file, which is a file",
     "naming a folder"),
    ("3", None, r"templates\.folder: expected text in quotes, got 3", 'folder = "templates"'),
])
def test_templates_folder_mistakes_name_the_key_the_file_and_the_fix(tmp_path, value, make,
                                                                      message, fix):
    if make == "file":
        (tmp_path / "a-file").write_text("x", encoding="utf-8")
    path = _named(_settings_file(tmp_path), value)
    with pytest.raises(SettingsError, match=message) as err:
        load_settings(path)
    assert err.value.file == path and err.value.key == "templates.folder"
    assert fix in err.value.fix


def test_an_unknown_key_under_templates_is_refused(tmp_path):
    path = _named(_settings_file(tmp_path), '"templates"', key="folders")
    with pytest.raises(SettingsError, match=r"templates\.folders: unknown key.*did you mean `folder`"):
        load_settings(path)


# --- Overrides, on the sample team ---------------------------------------------------------

@pytest.fixture
def team(tmp_path):
    info = generate_sample(tmp_path)
    os.environ.pop("FOLLOWUP_DATABASE_URL", None)
    settings = load_settings(info.settings_path)
    engine = open_store(settings)
    sync(settings, engine, now=info.now)
    yield info, settings, engine
    engine.dispose()


def _own_copy(settings, name: str, language: str, subject: str) -> Path:
    """The admin's copy of a shipped follow-up template, with another subject line."""
    shipped = (data.TEMPLATES / f"{name}.{language}.txt").read_text(encoding="utf-8")
    lines = [subject if line.startswith("Subject:") else line for line in shipped.splitlines()]
    path = settings.templates.folder / f"{name}.{language}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_template_in_the_templates_folder_is_used_before_the_shipped_one(team):
    info, settings, engine = team
    own = _own_copy(settings, "followup_1", "es", "Subject: [equipo] {{ quote.subject }}")
    sources = template_sources(engine, settings.templates.folder)
    assert sources["followup_1", "es"].origin == str(own) and sources["followup_1", "es"].version == 0
    assert sources["followup_1", "en"].origin == "followup_1.en.txt"
    assert validate_templates(settings, engine) == []

    plan(settings, engine, info.now)
    planned = list_followups(engine)
    first = [f for f in planned if f.template == "followup_1" and f.status == "drafted"]
    assert any(f.language == "es" for f in first), [(f.template, f.language) for f in planned]
    for f in first:
        assert ("[equipo] " in f.subject) == (f.language == "es"), (f.language, f.subject)
    others = [f for f in planned if f.template != "followup_1" and f.status == "drafted"]
    assert others and not any("[equipo]" in f.subject for f in others)


def test_an_edited_version_in_the_database_still_wins_over_the_folder(team):
    from assistant.web import services

    _, settings, engine = team
    own = _own_copy(settings, "followup_1", "es", "Subject: [equipo] {{ quote.subject }}")
    version = save_template(engine, "followup_1", "es",
                            "Subject: [web] {{ quote.subject }}\n\nHola.\n",
                            "marta@aceros.example")
    source = template_sources(engine, settings.templates.folder)["followup_1", "es"]
    assert (source.version, source.text.splitlines()[0]) == (version, "Subject: [web] {{ quote.subject }}")
    # the web editor's history: version 0 is the file in use, the admins' copy
    history = services.versions(engine, "followup_1", "es", settings.templates.folder)
    assert [v.version for v in history] == [version, 0]
    assert history[-1].text == own.read_text(encoding="utf-8")


def test_the_templates_folder_may_add_a_template_a_protocol_step_names(team):
    from dataclasses import replace

    from assistant.settings import Step

    _, settings, engine = team
    own = settings.templates.folder
    own.mkdir()
    (own / "followup_9.es.txt").write_text("Subject: Nueva\n\nHola {{ contact.first_name or '' }}\n",
                                           encoding="utf-8")
    assert ("followup_9", "es") in file_templates(own) and ("followup_9", "es") not in file_templates()
    bad = own / "followup_8.es.txt"
    bad.write_text("Subject: x\n\n{{ cliente }}\n", encoding="utf-8")
    problems = validate_templates(settings, engine)
    assert any(str(bad) in p and "cliente" in p for p in problems), problems
    bad.unlink()

    longer = replace(settings, protocol=replace(settings.protocol, steps=(
        *settings.protocol.steps, Step(after_days=5, channel="email", template="followup_10"))))
    [missing] = validate_templates(longer, engine)
    assert "no template named 'followup_10'" in missing and str(own) in missing, missing
    for lang in ("es", "en"):
        (own / f"followup_10.{lang}.txt").write_text("Subject: Última\n\nHola.\n", encoding="utf-8")
    assert validate_templates(longer, engine) == []


def test_the_digest_reads_the_templates_folder_first_and_its_wording_key_by_key(team):
    info, settings, engine = team
    shipped_strings = digest_strings("es")  # the catalogue's digest wording
    [before] = D.build_digests(settings, engine, info.now)
    assert shipped_strings["title"] in before.html and shipped_strings["title"] in before.text

    own = settings.templates.folder / "digest"
    own.mkdir(parents=True)
    (own / "strings.es.toml").write_text('title = "Resumen del equipo Aceros"\n'
                                         '[status]\nsilent = "Callados"\n', encoding="utf-8")
    (own / "digest.txt.j2").write_text("Propio: {{ t.title }} / {{ t.act_now }} / "
                                       "{{ t.status.silent }} / {{ t.status.waiting }}\n",
                                       encoding="utf-8")
    [after] = D.build_digests(settings, engine, info.now)
    assert after.text == (f"Propio: Resumen del equipo Aceros / {shipped_strings['act_now']} / "
                          f"Callados / {shipped_strings['status']['waiting']}\n")
    assert "Resumen del equipo Aceros" in after.html  # the shipped layout, the admin's wording
    assert shipped_strings["title"] not in after.html

    (own / "digest.txt.j2").write_text("{{ t.titel }}\n", encoding="utf-8")
    with pytest.raises(D.DigestError, match="titel"):
        D.build_digests(settings, engine, info.now)


def test_the_starter_settings_detect_what_the_documented_defaults_detect(tmp_path):
    """A team that starts from ``followup init`` must see the quotes the defaults see: a
    detection list written in the starter file would replace the default, so none is."""
    from dataclasses import fields

    from assistant.settings import load_settings
    from assistant.settings.model import Detection

    loaded = load_settings(_settings_file(tmp_path), environ={}).detection
    for f in fields(Detection):
        assert getattr(loaded, f.name) == getattr(Detection(), f.name), f.name
    assert {"quotation", "estimate"} <= set(loaded.quote_keywords)
