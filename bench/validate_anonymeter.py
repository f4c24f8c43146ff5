"""Validate the workbench's Anonymeter-style evaluators against Anonymeter itself, on the same data.

Anonymeter 1.1 pins numpy < 1.27 and cannot share the workbench's environment, so it runs in its
own virtualenv (Python 3.11, numpy 1.26)::

    python3 -m venv /tmp/anon-venv && /tmp/anon-venv/bin/pip install "anonymeter==1.1.*"
    .venv/bin/python bench/validate_anonymeter.py --anonymeter-python /tmp/anon-venv/bin/python

The sample city's population is split into training and holdout (5,000 residents each, seed 0);
two "synthetic" tables are judged: a copy of the training rows (every attack must succeed) and
an independent draw (5,000 other residents; risk near zero). Both implementations run the same
three attacks (multivariate singling out with 3 columns, linkability with the same two column
sets and one neighbour, inference of the income band) with 500 attacks; queries and targets are
drawn at random by each, so the risks are compared with their intervals, not digit for digit.
Writes ``bench/results/anonymeter_validation.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLS = ["birth_year", "sex", "postal_code", "race_ethnicity", "income_band", "marital_status"]
AUX_A, AUX_B = ["birth_year", "sex", "postal_code"], ["race_ethnicity", "marital_status"]
SECRET = "income_band"
N_ATTACKS = 500

_ANONYMETER = r"""
import json, sys
import pandas as pd
from anonymeter.evaluators import (
    InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator,
)
d, cases, aux_a, aux_b, secret, n = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), \
    sys.argv[4].split(","), sys.argv[5], int(sys.argv[6])
read = lambda name: pd.read_csv(f"{d}/{name}.csv", dtype=str)
ori, control = read("train"), read("holdout")
out = {}
for case in cases:
    syn = read(case)
    res = {}
    so = SinglingOutEvaluator(ori=ori, syn=syn, control=control, n_attacks=n, n_cols=3)
    so.evaluate(mode="multivariate")
    li = LinkabilityEvaluator(ori=ori, syn=syn, control=control, n_attacks=n,
                              aux_cols=(aux_a, aux_b), n_neighbors=1)
    li.evaluate(n_jobs=1)
    inf = InferenceEvaluator(ori=ori, syn=syn, control=control, aux_cols=aux_a + aux_b,
                             secret=secret, n_attacks=n)
    inf.evaluate(n_jobs=1)
    for name, ev in (("singling_out", so), ("linkability", li), ("inference", inf)):
        r = ev.results()
        risk = ev.risk(confidence_level=0.95)
        res[name] = {
            "risk": float(risk.value), "risk_ci": [float(x) for x in risk.ci],
            "main": float(r.attack_rate.value), "control": float(r.control_rate.value),
            "baseline": float(r.baseline_rate.value),
        }
    out[case] = res
print(json.dumps(out))
"""


def main() -> None:
    import numpy as np
    import pandas as pd

    from workbench.synth.attacks import inference, linkability, singling_out

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--anonymeter-python", required=True, help="python of Anonymeter's own venv")
    args = p.parse_args()

    pop = pd.read_csv(ROOT / "data/samples/city/population.csv", dtype=str)
    pop["birth_year"] = pop["date_of_birth"].str[:4]
    pop = pop[COLS].iloc[np.random.default_rng(0).permutation(len(pop))].reset_index(drop=True)
    tables = {
        "train": pop.iloc[:5000],
        "holdout": pop.iloc[5000:10000],
        "copy": pop.iloc[:5000],
        "independent": pop.iloc[10000:15000],
    }
    tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
    cases = ["copy", "independent"]
    with tempfile.TemporaryDirectory() as d:
        for name, t in tables.items():
            t.to_csv(f"{d}/{name}.csv", index=False)
        proc = subprocess.run(
            [
                args.anonymeter_python,
                "-c",
                _ANONYMETER,
                d,
                ",".join(cases),
                ",".join(AUX_A),
                ",".join(AUX_B),
                SECRET,
                str(N_ATTACKS),
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=3600,
            check=True,
        )
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    ours = {}
    tr, ho = tables["train"], tables["holdout"]
    for case in cases:
        syn = tables[case]
        ours[case] = {
            a.attack: {
                "risk": a.risk,
                "risk_ci": list(a.risk_ci),
                "main": a.main.value,
                "control": a.control.value,
                "baseline": a.baseline.value,
            }
            for a in (
                singling_out(tr, syn, ho, COLS, n_attacks=N_ATTACKS, n_cols=3),
                linkability(tr, syn, ho, AUX_A, AUX_B, n_attacks=N_ATTACKS),
                inference(tr, syn, ho, AUX_A + AUX_B, SECRET, n_attacks=N_ATTACKS),
            )
        }
    agree = {
        case: {
            name: ours[case][name]["risk_ci"][0] <= theirs[case][name]["risk_ci"][1]
            and theirs[case][name]["risk_ci"][0] <= ours[case][name]["risk_ci"][1]
            for name in ours[case]
        }
        for case in cases
    }
    out = {"workbench": ours, "anonymeter": theirs, "intervals_overlap": agree}
    path = ROOT / "bench" / "results" / "anonymeter_validation.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(agree, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
