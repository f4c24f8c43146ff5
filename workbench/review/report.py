"""Render an assessment bundle: HTML tables shared by the dashboard and a standalone report.

Every number comes from :func:`workbench.review.figures.review_figures` (computed once from the bundle's
measured values): the verdict box, the risk table (before and after) and the privacy-gate table
render that one object, so they cannot disagree. A bundle is leak-checked again before it is
rendered (:func:`workbench.review.bundle.check_bundle`).

``sections(bundle)`` builds the content once (titles, HTML tables, plotly figures);
:func:`render_html` lays it out as one self-contained file (plotly.js inlined so the report works
offline, for people who only get an e-mail) and the Voila dashboard shows the same sections as
widgets. Only aggregates are rendered; every string is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from .._io import atomic_write_text, ensure_not_source
from ..errors import ConfigError, WorkbenchError
from ..models import MODELS
from . import charts
from .bundle import AssessmentBundle, check_bundle
from .figures import NOT_COMPUTED, ReviewFigures, headline_meanings, label, review_figures
from .figures import fmt as _fmt

__all__ = [
    "Section",
    "sections",
    "render_body",
    "render_html",
    "write_report",
    "table_html",
    "headline_rows",
]


@dataclass(frozen=True)
class Section:
    """One titled block of the review: an intro, tables and figures."""

    key: str
    title: str
    intro: str = ""
    tables: tuple[str, ...] = ()
    figures: tuple[go.Figure, ...] = field(default=(), repr=False)


def table_html(
    rows: Sequence[Sequence[Any]], header: Iterable[str] | None = None, css: str = "wb-table"
) -> str:
    """A small escaped HTML table."""
    out = [f'<table class="{css}">']
    header = list(header) if header is not None else None
    if header:
        out.append(
            "<thead><tr>"
            + "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
            + "</tr></thead>"
        )
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def headline_rows(risk: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) of every measure a risk profile holds, as the review shows them."""
    return [(f.label, f.before) for f in review_figures({"risk_before": risk}).figures]


def _datasets_section(b: AssessmentBundle) -> Section | None:
    if not b.datasets:
        return None
    rows = []
    for d in b.datasets:
        roles = d.get("roles") or {}
        by_role: dict[str, list[str]] = {}
        for col, role in roles.items():
            by_role.setdefault(str(role), []).append(col)
        rows.append(
            (
                d.get("name"),
                d.get("department"),
                d.get("records"),
                d.get("file"),
                (d.get("sha256") or "")[:12],
                ", ".join(by_role.get("quasi_identifier", [])),
                ", ".join(by_role.get("sensitive", [])),
                ", ".join(by_role.get("direct_identifier", [])),
            )
        )
    t = table_html(
        rows,
        [
            "dataset",
            "owner",
            "records",
            "file",
            "sha256",
            "quasi-identifiers",
            "sensitive",
            "direct identifiers (column names only)",
        ],
    )
    return Section("datasets", "Datasets and owners", tables=(t,))


def _risk_section(b: AssessmentBundle, figures: ReviewFigures) -> Section | None:
    before, after = b.risk_before, b.risk_after
    if not before and not after:
        return None
    if after:
        header = ["measure", "before", "after"]
        rows = [(f.label, f.cell("before"), f.cell("after")) for f in figures.figures]
    else:
        header = ["measure", "as assessed (no transformation)"]
        rows = [(f.label, f.cell("before")) for f in figures.figures]
    figs: list[go.Figure] = []
    if before and after:
        figs.append(charts.before_after(before, after))
    figs.append(charts.class_size_histogram(before or after))
    figs.append(charts.records_at_risk_curve(before or after))
    if after:
        figs.append(
            charts.class_size_histogram(after).update_layout(
                title="After: records by equivalence-class size"
            )
        )
    src = before or after or {}
    notes = []
    if src.get("suda"):
        figs.append(charts.suda_contributions(src["suda"]))
        notes.append(charts.SUDA_NOT_100)
    if src.get("subsets"):
        figs.append(charts.subset_uniqueness(src["subsets"]))
    pop = src.get("population") or {}
    if pop.get("size"):
        figs.append(charts.population_estimates(src))
    qis = ", ".join(src.get("qis") or [])
    intro = (
        (
            f"Quasi-identifiers assessed: {qis}. Missing values treated as "
            f"{src.get('missing', 'category')}."
        )
        if qis
        else ""
    )
    meanings = headline_meanings(after or before)
    words = (
        "<ul class='wb-meanings'>"
        + "".join(
            f"<li><b>{html.escape(name)}</b>: {html.escape(text)}</li>" for name, text in meanings
        )
        + "</ul>"
        if meanings
        else ""
    )
    return Section(
        "risk",
        "Re-identification risk",
        " ".join([intro, *notes]).strip(),
        tables=(table_html(rows, header, css="wb-table wb-risk"), words),
        figures=tuple(figs),
    )


