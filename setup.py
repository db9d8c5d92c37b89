"""Build the Cython kernels in native/ as private modules of app.features."""

# Metadata and package discovery live in pyproject.toml; this file only adds
# ext_modules, because extension modules cannot be declared there.
# native/NAME.pyx becomes the extension app.features._NAME.  With
# `pip install -e .` setuptools builds extensions in place, so the compiled
# file lands in app/features/ next to its wrapper; `pip wheel .` puts it in
# the wheel at the same package path.

import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent

if sys.platform == "win32":
    # MSVC: /O2 is its top speed level; /openmp is the classic OpenMP 2.0
    # runtime, which is all prange needs and ships with the VC++ redistributable.
    COMPILE_ARGS = ["/O2", "/openmp"]
    LINK_ARGS = []
else:
    # gcc/clang: -fopenmp must be given to the linker too, so libgomp/libomp is
    # linked in.
    COMPILE_ARGS = ["-O3", "-fopenmp"]
    LINK_ARGS = ["-fopenmp"]


# native/NAME_avx2.pyx is a second build of NAME.pyx for CPUs with AVX2 (the wrapper picks
# it at run time).  No FMA: contracting a*b+c would round differently from the SSE2 build.
if sys.platform == "win32":
    AVX2_ARGS = ["/arch:AVX2", "/fp:precise"]
else:
    AVX2_ARGS = ["-mavx2", "-mno-fma", "-ffp-contract=off"]


def _extensions() -> list[Extension]:
    # Relative source paths: setuptools rejects absolute ones in sdists/wheels.
    sources = sorted((HERE / "native").glob("*.pyx"))
    return [
        Extension(
            name=f"app.features._{src.stem}",
            sources=[src.relative_to(HERE).as_posix()],
            include_dirs=[np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=COMPILE_ARGS + (AVX2_ARGS if src.stem.endswith("_avx2")
                                               else []),
            extra_link_args=LINK_ARGS,
        )
        for src in sources
    ]


setup(
    ext_modules=cythonize(
        _extensions(),
        # Generated C goes under build/, not next to the .pyx in the source tree.
        build_dir="build/cython",
        compiler_directives={"language_level": 3},
    ),
)
