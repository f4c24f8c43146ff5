"""Tests that catch drift: a rule changed in one place, a new model without a limit test, the
core reaching into the UI, an exception defined outside ``errors.py`` (issue #11).

Each test here was checked to fail on a mutation of the code it guards (see the docstrings).
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

import workbench
from workbench.governance import Policy, gate
from workbench.models import MODELS
from workbench.risk.measures import journalist_risk

ROOT = Path(workbench.__file__).parent
TESTS = Path(__file__).parent


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


# ------------------------------------------------------- every policy threshold at its exact limit
def _frame() -> pd.DataFrame:
    """Classes (zip): a = {flu, flu, cold} (3 records), b = {flu, cold, cold, asthma} (4)."""
    return pd.DataFrame(
        {
            "zip": ["a", "a", "a", "b", "b", "b", "b"],
            "diagnosis": ["flu", "flu", "cold", "flu", "cold", "cold", "asthma"],
        }
    )


def _with_uniques() -> pd.DataFrame:
    """Two sample uniques (c, d) and a class of 5: population uniqueness is above zero."""
    return pd.DataFrame({"zip": ["c", "d"] + ["e"] * 5, "diagnosis": ["flu", "cold"] + ["x"] * 5})


_POPULATION = pd.DataFrame({"zip": ["a"] * 5 + ["b"] * 9 + ["z"] * 100})  # F_a = 5, F_b = 9
_RESEARCH = pd.DataFrame({"zip": ["a", "b", "b"]})  # delta_a = 1/3, delta_b = 2/4
_T_A = 5 / 21  # equal-distance EMD of class a (the larger of the two; see test_models_policy)
_D_MAX = math.log(7 / 4)  # delta-disclosure of class b's asthma
_BELOW = float(np.nextafter(1 / 3, 0))

# policy key -> [(thresholds, gate keyword tables, frame, rule, status)], one case on each side
# of the limit, with limits other than the defaults. A new registered model needs cases here.
AT_LIMIT: dict[str, list[tuple]] = {
    "min_k": [
        ({"min_k": 3}, {}, _frame, "min_k", "pass"),  # smallest class 3: exactly at the limit
        ({"min_k": 4}, {}, _frame, "min_k", "fail"),
    ],
    "max_highest_risk": [
        ({"max_highest_risk": 1 / 3}, {}, _frame, "max_highest_risk", "pass"),
        ({"max_highest_risk": _BELOW}, {}, _frame, "max_highest_risk", "fail"),
    ],
    "max_average_risk": [
        ({"max_average_risk": 2 / 7}, {}, _frame, "max_average_risk", "pass"),  # 2 classes / 7
        (
            {"max_average_risk": float(np.nextafter(2 / 7, 0))},
            {},
            _frame,
            "max_average_risk",
            "fail",
        ),
    ],
    "max_records_at_risk": [
        # class a's risk 1/3 is exactly at the threshold: not above it, nobody at risk
        ({"max_records_at_risk": {"share": 0.0, "threshold": 1 / 3}}, {}, _frame, None, "pass"),
        ({"max_records_at_risk": {"share": 0.0, "threshold": _BELOW}}, {}, _frame, None, "fail"),
        # 3 of 7 records above 0.3: the share exactly at the limit passes
        ({"max_records_at_risk": {"share": 3 / 7, "threshold": 0.3}}, {}, _frame, None, "pass"),
        (
            {"max_records_at_risk": {"share": float(np.nextafter(3 / 7, 0)), "threshold": 0.3}},
            {},
            _frame,
            None,
            "fail",
        ),
    ],
    "min_l": [
        ({"min_l": {"diagnosis": 2}}, {}, _frame, "min_l[diagnosis]", "pass"),  # a: 2 distinct
        ({"min_l": {"diagnosis": 3}}, {}, _frame, "min_l[diagnosis]", "fail"),
    ],
    "max_t": [
        ({"max_t": {"diagnosis": _T_A}}, {}, _frame, "max_t[diagnosis]", "pass"),
        ({"max_t": {"diagnosis": _T_A - 1e-9}}, {}, _frame, "max_t[diagnosis]", "fail"),
    ],
    "max_delta_disclosure": [
        # strict definition (Brickell & Shmatikov): exactly at the limit fails
        (
            {"max_delta_disclosure": {"diagnosis": _D_MAX + 1e-9}},
            {},
            _frame,
            "max_delta_disclosure[diagnosis]",
            "pass",
        ),
        (
            {"max_delta_disclosure": {"diagnosis": _D_MAX}},
            {},
            _frame,
            "max_delta_disclosure[diagnosis]",
            "fail",
        ),
    ],
    "max_beta_likeness": [
        ({"max_beta_likeness": {"diagnosis": 0.75}}, {}, _frame, None, "pass"),  # b: 3/4
        ({"max_beta_likeness": {"diagnosis": 0.75 - 1e-9}}, {}, _frame, None, "fail"),
    ],
    "min_k_map": [
        ({"min_k_map": 5}, {"population_table": _POPULATION}, _frame, "min_k_map", "pass"),
        ({"min_k_map": 6}, {"population_table": _POPULATION}, _frame, "min_k_map", "fail"),
    ],
    "delta_presence": [
        (
            {"delta_presence": {"min": 1 / 3, "max": 0.5}},
            {"research_subset": _RESEARCH},
            _frame,
            "delta_presence",
            "pass",
        ),
        (  # the upper bound just below class b's 1/2 (beyond the model's 1e-12 slack)
            {"delta_presence": {"min": 0.1, "max": 0.5 - 1e-9}},
            {"research_subset": _RESEARCH},
            _frame,
            "delta_presence",
            "fail",
        ),
        (  # the lower bound just above class a's 1/3
            {"delta_presence": {"min": 1 / 3 + 1e-9, "max": 0.9}},
            {"research_subset": _RESEARCH},
            _frame,
            "delta_presence",
            "fail",
        ),
    ],
    "max_population_uniqueness": [],  # measured value first, then both sides: see below
}


def test_every_registered_policy_key_has_at_limit_cases() -> None:
    """Adding a privacy model with a policy key without adding its limit cases fails here."""
    keys = {m.policy_key for m in MODELS.values() if m.policy_key}
    assert keys == set(AT_LIMIT)


def _run(thresholds: dict, tables: dict, frame) -> dict:
    policy = Policy.from_dict(policy_doc(name="limits", thresholds=thresholds))
    res = gate(frame(), policy=policy, qis=["zip"], sensitive=["diagnosis"], record=False, **tables)
    return {f.rule: f.status for f in res.findings}


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize(
    ("thresholds", "tables", "frame", "rule", "status"),
    [case for cases in AT_LIMIT.values() for case in cases],
    ids=[f"{key}-{i}" for key, cases in AT_LIMIT.items() for i in range(len(cases))],
)
def test_gate_at_the_exact_limit(thresholds, tables, frame, rule, status) -> None:
    (key,) = thresholds
    got = _run(thresholds, tables, frame)
    rule = rule or next(r for r in got if r.startswith(key))
    assert got[rule] == status


@pytest.mark.usefixtures("isolated")
def test_population_uniqueness_at_its_limit() -> None:
    """The estimated share (Dankar et al. 2012 on classes 1, 1, 5 of a population of 50) as the
    limit passes; one floating-point step below fails."""
    from workbench.risk.population import population_uniqueness

    exact = population_uniqueness(np.array([1, 1, 5]), 50.0).dankar.uniques / 50.0
    assert 0 < exact < 1
    for limit, status in ((exact, "pass"), (float(np.nextafter(exact, 0)), "fail")):
        got = _run({"max_population_uniqueness": limit}, {"population_size": 50}, _with_uniques)
        assert got["max_population_uniqueness"] == status, limit


# ----------------------------------------------------------- journalist risk: the sample term wins
def test_journalist_average_when_the_sample_term_dominates() -> None:
    """Sample classes of 1 and 100 records, population classes of 2 and 100.

    classes / population = 2 / 102 = 0.0196 exceeds the marketer-style term
    (1/2 + 100/100) / 101 = 0.01485, so the average is the first (El Emam 2013, ARX); a version
    that always reported the second term (or swapped ``max`` for ``min``) fails here.
    """
    j = journalist_risk(np.array([1, 100]), np.array([2, 100]), threshold=0.3)
    assert j.average == pytest.approx(2 / 102)
    assert j.average > (0.5 + 1.0) / 101
    assert j.highest == 0.5
    assert j.records_at_risk == pytest.approx(1 / 101)  # 1/2 > 0.3; 1/100 is not


# ------------------------------------------------------------------------ the core/UI boundary
UI_PACKAGES = ("ipywidgets", "IPython", "ipykernel", "voila", "anywidget", "jupyter_server")


def _imported_modules(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """Every module an import statement names, anywhere in the file (functions included),
    relative imports resolved against the file's package (``module`` names the file when it
    is not inside the package)."""
    parts = module.split(".") if module else path.relative_to(ROOT.parent).with_suffix("").parts
    package = list(parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def test_core_never_imports_the_ui_even_inside_functions() -> None:
    """Reads the import statements of every core module (not only what one import loads), so
    an ``import ipywidgets`` inside a function of a core module fails here."""
    bad = []
    for path in _python_files(ROOT):
        if path.relative_to(ROOT).parts[0] == "ui":
            continue
        for line, mod in _imported_modules(path):
            top = mod.split(".")[0]
            if top in UI_PACKAGES or mod == "workbench.ui" or mod.startswith("workbench.ui."):
                bad.append(f"{path.relative_to(ROOT.parent)}:{line} imports {mod}")
    assert bad == []


def test_the_import_reader_sees_function_local_imports(tmp_path) -> None:
    """The reader above is not blind: a local ``from ..ui import x`` in a function is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..ui import panel\n    import ipywidgets\n")
    mods = [m for _, m in _imported_modules(probe, "workbench.deid.probe")]
    assert "workbench.ui.panel" in mods and "ipywidgets" in mods


