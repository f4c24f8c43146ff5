"""De-identification transforms: small parameterised objects applied to a table.

Every transform is a frozen dataclass holding only its parameters. ``apply(data)`` never mutates
its input; it returns a :class:`TransformResult` with a new pandas DataFrame and what changed
(cells changed, cells and records suppressed). ``to_dict()`` gives the parameters for the
provenance log (secrets are never parameters: the pseudonymization key is read at apply time and
only its *source name* is recorded), and :meth:`Transform.from_dict` rebuilds the object, so a
:class:`Pipeline` round-trips through JSON.

Conventions shared by all transforms
------------------------------------
* A suppressed value is the string ``"*"`` (:data:`SUPPRESSED`), as in ARX and sdcMicro's output.
  Numeric columns that receive a ``"*"`` become ``object`` columns.
* Cells that are already ``"*"`` or missing are left alone by the value-changing transforms
  (generalization, rounding, noise, coding, PRAM), so the order of steps never "un-suppresses".
* Record suppression marks the quasi-identifiers of a whole record ``"*"`` and reports the record
  in :attr:`TransformResult.suppressed`; downstream statistics exclude such records (as ARX does).
* Row count and order never change; :class:`DropColumns` is the only transform that removes
  columns.

Layout
------
One module per transform, each registering itself by subclassing :class:`Transform`:

* :mod:`.base` -- :class:`Transform` (the registry), :class:`TransformResult`, shared helpers;
* :mod:`.drop_columns`, :mod:`.pseudonymize` -- direct identifiers;
* :mod:`.generalization`, :mod:`.record_suppression`, :mod:`.local_suppression` --
  quasi-identifiers (generalization and suppression);
* :mod:`.top_bottom_coding`, :mod:`.rounding`, :mod:`.noise`, :mod:`.microaggregation`,
  :mod:`.pram` -- perturbation of values;
* :mod:`.pipeline` -- :class:`Pipeline`, the steps in order.
"""

from ..pseudonym import (
    DEFAULT_KEY_ENV,
    MIN_KEY_BYTES,
    load_pseudonym_key,
    pseudonym_collision_probability,
    pseudonymize_values,
)
from .base import SUPPRESSED, HierarchyLike, Transform, TransformResult
from .drop_columns import DropColumns
from .generalization import FullDomainGeneralization
from .local_suppression import LocalSuppression, is_k_anonymous_wildcard, wildcard_frequencies
from .microaggregation import Microaggregation, mdav_groups
from .noise import AdditiveNoise, MultiplicativeNoise
from .pipeline import Pipeline, PipelineResult
from .pram import Pram, invariant_pram_matrix
from .pseudonymize import Pseudonymize
from .record_suppression import RecordSuppression
from .rounding import Rounding
from .top_bottom_coding import TopBottomCoding

__all__ = [
    "SUPPRESSED",
    "DEFAULT_KEY_ENV",
    "MIN_KEY_BYTES",
    "HierarchyLike",
    "TransformResult",
    "Transform",
    "DropColumns",
    "Pseudonymize",
    "FullDomainGeneralization",
    "RecordSuppression",
    "LocalSuppression",
    "TopBottomCoding",
    "Rounding",
    "AdditiveNoise",
    "MultiplicativeNoise",
    "Microaggregation",
    "Pram",
    "Pipeline",
    "PipelineResult",
    "load_pseudonym_key",
    "pseudonymize_values",
    "pseudonym_collision_probability",
    "wildcard_frequencies",
    "is_k_anonymous_wildcard",
    "mdav_groups",
    "invariant_pram_matrix",
]
