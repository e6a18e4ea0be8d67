"""Follow-up templates: loading, sandboxed rendering, validation (no database here).

A template is one text file, ``<name>.<language>.txt``, shipped in
``assistant/data/templates/`` or written by an admin in the templates folder of the
settings (``[templates] folder``, found first: :func:`file_templates`)::

    {# followup_1 (es) — what it is for.
       Variables: contact.first_name, quote.subject, ... #}
    Subject: Re: {{ quote.subject }}

    {{ contact.first_name }}, ...

The (optional) header comment renders to nothing; the first non-empty line of the output
must be ``Subject: ...`` and the rest is the plain-text body. For call tasks the subject
is the task's title; for WhatsApp it is a label (the message is the body).

Rendering uses the bounded sandbox of :mod:`assistant.drafting.sandbox` (Jinja2's
immutable sandbox, ``StrictUndefined``, limits on time-free costs: steps, sizes, widths,
integers, nesting): a missing variable, a syntax error, an attempt to reach Python
internals or a template that costs too much raises :class:`TemplateProblem`, whose message
names the template and the line. This module does no I/O but read the shipped files; the
callers render in a worker process with a clock (:mod:`assistant.rendering`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import TemplateSyntaxError, meta

from assistant import data
from assistant.drafting.sandbox import (  # noqa: F401 - TemplateProblem is imported from here
    FOLLOWUP_LIMITS, Limits, TemplateProblem, render_bounded, rendering, sandbox,
)

SHIPPED_DIR = data.TEMPLATES
LANGUAGES = ("es", "en")
VARIABLES = ("contact", "quote", "owner", "step", "reply", "days_since_quote", "language", "company")
"""The top-level names a template may use (see :func:`sample_context`)."""
FORMAL_SUFFIX = "_usted"
"""A template's formal ("usted") Spanish variant is the template of the same name with
this suffix (``followup_1_usted``): shipped for every default step, editable like any,
chosen on formal threads (``services.planning.choose_template``)."""
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.(?P<lang>[a-z]{2})\.txt$")


@dataclass(frozen=True)
class TemplateSource:
    name: str
    language: str
    text: str
    version: int = 0
    """0: the shipped file; n: the n-th edited version stored in the database."""
    origin: str = ""
    """Where it comes from, for messages, in no language's words (they quote it): a shipped
    file's name, an admin's file's path, ``name.lang v2 (author)`` for a saved version."""
    author: str = ""
    """Who saved it (an edited version in the database)."""

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
    """Every template file of ``folder`` (the shipped ones by default), keyed by (name,
    language)."""
    found = {}
    for path in sorted(folder.glob("*.txt")):
        match = _FILE.match(path.name)
        if match:
            found[match["name"], match["lang"]] = TemplateSource(
                match["name"], match["lang"], path.read_text(encoding="utf-8"), 0,
                path.name if folder == SHIPPED_DIR else str(path))
    return found


def file_templates(overrides: Path | None = None) -> dict[tuple[str, str], TemplateSource]:
    """The template files in use (version 0): the shipped ones, each replaced by the file
    of the same name in the admins' ``overrides`` folder when it has one (which may also
    add templates of its own)."""
    found: dict[tuple[str, str], TemplateSource] = {}
    for folder in reversed(data.search_path(overrides)):
        found.update(shipped_templates(folder))
    return found


_ENV = sandbox()


def compile_template(source: TemplateSource, limits: Limits = FOLLOWUP_LIMITS) -> jinja2.Template:
    """Parse and check a template; raise :class:`TemplateProblem` if it cannot be used:
    a syntax error, an unknown variable, or a text too long, too deeply nested or with a
    huge number (:func:`~assistant.drafting.sandbox.check_source`)."""
    with rendering(limits):
        try:
            ast = _ENV.parse(source.text, name=source.label, filename=source.label)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(what="syntax", label=source.label, line=exc.lineno,
                                  detail=exc.message) from None
        used = meta.find_undeclared_variables(ast)
        unknown = sorted(used - set(VARIABLES))
        if unknown:
            raise TemplateProblem(what="unknown_variable", label=source.label,
                                  line=_first_line_mentioning(source.text, unknown[0]),
                                  names=", ".join(unknown), available=", ".join(VARIABLES))
        _check_fields(ast, used, source)
        code = _ENV.compile(ast, name=source.label, filename=source.label)
    return _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None), None)


_DICT_METHODS = frozenset({"get", "items", "keys", "values"})


def _check_fields(ast, used: set[str], source: TemplateSource) -> None:
    """``contact.nombre`` (a field the variable does not have) is refused when the
    template is read, naming the variable's fields, rather than failing at render time
    as "dict object has no attribute"; a variable the template assigns itself is its own."""
    from jinja2 import nodes

    # A name the template binds itself anywhere (a loop, a set, a macro's argument) is
    # left alone everywhere: this check does not follow scopes.
    bound = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not (isinstance(target, nodes.Name) and target.name in FIELDS
                and target.name in used and target.name not in bound):
            continue
        if isinstance(node, nodes.Getattr):
            name = node.attr
            if name in _DICT_METHODS:
                continue
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        else:
            continue
        if name not in FIELDS[target.name]:
            raise TemplateProblem(what="unknown_field", label=source.label, line=node.lineno,
                                  variable=target.name, name=name,
                                  available=", ".join(FIELDS[target.name]))


def _first_line_mentioning(text: str, name: str) -> int | None:
    pattern = re.compile(r"\b" + re.escape(name) + r"\b")
    for number, line in enumerate(text.splitlines(), 1):
        if "{" in line and pattern.search(line):
            return number
    return None


