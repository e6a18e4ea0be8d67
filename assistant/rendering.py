"""Where every editable template renders: a worker process with a clock and a memory
ceiling. The limits a template can be held to without a clock are the sandbox's
(:mod:`assistant.drafting.sandbox`, pure); this module adds the rest, once, for every
caller: ``followup templates validate|save|preview``, ``followup drafts plan`` (and the
scheduler's plan), the web app's live preview and save, and the weekly digest.

One :class:`Renderer` per process (:func:`renderer`) keeps up to ``workers`` warm worker
processes (``python -m assistant.rendering``, which imports only Jinja and the sandbox),
each doing one render at a time, a JSON document a line over a pipe:

* **Clock, inside the worker**: an interval timer raises ``LimitExceeded("time")`` after
  ``seconds`` wherever the template is, so the refusal names its line.
* **Clock, outside**: the caller waits ``seconds + grace`` at most, then kills the worker
  (SIGKILL) and reaps it. Nothing renders on after a timeout, whether or not anyone still
  waits for the answer (a web client that left, a CLI interrupted).
* **Memory**: the worker's address space is capped (``RLIMIT_AS``, ``memory`` bytes): an
  allocation past it is a ``MemoryError`` naming the line, never the server's memory.
* **Orphans**: a worker reads its jobs from its parent: the parent gone, it reads the end
  of its input and exits; one stuck in a render whose parent died is stopped by its CPU
  limit (``RLIMIT_CPU``, re-armed before each job).
* A worker that hit the clock or the memory ceiling, or grew past ``recycle_rss``, is
  replaced by a fresh one; how each ended (pid, reason, peak RSS, CPU from ``wait4``) is
  kept in :attr:`Renderer.exits`.
* A template that ran out of time or memory is refused again at once, without rendering
  (per exact text and limits, the last 256): one hostile template costs one timeout per
  process, not one per follow-up planned or per keystroke of a live preview.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from assistant.drafting.sandbox import DIGEST_LIMITS, FOLLOWUP_LIMITS, Limits, TemplateProblem
from assistant.drafting.templates import Rendered, TemplateSource, validation_contexts

RENDER_SECONDS = 1.0
"""The clock of one render (a shipped follow-up renders in about a millisecond)."""
KILL_GRACE = 0.5
"""How long past its clock a worker may take to answer before it is killed."""
MEMORY_BYTES = 256 * 1024 * 1024
"""A worker's address space (its resident memory can only be smaller)."""
RECYCLE_RSS = 96 * 1024 * 1024
"""A worker whose peak resident memory went past this is replaced after its render."""
WORKERS = 2
"""Renders at once per process (a third caller waits for one of them)."""
_ROOT = str(Path(__file__).resolve().parents[1])