# Risk figures the search reports about its own result: the risk table shows them (after), from
# the released table's profile; repeating the search's copy would be a second source.
_RISK_FIGURES = frozenset({"records", "classes", "min_class_size", "average_risk", "highest_risk"})


def _transformation_section(b: AssessmentBundle) -> Section | None:
    t = b.transformation
    if not t and not b.rationale:
        return None
    rows = [
        (label(k), v)
        for k, v in (t or {}).items()
        if (
            not isinstance(v, Mapping | list)
            or k in ("levels", "parameters", "qis", "hierarchies", "models")
        )
        and k not in _RISK_FIGURES
    ]
    intro = f"Rationale recorded by the privacy officer: {b.rationale}" if b.rationale else ""
    figs = []
    if b.frontier:
        figs.append(charts.frontier_chart(b.frontier))
    for col, dist in (b.distributions or {}).items():
        figs.append(
            charts.distribution_before_after(dist.get("before", {}), dist.get("after", {}), col)
        )
    return Section(
        "transformation",
        "Transformation",
        intro,
        tables=(table_html(rows, ["setting", "value"]),) if rows else (),
        figures=tuple(figs),
    )


def _utility_section(b: AssessmentBundle) -> Section | None:
    u = b.utility
    if not u:
        return None
    rows: list[tuple[str, Any]] = [
        (label(k), v)
        for k, v in u.items()
        if not isinstance(v, Mapping | list) and k != "information_loss"
    ]
    gl = u.get("generalization_loss")
    if isinstance(gl, Mapping):
        rows.append(
            (
                f"information loss ({gl.get('metric')} metric, 0 = none, 1 = all; "
                f"{gl.get('reference')})",
                gl.get("score"),
            )
        )
    il = u.get("information_loss")
    if isinstance(il, Mapping):
        rows.append(("IL1s information loss of numeric values (sdcMicro)", il.get("il1s")))
    elif not isinstance(gl, Mapping):
        rows.append(("information loss", NOT_COMPUTED))
    tables = [table_html(rows, ["utility measure", "value"])] if rows else []
    for key in ("attributes", "distribution_distance", "per_attribute"):
        per = u.get(key)
        if isinstance(per, Mapping) and per:
            tables.append(table_html([(k, v) for k, v in per.items()], ["attribute", label(key)]))
    stats = u.get("statistics") or u.get("downstream")
    if isinstance(stats, list) and stats:
        keys = [k for k in stats[0] if not isinstance(stats[0][k], Mapping | list)]
        tables.append(table_html([[s.get(k) for k in keys] for s in stats], map(label, keys)))
    return Section("utility", "Utility impact", tables=tuple(tables))


def _linkage_section(b: AssessmentBundle) -> Section | None:
    figs, tables = [], []
    if b.linkage:
        lk = b.linkage
        keys = [
            "released_records",
            "attacker_records",
            "shared_qis",
            "no_match",
            "one_match",
            "many_matches",
            "expected_reidentifications",
            "correct_unique_matches",
            "precision",
            "recall",
        ]
        tables.append(
            table_html([(label(k), lk.get(k)) for k in keys if k in lk], ["linkage", "value"])
        )
        figs.append(charts.linkage_outcome(lk))
    if b.matrix:
        figs.append(charts.join_risk_heatmap(b.matrix))
        rows = []
        for p in b.matrix.get("pairs") or []:
            adv = p.get("advice") or {}
            reasons = list(
                adv.get("reasons", []) if isinstance(adv, Mapping) else p.get("reasons") or []
            )
            rows.append(
                (
                    " + ".join(p.get("datasets", [])),
                    _pct(p.get("likelihood")),
                    p.get("harm"),
                    p.get("score"),
                    p.get("level"),
                    charts.join_risk_why(p),
                    charts.advice_label(adv),
                    " ".join(reasons[-2:]),
                )
            )
        tables.append(
            table_html(
                rows,
                [
                    "pair",
                    "likelihood (records singled out)",
                    "harm (0-1, most sensitive field exposed)",
                    "score",
                    "level",
                    "why it scores so",
                    "advice",
                    "advice in words",
                ],
            )
        )
    if not figs and not tables:
        return None
    return Section("linkage", "Cross-department linkage", tables=tuple(tables), figures=tuple(figs))


