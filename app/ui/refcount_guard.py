"""Keeps PySide6 6.12 on CPython 3.11 from crashing the interpreter (None/True/False refs).

PySide6 6.12.0 (the cp310-abi3 wheel) returns ``None`` from every void method and ``True``
from ``Signal.emit()``/``disconnect()`` without taking a reference for the caller: correct
on CPython >= 3.12, where these singletons are immortal (PEP 683), wrong on 3.11, where each
call drops one reference too many. A GUI makes such calls all the time; after some tens of
thousands of them CPython aborts with "Fatal Python error: none_dealloc" (or bool_dealloc).

The cure here is what CPython 3.12 does: give the three singletons so many references that
the count can never reach zero. It is applied only on CPython < 3.12, and only when a probe
sees the bug, so a fixed PySide6 or a newer Python leaves the interpreter untouched.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: References added to each singleton: beyond any number of leaked calls in a process's life,
#: far below the Py_ssize_t limit.
HEADROOM = 1 << 56

_PROBE_CALLS = 64
_SINGLETONS = (None, True, False)
_applied = False


def _leaks(singleton: object, call) -> bool:
    """True if ``call()`` leaves ``singleton`` with fewer references than before."""
    before = sys.getrefcount(singleton)
    for _ in range(_PROBE_CALLS):
        call()
    # Half the calls is proof enough; another thread may take or drop a few meanwhile.
    return sys.getrefcount(singleton) - before <= -_PROBE_CALLS // 2


def _pyside_drops_references() -> bool:
    from PySide6.QtCore import QObject

    probe = QObject()
    return (_leaks(None, lambda: probe.setObjectName("probe"))
            or _leaks(True, probe.destroyed.emit))  # a fresh object: nobody listens


def protect_singletons() -> bool:
    """Apply the workaround if this interpreter needs it; True if it is in effect."""
    global _applied
    if _applied:
        return True
    if (sys.implementation.name != "cpython" or sys.version_info >= (3, 12)
            or hasattr(sys, "getobjects")):  # immortal singletons, or a debug object layout
        return False
    if not _pyside_drops_references():
        return False
    for singleton in _SINGLETONS:
        # ob_refcnt is the first field of every object in a release build of CPython 3.11.
        ctypes.c_ssize_t.from_address(id(singleton)).value += HEADROOM
    _applied = True
    log.info("PySide6 drops references to None/True/False on this Python; made them immortal")
    return True
