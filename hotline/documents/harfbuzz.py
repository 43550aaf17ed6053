"""Whether libharfbuzz-subset is there: WeasyPrint subsets fonts about ten times faster with it."""

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
# The names WeasyPrint's text/ffi.py tries; without the library it subsets with fontTools.
_LIBRARY_NAMES = (
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
)
MISSING_MESSAGE = (
    "libharfbuzz-subset is missing: PDF letters render about ten times slower "
    "(install libharfbuzz-subset0, e.g. with scripts/install-system-deps)"
)


def _load_library() -> bool:
    """Whether the dynamic loader finds libharfbuzz-subset, as WeasyPrint looks for it."""
    for name in _LIBRARY_NAMES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return ctypes.util.find_library("harfbuzz-subset") is not None


def harfbuzz_subset_available() -> bool:
    """Whether WeasyPrint can subset fonts with HarfBuzz (fast) rather than fontTools (slow)."""
    return _load_library()


def warn_if_harfbuzz_subset_missing() -> bool:
    """Log a warning when libharfbuzz-subset is missing; returns whether it is available."""
    available = harfbuzz_subset_available()
    if not available:
        log.warning(MISSING_MESSAGE)
    return available