def peak_rss(pid: int | str = "self") -> int:
    """A live process's peak resident memory since it started its program, in bytes
    (Linux ``VmHWM``; 0 where unknown). Unlike ``ru_maxrss`` it does not count the memory of
    the parent it was forked from."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


@dataclass(frozen=True)
class WorkerExit:
    """How a worker process ended: ``timeout`` (killed on the clock), ``memory``, ``limit``
    (it hit the clock or the memory ceiling itself and stopped), ``recycled`` (grew past
    ``recycle_rss``), ``died`` (ended on its own, unasked), ``closed`` (the renderer closed)."""

    pid: int
    reason: str
    max_rss: int
    """Its peak resident memory, in bytes (:func:`peak_rss`, as of its last render or just
    before it was stopped)."""
    cpu: float
    """User and system CPU seconds it used."""
    returncode: int | None


class _Worker:
    def __init__(self, seconds: float, memory: int) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "assistant.rendering", str(seconds), str(memory)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd=_ROOT, bufsize=0, close_fds=True)
        self.pid = self.proc.pid
        self.max_rss = 0

    def ask(self, job: bytes, timeout: float) -> tuple[str, dict | None]:
        """("ok", reply), ("timeout", None) or ("died", None)."""
        try:
            self.proc.stdin.write(job)
        except (BrokenPipeError, OSError):
            return "died", None
        deadline = time.monotonic() + timeout
        fd, chunks = self.proc.stdout.fileno(), []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                return "timeout", None
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return "died", None
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                reply = json.loads(b"".join(chunks))
                self.max_rss = max(self.max_rss, reply.get("rss", 0))
                return "ok", reply

    def end(self, reason: str, *, kill: bool) -> WorkerExit:
        """Stop the worker (SIGKILL, or end of its input and a moment to exit) and reap it."""
        self.max_rss = max(self.max_rss, peak_rss(self.pid))
        if kill:
            self.proc.kill()
        else:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        deadline = time.monotonic() + 1.0
        while True:
            try:
                pid, status, usage = os.wait4(self.pid, 0 if kill else os.WNOHANG)
            except ChildProcessError:  # already reaped (by subprocess' own bookkeeping)
                return WorkerExit(self.pid, reason, self.max_rss, 0.0, self.proc.returncode)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                kill = True
                continue
            time.sleep(0.01)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return WorkerExit(self.pid, reason, self.max_rss, usage.ru_utime + usage.ru_stime,
                          self.proc.returncode)


class Renderer:
    """Renders templates in worker processes (see the module doc). Thread-safe."""

    def __init__(self, *, workers: int = WORKERS, seconds: float = RENDER_SECONDS,
                 grace: float = KILL_GRACE, memory: int = MEMORY_BYTES,
                 recycle_rss: int = RECYCLE_RSS) -> None:
        self.workers, self.seconds, self.grace = workers, seconds, grace
        self.memory, self.recycle_rss = memory, recycle_rss
        self.exits: deque[WorkerExit] = deque(maxlen=64)
        self._idle: list[_Worker] = []
        self._running = 0
        self._lock = threading.Condition()
        self._refused: OrderedDict[str, dict] = OrderedDict()
        self._closed = False

    # --- what callers use ---
    def render(self, source: TemplateSource, context: dict,
               limits: Limits = FOLLOWUP_LIMITS) -> Rendered:
        """:func:`assistant.drafting.templates.render`, in a worker."""
        job = {"kind": "followup", "limits": limits.as_dict(), "context": context,
               "source": {"name": source.name, "language": source.language, "text": source.text,
                          "version": source.version, "origin": source.origin}}
        data = self._run(job, source.label, source.text)
        return Rendered(data["subject"], data["body"], source.name, source.language,
                        source.version)

    def problems(self, sources: list[TemplateSource]) -> list[TemplateProblem]:
        """The first problem of each source that has one, rendered against sample data
        (:func:`assistant.drafting.templates.validate`, in a worker)."""
        found = []
        for source in sources:
            for context in validation_contexts(source.language):
                try:
                    self.render(source, context)
                except TemplateProblem as exc:
                    found.append(exc)
                    break
        return found

    def render_text(self, context: dict, *, label: str, name: str | None = None,
                    text: str | None = None,
                    folder: Path | str | Sequence[Path | str] | None = None,
                    html_extensions: tuple[str, ...] = (), keep_trailing_newline: bool = False,
                    limits: Limits = DIGEST_LIMITS) -> str:
        """Render the template ``name`` of ``folder`` (which may include the others there),
        or the template ``text``, in the bounded sandbox; return the text. ``folder`` is one
        folder or a search path of them (a sequence, first found wins)."""
        folders = ([] if not folder else [folder] if isinstance(folder, (str, Path))
                   else list(folder))
        paths = [str(Path(f).resolve()) for f in folders]
        job = {"kind": "text", "limits": limits.as_dict(), "context": context, "label": label,
               "name": name, "text": text,
               "env": {"folder": paths or None,
                       "html_extensions": list(html_extensions),
                       "keep_trailing_newline": keep_trailing_newline}}
        return self._run(job, label,
                         text if text is not None else f"{os.pathsep.join(paths)}/{name}")

    @property
    def busy(self) -> int:
        """Renders in progress."""
        with self._lock:
            return self._running

    @property
    def peak_rss(self) -> int:
        """The highest peak resident memory of any worker this renderer ran, in bytes
        (:func:`peak_rss`: ended ones as they ended, idle ones as of their last render)."""
        with self._lock:
            live = [w.max_rss for w in self._idle]
        return max([*live, *(e.max_rss for e in self.exits), 0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            self.exits.append(worker.end("closed", kill=False))

    # --- the pool ---
    def _run(self, job: dict, label: str, key_text: str) -> dict:
        encoded = (json.dumps(job, ensure_ascii=False) + "\n").encode("utf-8")
        key = hashlib.sha256(json.dumps([key_text, job["limits"], job["kind"]]).encode()).hexdigest()
        with self._lock:
            if key in self._refused:
                self._refused.move_to_end(key)
                # The same text refused before, under whichever name it had then: named
                # as the caller names it now.
                raise TemplateProblem.from_dict({**self._refused[key], "label": label})
        worker = self._checkout(label)
        status, reply = worker.ask(encoded, self.seconds + self.grace)
        if status == "died":  # it ended between two jobs: once more, on a fresh one
            self._retire(worker, "died", kill=True)
            worker = self._checkout(label)
            status, reply = worker.ask(encoded, self.seconds + self.grace)
        if status != "ok":
            ended = self._retire(worker, "timeout" if status == "timeout" else "died", kill=True)
            if status == "timeout":
                problem = TemplateProblem(what="time", label=label, seconds=self.seconds)
            elif ended.max_rss >= self.memory * 0.9 or ended.returncode in (-signal.SIGKILL,):
                problem = TemplateProblem(what="memory", label=label, megabytes=self.memory >> 20)
            else:
                problem = TemplateProblem(what="crashed", label=label,
                                          detail=f"exit status {ended.returncode}")
            self._remember(key, problem)
            raise problem
        if reply.get("retire"):
            self._retire(worker, "limit", kill=False)
        elif reply.get("rss", 0) > self.recycle_rss:
            self._retire(worker, "recycled", kill=False)
        else:
            self._checkin(worker)
        if "problem" in reply:
            problem = TemplateProblem.from_dict(reply["problem"])
            if problem.what in ("time", "memory"):
                self._remember(key, problem)
            raise problem
        return reply["ok"]

    def _remember(self, key: str, problem: TemplateProblem) -> None:
        with self._lock:
            self._refused[key] = problem.as_dict()
            while len(self._refused) > 256:
                self._refused.popitem(last=False)

    def _checkout(self, label: str) -> _Worker:
        with self._lock:
            deadline = time.monotonic() + self.seconds + self.grace
            while not self._idle and self._running >= self.workers:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TemplateProblem(what="busy", label=label)
                self._lock.wait(remaining)
            self._running += 1
            if self._idle:
                return self._idle.pop()
        try:
            return _Worker(self.seconds, self.memory)
        except OSError as exc:
            with self._lock:
                self._running -= 1
                self._lock.notify()
            raise TemplateProblem(what="crashed", label=label, detail=str(exc)) from None

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._running -= 1
            if self._closed:
                closing = True
            else:
                closing = False
                self._idle.append(worker)
            self._lock.notify()
        if closing:
            self.exits.append(worker.end("closed", kill=False))

    def _retire(self, worker: _Worker, reason: str, *, kill: bool) -> WorkerExit:
        ended = worker.end(reason, kill=kill)
        self.exits.append(ended)
        with self._lock:
            self._running -= 1
            self._lock.notify()
        return ended


_SHARED: tuple[int, Renderer] | None = None
_SHARED_LOCK = threading.Lock()


def renderer() -> Renderer:
    """This process's renderer (created on first use, closed at exit; a forked child
    gets its own)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or _SHARED[0] != os.getpid():
            _SHARED = (os.getpid(), Renderer())
            atexit.register(_SHARED[1].close)
        return _SHARED[1]


