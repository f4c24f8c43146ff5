"""Step 6, review: what a privacy officer reads and signs off.

* :mod:`.assessment` -- build an :class:`~.bundle.AssessmentBundle` from the core calls;
* :mod:`.bundle` -- the bundle itself, and the leak check every rendering passes;
* :mod:`.figures` -- every number a review shows, computed once from a bundle;
* :mod:`.report` -- the HTML report; :mod:`.charts` -- the chart specifications.
"""
