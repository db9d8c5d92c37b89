# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Version 2 features, AVX2 build: the same source as condition.pyx with 4-double vectors."""

# setup.py compiles this module with AVX2 enabled (and without FMA contraction, so each
# lane's arithmetic, and so every result, is bit for bit that of the SSE2 build).
# app.features.condition loads it only when the CPU and the OS support AVX2.

cdef extern from *:
    """
    #define PM_WANT_AVX2 1
    """

include "condition_body.pxi"
