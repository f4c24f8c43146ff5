"""The QI picker keeps every QI on a plain click (regression: a <select multiple> kept one)."""

from __future__ import annotations

import pytest
import traitlets
from _helpers_ui import random_frame, store_for

from workbench.ui._common import MultiCheck
from workbench.ui.risk import RiskPanel


def test_a_click_toggles_one_option_and_keeps_the_others() -> None:
    m = MultiCheck(options=("a", "b", "c"), value=("a", "c"), description="QIs")
    seen = []
    m.observe(lambda ch: seen.append(ch["new"]), names="value")
    m._boxes["b"].value = True  # what a click on b's checkbox sends
    assert m.value == ("a", "b", "c")
    m._boxes["a"].value = False
    assert m.value == ("b", "c")
    assert seen == [("a", "b", "c"), ("b", "c")]
    assert [cb.value for cb in m._boxes.values()] == [False, True, True]


def test_value_in_option_order_unknown_refused_options_drop_values() -> None:
    m = MultiCheck(options=("a", "b", "c"))
    m.value = ("c", "a")
    assert m.value == ("a", "c")
    with pytest.raises(traitlets.TraitError, match="not among the options"):
        m.value = ("zzz",)
    m.options = ("c", "d")
    assert m.value == ("c",) and list(m._boxes) == ["c", "d"]
    assert m._boxes["c"].value and not m._boxes["d"].value


def test_risk_panel_picker_click_keeps_the_other_qis() -> None:
    store = store_for(random_frame(200), ["age", "sex", "zip"], direct=["record_id"])
    panel = RiskPanel(store)
    assert panel.qi_picker.value == ("age", "sex", "zip")
    panel.qi_picker._boxes["age"].value = False  # a plain click on "age"
    assert store.state.qis == ("sex", "zip")
    assert "k = " in panel.summary.value
    panel.qi_picker._boxes["diagnosis"].value = True
    assert set(store.state.qis) == {"sex", "zip", "diagnosis"}
