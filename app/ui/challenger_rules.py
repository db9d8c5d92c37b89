"""When the capture panel's "Train challenger..." may be used, and why not (issue 12.4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.roles import Action
from app.ui.navigation import translate
from app.ui.permissions import ButtonRule


@dataclass(frozen=True)
class CaptureState:
    """The captured snapshot the panel shows, as far as a challenger needs it."""

    dataset_id: str
    champion: str                   # the version that classified the windows ('' if none)
    champion_problem: str | None    # why it cannot be the champion (None: it can)
    runs: int                       # runs of contiguous windows (one recording each)
    bare_runs: tuple[tuple[int, int], ...]  # (first, last window id) of runs with no label


def capture_state(dataset_id: str, windows: Sequence[Any], labelled: Iterable[int],
                  champion: str, champion_problem: str | None) -> CaptureState:
    """``windows``: the WindowRefs of the capture; ``labelled``: the recordings a label
    covers (the challenger needs one on every recording, as the service checks)."""
    covered = set(labelled)
    ids: dict[int, list[int]] = {}
    for w in windows:
        ids.setdefault(int(w.recording), []).append(int(w.window_id))
    bare = tuple((min(v), max(v)) for k, v in sorted(ids.items()) if k not in covered)
    return CaptureState(dataset_id, champion, champion_problem, len(ids), bare)


def challenge_rule(state: CaptureState | None, running: bool) -> ButtonRule:
    """The rule of "Train challenger..." for what the panel shows now."""

    def why() -> str | None:
        if running:
            return translate("MainWindow", "a challenger is being trained")
        if state is None:
            return translate("MainWindow", "show a captured snapshot first: capture windows, "
                             "or watch until a drift alarm captures them")
        if state.champion_problem:
            return state.champion_problem
        if not state.runs or len(state.bare_runs) == state.runs:
            return translate("MainWindow", "confirm or relabel the captured windows first: "
                             "a prediction is not a label")
        if state.bare_runs:
            first, last = state.bare_runs[0]
            return translate("MainWindow", "windows {0}-{1} carry no label: confirm or "
                             "relabel one of them too").format(first, last)
        return None

    return (Action.MODEL_TRAIN, translate("MainWindow", "Training a challenger"),
            translate("MainWindow", "Train a new version on the champion's data plus these "
                      "labelled windows, with the champion's recipe, and compare both"), why)
