"""Move the workbench's modules into folders that say the flow, and rewrite every reference.

Run from the repository root (``python tools/relayout.py``). Idempotent: a move already made is
skipped, a reference already pointing at a new path is left alone, so the script can be re-run
on any later tree (for example after merging branches written against the old paths).

What it does, in order:

1. ``git mv`` every module in :data:`MOVES` whose old file still exists and whose new file does
   not, and creates the new packages' ``__init__.py`` (:data:`NEW_PACKAGES`) when missing.
2. Rewrites references to old module paths in ``workbench/``, ``tests/``, ``bench/``,
   ``tools/``, ``notebooks/*.ipynb``, ``README.md``, ``docs/``, ``pyproject.toml`` and
   ``.ci/``:

   * every ``from ... import`` statement of a Python file (also inside functions), relative ones
     resolved to absolute names against the file's old location, mapped, and written back
     relative to the file's new location; ``from workbench import bundle`` (a module imported
     by name) becomes ``from workbench.review import bundle``;
   * dotted names anywhere in the text (``import workbench.bundle as b``, ``mock.patch``
     targets, the lazy-name table of ``workbench/__init__.py``, ``python -m workbench...``,
     docstring cross-references);
   * file paths such as ``workbench/bundle.py``;
   * single-line ``from workbench... import name`` in non-Python text (notebook cells, README).

3. Sorts the imports (``ruff check --select I --fix``) and formats (``ruff format``) the Python
   files it changed.

No shim module is left at an old path: the 0.2 -> 0.3 release moves modules (see the "Moved in
0.3" list in the README); only the facade ``import workbench as wb`` is stable.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

#: old module -> new module. Order does not matter.
MOVES: dict[str, str] = {
    # loading: readers (the bulk), the SQL sandbox, and the safety limits
    "workbench.loading": "workbench.loading.readers",
    "workbench.loading_sql": "workbench.loading.sql",
    "workbench.limits": "workbench.loading.limits",
    "workbench.postgres": "workbench.loading.postgres",
    # profiling: column profiles and role suggestions (vocabularies are data files)
    "workbench.profiling": "workbench.profiling.profiler",
    "workbench.roles": "workbench.profiling.roles",
    # review: what a reviewer reads
    "workbench.assessment": "workbench.review.assessment",
    "workbench.bundle": "workbench.review.bundle",
    "workbench.report": "workbench.review.report",
    "workbench.charts": "workbench.review.charts",
    "workbench.figures": "workbench.review.figures",
    # governance: the catalog belongs with policies and the gate
    "workbench.catalog": "workbench.governance.catalog",
    "workbench.governance._catalog": "workbench.governance.catalog_policies",
    # de-identification: the searches together, the comparison under its own name
    "workbench.deid.lattice": "workbench.deid.search.lattice",
    "workbench.deid.evaluation": "workbench.deid.search.evaluation",
    "workbench.deid.mondrian": "workbench.deid.search.mondrian",
    "workbench.deid.frontier": "workbench.deid.search.frontier",
    "workbench.deid.utility": "workbench.deid.comparison",
    # the worked example lives with the sample data
    "workbench.demo": "workbench.samples.demo",
}

#: new package -> its ``__init__.py`` text (written only when the file is missing).
NEW_PACKAGES: dict[str, str] = {
    "workbench.loading": (
        '"""Step 1, loading: read a department\'s table into a :class:`~workbench.dataset.Dataset`.\n'
        "\n"
        "* :mod:`.readers` -- :func:`~.readers.load` for CSV, Excel, Parquet and JSON files;\n"
        "* :mod:`.sql` -- a read-only DuckDB query over files inside a sandbox;\n"
        "* :mod:`.limits` -- safety limits on untrusted input, read at call time.\n"
        '"""\n'
    ),
    "workbench.profiling": (
        '"""Step 2, profiling and roles: what each column holds, and which role it plays.\n'
        "\n"
        "* :mod:`.profiler` -- :func:`~.profiler.profile`: kinds, formats, uniqueness, patterns;\n"
        "* :mod:`.roles` -- :func:`~.roles.suggest_roles` and the :class:`~.roles.RoleMap`;\n"
        "* ``vocabularies/`` -- the column-name vocabularies the role suggestions match, as data.\n"
        '"""\n'
    ),
    "workbench.review": (
        '"""Step 6, review: what a privacy officer reads and signs off.\n'
        "\n"
        "* :mod:`.assessment` -- build an :class:`~.bundle.AssessmentBundle` from the core calls;\n"
        "* :mod:`.bundle` -- the bundle itself, and the leak check every rendering passes;\n"
        "* :mod:`.figures` -- every number a review shows, computed once from a bundle;\n"
        "* :mod:`.report` -- the HTML report; :mod:`.charts` -- the chart specifications.\n"
        '"""\n'
    ),
    "workbench.deid.search": (
        '"""Searches for a release that meets the privacy models with the least loss.\n'
        "\n"
        "* :mod:`.lattice` -- optimal full-domain generalization (Flash-style lattice search);\n"
        "* :mod:`.evaluation` -- the criteria, and judging one node against them;\n"
        "* :mod:`.frontier` -- the risk-utility frontier over the same lattice;\n"
        "* :mod:`.mondrian` -- Mondrian multidimensional local recoding.\n"
        '"""\n'
    ),
}