# --- The worker process ------------------------------------------------------------------

def _serve(seconds: float, memory: int) -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):  # a system without address-space limits (macOS)
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; its end is ours
    from assistant.drafting import sandbox, templates

    armed = [False]

    def on_alarm(signum, frame):
        if armed[0]:
            armed[0] = False
            raise sandbox.LimitExceeded("time", seconds=seconds)

    signal.signal(signal.SIGALRM, on_alarm)
    jobs, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies goes down the pipe
    environments: dict[str, sandbox.BoundedSandbox] = {}
    for line in jobs:
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime + seconds) + 2
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
        retire = False
        try:
            job = json.loads(line)
            label = job.get("label") or job.get("source", {}).get("origin") or "template"
            armed[0] = True
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                reply = {"ok": _do(job, environments, sandbox, templates)}
            finally:
                armed[0] = False
                signal.setitimer(signal.ITIMER_REAL, 0)
        except sandbox.TemplateProblem as exc:
            if exc.what == "memory":
                exc.params["megabytes"] = memory >> 20
            retire = exc.what in ("time", "memory")
            reply = {"problem": exc.as_dict()}
        except sandbox.LimitExceeded as exc:  # the clock, outside the template's own code
            retire = True
            reply = {"problem": sandbox.TemplateProblem(what=exc.what, label=label,
                                                        **exc.params).as_dict()}
        except MemoryError:
            retire = True
            reply = {"problem": sandbox.TemplateProblem(what="memory", label=label,
                                                        megabytes=memory >> 20).as_dict()}
        reply["rss"] = peak_rss() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        reply["retire"] = retire
        replies.write(json.dumps(reply, ensure_ascii=False).encode("utf-8") + b"\n")
        replies.flush()
        if retire:
            return


