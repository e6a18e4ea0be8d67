"""What an admin could type into an editable template to stall or fill the server, or to
reach out of the sandbox (issue 11, point 4), each with the problem the bounded sandbox
answers. Every entry is one line of Jinja that the tests put at **line 3** of a template
(``Subject: …``, a blank line, then it), so every refusal must name line 3.

Sources: the issue itself (nested loops, ``indent``/``center``/``format`` widths, list
``extend``/``append``, huge powers, nesting, ``{% set %}`` before the subject line),
Jinja's sandbox documentation (operator intercepting, ``range`` limits, the immutable
sandbox, ``str.format``) and the usual server-side template injection and DoS payloads
(``__class__.__mro__``, ``cycler.__init__.__globals__``, ``|attr``, format-string field
access, ``'%*d'``, recursive macros and loops, self-includes, long operator chains).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.drafting.templates import TemplateSource


@dataclass(frozen=True)
class Hostile:
    id: str
    code: str
    """Line 3 of the template."""
    what: str
    """The problem a follow-up template gets (:attr:`TemplateProblem.what`)."""
    digest: str = ""
    """The problem as a digest template (larger size limits, a loader: includes work);
    "" means the same as ``what``."""

    @property
    def text(self) -> str:
        return f"Subject: Hostile\n\n{self.code}\nThe end.\n"

    def source(self, name: str | None = None, language: str = "es") -> TemplateSource:
        name = name or f"h_{self.id}"
        return TemplateSource(name, language, self.text, 0, f"{name}.{language}")

    def accepted(self, *, digest: bool = False, clock: bool = True) -> set[str]:
        """The answers that are right: a template refused for its steps may instead be cut
        off by the worker's clock on a slow or busy machine (both name line 3)."""
        what = (self.digest or self.what) if digest else self.what
        return {what, "time"} if clock and what == "steps" else {what}


def _many(open_: str, close: str, n: int, middle: str = "1") -> str:
    return open_ * n + middle + close * n


