"""Issue 14, "Done when": the Spanish and the English UIs show no string of the other
language and no raw key. Every GET page of the web app (``url_map``) for a rep, a manager
and an admin in both languages, the flash messages of the review actions, the digest in
both languages, and the CLI's scan / drafts list / drafts plan / drafts approve in both
``team.language``s, each checked against the catalogue's own entries (every other
command: ``tests/test_cli_words.py``, with this checker)."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.services import digest as D
from assistant.services.pages import thread_slug
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.settings import load_settings
from assistant.storage import users as stored_users
from assistant.wording import CATALOGUE, LANGUAGES, TERM_KINDS, placeholders
from tests.webapp import MANAGER, REP, app_for, csrf, web, web_template  # noqa: F401

OTHER = {"en": "es", "es": "en"}
IDENTIFIERS = {code.split(".", 1)[1] for code in CATALOGUE if code.split(".", 1)[0] in TERM_KINDS}


# --- What a page shows a person ---------------------------------------------------------

class _Visible(HTMLParser):
    """The text segments of a page a person reads: text nodes (not scripts, styles, mail
    text in <pre>, form fields' own contents, an element marked with a ``lang`` of its own)
    and the placeholders / labels of fields."""

    SKIP = {"script", "style", "pre", "textarea", "select", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.segments: list[str] = []
        self._skipping = 0
        self._own_language: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skipping += 1
        elif tag != "html" and dict(attrs).get("lang"):  # content in its own language (a
            self._own_language.append(tag)                # template's preview subject)
            self._skipping += 1
        for name, value in attrs:
            if name in ("placeholder", "aria-label", "title", "alt") and value:
                self.segments.append(value.strip())

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif self._own_language and tag == self._own_language[-1]:
            self._own_language.pop()
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.segments.append(" ".join(data.split()))


def visible(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.segments


def _pattern(text: str) -> str:
    out, last = [], 0
    for match in re.finditer(r"\{\{?\s*\w+(?:![rs])?\s*\}?\}", text):
        out.append(re.escape(text[last:match.start()]) + ".+?")
        last = match.end()
    return "".join(out) + re.escape(text[last:])


def _foreign(language: str) -> list[tuple[str, re.Pattern, bool]]:
    """The other language's catalogue strings that cannot be this language's too:
    (code, pattern, whole segment only)."""
    own = {entry[language].strip().lower() for entry in CATALOGUE.values()}
    found = []
    for code, entry in CATALOGUE.items():
        text = entry[OTHER[language]].strip()
        if text == entry[language].strip() or text.lower() in own:
            continue
        literal = re.sub(r"\{\{?\s*\w+(?:![rs])?\s*\}?\}", "", text)
        if len(literal.strip(" :.,()—-")) < 3:
            continue
        words = len(literal.split())
        found.append((code, re.compile(_pattern(text)), words < 2))
    return found


_FOREIGN = {language: _foreign(language) for language in LANGUAGES}


def problems(segments: list[str], language: str, content: str = "") -> list[str]:
    """Raw keys and the other language's strings among what a person reads (a segment of
    ``content``, the mail's own subjects and names, is the clients' language: skipped)."""
    found = []
    for segment in segments:
        if len(segment) > 2 and segment in content:
            continue
        for word in re.findall(r"@?[a-z]+(?:[._][a-z]+)+", segment):
            if word.lstrip("@") in CATALOGUE or word in IDENTIFIERS:
                found.append(f"raw key {word!r} in {segment!r}")
        bare = segment.strip(" :·.,")
        if bare in IDENTIFIERS and not any(
                entry[language] == bare for entry in CATALOGUE.values()):
            found.append(f"raw identifier {bare!r}")
        for code, pattern, whole in _FOREIGN[language]:
            hit = ((pattern.fullmatch(segment.strip()) or pattern.fullmatch(bare)) if whole
                   else pattern.search(segment))
            if hit:
                found.append(f"{OTHER[language]} {code} in the {language} text: {segment!r}")
    return found


def test_the_checker_finds_the_reported_bugs():
    """The observed mixes of issue 14, and a raw key, are what the walk would catch."""
    mixed = "Aprobado. the draft is in the ana mailbox's Drafts folder; send it from your mail client"
    assert any("review.draft_in_mailbox" in p for p in problems([mixed], "es"))
    assert problems(["awaiting_us"], "en") and problems(["account_executive"], "en")
    assert problems(["listo"], "es") == [] and problems(["Held:"], "es")
    assert problems(["@hold.no_assignee"], "en")
    assert problems(["Mis seguimientos", "Conversación"], "es") == []
    assert visible('<html lang="es"><h3 lang="en">Call Mike</h3><p>Hola</p></html>') == ["Hola"]


# --- The web app ------------------------------------------------------------------------

def _signed_in(app, email: str, language: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    if email:
        response = client.post("/login", data={"email": email, "password": "demo",
                                               "csrf_token": csrf(client.get("/login").text)})
        assert response.status_code == 302, response.text
    return client


def _urls(app, settings, engine, now) -> list[str]:
    """Every GET route of ``url_map``, with every follow-up, thread and template."""
    from assistant.services import snapshot
    from assistant.services.rules import rules_from_settings
    from assistant.web import services

    followups = [r.id for r in list_followups(engine)]
    slugs = [thread_slug(r.quote_message_id)
             for r in snapshot.reports(engine, rules_from_settings(settings), now)]
    templates = [(r.name, r.language) for r in services.template_rows(settings, engine)]
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            args = set(rule.arguments)
            if not args:
                urls.append(url_for(rule.endpoint))
            elif args == {"fid"}:
                urls += [url_for(rule.endpoint, fid=fid) for fid in followups + [99999]]
            elif args == {"slug"}:
                urls += [url_for(rule.endpoint, slug=slug) for slug in slugs + ["nothing"]]
            elif args == {"name", "language"}:
                urls += [url_for(rule.endpoint, name=n, language=lang) for n, lang in templates]
            else:
                pytest.fail(f"the walk does not know how to fill {rule}")
    return urls


def _roles(web):
    manager_only = dataclasses.replace(web.settings, team=dataclasses.replace(
        web.settings.team, members=tuple(dataclasses.replace(m, admin=False)
                                         for m in web.settings.team.members)))
    return {"rep": (web.app, REP), "manager": (app_for(manager_only, web.engine, web.now), MANAGER),
            "admin": (web.app, MANAGER)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_for_every_role_is_in_one_language_with_no_raw_key(web, language):
    urls = _urls(web.app, web.settings, web.engine, web.now)
    assert len(urls) > 30
    found, seen = [], 0
    for role, (app, email) in _roles(web).items():
        client = _signed_in(app, email, language)
        for url in urls:
            page = client.get(url, follow_redirects=True)
            assert page.status_code in (200, 403, 404), (role, url, page.status_code)
            assert f'<html lang="{language}">' in page.text, (role, url)
            seen += page.status_code == 200
            found += [f"{role} {url}: {p}" for p in problems(visible(page.text), language)]
    signed_out = _signed_in(web.app, "", language)
    found += [f"/login: {p}" for p in problems(visible(signed_out.get("/login").text), language)]
    assert seen > 3 * 20
    assert found == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_review_actions_flash_in_the_readers_language(web, language):
    """Approve (an email: where the draft is), skip, log a call, save a broken template:
    each message in the page's language only (issue 14: "Aprobado. the draft is in...")."""
    client = _signed_in(web.app, REP, language)
    mine = [r for r in web.followups_of(REP) if r.status in ("held", "drafted")]
    email = next(r for r in mine if r.channel == "email" and r.status == "drafted")
    held = [r for r in mine if r.status == "held"]
    token = csrf(client.get(f"/followups/{email.id}").text)
    pages = [client.post(f"/followups/{email.id}/approve", data={"csrf_token": token},
                         follow_redirects=True)]
    assert ("Aprobado. El borrador está en la carpeta Borradores" if language == "es"
            else "Approved. The draft is in the") in pages[0].text
    again = client.post(f"/followups/{email.id}/approve", data={"csrf_token": token},
                        follow_redirects=True)  # refused: already approved
    assert ("está aprobado: no se puede aprobar" if language == "es"
            else "is approved: it cannot be approved") in again.text
    pages.append(again)
    other = next(r for r in mine if r.id != email.id and r.status == "drafted")
    pages.append(client.post(f"/followups/{other.id}/skip", data={"csrf_token": token, "reason": " "},
                             follow_redirects=True))
    slug = thread_slug(other.quote_message_id)
    pages.append(client.post(f"/threads/{slug}/touch", data={"csrf_token": token, "channel": "phone"},
                             follow_redirects=True))
    pages += [client.get(f"/followups/{r.id}") for r in held]
    admin = _signed_in(web.app, MANAGER, language)
    token = csrf(admin.get("/admin/templates").text)
    broken = admin.post("/admin/templates/followup_1/es", data={
        "csrf_token": token, "text": "Subject: Hola\n\n{{ contact.nombre }\n"})
    assert broken.status_code == 422
    assert ("error de sintaxis: «}» inesperado" if language == "es"
            else "syntax error: unexpected &#39;}&#39;") in broken.text  # Jinja's message worded too
    pages.append(broken)
    found = [p for page in pages for p in problems(visible(page.text), language)]
    assert found == []