def render(source: TemplateSource, context: dict, limits: Limits = FOLLOWUP_LIMITS, *,
           compiled=None) -> Rendered:
    """Render ``source`` with ``context`` within ``limits``; raise :class:`TemplateProblem`
    on any error (its line, when it has one, is the template's). ``compiled``: the
    source's :func:`compile_template`, when the caller kept it."""
    template = compiled if compiled is not None else compile_template(source, limits)
    output = render_bounded(template, context, limits, source.label)
    subject, body = split_subject(output, source.label)
    return Rendered(subject, body, source.name, source.language, source.version)


def split_subject(text: str, label: str = "draft") -> tuple[str, str]:
    """``Subject: ...`` first, then the body: the rendered template, or an edited draft."""
    lines = text.strip("\n").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines or not lines[0].lower().startswith("subject:"):
        raise TemplateProblem(what="subject_first", label=label)
    subject = lines[0].split(":", 1)[1].strip()
    body = "\n".join(lines[1:]).strip("\n")
    body = re.sub(r"\n{3,}", "\n\n", body)
    if not subject:
        raise TemplateProblem(what="subject_empty", label=label)
    if not body.strip():
        raise TemplateProblem(what="body_empty", label=label)
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
                   "company": "Client Co", "phone": "+1 512 555 0199", "formal": False}
        date = "Tue 24 Nov"
    else:
        contact = {"name": "Diego Morales", "first_name": "Diego", "email": "diego@cliente.example",
                   "company": "Cliente SA", "phone": "+52 81 1234 5678", "formal": False}
        date = "martes 24 de noviembre"
    return {
        "contact": contact,
        "quote": {"subject": "Cotización CN-2026-0401 lámina galvanizada", "sent_date": date,
                  "number": "CN-2026-0401", "attachments": ["CN-2026-0401.pdf"],
                  "sent_by_owner": True},
        "owner": {"name": "Ana Pérez", "first_name": "Ana", "email": "ana@acme.example",
                  "signature": "Ana Pérez\nEjecutiva de cuenta | Acme\nTel. +52 81 8300 1020"},
        "step": {"number": 1, "total": 5},
        "reply": None,
        "days_since_quote": 3,
        "language": language,
        "company": "Acme",
    }


FIELDS: dict[str, tuple[str, ...]] = {
    **{name: tuple(value) for name, value in sample_context().items() if isinstance(value, dict)},
    "reply": ("date",),  # None on a first round (see validation_contexts)
}
"""The fields of each variable that holds some (``contact.first_name``); the planner's
context has exactly these (a test compares them)."""


def validation_contexts(language: str) -> list[dict]:
    """What :func:`validate` renders a template against: the sample values, then the same
    without the optional parts (no phone, no company, no quote number, no attachment, a
    quote somebody else sent), then a later round (the client replied since the quote)."""
    sparse = sample_context(language)
    sparse["contact"] = dict(sparse["contact"], phone=None, company=None)
    sparse["quote"] = dict(sparse["quote"], number=None, attachments=[], sent_by_owner=False)
    answered = sample_context(language)  # a later round: the client replied since the quote
    answered["reply"] = {"date": "viernes 27 de noviembre" if language != "en" else "Fri 27 Nov"}
    return [sample_context(language), sparse, answered]


def validate(sources: list[TemplateSource]) -> list[str]:
    """Every problem of these templates, rendered against sample data (empty: all good).
    In-process: the service layer validates in a worker (:mod:`assistant.rendering`)."""
    problems = []
    for source in sources:
        try:
            for context in validation_contexts(source.language):
                render(source, context)
        except TemplateProblem as exc:
            problems.append(str(exc))
    return problems


# --- What an edited version stores ---------------------------------------------------------

_PREAMBLE = re.compile(r"\s*(?:\{#.*?#\}\s*)*", re.S)


@dataclass(frozen=True)
class StoredVersion:
    """An edited template as it is stored: its ``Subject:`` line and its body, and where
    they stood in the text as the admin wrote it (to name *their* lines in problems)."""

    subject: str
    body: str
    subject_line: int
    body_line: int

    @property
    def text(self) -> str:
        """What is stored and read back, so what must be validated."""
        return stored_text(self.subject, self.body)

    def edited_line(self, line: int | None) -> int | None:
        """The line of the admin's text that line ``line`` of :attr:`text` comes from."""
        if line is None:
            return None
        if line <= 2:
            return self.subject_line + line - 1
        return self.body_line + line - 3

    def locate(self, problem: TemplateProblem) -> TemplateProblem:
        """``problem`` (found in :attr:`text`) naming the admin's line instead."""
        if problem.what is None or problem.line is None:
            return problem
        return TemplateProblem(what=problem.what, label=problem.label,
                               line=self.edited_line(problem.line), **problem.params)


def stored_form(text: str, label: str) -> StoredVersion:
    """The version an edited template is stored as (:attr:`StoredVersion.text` is what is
    read back, and what must be validated). Only whitespace and ``{# comments #}`` may come
    before the ``Subject:`` line (they render to nothing and are not kept): anything else
    is refused, naming its line, since it would silently be dropped."""
    start = _PREAMBLE.match(text).end()
    subject_line = text.count("\n", 0, start) + 1
    if not text[start:start + 8].lower().startswith("subject:"):
        if "subject:" in text[start:].lower():
            raise TemplateProblem(what="preamble", label=label, line=subject_line)
        raise TemplateProblem(what="subject_first", label=label)
    first, _, rest = text[start:].partition("\n")
    subject = first.split(":", 1)[1].strip()
    body_line = subject_line + 1 + (len(rest) - len(rest.lstrip("\n")))
    return StoredVersion(subject, rest.strip("\n") + "\n", subject_line, body_line)


def stored_text(subject: str, body: str) -> str:
    """The template text of a stored version (see :func:`stored_form`)."""
    return f"Subject: {subject}\n\n{body}"
