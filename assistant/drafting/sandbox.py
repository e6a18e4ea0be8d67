"""The bounded Jinja2 sandbox every editable template renders in (pure: no I/O).

Admins edit the follow-up templates and the digest's; a template is code they write and
the server runs. Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps it
away from Python internals and from changing the values it is given (``list.append``,
``dict.update``); this module adds **limits on what one render may cost**, each checked
where the work happens so that the refusal names the template's line:

* before parsing: the text's size, how deeply brackets and blocks nest, how big an
  integer literal is (:func:`check_source`); after parsing, how deep the syntax tree is;
* while rendering (one :class:`Budget` per render): every loop iteration, call, filter
  and operator is a *step*; every value built is at most ``value`` characters or items,
  and all of them together at most ``created``; an integer at most ``int_bits`` bits;
  a width or count given to a filter, a string method or a format spec at most
  ``width``; what a render writes (its output, and every captured block, macro or
  ``{% set %}`` buffer) at most ``output`` characters, counted as it is written.

Known amplifiers are checked *before* they run (``'x' * n``, ``2 ** n``,
``'%09999999d' % 1``, ``center``/``indent``/``wordwrap``/``batch``/``slice``/``join``
arguments, ``str.ljust``/``replace``/``join``); everything else is checked on its result,
which is at most a small multiple of inputs that were checked themselves.

What this module cannot bound is time spent inside one bounded step and the memory of
the interpreter itself: the caller renders in a worker process with a clock and a
memory ceiling (:mod:`assistant.rendering`); :class:`LimitExceeded` is how that clock
interrupts a render (and gets its line).
"""

from __future__ import annotations

import contextvars
import functools
import re
import types
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import _PassArg
from markupsafe import Markup


# --- Limits ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """What one render may cost. Units are characters (of text) or items (of a list)."""

    source: int = 50_000
    """Characters of template text."""
    nesting: int = 16
    """Brackets, blocks and prefix operators open at once (the parser recurses on them)."""
    tree: int = 80
    """Depth of the parsed template (``a + b + c + …`` and ``x|f|f|f…`` chains too)."""
    output: int = 100_000
    """Characters one render writes, and one captured block, macro or ``{% set %}``."""
    value: int = 100_000
    """Characters or items of one value the template builds."""
    created: int = 5_000_000
    """Characters or items of all the values one render builds, added up."""
    width: int = 1_000
    """A width, count or padding given to a filter, a string method or a format spec."""
    int_bits: int = 128
    """The size of an integer (a literal or a result): about 38 decimal digits."""
    steps: int = 100_000
    """Loop iterations, calls, filters and operators of one render."""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> Limits:
        return cls(**values) if values else cls()

    def but(self, **changes) -> Limits:
        return replace(self, **changes)


FOLLOWUP_LIMITS = Limits()
"""A follow-up: far more than any email, call script or WhatsApp message needs."""
DIGEST_LIMITS = Limits(output=4_000_000, created=40_000_000, steps=1_000_000)
"""The weekly digest: an HTML page with a row per thread (the sample team's: 45,000
characters, 590 steps; 4,000 rows: 2.5 million characters, 4,600 steps, 0.35 s)."""


# --- Problems, in the two languages of the product -------------------------------------

