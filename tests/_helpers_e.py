"""Slow, obvious references for the anonymization search tests."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from workbench.deid.hierarchy import Hierarchy
from workbench.deid.metrics import METRICS, table_metrics
from workbench.deid.search.lattice import Criteria
from workbench.errors import PrivacyWarning


def reference_node(df, qis, hs, sensitive, levels, crit: Criteria, metric: str):
    """(acceptable, suppressed mask, score or None) by plain Python grouping."""
    n = len(df)
    maps = []
    for q in qis:
        h = hs[q]
        lev = levels[q]
        maps.append({r[0]: r[lev] for r in h.rows})
    keys = [
        tuple(maps[i][str(v)] for i, v in enumerate(row))
        for row in df[list(qis)].itertuples(index=False, name=None)
    ]
    groups = defaultdict(list)
    for i, key in enumerate(keys):
        groups[key].append(i)
    viol_rows = np.zeros(n, dtype=bool)
    kept = []
    for rows in groups.values():
        bad = len(rows) < crit.effective_k
        for s in sensitive:
            allv = [str(v) for v in df[s]]
            vals = [allv[i] for i in rows]
            cnt = Counter(vals)
            if crit.l is not None:
                if crit.l_kind == "distinct":
                    bad |= len(cnt) < crit.l
                elif crit.l_kind == "entropy":
                    h = -sum(c / len(vals) * math.log(c / len(vals)) for c in cnt.values())
                    bad |= h < math.log(crit.l) - 1e-12
                else:
                    r = sorted(cnt.values(), reverse=True)
                    bad |= not r[0] < crit.c * sum(r[crit.l - 1 :])
            if crit.t is not None:
                glob = Counter(allv)
                domain = sorted(glob, key=lambda v: (float(v), v))
                p = [glob[v] / n for v in domain]
                q = [cnt.get(v, 0) / len(vals) for v in domain]
                if crit.t_kind == "equal":
                    emd = 0.5 * sum(abs(a - b) for a, b in zip(p, q, strict=True))
                else:
                    m = len(domain)
                    cum, emd = 0.0, 0.0
                    for a, b in list(zip(q, p, strict=True))[:-1]:
                        cum += a - b
                        emd += abs(cum)
                    emd = emd / (m - 1) if m > 1 else 0.0
                bad |= emd > crit.t + 1e-12
        if bad:
            viol_rows[rows] = True
        else:
            kept.append(len(rows))
    n_sup = int(viol_rows.sum())
    ok = n_sup <= math.floor(crit.suppression * n + 1e-9)
    if ok and crit.max_average_risk is not None:
        avg = len(kept) / (n - n_sup) if n - n_sup else 0.0
        ok = avg <= crit.max_average_risk + 1e-12
    score = None
    if ok:
        score = table_metrics(df, qis, hs, levels, viol_rows, k=crit.k)[metric]
    return ok, viol_rows, score


def reference_search(df, qis, hs, sensitive, crit, metric):
    """Exhaustive search with the plain reference; returns {levels: (ok, n_sup, score)}."""
    out = {}
    for node in itertools.product(*[range(hs[q].levels) for q in qis]):
        levels = dict(zip(qis, node, strict=True))
        ok, sup, score = reference_node(df, qis, hs, sensitive, levels, crit, metric)
        out[node] = (ok, int(sup.sum()), score)
    return out


@st.composite
def small_problems(draw, max_rows: int = 40, max_qis: int = 3):
    """A random small table, random consistent hierarchies, criteria and metric."""
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, max_qis))
    qis = [f"q{i}" for i in range(d)]
    hs = {}
    data = {}
    for q in qis:
        size = draw(st.integers(1, 5))
        leaves = [f"{q}v{j}" for j in range(size)]
        cols = [leaves]
        for lev in range(draw(st.integers(0, 2))):
            prev = sorted(set(cols[-1]))
            groups = {p: f"{q}g{lev}_{draw(st.integers(0, 2))}" for p in prev}
            cols.append([groups[v] for v in cols[-1]])
        if draw(st.booleans()) or len(cols) == 1:
            cols.append(["*"] * size)
        hs[q] = Hierarchy.from_rows(list(zip(*cols, strict=True)), name=q)
        data[q] = [leaves[draw(st.integers(0, size - 1))] for _ in range(n)]
    n_sens = draw(st.integers(1, 4))
    data["s"] = [str(draw(st.integers(0, n_sens - 1))) for _ in range(n)]
    l_value = draw(st.sampled_from([None, None, 2, 3]))
    with warnings.catch_warnings():  # k = 1 alone warns; the search must still be exact
        warnings.simplefilter("ignore", PrivacyWarning)
        crit = Criteria(
            k=draw(st.integers(1, 5)),
            l=l_value,
            l_kind=draw(st.sampled_from(["distinct", "entropy", "recursive"])),
            c=draw(st.sampled_from([1.0, 2.0])),
            t=draw(st.sampled_from([None, None, 0.2, 0.45])),
            t_kind=draw(st.sampled_from(["equal", "ordered"])),
            max_average_risk=draw(st.sampled_from([None, None, 0.4, 0.8])),
            max_highest_risk=draw(st.sampled_from([None, None, 0.5])),
            suppression=draw(st.sampled_from([0.0, 0.0, 0.1, 0.25, 0.5])),
        )
    metric = draw(st.sampled_from(METRICS))
    return pd.DataFrame(data), qis, hs, crit, metric