def _pct(x: Any) -> Any:
    """A share as a percentage (likelihoods are shares of records)."""
    return f"{100 * x:.1f} %" if isinstance(x, int | float) and not isinstance(x, bool) else x


def _scenarios_section(b: AssessmentBundle) -> Section | None:
    """The threat-scenario matrix, the worst scenario per release in plain words, and, when the
    release was re-assessed, whether the review is stale and what changed."""
    d = b.scenarios
    if not d:
        return None
    words = d.get("worst_in_words") or {}
    rows = [(r, str(w).split(": ", 1)[-1]) for r, w in words.items()]
    tables = [table_html(rows, ["release", "worst scenario"])]
    cells = [
        (
            o.get("release"),
            o.get("scenario"),
            f"{100 * float(o['risk']):.1f} %" if o.get("applicable") else "does not apply",
            o.get("summary"),
        )
        for o in d.get("outcomes") or []
    ]
    tables.append(table_html(cells, ["release", "scenario", "risk", "what it means"]))
    for r in (d.get("reassessment") or {}).get("releases") or []:
        tables.append(table_html([(r.get("status"), r.get("words"))], ["review status", "why"]))
    return Section(
        "scenarios",
        "Threat scenarios",
        tables=tuple(tables),
        figures=(charts.scenario_matrix_heatmap(d),),
    )


def _dp_section(b: AssessmentBundle) -> Section | None:
    """A DP release with its 95 % error bars, and the population's privacy-loss ledger: spend
    per release, the budget left, and the non-DP releases of the same people."""
    d = b.dp
    if not d:
        return None
    from ..dp.charts import ledger_spending, release_error_bars

    release, ledger = d.get("release") or {}, d.get("ledger") or {}
    figs = []
    if release:
        figs.append(release_error_bars(release))
    if ledger:
        figs.append(ledger_spending(ledger))
    budget = ledger.get("budget") or {}
    rows = [
        ("population", ledger.get("population")),
        ("privacy unit", release.get("privacy_unit")),
        ("max contributions per person", release.get("max_contributions")),
        ("epsilon spent by this release", release.get("epsilon_spent")),
        ("budget epsilon", budget.get("epsilon")),
        ("remaining epsilon", ledger.get("remaining_epsilon", budget.get("remaining_epsilon"))),
    ]
    tables = [table_html([r for r in rows if r[1] is not None], ["differential privacy", ""])]
    others = ledger.get("non_dp_releases") or []
    if others:
        keys = [k for k in others[0] if not isinstance(others[0][k], Mapping | list)]
        tables.append(table_html([[o.get(k) for k in keys] for o in others], map(label, keys)))
    return Section(
        "dp",
        "Differential privacy and the privacy-loss ledger",
        tables=tuple(tables),
        figures=tuple(figs),
    )


