"""The code matches docs/architecture.md: every import follows the table there, and no two
modules import each other, directly or round a loop.

Every module under ``assistant/`` and ``connectors/`` is parsed with ``ast`` (no import
runs); every ``import`` counts, at the top of a module or inside a function -- a lazy
import is still a dependency. Only imports under ``if TYPE_CHECKING:`` (annotations,
never run) are left out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "connectors")

# --- The table (docs/architecture.md, "Who may import whom") ------------------------------
# Each module belongs to one layer: the longest prefix below that names it.
LAYER_OF = {
    "assistant.mail": "mail",
    "assistant.domain": "domain",
    "assistant.drafting": "drafting",
    "assistant.wording": "wording",
    "assistant.data": "data",
    "assistant.settings": "settings",
    "assistant.storage": "storage",
    "assistant.services": "services",
    "assistant.rendering": "services",  # the template renderer's worker processes
    "assistant.scheduler": "scheduler",
    "assistant.web": "web",
    "assistant.cli": "cli",
    "assistant.demo": "demo",
    "connectors": "connectors",
    "connectors.crm": "connectors",  # CRM connectors (Tryton...): their own protocol, no product
}

PURE = {"mail", "domain", "drafting", "wording"}
MAY_IMPORT = {
    "mail": {"mail"},
    "domain": {"domain", "mail"},
    "drafting": {"drafting", "domain", "mail", "data"},
    "wording": {"wording", "domain"},
    "data": {"data"},
    "settings": {"settings"},
    "connectors": {"connectors"},
    "storage": {"storage", "domain", "mail", "settings", "data", "wording"},
    "services": {"services", "storage", "domain", "mail", "drafting", "wording", "settings",
                 "data", "connectors"},
    "scheduler": {"scheduler", "services", "storage", "domain", "mail", "drafting", "wording",
                  "settings", "data", "connectors"},
    "web": {"web", "services", "storage", "domain", "mail", "drafting", "wording", "settings",
            "data", "connectors"},
    "demo": {"demo", "services", "web", "storage", "domain", "mail", "drafting", "wording",
             "settings", "data", "connectors"},
    "cli": {"cli", "demo", "scheduler", "services", "web", "storage", "domain", "mail",
            "drafting", "wording", "settings", "data", "connectors"},
}
"""Layer -> the layers it may import. Data flows one way: connectors -> services.sync ->
storage -> services.snapshot (domain) -> planning / digest / web / CLI."""

IO_LIBRARIES = ("sqlalchemy", "alembic", "psycopg", "flask", "werkzeug", "requests",
                "imapclient", "imaplib", "smtplib", "socket", "subprocess", "multiprocessing",
                "googleapiclient", "google", "google_auth_oauthlib", "msal", "schedule")
"""What the pure core never imports: databases, the web, the network, processes."""

NO_SQL_LAYERS = {"web", "cli"}
SQL_LIBRARIES = ("sqlalchemy", "alembic", "psycopg")

@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a package's module when ``from pkg import module``)
    line: int

    @property
    def where(self) -> str:
        return f"{path_of(self.module)}:{self.line}"


def module_files() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = module_files()


def path_of(module: str) -> str:
    return str(MODULES[module].relative_to(ROOT))


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str) -> list[Import]:
    """Every import in ``module``'s source, resolved to absolute module names."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(module, sub if sub in MODULES else base, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


ALL_IMPORTS = list(dict.fromkeys(imp for module in MODULES for imp in imports_of(module)))


def layer_of(module: str) -> str | None:
    best = None
    for prefix, layer in LAYER_OF.items():
        if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def _top(name: str) -> str:
    return name.split(".")[0]


def against_the_table(imp: Import) -> str | None:
    """Why ``imp`` breaks the table, or ``None``."""
    source = layer_of(imp.module)
    if imp.target in MODULES or _top(imp.target) in PACKAGES:
        target = layer_of(imp.target)
        if target is None:
            return f"imports {imp.target}, which docs/architecture.md does not place"
        if target not in MAY_IMPORT[source]:
            return f"{source} imports {target} ({imp.target})"
        return None
    library = _top(imp.target)
    if source in PURE and library in IO_LIBRARIES:
        return f"the pure core ({source}) does I/O through {imp.target}"
    if source in NO_SQL_LAYERS and library in SQL_LIBRARIES:
        return f"{source} writes no SQL, but imports {imp.target}"
    return None


