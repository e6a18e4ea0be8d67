"""Follow-up templates: loading, sandboxed rendering, validation (no database here).

A template is one text file, ``templates/<name>.<language>.txt``::

    {# followup_1 (es) — what it is for.
       Variables: contact.first_name, quote.subject, ... #}
    Subject: Re: {{ quote.subject }}

    {{ contact.first_name }}, ...

The (optional) header comment renders to nothing; the first non-empty line of the output
must be ``Subject: ...`` and the rest is the plain-text body. For call tasks the subject
is the task's title; for WhatsApp it is a label (the message is the body).

Rendering uses Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: a missing
variable, a syntax error or an attempt to reach Python internals raises
:class:`TemplateProblem`, whose message names the template and the line.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "templates"
LANGUAGES = ("es", "en")
VARIABLES = ("contact", "quote", "owner", "step", "days_since_quote", "language", "company")
"""The top-level names a template may use (see :func:`sample_context`)."""
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.(?P<lang>[a-z]{2})\.txt$")


class TemplateProblem(ValueError):
    """A template that cannot be used: the message names the template and the line."""


@dataclass(frozen=True)
class TemplateSource:
    name: str
    language: str
    text: str
    version: int = 0
    """0: the shipped file; n: the n-th edited version stored in the database."""
    origin: str = ""
    """Where it comes from, for messages: the file path or "database version n"."""

    @property
    def label(self) -> str:
        return self.origin or f"{self.name}.{self.language}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    template: str
    language: str
    version: int


def shipped_templates(folder: Path = SHIPPED_DIR) -> dict[tuple[str, str], TemplateSource]:
    """Every shipped template, keyed by (name, language)."""
    found = {}
    for path in sorted(folder.glob("*.txt")):
        match = _FILE.match(path.name)
        if match:
            found[match["name"], match["lang"]] = TemplateSource(
                match["name"], match["lang"], path.read_text(encoding="utf-8"), 0,
                f"templates/{path.name}")
    return found


MAX_RESULT = 100_000
"""Characters (or items) one ``*`` or ``**`` in a template may produce: far more than any
follow-up needs, far less than what would stall the server during a live preview."""


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox, plus limits on the two operators that can build huge values from a
    short template (``'x' * 10**9``): Jinja intercepts them for exactly this purpose
    (https://jinja.palletsprojects.com/en/stable/sandbox/#operator-intercepting)."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int) and isinstance(left, int) \
                and abs(right) > 64 and abs(left) > 1:
            raise SecurityError("exponent too large for a template")
        if operator == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, (str, list, tuple))]
            counts = [v for v in (left, right) if isinstance(v, int)]
            if sizes and counts and sizes[0] * abs(counts[0]) > MAX_RESULT:
                raise SecurityError("a repeated text in a template may not exceed "
                                    f"{MAX_RESULT:,} characters")
        return super().call_binop(context, operator, left, right)


def _environment() -> SandboxedEnvironment:
    env = BoundedSandbox(undefined=StrictUndefined, autoescape=False,
                          keep_trailing_newline=False)
    return env


_ENV = _environment()


def _line_of(exc: BaseException, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def compile_template(source: TemplateSource) -> jinja2.Template:
    """Parse and check a template; raise :class:`TemplateProblem` if it cannot be used."""
    try:
        ast = _ENV.parse(source.text, name=source.label, filename=source.label)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"{source.label} line {exc.lineno}: syntax error: {exc.message}") from None
    unknown = sorted(meta.find_undeclared_variables(ast) - set(VARIABLES))
    if unknown:
        line = _first_line_mentioning(source.text, unknown[0])
        where = f" line {line}" if line else ""
        raise TemplateProblem(
            f"{source.label}{where}: unknown variable {', '.join(unknown)} "
            f"(available: {', '.join(VARIABLES)})")
    code = _ENV.compile(ast, name=source.label, filename=source.label)
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None), None)


def _first_line_mentioning(text: str, name: str) -> int | None:
    pattern = re.compile(r"\b" + re.escape(name) + r"\b")
    for number, line in enumerate(text.splitlines(), 1):
        if "{" in line and pattern.search(line):
            return number
    return None


def render(source: TemplateSource, context: dict) -> Rendered:
    """Render ``source`` with ``context``; raise :class:`TemplateProblem` on any error."""
    template = compile_template(source)
    try:
        output = template.render(**context)
    except SecurityError as exc:
        line = _line_of(exc, source.label)
        raise TemplateProblem(f"{source.label}{f' line {line}' if line else ''}: "
                              f"not allowed in a template (reaches Python internals): {exc}") from None
    except UndefinedError as exc:
        line = _line_of(exc, source.label)
        raise TemplateProblem(f"{source.label}{f' line {line}' if line else ''}: "
                              f"{exc.message} (a variable the template uses has no value)") from None
    except Exception as exc:  # noqa: BLE001 - any template runtime error is the template's
        line = _line_of(exc, source.label)
        raise TemplateProblem(f"{source.label}{f' line {line}' if line else ''}: "
                              f"{type(exc).__name__}: {exc}") from None
    subject, body = split_subject(output, source.label)
    return Rendered(subject, body, source.name, source.language, source.version)


def split_subject(text: str, label: str = "draft") -> tuple[str, str]:
    """``Subject: ...`` first, then the body: the rendered template, or an edited draft."""
    lines = text.strip("\n").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].lower().startswith("subject:"):
        raise TemplateProblem(f"{label}: the first line must be 'Subject: ...'")
    subject = lines[0].split(":", 1)[1].strip()
    body = "\n".join(lines[1:]).strip("\n")
    body = re.sub(r"\n{3,}", "\n\n", body)
    if not subject:
        raise TemplateProblem(f"{label}: the subject is empty")
    if not body.strip():
        raise TemplateProblem(f"{label}: the body is empty")
    return subject, body.rstrip() + "\n"


def choose_language(available: set[str] | frozenset[str], wanted: str | None) -> str | None:
    """The thread's language when the template exists in it, else the other one."""
    order = ([wanted] if wanted in LANGUAGES else []) + [lang for lang in LANGUAGES if lang != wanted]
    for language in order:
        if language in available:
            return language
    return None