# --- The digest ---------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_is_in_the_managers_language_with_no_raw_key(web, language):
    stored_users.set_language(web.engine, MANAGER, language)  # Marta's choice in the web app
    [digest] = D.build_digests(web.settings, web.engine, web.now, manager=MANAGER)
    assert digest.language == language and web.settings.digest.language == "es"
    found = problems(visible(digest.html), language)
    found += problems([line.strip() for line in digest.text.splitlines() if line.strip()]
                      + [digest.subject], language)
    assert found == []
    assert ("Resumen semanal de seguimiento" if language == "es"
            else "Weekly follow-up digest") in digest.html


# --- The CLI --------------------------------------------------------------------------------

@pytest.fixture
def cli_team(web, tmp_path):
    """The web fixture's team, with a settings file per ``team.language``."""
    configs = {}
    text = (web.folder / "settings.toml").read_text(encoding="utf-8")
    for language in LANGUAGES:
        path = web.folder / f"settings.{language}.toml"
        path.write_text(re.sub(r"(?m)^\[team\]\n", f'[team]\nlanguage = "{language}"\n', text, 1),
                        encoding="utf-8")
        configs[language] = str(path)
        assert load_settings(path, environ={}).team.language == language
    return web, configs


def _segments(output: str) -> list[str]:
    """A CLI output's text: each line, and each cell of a table."""
    cells = []
    for line in output.splitlines():
        cells += [cell.strip() for cell in re.split(r"[│┃|]", line) if cell.strip(" ━─┏┓┗┛┡┩└┘")]
    return cells


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cli_speaks_team_language_only(cli_team, language):
    web, configs = cli_team
    now = web.now.isoformat()
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, ["--config", configs[language], *args], catch_exceptions=False)
        return result

    outputs = {"scan": run("scan", "--now", now), "list": run("drafts", "list", "--now", now),
               "plan": run("drafts", "plan", "--now", now)}
    engine = open_store(load_settings(configs[language], environ={}))
    pending = [r for r in list_followups(engine) if r.status in ("drafted", "held")]
    email = next(r for r in pending if r.channel == "email" and r.status == "drafted")
    call = next(r for r in pending if r.channel == "phone")
    engine.dispose()
    outputs["approve email"] = run("drafts", "approve", str(email.id))
    outputs["approve call"] = run("drafts", "approve", str(call.id))
    outputs["approve again"] = run("drafts", "approve", str(email.id))
    outputs["list after"] = run("drafts", "list", "--now", now)
    for name, result in outputs.items():
        expected = 1 if name == "approve again" else 0
        assert result.exit_code == expected, (name, result.output)
    assert ("Sin respuesta — toca dar seguimiento" if language == "es"
            else "Silent — a follow-up is due") in outputs["scan"].output
    assert ("Seguimientos planeados: 0;" if language == "es"
            else "Planned 0 follow-ups") in outputs["plan"].output
    subjects = "\n".join(f"{r.subject}\n{r.quote_message_id}" for r in
                         [*list_followups(web.engine), *_threads(web)])
    found = [f"{name}: {p}" for name, result in outputs.items()
             for p in problems(_segments(result.output), language, subjects)]
    assert found == []