def test_every_module_has_a_place_in_the_table():
    unplaced = sorted(m for m in MODULES if layer_of(m) is None and m not in PACKAGES)
    assert unplaced == [], f"modules docs/architecture.md does not place: {unplaced}"


def test_imports_follow_the_table():
    broken = [f"{imp.where}: {why}" for imp in ALL_IMPORTS
              if (why := against_the_table(imp))]
    assert broken == [], "imports against docs/architecture.md:\n" + "\n".join(broken)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``), or ``None``: depth-first, iteratively."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return path[path.index(following):] + [following]
            elif not state.get(following):
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(edges.get(following, ()))))
    return None


def import_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in ALL_IMPORTS:
        if imp.module in edges and imp.target in edges and imp.target != imp.module:
            edges[imp.module].add(imp.target)
    return edges


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    if cycle:
        lines = [f"{a} -> {b} ({imp.where})" for a, b in zip(cycle, cycle[1:])
                 for imp in ALL_IMPORTS if imp.module == a and imp.target == b][:len(cycle)]
        pytest.fail("import cycle: " + " -> ".join(cycle) + "\n" + "\n".join(lines))


# --- The checker itself, on small made-up graphs and sources -------------------------------

def test_find_cycle_reports_the_loop_and_only_a_loop():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": {"y"}, "y": {"y2"}, "y2": {"y"}}) == ["y", "y2", "y"]


def test_the_table_reads_lazy_and_relative_imports():
    lazy = [imp for imp in imports_of("assistant.services.app")
            if imp.target.startswith("assistant.services.snapshot")]
    assert lazy, "a function-level import was not seen"
    relative = {imp.target for imp in imports_of("assistant.domain.analysis")}
    assert "assistant.domain.model" in relative and "assistant.domain.calendar" in relative
    assert against_the_table(Import("assistant.domain.model", "sqlalchemy", 1))
    assert against_the_table(Import("assistant.cli.threads", "sqlalchemy.exc", 1))
    assert against_the_table(Import("assistant.storage.repo", "assistant.services.app", 1))
    assert against_the_table(Import("assistant.services.app", "assistant.cli.context", 1))
    assert against_the_table(Import("connectors.imap", "assistant.settings", 1))
    assert against_the_table(Import("assistant.cli.threads", "assistant.services.app", 1)) is None


# --- SQL only in storage: services build no query (issue 12) --------------------------------

SQL_BUILDERS = {"select", "update", "delete", "insert", "func", "text"}
"""What a module writes SQL with: SQLAlchemy's statement builders, functions and raw text."""

BULK_WRITERS = {"assistant.services.ingest", "assistant.services.snapshot"}
"""The two exceptions (docs/architecture.md): the bulk write paths, whose statements are
tuned to their batches (sync's stores, the read model's refresh)."""


def sql_builders_imported(module: str) -> list[str]:
    """``file:line: name`` for each of :data:`SQL_BUILDERS` ``module`` imports from
    SQLAlchemy (anywhere in the module, ``TYPE_CHECKING`` blocks too: they are code)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and (
                _top(node.module or "") == "sqlalchemy"):
            found += [f"{path_of(module)}:{node.lineno}: {alias.name} from {node.module}"
                      for alias in node.names if alias.name in SQL_BUILDERS]
    return found


def test_services_build_no_sql_but_the_bulk_writers():
    services = [m for m in MODULES if layer_of(m) == "services" and m.startswith(
        "assistant.services") and m not in BULK_WRITERS]
    assert "assistant.services.reconcile" in services
    found = [hit for module in services for hit in sql_builders_imported(module)]
    assert found == [], ("SQL in services (move the query into assistant/storage/):\n"
                         + "\n".join(found))


def test_the_sql_check_sees_a_builder_import():
    # The bulk writers do import them: the check reads them, and names file and line.
    hits = sql_builders_imported("assistant.services.snapshot")
    assert hits and all(hit.startswith("assistant/services/snapshot.py:") for hit in hits)
    assert sql_builders_imported("assistant.storage.templates")
