"""Safety limits on untrusted input, in one place.

Every file the workbench reads is hostile until proven otherwise. A 1.4 KB ``.xlsx`` can declare
the range ``A1:XFD1048576`` (17 billion cells, which openpyxl pads row by row into gigabytes), and
a 200 KB zip can inflate to hundreds of megabytes of XML. The loader checks these limits *before*
the expensive work and raises :class:`~workbench.errors.InputLimitError` naming the file, the
measured value and the limit. The limits are module attributes read at call time, so a deployment
(or a test) can change them::

    import workbench.loading.limits
    workbench.loading.limits.XLSX_MAX_CELLS = 50_000_000
"""

from __future__ import annotations

__all__ = [
    "XLSX_MAX_CELLS",
    "XLSX_MAX_UNCOMPRESSED_BYTES",
    "XLSX_MAX_COMPRESSION_RATIO",
    "XLSX_MAX_MEMBERS",
    "XLSX_MAX_SECONDS",
    "PG_STATEMENT_TIMEOUT_SECONDS",
    "PG_CONNECT_TIMEOUT_SECONDS",
    "SQL_MAX_CHARS",
]

#: Cells a worksheet may declare (its ``<dimension>``) or hold once read (rows x columns,
#: empty rows counted as one cell). 20 million cells is about 1 million rows x 20 columns,
#: the size of Excel's own row limit for a typical table.
XLSX_MAX_CELLS = 20_000_000

#: Total uncompressed size of all members of an ``.xlsx`` archive, as declared in the zip
#: directory (Python's zipfile never inflates a member beyond its declared size).
XLSX_MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024

#: Largest uncompressed/compressed ratio of one archive member. Spreadsheet XML compresses
#: about 5-30x; very repetitive sheets reach ~100x; zip bombs 1000x and more.
XLSX_MAX_COMPRESSION_RATIO = 200.0

#: Members an ``.xlsx`` archive may have (a workbook has a few dozen).
XLSX_MAX_MEMBERS = 10_000

#: Wall-clock seconds reading one worksheet may take before the load is abandoned. openpyxl
#: reads roughly 10 000 to 100 000 cells a second, so a sheet within XLSX_MAX_CELLS normally
#: finishes well inside this; the bound stops a worksheet built to be slow.
XLSX_MAX_SECONDS = 300.0

#: A database read (PostgreSQL ``statement_timeout``, also the idle-in-transaction bound) stops
#: after this many seconds: a query over a huge table or a slow view must not hang an ETL gate.
PG_STATEMENT_TIMEOUT_SECONDS = 600.0

#: Seconds to wait for a database server to accept the connection.
PG_CONNECT_TIMEOUT_SECONDS = 15.0

#: Longest SQL text accepted as a database query: a query is a few lines, not a payload.
SQL_MAX_CHARS = 100_000
