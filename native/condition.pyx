# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Version 2 features (shape, shares, squared envelope spectrum, defect lines), SSE2 build."""

# Built by setup.py as ``app.features._condition``; call it through
# ``app.features.condition``, which picks this or the AVX2 build and assembles features.

include "condition_body.pxi"
