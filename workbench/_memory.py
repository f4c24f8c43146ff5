"""Memory the machine has, and the check a long run makes before it starts (issue #12).

A run whose estimated peak exceeds the available memory is refused up front with what would
work instead (a smaller option, another engine), rather than swapping or being killed later.
"""

from __future__ import annotations

import os

from .errors import ResourceLimitError

__all__ = ["available_memory", "check_memory"]


def available_memory() -> int:
    """Bytes available to a new allocation: ``MemAvailable`` on Linux, else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62


def check_memory(estimate: int, what: str, instead: str, available: int | None = None) -> None:
    """Raise :class:`ResourceLimitError` when ``estimate`` bytes exceed ``available``.

    ``what`` names the step ("SUDA2 over 50,000,000 records and 6 QIs"), ``instead`` says what
    would fit ("--suda-max-size 2, or a sample"). The limit is inclusive: an estimate equal to
    the available memory is allowed.
    """
    have = available_memory() if available is None else int(available)
    if estimate > have:
        raise ResourceLimitError(
            f"{what} needs about {_gib(estimate)} of memory and this machine has "
            f"{_gib(have)} available; {instead}"
        )


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"