def sample_context(language: str = "es") -> dict:
    """Realistic values for every variable (``templates validate`` and ``preview``)."""
    if language == "en":
        contact = {"name": "Diego Morales", "first_name": "Diego", "email": "diego@client.example",
                   "company": "Client Co", "phone": "+1 512 555 0199"}
        date = "Tue 24 Nov"
    else:
        contact = {"name": "Diego Morales", "first_name": "Diego", "email": "diego@cliente.example",
                   "company": "Cliente SA", "phone": "+52 81 1234 5678"}
        date = "martes 24 de noviembre"
    return {
        "contact": contact,
        "quote": {"subject": "Cotización CN-2026-0401 lámina galvanizada", "sent_date": date,
                  "number": "CN-2026-0401", "attachments": ["CN-2026-0401.pdf"]},
        "owner": {"name": "Ana Pérez", "first_name": "Ana", "email": "ana@acme.example",
                  "signature": "Ana Pérez\nEjecutiva de cuenta | Acme\nTel. +52 81 8300 1020"},
        "step": {"number": 1, "total": 5},
        "days_since_quote": 3,
        "language": language,
        "company": "Acme",
    }


def validate(sources: list[TemplateSource]) -> list[str]:
    """Every problem of these templates, rendered against sample data (empty: all good)."""
    problems = []
    for source in sources:
        try:
            context = sample_context(source.language)
            render(source, context)
            # Optional parts must render too: no phone, no number, no attachment.
            sparse = sample_context(source.language)
            sparse["contact"] = dict(sparse["contact"], phone=None, company=None)
            sparse["quote"] = dict(sparse["quote"], number=None, attachments=[])
            render(source, sparse)
        except TemplateProblem as exc:
            problems.append(str(exc))
    return problems