_MESSAGES = {
    "en": {
        "syntax": "syntax error: {detail}",
        "unknown_variable": "unknown variable {names} (available: {available})",
        "unknown_field": "{variable} has no field {name} ({variable}'s fields: {available})",
        "undefined": "{detail} (a variable the template uses has no value)",
        "no_attribute": "{owner} has no {name} (a variable the template uses has no value)",
        "not_defined": "{name} is not defined (a variable the template uses has no value)",
        "internals": "not allowed in a template (reaches Python internals): {detail}",
        "not_allowed": "{name} is not allowed in a template",
        "error": "{kind}: {detail}",
        "subject_first": "the first line must be 'Subject: ...'",
        "subject_empty": "the subject is empty",
        "body_empty": "the body is empty",
        "preamble": "only {{# comments #}} may come before the 'Subject:' line: this line "
                    "would not be saved",
        "no_includes": "a follow-up template cannot include, import or extend other templates",
        "source_size": "the template is {size} characters long; at most {limit} are allowed",
        "nesting": "brackets and blocks nest more than {limit} levels deep here",
        "tree": "this expression is too long or nested too deeply (more than {limit} levels)",
        "int_literal": "this number is too big: integers may have at most {limit} bits "
                       "(about {digits} digits)",
        "int_size": "the result is too big: integers may have at most {limit} bits "
                    "(about {digits} digits)",
        "value_size": "this builds a value of more than {limit} characters or items",
        "created": "the template builds more than {limit} characters or items in all",
        "output": "the text would be longer than {limit} characters",
        "width": "{value} is too big for {of} (at most {limit})",
        "steps": "more than {limit} loop iterations, calls and operations "
                 "(a loop that does not end?)",
        "recursion": "calls itself too deeply (a macro, loop or include that does not stop)",
        "time": "took longer than {seconds} s to render (a loop that does not end?)",
        "memory": "needs more memory than a template may use ({megabytes} MB)",
        "busy": "too many templates are rendering at once; try again in a moment",
        "crashed": "the template renderer stopped unexpectedly ({detail})",
    },
    "es": {
        "syntax": "error de sintaxis: {detail}",
        "unknown_variable": "variable desconocida {names} (disponibles: {available})",
        "unknown_field": "{variable} no tiene el campo {name} (campos de {variable}: {available})",
        "undefined": "{detail} (una variable que usa la plantilla no tiene valor)",
        "no_attribute": "{owner} no tiene {name} (una variable que usa la plantilla no tiene "
                        "valor)",
        "not_defined": "{name} no está definida (una variable que usa la plantilla no tiene "
                       "valor)",
        "internals": "no permitido en una plantilla (accede a partes internas de Python): "
                     "{detail}",
        "not_allowed": "{name} no está permitido en una plantilla",
        "error": "{kind}: {detail}",
        "subject_first": "la primera línea debe ser 'Subject: ...'",
        "subject_empty": "el asunto está vacío",
        "body_empty": "el cuerpo está vacío",
        "preamble": "antes de la línea 'Subject:' solo puede haber comentarios {{# … #}}: "
                    "esta línea no se guardaría",
        "no_includes": "una plantilla de seguimiento no puede incluir, importar ni extender "
                       "otras plantillas",
        "source_size": "la plantilla tiene {size} caracteres; se permiten como máximo {limit}",
        "nesting": "aquí se anidan más de {limit} niveles de paréntesis y bloques",
        "tree": "esta expresión es demasiado larga o está demasiado anidada (más de {limit} "
                "niveles)",
        "int_literal": "este número es demasiado grande: los enteros pueden tener como máximo "
                       "{limit} bits (unas {digits} cifras)",
        "int_size": "el resultado es demasiado grande: los enteros pueden tener como máximo "
                    "{limit} bits (unas {digits} cifras)",
        "value_size": "esto crea un valor de más de {limit} caracteres o elementos",
        "created": "la plantilla crea más de {limit} caracteres o elementos en total",
        "output": "el texto tendría más de {limit} caracteres",
        "width": "{value} es demasiado para {of} (máximo {limit})",
        "steps": "más de {limit} vueltas de bucle, llamadas y operaciones (¿un bucle que no "
                 "termina?)",
        "recursion": "se llama a sí misma demasiadas veces (una macro, un bucle o un include "
                     "que no se detiene)",
        "time": "tardó más de {seconds} s en generarse (¿un bucle que no termina?)",
        "memory": "necesita más memoria de la que puede usar una plantilla ({megabytes} MB)",
        "busy": "hay demasiadas plantillas generándose a la vez; inténtalo de nuevo en un "
                "momento",
        "crashed": "el generador de plantillas se detuvo de forma inesperada ({detail})",
    },
}
_WHERE = {"en": "{label} line {line}", "es": "{label} línea {line}"}
_OF_ES = {"a width": "un ancho", "a count": "una cantidad", "an indent": "una sangría",
            "a wrap string": "un separador de líneas", "a repeat": "una repetición",
            "a format width": "un ancho de formato", "a length": "una longitud"}

RESOURCE_PROBLEMS = frozenset({"source_size", "nesting", "tree", "int_literal", "int_size", "value_size",
                               "created", "output", "width", "steps", "recursion", "time",
                               "memory"})