# ------------------------------------------------------------ one exception hierarchy, exported
def test_every_exception_lives_in_errors_and_is_exported() -> None:
    """Public exception and warning classes are defined in ``workbench/errors.py`` and listed
    in its ``__all__`` (so ``workbench.XError`` works). The UI's dashboard-only errors (what a
    browser may see) and private control-flow exceptions are exempt."""
    from workbench import errors

    defined_elsewhere = []
    for path in _python_files(ROOT):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "ui" or rel.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = [ast.unparse(b) for b in node.bases]
            if any(b.endswith(("Error", "Exception", "Warning")) for b in bases):
                defined_elsewhere.append(f"{rel}: {node.name}")
    assert defined_elsewhere == []
    exceptions = [
        n
        for n, v in vars(errors).items()
        if isinstance(v, type)
        and issubclass(v, Exception | Warning)
        and v.__module__ == errors.__name__
    ]
    assert sorted(exceptions) == sorted(errors.__all__)
    assert all(getattr(workbench, n) is getattr(errors, n) for n in errors.__all__)


# ----------------------------------------------------- tests never skip the package's own modules
def test_no_importorskip_of_the_package_itself() -> None:
    """``pytest.importorskip("workbench...")`` would turn a broken module into a silent skip."""
    found = []
    for path in _python_files(TESTS):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).endswith("importorskip")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).split(".")[0] == "workbench"
            ):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []
