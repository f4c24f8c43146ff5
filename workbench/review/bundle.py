"""The assessment bundle: everything an ethics board reviews, as aggregates only.

A bundle is a JSON document written by the notebooks and by ``workbench assess/anonymize
--bundle``; the Voila dashboard and ``workbench report`` render it. It never holds record-level
data: :func:`check_no_leak` scans the serialised bundle for the values of the datasets' direct
identifiers (and any other values the caller names) and refuses to save if one appears.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from .._io import atomic_write_text
from .._results import as_dict
from ..dataset import Dataset, as_pandas
from ..errors import ConfigError, LeakError, MissingFileError

__all__ = [
    "BUNDLE_FORMAT",
    "AssessmentBundle",
    "DatasetSummary",
    "LeakError",
    "check_no_leak",
    "check_bundle",
    "identifier_like_values",
    "split_forbidden",
    "identifier_values",
    "category_shares",
]

BUNDLE_FORMAT = "workbench-assessment-bundle"
BUNDLE_VERSION = 1
_MIN_TOKEN = 3  # shorter identifier values ("1", "ab") would match by chance everywhere
#: Largest bundle file read: aggregates of the largest sample take well under 1 MB.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class DatasetSummary:
    """What a reviewer may know about a dataset: owner, size, roles, fingerprint."""

    name: str
    department: str | None = None
    records: int | None = None
    file: str | None = None  # file name only, never a full path
    sha256: str | None = None
    roles: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dataset(cls, dataset: Dataset, roles: Any = None) -> DatasetSummary:
        role_dict: dict[str, str] = {}
        if roles is not None:
            raw = roles.to_dict() if hasattr(roles, "to_dict") else dict(roles)
            role_dict = dict(raw.get("columns", raw))
            role_dict = {k: getattr(v, "value", v) for k, v in role_dict.items()}
        return cls(
            name=dataset.name,
            department=dataset.department,
            records=dataset.n_rows,
            file=Path(dataset.source).name if dataset.source else None,
            sha256=dataset.sha256,
            roles=role_dict,
        )


@dataclass(frozen=True)
class AssessmentBundle:
    """A reviewable assessment: datasets, roles, risk before/after, transformation, utility.

    Every section is the ``to_dict()`` form of a core result, so the charts in
    :mod:`workbench.review.charts` draw it directly.
    """

    title: str
    datasets: tuple[Mapping[str, Any], ...] = ()
    risk_before: Mapping[str, Any] | None = None
    risk_after: Mapping[str, Any] | None = None
    transformation: Mapping[str, Any] | None = None
    rationale: str = ""
    utility: Mapping[str, Any] | None = None
    distributions: Mapping[str, Any] = field(default_factory=dict)
    frontier: Mapping[str, Any] | None = None
    linkage: Mapping[str, Any] | None = None
    matrix: Mapping[str, Any] | None = None
    scenarios: Mapping[str, Any] | None = None
    dp: Mapping[str, Any] | None = None
    synthetic: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None
    gate: Mapping[str, Any] | None = None
    provenance: tuple[Mapping[str, Any], ...] = ()
    programme: Mapping[str, Any] | None = None
    author: str | None = None
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    )
    tool_version: str = __version__

    # ----------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        title: str,
        *,
        datasets: Sequence[Dataset | DatasetSummary | Mapping] = (),
        roles: Mapping[str, Any] | None = None,
        risk_before: Any = None,
        risk_after: Any = None,
        transformation: Any = None,
        rationale: str = "",
        utility: Any = None,
        distributions: Mapping[str, Any] | None = None,
        frontier: Any = None,
        linkage: Any = None,
        matrix: Any = None,
        scenarios: Any = None,
        dp: Any = None,
        synthetic: Any = None,
        policy: Any = None,
        gate: Any = None,
        provenance: Iterable[Any] = (),
        programme: Any = None,
        author: str | None = None,
    ) -> AssessmentBundle:
        """Assemble a bundle from core result objects (or their dictionaries)."""
        roles = roles or {}
        summaries = []
        for ds in datasets:
            if isinstance(ds, Dataset):
                ds = DatasetSummary.from_dataset(ds, roles.get(ds.name))
            summaries.append(asdict(ds) if isinstance(ds, DatasetSummary) else dict(ds))

        from ..governance.access import render_for

        def opt(x: Any) -> dict | None:
            if x is None:
                return None
            # a bundle is the reviewer's view: record-level data is refused, not serialised
            render_for("reviewer", x)
            return _jsonable(as_dict(x))

        return cls(
            title=title,
            datasets=tuple(_jsonable(s) for s in summaries),
            risk_before=opt(risk_before),
            risk_after=opt(risk_after),
            transformation=opt(transformation),
            rationale=rationale,
            utility=opt(utility),
            distributions=_jsonable(dict(distributions or {})),
            frontier=opt(frontier),
            linkage=opt(linkage),
            matrix=opt(matrix),
            scenarios=opt(scenarios),
            dp=opt(dp),
            synthetic=opt(synthetic),
            policy=opt(policy),
            gate=opt(gate),
            provenance=tuple(_jsonable(as_dict(p)) for p in provenance),
            programme=opt(programme),
            author=author,
        )

    # --------------------------------------------------------------- rendering
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary with a format marker and version."""
        d = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION}
        d.update(_jsonable(asdict(self)))
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | Path, forbidden: Iterable[str] = ()) -> Path:
        """Write atomically after checking that none of ``forbidden`` appears in the bundle."""
        text = self.to_json()
        check_no_leak(text, forbidden)
        return atomic_write_text(path, text + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "bundle") -> AssessmentBundle:
        """Rebuild from :meth:`to_dict` output, with clear errors for foreign files.

        The leak check runs again on what was read (:func:`check_bundle`): a bundle that holds
        values shaped like direct identifiers is refused, whoever wrote it.
        """
        if not isinstance(d, Mapping) or d.get("format") != BUNDLE_FORMAT:
            raise ConfigError(
                f'{source}: not an assessment bundle (expected "format": "{BUNDLE_FORMAT}")'
            )
        if d.get("version") != BUNDLE_VERSION:
            raise ConfigError(
                f"{source}: bundle version {d.get('version')!r} is not supported; "
                f"expected {BUNDLE_VERSION}"
            )
        if not d.get("title"):
            raise ConfigError(f"{source}: bundle has no title")
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["datasets"] = tuple(kwargs.get("datasets") or ())
        kwargs["provenance"] = tuple(kwargs.get("provenance") or ())
        bundle = cls(**kwargs)
        check_bundle(bundle, source)  # a file may have been edited since it was leak-checked
        return bundle

    @classmethod
    def load(cls, path: str | Path) -> AssessmentBundle:
        """Read a bundle file written by :meth:`save`."""
        p = Path(path)
        if not p.exists():
            raise MissingFileError("bundle file not found", p)
        size = p.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise ConfigError(
                f"{p}: {size:,} bytes; an assessment bundle holds aggregates only and is at most "
                f"{MAX_BUNDLE_BYTES:,} bytes"
            )
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{p}: not valid JSON ({exc})") from exc
        return cls.from_dict(doc, source=str(p))


