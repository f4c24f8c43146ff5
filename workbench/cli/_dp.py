"""``workbench dp``: differentially private releases, accuracy before spending, the ledger.

Exit codes: 0 released (or shown), 1 the release would exceed the population's budget (refused
before any noise is drawn, nothing written), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import print_json


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _add_release_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data", nargs="?", help="data file, or a catalog dataset / combination a+b with --catalog"
    )
    p.add_argument("--catalog", metavar="CATALOG.yaml", help="catalog naming the datasets")
    p.add_argument(
        "--privacy-unit",
        required=True,
        metavar="COL|row",
        help="column identifying a person (or 'row' when rows are people); required",
    )
    p.add_argument(
        "--max-contributions",
        type=int,
        required=True,
        metavar="N",
        help="rows kept per person (at random); sensitivity follows from it",
    )
    p.add_argument("--count", action="store_true", help="release counts")
    p.add_argument("--by", action="append", default=[], metavar="COLS", help="group-by columns")
    p.add_argument("--sum", action="append", default=[], metavar="COL", help="sum of a column")
    p.add_argument("--mean", action="append", default=[], metavar="COL", help="mean of a column")
    p.add_argument(
        "--bounds",
        action="append",
        default=[],
        metavar="COL=LOW:HIGH",
        help="clamping bounds (given by you, never taken from the data)",
    )
    p.add_argument(
        "--quantile", action="append", default=[], metavar="COL=Q", help="quantile, e.g. age=0.5"
    )
    p.add_argument(
        "--keys",
        action="append",
        default=[],
        metavar="COL=a,b,c|COL=@hierarchy.csv",
        help="public group keys (default: the catalog's codes/order)",
    )
    p.add_argument(
        "--select-keys",
        action="store_true",
        help="select group keys privately (stability threshold; needs --delta)",
    )
    p.add_argument("--epsilon", type=float, required=True, help="epsilon of this release")
    p.add_argument("--delta", type=float, default=0.0, help="delta (Gaussian noise, --select-keys)")
    p.add_argument("--noise", choices=("laplace", "gaussian"), default="laplace")
    p.add_argument("--quantile-grid", type=int, default=101, help="quantile candidates")
    p.add_argument("--json", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dp",
        help="differentially private releases and the privacy-loss ledger",
        description="Differentially private counts, histograms, sums, means and quantiles per "
        "person (OpenDP), charged to the population's privacy-loss ledger.",
    )
    dsub = p.add_subparsers(dest="dp_command", metavar="ACTION", required=True)

    r = dsub.add_parser("release", help="release statistics and charge the ledger")
    _add_release_arguments(r)
    r.add_argument("--ledger", required=True, metavar="LEDGER.jsonl", help="population ledger")
    r.add_argument("--population", help="population of the data (outside a catalog)")
    r.add_argument(
        "--budget",
        metavar="EPSILON[,DELTA]",
        help="budget of a new ledger when the data has no policy (an existing one: only lower)",
    )
    r.add_argument(
        "--policy", action="append", default=[], metavar="POLICY.yaml", help="data's policy"
    )
    r.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    r.add_argument("--spark-master", metavar="URL", help="Spark master (default local[2])")
    r.add_argument(
        "--spark-remote", metavar="sc://HOST:PORT", help="a Spark Connect server to run on"
    )
    r.add_argument("--output", metavar="release.csv", help="write the statistics as CSV")
    r.add_argument("--bundle", metavar="B.json", help="write the release and ledger as JSON")
    r.add_argument("--user", help="acting person (default WORKBENCH_USER / USER)")
    r.set_defaults(func=_release)

    a = dsub.add_parser("accuracy", help="expected error at an epsilon; spends nothing")
    _add_release_arguments(a)
    a.add_argument(
        "--epsilons",
        default="0.05,0.1,0.2,0.5,1,2,4",
        help="epsilons for the error-against-epsilon table",
    )
    a.add_argument("--chart", metavar="OUT.html", help="write the error-against-epsilon chart")
    for ignored in ("--ledger", "--population", "--budget", "--output", "--bundle"):
        a.add_argument(ignored, help=argparse.SUPPRESS)
    a.add_argument("--policy", action="append", default=[], help=argparse.SUPPRESS)
    for ignored in ("--engine", "--spark-master", "--spark-remote"):
        a.add_argument(ignored, help=argparse.SUPPRESS)
    a.set_defaults(func=_accuracy)

    lg = dsub.add_parser("ledger", help="show a population's ledger")
    lg.add_argument("ledger", metavar="LEDGER.jsonl")
    lg.add_argument(
        "--add-exposure",
        metavar="KIND",
        help="list a non-DP release (k-anonymous extract, linkage result, synthetic data)",
    )
    lg.add_argument("--name", help="name of the non-DP release (file or title)")
    lg.add_argument(
        "--add-bundle",
        metavar="BUNDLE.json",
        help="list the non-DP release an assessment bundle describes, with its risk figures",
    )
    lg.add_argument(
        "--risk",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="risk figure of the non-DP release (repeat), e.g. k=5",
    )
    lg.add_argument("--dataset", action="append", default=[], help="source dataset (repeat)")
    lg.add_argument("--department", action="append", default=[], help="department (repeat)")
    lg.add_argument("--json", action="store_true")
    lg.set_defaults(func=_ledger)


def _spec_args(args: argparse.Namespace) -> dict[str, Any]:
    from ..dp import parse_bounds, parse_keys
    from ..errors import ParameterError

    quantiles = []
    for item in args.quantile:
        col, sep, q = item.rpartition("=")
        try:
            quantiles.append((col, float(q)))
        except ValueError:
            raise ParameterError("--quantile", item, "COL=Q with 0 < Q < 1") from None
        if not sep or not col:
            raise ParameterError("--quantile", item, "COL=Q with 0 < Q < 1")
    return {
        "privacy_unit": args.privacy_unit,
        "max_contributions": args.max_contributions,
        "epsilon": args.epsilon,
        "delta": args.delta,
        "count": args.count,
        "by": _split(args.by),
        "sums": _split(args.sum),
        "means": _split(args.mean),
        "bounds": parse_bounds(args.bounds),
        "quantiles": quantiles,
        "keys": parse_keys(args.keys),
        "select_keys": args.select_keys,
        "noise": args.noise,
        "quantile_grid": args.quantile_grid,
    }


def _spark_frame(args: argparse.Namespace) -> Any:
    from .._extras import require
    from ..errors import ParameterError

    require("pyspark", "`workbench dp release --engine spark`")
    from pyspark.sql import SparkSession

    path = args.data
    if args.spark_master and args.spark_remote:
        raise ParameterError("spark-remote", args.spark_remote, "not with --spark-master")
    if args.spark_remote:
        from pyspark.sql.connect.session import SparkSession as RemoteSparkSession

        builder = RemoteSparkSession.builder.remote(args.spark_remote)
    else:
        builder = SparkSession.builder.master(args.spark_master or "local[2]")
    spark = builder.appName("workbench-dp").getOrCreate()
    if path.lower().endswith(".parquet"):
        return spark.read.parquet(path)
    return spark.read.option("header", True).csv(path)


def _release(args: argparse.Namespace) -> int:
    from ..errors import BudgetExceededError, ParameterError

    if not args.data:
        raise ParameterError("DATA", None, "a data file or a catalog dataset")
    data: Any = args.data
    if args.engine == "spark":
        data = _spark_frame(args)
    try:
        result = _release_with(data, args)
    except BudgetExceededError as exc:
        print(f"workbench dp release: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.engine == "spark":  # the Spark JVM never outlives the command
            data.sparkSession.stop()
    return _print_release(result, args)


def _release_with(data: Any, args: argparse.Namespace) -> Any:
    from ..dp import dp_release

    return dp_release(
        data,
        ledger=args.ledger,
        catalog=args.catalog,
        population=args.population,
        budget=args.budget,
        policies=args.policy,
        engine=args.engine,
        output=args.output,
        bundle=args.bundle,
        user=args.user,
        **_spec_args(args),
    )


def _print_release(result: Any, args: argparse.Namespace) -> int:
    if args.json:
        print_json(result.to_dict())
        return 0
    doc = result.to_dict()
    print(doc["contribution_bounding"])
    print(f"Mechanism: {doc['mechanism']}; keys: {doc['keys']}")
    for s in result.statistics:
        group = ", ".join(f"{k}={v}" for k, v in s.group.items())
        ci = "" if s.ci95 is None else f"  95 % CI [{s.ci95[0]:.6g}, {s.ci95[1]:.6g}]"
        what = s.statistic if s.column is None else f"{s.statistic}({s.column})"
        print(f"{what:<18} {group:<30} {s.value if s.value is not None else '-'}{ci}")
    b = doc["budget"]
    print(
        f"Spent epsilon {doc['epsilon_spent']:.4g}; ledger {doc['ledger']['path']}: budget "
        f"epsilon {b['epsilon']:g} (delta {b['delta']:g}), remaining {b['remaining_epsilon']:.4g}"
    )
    for note in doc["notes"]:
        print(f"Note: {note}")
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from ..dp import dp_accuracy, error_curve
    from ..errors import ParameterError

    report = dp_accuracy(args.data, catalog=args.catalog, **_spec_args(args))
    try:
        eps = [float(e) for e in args.epsilons.split(",") if e.strip()]
    except ValueError:
        raise ParameterError("--epsilons", args.epsilons, "comma-separated numbers") from None
    curve = error_curve(report.plan.spec, eps)
    if args.chart:
        from .._io import atomic_write_text
        from ..dp.charts import error_vs_epsilon

        fig = error_vs_epsilon(curve, chosen=args.epsilon)
        atomic_write_text(args.chart, fig.to_html(include_plotlyjs=True, full_html=True))
    if args.json:
        print_json({**report.to_dict(), "error_curve": curve})
        return 0
    for line in report.words():
        print(line)
    print("\nError (95 %) against epsilon:")
    labels = list(dict.fromkeys(r["statistic"] for r in curve))
    print(f"{'epsilon':>8}  " + "  ".join(f"{lab:>22}" for lab in labels))
    for e in sorted({r["epsilon"] for r in curve}):
        vals = {r["statistic"]: r["error95"] for r in curve if r["epsilon"] == e}
        cells = "  ".join(
            f"{vals[lab]:>22.4g}" if vals.get(lab) is not None else f"{'-':>22}" for lab in labels
        )
        print(f"{e:>8g}  {cells}")
    print("\nNothing was spent.")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    from ..dp import Ledger
    from ..errors import ParameterError

    led = Ledger(args.ledger)
    if args.add_bundle:
        from ..dp._api import exposure_from_bundle

        led.record_exposure(
            population=led.state().population, **exposure_from_bundle(args.add_bundle)
        )
    if args.add_exposure:
        risk: dict[str, Any] = {}
        for item in args.risk:
            k, sep, v = item.partition("=")
            if not sep or not k:
                raise ParameterError("--risk", item, "NAME=VALUE")
            try:
                risk[k] = float(v)
            except ValueError:
                risk[k] = v
        led.record_exposure(
            args.add_exposure,
            args.name or "",
            risk,
            population=led.state().population,
            datasets=args.dataset,
            departments=args.department,
        )
    state = led.state()
    if args.json:
        print_json(state.to_dict())
        return 0
    b = state.budget
    print(f"Ledger {state.path} — population {state.population!r}")
    print(
        f"Budget epsilon {b.epsilon:g}, delta {b.delta:g} ({state.budget_source or 'given'}); "
        f"spent epsilon {state.spent.epsilon:.4g} ({state.spent.bound}), remaining "
        f"{state.remaining_epsilon:.4g}{' — EXHAUSTED' if state.exhausted else ''}"
    )
    for e in state.entries:
        print(
            f"  #{e.seq} {e.timestamp} {', '.join(e.departments) or '-'}: {e.description} "
            f"(epsilon {e.charge.epsilon:.4g}, rho {e.charge.rho:.4g})"
        )
    for x in state.exposures:
        figures = ", ".join(f"{k}={v}" for k, v in x.risk.items())
        print(f"  non-DP #{x.seq} {x.kind}: {x.name} ({figures})")
    return 0