HOSTILE = [
    # --- time: loops and calls (the issue: 10^10 iterations) ---
    Hostile("nested_loops", "{% for a in range(100000) %}{% for b in range(100000) %}"
            "{% endfor %}{% endfor %}", "steps"),
    Hostile("nested_loops_over_a_list", "{% set xs = range(100000)|list %}{% for a in xs %}"
            "{% for b in xs %}{% endfor %}{% endfor %}", "steps"),
    Hostile("nested_loops_over_text", "{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}"
            "{% endfor %}{% endfor %}", "steps"),
    Hostile("macro_doubling", "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
            "{% endmacro %}{{ f(40) }}", "steps"),
    Hostile("count_in_a_loop", "{% set s = 'x' * 100000 %}{% for i in range(100000) %}"
            "{% if s.count('y') %}{% endif %}{% endfor %}", "steps"),
    Hostile("range_too_long", "{{ range(10**9)|length }}", "value_size"),
    Hostile("range_of_huge_numbers", "{{ range(0, 10**40, 10**35)|length }}", "int_size"),
    # --- recursion ---
    Hostile("macro_calls_itself", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
    Hostile("recursive_loop", "{% for i in [1] recursive %}{{ loop([1, 2]) }}{% endfor %}",
            "recursion"),
    Hostile("include", "{% include 'digest.html.j2' %}", "no_includes", "recursion"),
    Hostile("import", "{% import 'digest.html.j2' as m %}", "no_includes", "recursion"),
    Hostile("extends", "{% extends 'digest.html.j2' %}", "no_includes", "recursion"),
    # --- memory: sizes built by operators ---
    Hostile("text_times_a_billion", "{{ 'x' * 10**9 }}", "value_size"),
    Hostile("a_billion_times_text", "{{ 10**9 * 'x' }}", "value_size"),
    Hostile("list_times_half_a_million", "{{ [1] * 500000 }}", "value_size"),
    Hostile("tuple_times_a_billion", "{{ (1, 2) * 10**9 }}", "value_size"),
    Hostile("tilde_doubling", "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}", "value_size"),
    Hostile("plus_doubling", "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}", "value_size"),
    Hostile("list_doubling", "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}"
            "{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}", "value_size"),
    Hostile("many_big_texts_in_a_list", "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
            "{% set ns.l = ns.l + [('x' * 99999) ~ i] %}{% endfor %}", "value_size"),
    Hostile("many_big_texts_kept", "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
            "{% set ns.l = ns.l + [('x' * 99990) ~ i] %}{% endfor %}{{ ns.l|length }}", "created"),
    Hostile("encode_wide", "{{ ('x' * 100000).encode('utf-32')|length }}", "value_size"),
    # --- memory: list extend/append (the issue), dict update ---
    Hostile("list_append", "{% set l = [] %}{% for i in range(100000) %}{{ l.append('x' * 100000) }}"
            "{% endfor %}", "internals"),
    Hostile("list_extend", "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
            "internals"),
    Hostile("dict_update", "{% set d = {} %}{{ d.update({'a': 'x' * 100000}) }}", "internals"),
    # --- memory: output (the issue: loops reach 4-6 GB) ---
    Hostile("loop_output", "{% for a in range(100000) %}{{ 'x' * 100000 }}{% endfor %}", "output"),
    Hostile("loop_cycle", "{% for i in range(100000) %}{{ loop.cycle('x' * 100000, 'y') }}"
            "{% endfor %}", "output"),
    Hostile("truncate_does_not_help", "{% for i in range(100000) %}"
            "{{ ('x' * 100000)|truncate(10**18) }}{% endfor %}", "output"),
    Hostile("set_block", "{% set x %}{% for i in range(100000) %}{{ 'y' * 100000 }}{% endfor %}"
            "{% endset %}{{ x|length }}", "output"),
    Hostile("filter_block", "{% filter upper %}{% for i in range(100000) %}{{ 'y' * 100000 }}"
            "{% endfor %}{% endfilter %}", "output"),
    Hostile("caller_doubling", "{% macro twice() %}{{ caller() }}{{ caller() }}{% endmacro %}"
            + _many("{% call twice() %}", "{% endcall %}", 15, "{{ 'x' * 100000 }}"), "output", "created"),
    # --- filter widths and counts (the issue: indent, center, format) ---
    Hostile("indent_width", "{{ ('\\n' * 100000)|indent(100000) }}", "width"),
    Hostile("indent_text", "{{ ('\\n' * 50000)|indent('x' * 1000) }}", "value_size"),
    Hostile("center", "{{ 'x'|center(10**9) }}", "width"),
    Hostile("format_width", "{{ '%1000000000d'|format(1) }}", "width"),
    Hostile("format_star_width", "{{ '%*d'|format(10**9, 1) }}", "width"),
    Hostile("format_precision", "{{ '%.1000000f'|format(1.5) }}", "width"),
    Hostile("percent_width", "{{ '%01000000000d' % 1 }}", "width"),
    Hostile("str_format_width", "{{ '{:>1000000000}'.format(1) }}", "width"),
    Hostile("str_format_nested_width", "{{ '{:{w}}'.format(1, w=10**9) }}", "width"),
    Hostile("str_format_precision", "{{ '{:.1000000f}'.format(1.5) }}", "width"),
    Hostile("format_map_width", "{{ '{x:>1000000000}'.format_map({'x': 1}) }}", "width"),
    Hostile("wordwrap_wrapstring", "{{ ('x ' * 50000)|wordwrap(1, wrapstring='y' * 100000) }}",
            "width"),
    Hostile("wordwrap_width", "{{ 'x'|wordwrap(10**9) }}", "width"),
    Hostile("join_separator", "{{ range(100000)|join('x' * 100000) }}", "value_size"),
    Hostile("join_method", "{{ ('y' * 100000).join(('x' * 100000)|list) }}", "value_size"),
    Hostile("batch_fill", "{{ [1]|batch(10**9, 'x')|list }}", "width"),
    Hostile("slice_count", "{{ [1]|slice(10**9)|list }}", "width"),
    Hostile("replace_filter", "{{ ('x' * 100000)|replace('', 'y' * 1000) }}", "value_size"),
    Hostile("replace_method", "{{ ('x' * 100000).replace('x', 'y' * 100000) }}", "value_size"),
    Hostile("tojson_indent", "{{ range(10000)|list|tojson(indent=100000) }}", "width"),
    Hostile("sum_of_lists", "{{ ([[1] * 100000] * 1000)|sum(start=[]) }}", "not_allowed"),
    Hostile("ljust", "{{ 'x'.ljust(10**9) }}", "width"),
    Hostile("rjust", "{{ 'x'.rjust(10**9) }}", "width"),
    Hostile("center_method", "{{ 'x'.center(10**9) }}", "width"),
    Hostile("zfill", "{{ 'x'.zfill(10**9) }}", "width"),
    Hostile("expandtabs", "{{ ('\\t' * 100000).expandtabs(100000) }}", "width"),
    Hostile("translate", "{{ ('x' * 100000).translate({120: 'y' * 100000}) }}", "not_allowed"),
    Hostile("to_bytes", "{{ (7).to_bytes(10**9, 'big') }}", "not_allowed"),
    Hostile("lipsum", "{{ lipsum(n=10**6) }}", "unknown_variable", "not_defined"),
    # --- integers (the issue: huge powers stored and slow forever) ---
    Hostile("power", "{{ 9 ** 999999 }}", "int_size"),
    Hostile("power_of_powers", "{{ ((9 ** 64) ** 64) ** 64 }}", "int_size"),
    Hostile("repeated_squaring", "{% set ns = namespace(n=3) %}{% for i in range(64) %}"
            "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}", "int_size"),
    Hostile("literal_5000_digits", "{{ " + "9" * 5000 + " }}", "int_literal"),
    Hostile("literal_100_digits", "{{ " + "9" * 100 + " ** 2 }}", "int_literal"),
    Hostile("int_filter_of_digits", "{{ ('9' * 4000)|int ** 2 }}", "int_size"),
    # --- nesting (the issue: a RecursionError traceback / 500) ---
    Hostile("parentheses", "{{ " + _many("(", ")", 5000) + " }}", "nesting"),
    Hostile("lists", "{{ " + _many("[", "]", 5000) + " }}", "nesting"),
    Hostile("dicts", "{{ " + "{'a': " * 5000 + "1" + "}" * 5000 + " }}", "nesting"),
    Hostile("ifs", _many("{% if 1 %}", "{% endif %}", 1000, "x"), "nesting"),
    Hostile("fors", _many("{% for i in [1] %}", "{% endfor %}", 25, "x"), "nesting"),
    Hostile("macros", _many("{% macro m() %}", "{% endmacro %}", 100, "x"), "nesting"),
    Hostile("nots", "{{ " + "not " * 5000 + "1 }}", "nesting"),
    Hostile("minuses", "{{ " + "-" * 5000 + "1 }}", "nesting"),
    Hostile("plus_chain", "{{ " + " + ".join(["1"] * 5000) + " }}", "tree"),
    Hostile("filter_chain", "{{ 'x'" + "|upper" * 5000 + " }}", "tree"),
    Hostile("attribute_chain", "{{ range" + ".a" * 5000 + " }}", "tree"),
    # --- Python internals (known sandbox escapes: must stay refused) ---
    Hostile("mro_subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "internals"),
    Hostile("cycler_globals", "{{ cycler.__init__.__globals__.os }}", "internals"),
    Hostile("joiner_globals", "{{ joiner.__init__.__globals__ }}", "internals"),
    Hostile("namespace_globals", "{{ namespace.__init__.__globals__ }}", "internals"),
    Hostile("range_globals", "{{ range.__globals__ }}", "internals"),
    Hostile("format_globals", "{{ 'x'.format.__globals__ }}", "internals"),
    Hostile("attr_filter", "{{ ''|attr('__class__') }}", "internals"),
    Hostile("subscript_dunder", "{{ ''['__class__'] }}", "internals"),
    Hostile("format_field_dunder", "{{ '{0.__class__}'.format(1) }}", "internals"),
    Hostile("self_reference", "{{ self.__init__ }}", "internals"),
    Hostile("loop_internals", "{% for i in [1] %}{{ loop.__class__ }}{% endfor %}", "internals"),
    Hostile("type_mro", "{{ dict.mro() }}", "internals"),
]

CLOCK = Hostile(
    "membership_tests",
    "{% set s = 'x' * 100000 %}{% for i in range(100000) %}{% if " +
    " or ".join(f"'{c}' in s" for c in "abcdefghijklmnopqrst") + " %}{% endif %}{% endfor %}",
    "time")
"""Within every size and step limit, yet seconds of work (``in`` scans 100,000
characters 20 times an iteration, and comparisons are not counted): only the worker's
clock stops it."""

BY_ID = {h.id: h for h in [*HOSTILE, CLOCK]}

REPRESENTATIVE = [BY_ID[i] for i in (
    "nested_loops", "macro_calls_itself", "list_extend", "loop_output", "indent_width",
    "center", "format_width", "power", "literal_5000_digits", "parentheses", "plus_chain",
    "mro_subclasses")]
"""One per kind of defence, for the paths that cost a process each (CLI save, preview)."""
