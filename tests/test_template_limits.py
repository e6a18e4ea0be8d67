"""Issue 11, point 4: every hostile template is refused or cut off within 2 s and 256 MB,
on every path a template renders on, against the real parts:

* the render worker itself (:class:`assistant.rendering.Renderer`): its clock, its kill,
  its memory ceiling, its orphan guard, measured with ``wait4``;
* ``followup templates validate|save|preview`` and ``followup drafts plan`` as
  subprocesses of the installed script, measured with ``wait4`` (peak RSS of the command
  and of the worker it ran, CPU) and the wall clock, against the same command on a
  harmless template;
* the web app's live preview and save over real HTTP (werkzeug's threaded server on
  loopback), in the UI's language, including a client that leaves mid-preview;
* planning in process and the weekly digest (its templates and its wording strings).

Hostile templates: :mod:`tests.hostile_templates` (every refusal names line 3).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from assistant.demo.pipeline import DEMO_PASSWORD
from assistant.drafting.sandbox import _MESSAGES, Limits, TemplateProblem
from assistant.drafting.templates import TemplateSource, sample_context, shipped_templates, stored_form
from assistant.rendering import Renderer, renderer
from assistant.demo.sample import generate_sample
from assistant.services import digest as D
from assistant.services.planning import plan
from assistant.services.review import list_followups
from assistant.services.scan import open_store
from assistant.services.sync import sync
from assistant.services.templates import template_history, template_sources
from assistant.settings import load_settings
from assistant.storage import models
from assistant.wording import reason_words
from tests.hostile_templates import BY_ID, CLOCK, HOSTILE, REPRESENTATIVE, Hostile
from tests.test_pipeline import FOLLOWUP
from tests.webapp import MANAGER, csrf, web, web_template  # noqa: F401 (fixtures)

SECONDS = 2.0
"""The bound: refused or cut off within this many seconds..."""
MEMORY = 256 * 1024 * 1024
"""...and this much resident memory."""
DUE = (("followup_1", "es"), ("call_1", "es"), ("whatsapp_1", "es"))
"""The (template, language) pairs the sample team's due follow-ups render."""
FREE = Limits(steps=10**15, value=10**15, created=10**15, output=10**15, int_bits=10**6,
              width=10**12)
"""No sandbox limit left but the source checks: only the worker's clock and memory bound a
render (to test those)."""


def signature(what: str) -> str:
    """The longest fixed part of a problem's English message: how a test recognises it in
    a command's output."""
    parts = re.split(r"\{[^{}]*\}", _MESSAGES["en"][what].replace("{{", "{").replace("}}", "}"))
    return max(parts, key=len).strip()


def assert_problem(text: str, hostile: Hostile, *, label: str, digest: bool = False) -> None:
    """``text`` names ``label`` line 3 and one of the answers right for ``hostile``."""
    assert f"{label} line 3: " in text, text
    assert any(signature(what) in text for what in hostile.accepted(digest=digest)), text


# --- Processes, measured ------------------------------------------------------------------

@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    max_rss: int
    """Peak resident memory of the command and of every process it waited for (its render
    workers), in bytes: ``wait4``."""
    cpu: float


_LAUNCHER = """
import json, os, sys, time
started = time.monotonic()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"status": status, "wall": time.monotonic() - started,
               "max_rss": usage.ru_maxrss * 1024, "cpu": usage.ru_utime + usage.ru_stime}, out)
"""
"""Starts the command and measures it. A child's ``ru_maxrss`` starts at its parent's
resident memory (Linux counts the image it was forked from), so the command is started
from this small process, not from pytest: what ``wait4`` then reports is the peak of the
command and of every process it waited for (its render workers)."""


