"""Champion and challenger: from new labelled data (captured after a drift alarm, or imported),
one call builds the training set (the champion's snapshot plus the new recordings), trains a
challenger with the champion's recipe and compares both on the same held-out windows."""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.core.comparison import COMPARISON_ARTIFACT, Comparison
from app.core.errors import IntegrityError, UsageError
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.ml.recipe import Recipe
from app.services.base import ServiceContext
from app.services.datasets import DatasetService, RecordingInput
from app.services.registry import RegistryService
from app.services.training import Champion, TrainingService, TrainOutcome


@dataclass(frozen=True)
class ChallengeOutcome:
    """The challenger as trained (a new version of the champion's line), the combined
    snapshot it was trained on, and the comparison it carries to its approver."""

    trained: TrainOutcome
    dataset: DatasetInfo
    comparison: Comparison


class ChallengerService:
    """Train a challenger against a registered champion; every step audited as in training."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService, training: TrainingService,
                 registry: RegistryService) -> None:
        self.ctx = ctx
        self.datasets = datasets
        self.training = training
        self.registry = registry

    def challenge(self, principal: Principal, *, champion: str, new_data: str,
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken = NEVER_CANCELLED) -> ChallengeOutcome:
        """``new_data``'s labelled recordings join the champion's snapshot; the challenger is
        trained on that with the champion's recipe, window, hop and channels."""
        self.ctx.authorize(principal, Action.MODEL_TRAIN, f"model:{champion}")
        champ = self.registry.show(principal, ref=champion)
        if champ.kind != "classifier":
            raise UsageError(f"{champ.ref} is a {champ.kind}; champion and challenger are "
                             "compared for classifiers only")
        spec = dict(champ.feature_spec)
        channels = list(spec["channels"])
        old = self.datasets.show(principal, dataset=champ.dataset_id)
        new = self.datasets.show(principal, dataset=new_data)
        _check_compatible(champ.ref, old, new, channels, float(spec["sample_rate"]))
        progress(0.0, "combining the snapshots")
        combined = self._combine(principal, old, new, channels, cancel)
        recipe = Recipe.from_dict(dict(champ.recipe))
        trained = self.training.train(
            principal, dataset=combined.dataset_id, line=champ.line, recipe=recipe,
            window=int(spec["window"]), hop=int(spec["hop"]), channels=channels,
            progress=lambda f, m: progress(0.1 + 0.9 * f, m), cancel=cancel,
            champion=Champion(champ.ref, first_new_recording=len(old.recordings)))
        report = self.comparison(principal, ref=trained.version.ref)
        if report is None:
            raise IntegrityError(f"{trained.version.ref} was registered without its comparison")
        return ChallengeOutcome(trained=trained, dataset=combined, comparison=report)

    def comparison(self, principal: Principal, *, ref: str) -> Comparison | None:
        """The comparison a challenger version carries (None for any other version)."""
        version = self.registry.show(principal, ref=ref)
        if COMPARISON_ARTIFACT not in version.artifacts:
            return None
        data = self.registry.artifact(principal, ref=ref, name=COMPARISON_ARTIFACT)
        try:
            report = json.loads(data)
        except ValueError:
            report = None
        return Comparison.from_report(report)

    def _combine(self, principal: Principal, old: DatasetInfo, new: DatasetInfo,
                 channels: list[str], cancel: CancelToken = NEVER_CANCELLED) -> DatasetInfo:
        """One snapshot: the old recordings, then the new, on ``channels``, with each one's
        newest whole-recording label given at creation and its time-range labels after."""
        recordings: list[RecordingInput] = []
        ranges: list[tuple[int, str, float, float]] = []
        for info in (old, new):
            names = [c.name for c in info.channels]
            rows = [names.index(c) for c in channels]
            _, arrays = self.datasets.load(principal, dataset=info.dataset_id)
            for rec, data in arrays:
                cancel.raise_if_cancelled()
                whole = ""
                for lb in info.labels:
                    if lb.recording != rec.index:
                        continue
                    if lb.t_start is None or lb.t_end is None:
                        whole = lb.label
                    else:
                        ranges.append((len(recordings), lb.label, lb.t_start, lb.t_end))
                source = "champion" if info is old else "new"
                recordings.append(RecordingInput(
                    name=f"{source}/{rec.name}", data=data[rows], label=whole,
                    interrupted=rec.interrupted, start_time=rec.start_time,
                    condition=rec.condition))
        # Cancelled while reading: nothing written, not even the combined snapshot.
        cancel.raise_if_cancelled()
        by_name = {c.name: c for c in old.channels}
        combined = self.datasets.create_from_arrays(
            principal, action=Action.DATA_IMPORT,
            name=f"{old.name} + {new.name}", channels=[by_name[c] for c in channels],
            sample_rate=old.sample_rate,
            provenance={"source": "challenger", "champion_data": old.dataset_id,
                        "new_data": new.dataset_id},
            recordings=recordings)
        for index, label, t_start, t_end in ranges:
            self.datasets.label(principal, dataset=combined.dataset_id, recording=index,
                                label=label, t_start=t_start, t_end=t_end)
        return self.datasets.show(principal, dataset=combined.dataset_id)


def _check_compatible(ref: str, old: DatasetInfo, new: DatasetInfo, channels: list[str],
                      rate: float) -> None:
    """The new data must carry the champion's channels, in the same units, at its rate."""
    if new.dataset_id == old.dataset_id:
        raise UsageError(f"dataset {new.dataset_id[:12]} is the one {ref} was trained on; "
                         "give the new data")
    if abs(new.sample_rate - rate) > 1e-9 * rate:
        raise UsageError(f"dataset {new.dataset_id[:12]} is sampled at {new.sample_rate:g} Hz; "
                         f"{ref} reads {rate:g} Hz")
    labelled = {lb.recording for lb in new.labels}
    bare = [r for r in new.recordings if r.index not in labelled]
    if bare:
        raise UsageError(f"recording {bare[0].index} ({bare[0].name}) of the new data "
                         f"{new.dataset_id[:12]} has no label: confirm or relabel it first")
    theirs = {c.name: c for c in new.channels}
    ours = {c.name: c for c in old.channels}
    for name in channels:
        if name not in theirs:
            raise UsageError(f"dataset {new.dataset_id[:12]} has no channel {name!r}, which "
                             f"{ref} reads; it has {', '.join(theirs)}")
        if theirs[name].unit != ours[name].unit:
            raise UsageError(f"channel {name!r} is in {theirs[name].unit or 'no unit'} in "
                             f"dataset {new.dataset_id[:12]} but in {ours[name].unit or 'no unit'}"
                             f" in the data {ref} was trained on")
