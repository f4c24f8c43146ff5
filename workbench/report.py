"""Render an assessment bundle: HTML tables shared by the dashboard and a standalone report.

``sections(bundle)`` builds the content once (titles, HTML tables, plotly figures);
:func:`render_html` lays it out as one self-contained file (plotly.js inlined so the report works
offline, for people who only get an e-mail) and the Voila dashboard shows the same sections as
widgets. Only aggregates are rendered; every string is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from . import charts
from ._io import atomic_write_text, ensure_not_source
from .bundle import AssessmentBundle
from .models import MODELS

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


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if 0 < abs(v) < 1:
            return f"{v:.4f}"
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Mapping):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def table_html(
    rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None, css: str = "wb-table"
) -> str:
    """A small escaped HTML table."""
    out = [f'<table class="{css}">']
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
    """The measures a reviewer reads first, in plain words."""
    pros = risk.get("prosecutor") or {}
    glob = risk.get("global_risk") or {}
    rows = [
        ("records", risk.get("records")),
        ("equivalence classes", risk.get("classes")),
        ("smallest class (k)", risk.get("min_class_size")),
        ("sample uniques", risk.get("sample_uniques")),
        ("sample uniqueness", risk.get("sample_uniqueness")),
        ("highest prosecutor risk", pros.get("highest")),
        ("average prosecutor risk", pros.get("average")),
        (f"records at risk (threshold {_fmt(pros.get('threshold'))})", pros.get("records_at_risk")),
        ("marketer risk", risk.get("marketer")),
    ]
    if risk.get("weights") and glob.get("expected_reidentifications") is not None:
        rows.append(
            ("expected re-identifications (weighted model)", glob.get("expected_reidentifications"))
        )
    dankar = (risk.get("population") or {}).get("dankar") or {}
    if dankar.get("uniques") is not None:
        rows.append((f"estimated population uniques ({dankar.get('model')})", dankar["uniques"]))
    return rows


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


def _risk_section(b: AssessmentBundle) -> Section | None:
    before, after = b.risk_before, b.risk_after
    if not before and not after:
        return None
    names = [n for n, _ in headline_rows(before or after or {})]
    bvals = dict(headline_rows(before)) if before else {}
    avals = dict(headline_rows(after)) if after else {}
    rows = [(n, bvals.get(n), avals.get(n)) for n in names]
    header = ["measure", "before", "after"] if after else ["measure", "value"]
    if not after:
        rows = [(n, v) for n, v, _ in rows]
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
    extra = []
    src = before or after or {}
    if src.get("l_diversity"):
        extra.append(
            table_html(
                [
                    (s, v.get("distinct"), v.get("entropy"), v.get("recursive_c"))
                    for s, v in src["l_diversity"].items()
                ],
                ["sensitive attribute", "distinct-l", "entropy-l", "recursive c"],
            )
        )
    if src.get("suda"):
        figs.append(charts.suda_contributions(src["suda"]))
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
    return Section(
        "risk",
        "Re-identification risk",
        intro,
        tables=(table_html(rows, header), *extra),
        figures=tuple(figs),
    )


def _transformation_section(b: AssessmentBundle) -> Section | None:
    t = b.transformation
    if not t and not b.rationale:
        return None
    rows = [
        (k, v)
        for k, v in (t or {}).items()
        if not isinstance(v, Mapping | list)
        or k in ("levels", "parameters", "qis", "hierarchies", "models")
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
    rows = [(k, v) for k, v in u.items() if not isinstance(v, Mapping | list)]
    tables = [table_html(rows, ["utility measure", "value"])] if rows else []
    for key in ("attributes", "distribution_distance", "per_attribute"):
        per = u.get(key)
        if isinstance(per, Mapping) and per:
            tables.append(table_html([(k, v) for k, v in per.items()], ["attribute", key]))
    stats = u.get("statistics") or u.get("downstream")
    if isinstance(stats, list) and stats:
        keys = [k for k in stats[0] if not isinstance(stats[0][k], Mapping | list)]
        tables.append(table_html([[s.get(k) for k in keys] for s in stats], keys))
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
        tables.append(table_html([(k, lk.get(k)) for k in keys if k in lk], ["linkage", "value"]))
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
                    p.get("score"),
                    p.get("level"),
                    charts.advice_label(adv),
                    " ".join(reasons[-2:]),
                )
            )
        tables.append(table_html(rows, ["pair", "score", "level", "advice", "why"]))
    if not figs and not tables:
        return None
    return Section("linkage", "Cross-department linkage", tables=tuple(tables), figures=tuple(figs))


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


def _governance_section(b: AssessmentBundle) -> Section | None:
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
    if b.gate:
        g = b.gate
        findings = g.get("findings") or []
        tables.append(
            table_html(
                [
                    (
                        f.get("rule"),
                        f.get("measured"),
                        f.get("limit"),
                        f.get("status"),
                        f.get("message") or f.get("advice"),
                    )
                    for f in findings
                ],
                ["privacy gate rule", "measured", "limit", "status", "what it means / what to do"],
            )
        )
    if b.programme:
        tables.append(
            table_html(
                [(k, v) for k, v in b.programme.items() if not isinstance(v, Mapping)],
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
    from .governance.access import render_for

    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.from_dict(bundle)
    render_for(role, b.to_dict())
    out = []
    for build in (
        _datasets_section,
        _risk_section,
        _transformation_section,
        _utility_section,
        _linkage_section,
        _governance_section,
    ):
        s = build(b)
        if s is not None:
            out.append(s)
    return out


_CSS = """
.wb-report, body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{margin-bottom:0} .meta{color:#666;margin-top:.2em}
table.wb-table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
.wb-table th,.wb-table td{border:1px solid #ddd;padding:4px 8px;text-align:left !important}
.wb-table th{background:#f4f4f4}
section{margin-top:2em} .fig{margin:.6em 0}
"""


def render_body(bundle: AssessmentBundle | Mapping[str, Any], plotlyjs: str = "inline") -> str:
    """The sections as an HTML fragment; plotly.js is included once, before the first figure."""
    b = bundle if isinstance(bundle, AssessmentBundle) else AssessmentBundle.from_dict(bundle)
    parts = [f"<div class='wb-report'><style>{_CSS}</style>"]
    first = True
    for s in sections(b):
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}</h2>")
        if s.intro:
            parts.append(f"<p>{html.escape(s.intro)}</p>")
        parts.extend(s.tables)
        for fig in s.figures:
            include: bool | str = (True if plotlyjs == "inline" else plotlyjs) if first else False
            parts.append(
                "<div class='fig'>"
                + fig.to_html(full_html=False, include_plotlyjs=include)
                + "</div>"
            )
            first = False
        parts.append("</section>")
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
    text = render_html(AssessmentBundle.load(bundle_path), plotlyjs=plotlyjs)
    check_no_leak(text, forbidden)
    return atomic_write_text(out, text, sources=[bundle_path])