"""Problems that say the template costs too much (as opposed to a mistake in it)."""


_SYNTAX_ES = (  # Jinja's own syntax messages (jinja2/parser.py, lexer.py), for a Spanish reader
    (r"unexpected '(.+)'", "«{0}» inesperado"),
    (r"unexpected end of template, expected '(.+)'\.?", "la plantilla termina antes de tiempo: falta «{0}»"),
    (r"Unexpected end of template\. Jinja was looking for the following tags: (.+)\. "
     r"The innermost block that needs to be closed is '(.+)'\.",
     "la plantilla termina sin cerrar el bloque «{1}» (se esperaba {0})"),
    (r"Encountered unknown tag '(.+?)'\..*", "etiqueta desconocida «{0}»"),
    (r"expected token '(.+)', got '(.+)'", "se esperaba «{0}» y aparece «{1}»"),
    (r"unexpected char '(.+)' at \d+", "carácter inesperado «{0}»"),
    (r"tag name expected", "falta el nombre de la etiqueta después de {{%"),
)


_JINJA_NAMES = {"end of print statement": "}}", "end of statement block": "%}",
                "end of template": "el final", "name": "un nombre"}


def _syntax_detail(detail: str, language: str) -> str:
    """Jinja's syntax message in ``language`` (Spanish for the ones it commonly gives)."""
    if language != "es":
        return detail
    for pattern, spanish in _SYNTAX_ES:
        match = re.fullmatch(pattern, detail.strip(), re.S)
        if match:
            return spanish.format(*(_JINJA_NAMES.get(g, re.sub(r"'([^']*)'", r"«\1»", g)
                                                      .replace(" or ", " o "))
                                    for g in match.groups()))
    return detail


def _number(value, language: str) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if language == "es" else text
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    text = f"{value:,}"
    return text.replace(",", "\u00a0") if language == "es" else text


class TemplateProblem(ValueError):
    """A template that cannot be used: the message names the template and the line.

    ``TemplateProblem("free text")`` is a plain message; ``TemplateProblem(what=KEY,
    label=..., line=..., **params)`` is one of the known problems, which
    :meth:`describe` gives in English or Spanish (``str()`` is the English)."""

    def __init__(self, message: str | None = None, *, what: str | None = None, label: str = "",
                 line: int | None = None, **params) -> None:
        self.what, self.label, self.line, self.params = what, label, line, params
        self.text = message
        super().__init__(message if what is None else self.describe("en"))

    @property
    def resource(self) -> bool:
        """The template costs too much (time, memory, size), whatever data it gets."""
        return self.what in RESOURCE_PROBLEMS

    def describe(self, language: str = "en") -> str:
        if self.what is None:
            return self.text or ""
        table = _MESSAGES.get(language, _MESSAGES["en"])
        params = {k: _number(v, language) for k, v in self.params.items()}
        if self.what == "syntax" and "detail" in params:
            params["detail"] = _syntax_detail(params["detail"], language)
        if language == "es" and "of" in params:
            params["of"] = _OF_ES.get(params["of"], params["of"])
        text = table[self.what].format(**params)
        if not self.label:
            return text
        where = (_WHERE.get(language, _WHERE["en"]).format(label=self.label, line=self.line)
                 if self.line else self.label)
        return f"{where}: {text}"

    def words(self, language: str | None = "en") -> str:
        """:meth:`describe`: what a person reads (``assistant.wording.words_of``)."""
        return self.describe(language or "en")

    def as_dict(self) -> dict:
        return {"message": self.text, "what": self.what, "label": self.label,
                "line": self.line, "params": self.params}

    @classmethod
    def from_dict(cls, data: dict) -> TemplateProblem:
        return cls(data.get("message"), what=data.get("what"), label=data.get("label") or "",
                   line=data.get("line"), **(data.get("params") or {}))


class LimitExceeded(Exception):
    """Raised inside a render when it goes over a limit; :func:`problem_from` turns it into
    a :class:`TemplateProblem` naming the line it was raised at. A worker's clock raises
    it too (``LimitExceeded("time", seconds=1)``)."""

    def __init__(self, what: str, **params) -> None:
        super().__init__(what)
        self.what, self.params = what, params


# --- The budget of one render -----------------------------------------------------------

