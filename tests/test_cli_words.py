"""Issue 14, item 4, on the command line: every ``followup`` command speaks ``[team]
language`` only -- no string of the other language, no raw catalogue key -- in Spanish and
in English, each output checked against the catalogue's own entries (the checker of
``tests/test_wording_walk.py``). The sample team is copied once per language and every
command runs in-process (click's ``CliRunner``), in an order that takes each one through
its success and its refusals; ``serve`` runs as a subprocess (it serves until stopped).

Not walked here, by design (README, "Languages"): ``--help`` and click's usage errors
(English), and a settings file that does not load (English: the team's language is not
known yet) -- the last one is checked to be English *only*.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.settings import load_settings
from assistant.web.security import SECRET_FILE
from assistant.wording import LANGUAGES
from tests.test_web_serve import _free_port, _serve
from tests.test_wording_walk import _FOREIGN, IDENTIFIERS, _segments, problems
from tests.webapp import MANAGER, REP, web_template  # noqa: F401 (a fixture)

CLI = Path(__file__).resolve().parent.parent / "assistant" / "cli"
MONDAY = "2026-11-30T09:30:00-06:00"  # the plan's and the digest's slots passed


@dataclass
class Team:
    folder: Path
    config: str
    language: str
    now: str
    content: str
    """The clients' and the team's own text (subjects, names; the follow-ups' bodies are
    added when checked): their language, not the CLI's; a line of it is not checked."""


def _language_settings(folder: Path, language: str) -> str:
    path = folder / "settings.toml"
    text = path.read_text(encoding="utf-8")
    assert "[team]\n" in text and "[digest]\n" in text
    text = text.replace("[team]\n", f'[team]\nlanguage = "{language}"\n', 1)
    text = text.replace("[digest]\n", f'[digest]\nlanguage = "{language}"\n', 1)  # the digest's reader
    path.write_text(text, encoding="utf-8")
    assert load_settings(path, environ={}).team.language == language
    return str(path)


def _content(config: str, now: datetime) -> str:
    """The threads' subjects, ids and contacts, and the team's names."""
    from assistant.services import snapshot
    from assistant.services.rules import rules_from_settings

    settings = load_settings(config, environ={})
    engine = open_store(settings)
    reports = snapshot.reports(engine, rules_from_settings(settings), now)
    engine.dispose()
    people = [f"{m.name}\n{m.email}" for m in settings.team.members]
    return "\n".join([*(f"{r.subject}\n{r.quote_message_id}\n{r.contact}" for r in reports),
                      *people])


@pytest.fixture(scope="module")
def teams(web_template, tmp_path_factory) -> dict[str, Team]:  # noqa: F811
    """The web tests' sample team (synced, planned, passwords set), one copy per language."""
    source, now = web_template
    out = {}
    for language in LANGUAGES:
        folder = tmp_path_factory.mktemp(f"cli-words-{language}") / "team"
        shutil.copytree(source, folder)
        config = _language_settings(folder, language)
        out[language] = Team(folder, config, language, now.isoformat(), _content(config, now))
    return out


def _followups(team: Team):
    engine = open_store(load_settings(team.config, environ={}))
    try:
        return list_followups(engine)
    finally:
        engine.dispose()


def _content_of(team: Team) -> str:
    """The team's content and the follow-ups' own text as they stand now."""
    return team.content + "\n" + "\n".join(f"{r.subject}\n{r.body}\n{r.link or ''}"
                                            for r in _followups(team))


class Walk:
    """Runs commands in-process for one team; keeps each output to check."""

    def __init__(self, team: Team) -> None:
        self.team, self.runner = team, CliRunner()
        self.outputs: dict[str, str] = {}

    def __call__(self, name: str, *args: str, status: int = 0, config: str | None = None,
                 env: dict | None = None, input: str | None = None, machine: bool = False) -> str:
        """``machine``: a JSON output (its keys and codes are a contract: not words)."""
        base = ["--config", config or self.team.config]
        result = self.runner.invoke(main, [*base, *args], env=env, input=input,
                                    catch_exceptions=False)
        output = result.stdout + result.stderr
        assert result.exit_code == status, (name, result.exit_code, output)
        assert "Traceback" not in output, (name, output)
        if not machine:
            self.outputs[name] = output
        return output

    def problems(self) -> list[str]:
        content = _content_of(self.team)
        where: dict[str, list[str]] = {}
        for name, output in self.outputs.items():
            for segment in _segments(output):
                where.setdefault(segment, []).append(name)
        return [f"{', '.join(names)}: {p}" for segment, names in where.items()
                for p in checked(segment, self.team.language, content)]


_ANY = {language: re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern, _ in _FOREIGN[language]))
        for language in LANGUAGES}
_KEYISH = re.compile(r"[a-z][._][a-z]")