def measured(*args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if k not in ("FOLLOWUP_CONFIG", "FOLLOWUP_DATABASE_URL")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as report:
        subprocess.run([sys.executable, "-c", _LAUNCHER, report.name, FOLLOWUP, *args],
                       stdout=out, stderr=err, env=env, timeout=120, check=True)
        data = json.load(report)
        out.seek(0)
        err.seek(0)
        return Run(os.waitstatus_to_exitcode(data["status"]), out.read().decode(),
                   err.read().decode(), data["wall"], data["max_rss"], data["cpu"])


WALL_SLACK = 2.0
"""The wall clock may exceed the baseline by the 2 s cut-off plus this much: on 2 busy cores
(the suite's other worker, a machine slower than the one the cut-off was set on) a command
waits for a core as long again. The command's CPU is held to the 2 s alone, and the
render worker's own clock to 2 s in ``test_every_hostile_template_in_the_worker``; a
template run outside the bounded worker would take the 120 s timeout, not 4 s."""


def assert_bounded(run: Run, baseline: Run) -> None:
    """Within 2 s of what the same command takes on a harmless template (its CPU; the wall
    clock within ``WALL_SLACK`` more), within 256 MB."""
    assert run.wall - baseline.wall < SECONDS + WALL_SLACK, (run.wall, baseline.wall)
    assert run.cpu - baseline.cpu < SECONDS, (run.cpu, baseline.cpu)
    assert run.max_rss <= MEMORY, run.max_rss


def gone(pid: int) -> bool:
    """The process has ended (reaped, or a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


# --- The sample team, synced, nothing planned yet --------------------------------------------

@pytest.fixture(scope="module")
def unplanned(tmp_path_factory):
    dest = tmp_path_factory.mktemp("limits") / "team"
    info = generate_sample(dest)
    # these tests read the CLI's problem lines in English ([team] language; Spanish by default)
    config = info.settings_path.read_text(encoding="utf-8")
    info.settings_path.write_text(config.replace("[team]\n", '[team]\nlanguage = "en"\n', 1),
                                  encoding="utf-8")
    settings = load_settings(info.settings_path, environ={})
    engine = open_store(settings)
    sync(settings, engine)
    engine.dispose()
    return dest, info.now


@dataclass
class Team:
    folder: Path
    now: datetime
    settings: object
    engine: object

    def cli(self, *args: str) -> Run:
        return measured("--config", str(self.folder / "settings.toml"), *args)

    def store(self, name: str, language: str, hostile: Hostile, version: int = 1) -> None:
        """A version stored as it is (what an older release accepted, or a row written by
        hand): ``save`` would refuse it."""
        stored = stored_form(hostile.text, name)
        with Session(self.engine) as session, session.begin():
            session.add(models.TemplateVersion(
                name=name, language=language, version=version, subject=stored.subject,
                body=stored.body, author="old@aceros.example",
                created_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))

    def versions(self) -> int:
        with Session(self.engine) as session:
            return session.query(models.TemplateVersion).count()


@pytest.fixture
def team(unplanned, tmp_path):
    source, now = unplanned
    folder = tmp_path / "team"
    shutil.copytree(source, folder)
    settings = load_settings(folder / "settings.toml", environ={})
    engine = open_store(settings)
    yield Team(folder, now, settings, engine)
    engine.dispose()


# --- The worker: clock, kill, memory ceiling, orphans -----------------------------------------

@pytest.fixture
def own_renderer():
    made = Renderer()
    yield made
    made.close()


def _render_timed(render, source, limits=None):
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as err:
        render.render(source, sample_context("es"), *([limits] if limits else []))
    return err.value, time.monotonic() - started


def test_the_workers_clock_stops_a_render_at_its_line_and_the_worker_ends(own_renderer):
    own_renderer.render(shipped_templates()["followup_1", "es"], sample_context("es"))  # warm
    problem, elapsed = _render_timed(own_renderer, CLOCK.source())
    assert problem.what == "time" and problem.line == 3
    assert str(problem) == "h_membership_tests.es line 3: took longer than 1 s to render (a loop that does not end?)"
    assert elapsed < SECONDS
    ended = own_renderer.exits[-1]
    assert ended.reason == "limit" and gone(ended.pid) and ended.max_rss <= MEMORY
    assert ended.cpu < SECONDS
    # The same text again: refused at once, without a render.
    again, elapsed = _render_timed(own_renderer, CLOCK.source())
    assert str(again) == str(problem) and elapsed < 0.1
    assert len(own_renderer.exits) == 1
    # Refused again under another name (the same text pasted into another template's
    # live preview): the answer names the template the user is editing now.
    renamed = CLOCK.source("followup_1")  # labelled h_membership_tests.es -> followup_1.es
    again, elapsed = _render_timed(own_renderer, renamed)
    assert str(again).startswith("followup_1.es line 3: took longer") and elapsed < 0.1


def test_a_render_stuck_in_one_long_operation_is_killed_from_outside(own_renderer):
    """Python runs no signal handler in the middle of one C call (``sum`` over a range):
    the caller's clock kills the worker with SIGKILL, and reaps it."""
    stuck = TemplateSource("stuck", "es", "Subject: a\n\n{{ range(10**12)|sum }}\n", 0, "stuck.es")
    problem, elapsed = _render_timed(own_renderer, stuck, FREE)
    assert problem.what == "time" and "stuck.es: took longer than 1 s" in str(problem)
    assert elapsed < SECONDS
    ended = own_renderer.exits[-1]
    assert ended.reason == "timeout" and ended.returncode == -9 and gone(ended.pid)
    assert ended.max_rss <= MEMORY


def test_the_memory_ceiling_stops_a_render_that_keeps_growing_at_its_line(own_renderer):
    growing = TemplateSource("grow", "es", "Subject: a\n\nx\n{% for i in range(10**6) %}"
                             "{{ ('x' * 10**5) ~ i }}{% endfor %}\n", 0, "grow.es")
    problem, elapsed = _render_timed(own_renderer, growing, FREE)
    assert problem.what == "memory" and problem.line == 4, str(problem)
    assert "needs more memory than a template may use (256 MB)" in str(problem)
    assert elapsed < SECONDS
    ended = own_renderer.exits[-1]
    assert ended.reason == "limit" and gone(ended.pid)
    assert 128 * 1024 * 1024 < ended.max_rss <= MEMORY  # it did grow, up to the ceiling only
    one_shot = TemplateSource("big", "es", "Subject: a\n\n{{ ('x' * 10**9)|length }}\n", 0, "big.es")
    problem, elapsed = _render_timed(own_renderer, one_shot, FREE)
    assert problem.what == "memory" and problem.line == 3 and elapsed < SECONDS
    assert own_renderer.exits[-1].max_rss <= MEMORY


_ORPHAN_PARENT = """
import os, threading, time
from assistant.drafting.sandbox import Limits
from assistant.drafting.templates import TemplateSource, sample_context
from assistant.rendering import Renderer

def stat(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:  # a process that ended meanwhile
        return ["X", "0"] + ["0"] * 20

free = Limits(steps=10**15, value=10**15, created=10**15, output=10**15, width=10**12)
stuck = TemplateSource("stuck", "es", "Subject: a\\n\\n{{ range(10**13)|sum }}\\n", 0, "stuck")
renders = Renderer(grace=60)  # its own kill far away: only the worker's CPU limit is left
threading.Thread(target=renders.render, args=(stuck, sample_context("es"), free), daemon=True).start()
me = str(os.getpid())
while True:
    kids = [p for p in os.listdir("/proc") if p.isdigit() and stat(p)[1] == me]
    if kids and int(stat(kids[0])[11]) + int(stat(kids[0])[12]) >= 50:  # 0.5 s of CPU: rendering
        print(kids[0], flush=True)
        os.kill(os.getpid(), 9)
    time.sleep(0.02)
"""


def test_a_worker_whose_parent_dies_mid_render_stops_by_itself():
    proc = subprocess.run([sys.executable, "-c", _ORPHAN_PARENT], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == -9, proc.stderr
    pid = int(proc.stdout.split()[0])
    assert not gone(pid)  # orphaned, still in its endless sum
    deadline = time.monotonic() + 10
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid)  # its CPU limit (1 s clock + 2 s) ended it


def test_workers_serve_threads_at_once_and_are_replaced_when_they_grow(own_renderer):
    source = shipped_templates()["followup_2", "en"]
    expected = own_renderer.render(source, sample_context("en"))
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(own_renderer.render(source, sample_context("en")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 30 and all(r == expected for r in results)
    assert own_renderer.peak_rss < 64 * 1024 * 1024 and not own_renderer.exits
    small = Renderer(recycle_rss=1)
    try:
        small.render(source, sample_context("en"))
        assert small.exits[-1].reason == "recycled" and gone(small.exits[-1].pid)
    finally:
        small.close()


@pytest.mark.parametrize("hostile", [*HOSTILE, CLOCK], ids=lambda h: h.id)
def test_every_hostile_template_in_the_worker(hostile):
    """What every caller gets: ``renderer()`` (the process's worker pool)."""
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as err:
        renderer().render(hostile.source(), sample_context("es"))
    assert time.monotonic() - started < SECONDS
    assert err.value.what in hostile.accepted() and err.value.line == 3, str(err.value)
    assert renderer().peak_rss <= MEMORY


# --- The CLI: templates validate, save, preview; drafts plan ----------------------------------

def test_templates_validate_refuses_every_hostile_stored_version(team):
    baseline = team.cli("templates", "validate")
    assert baseline.returncode == 0, baseline.stderr
    team.store("h_membership_tests", "es", CLOCK)
    timed = team.cli("templates", "validate")
    assert timed.returncode == 1
    assert_problem(timed.stderr, CLOCK, label="h_membership_tests.es v1 (old@aceros.example)")
    assert_bounded(timed, baseline)
    for hostile in HOSTILE:
        team.store(f"h_{hostile.id}", "es", hostile)
    run = team.cli("templates", "validate")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    for hostile in HOSTILE:
        assert_problem(run.stderr, hostile, label=f"h_{hostile.id}.es v1 (old@aceros.example)")
    assert run.max_rss <= MEMORY
    # ~90 more templates refused in one command: each took a fraction of the 2 s.
    assert (run.wall - timed.wall) / len(HOSTILE) < 0.1, (run.wall, timed.wall)


_BASELINES: dict[str, Run] = {}
"""The harmless command each hostile case is measured against, run once per test worker
(each run of it costs a process: ~2.5 s on a slow machine, 13 cases a test)."""


def baseline_save(team: Team, tmp_path: Path) -> Run:
    if "save" not in _BASELINES:
        harmless = tmp_path / "harmless.txt"
        harmless.write_text("Subject: Re: {{ quote.subject }}\n\nHola {{ contact.first_name }}\n",
                            encoding="utf-8")
        run = team.cli("templates", "save", "followup_1", str(harmless), "--lang", "es",
                       "--author", MANAGER)
        assert run.returncode == 0 and "version 1" in run.stdout, run.stderr
        _BASELINES["save"] = run
    return _BASELINES["save"]


def baseline_preview(team: Team) -> Run:
    if "preview" not in _BASELINES:
        run = team.cli("templates", "preview", "followup_1", "--lang", "es")
        assert run.returncode == 0 and run.stdout.startswith("Subject: Re: "), run.stderr
        _BASELINES["preview"] = run
    return _BASELINES["preview"]


@pytest.mark.parametrize("hostile", [*REPRESENTATIVE, CLOCK], ids=lambda h: h.id)
def test_templates_save_refuses_a_hostile_file_and_stores_nothing(team, hostile, tmp_path):
    baseline = baseline_save(team, tmp_path)
    versions = team.versions()
    bad = tmp_path / "bad.txt"
    bad.write_text(hostile.text, encoding="utf-8")
    run = team.cli("templates", "save", "followup_1", str(bad), "--lang", "es", "--author", MANAGER)
    assert run.returncode == 1 and "not saved" in run.stderr and "Traceback" not in run.stderr
    assert_problem(run.stderr, hostile, label="followup_1.es")
    assert_bounded(run, baseline)
    assert team.versions() == versions


@pytest.mark.parametrize("hostile", [*REPRESENTATIVE, CLOCK], ids=lambda h: h.id)
def test_templates_preview_refuses_a_hostile_stored_version(team, hostile):
    baseline = baseline_preview(team)
    team.store("followup_1", "es", hostile)
    run = team.cli("templates", "preview", "followup_1", "--lang", "es")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert_problem(run.stderr, hostile, label="followup_1.es v1 (old@aceros.example)")
    assert_bounded(run, baseline)


def test_save_stores_exactly_the_text_it_validated(team, tmp_path):
    edited = tmp_path / "edited.txt"
    edited.write_text("{# mine #}\nSubject: Re: {{ quote.subject }}\nHola {{ contact.first_name }}\n"
                      "{{ owner.signature }}\n", encoding="utf-8")
    assert team.cli("templates", "save", "followup_1", str(edited), "--lang", "es",
                    "--author", MANAGER).returncode == 0
    stored = template_sources(team.engine)["followup_1", "es"].text
    assert stored == stored_form(edited.read_text(encoding="utf-8"), "x").text
    assert stored == "Subject: Re: {{ quote.subject }}\n\nHola {{ contact.first_name }}\n{{ owner.signature }}\n"
    preview = team.cli("templates", "preview", "followup_1", "--lang", "es")
    assert preview.stdout.startswith("Subject: Re: Cotización") and "Hola Diego" in preview.stdout
    # The case: a {% set %} before Subject: was validated whole, then dropped.
    dropped = tmp_path / "set-first.txt"
    dropped.write_text("{% set saludo = 'Hola' %}\nSubject: {{ saludo }}\n\n{{ saludo }} {{ contact.first_name }}\n",
                       encoding="utf-8")
    run = team.cli("templates", "save", "followup_1", str(dropped), "--lang", "es", "--author", MANAGER)
    assert run.returncode == 1 and "followup_1.es line 1: only {# comments #} may come before" in run.stderr
    assert team.versions() == 1
    # A mistake after a header comment names the line of the admin's file, not of the stored text.
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("{# header\n   two lines #}\nSubject: a\n\nHola\n{{ contact.nombre }}\n", encoding="utf-8")
    run = team.cli("templates", "save", "followup_1", str(wrong), "--lang", "es", "--author", MANAGER)
    assert "followup_1.es line 6: contact has no field nombre (contact's fields: name," in run.stderr


def _plan_groups(hostiles: list[Hostile]) -> list[list[Hostile]]:
    return [hostiles[i:i + len(DUE)] for i in range(0, len(hostiles), len(DUE))]


def _assert_held(team: Team, group: list[Hostile]) -> None:
    rows = list_followups(team.engine)
    for (name, language), hostile in zip(DUE, group):
        mine = [r for r in rows if r.template == name]
        assert mine and all(r.status == "held" and not r.body for r in mine), name
        for row in mine:
            held = reason_words(row.hold_reason)
            assert held.startswith("template error: "), held
            assert_problem(held, hostile,
                           label=f"{name}.{language} v1 (old@aceros.example)")


@pytest.mark.parametrize("group", _plan_groups([CLOCK, *REPRESENTATIVE]),
                         ids=lambda g: "+".join(h.id for h in g))
def test_drafts_plan_holds_the_follow_ups_of_hostile_templates(unplanned, tmp_path, group):
    source, now = unplanned
    runs = {"baseline": _BASELINES["plan"]} if "plan" in _BASELINES else {}
    for kind in ("baseline", "hostile"):
        if kind in runs:
            continue
        folder = tmp_path / kind
        shutil.copytree(source, folder)
        settings = load_settings(folder / "settings.toml", environ={})
        team = Team(folder, now, settings, open_store(settings))
        if kind == "hostile":
            for (name, language), hostile in zip(DUE, group):
                team.store(name, language, hostile)
        runs[kind] = team.cli("drafts", "plan", "--now", now.isoformat())
        assert runs[kind].returncode == 0, runs[kind].stderr
        if kind == "baseline":
            _BASELINES["plan"] = runs[kind]
            team.engine.dispose()
    assert runs["baseline"].stdout.startswith("Planned 12 follow-ups, held 1")  # [team] en
    held = sum(1 for r in list_followups(team.engine) if r.status == "held")
    assert held >= 1 + len(group) and "template problem: " in runs["hostile"].stderr
    _assert_held(team, group)
    # followup_1 has 8 due follow-ups: a template out of time is rendered once, not 8 times.
    assert_bounded(runs["hostile"], runs["baseline"])
    team.engine.dispose()


@pytest.mark.parametrize("group", _plan_groups(HOSTILE), ids=lambda g: "+".join(h.id for h in g))
def test_planning_holds_every_hostile_template(team, group):
    for (name, language), hostile in zip(DUE, group):
        team.store(name, language, hostile)
    result = plan(team.settings, team.engine, team.now)
    assert len(result.problems) == 8 + 4 + 1 - sum(1 for _ in DUE[len(group):])
    _assert_held(team, group)
    assert renderer().peak_rss <= MEMORY


# --- The web app, over real HTTP ---------------------------------------------------------------

@pytest.fixture
def site(web):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, web.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", web
    server.shutdown()
    thread.join(5)


def _admin(base: str, lang: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.headers["Accept-Language"] = lang
    token = csrf(session.get(f"{base}/login", timeout=30).text)
    response = session.post(f"{base}/login", data={"email": MANAGER, "password": DEMO_PASSWORD,
                                                   "csrf_token": token}, allow_redirects=False, timeout=30)
    assert response.status_code == 302
    return session, csrf(session.get(f"{base}/admin/templates/followup_1/es", timeout=30).text)


def _preview(session, base, token, text):
    started = time.monotonic()
    response = session.post(f"{base}/admin/templates/followup_1/es/preview",
                            data={"text": text, "thread": "", "csrf_token": token},
                            headers={"X-CSRF-Token": token}, timeout=30)
    return response, time.monotonic() - started


def test_the_live_preview_refuses_every_hostile_template_in_the_users_language(site):
    base, env = site
    session, token = _admin(base, "en")
    good, _ = _preview(session, base, token, shipped_templates()["followup_1", "es"].text)
    assert good.status_code == 200 and good.json()["error"] is None and good.json()["body"]
    for hostile in [*HOSTILE, CLOCK]:
        response, elapsed = _preview(session, base, token, hostile.text)
        assert response.status_code == 200 and elapsed < SECONDS, (hostile.id, elapsed)
        data = response.json()
        assert data["line"] == 3 and data["body"] is None, (hostile.id, data)
        assert_problem(data["error"], hostile, label="followup_1.es")
    assert renderer().peak_rss <= MEMORY
    spanish, token = _admin(base, "es")
    response, _ = _preview(spanish, base, token, BY_ID["center"].text)
    assert response.json()["error"] == ("followup_1.es línea 3: 1\u00a0000\u00a0000\u00a0000 es "
                                        "demasiado para un ancho (máximo 1\u00a0000)")
    response, _ = _preview(spanish, base, token, BY_ID["parentheses"].text)
    assert "línea 3: aquí se anidan más de 16 niveles" in response.json()["error"]


def test_a_preview_that_times_out_stops_its_worker_even_if_the_client_left(site):
    base, env = site
    session, token = _admin(base, "en")
    _preview(session, base, token, shipped_templates()["followup_1", "es"].text)  # a warm worker
    before = len(renderer().exits)
    text = CLOCK.text.replace("The end.", f"left at {time.time()}")  # not refused from memory
    body = requests.models.RequestEncodingMixin._encode_params(
        {"text": text, "thread": "", "csrf_token": token})
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    host, port = base.removeprefix("http://").split(":")
    request = (f"POST /admin/templates/followup_1/es/preview HTTP/1.1\r\nHost: {host}\r\n"
               f"Cookie: {cookies}\r\nX-CSRF-Token: {token}\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}")
    started = time.monotonic()
    with socket.create_connection((host, int(port))) as client:
        client.sendall(request.encode())
    # The client is gone; the render must stop on its clock all the same.
    while len(renderer().exits) == before and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert time.monotonic() - started < SECONDS
    ended = renderer().exits[-1]
    assert ended.reason in ("limit", "timeout") and gone(ended.pid) and ended.max_rss <= MEMORY
    assert not renderer().busy


def test_saving_a_hostile_template_over_http_is_refused_in_spanish_with_its_line(site):
    base, env = site
    session, _ = _admin(base, "es")
    page = session.get(f"{base}/admin/templates/followup_1/es", timeout=30).text
    before = template_history(env.engine)
    started = time.monotonic()
    response = session.post(f"{base}/admin/templates/followup_1/es",
                            data={"text": "{# cabecera #}\n" + BY_ID["power"].text,
                                  "csrf_token": csrf(page)}, timeout=30)
    assert time.monotonic() - started < SECONDS
    assert response.status_code == 422
    assert 'data-error-line="4"' in response.text
    assert "followup_1.es línea 4: el resultado es demasiado grande" in response.text
    assert template_history(env.engine) == before


# --- The digest -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def marta(unplanned):
    source, now = unplanned
    settings = load_settings(source / "settings.toml", environ={})
    engine = open_store(settings)
    [digest] = D.build_digests(settings, engine, now)
    engine.dispose()
    return settings, digest


@pytest.mark.parametrize("hostile", [*HOSTILE, CLOCK], ids=lambda h: h.id)
def test_the_digest_refuses_every_hostile_template(marta, tmp_path, hostile):
    settings, digest = marta
    folder = tmp_path / "digest"
    shutil.copytree(D.TEMPLATES, folder)
    (folder / "digest.html.j2").write_text(hostile.text, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(D.DigestError) as err:
        D.render(settings, digest.recipient, digest.current, digest.previous, folder=folder)
    assert time.monotonic() - started < SECONDS
    assert str(err.value).startswith("digest template error: digest.html.j2 line 3: "), str(err.value)
    assert_problem(str(err.value), hostile, label="digest.html.j2", digest=True)
    assert renderer().peak_rss <= MEMORY


def test_the_digest_wording_strings_are_bounded_too(marta, tmp_path):
    settings, digest = marta
    folder = tmp_path / "digest"
    shutil.copytree(D.TEMPLATES, folder)
    strings = folder / "strings.es.toml"
    strings.write_text('subject = "{{ \'x\' * 10**9 }}"\n', encoding="utf-8")  # an admin's key
    with pytest.raises(D.DigestError, match=r"strings\.es\.toml: subject line 1: this builds a value"):
        D.render(settings, digest.recipient, digest.current, digest.previous, folder=folder)


def test_the_digest_renders_exactly_as_jinja_renders_it(marta):
    """The shipped digest templates, through the worker, give what Jinja's own sandbox
    gives for the same values (text with HTML in it, numbers, empty lists)."""
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    stock = SandboxedEnvironment(loader=FileSystemLoader(str(D.TEMPLATES)), undefined=StrictUndefined,
                                 autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                                              default_for_string=False),
                                 keep_trailing_newline=True)
    for language in ("es", "en"):
        context = _digest_values(language)
        for name in ("digest.html.j2", "digest.txt.j2"):
            ours = renderer().render_text(context, label=name, name=name, folder=D.TEMPLATES,
                                          html_extensions=D.HTML_EXTENSIONS,
                                          keep_trailing_newline=True)
            assert ours == stock.get_template(name).render(**context)
        assert "&lt;b&gt;Tubería &amp; Co&lt;/b&gt;" in renderer().render_text(
            context, label="h", name="digest.html.j2", folder=D.TEMPLATES,
            html_extensions=D.HTML_EXTENSIONS, keep_trailing_newline=True)
    settings, digest = marta
    assert digest.html.count("<tr") > 20 and digest.text.count("\n") > 30


def _digest_values(language: str) -> dict:
    row = {"id": "<q1@x>", "subject": "<b>Tubería & Co</b>", "contact": "ana@cliente.example",
           "owner": "Luis \"L\" Herrera", "step": "2/5 llamada", "due": "lun 30 nov", "late": 6,
           "why": "prometido: mar 24 nov", "candidates": "Ana, Luis", "since": "mar 24 nov",
           "days": 3, "email": "luis@aceros.example", "name": "Luis", "quotes": 4, "silent": 1,
           "waiting": 2, "debt_days": 7, "abandoned": "25 % (1/4)",
           "url": "https://followup.acme.example/threads/q1", "contact_name": "Ana <López>"}
    bars = [{"key": k, "label": k.title(), "value": v, "pct": p, "color": "#12b76a"}
            for k, v, p in (("silent", 3, 30), ("waiting", 0, 0), ("closed", 7, 100))]
    return {
        "t": D.load_strings(language), "language": language, "subject": "Resumen <semanal>",
        "company": "Aceros & Perfiles", "scope": "toda la empresa", "recipient_name": "Marta",
        "period": "jue 19 nov – jue 26 nov", "overdue": [row, dict(row, late=1, why="", url=None)],
        "periods": {"week": "Semana del 19 al 25 de nov", "previous": "Semana del 12 al 18 de nov",
                    "quarter": "90 días: del 28 de ago al 25 de nov", "week_short": "19–25 nov",
                    "previous_short": "12–18 nov"},
        "links": True,
        "text_tables": {name: ["Asunto  <b>Tubería & Co</b>", "  https://followup.acme.example/threads/q1"]
                        for name in ("overdue", "unclear", "waiting", "promised", "numbers")},
        "overdue_total": 17, "overdue_more": 15, "overdue_more_text": "y 15 más", "unclear": [row],
        "waiting": [row, row], "promised": [], "footer": "2026-11-26 16:00 America/Monterrey",
        "numbers": [{"key": "debt", "label": "Deuda", "week": 3, "previous": 5, "quarter": "4 (máx. 9)",
                     "note": "", "arrow": "▼", "color": "#027a48"},
                    {"key": "abandoned", "label": "Abandonadas", "week": "25 % (1/4)",
                     "previous": "—", "quarter": "—", "note": "≈ 44 %", "arrow": "=",
                     "color": "#52606d"}],
        "status_bars": bars, "scenario_bars": bars[:2], "reply_bars": bars[1:],
        "owners": [row, dict(row, name="Ana <ana>")],
        "trend": [{"key": "debt", "label": "Deuda", "now": "3", "before": "5", "arrow": "▼",
                   "color": "#027a48"}],
    }