@dataclass
class Budget:
    limits: Limits = field(default_factory=Limits)
    steps: int = 0
    created: int = 0

    def step(self, count: int = 1) -> None:
        """One step, or more for work on a big input (``work``: its characters or items)."""
        self.steps += count
        if self.steps > self.limits.steps:
            raise LimitExceeded("steps", limit=self.limits.steps)

    def charge(self, value):
        """Check a value the template built; return it."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if value.bit_length() > self.limits.int_bits:
                raise LimitExceeded("int_size", limit=self.limits.int_bits,
                                    digits=_digits(self.limits.int_bits))
            return value
        size = _size(value)
        if size:
            if size > self.limits.value:
                raise LimitExceeded("value_size", limit=self.limits.value)
            self.add(size)
        return value

    def add(self, size: int) -> None:
        self.created += size
        if self.created > self.limits.created:
            raise LimitExceeded("created", limit=self.limits.created)

    def width(self, value, of: str = "a width") -> None:
        """A width or count argument (an int, or a string used as padding)."""
        size = len(value) if isinstance(value, str) else value
        if isinstance(size, int) and not isinstance(size, bool) and size > self.limits.width:
            raise LimitExceeded("width", value=size, of=of, limit=self.limits.width)

    def expect(self, size: int) -> None:
        """The size a call is about to build, computed beforehand."""
        if size > self.limits.value:
            raise LimitExceeded("value_size", limit=self.limits.value)


STEP_SIZE = 1_000
"""A call, filter or operator on an input this big (characters or items) costs one more
step per this many: a loop over ``s.count('x')`` of a long text runs out of steps sooner."""


MACRO_STEPS = 10
"""A macro call (a new scope, its arguments, its own output buffer) counts as this many."""


def _cost(*values) -> int:
    return 1 + sum(_size(v) for v in values) // STEP_SIZE


_ACTIVE: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("template_budget",
                                                                       default=None)
_STATELESS = Budget(Limits(steps=10**18, created=10**18))
"""Used by a render that did not go through :func:`rendering` (no running totals)."""


def _budget() -> Budget:
    return _ACTIVE.get() or _STATELESS


class rendering:
    """``with rendering(limits): ...``: the budget of one render (a context variable, so
    concurrent renders in threads each have their own)."""

    def __init__(self, limits: Limits) -> None:
        self.budget = Budget(limits)

    def __enter__(self) -> Budget:
        self._token = _ACTIVE.set(self.budget)
        return self.budget

    def __exit__(self, *exc) -> None:
        _ACTIVE.reset(self._token)


def _size(value) -> int:
    if isinstance(value, (str, bytes, bytearray, list, tuple, dict, set, frozenset)):
        return len(value)
    return 0


def _digits(bits: int) -> int:
    return int(bits * 0.30103) + 1


# --- Checks of known amplifiers, before they run ------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_SPEC_NUMBERS = re.compile(r"\d+")


def _check_printf(fmt: str, budget: Budget) -> None:
    for match in _PRINTF.finditer(fmt):
        for part in match.groups():
            if part == "*":
                raise LimitExceeded("width", value="*", of="a format width",
                                    limit=budget.limits.width)
            if part:
                budget.width(int(part), "a format width")


def _check_spec(spec: str, budget: Budget) -> None:
    for number in _SPEC_NUMBERS.findall(spec):
        budget.width(int(number), "a format width")


def _text_len(item) -> int:
    return len(item) if isinstance(item, str) else len(str(item))


def _check_replace(text: str, old: str, new: str, count, budget: Budget) -> None:
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    budget.expect(len(text) + found * max(len(new) - len(old), 0))


def _check_join(separator: str, items: list, budget: Budget) -> None:
    budget.expect(len(items))
    total = max(len(items) - 1, 0) * len(separator)
    budget.expect(total)
    for item in items:
        total += _text_len(item)
        if total > budget.limits.value:
            budget.expect(total)


class _Blocked(SecurityError):
    """A method that is safe but has no bounded use in a template (its message is its name)."""


_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_BLOCKED_METHODS = frozenset({"translate", "maketrans", "to_bytes", "from_bytes"})
"""String and integer methods a template has no use for, whose output size depends on
arguments that are hard to bound."""


def _check_method(method, args: tuple, kwargs: dict, budget: Budget) -> tuple:
    """Checks of a bound method of a string before it runs; returns the arguments to use."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(owner, (str, bytes, bytearray)):
        return args
    if name in _PADDING_METHODS and args:
        budget.width(args[0])
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        budget.width(size)
        if isinstance(size, int):
            budget.expect(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * size)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], type(owner)) \
            and isinstance(args[1], type(owner)):
        _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count"),
                       budget)
    elif name == "join" and args:
        items = list(_bounded_items(args[0], budget))
        _check_join(owner, items, budget)
        return (items, *args[1:])
    return args