def checked(segment: str, language: str, content: str = "") -> list[str]:
    """:func:`tests.test_wording_walk.problems` of one segment, run only when a quick look
    finds something it could report (one pattern of all the other language's strings, a
    dotted or underscored word, an identifier): the same answer, much faster."""
    bare = segment.strip(" :·.,")
    if _ANY[language].search(segment) or _KEYISH.search(segment) or bare in IDENTIFIERS:
        return problems([segment], language, content)
    return []


def _walk(team: Team, tmp: Path) -> Walk:
    """Every command, through its success and its refusals."""
    run, now = Walk(team), team.now
    es = team.language == "es"
    # starting out
    if es:  # the starter settings are Spanish: init says so in Spanish
        run("init", "init", config=str(tmp / "new" / "settings.toml"))
    run("init over", "init", status=1)
    # mailboxes
    run("sync", "sync")
    run("sync unknown", "sync", "--account", "nadie", status=2)
    run("accounts list", "accounts", "list")
    run("accounts tsv", "accounts", "list", "--tsv")
    listed = run("accounts json", "accounts", "list", "--json", machine=True)
    assert list(json.loads(listed)["accounts"][0]) == [
        "name", "kind", "where", "status", "last_sync_at", "error", "set_aside", "set_aside_count"]
    run("accounts test", "accounts", "test", "ana")
    run("accounts test unknown", "accounts", "test", "nadie", status=2)
    key = tmp / "key.json"
    key.write_text('{"type": "service_account"}', encoding="utf-8")
    run("accounts add gmail", "accounts", "add", "gmail", "--name", "svc", "--service-account",
        str(key), "--token-file", str(tmp / "svc-token.json"))
    run("accounts add outlook", "accounts", "add", "outlook", "--name", "app", "--client-id", "abc",
        "--app-only", "--secret-env", "CLI_WORDS_SECRET", "--token-file", str(tmp / "app.json"),
        env={"CLI_WORDS_SECRET": "s3cret"})
    run("accounts add outlook no secret", "accounts", "add", "outlook", "--name", "app",
        "--client-id", "abc", "--app-only", "--secret-env", "CLI_WORDS_UNSET", status=2,
        env={"CLI_WORDS_UNSET": None})
    # threads
    run("scan", "scan", "--now", now)
    scanned = json.loads(run("scan json", "scan", "--now", now, "--json", machine=True))
    assert list(scanned) == ["now", "threads"]
    threads = {t["thread_id"]: t for t in scanned["threads"]}
    run("rebuild", "rebuild")
    mail = next((team.folder / "mail" / "ana" / "cur").iterdir())
    run("inspect", "inspect", str(mail), str(tmp / "missing.eml"), status=1)
    # follow-ups
    run("plan", "drafts", "plan", "--now", now)
    run("list", "drafts", "list", "--now", now)
    rows = _followups(team)
    email = next(r for r in rows if r.channel == "email" and r.status == "drafted")
    call = next(r for r in rows if r.channel == "phone" and r.status == "drafted")
    held = next(r for r in rows if r.status == "held")
    others = [r for r in rows if r.status == "drafted" and r.id not in (email.id, call.id)]
    run("show", "drafts", "show", str(email.id))
    run("show held", "drafts", "show", str(held.id))
    run("show unknown", "drafts", "show", "99999", status=1)
    run("edit unchanged", "drafts", "edit", str(others[0].id), env={"EDITOR": "true"})
    run("edit saved", "drafts", "edit", str(others[0].id), env={"EDITOR": "touch"})
    run("approve", "drafts", "approve", str(email.id))
    run("approve again", "drafts", "approve", str(email.id), status=1)
    run("skip", "drafts", "skip", str(others[1].id), "--reason", "pidió esperar" if es else "later")
    run("skip plain", "drafts", "skip", str(others[2].id))
    run("skip again", "drafts", "skip", str(others[2].id), status=1)
    short = next(t for t, r in threads.items() if r["status"] in ("silent", "waiting"))
    call_thread = next(t for t, r in threads.items() if r["quote_message_id"] == call.quote_message_id)
    run("touch", "touch", call_thread, "--channel", "phone", "--now", now)
    run("touch unknown", "touch", "zzzzzzz", "--channel", "phone", "--now", now, status=1)
    # outcomes
    run("mark", "mark", short, "won", "--now", now)
    run("unmark", "unmark", short, "--now", now)
    run("unmark nothing", "unmark", short, "--now", now, status=1)
    run("snooze", "snooze", short, "--until", "2026-12-15", "--now", now)
    run("snooze undo", "snooze", short, "--undo", "--now", now)
    run("reply", "reply", short, "--channel", "whatsapp", "--now", now)
    run("reply undo", "reply", short, "--undo", "--now", now)
    run("mark unknown", "mark", "zzzzzzz", "won", "--now", now, status=1)
    # templates
    run("templates list", "templates", "list")
    run("preview", "templates", "preview", "followup_1", "--lang", team.language)
    run("preview unknown", "templates", "preview", "nothing_9", status=1)
    run("validate", "templates", "validate")
    good, bad = tmp / "good.txt", tmp / "bad.txt"
    good.write_text("Subject: Seguimiento\n\nHola {{ contact.first_name or '' }}\n", encoding="utf-8")
    bad.write_text("Subject: x\n\n{{ contact.nombre }\n", encoding="utf-8")
    run("save", "templates", "save", "followup_9", str(good), "--lang", "es", "--author", MANAGER)
    run("save broken", "templates", "save", "followup_9", str(bad), "--lang", "es", "--author",
        MANAGER, status=1)
    run("templates list saved", "templates", "list")
    # digest and morning lists (no sender in the sample's settings)
    run("digest", "digest", "--now", MONDAY)
    run("digest out", "digest", "--now", MONDAY, "--out", str(tmp / "digest.html"))
    run("digest send", "digest", "--now", MONDAY, "--send", status=1)
    run("digest unknown", "digest", "--now", MONDAY, "--manager", "nadie@x.example", status=1)
    run("morning", "morning", "--now", MONDAY)
    run("morning out", "morning", "--now", MONDAY, "--out", str(tmp / "mornings"))
    run("morning send", "morning", "--now", MONDAY, "--send", status=1)
    run("morning nobody", "morning", "--now", MONDAY, "--rep", "nadie@x.example")
    # the worker, once
    run("run once", "run", "--once", "--now", MONDAY)
    run("run once again", "run", "--once", "--now", MONDAY)
    # web passwords
    run("set password", "users", "set-password", REP, "--password-stdin", input="demo\n")
    run("set password short", "users", "set-password", REP, "--password-stdin", input="ab\n", status=2)
    run("set password unknown", "users", "set-password", "nadie@x.example", "--password-stdin",
        input="demo1234\n", status=2)
    # CRM (none in the sample's settings)
    run("crm status", "crm", "status")
    run("crm test", "crm", "test", status=2)
    run("crm sync", "crm", "sync", status=2)
    # the database cannot be created: a file stands where its folder would be
    (tmp / "blocked").write_text("x", encoding="utf-8")
    broken = tmp / "broken.toml"
    broken.write_text(Path(team.config).read_text(encoding="utf-8").replace(
        'url = "sqlite:///followup.db"', f'url = "sqlite:///{tmp}/blocked/followup.db"'),
        encoding="utf-8")
    run("database error", "sync", config=str(broken), status=1)
    run("no database", "scan", config=str(broken), status=1)  # only sync and its like create one
    # the web secret others may read
    secret = team.folder / SECRET_FILE
    secret.unlink(missing_ok=True)
    secret.write_text("x" * 48, encoding="utf-8")
    secret.chmod(0o644)
    run("unsafe secret", "serve", "--port", str(_free_port()), status=2, env={"FOLLOWUP_SECRET_KEY": None})
    secret.unlink()  # made anew, 0600, by the next start
    return run