_COMPILED_MAX = 256
"""Compiled templates and environments a worker keeps (oldest dropped first)."""


def _do(job: dict, environments: dict, sandbox, templates):
    limits = sandbox.Limits.from_dict(job["limits"])
    if job["kind"] == "followup":
        source = templates.TemplateSource(**job["source"])
        # Compiled once per worker and template text: a plan renders each template for
        # every follow-up of its step.
        key = json.dumps(["followup", source.label, source.text, job["limits"]], sort_keys=True)
        compiled = environments.get(key)
        if compiled is None:
            compiled = templates.compile_template(source, limits)
            if len(environments) >= _COMPILED_MAX:
                environments.pop(next(iter(environments)))
            environments[key] = compiled
        rendered = templates.render(source, job["context"], limits, compiled=compiled)
        return {"subject": rendered.subject, "body": rendered.body}
    options = job["env"]
    key = json.dumps(options, sort_keys=True)
    if key not in environments:
        from jinja2 import FileSystemLoader

        loader = FileSystemLoader(options["folder"]) if options["folder"] else None
        environments[key] = sandbox.sandbox(
            loader, html_extensions=tuple(options["html_extensions"]),
            keep_trailing_newline=options["keep_trailing_newline"])
    env = environments[key]
    with sandbox.rendering(limits):
        try:
            template = env.get_template(job["name"]) if job["name"] else env.from_string(job["text"])
        except sandbox.TemplateProblem:
            raise
        except Exception as exc:  # noqa: BLE001 - a syntax error, a missing file: the template's
            line = getattr(exc, "lineno", None)
            raise sandbox.problem_from(exc, job["label"], line) from None
    return sandbox.render_bounded(template, job["context"], limits, job["label"])


if __name__ == "__main__":
    _serve(float(sys.argv[1]), int(sys.argv[2]))
