"""What the services may do with the model registry: the abstract store.

Every method runs inside the caller's transaction, so the audit event of a change is
written in the same transaction as the change (DESIGN.md section 3). Versions go in and
come out as :class:`~app.core.model_version.ModelVersion`; no caller sees a row.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from app.core.model_version import ModelVersion
from app.core.records import ModelLineInfo


class RegistryStore(ABC):
    """Lines, versions and aliases of one registry."""

    # -- lines --------------------------------------------------------------------------
    @abstractmethod
    def lines(self) -> list[ModelLineInfo]:
        """Every line, by name."""

    @abstractmethod
    def line(self, name: str) -> ModelLineInfo:
        """The line called ``name``; raises NotFound."""

    @abstractmethod
    def ensure_line(self, name: str, kind: str, *, now: str, user: str) -> ModelLineInfo:
        """The line ``name``, made if new; raises UsageError for a bad name or another kind."""

    @abstractmethod
    def take_release_counter(self, line: str) -> int:
        """Advance the line's monotonic release counter by one and return it."""

    @abstractmethod
    def raise_release_counter(self, line: str, counter: int) -> None:
        """Lift the line's release counter to at least ``counter`` (an imported release)."""

    # -- versions -----------------------------------------------------------------------
    @abstractmethod
    def next_version(self, line: str) -> int:
        """The number the line's next version gets."""

    @abstractmethod
    def add_version(self, version: ModelVersion) -> ModelVersion:
        """Store a new version: its record, hashed, and its registry fields; returns it as
        stored (with its record hash)."""

    @abstractmethod
    def find_version(self, line: str, number: int) -> ModelVersion | None:
        """Version ``number`` of ``line`` if it exists."""

    @abstractmethod
    def version(self, ref: str, *, signatures: bool = False) -> ModelVersion:
        """The version ``LINE:vN``; with ``signatures``, its e-signatures, each verified
        against what it binds (raises IntegrityError on a mismatch). Raises NotFound."""

    @abstractmethod
    def versions(self, line: str, *, signatures: bool = False) -> list[ModelVersion]:
        """All versions of ``line``, newest first."""

    @abstractmethod
    def set_state(self, ref: str, state: str) -> ModelVersion:
        """Move the version to lifecycle ``state`` (the caller checked the transition)."""

    @abstractmethod
    def record_proposal(self, ref: str, *, proposed_by: str, body: Mapping[str, Any],
                        signatures: Sequence[Mapping[str, Any]], release_counter: int,
                        signature_id: int) -> ModelVersion:
        """Fix the version's release body and the engineer's signature over it."""

    @abstractmethod
    def record_decision(self, ref: str, *, state: str,
                        signatures: Sequence[Mapping[str, Any]],
                        signature_id: int) -> ModelVersion:
        """The approver's decision: the new state and the release signatures after it."""

    # -- aliases ------------------------------------------------------------------------
    @abstractmethod
    def aliases(self, line: str) -> dict[str, int]:
        """Alias -> version number, for one line."""

    @abstractmethod
    def move_alias(self, line: str, alias: str, version: int | None, *, now: str, user: str,
                   reason: str) -> int | None:
        """Point ``alias`` at ``version`` (None removes it), kept in the alias history;
        returns the version it pointed to before."""

    @abstractmethod
    def alias_at(self, line: str, alias: str, when: str) -> int | None:
        """The version ``alias`` named at ISO time ``when`` (None: it named none)."""