def _bounded_items(iterable, budget: Budget) -> Iterator:
    """Items of an iterable the template hands to a call, at most ``value`` of them."""
    for count, item in enumerate(iterable, 1):
        if count > budget.limits.value:
            raise LimitExceeded("value_size", limit=budget.limits.value)
        yield item


def _arg(args: tuple, kwargs: dict, index: int, name: str, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _filter_center(budget, value, args, kwargs):
    budget.width(_arg(args, kwargs, 0, "width", 80))


def _filter_indent(budget, value, args, kwargs):
    width = _arg(args, kwargs, 0, "width", 4)
    budget.width(width, "an indent")
    size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(value)
    budget.expect(len(text) + (text.count("\n") + 1) * max(size, 0))


def _filter_wordwrap(budget, value, args, kwargs):
    width = _arg(args, kwargs, 0, "width", 79)
    budget.width(width)
    wrap = _arg(args, kwargs, 2, "wrapstring", None)
    if wrap is not None:
        budget.width(wrap, "a wrap string")
        text = str(value)
        lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else 1
        budget.expect(len(text) + lines * len(str(wrap)))


def _filter_batch(budget, value, args, kwargs):
    count = _arg(args, kwargs, 0, "linecount")
    if _arg(args, kwargs, 1, "fill_with") is not None:
        budget.width(count, "a count")


def _filter_slice(budget, value, args, kwargs):
    budget.width(_arg(args, kwargs, 0, "slices"), "a count")


def _filter_format(budget, value, args, kwargs):
    _check_printf(str(value), budget)


def _filter_replace(budget, value, args, kwargs):
    old, new = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new")
    if old is not None and new is not None:
        _check_replace(str(value), str(old), str(new), _arg(args, kwargs, 2, "count"), budget)


def _filter_tojson(budget, value, args, kwargs):
    indent = _arg(args, kwargs, 0, "indent")
    if indent is not None:
        budget.width(indent, "an indent")
        if isinstance(indent, int) and indent > 16:
            raise LimitExceeded("width", value=indent, of="an indent", limit=16)


def _filter_sum(budget, value, args, kwargs):
    start = _arg(args, kwargs, 1, "start", 0)
    if not isinstance(start, (int, float)):
        raise LimitExceeded("not_allowed", name="sum(start=…) of texts or lists")


_FILTER_CHECKS = {
    "center": _filter_center, "indent": _filter_indent, "wordwrap": _filter_wordwrap,
    "batch": _filter_batch, "slice": _filter_slice, "format": _filter_format,
    "replace": _filter_replace, "tojson": _filter_tojson, "sum": _filter_sum,
}
"""Filters whose arguments can make their result much bigger than their input."""


def _bounded_filter(name: str, function):
    check = _FILTER_CHECKS.get(name)
    skip = 0 if _PassArg.from_obj(function) is None else 1

    @functools.wraps(function)
    def bounded(*args, **kwargs):
        budget = _budget()
        budget.step(_cost(args[skip]) if args[skip:] else 1)
        if args[skip:]:
            value, rest = args[skip], args[skip + 1:]
            if name == "join":
                items = list(_bounded_items(value, budget))
                _check_join(str(_arg(rest, kwargs, 0, "d", "")), items, budget)
                args = (*args[:skip], items, *rest)
            elif check:
                check(budget, value, rest, kwargs)
        return budget.charge(function(*args, **kwargs))

    return bounded


def _bounded_range(*args):
    budget = _budget()
    numbers = range(*args)
    if len(numbers) > budget.limits.value:
        raise LimitExceeded("value_size", limit=budget.limits.value)
    for end in (numbers.start, numbers.stop):
        budget.charge(end)
    return numbers


# --- Writing: the output stream and every captured buffer ---------------------------------

class _Buffer(list):
    """What a captured block, macro body or ``{% set %}`` block writes (Jinja collects it
    in a list, then joins it): counted as it is written."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def _count(self, text) -> None:
        budget = _budget()
        size = len(text) if isinstance(text, str) else len(str(text))
        self.size += size
        if self.size > budget.limits.output:
            raise LimitExceeded("output", limit=budget.limits.output)
        budget.add(size)

    def append(self, text) -> None:
        self._count(text)
        super().append(text)

    def extend(self, texts) -> None:
        texts = tuple(texts)
        for text in texts:
            self._count(text)
        super().extend(texts)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with three hooks into the template's compiled code: captured
    output goes into a counting :class:`_Buffer`, every loop's items pass
    ``environment.loop_items`` (a step each), and ``~`` results are checked."""

    def buffer(self, frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    def visit_For(self, node: nodes.For, frame) -> None:
        guard = nodes.EnvironmentAttribute("loop_items", lineno=node.iter.lineno)
        node.iter = nodes.Call(guard, [node.iter], [], None, None, lineno=node.iter.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.built(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BoundedFormatter(SandboxedFormatter):
    def format_field(self, value, format_spec: str):
        _check_spec(format_spec, _budget())
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(SandboxedEscapeFormatter):
    def format_field(self, value, format_spec: str):
        _check_spec(format_spec, _budget())
        return super().format_field(value, format_spec)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the limits of the render in progress (see the module
    doc). Create it with :func:`sandbox`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals.pop("lipsum", None)  # lorem ipsum of any length: no use in a follow-up
        self.globals["range"] = _bounded_range

    # -- every template this environment compiles (from a string, a loader, an include) --
    def _parse(self, source: str, name: str | None, filename: str | None):
        limits = _budget().limits
        label = name or filename or "template"
        check_source(self, source, label, limits)
        try:
            ast = super()._parse(source, name, filename)
        except RecursionError:
            raise TemplateProblem(what="tree", label=label, limit=limits.tree) from None
        check_tree(ast, label, limits, loader=self.loader is not None)
        return ast

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        try:
            return super().compile(source, name, filename, raw, defer_init)
        except (RecursionError, SyntaxError):  # Python's own limits on the generated code
            raise TemplateProblem(what="tree", label=name or filename or "template",
                                  limit=_budget().limits.tree) from None

    # -- hooks the compiled template calls --
    @staticmethod
    def new_buffer() -> _Buffer:
        return _Buffer()

    @staticmethod
    def loop_items(iterable: Iterable) -> Iterator:
        budget = _budget()
        for item in iterable:
            budget.step()
            yield item

    @staticmethod
    def built(value):
        return _budget().charge(value)

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        if attr in _BLOCKED_METHODS and isinstance(obj, (str, bytes, bytearray, int)):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj, attribute: str):
        if attribute in _BLOCKED_METHODS and not attribute.startswith("_"):
            return self.undefined(f"{type(obj).__name__}.{attribute}()", name=attribute,
                                  obj=obj, exc=_Blocked)
        return super().unsafe_undefined(obj, attribute)

    def call_binop(self, context, operator: str, left, right):
        budget = _budget()
        budget.step(_cost(left, right))
        if operator == "*":
            _check_product(left, right, budget)
        elif operator == "**":
            _check_power(left, right, budget)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, budget)
        return budget.charge(self.binop_table[operator](left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's signature
        budget = _budget()
        budget.step(MACRO_STEPS if isinstance(__obj, Macro) else
                    _cost(getattr(__obj, "__self__", None), *args))
        if isinstance(__obj, (Macro, LoopContext)):
            if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level
                args = (__self.loop_items(args[0]), *args[1:])
            # What a macro, a caller() or a loop level returns is what it wrote: counted
            # (and capped at ``output``) by its buffer as it was written.
            return super().call(__context, __obj, *args, **kwargs)
        if isinstance(__obj, (types.BuiltinMethodType, types.MethodType)):
            args = _check_method(__obj, args, kwargs, budget)
        return budget.charge(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value):
        """``'{:>9}'.format(x)`` with the width of every field checked."""
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) \
                or value.__name__ not in ("format", "format_map") \
                or not isinstance(value.__self__, str):
            return None
        text = value.__self__
        formatter = (_BoundedEscapeFormatter(self, escape=text.escape) if isinstance(text, Markup)
                     else _BoundedFormatter(self))
        is_map = value.__name__ == "format_map"

        def bounded_format(*args, **kwargs):
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return type(text)(formatter.vformat(text, args, kwargs))

        return functools.update_wrapper(bounded_format, value)


def _check_product(left, right, budget: Budget) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(count, int) and _size(sequence) and not isinstance(sequence, dict):
            budget.expect(_size(sequence) * max(count, 0))
    if isinstance(left, int) and isinstance(right, int):
        bits = left.bit_length() + right.bit_length() - 1
        if bits > budget.limits.int_bits:
            raise LimitExceeded("int_size", limit=budget.limits.int_bits,
                                digits=_digits(budget.limits.int_bits))


def _check_power(left, right, budget: Budget) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        # The result has at least (bits(left) - 1) * right + 1 bits.
        if (left.bit_length() - 1) * right + 1 > budget.limits.int_bits:
            raise LimitExceeded("int_size", limit=budget.limits.int_bits,
                                digits=_digits(budget.limits.int_bits))


def sandbox(loader=None, *, html_extensions: tuple[str, ...] = (),
            keep_trailing_newline: bool = False) -> BoundedSandbox:
    """The environment every editable template renders in: :class:`BoundedSandbox`,
    ``StrictUndefined``, autoescaping for files ending in ``html_extensions`` only."""
    from jinja2 import StrictUndefined, select_autoescape

    autoescape = (select_autoescape(enabled_extensions=html_extensions, default_for_string=False)
                  if html_extensions else False)
    return BoundedSandbox(loader=loader, undefined=StrictUndefined, autoescape=autoescape,
                          keep_trailing_newline=keep_trailing_newline)


# --- Before parsing: size, nesting, integer literals --------------------------------------

_OPENERS = frozenset({"for", "if", "macro", "call", "filter", "block", "with", "autoescape",
                      "trans"})
_PREFIX = frozenset({"not", "-", "+"})


def check_source(env: BoundedSandbox, text: str, label: str, limits: Limits) -> None:
    """Refuse, naming the line, a template too long, too deeply nested or with a huge
    integer literal — before the parser (which recurses on nesting) sees it."""
    if len(text) > limits.source:
        raise TemplateProblem(what="source_size", label=label, size=len(text),
                              limit=limits.source)
    depth = prefix = 0
    tag: list[tuple[str, str]] | None = None
    try:
        for line, kind, value in env.lex(text, filename=label):
            if kind == "whitespace":
                continue
            if kind == "block_begin":
                tag = []
                continue
            if tag is not None:
                if kind == "block_end":
                    name = tag[0][1] if tag and tag[0][0] == "name" else ""
                    if name in _OPENERS or (name == "set" and ("operator", "=") not in tag):
                        depth += 1
                    elif name.startswith("end"):
                        depth -= 1
                    tag = None
                else:
                    tag.append((kind, value))
            if kind == "operator" and value in "([{":
                depth += 1
            elif kind == "operator" and value in ")]}":
                depth -= 1
            prefix = prefix + 1 if (kind == "operator" and value in _PREFIX) or \
                (kind == "name" and value == "not") else 0
            if depth + prefix > limits.nesting:
                raise TemplateProblem(what="nesting", label=label, line=line, limit=limits.nesting)
            if kind == "integer":
                digits = value.replace("_", "")
                too_big = len(digits) > limits.int_bits  # more digits than bits: surely too big
                if too_big or int(digits, 0).bit_length() > limits.int_bits:
                    raise TemplateProblem(what="int_literal", label=label, line=line,
                                          limit=limits.int_bits, digits=_digits(limits.int_bits))
    except TemplateSyntaxError as exc:
        raise TemplateProblem(what="syntax", label=label, line=exc.lineno,
                              detail=exc.message) from None


def check_tree(ast: nodes.Template, label: str, limits: Limits, *, loader: bool) -> None:
    """After parsing: the tree's depth (without recursing), and includes without a loader."""
    stack: list[tuple[nodes.Node, int]] = [(ast, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.tree:
            raise TemplateProblem(what="tree", label=label, line=node.lineno, limit=limits.tree)
        if not loader and isinstance(node, (nodes.Include, nodes.Import, nodes.FromImport,
                                            nodes.Extends)):
            raise TemplateProblem(what="no_includes", label=label, line=node.lineno)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())


# --- From an exception to a problem with a line --------------------------------------------

def _code_line(tb) -> int | None:
    """The line of a traceback entry; for an instruction without one (a loop's jump back,
    where Python runs signal handlers), the line of the instruction before it."""
    if tb.tb_lineno:
        return tb.tb_lineno
    line = None
    for start, _end, number in tb.tb_frame.f_code.co_lines():
        if start > tb.tb_lasti:
            break
        line = number or line
    return line


def template_line(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost frame of compiled template code in ``exc``'s traceback, as (template
    name, template line), or (None, None). Read from the raw traceback (Jinja's own
    rewriting of it fails on an exception raised where Python has no line number, as a
    signal handler's can be, and copies every frame of a deep recursion)."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            code_line = _code_line(tb)
            if code_line:
                found = (template.name, template.get_corresponding_lineno(code_line))
        tb = tb.tb_next
    return found


_NO_ATTRIBUTE = re.compile(r"^'(?P<owner>[^']+)' has no attribute '(?P<name>[^']+)'$")
_UNDEFINED = re.compile(r"^'(?P<name>[^']+)' is undefined$")


def problem_from(exc: BaseException, label: str, line: int | None) -> TemplateProblem:
    """The :class:`TemplateProblem` of an exception raised while rendering."""
    from jinja2.exceptions import UndefinedError

    if isinstance(exc, TemplateProblem):
        return exc
    if isinstance(exc, LimitExceeded):
        return TemplateProblem(what=exc.what, label=label, line=line, **exc.params)
    if isinstance(exc, RecursionError):
        return TemplateProblem(what="recursion", label=label, line=line)
    if isinstance(exc, MemoryError):
        return TemplateProblem(what="memory", label=label, line=line, megabytes="?")
    if isinstance(exc, _Blocked):
        return TemplateProblem(what="not_allowed", label=label, line=line, name=exc.message)
    if isinstance(exc, SecurityError):
        return TemplateProblem(what="internals", label=label, line=line, detail=str(exc))
    if isinstance(exc, UndefinedError):
        message = exc.message or ""
        match = _NO_ATTRIBUTE.match(message)
        if match:
            return TemplateProblem(what="no_attribute", label=label, line=line,
                                   owner=match["owner"], name=match["name"])
        match = _UNDEFINED.match(message)
        if match:
            return TemplateProblem(what="not_defined", label=label, line=line, name=match["name"])
        return TemplateProblem(what="undefined", label=label, line=line, detail=message)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateProblem(what="syntax", label=label, line=exc.lineno or line,
                               detail=exc.message)
    return TemplateProblem(what="error", label=label, line=line, kind=type(exc).__name__,
                           detail=str(exc)[:300])


def render_bounded(template, context: dict, limits: Limits, label: str) -> str:
    """Render a compiled template within ``limits``; any failure is a
    :class:`TemplateProblem` naming the innermost template line it happened at (a
    template loaded from a folder is named by its file name)."""
    with rendering(limits) as budget:
        try:
            return stream(template, context, limits, budget)
        except Exception as exc:  # noqa: BLE001 - whatever a template raises is the template's
            name, line = template_line(exc)
            raise problem_from(exc, name or label, line) from None


def stream(template, context: dict, limits: Limits, budget: Budget) -> str:
    """Render ``template`` writing at most ``limits.output`` characters (counted as the
    template writes them: nothing longer is ever held)."""
    parts, size = [], 0
    generator = template.root_render_func(template.new_context(dict(context)))
    try:
        for part in generator:
            size += len(part)
            if size > limits.output:
                generator.throw(LimitExceeded("output", limit=limits.output))
            budget.add(len(part))
            parts.append(part)
    finally:
        generator.close()
    return "".join(parts)


__all__ = ["Budget", "BoundedSandbox", "DIGEST_LIMITS", "FOLLOWUP_LIMITS", "LimitExceeded",
           "Limits", "TemplateProblem", "check_source", "check_tree", "problem_from",
           "render_bounded", "rendering", "sandbox", "stream", "template_line"]
