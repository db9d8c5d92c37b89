"""One model version as the Models page shows it: loaded off the GUI thread, formatted as text."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from app.core.errors import PlantMLError
from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.core.records import AuditEvent, ModelLineInfo
from app.services import Services
from app.ui.report_rows import flat_rows
from app.ui.time_format import format_time

#: Stored artifacts shown as text, each on its own tab, in tab order.
REPORTS: tuple[str, ...] = ("validation_report.json", "parity_report.json", "model_card.md")

#: Longest artifact text put on screen; the rest is cut with a note (a report is read, not
#: scrolled through megabytes).
MAX_REPORT_CHARS = 200_000

#: Shown in place of a value that is absent.
MISSING = "-"


@dataclass(frozen=True)
class VersionDetails:
    """A version, its reports as display text (keyed by artifact name) and its audit trail."""

    info: ModelVersion
    reports: dict[str, str] = field(default_factory=dict)
    history: tuple[AuditEvent, ...] = ()


def load_lines(services: Services, principal: Principal
               ) -> list[tuple[ModelLineInfo, list[ModelVersion]]]:
    """Every line with its versions, newest first. Runs on the worker: no widgets here."""
    registry = services.registry
    return [(line, registry.versions(principal, line=line.name))
            for line in registry.lines(principal)]


def load_details(services: Services, principal: Principal, ref: str) -> VersionDetails:
    """Everything the detail panel shows of ``ref``. Runs on the worker: no widgets here.

    A report that cannot be read (damaged blob) becomes its error text, so one bad file
    does not hide the rest of the version.
    """
    registry = services.registry
    info = registry.show(principal, ref=ref)
    reports: dict[str, str] = {}
    for name in REPORTS:
        if name not in info.artifacts:
            reports[name] = f"{info.ref} has no {name}."
            continue
        try:
            data = registry.artifact(principal, ref=ref, name=name)
        except PlantMLError as exc:
            reports[name] = f"{name} cannot be shown: {exc}"
        else:
            reports[name] = format_report(name, data)
    history = tuple(registry.history(principal, ref=ref))
    return VersionDetails(info=info, reports=reports, history=history)


def format_report(name: str, data: bytes) -> str:
    """A stored report as readable text: JSON indented with sorted keys, other text as is."""
    text = data.decode("utf-8", errors="replace")
    if name.endswith(".json"):
        # Not JSON after all: show what is there; the parity gate judged the file, not this.
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    if len(text) > MAX_REPORT_CHARS:
        text = (text[:MAX_REPORT_CHARS]
                + f"\n\n[cut: {len(text) - MAX_REPORT_CHARS} more characters not shown]")
    return text


def value_text(value: Any, limit: int | None = None) -> str:
    """A field value on one line: JSON for lists and dicts, ``-`` for nothing."""
    if value is None:
        text = MISSING
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if limit is not None and len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def display_state(info: ModelVersion) -> str:
    """The state as a person reads it: a validated version waiting for its approver is
    "proposed"."""
    if info.state == "validated" and info.proposed_by:
        return "proposed"
    return info.state


def state_sentence(info: ModelVersion) -> str:
    """One line on where the version stands and what comes next."""
    state = info.state
    if state == "draft":
        blocked = info.parity.blocked_reason or "not through the gate"
        return f"draft: blocked ({blocked}); it cannot be proposed"
    if state == "validated" and info.proposed_by:
        return f"proposed by {info.proposed_by}; waiting for an approver (four eyes)"
    if state == "validated":
        return "validated: passed the parity gate; an engineer may propose it for release"
    if state == "approved":
        return "approved: may be exported as a signed package and deployed"
    if state == "rejected":
        return "rejected (final)"
    if state == "retired":
        return "retired (final)"
    return state


def _pairs(mapping: Any) -> str:
    if not isinstance(mapping, dict) or not mapping:
        return value_text(mapping or None)
    return ", ".join(f"{k} {value_text(v)}" for k, v in sorted(mapping.items()))


def _lineage_pairs(info: ModelVersion) -> list[tuple[str, Any]]:
    """The lineage panel's fields with their values (not yet text)."""
    if info.parity.passed:
        parity_line = "passed"
    else:
        parity_line = f"not passed ({info.parity.blocked_reason or 'no reason recorded'})"
    rows: list[tuple[str, Any]] = [
        ("version", f"{info.ref} ({info.kind})"),
        ("state", state_sentence(info)),
        ("created", f"{format_time(info.created_at)} by {info.created_by}"),
        ("proposed by", info.proposed_by or MISSING),
        ("release counter", info.release_counter),
        ("aliases", ", ".join(info.aliases) or MISSING),
        ("dataset id", info.dataset_id),
        ("recipe", info.recipe),
        ("feature spec", info.feature_spec),
        ("metrics", info.metrics),
        ("parity gate", parity_line),
        ("library versions", info.library_versions),
        ("record hash", info.record_hash),
    ]
    imported = info.imported
    if imported is not None:
        rows.append(("imported from", f"{imported.source} (package sha256 "
                                      f"{imported.package_sha256[:16]})"))
    rows.extend((f"lineage.{k}", v) for k, v in sorted(info.lineage.items())
                if k not in ("libraries", "library_versions"))
    rows.extend((f"artifact {name}", str(digest)[:16])
                for name, digest in sorted(info.artifacts.items()))
    return rows


