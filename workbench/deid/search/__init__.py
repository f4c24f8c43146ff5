"""Searches for a release that meets the privacy models with the least loss.

* :mod:`.lattice` -- optimal full-domain generalization (Flash-style lattice search);
* :mod:`.evaluation` -- the criteria, and judging one node against them;
* :mod:`.frontier` -- the risk-utility frontier over the same lattice;
* :mod:`.mondrian` -- Mondrian multidimensional local recoding.
"""
