"""End to end in Debian Chromium: notebook 03 from a CSV to a recipe the CLI reproduces.

An officer uploads a CSV, sets the roles, adds three kinds of step, undoes one, exports the
recipe, saves the release and a bundle; ``workbench transform`` with that recipe must write the
same bytes. The same page is checked for layout at 1280 px (nothing off-screen) and for a busy
state while a step runs.
"""

from __future__ import annotations

import json
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from conftest import PYTHON, ROOT, free_port, full_screenshot, start_server, stop_process

from workbench.serve import voila_command

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

OFFSCREEN = """() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('.jp-OutputArea-output *')) {
    const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden') continue;
    if (r.right > w + 1 || r.left < -1) {
      out.push(`${e.tagName}.${[...e.classList].join('.')} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return out;
}"""


def _people(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_id": [f"P{i:05d}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["female", "male"], n),
            "zip": rng.choice([f"{z}" for z in range(46201, 46216)], n),
            "income": rng.integers(9_000, 120_000, n),
            "diagnosis": rng.choice(["flu", "cold", "asthma", "back pain"], n),
        }
    )


@pytest.fixture(scope="module")
def tune(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tune")
    nb = json.loads((ROOT / "notebooks" / "03_tune_deidentification.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if "output_dir =" in src:
            cell["source"] = src.replace(
                'output_dir = ".workbench/output"', f"output_dir = {str(tmp / 'out')!r}"
            )
    (tmp / "03.ipynb").write_text(json.dumps(nb))
    port = free_port()
    proc = start_server(
        voila_command(tmp / "03.ipynb", port, preheat=False),
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        tmp / "voila.log",
        cwd=tmp,
    )
    try:
        yield f"http://127.0.0.1:{port}/", tmp
    finally:
        stop_process(proc)


def _role(page, column: str, label: str) -> None:
    page.locator(f".wb-role:has(label:text-is('{column}')) select").select_option(label=label)


def _rows(page) -> int:
    return page.locator(".wb-pipeline-steps tbody tr").count()


def _add(page, kind_label: str, expected_rows: int) -> None:
    page.locator(".wb-add-step").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('.wb-pipeline-steps tbody tr').length === n",
        arg=expected_rows,
        timeout=120_000,
    )


def test_csv_to_steps_undo_recipe_bundle_and_cli_reproduces(tune, page, shot_dir):
    url, tmp = tune
    csv = tmp / "people.csv"
    _people().to_csv(csv, index=False)
    t0 = time.monotonic()
    page.goto(url, timeout=180_000)
    page.wait_for_selector(".wb-pipeline-steps table", timeout=240_000)
    print(f"03 first render {time.monotonic() - t0:.1f}s")

    # 1. the CSV
    with page.expect_file_chooser() as chooser:
        page.locator(".wb-upload").first.click()
    chooser.value.set_files(str(csv))
    page.wait_for_function(
        "() => (document.querySelector('.wb-dataset-info') || {}).innerText?.includes('people')",
        timeout=120_000,
    )
    # 2. roles: the id is a direct identifier; age, sex, zip the attacker knows
    for col, label in [
        ("person_id", "direct identifier"),
        ("age", "quasi-identifier"),
        ("sex", "quasi-identifier"),
        ("zip", "quasi-identifier"),
        ("income", "sensitive"),
        ("diagnosis", "sensitive"),
    ]:
        _role(page, col, label)
        page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelectorAll('.wb-level').length === 3", timeout=120_000
    )
    assert _rows(page) == 1  # only the original data: the previous dataset's steps are gone

    # 3. three kinds of step
    page.locator(".wb-step-kind select").select_option(label="rounding")
    page.locator(".wb-step-columns select").select_option(["age"])
    page.locator(".wb-step-a input").fill("10")
    page.locator(".wb-step-a input").press("Enter")
    _add(page, "rounding", 2)
    page.locator(".wb-step-kind select").select_option(
        label="record suppression (groups smaller than k)"
    )
    page.locator(".wb-step-k input").fill("3")
    page.locator(".wb-step-k input").press("Enter")
    _add(page, "record suppression", 3)
    page.locator(".wb-step-kind select").select_option(label="additive noise")
    page.locator(".wb-step-columns select").select_option(["income"])
    page.locator(".wb-step-seed input").fill("11")
    page.locator(".wb-step-seed input").press("Enter")
    _add(page, "additive noise", 4)
    page.locator(".wb-step-kind select").select_option(label="drop columns")
    page.locator(".wb-step-columns select").select_option(["diagnosis"])
    _add(page, "drop", 5)
    text = page.inner_text(".wb-pipeline-steps")
    assert "round age to multiples of 10" in text
    assert "suppress records in groups smaller than 3" in text
    assert "add random noise to income" in text

    # 4. undo the last step (drop diagnosis)
    page.locator(".wb-undo").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.wb-pipeline-steps tbody tr').length === 4",
        timeout=60_000,
    )
    assert "drop diagnosis" in page.inner_text(".wb-pipeline-history")  # kept, greyed

    # utility views: attribute summary and a contingency table, original and released
    page.locator(".wb-utility-views-button").click()
    page.wait_for_function(
        "() => (document.querySelector('.wb-utility-views') || {}).innerText?.includes('released:')",
        timeout=60_000,
    )

    # the candidate explorer lists the lattice of the three QIs
    page.locator(".wb-list-candidates").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.wb-candidates tbody tr').length > 0", timeout=120_000
    )
    page.wait_for_selector(".wb-lattice .js-plotly-plot", timeout=60_000)
    assert "level of age" in page.inner_text(".wb-candidate-compare")

    # layout: nothing off-screen at 1280 px
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.wait_for_timeout(500)
    page.locator(".wb-tuner").screenshot(path=str(shot_dir / "tune_tuner_1280.png"))
    page.locator(".wb-pipeline").screenshot(path=str(shot_dir / "tune_steps_1280.png"))
    page.locator(".wb-candidates-panel").screenshot(path=str(shot_dir / "tune_candidates_1280.png"))
    offscreen = page.evaluate(OFFSCREEN)
    assert offscreen == [], "\n".join(offscreen)

    # 5. export recipe, release, bundle
    for button, name in [
        (".wb-export-recipe", "people.recipe.yaml"),
        (".wb-save-release", "people.release.csv"),
        (".wb-save-pipeline-bundle", "people.pipeline-bundle.json"),
    ]:
        page.locator(button).click()
        page.wait_for_function(
            "(n) => document.querySelector('.wb-pipeline-saved').innerText.includes(n)",
            arg=name,
            timeout=120_000,
        )
    full_screenshot(page, shot_dir / "tune_pipeline.png")
    out = tmp / "out"
    recipe = out / "people.recipe.yaml"
    assert "drop_columns" not in recipe.read_text()  # the undone step is not exported
    bundle = json.loads((out / "people.pipeline-bundle.json").read_text())
    assert bundle["transformation"]["strategy"] == "recipe"
    assert "P00001" not in json.dumps(bundle)

    # 6. the CLI reproduces the release byte for byte
    cli_out = tmp / "cli.csv"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "workbench",
            "transform",
            str(csv),
            "--recipe",
            str(recipe),
            "--output",
            str(cli_out),
        ],
        check=True,
        cwd=tmp,
        timeout=300,
    )
    assert cli_out.read_bytes() == (out / "people.release.csv").read_bytes()
    assert "person_id" not in pd.read_csv(cli_out).columns
    assert page.js_errors == [], page.js_errors
