"""Why a registered version predicted what it did for one window: the deployed ONNX model's
verdict (invalid input included) and the per-feature contributions of its fitted pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from app.core.errors import NotFound, UsageError
from app.core.principal import Principal
from app.core.roles import Action
from app.features.spec import FeatureSpec
from app.features.validity import describe
from app.ml.explain import Explanation
from app.services.base import ServiceContext
from app.services.datasets import DatasetService
from app.services.registry import RegistryService


@dataclass(frozen=True)
class WindowExplanation:
    """One window of a version: what the ONNX model said (``label``, '' for a regressor or
    when the input is invalid), ``invalid`` (the reason in words, '' when the input is
    valid) and, for valid input, the ``explanation`` of the pipeline's output."""

    ref: str
    label: str
    invalid: str
    explanation: Explanation | None
    window: np.ndarray  # the raw samples explained (channels, samples), for a spectrum
    channels: tuple[str, ...]
    sample_rate: float

    def to_dict(self) -> dict:
        """JSON-ready, as ``plantml explain --json`` prints it."""
        return {"ref": self.ref, "label": self.label, "invalid": self.invalid,
                "explanation": None if self.explanation is None else self.explanation.to_dict()}


class ExplanationService:
    """Explanations of registered versions, on a dataset's window or on raw samples."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService,
                 registry: RegistryService) -> None:
        self.ctx = ctx
        self.datasets = datasets
        self.registry = registry

    def explain_recording(self, principal: Principal, *, ref: str, dataset: str,
                          recording: str, start: int = 0) -> WindowExplanation:
        """The window of ``recording`` in ``dataset`` that starts at sample ``start``."""
        spec = self._spec(principal, ref)
        info, arrays = self.datasets.load(principal, dataset=dataset)
        channels = {c.name: i for i, c in enumerate(info.channels)}
        missing = [c for c in spec.channels if c not in channels]
        if missing:
            raise UsageError(f"dataset {info.dataset_id[:12]} has no channel {missing[0]!r}, "
                             f"which {ref} reads")
        signal = next((data for rec, data in arrays
                       if recording in (str(rec.index), rec.name)), None)
        if signal is None:
            known = ", ".join(f"{r.index} ({r.name})" for r in info.recordings[:8])
            raise UsageError(f"dataset {info.dataset_id[:12]} has no recording {recording!r}; "
                             f"it has {known}{' ...' if len(info.recordings) > 8 else ''}")
        n = signal.shape[1]
        if not 0 <= start <= n - spec.window:
            raise UsageError(f"start {start} is outside recording {recording}: a window of "
                             f"{spec.window} samples starts between 0 and {n - spec.window}")
        rows = [channels[c] for c in spec.channels]
        return self.explain_window(principal, ref=ref,
                                   window=signal[rows, start:start + spec.window])

    def explain_window(self, principal: Principal, *, ref: str,
                       window: np.ndarray) -> WindowExplanation:
        """One raw window (channels, samples) in the version's channel order."""
        from app.features.extraction import extract_windows
        from app.ml.checks import session
        from app.ml.explain import explain
        from app.ml.pipeline_file import PIPELINE_ARTIFACT, pipeline_from_bytes

        version = self.registry.show(principal, ref=ref)
        spec = self._spec(principal, ref)
        w = np.asarray(window, dtype=np.float64)
        if w.shape != (len(spec.channels), spec.window):
            raise UsageError(f"{ref} reads windows of {len(spec.channels)} channel(s) x "
                             f"{spec.window} samples, not {w.shape[0]} x {w.shape[-1]}")
        if PIPELINE_ARTIFACT not in version.artifacts:
            raise UsageError(f"{version.ref} was registered without its fitted pipeline "
                             "(trained before explanations, or imported from a package): "
                             "retrain it to explain its predictions")
        schema = json.loads(self.registry.artifact(principal, ref=ref, name="schema.json"))
        classes = tuple(schema.get("classes", []))
        sess = session(self.registry.artifact(principal, ref=ref, name="model.onnx"))
        names = [o.name for o in sess.get_outputs()]
        out = dict(zip(names, sess.run(None, {"window": w[None].astype(np.float32)}),
                       strict=True))
        reason = int(out.get("input_reason", np.zeros(1))[0])
        if reason or ("input_ok" in out and not bool(out["input_ok"][0])):
            return WindowExplanation(ref=version.ref, label="",
                                     invalid=describe(reason) or "invalid input",
                                     explanation=None, window=w, channels=spec.channels,
                                     sample_rate=spec.sample_rate)
        pipeline = pipeline_from_bytes(
            self.registry.artifact(principal, ref=ref, name=PIPELINE_ARTIFACT),
            f"{version.ref}/{PIPELINE_ARTIFACT}")
        features = extract_windows(w[None], spec)
        label = classes[int(out["label"][0])] if "label" in out and classes else ""
        # The class the deployed graph chose is the one explained, even where float32 and
        # float64 part ways at a near tie (the parity gate bounds how often that happens).
        result = explain(pipeline, features[0], spec.feature_names(), classes,
                         target=label or None)
        return WindowExplanation(ref=version.ref, label=label, invalid="", explanation=result,
                                 window=w, channels=spec.channels, sample_rate=spec.sample_rate)

    def explain_controller(self, principal: Principal, *, target: str) -> WindowExplanation:
        """The newest window the controller at ``target`` classified, read from its capture
        ring (protocol 3, nothing is stored), explained for the version it runs."""
        from app.devices.flash import ControllerClient
        from app.devices.flash.capture import read_window, ring
        from app.fieldbus import DeviceError, Endpoint

        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, target)
        try:
            with ControllerClient.open(Endpoint.parse(target)) as client:
                client.identity()  # refuses protocol 1 and 2 in one sentence
                status = client.status()
                extent = ring(client)
                window = read_window(client, extent.newest) if extent.held else None
        except DeviceError as exc:
            raise UsageError(f"the controller at {target} could not be read: {exc}") from exc
        if status.active is None or window is None:
            raise NotFound(f"the controller at {target} has no classified window to explain "
                           "yet (it runs no model, or none since it booted)")
        ref = f"{status.active.name}:v{status.active.version}"
        if window.model_version != status.active.version:
            raise UsageError(f"the newest window at {target} was classified by version "
                             f"{window.model_version}, not by {ref} now running; try again")
        return self.explain_window(principal, ref=ref, window=window.samples)

    def _spec(self, principal: Principal, ref: str) -> FeatureSpec:
        return FeatureSpec.from_dict(dict(self.registry.show(principal, ref=ref).feature_spec))
