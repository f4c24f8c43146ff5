"""Validate the workbench's distance to closest record (DCR) against SDMetrics 0.32, same data.

SDMetrics 0.32 needs pandas < 3 and cannot share the workbench's environment, so this script
makes its own virtualenv (``python3 -m venv`` + ``pip install sdmetrics==0.32.0``; kept with
``--venv PATH`` for reruns, else a temporary one removed at the end) and runs SDMetrics'
``DCRBaselineProtection`` and ``DCROverfittingProtection`` there, as they are::

    .venv/bin/python bench/validate_sdmetrics.py [--venv /tmp/sdmetrics-venv]

Data: the sample city's population (six categorical columns, as in the Anonymeter validation),
shuffled with seed 0: 2,000 training and 2,000 holdout residents, and three "synthetic" tables:
a copy of the training rows, a perturbed copy (each cell replaced with probability 0.3 by the
same column's value in another random row: a partly memorising generator) and 2,000 other
residents (independent). Compared, per case:

* the median DCR to the training rows: ours sums the per-column distances (Gower-style),
  SDMetrics averages them, so ours / number of columns must equal theirs;
* the share of synthetic rows closer to training than to holdout: SDMetrics counts strict
  ``<``, ours counts a tie as one half (so that a generator that ignores who is in the training
  set scores 0.5), so ours minus half the tie share must equal theirs.

Writes ``bench/results/sdmetrics_validation.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLS = ["birth_year", "sex", "postal_code", "race_ethnicity", "income_band", "marital_status"]
N = 2000
SDMETRICS = "sdmetrics==0.32.0"

_SDMETRICS = r"""
import json, sys, warnings
import pandas as pd
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection
d, cases, cols = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
read = lambda name: pd.read_csv(f"{d}/{name}.csv", dtype=str)
train, holdout = read("train"), read("holdout")
metadata = {"columns": {c: {"sdtype": "categorical"} for c in cols}}
out = {"sdmetrics_version": __import__("sdmetrics").__version__}
for case in cases:
    syn = read(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = DCRBaselineProtection.compute_breakdown(train, syn, metadata, None)
        over = DCROverfittingProtection.compute_breakdown(train, syn, holdout, metadata, None)
    out[case] = {"baseline_protection": base, "overfitting_protection": over}
print(json.dumps(out, default=float))
"""


def _venv_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=600)
    done = subprocess.run(
        [str(python), "-c", "import sdmetrics; print(sdmetrics.__version__)"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or done.stdout.strip() != SDMETRICS.split("==")[1]:
        proc = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", SDMETRICS],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if proc.returncode != 0:
            raise SystemExit(f"cannot install {SDMETRICS}:\n{proc.stderr[-3000:]}")
    return python


def main() -> None:
    import numpy as np
    import pandas as pd

    from workbench.synth.attacks import _nearest, distance_to_closest_record, gower_encoder

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--venv", help="SDMetrics' own virtualenv (created if missing, then kept)")
    args = p.parse_args()

    pop = pd.read_csv(ROOT / "data/samples/city/population.csv", dtype=str)
    pop["birth_year"] = pop["date_of_birth"].str[:4]
    pop = pop[COLS].iloc[np.random.default_rng(0).permutation(len(pop))].reset_index(drop=True)
    train = pop.iloc[:N].reset_index(drop=True)
    rng = np.random.default_rng(1)
    perturbed = train.copy()
    for c in COLS:
        swap = rng.random(N) < 0.3
        perturbed.loc[swap, c] = train[c].to_numpy()[rng.integers(0, N, int(swap.sum()))]
    tables = {
        "train": train,
        "holdout": pop.iloc[N : 2 * N].reset_index(drop=True),
        "copy": train,
        "perturbed": perturbed,
        "independent": pop.iloc[2 * N : 3 * N].reset_index(drop=True),
    }
    cases = ["copy", "perturbed", "independent"]
    with tempfile.TemporaryDirectory() as d:
        for name, t in tables.items():
            t.to_csv(f"{d}/{name}.csv", index=False)
        if args.venv:
            python = _venv_python(Path(args.venv))
            theirs = _run(python, d, cases)
        else:
            with tempfile.TemporaryDirectory() as venv:
                theirs = _run(_venv_python(Path(venv) / "venv"), d, cases)
    ours, checks = {}, {}
    tr, ho = tables["train"], tables["holdout"]
    for case in cases:
        syn = tables[case]
        dcr = distance_to_closest_record(tr, syn, ho, COLS, n_records=N).to_dict()
        enc = gower_encoder([syn, tr, ho], COLS)
        _, d_train = _nearest(enc.tables[0], enc.tables[1], enc.numeric)
        _, d_hold = _nearest(enc.tables[0], enc.tables[2], enc.numeric)
        ties = float((d_train == d_hold).mean())
        ours[case] = {**dcr, "share_ties": ties}
        t = theirs[case]
        their_median = t["baseline_protection"]["median_DCR_to_real_data"]["synthetic_data"]
        their_closer = t["overfitting_protection"]["synthetic_data_percentages"][
            "closer_to_training"
        ]
        checks[case] = {
            "median_dcr_ours_per_column": dcr["median_dcr_training"] / len(COLS),
            "median_dcr_sdmetrics": their_median,
            "closer_to_training_ours_strict": dcr["share_closer_to_training"] - ties / 2,
            "closer_to_training_sdmetrics": their_closer,
            "agree": abs(dcr["median_dcr_training"] / len(COLS) - their_median) < 1e-9
            and abs(dcr["share_closer_to_training"] - ties / 2 - their_closer) < 1e-9,
        }
    out = {"workbench": ours, "sdmetrics": theirs, "comparison": checks}
    path = ROOT / "bench" / "results" / "sdmetrics_validation.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(checks, indent=2))
    for case in cases:
        t = theirs[case]
        print(
            f"{case}: DCRBaselineProtection {t['baseline_protection']['score']:.3f}, "
            f"DCROverfittingProtection {t['overfitting_protection']['score']:.3f}"
        )
    print(f"wrote {path}")


def _run(python: Path, data_dir: str, cases: list[str]) -> dict:
    proc = subprocess.run(
        [str(python), "-c", _SDMETRICS, data_dir, ",".join(cases), ",".join(COLS)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"SDMetrics failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
