"""Why a model version may not be proposed, decided, exported, aliased, evaluated or retired now
(None: it may)."""

from __future__ import annotations

from collections.abc import Callable

from app.core.model_version import ModelVersion
from app.core.roles import Action
from app.ui.model_details import display_state
from app.ui.permissions import ButtonRule


def version_rules(info: ModelVersion | None, *, has_others: bool,
                  busy: bool) -> dict[str, ButtonRule]:
    """The rule of each action button of the Models page, by button name (``propose`` is
    ``propose_button``), for the selected version ``info`` (None: none selected)."""

    def version_rule(check: Callable[[ModelVersion], str | None]):
        def rule() -> str | None:
            if info is None:
                return "select a version first"
            return check(info)
        return rule

    return {
        "propose": (
            Action.MODEL_PROPOSE, "Proposing a version",
            "Sign the version as the engineer and send it to an approver",
            version_rule(why_not_proposable)),
        "approve": (
            Action.MODEL_APPROVE, "Approving or rejecting",
            "Review the evidence and sign approved or rejected (four eyes)",
            version_rule(why_not_decidable)),
        "compare": (
            Action.MODEL_READ, "Comparing versions",
            "Show the fields in which this version differs from another",
            version_rule(lambda _i: None if has_others else "there is no other version")),
        "alias": (
            Action.MODEL_ALIAS, "Setting an alias",
            "Point production, candidate or another alias of the line at this version",
            version_rule(why_not_aliasable)),
        "export": (
            Action.PACKAGE_EXPORT, "Exporting a package",
            "Write the signed package to a USB drive and verify the copy",
            version_rule(lambda i: why_not_exportable(i, busy))),
        "import": (
            Action.PACKAGE_IMPORT, "Importing a package",
            "Verify a package from a USB drive and register its version here",
            lambda: "a transfer is running" if busy else None),
        "retire": (
            Action.MODEL_RETIRE, "Retiring a version",
            "Withdraw the version for good (with a reason); its aliases are removed",
            version_rule(why_not_retirable)),
        "evaluate": (
            Action.MODEL_READ, "Evaluating a version",
            "Run the stored ONNX model on every window of a labelled dataset",
            version_rule(lambda _i: None)),
        "onnx": (
            Action.PACKAGE_BUILD_DRAFT, "Exporting the ONNX file",
            "Write the version's ONNX model (features and model in one graph) to a file",
            version_rule(lambda i: why_not_onnx_exportable(i, busy))),
    }


def why_not_proposable(info: ModelVersion) -> str | None:
    if info.state == "validated" and not info.proposed_by:
        return None
    if info.proposed_by:
        return f"{info.ref} was already proposed by {info.proposed_by}"
    if info.state == "draft":
        return f"{info.ref} is a draft: it did not pass the parity gate"
    return f"{info.ref} is {info.state}"


def why_not_decidable(info: ModelVersion) -> str | None:
    if info.state == "validated" and info.proposed_by:
        return None
    if info.state == "validated":
        return f"{info.ref} has not been proposed yet"
    return f"{info.ref} is {info.state}: already decided or not releasable"


def why_not_exportable(info: ModelVersion, busy: bool) -> str | None:
    if busy:
        return "a transfer is running"
    if info.state != "approved":
        return f"{info.ref} is {display_state(info)}: only approved versions are exported"
    return None


def why_not_aliasable(info: ModelVersion) -> str | None:
    if info.state in ("rejected", "retired"):
        return f"{info.ref} is {info.state}"
    return None


def why_not_retirable(info: ModelVersion) -> str | None:
    if info.state in ("rejected", "retired"):
        return f"{info.ref} is {info.state}: that is final"
    return None


def why_not_onnx_exportable(info: ModelVersion, busy: bool) -> str | None:
    if busy:
        return "a job is running"
    if not info.parity.passed:
        reason = f" ({info.parity.blocked_reason})" if info.parity.blocked_reason else ""
        return (f"{info.ref} failed the parity gate{reason}: only a version that passed it is "
                "exported")
    return None