def _synthetic_section(b: AssessmentBundle) -> Section | None:
    """Synthetic data judged side by side: fidelity, the three attacks with their baselines and
    intervals, distance to closest record and the linkage attack (aggregates only)."""
    d = b.synthetic
    if not d:
        return None
    f = d.get("fidelity") or {}
    p = d.get("privacy") or {}
    tables = [
        table_html(
            [
                ("one-way total variation (mean)", f.get("one_way_tv_mean")),
                ("two-way total variation (mean)", f.get("two_way_tv_mean")),
            ],
            ["fidelity", ""],
        )
    ]
    tstr = f.get("train_synthetic_test_real") or []
    if tstr:
        tables.append(
            table_html(
                [
                    (
                        t.get("target"),
                        t.get("accuracy_synthetic"),
                        t.get("accuracy_real"),
                        t.get("accuracy_majority"),
                    )
                    for t in tstr
                ],
                ["target", "trained on synthetic", "trained on real", "majority class"],
            )
        )
    attacks = p.get("attacks") or []
    if attacks:
        tables.append(
            table_html(
                [
                    (
                        at.get("attack"),
                        at.get("risk"),
                        " - ".join(f"{x:.3f}" for x in at.get("risk_ci") or []),
                        (at.get("main") or {}).get("rate"),
                        (at.get("control") or {}).get("rate"),
                        (at.get("baseline") or {}).get("rate"),
                    )
                    for at in attacks
                ],
                ["attack", "risk", "95 % interval", "on training", "on holdout", "baseline"],
            )
        )
    dcr = p.get("distance_to_closest_record") or {}
    if dcr:
        tables.append(
            table_html(
                [(label(k), v) for k, v in sorted(dcr.items())], ["distance to closest record", ""]
            )
        )
    link = p.get("linkage") or {}
    if link:
        keys = [k for k in link if not isinstance(link[k], Mapping | list)]
        tables.append(table_html([(label(k), link[k]) for k in keys], ["linkage attack", ""]))
    alt = d.get("k_anonymous_alternative") or {}
    if alt and attacks:
        theirs = {a.get("attack"): a for a in (alt.get("privacy") or {}).get("attacks") or []}
        fa = alt.get("fidelity") or {}
        rows = [
            ("two-way total variation (mean)", f.get("two_way_tv_mean"), fa.get("two_way_tv_mean")),
            *(
                (f"{at.get('attack')} risk", at.get("risk"), theirs.get(at.get("attack"), {}).get("risk"))
                for at in attacks
            ),
        ]  # fmt: skip
        tables.append(
            table_html(rows, ["side by side", "synthetic", f"{alt.get('k')}-anonymous release"])
        )
    return Section(
        "synthetic",
        "Synthetic data: fidelity and the attacks it must resist",
        intro=(
            "Sample uniques of a synthetic table are not people: a synthetic record singles "
            "someone out only when an attack links it to a real person, which the figures "
            "below measure against a holdout of people the generator never saw."
        ),
        tables=tuple(tables),
    )


