"""What a release does with direct identifiers: the modes, in a module light enough for ``--help``.

The behaviour lives in :mod:`workbench.deid.release`; the CLI needs only the names to build its
parsers without importing pandas.
"""

RELEASE_MODES: tuple[str, ...] = ("drop", "pseudonymize", "keep")
