"""The core runs without the optional extras, and a command that needs one says which.

A subprocess hides the extras' modules behind an import blocker (the same effect as a core-only
install) and runs the CLI: the ETL commands must work, the others must fail with exit 2 and a
message naming the extra, never a raw ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench._extras import EXTRA_OF, extra_for, require
from workbench.errors import MissingExtraError, WorkbenchError

ROOT = Path(__file__).resolve().parents[1]
BLOCKED = (
    "plotly",
    "ipywidgets",
    "IPython",
    "ipykernel",
    "jupyterlab",
    "voila",
    "splink",
    "pyspark",
    "opendp",
    "polars",
)

RUNNER = """
import sys, importlib.abc
BLOCKED = set(sys.argv[1].split(","))
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Block())
from workbench.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _run(tmp_path: Path, *argv: str, blocked: tuple[str, ...] = BLOCKED):
    env = dict(os.environ, WORKBENCH_PROVENANCE=str(tmp_path / "prov.jsonl"))
    return subprocess.run(
        [sys.executable, "-c", RUNNER, ",".join(blocked), *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )


@pytest.fixture()
def small_csv(tmp_path: Path) -> Path:
    rows = ["age,sex,zip,diagnosis"] + [
        f"{20 + i % 7},{'MF'[i % 2]},{1000 + i % 3},{'abc'[i % 3]}" for i in range(40)
    ]
    path = tmp_path / "small.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_core_commands_run_without_extras(tmp_path: Path, small_csv: Path) -> None:
    for argv in (
        ("--help",),
        ("profile", str(small_csv), "--json"),
        ("assess", str(small_csv), "--qi", "age,sex,zip", "--json"),
        (
            "anonymize",
            str(small_csv),
            "--qi",
            "age,sex,zip",
            "--k",
            "2",
            "--json",
            "--output",
            str(tmp_path / "anon.csv"),
        ),
        (
            "check",
            str(small_csv),
            "--qi",
            "age,sex,zip",
            "--json",
            "--purpose",
            "treatment",
            "--policy",
            str(ROOT / "data" / "samples" / "city" / "policies" / "clinic.yaml"),
        ),
        ("provenance", "verify", "--json"),
    ):
        out = _run(tmp_path, *argv)
        assert "Traceback" not in out.stderr, (argv, out.stderr[-2000:])
        assert out.returncode in (0, 1), (argv, out.returncode, out.stderr[-2000:])
    assert (tmp_path / "anon.csv").exists()


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (("report", "{bundle}", "--output", "{tmp}/r.html"), "app"),
    ],
)
def test_commands_needing_an_extra_name_it(
    tmp_path: Path, argv: tuple[str, ...], extra: str
) -> None:
    bundle = tmp_path / "b.json"
    bundle.write_text("{}", encoding="utf-8")
    args = [a.format(bundle=bundle, tmp=tmp_path) for a in argv]
    out = _run(tmp_path, *args)
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "Traceback" not in out.stderr
    assert f"[{extra}]" in out.stderr and f"{extra!r} extra" in out.stderr, out.stderr


def test_probabilistic_linkage_names_the_linkage_extra(tmp_path: Path) -> None:
    city = ROOT / "data" / "samples" / "city"
    out = _run(
        tmp_path,
        "link",
        str(city / "clinic_visits.csv"),
        str(city / "voter_roll.csv"),
        "--catalog",
        str(city / "catalog.yaml"),
        "--probabilistic",
        "--json",
        blocked=("splink",),
    )
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert "'linkage' extra" in out.stderr and "[linkage]" in out.stderr
    assert "Traceback" not in out.stderr


def test_require_and_extra_for() -> None:
    assert require("json").__name__ == "json"
    with pytest.raises(ModuleNotFoundError):  # not one of ours: the raw error stays
        require("no_such_module_xyz")
    exc = ModuleNotFoundError("No module named 'splink.x'", name="splink.x")
    assert extra_for(exc) == "linkage"
    assert extra_for(ModuleNotFoundError("x", name="numpy")) is None
    err = MissingExtraError("dp", "opendp", "a DP release")
    assert isinstance(err, WorkbenchError) and isinstance(err, ModuleNotFoundError)
    assert "pip install 'privacy-risk-workbench[dp]'" in str(err)


def test_every_extra_module_is_declared_in_pyproject() -> None:
    """The table of extras and pyproject's extras name the same packages (no drift)."""
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = " ".join(meta["dependencies"]).lower()
    extras = meta["optional-dependencies"]
    dist = {"IPython": "ipykernel", "jupyter_server": "jupyterlab", "sklearn": "scikit-learn"}
    for module, extra in EXTRA_OF.items():
        package = dist.get(module, module).lower()
        assert package not in core, f"{package} is in the core dependencies"
        assert any(package in d.lower() for d in extras[extra]), (module, extra)


UI_ROOTS = {"ipywidgets", "IPython", "ipykernel", "voila", "jupyterlab", "jupyter_server"}


def test_core_never_imports_ui_even_inside_functions() -> None:
    """Read every import statement of the core (module level and inside functions)."""
    offenders = []
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        rel = path.relative_to(ROOT / "workbench")
        if rel.parts[0] == "ui":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level > 0:
                if node.module.split(".")[0] == "ui" and rel.parts[0] != "cli":
                    offenders.append(f"{rel}:{node.lineno} imports workbench.ui")
            for n in names:
                if n.split(".")[0] in UI_ROOTS:
                    offenders.append(f"{rel}:{node.lineno} imports {n}")
    assert offenders == [], offenders