def _policy_rows(h: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The effective (harmonized) policy in the order a reviewer reads it."""
    p = h.get("policy") if isinstance(h.get("policy"), Mapping) else h
    th = p.get("thresholds") or {}
    access = p.get("access") or {}
    rows: list[tuple[str, Any]] = [
        ("datasets", h.get("sources")),
        ("combination permissible", h.get("permissible")),
        ("purposes", p.get("purposes")),
        ("consent scope", p.get("consent_scope")),
        ("legal basis", p.get("legal_basis")),
        ("retention", p.get("retention")),
        ("sharing allowed", p.get("sharing_allowed")),
        ("third-party hosting", p.get("third_party_hosting")),
        ("encryption at rest", p.get("encryption_at_rest")),
        ("roles seeing raw data", access.get("raw")),
        ("roles seeing de-identified data", access.get("deidentified")),
        ("roles seeing aggregates", access.get("aggregate")),
        # one row per registered privacy model the policy sets (workbench.models)
        *((m.title, th.get(m.policy_key)) for m in MODELS.values() if m.policy_key),
    ]
    return [(k, v) for k, v in rows if v is not None]


def _governance_section(b: AssessmentBundle, figures: ReviewFigures) -> Section | None:
    tables = []
    if b.policy:
        tables.append(table_html(_policy_rows(b.policy), ["effective policy", "value"]))
        conflicts = b.policy.get("conflicts") or []
        if conflicts:
            tables.append(
                table_html(
                    [
                        (c.get("message", _fmt(c)) if isinstance(c, Mapping) else c,)
                        for c in conflicts
                    ],
                    ["conflicts that make the combination impermissible"],
                )
            )
    if figures.checks:
        tables.append(
            table_html(
                [
                    (
                        c.rule,
                        c.measured,
                        c.required,
                        c.status if c.consistent else "inconsistent",
                        c.sentence,
                    )
                    for c in figures.checks
                ],
                ["privacy gate rule", "measured", "limit", "status", "in plain words"],
                css="wb-table wb-gate",
            )
        )
    if b.programme:
        tables.append(
            table_html(
                [(label(k), v) for k, v in b.programme.items() if not isinstance(v, Mapping)],
                ["programme metric", "value"],
            )
        )
    if b.provenance:
        tables.append(
            table_html(
                [
                    (
                        r.get("time") or r.get("timestamp"),
                        r.get("user"),
                        r.get("operation"),
                        ", ".join(str(h)[:12] for h in (r.get("output_hashes") or []) if h),
                    )
                    for r in b.provenance
                ],
                ["when", "who", "operation", "outputs (sha256)"],
            )
        )
    if not tables:
        return None
    return Section("governance", "Policy, privacy gate and provenance", tables=tuple(tables))


def sections(bundle: AssessmentBundle | Mapping[str, Any], role: str = "reviewer") -> list[Section]:
    """All non-empty sections of a bundle, in review order.

    Rendering is an access-controlled view: the bundle passes through
    :func:`workbench.governance.access.render_for` for ``role`` (reviewers see aggregates only),
    so record-level data slipped into a bundle is refused rather than shown.
    """
    from ..governance.access import render_for

    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.from_dict(bundle)
    render_for(role, b.to_dict())
    check_bundle(b)
    builders = (
        ("verdict", lambda f: _verdict_section(f)),
        ("datasets", lambda f: _datasets_section(b)),
        ("risk", lambda f: _risk_section(b, f)),
        ("transformation", lambda f: _transformation_section(b)),
        ("utility", lambda f: _utility_section(b)),
        ("linkage", lambda f: _linkage_section(b)),
        ("scenarios", lambda f: _scenarios_section(b)),
        ("dp", lambda f: _dp_section(b)),
        ("synthetic", lambda f: _synthetic_section(b)),
        ("governance", lambda f: _governance_section(b, f)),
    )
    figures = review_figures(b)
    out = []
    for key, build in builders:
        try:
            s = build(figures)
        except WorkbenchError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # a hand-edited or foreign bundle: say which section, never echo its content
            raise ConfigError(
                f"assessment bundle: the {key} section is malformed "
                f"({type(exc).__name__}); expected the shapes the workbench writes"
            ) from None
        if s is not None:
            out.append(s)
    return out


def _verdict_section(figures: ReviewFigures) -> Section:
    """The verdict box: each policy threshold, pass or fail, in plain words."""
    if not figures.checks:
        head = (
            "No policy was checked: this bundle holds no privacy-gate findings, so no threshold "
            "was judged. Build it with --policy to get a verdict."
        )
        items: list[str] = []
        cls = "wb-verdict wb-verdict-none"
    else:
        side = "after de-identification" if figures.side == "after" else "as assessed"
        n_bad = len(figures.failed)
        reviews = sum(1 for c in figures.checks if c.status == "review" and c.consistent)
        if figures.passed:
            head = f"PASS: the data {side} meets every threshold of policy {figures.policy}."
            if reviews:
                head += f" {reviews} point(s) need a person's review (below)."
            cls = "wb-verdict wb-verdict-pass"
        else:
            what = (
                f"{n_bad} of {len(figures.checks)} checks failed" if n_bad else "checks need review"
            )
            head = f"FAIL: the data {side} does not meet policy {figures.policy} ({what})."
            cls = "wb-verdict wb-verdict-fail"
        items = [
            f"<li class='wb-check wb-check-{html.escape(c.status if c.consistent else 'inconsistent')}'>"
            f"{html.escape(c.sentence)}</li>"
            for c in figures.checks
        ]
    body = (
        f"<div class='{cls}'><p class='wb-verdict-head'><b>{html.escape(head)}</b></p>"
        + (f"<ul>{''.join(items)}</ul>" if items else "")
        + "</div>"
    )
    return Section("verdict", "Verdict", tables=(body,))


_CSS = """
.wb-report, body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{margin-bottom:0} .meta{color:#666;margin-top:.2em}
table.wb-table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
.wb-table th,.wb-table td{border:1px solid #ddd;padding:4px 8px;text-align:left !important}
.wb-table th{background:#f4f4f4}
section{margin-top:2em} .fig{margin:.6em 0}
.wb-verdict{border:2px solid #999;border-radius:6px;padding:.4em 1em;margin:.8em 0}
.wb-verdict-pass{border-color:#2e7d32;background:#f1f8f1}
.wb-verdict-fail{border-color:#c62828;background:#fdf1f1}
.wb-verdict li{margin:.25em 0} .wb-check-fail,.wb-check-inconsistent{color:#b71c1c}
"""


# Draws a chart when it comes near the viewport, loading plotly.js on first need (once per page;
# a cacheable URL in the dashboard). Specs sit in <script type="application/json"> blocks, so
# the first screen (verdict, tables) never waits for 4.6 MB of plotly.js or for charts below it.
_LAZY_LOADER = """<script>(function(){
var src=%s, queue=[], loading=false;
function draw(el){var spec=JSON.parse(document.getElementById(el.id+'-spec').textContent);
el.removeAttribute('data-wb-pending');
Plotly.newPlot(el,spec.data,spec.layout,{responsive:true,displaylogo:false});}
function need(el){if(window.Plotly){draw(el);return;} queue.push(el); if(loading||!src)return;
loading=true; window.PlotlyConfig={MathJaxConfig:'local'};
var s=document.createElement('script'); s.src=src; s.charset='utf-8';
s.onload=function(){queue.splice(0).forEach(draw);}; document.head.appendChild(s);}
var els=[].slice.call(document.querySelectorAll('.wb-chart[data-wb-pending]'));
if(!('IntersectionObserver' in window)){els.forEach(need);return;}
var io=new IntersectionObserver(function(es){es.forEach(function(e){
if(e.isIntersecting){io.unobserve(e.target);need(e.target);}});},{rootMargin:'400px 0px'});
els.forEach(function(el){io.observe(el);});
})();</script>"""


def _plotlyjs_src(plotlyjs: str) -> str | None:
    """Where the loader fetches plotly.js: None when it is inlined, else a URL."""
    if plotlyjs == "inline":
        return None
    if plotlyjs == "cdn":
        from plotly.offline import get_plotlyjs_version

        return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
    if not plotlyjs.split("?", 1)[0].endswith(".js"):
        raise ConfigError(
            f"plotlyjs: expected 'inline', 'cdn' or a URL ending in .js, got {plotlyjs!r}"
        )
    return plotlyjs


def _chart_html(fig: go.Figure, n: int) -> str:
    """A placeholder the loader draws into, and the figure as JSON (``</`` escaped)."""
    import plotly.io as pio

    spec = pio.to_json(fig, validate=False).replace("</", "<\\/")
    height = int(fig.layout.height or 450)
    return (
        f"<div class='fig'><div class='wb-chart' id='wb-fig-{n}' data-wb-pending='1' "
        f"style='min-height:{height}px'></div>"
        f"<script type='application/json' id='wb-fig-{n}-spec'>{spec}</script></div>"
    )


def render_body(bundle: AssessmentBundle | Mapping[str, Any], plotlyjs: str = "inline") -> str:
    """The sections as an HTML fragment, charts drawn lazily (see ``_LAZY_LOADER``).

    ``plotlyjs``: ``"inline"`` (plotly.js in the page, works offline), ``"cdn"``, or the URL
    of a served copy (the dashboard's cacheable ``/workbench/static/plotly.min.js?v=...``).
    """
    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.from_dict(bundle)
    src = _plotlyjs_src(plotlyjs)
    parts = [f"<div class='wb-report'><style>{_CSS}</style>"]
    n = 0
    for s in sections(b):
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}</h2>")
        if s.intro:
            parts.append(f"<p>{html.escape(s.intro)}</p>")
        parts.extend(s.tables)
        for fig in s.figures:
            parts.append(_chart_html(fig, n))
            n += 1
        parts.append("</section>")
    if n:
        if src is None:
            from plotly.offline import get_plotlyjs

            parts.append(
                "<script>window.PlotlyConfig={MathJaxConfig:'local'};</script>"
                f"<script charset='utf-8'>{get_plotlyjs()}</script>"
            )
        parts.append(_LAZY_LOADER % json.dumps(src).replace("</", "<\\/"))
    parts.append("</div>")
    return "\n".join(parts)


def render_html(bundle: AssessmentBundle | Mapping[str, Any], plotlyjs: str = "inline") -> str:
    """One self-contained HTML page for the bundle (``plotlyjs="inline"`` works offline)."""
    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.from_dict(bundle)
    head = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(b.title)}</title></head><body>"
        f"<h1>{html.escape(b.title)}</h1>"
        f"<p class='meta'>Assessment bundle created {html.escape(b.created)}"
        f"{' by ' + html.escape(b.author) if b.author else ''}; workbench "
        f"{html.escape(b.tool_version)}. Aggregates only: no record-level data.</p>"
    )
    return head + render_body(b, plotlyjs) + "</body></html>"


def write_report(
    bundle_path: str | Path,
    out: str | Path,
    plotlyjs: str = "inline",
    forbidden: Iterable[str] = (),
) -> Path:
    """Render the bundle at ``bundle_path`` into ``out`` atomically (never over the bundle)."""
    from .bundle import check_no_leak

    ensure_not_source(out, [bundle_path])
    bundle = AssessmentBundle.load(bundle_path)  # leak-checked again on load
    try:
        text = render_html(bundle, plotlyjs=plotlyjs)
    except ConfigError as exc:  # name the file (the message never holds a value)
        raise type(exc)(f"{bundle_path}: {exc}") from None
    check_no_leak(text, forbidden)
    return atomic_write_text(out, text, sources=[bundle_path])