def lineage_text(info: ModelVersion) -> str:
    """The lineage panel: where the version came from and what it scored."""
    rows = []
    for key, value in _lineage_pairs(info):
        if key in ("metrics", "library versions"):
            rows.append((key, _pairs(value)))
        elif key.startswith("lineage."):
            rows.append((key, value_text(value, 200)))
        else:
            rows.append((key, value_text(value)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def lineage_rows(info: ModelVersion) -> list[tuple[str, str]]:
    """The lineage as (field, value) table rows: nested values (recipe, feature spec,
    metrics) opened into one row per field instead of a line of JSON."""
    rows: list[tuple[str, str]] = []
    for key, value in _lineage_pairs(info):
        rows.extend(flat_rows(value, key))
    return rows


def report_rows(text: str) -> list[tuple[str, str]]:
    """A stored JSON report's display text (see :func:`format_report`) as table rows; text
    that is not JSON (a damaged report, an error) is one row."""
    try:
        data = json.loads(text)
    except ValueError:
        return [("report", text)] if text else []
    return flat_rows(data)


def latest_proposal(history: tuple[AuditEvent, ...] | list[AuditEvent]) -> AuditEvent | None:
    """The successful ``model.propose`` event of the version, if any."""
    for event in reversed(list(history)):
        if event.action == "model.propose" and event.result == "ok":
            return event
    return None


def evidence_text(details: VersionDetails) -> str:
    """What an approver reviews before signing: metrics, parity, who trained and proposed."""
    info = details.info
    parity = info.parity
    lines = [f"{info.ref} ({info.kind}), {display_state(info)}",
             f"trained by {info.created_by} on {format_time(info.created_at)}",
             f"dataset {value_text(info.dataset_id)}",
             f"metrics: {_pairs(info.metrics)}",
             "parity gate: " + ("passed" if parity.passed else
                                f"NOT passed ({parity.blocked_reason or 'no reason'})")]
    report = details.reports.get("parity_report.json", "")
    if report and len(report) < 400:
        lines.append(f"parity report: {' '.join(report.split())}")
    proposal = latest_proposal(details.history)
    released = [s for s in info.signatures if s.meaning == "released"]
    if info.proposed_by:
        who = f"proposed by {info.proposed_by}"
        if released:
            sig = released[-1]
            who += f" on {format_time(sig.signed_at)}: \"{sig.reason}\""
        lines.append(who)
    else:
        lines.append("not proposed yet")
    if proposal is not None and isinstance(proposal.new, dict):
        hardware = ", ".join(proposal.new.get("hardware_ids") or []) or MISSING
        lines.append(f"hardware ids: {hardware}; release counter "
                     f"{value_text(proposal.new.get('release_counter'))}; expires "
                     f"{format_time(str(proposal.new.get('expires_at', '')))}")
    return "\n".join(lines)