SAID = {  # command: (Spanish, English)
    "show": ("· borrador de correo ·", "· email draft ·"),
    "show held": ("retenido: Marta Garza escribió a", "held: Marta Garza wrote to"),
    "accounts test unknown": ("Cuenta de correo desconocida:", "Unknown account:"),
    "accounts list": ("al día", "ok"),
    "validate": ("Todas las plantillas se generan bien.", "All templates render."),
    "templates list": ("(incluida)", "(shipped)"),
    "digest": ("Asunto: Seguimiento de cotizaciones", "Subject: Quote follow-up"),
    "digest send": ("no hay cómo enviar el resumen", "no way to send the digest"),
    "run once": ("sincronización: hecho", "sync: done"),
    "database error": ("Error de base de datos: no se puede crear la carpeta",
                       "Database error: cannot create the folder"),
    "no database": ("Error de base de datos: no hay base de datos en", "Database error: no database at"),
    "unsafe secret": ("Clave secreta insegura: otros usuarios pueden leer",
                      "Unsafe secret: "),
    "save broken": ("Error de plantilla: no se guardó: followup_9.es línea 3",
                    "Template error: not saved: followup_9.es line 3"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_speaks_the_team_language_only(teams, language, tmp_path):
    walk = _walk(teams[language], tmp_path)
    if os.environ.get("CLI_WORDS_DUMP"):  # to read them: CLI_WORDS_DUMP=folder
        for name, output in walk.outputs.items():
            (Path(os.environ["CLI_WORDS_DUMP"]) / f"{language}-{name}.txt").write_text(output)
    assert len(walk.outputs) > 55
    for name, (es, en) in SAID.items():  # what each says, in its language
        assert (es if language == "es" else en) in walk.outputs[name], (name, walk.outputs[name])
    assert walk.problems() == []


def test_the_demo_speaks_its_sample_teams_language_and_refuses_a_folder_in_english(tmp_path):
    """The demo's team is the sample's (Spanish); before it exists (a folder it did not
    create) the language is not known: English only."""
    runner = CliRunner()
    done = runner.invoke(main, ["demo", "--dir", str(tmp_path / "demo")], catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    assert "Equipo de ejemplo escrito en" in done.stdout and "Seguimientos planeados" in done.stdout
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    refused = runner.invoke(main, ["demo", "--dir", str(folder)], catch_exceptions=False)
    assert refused.exit_code == 2 and "already holds files" in refused.stderr
    config = tmp_path / "demo" / "settings.toml"
    sample_now = datetime.fromisoformat("2026-11-26T16:00:00-06:00")
    content = _content(str(config), sample_now) + "\n" + "\n".join(
        f"{r.subject}\n{r.body}\n{r.link or ''}" for r in _followups(
            Team(tmp_path, str(config), "es", "", "")))
    found = problems(_segments(done.stdout + done.stderr), "es", content)
    found += problems(_segments(refused.stdout + refused.stderr), "en")
    assert found == []


def test_settings_that_do_not_load_are_reported_in_english_only(teams, tmp_path):
    """The Spanish team's settings with one bad value: they do not load, so the team's
    language is not known -- the label and the message in English, never a Spanish label
    on an English message."""
    path = tmp_path / "settings.toml"
    path.write_text(Path(teams["es"].config).read_text(encoding="utf-8").replace(
        'timezone = "America/Mexico_City"', 'timezone = "Mars/Olympus"'), encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "scan"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Invalid settings: ") and "Mars/Olympus" in result.stderr
    assert problems(_segments(result.stderr), "en") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_serve_says_where_it_listens_in_the_team_language(teams, language):
    team = teams[language]
    port = _free_port()
    process = _serve(team.config, port, "--host", "0.0.0.0", "--now", team.now)
    process.terminate()
    out, err = process.communicate(timeout=30)
    expected = "Aplicación web de Followup en" if language == "es" else "Followup web app on"
    assert expected in out, (out, err)
    assert problems(_segments(out + err), language, team.content) == []


# --- No sentence left in the command modules ------------------------------------------------

_PRINTERS = {"echo", "secho", "fail", "print_table", "print", "prompt", "ClickException"}
_WORD = re.compile(r"[A-Za-zÁÉÍÓÚáéíóúñÑ]{2,}")
_CODE = re.compile(r"^[a-z_]*(\.[a-z_]*)+$")  # a catalogue code or its prefix: cli.col.


def _text_parts(node: ast.AST) -> list[str]:
    """The literal text a printing call's argument is made of: a string, an f-string's
    literal parts, either side of ``+``, either branch of ``a if c else b``, the items of a
    literal tuple or list (a table's headers) -- not what a call (``say(...)``) or a
    comprehension computes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [part.value for part in node.values if isinstance(part, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return _text_parts(node.left) + _text_parts(node.right)
    if isinstance(node, ast.IfExp):
        return _text_parts(node.body) + _text_parts(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [text for value in node.values for text in _text_parts(value)]
    if isinstance(node, (ast.Tuple, ast.List)):  # a table's headers
        return [text for element in node.elts for text in _text_parts(element)]
    return []


def _literal_words(node: ast.AST) -> list[str]:
    """The words of ``node``'s literal text, without rich markup (``[dim]``, ``[/]``) and
    catalogue codes."""
    words = []
    for text in _text_parts(node):
        if _CODE.match(text.strip()):
            continue
        words += _WORD.findall(re.sub(r"\[/?[a-z ]*\]", "", text))
    return words


def test_the_command_modules_print_no_sentence_of_their_own():
    """Every line a command prints comes from the catalogue: a printing call (``click.echo``,
    ``fail``, ``print_table``, ...) under ``assistant/cli`` has no literal words (codes are
    passed to ``say``; ``help=`` texts are options', not printed lines; click's usage
    errors stay English, like ``--help``)."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
            if name not in _PRINTERS:
                continue
            for arg in call.args:
                if isinstance(arg, ast.Call):  # say(code, ...), obj.say(...): the catalogue's
                    continue
                words = _literal_words(arg)
                if words:
                    found.append(f"{path.name}:{call.lineno}: {' '.join(words)}")
    assert found == []


def test_the_readme_says_which_output_stays_english():
    readme = (CLI.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Languages", 1)[1].split("\n## ", 1)[0]
    for said in ("--help", "usage", "settings file", "English"):
        assert said in section, said
