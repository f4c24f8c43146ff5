"""Access: roles decide raw / de-identified / aggregate; reviewers never get record-level data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from _helpers_governance import isolated, policy_doc  # noqa: F401 - fixture

from workbench.cli import main
from workbench.dataset import Dataset
from workbench.errors import AccessDeniedError, ConfigError, ParameterError
from workbench.governance import (
    AccessLog,
    AccessPolicy,
    Policy,
    enforce,
    render_for,
    view_kind_of,
)

pytestmark = pytest.mark.usefixtures("isolated")

FRAME = pd.DataFrame({"age": [30, 30, 41, 41, 52], "sex": list("FFMMF"), "dx": list("abaab")})


@pytest.mark.parametrize(
    ("role", "view", "allowed"),
    [
        ("steward", "raw", True),
        ("steward", "deidentified", True),
        ("steward", "aggregate", True),
        ("analyst", "raw", False),
        ("analyst", "deidentified", True),
        ("analyst", "aggregate", True),
        ("reviewer", "raw", False),
        ("reviewer", "deidentified", False),
        ("reviewer", "aggregate", True),
        ("intruder", "aggregate", False),
    ],
)
def test_default_roles(role, view, allowed):
    access = AccessPolicy.default()
    assert access.allows(role, view) is allowed
    if allowed:
        enforce(role, view)
    else:
        with pytest.raises(AccessDeniedError, match=role):
            enforce(role, view)


def test_dataset_policy_narrows_roles():
    pol = Policy.from_dict(
        policy_doc(
            access={
                "raw": [],
                "deidentified": ["steward"],
                "aggregate": ["steward", "analyst", "reviewer"],
            }
        )
    )
    with pytest.raises(AccessDeniedError, match="policy 'base' does not let role 'steward'"):
        enforce("steward", "raw", policy=pol)
    with pytest.raises(AccessDeniedError):
        enforce("analyst", "deidentified", policy=pol)
    enforce("reviewer", "aggregate", policy=pol)


def test_unknown_view_is_a_parameter_error():
    with pytest.raises(ParameterError, match="view_kind"):
        enforce("steward", "everything")


def test_roles_are_configurable_in_yaml(tmp_path, monkeypatch):
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  auditor: [aggregate]\n  researcher: [deidentified, aggregate]\n")
    access = AccessPolicy.load(path)
    assert access.allows("researcher", "deidentified") and not access.allows("auditor", "raw")
    assert AccessPolicy.load(access.save(tmp_path / "again.yaml")).roles == access.roles
    monkeypatch.setenv("WORKBENCH_ROLES", str(path))
    with pytest.raises(AccessDeniedError, match="known roles: auditor, researcher"):
        enforce("steward", "raw")
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  x: [everything]\n")
    with pytest.raises(ConfigError, match=r"roles\.x: unknown view 'everything'"):
        AccessPolicy.load(bad)


RECORD_LEVEL = {
    "pandas": lambda: FRAME,
    "series": lambda: FRAME["age"],
    "dataset": lambda: Dataset.from_frame(FRAME, name="clinic"),
    "polars": lambda: pl.from_pandas(FRAME),
    "polars_lazy": lambda: pl.from_pandas(FRAME).lazy(),
    "duckdb": lambda: duckdb.from_df(FRAME),
    "numpy": lambda: np.array([1, 1, 2, 2, 1]),
    "dict_with_frame": lambda: {"summary": {"k": 2}, "rows": FRAME},
    "list_with_array": lambda: [1, 2, np.arange(3)],
}


@pytest.mark.parametrize("kind", list(RECORD_LEVEL))
def test_reviewer_never_receives_record_level_data(kind):
    obj = RECORD_LEVEL[kind]()
    with pytest.raises(AccessDeniedError, match="reviewer"):
        render_for("reviewer", obj)
    # declaring a frame "aggregate" does not make it so
    with pytest.raises(AccessDeniedError):
        render_for("reviewer", obj, view_kind="aggregate")
    assert render_for("steward", obj) is obj


def _nest(obj, depth: int, how: str):
    for i in range(depth):
        if how == "dict":
            obj = {f"level{i}": obj, "count": i}
        elif how == "list":
            obj = [i, obj]
        else:
            obj = _Box(obj)
    return obj


class _Box:
    def __init__(self, inner):
        self.inner = inner

    def to_dict(self):
        return {"inner": self.inner}


@pytest.mark.parametrize("how", ["dict", "list", "to_dict"])
@pytest.mark.parametrize("depth", [0, 1, 6, 7, 8, 50, 5000])
def test_record_level_data_is_found_at_any_depth(depth, how):
    # Regression: anything nested deeper than 6 levels was taken for an aggregate (fail open).
    obj = _nest(FRAME, depth, how)
    assert view_kind_of(obj) == "raw"
    with pytest.raises(AccessDeniedError, match="reviewer"):
        render_for("reviewer", obj)
    assert view_kind_of(_nest(0.25, depth, how)) == "aggregate"


def test_self_referencing_structures_terminate_and_keep_their_rows():
    loop: dict = {"k": 5}
    loop["self"] = loop
    assert view_kind_of(loop) == "aggregate"
    loop["rows"] = [loop, FRAME]
    assert view_kind_of(loop) == "raw"


def test_a_structure_too_large_to_inspect_is_refused(monkeypatch):
    import workbench.governance.access as access_mod

    monkeypatch.setattr(access_mod, "_MAX_INSPECTED", 100)
    small = {"values": [[i] for i in range(50)]}  # 52 containers
    assert view_kind_of(small) == "aggregate"
    big = {"values": [[i] for i in range(500)]}  # cannot be inspected to the end: fail closed
    assert view_kind_of(big) == "raw"
    with pytest.raises(AccessDeniedError):
        render_for("reviewer", big)


def test_analyst_sees_declared_deidentified_rows_only():
    with pytest.raises(AccessDeniedError, match="raw rows"):
        render_for("analyst", FRAME)
    assert render_for("analyst", FRAME, view_kind="deidentified") is FRAME


def test_aggregates_pass_for_reviewers():
    summary = {"records": 5, "k": 1, "histogram": {"1": 1, "2": 2}, "qis": ["age", "sex"]}
    assert render_for("reviewer", summary) is summary
    assert render_for("reviewer", 0.25) == 0.25

    class Declared:
        __workbench_view__ = "aggregate"

    d = Declared()
    assert render_for("reviewer", d) is d


def test_risk_engine_results_for_reviewers():
    """The risk profile renders as aggregates; its per-record views are refused."""
    from workbench.risk import assess

    profile = assess(FRAME, ["age", "sex"], sensitive=["dx"])
    assert view_kind_of(profile) == "aggregate"
    assert render_for("reviewer", profile) is profile
    assert render_for("reviewer", profile.to_dict())["records"] == 5
    for record_level in (
        profile.per_record(),
        profile.class_sizes_per_record(),
        profile.record_class,
    ):
        with pytest.raises(AccessDeniedError):
            render_for("reviewer", record_level)


def test_enforce_logs_uses_and_denials(tmp_path):
    log = AccessLog(tmp_path / "a.jsonl")
    enforce("analyst", "aggregate", user="ann", log=log)
    with pytest.raises(AccessDeniedError):
        render_for("reviewer", FRAME, user="rev", log=log)
    events = [(e["event"], e["user"], e["role"], e["view"]) for e in log.events()]
    assert events == [("use", "ann", "analyst", "aggregate"), ("denied", "rev", "reviewer", "raw")]


def _t(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_review_flags_unused_and_expired_grants(tmp_path):
    log = AccessLog(tmp_path / "a.jsonl")
    log.grant("bob", "steward", by="boss", now=_t("2025-01-01"))
    log.grant("ann", "analyst", project="p1", until="2025-03-31", by="bob", now=_t("2025-01-01"))
    log.grant("cy", "reviewer", by="bob", now=_t("2025-01-01"))
    log.record_use("ann", "analyst", "deidentified", now=_t("2025-03-01"))
    log.record_use("cy", "reviewer", "aggregate", now=_t("2025-04-01"))
    review = log.review(now="2025-05-15")
    held = {(g.user, g.role): g.last_used for g in review.grants}
    assert held == {
        ("ann", "analyst"): "2025-03-01T00:00:00Z",
        ("bob", "steward"): None,
        ("cy", "reviewer"): "2025-04-01T00:00:00Z",
    }
    flags = {(f.kind, f.user) for f in review.flags}
    assert flags == {("expired", "ann"), ("unused", "bob")}
    # 90 days is the boundary: cy used it 2025-04-01, flagged on 2025-06-30
    assert ("unused", "cy") not in {(f.kind, f.user) for f in log.review(now="2025-06-29").flags}
    assert ("unused", "cy") in {(f.kind, f.user) for f in log.review(now="2025-06-30").flags}
    log.revoke("ann", "analyst", now=_t("2025-05-20"))
    assert ("expired", "ann") not in {(f.kind, f.user) for f in log.review(now="2025-05-21").flags}
    assert log.revocation_delays() == [pytest.approx(49 + 1 / 86400, abs=1e-3)]
    assert log.roles_of("bob") == ("steward",)
    assert log.roles_of("ann") == ()


def test_a_grant_needs_a_steward_other_than_the_grantee(tmp_path):
    # Regression: anyone could grant any role, to themselves too.
    log = AccessLog(tmp_path / "a.jsonl")
    with pytest.raises(AccessDeniedError, match="cannot grant a role to themselves"):
        log.grant("sam", "steward", by="sam")  # not even the first steward
    with pytest.raises(AccessDeniedError, match="the first grant of a new access log"):
        log.grant("ann", "analyst", by="boss")  # no steward yet: only a steward can be named
    first = log.grant("sam", "steward", by="boss")  # the first steward, named by someone else
    assert first["bootstrap"] is True and first["by"] == "boss"
    with pytest.raises(AccessDeniedError, match="'boss' is not a steward"):
        log.grant("ann", "analyst", by="boss")
    with pytest.raises(AccessDeniedError, match="cannot grant a role to themselves"):
        log.grant("sam", "analyst", by="sam")
    ev = log.grant("ann", "analyst", by="sam")
    assert ev["by"] == "sam" and "bootstrap" not in ev
    with pytest.raises(AccessDeniedError, match="'ann' is not a steward"):
        log.grant("bob", "analyst", by="ann")  # an analyst cannot hand out roles
    log.grant("tom", "steward", by="sam")
    log.grant("bob", "analyst", by="tom")  # any current steward may grant
    log.revoke("sam", "steward", by="tom")
    with pytest.raises(AccessDeniedError, match="'sam' is not a steward"):
        log.grant("cy", "reviewer", by="sam")  # a revoked steward no longer may
    log.revoke("tom", "steward", by="tom")
    # every steward gone: the log is not new, so nobody can bootstrap again (fail closed)
    with pytest.raises(AccessDeniedError, match="'boss' is not a steward"):
        log.grant("eve", "steward", by="boss")
    assert log.roles_of("eve") == ()


def test_an_expired_steward_grant_cannot_grant(tmp_path):
    log = AccessLog(tmp_path / "a.jsonl")
    log.grant("sam", "steward", by="boss", now=_t("2025-01-01"))
    log.grant("pat", "steward", by="sam", until="2025-01-31", now=_t("2025-01-02"))
    log.grant("ann", "analyst", by="pat", now=_t("2025-01-31"))  # the last day still counts
    with pytest.raises(AccessDeniedError, match="'pat' is not a steward"):
        log.grant("bob", "analyst", by="pat", now=_t("2025-02-01"))


def test_grants_need_a_steward_role_in_the_roles_file(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("roles:\n  auditor: [aggregate]\n  researcher: [deidentified, aggregate]\n")
    log = AccessLog(tmp_path / "a.jsonl")
    with pytest.raises(ParameterError, match="steward"):
        log.grant("ann", "researcher", by="boss", access=AccessPolicy.load(path))


def test_revoking_a_role_not_held_is_an_error(tmp_path):
    log = AccessLog(tmp_path / "a.jsonl")
    with pytest.raises(ParameterError, match="currently holds"):
        log.revoke("zed", "steward")
    with pytest.raises(ParameterError, match="role"):
        log.grant("zed", "emperor")


def test_cli_grant_review_revoke(capsys):
    assert main(["access", "grant", "tester", "steward", "--by", "boss"]) == 0
    assert main(["access", "grant", "tester", "analyst"]) == 2  # WORKBENCH_USER is tester
    assert "themselves" in capsys.readouterr().err
    assert (
        main(["access", "grant", "ann", "analyst", "--project", "flu", "--until", "2020-01-31"])
        == 0
    )
    assert "granted analyst to ann until 2020-01-31" in capsys.readouterr().out
    assert main(["access", "review", "--now", "2020-03-01"]) == 1
    out = capsys.readouterr().out
    assert "ann" in out and "FLAG expired" in out
    assert main(["access", "review", "--now", "2020-03-01", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["flags"][0]["kind"] == "expired"
    assert main(["access", "revoke", "ann", "analyst"]) == 0
    assert main(["access", "review", "--now", "2020-03-02"]) == 0
    assert main(["access", "grant", "ann", "emperor"]) == 2
    assert main(["access", "revoke", "ann", "analyst"]) == 2


def test_rendered_charts_and_bundles_reach_reviewers_as_aggregates():
    """What the dashboard renders (charts from a profile) is aggregate; the rows are not."""
    from workbench.review import charts
    from workbench.risk import assess

    profile = assess(FRAME, ["age", "sex"], sensitive=["dx"])
    for make in (charts.class_size_histogram, charts.records_at_risk_curve):
        fig = make(profile)
        assert render_for("reviewer", fig) is fig
    with pytest.raises(AccessDeniedError):
        render_for("reviewer", {"chart": charts.class_size_histogram(profile), "rows": FRAME})
