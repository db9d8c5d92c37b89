"""Model version lifecycle: the states and the only transitions the services allow."""

from __future__ import annotations

from enum import StrEnum

from app.core.errors import Conflict


class State(StrEnum):
    """Where a model version stands."""

    DRAFT = "draft"          # trained; not (yet) through the parity gate
    VALIDATED = "validated"  # passed the parity gate; may be proposed and approved
    APPROVED = "approved"    # signed by an approver; may be packaged and deployed
    REJECTED = "rejected"    # signed rejection; final
    RETIRED = "retired"      # withdrawn after approval; final


TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.VALIDATED, State.RETIRED}),
    State.VALIDATED: frozenset({State.APPROVED, State.REJECTED, State.RETIRED}),
    State.APPROVED: frozenset({State.RETIRED}),
    State.REJECTED: frozenset(),
    State.RETIRED: frozenset(),
}


def check_transition(current: str, target: State, what: str) -> None:
    """Raise :class:`Conflict` unless ``current`` may move to ``target``."""
    state = State(current)
    if target not in TRANSITIONS[state]:
        allowed = ", ".join(sorted(TRANSITIONS[state])) or "nothing (final)"
        raise Conflict(f"{what} is {state.value}; it can move to {allowed}, not {target.value}")
