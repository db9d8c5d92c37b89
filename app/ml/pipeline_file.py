"""The fitted scikit-learn pipeline as a version artifact, in skops' format: loading it builds
only the types on an allow-list, so a swapped file cannot run code the way a pickle could."""

from __future__ import annotations

import skops.io as sio
from sklearn.pipeline import Pipeline

from app.core.errors import IntegrityError

PIPELINE_ARTIFACT = "pipeline.skops"

#: The types a PlantML pipeline holds beyond those skops trusts by default.
TRUSTED = frozenset({
    "sklearn.tree._tree.Tree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
})


def pipeline_bytes(pipeline: Pipeline) -> bytes:
    """The fitted pipeline, serialised."""
    return sio.dumps(pipeline)


def pipeline_from_bytes(data: bytes, where: str = PIPELINE_ARTIFACT) -> Pipeline:
    """The pipeline back; a file that holds any other type is refused before it is built."""
    try:
        unknown = sorted(set(sio.get_untrusted_types(data=data)) - TRUSTED)
    except Exception as exc:  # noqa: BLE001 - skops raises zipfile, JSON and its own errors
        raise IntegrityError(f"{where} is not a readable pipeline file ({exc})") from None
    if unknown:
        raise IntegrityError(f"{where} holds types a PlantML pipeline never holds: "
                             f"{', '.join(unknown)}; it was not loaded")
    pipeline = sio.loads(data, trusted=sorted(TRUSTED))
    if not isinstance(pipeline, Pipeline):
        raise IntegrityError(f"{where} holds a {type(pipeline).__name__}, not a pipeline")
    return pipeline