def _threads(web):
    from assistant.services import snapshot
    from assistant.services.rules import rules_from_settings

    return snapshot.reports(web.engine, rules_from_settings(web.settings), web.now)


# --- The catalogue itself ---------------------------------------------------------------------

def test_every_identifier_the_product_shows_is_worded():
    from assistant.domain.followups import FOLLOWUP_STATUSES
    from assistant.domain.metrics import SCENARIOS
    from assistant.settings.model import CHANNELS, RESPONSIBLE_ROLES, ROLES

    wanted = ([f"status.{s}" for s in ("silent", "waiting", "awaiting_us", "closed", "bounced",
                                        "exhausted")]
              + [f"followup.{s}" for s in FOLLOWUP_STATUSES] + [f"scenario.{s}" for s in SCENARIOS]
              + [f"channel.{c}" for c in CHANNELS] + [f"role.{r}" for r in ROLES]
              + [f"responsible.{r}" for r in RESPONSIBLE_ROLES])
    assert [code for code in wanted if code not in CATALOGUE] == []
    assert all(placeholders(CATALOGUE[c]["en"]) == set() for c in wanted)
    # the drafted follow-up never reads as done ("listo")
    assert CATALOGUE["followup.drafted"]["es"] == "por revisar"


def test_the_spanish_is_the_mexican_sales_teams():
    spanish = " ".join(entry["es"] for entry in CATALOGUE.values())
    for said in ("borrador", "seguimiento", "Días festivos", "Responsable", "representante",
                 "gerente", "cotización"):
        assert said.lower() in spanish.lower(), said
    for not_said in ("Feriados", "ejecutivo de ventas", "Vendedor", "silencio", "listo"):
        assert not re.search(rf"\b{not_said}\b", spanish), not_said


def test_hold_reasons_are_stored_as_codes_and_read_in_each_language(web):
    """Hold reasons are stored as codes: the same row reads in each reader's language."""
    from assistant.wording import reason_words

    held = [r for r in list_followups(web.engine) if r.hold_reason]
    assert held and all(r.hold_reason.startswith("@hold.") for r in held)
    for row in held:
        assert reason_words(row.hold_reason, "en") != reason_words(row.hold_reason, "es")
