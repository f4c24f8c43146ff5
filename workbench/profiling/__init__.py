"""Step 2, profiling and roles: what each column holds, and which role it plays.

* :mod:`.profiler` -- :func:`~.profiler.profile`: kinds, formats, uniqueness, patterns;
* :mod:`.roles` -- :func:`~.roles.suggest_roles` and the :class:`~.roles.RoleMap`;
* ``vocabularies/`` -- the column-name vocabularies the role suggestions match, as data.
"""
