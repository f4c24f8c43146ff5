"""``workbench synth``: DP synthetic data (MST/AIM via OpenDP), and ``synth evaluate`` to judge it.

Two forms share the sub-command (the issue's interface)::

    workbench synth DATA --method mst --epsilon E [--delta D] --privacy-unit COL|row \\
        --rows N --ledger LEDGER --output synth.csv [--bundle B.json] --json
    workbench synth evaluate REAL SYNTH --holdout HOLDOUT [--attacker voters.csv --truth COL]

The generator writes the synthetic table and, next to it, ``<output>.synth.json`` (method,
budget, privacy unit, columns, bins: never a value of the data) that ``evaluate`` reads to bin the
real tables the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ParameterError

_DESCRIPTION = (
    "Generate a differentially private synthetic table with OpenDP's MST or AIM, charged to the "
    "population's privacy-loss ledger; or judge one: `workbench synth evaluate REAL SYNTH "
    "--holdout HOLDOUT [--attacker VOTERS --truth COL] [--release KANON]` (fidelity and the "
    "singling-out, linkability, inference, distance-to-closest-record and linkage attacks)."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "synth",
        help="DP synthetic data (MST/AIM), and `synth evaluate` to judge it by attacks",
        description=_DESCRIPTION,
    )
    p.add_argument("rest", nargs=argparse.REMAINDER, help="DATA [options] | evaluate ...")
    p.set_defaults(func=run)


def _generate_parser() -> argparse.ArgumentParser:
    g = argparse.ArgumentParser(prog="workbench synth", description=_DESCRIPTION)
    g.add_argument("data", metavar="DATA")
    g.add_argument("--method", choices=["mst", "aim"], default="mst")
    g.add_argument("--epsilon", type=float, required=True)
    g.add_argument("--delta", type=float, default=0.0)
    g.add_argument("--columns", required=True, help="comma-separated columns to synthesize")
    g.add_argument(
        "--keys",
        action="append",
        default=[],
        metavar="COL=a|b|c",
        help="public categories of a column (repeat); values outside become missing",
    )
    g.add_argument(
        "--bins",
        action="append",
        default=[],
        metavar="COL=e1,e2,...",
        help="public bin edges of a numeric column (repeat); never read from the data",
    )
    g.add_argument(
        "--hierarchy",
        action="append",
        default=[],
        metavar="COL=FILE[:LEVEL]",
        help="published hierarchy (ARX CSV) of a column (repeat): the column is generalized to "
        "LEVEL (default 0, the leaves) and that level's values are its domain",
    )
    g.add_argument("--privacy-unit", default="row", help="person column, or 'row'")
    g.add_argument("--contributions", type=int, default=1, help="rows one unit may contribute")
    g.add_argument("--rows", type=int, help="rows to generate (default: the DP table size)")
    g.add_argument("--ledger", required=True, help="privacy-loss ledger of the population")
    g.add_argument("--population", help="population of the data (outside a catalog)")
    g.add_argument(
        "--budget", help="EPSILON[,DELTA] budget of a new ledger when no policy gives one"
    )
    g.add_argument("--policy", action="append", default=[], help="policy of the data (repeat)")
    g.add_argument("--catalog", help="catalog: DATA may then be a dataset name or a+b")
    g.add_argument("--output", required=True, metavar="SYNTH.csv")
    g.add_argument("--seed", type=int, default=0, help="seed of the per-unit truncation")
    g.add_argument("--json", action="store_true")
    return g


def _evaluate_parser() -> argparse.ArgumentParser:
    e = argparse.ArgumentParser(prog="workbench synth evaluate", description=_DESCRIPTION)
    e.add_argument("real", metavar="REAL", help="the training table the synthesis read")
    e.add_argument("synth", metavar="SYNTH")
    e.add_argument("--holdout", required=True, help="real records the generator never saw")
    e.add_argument("--spec", help="the generator's SYNTH.synth.json (default: next to SYNTH)")
    e.add_argument("--columns", help="columns to evaluate (default: the synthetic table's)")
    e.add_argument("--target", action="append", default=[], help="TSTR / inference target")
    e.add_argument("--attacker", help="named register for the linkage attack (voter roll)")
    e.add_argument("--truth", help="identity column of REAL and ATTACKER (scoring only)")
    e.add_argument("--release", help="a k-anonymous release of REAL (with --truth) to compare")
    e.add_argument("--on", default="auto", help="join fields for the linkage attack")
    e.add_argument("--attacks", type=int, default=500, help="attacks per evaluator")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument(
        "--bundle",
        metavar="B.json",
        help="write an assessment bundle with the fidelity and attack figures (for `workbench "
        "report` and the dashboard); leak-checked against REAL's direct identifiers",
    )
    e.add_argument("--json", action="store_true")
    return e


def _pairs(items: list[str], flag: str, split: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        col, sep, vals = item.partition("=")
        if not sep or not col.strip() or not vals:
            raise ParameterError(flag, "malformed", f"COL={split.join(['v1', 'v2'])}")
        out[col.strip()] = [v.strip() for v in vals.split(split)]
    return out


def _hierarchies(items: list[str]) -> dict[str, tuple[str, int]]:
    """``COL=FILE[:LEVEL]`` flags as ``{col: (file, level)}`` (the file must exist)."""
    out: dict[str, tuple[str, int]] = {}
    for item in items:
        col, sep, rest = item.partition("=")
        path, level = rest, "0"
        head, colon, tail = rest.rpartition(":")
        if colon and tail.isdigit():
            path, level = head, tail
        if not sep or not col.strip() or not Path(path).is_file():
            raise ParameterError(
                "hierarchy", item.partition("=")[0], "COL=FILE[:LEVEL], FILE existing"
            )
        out[col.strip()] = (path, int(level))
    return out


def run(args: argparse.Namespace) -> int:
    rest = list(args.rest)
    if rest and rest[0] == "evaluate":
        return _run_evaluate(_evaluate_parser().parse_args(rest[1:]))
    return _run_generate(args, _generate_parser().parse_args(rest))


def _run_generate(outer: argparse.Namespace, a: argparse.Namespace) -> int:
    from .._io import atomic_write_text, write_table
    from ..errors import BudgetExceededError
    from ..governance.catalog import Catalog
    from ..synth.generate import synth_release
    from . import _check_provenance_writable, print_json, record

    cols = [c.strip() for c in a.columns.split(",") if c.strip()]
    bins: dict[str, list[float]] = {}
    for col, edges in _pairs(a.bins, "bins", ",").items():
        try:
            bins[col] = [float(x) for x in edges]
        except ValueError:
            raise ParameterError(f"bins[{col}]", "not numbers", "numeric edges") from None
    keys = _pairs(a.keys, "keys", "|")
    hierarchies = _hierarchies(a.hierarchy)
    _check_provenance_writable()
    catalog = Catalog.load(a.catalog) if a.catalog else None
    try:
        res = synth_release(
            a.data,
            cols,
            ledger=a.ledger,
            population=a.population,
            budget=a.budget,
            policies=a.policy,
            catalog=catalog,
            method=a.method,
            epsilon=a.epsilon,
            delta=a.delta,
            privacy_unit=a.privacy_unit,
            contributions=a.contributions,
            keys=keys,
            bins=bins,
            hierarchies=hierarchies,
            rows=a.rows,
            seed=a.seed,
        )
    except BudgetExceededError as exc:
        print(f"workbench synth: refused: {exc}", file=sys.stderr)
        return 1
    doc = res.to_dict()
    sources = [a.data] if Path(a.data).is_file() else []
    out = write_table(a.output, res.data, sources=sources)
    spec = Path(str(out) + ".synth.json")
    atomic_write_text(spec, json.dumps(doc, indent=2) + "\n")
    # no recipe to replay: running it again would spend the budget again
    outer._argv = []
    record(outer, "synthesize", inputs=sources, outputs=[str(out), str(spec)], parameters=doc)
    doc = {"output": str(out), "spec": str(spec), **doc}
    if a.json:
        print_json(doc)
    else:
        print(
            f"{a.method.upper()} synthetic table of {len(res.data):,} rows written to {out} "
            f"(epsilon {res.epsilon:g}, delta {res.delta:g}, unit {res.privacy_unit})"
        )
    return 0


def _run_evaluate(a: argparse.Namespace) -> int:
    from ..loading.readers import load
    from ..synth.evaluate import evaluate
    from . import print_json

    spec_path = Path(a.spec) if a.spec else Path(a.synth + ".synth.json")
    bins: dict[str, Any] = {}
    hierarchies: dict[str, Any] = {}
    spec_cols = None
    if spec_path.is_file():
        if spec_path.stat().st_size > 1 << 20:
            raise ParameterError("spec", str(spec_path), "a synthesis record under 1 MiB")
        try:
            spec = json.loads(spec_path.read_text(encoding="utf-8"))
            bins = {str(k): [float(x) for x in v] for k, v in dict(spec.get("bins", {})).items()}
            spec_cols = [str(c) for c in spec.get("columns", [])] or None
            hierarchies = {
                str(col): (str(h.get("source") or ""), int(h.get("level", 0)))
                for col, h in dict(spec.get("hierarchies") or {}).items()
            }
        except (ValueError, TypeError, AttributeError):
            raise ParameterError("spec", str(spec_path), "the JSON written by `synth`") from None
    elif a.spec:
        raise ParameterError("spec", a.spec, "an existing file")
    for col, (source, _) in hierarchies.items():
        if not source or not Path(source).is_file():
            raise ParameterError(
                "spec", str(spec_path), f"the hierarchy file of column {col!r} readable"
            )
    cols = [c.strip() for c in a.columns.split(",")] if a.columns else spec_cols
    if (a.attacker is None) != (a.truth is None):
        raise ParameterError("attacker/truth", "one of them", "both --attacker and --truth")
    res = evaluate(
        load(a.real),
        load(a.synth),
        load(a.holdout),
        cols,
        bins=bins,
        hierarchies=hierarchies,
        targets=a.target,
        attacker=load(a.attacker) if a.attacker else None,
        truth=a.truth,
        release=load(a.release) if a.release else None,
        on=a.on,
        n_attacks=a.attacks,
        seed=a.seed,
    )
    doc = res.to_dict()
    if a.bundle:
        _write_bundle(a, doc)
    if a.json:
        print_json(doc)
        return 0
    f = doc["fidelity"]
    print(
        f"fidelity: one-way TV mean {f['one_way_tv_mean']:.3f}, two-way TV mean "
        f"{f['two_way_tv_mean']:.3f}"
    )
    for t in f["train_synthetic_test_real"]:
        print(
            f"  TSTR {t['target']}: synthetic {t['accuracy_synthetic']:.3f} vs real "
            f"{t['accuracy_real']:.3f} (majority {t['accuracy_majority']:.3f})"
        )
    for at in doc["privacy"]["attacks"]:
        lo, hi = at["risk_ci"]
        print(
            f"{at['attack']}: risk {at['risk']:.3f} [{lo:.3f}, {hi:.3f}]  main "
            f"{at['main']['rate']:.3f} control {at['control']['rate']:.3f} baseline "
            f"{at['baseline']['rate']:.3f}"
        )
    d = doc["privacy"]["distance_to_closest_record"]
    print(
        f"DCR: closer to training {d['share_closer_to_training']:.3f}; exact copies "
        f"training {d['share_dcr_zero_training']:.3f} / holdout {d['share_dcr_zero_holdout']:.3f}"
    )
    return 0


def _write_bundle(a: argparse.Namespace, doc: dict[str, Any]) -> None:
    """A bundle holding the evaluation (aggregates only), leak-checked against REAL."""
    from ..loading.readers import load
    from ..synth.evaluate import write_bundle

    sources = [a.real, a.synth, a.holdout, a.attacker, a.release]
    write_bundle(
        a.bundle, doc, load(a.real), f"Synthetic data review: {Path(a.synth).name}", sources
    )