#: roots scanned for references (files tracked by git, plus untracked ones not ignored)
ROOTS = ("workbench", "tests", "bench", "tools", "notebooks", "docs", ".ci")
TOP_FILES = ("README.md", "pyproject.toml", "CHANGELOG.md", "environment.yml")
TEXT_SUFFIXES = {".py", ".md", ".ipynb", ".toml", ".yml", ".yaml", ".cfg", ".txt", ".sh", ".j2"}

TARGETS = set(MOVES.values())

# ``from M import`` is left to the import passes (they know which names are modules)
_DOTTED = re.compile(r"(?<!from )(?<![\w.])workbench(?:\.\w+)+")
_FROM_PAREN = re.compile(r"(?<![\w.])from (workbench(?:\.\w+)*) import \(")
_PATH = re.compile(r"(?<![\w/.])workbench/[\w/]+\.py\b")
_FROM_LINE = re.compile(
    r"(?<![\w.])from (workbench(?:\.\w+)*) import ((?:\w+(?: as \w+)?, )*\w+(?: as \w+)?)"
)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def module_of(path: str) -> str | None:
    """``workbench/review/bundle.py`` -> ``workbench.review.bundle``; None for non-modules."""
    if not path.endswith(".py") or not path.startswith("workbench/"):
        return None
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def path_of(module: str, package: bool = False) -> str:
    base = module.replace(".", "/")
    return f"{base}/__init__.py" if package else f"{base}.py"


def _is_prefix(prefix: str, name: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def already_new(name: str) -> bool:
    """Whether a dotted name already points into a new location (then it is left alone)."""
    return any(_is_prefix(t, name) for t in TARGETS)


def map_dotted(name: str) -> str:
    """Map the longest old-module prefix of a dotted name (``workbench.bundle.X`` -> ...)."""
    if already_new(name):
        return name
    parts = name.split(".")
    for i in range(len(parts), 1, -1):
        head = ".".join(parts[:i])
        if head in MOVES:
            return ".".join([MOVES[head], *parts[i:]])
    return name


class Tree:
    """What the script knows about the modules: every module name, and per package the names
    its ``__init__`` binds to something other than a submodule (``deid.frontier`` is a function)."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.modules: set[str] = set(MOVES) | TARGETS | set(NEW_PACKAGES)
        for path in sources:
            mod = module_of(path)
            if mod:
                self.modules.add(mod)
        self.attributes: dict[str, set[str]] = {}
        for path, text in sources.items():
            if path.endswith("__init__.py") and module_of(path):
                self.attributes[module_of(path)] = self._bound_attributes(module_of(path), text)

    def _bound_attributes(self, package: str, text: str) -> set[str]:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return set()
        names: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                base = resolve(package, True, node.level, node.module)
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    if f"{base}.{alias.name}" not in self.modules or alias.asname not in (
                        None,
                        alias.name,
                    ):
                        names.add(alias.asname or alias.name)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
        return names

    def is_module_ref(self, base: str, name: str) -> bool:
        """``from base import name`` imports a moved module (not an attribute of the package)."""
        full = f"{base}.{name}"
        return full in MOVES and name not in self.attributes.get(base, set())


def resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of ``from <level dots><target> import`` written in ``module``."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, *([target] if target else [])])


def relative(from_module: str, is_package: bool, target: str) -> str:
    """``target`` written relative to ``from_module`` (``..review.bundle``)."""
    pkg = from_module.split(".")
    if not is_package:
        pkg = pkg[:-1]
    tgt = target.split(".")
    common = 0
    while common < min(len(pkg), len(tgt)) and pkg[common] == tgt[common]:
        common += 1
    if common == 0:
        return target
    return "." * (len(pkg) - common + 1) + ".".join(tgt[common:])


def plan_import(
    tree: Tree, base: str, names: list[tuple[str, str | None]]
) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Group the names of ``from base import names`` by the module they must now come from."""
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for name, alias in names:
        if name != "*" and tree.is_module_ref(base, name):
            new = MOVES[f"{base}.{name}"]
            parent, last = new.rsplit(".", 1)
            bound = alias or name
            groups.setdefault(parent, []).append((last, None if bound == last else bound))
        elif name != "*" and f"{base}.{name}" in TARGETS:
            groups.setdefault(base, []).append((name, alias))
        else:
            groups.setdefault(map_dotted(base) if base in MOVES else base, []).append((name, alias))
    return list(groups.items())


def _names_text(names: list[tuple[str, str | None]]) -> str:
    return ", ".join(n if a is None else f"{n} as {a}" for n, a in names)


def rewrite_python(
    text: str, tree: Tree, old_module: str | None, new_module: str | None, is_package: bool
) -> str:
    """Rewrite the ``from ... import`` statements of one Python file."""
    try:
        parsed = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lineno: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets
        line = lines[lineno - 1]
        return offsets[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))

    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(parsed):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level and not old_module:
            continue
        base = resolve(old_module or "", is_package, node.level, node.module)
        if not _is_prefix("workbench", base):
            continue
        names = [(a.name, a.asname) for a in node.names]
        groups = plan_import(tree, base, names)
        here = new_module or old_module or ""

        def render(module: str, level: int = node.level, here: str = here) -> str:
            return relative(here, is_package, module) if level else module

        start, end = pos(node.lineno, node.col_offset), pos(node.end_lineno, node.end_col_offset)
        original = text[start:end]
        if len(groups) == 1 and groups[0][1] == names:
            new_from = render(groups[0][0])
            old_from = "." * node.level + (node.module or "")
            if new_from == old_from:
                continue
            m = re.match(r"from\s+" + re.escape(old_from) + r"\s+import", original)
            if m is None:
                continue
            edits.append((start, start + m.end(), f"from {new_from} import"))
            continue
        indent = " " * node.col_offset
        statements = [f"from {render(mod)} import {_names_text(ns)}" for mod, ns in groups]
        edits.append((start, end, ("\n" + indent).join(statements)))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def rewrite_text(text: str, tree: Tree) -> str:
    """Dotted names, file paths and single-line ``from workbench... import`` anywhere."""

    def from_line(m: re.Match[str]) -> str:
        base = m.group(1)
        names = []
        for item in m.group(2).split(", "):
            name, _, alias = item.partition(" as ")
            names.append((name, alias or None))
        groups = plan_import(tree, base, names)
        if len(groups) == 1 and groups[0][0] == base and groups[0][1] == names:
            return m.group(0)
        return "; ".join(f"from {mod} import {_names_text(ns)}" for mod, ns in groups)

    text = _FROM_LINE.sub(from_line, text)
    text = _FROM_PAREN.sub(lambda m: f"from {map_dotted(m.group(1))} import (", text)
    text = _DOTTED.sub(lambda m: map_dotted(m.group(0)), text)

    def path(m: re.Match[str]) -> str:
        mod = module_of(m.group(0))
        if mod is None or mod not in MOVES or already_new(mod):
            return m.group(0)
        return path_of(MOVES[mod])

    return _PATH.sub(path, text)


def scanned_files() -> list[str]:
    listed = _git(
        "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *ROOTS, *TOP_FILES
    )
    files = sorted({p for p in listed.split("\0") if p})
    return [
        p
        for p in files
        if Path(p).is_file() and Path(p).suffix in TEXT_SUFFIXES and "tools/relayout.py" != p
    ]


def main() -> int:
    if not Path("workbench/__init__.py").is_file():
        print("run from the repository root", file=sys.stderr)
        return 2
    files = scanned_files()
    sources = {p: Path(p).read_text("utf-8") for p in files}
    tree = Tree(sources)

    # 1. moves
    renamed: dict[str, str] = {}
    for old, new in sorted(MOVES.items()):
        src, dst = Path(path_of(old)), Path(path_of(new))
        if src.is_file() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            _git("mv", str(src), str(dst))
            renamed[str(src)] = str(dst)
            print(f"moved {src} -> {dst}")
    for package, doc in sorted(NEW_PACKAGES.items()):
        init = Path(path_of(package, package=True))
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(doc, "utf-8")
            _git("add", str(init))
            print(f"created {init}")

    # 2. references
    changed: list[str] = []
    for old_path, text in sources.items():
        new_path = renamed.get(old_path, old_path)
        old_mod = module_of(old_path)
        new_mod = module_of(new_path)
        is_package = old_path.endswith("__init__.py")
        new_text = text
        if old_path.endswith(".py"):
            new_text = rewrite_python(new_text, tree, old_mod, new_mod, is_package)
        new_text = rewrite_text(new_text, tree)
        if new_text != text:
            Path(new_path).write_text(new_text, "utf-8")
            changed.append(new_path)
            print(f"rewrote {new_path}")

    # 3. tidy the Python files touched
    py = [p for p in changed if p.endswith(".py")]
    if py:
        ruff = [sys.executable, "-m", "ruff"]
        subprocess.run([*ruff, "check", "--select", "I", "--fix", "--quiet", *py], check=False)
        subprocess.run([*ruff, "format", "--quiet", *py], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
