"""The same class-table scan on PySpark (local[1]) gives the same table and profile.

Never skipped silently: a missing PySpark or Java is a test failure, not a skip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.risk import assess, build_class_table

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

DATA = pd.DataFrame(
    {
        "age": [30, 30, 30, 41, 41, 52, None, 41],
        "sex": ["F", "F", "F", "M", "M", "F", "M", None],
        "w": [10.0, 10.0, 10.0, 20.0, 20.0, 50.0, 5.0, 7.5],
        "diagnosis": ["flu", "cold", "flu", "flu", "flu", "asthma", "flu", "cold"],
    }
)


def _spark_frame(spark):
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    schema = StructType(
        [
            StructField("age", DoubleType()),
            StructField("sex", StringType()),
            StructField("w", DoubleType()),
            StructField("diagnosis", StringType()),
        ]
    )
    rows = [
        tuple(None if pd.isna(v) else v for v in r) for r in DATA.itertuples(index=False, name=None)
    ]
    return spark.createDataFrame(rows, schema)


def test_spark_class_table_and_profile_match_pandas(spark) -> None:
    sdf = _spark_frame(spark)
    local = build_class_table(DATA, ["age", "sex"], weights="w", sensitive=["diagnosis"])
    remote = build_class_table(sdf, ["age", "sex"], weights="w", sensitive=["diagnosis"])
    assert remote.dictionaries == local.dictionaries
    np.testing.assert_array_equal(remote.codes, local.codes)
    np.testing.assert_array_equal(remote.counts, local.counts)
    np.testing.assert_allclose(remote.weight_sums, local.weight_sums)
    a = assess(DATA, ["age", "sex"], weights="w", sensitive=["diagnosis"], population_size=800)
    b = assess(sdf, ["age", "sex"], weights="w", sensitive=["diagnosis"], population_size=800)
    assert a.to_dict() == b.to_dict()
