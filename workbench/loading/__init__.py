"""Step 1, loading: read a department's table into a :class:`~workbench.dataset.Dataset`.

* :mod:`.readers` -- :func:`~.readers.load` for CSV, Excel, Parquet and JSON files;
* :mod:`.sql` -- a read-only DuckDB query over files inside a sandbox;
* :mod:`.limits` -- safety limits on untrusted input, read at call time.
"""
