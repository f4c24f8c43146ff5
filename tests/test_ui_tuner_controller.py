"""The tuner's controller, driven without widgets: the rules the panel used to carry."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from _helpers_tuner import assert_close
from _helpers_ui import random_frame, store_for

from workbench.dataset import Dataset
from workbench.deid import Criteria
from workbench.errors import ParameterError
from workbench.profiling.roles import RoleMap
from workbench.ui.tuner_controller import LIVE_UTILITY_LIMIT, TunerController


def _controller(**kw) -> tuple:
    store = store_for(random_frame(500), ["age", "sex", "zip"], ["diagnosis"], ["record_id"])
    c = TunerController(store, **kw)
    assert c.reset(store.state)
    c.encode()
    return store, c


def test_controller_module_imports_no_widgets() -> None:
    code = (
        "import sys\n"
        "for m in ('ipywidgets', 'IPython', 'plotly'):\n"
        "    sys.modules[m] = None\n"
        "import workbench.ui.tuner_controller\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_evaluate_publishes_risk_utility_and_distributions() -> None:
    store, c = _controller()
    levels = {"age": 1, "sex": 0, "zip": 1}
    ev = c.evaluate(levels, c.criteria(5, 0.1), "loss")
    st = store.state
    assert st.risk_after["levels"] == levels and st.utility is ev.utility
    assert set(st.distributions) == {"age", "sex", "zip"}
    assert st.transform_config["criteria"]["k"] == 5
    # the class-table utility equals the record-level reference on this node
    assert_close(c.reference_utility(ev.view).to_dict(), ev.utility.to_dict())
    assert "record_id" not in [a.column for a in ev.utility.attributes]
    assert set(ev.elapsed) == {"node", "utility", "distributions"}


@pytest.mark.parametrize(("limit", "live"), [(499, False), (500, True), (501, True)])
def test_live_utility_limit_is_inclusive(limit, live) -> None:
    _, c = _controller(live_utility_limit=limit)
    ev = c.evaluate({"age": 1, "sex": 0, "zip": 1}, c.criteria(3, 0.05))
    assert (ev.utility is not None) is live
    assert (c.live is not None) is live
    assert c.utility(ev.view).records_original == 500  # on demand above the limit


def test_l_applies_only_with_sensitive_attributes() -> None:
    _, c = _controller()
    assert c.criteria(4, 0.0, 2) == Criteria(k=4, l=2, suppression=0.0)
    assert c.criteria(4, 0.0, 0).l is None
    store = store_for(random_frame(100), ["age", "sex"])
    c2 = TunerController(store)
    assert c2.criteria(4, 0.0, 3).l is None


def test_reset_forgets_the_previous_dataset() -> None:
    store, c = _controller()
    c.evaluate({"age": 1, "sex": 0, "zip": 1}, c.criteria(3, 0.05))
    assert not c.reset(store.state)  # same dataset and roles: nothing to do
    frame = random_frame(80, seed=9)
    ds = Dataset.from_frame(frame, name="other")
    store.load_dataset(ds, roles=RoleMap.from_columns(frame.columns, quasi_identifiers=["sex"]))
    assert c.reset(store.state)
    assert c.ctx is None and c.view is None and list(c.hierarchies) == ["sex"]
    c.encode()
    assert c.ctx.n_records == 80


def test_without_qis_or_output_folder() -> None:
    store = store_for(random_frame(50), [])
    c = TunerController(store)
    c.reset(store.state)
    c.encode()
    assert c.evaluate({}, Criteria(k=2)) is None
    with pytest.raises(ParameterError, match="quasi-identifier"):
        c.transformed({}, Criteria(k=2))
    with pytest.raises(ParameterError, match="output folder"):
        c.output_path(".csv")


def test_save_config_and_data(tmp_path) -> None:
    store, c = _controller(output_dir=tmp_path)
    levels, crit = {"age": 2, "sex": 0, "zip": 1}, Criteria(k=3, suppression=0.1)
    c.evaluate(levels, crit)
    cfg = c.save_config(levels, crit)
    path, report, n = c.save_data(levels, crit)
    assert cfg.name == "tiny.deid-config.json" and path.name == "tiny.deidentified.csv"
    assert n == 500 and "record_id" in report.dropped
    assert "ID000" not in path.read_text()
    out, sup = c.transformed(levels, crit)
    assert (out.loc[sup, "age"] == "*").all()
    assert LIVE_UTILITY_LIMIT >= 1_000_000  # the bench's million rows have utility live
    assert np.count_nonzero(sup) == c.view.evaluation.suppressed