def _jsonable(obj: Any) -> Any:
    """Recursively turn tuples, numpy scalars and mappings into plain JSON types."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "shape", None) == ():
        obj = obj.item()
    if isinstance(obj, float) and obj != obj:  # NaN is not JSON
        return None
    if isinstance(obj, float) and obj in (float("inf"), float("-inf")):
        return None
    if hasattr(obj, "value") and hasattr(obj, "name") and type(obj).__module__ != "builtins":
        return obj.value  # enums
    if isinstance(obj, Path):
        return obj.name
    return obj


def identifier_values(data: Any, columns: Iterable[str]) -> set[str]:
    """Distinct string values of the given (direct-identifier) columns, for leak checks."""
    df = as_pandas(data)
    out: set[str] = set()
    for c in columns:
        if c in df.columns:
            out.update(str(v) for v in df[c].dropna().unique())
    return out


_WORDY = re.compile(r"[^\W\d_]+(?:[ '\-][^\W\d_]+)*")
_TOKEN = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")


def split_forbidden(values: Iterable[Any]) -> tuple[set[str], set[str]]:
    """Split identifier values into (checked as substrings, checked as whole words).

    Record ids, e-mail addresses and phone numbers contain digits or symbols and must not
    appear anywhere. Values made of letters only (names) are checked as whole words: the
    surname "Lin" is a leak in "Lin, 1962", not in "Linking" (substring matching would refuse
    every bundle that mentions linkage).
    """
    strict, words = set(), set()
    for v in values:
        v = str(v)
        if len(v) >= _MIN_TOKEN:
            (words if _WORDY.fullmatch(v) else strict).add(v)
    return strict, words


def check_no_leak(
    text: str,
    forbidden: Iterable[str],
    context: str = "would be written to the bundle; bundles may hold aggregates only",
) -> None:
    """Raise :class:`LeakError` if a forbidden value (length >= 3) occurs in ``text``.

    Values with digits or symbols match anywhere; names match as whole words (see
    :func:`split_forbidden`). The error names the count only, never the value itself;
    ``context`` says where the values are.
    """
    strict, words = split_forbidden(forbidden)
    hits = sum(1 for v in strict if v in text)
    if words:
        tokens = set(_TOKEN.findall(text))
        hits += sum(
            1
            for w in words
            if w in tokens or (" " in w and re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text))
        )
    if hits:
        raise LeakError(f"{hits} identifier value(s) {context}")


# Who prepared and checked a review is part of it (author, provenance users, the policy's
# steward, the reviewer of a combination): their names are not data subjects' names.
_STAFF_KEYS = frozenset({"author", "user", "steward", "reviewer", "owner"})
# bounded repeats (RFC 5321 lengths): a long run of letters without "@" is scanned in linear time
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+'\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{7,}")
_WORD = re.compile(r"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*,?")


def _strings(obj: Any, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], str]]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield path, str(k)
            yield from _strings(v, (*path, str(k)))
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _strings(v, path)
    elif isinstance(obj, str):
        yield path, obj


def _names_in(text: str, first: frozenset[str], last: frozenset[str]) -> set[str]:
    """Words of "First Last", "First Middle Last" and "Last, First" spans of common names.

    In free text only capitalised words count ("Will Young" is a name, "will young" is not); a
    whole value of two or three words counts in any case (a category label). The words are
    returned one by one, so a name split over a line break or two spaces is still caught.
    """
    from ..profiling.profiler import _fold

    words = _WORD.findall(text)
    label = 2 <= len(words) <= 3 and len(text.split()) == len(words)
    out: set[str] = set()
    for n in (2, 3):
        for i in range(len(words) - n + 1):
            ws = words[i : i + n]
            if not ((label and n == len(words)) or all(w[:1].isupper() for w in ws)):
                continue
            plain = [w.rstrip(",") for w in ws]
            f = [_fold(w) for w in plain]
            if n == 2 and ws[0].endswith(","):  # "Smith, John"
                hit = f[0] in last and f[1] in first
            else:
                hit = not any(w.endswith(",") for w in ws[:-1]) and f[0] in first and f[-1] in last
            if hit:
                out.update(plain)
    return out


def identifier_like_values(doc: Any) -> set[str]:
    """Strings in a bundle that look like a person's direct identifier.

    E-mail addresses, checksum-valid national ids, payment cards and IBANs (the detectors of
    :mod:`workbench.profiling.profiler`), and person names (a common given name followed by a common
    surname). A bundle written by the workbench holds none: the reviewer re-checks a loaded
    bundle with :func:`check_no_leak` on these values (:func:`check_bundle`), because the
    dataset whose identifiers were checked at save time is not at hand when it is rendered.
    Names of the people who prepared the review (author, provenance users, stewards,
    reviewers) are allowed.
    """
    from ..profiling.profiler import _iban_ok, _name_lists, _national_id, _payment_card

    first, last = _name_lists()
    found: set[str] = set()
    staff: set[str] = set()
    for path, text in _strings(doc):
        if len(text) > 100_000:
            text = text[:100_000]  # bounded: a bundle string longer than this is not reviewed
        if "@" in text:
            found.update(_EMAIL.findall(text))
        for code in {text.strip(), *_CODE.findall(text)}:
            if any(ch.isdigit() for ch in code) and (
                _national_id(code) or _payment_card(code) or _iban_ok(code)
            ):
                found.add(code)
        names = _names_in(text, first, last)
        if _STAFF_KEYS & set(path) or (path and path[-1] in _STAFF_KEYS):
            staff |= names
        else:
            found |= names
    return found - staff


def check_bundle(bundle: Any, source: str = "bundle") -> None:
    """Re-run the leak check on a bundle about to be rendered (report, dashboard).

    A bundle was checked against its dataset's identifiers when it was saved; a file edited
    afterwards (or written by another tool) was not. Raises :class:`LeakError` naming the
    count and the file, never a value.
    """
    doc = bundle.to_dict() if hasattr(bundle, "to_dict") else bundle
    text = json.dumps(doc, ensure_ascii=False, default=str)
    check_no_leak(
        text,
        identifier_like_values(doc),
        context=f"in {source} look like direct identifiers (e-mail addresses, national id "
        "numbers, payment cards, IBANs or person names); a review shows aggregates only, so "
        "it is not rendered. Rebuild the bundle with the workbench (--bundle or a notebook)",
    )


def category_shares(data: Any, column: str, top: int = 20, min_count: int = 1) -> dict[str, float]:
    """Share of records per category (top ``top``; the rest pooled as "other").

    Categories with fewer than ``min_count`` records are pooled too, so rare values (which can
    single people out) do not reach a dashboard.
    """
    s = as_pandas(data)[column].astype("string").fillna("(missing)")
    counts = s.value_counts()
    n = int(counts.sum())
    keep = counts[(counts >= min_count)].head(top)
    shares = {str(k): float(v) / n for k, v in keep.items()}
    rest = n - int(keep.sum())
    if rest:
        shares["other"] = shares.get("other", 0.0) + rest / n
    return shares
