"""Operator feedback on captured windows (issue 12.2): confirm, reject or relabel what the model
predicted, with a note, audited; a confirmed or relabelled window becomes a time-range label of
its range on the captured snapshot, a rejected one stays unlabelled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.audit.reading import AuditFilter, query_events
from app.core.errors import NotFound, UsageError
from app.core.principal import Principal
from app.core.roles import Action, Role
from app.services.base import ServiceContext
from app.services.capture import WindowRef, windows_of
from app.services.datasets import DatasetService, _find, _info
from app.store.schema import DatasetLabelRow

VERDICTS = ("confirm", "reject", "relabel")
ACTION = Action.DATA_FEEDBACK.value


@dataclass(frozen=True)
class Feedback:
    """One verdict on one captured window, as the audit trail keeps it."""

    dataset_id: str
    window_id: int
    verdict: str
    label: str          # the label given ('' for reject)
    label_id: int | None
    note: str
    user: str = ""
    at: str = ""
    seq: int = 0


class FeedbackService:
    """Verdicts on the windows of captured snapshots; each one audited in its transaction."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService) -> None:
        self.ctx, self.datasets = ctx, datasets

    def windows(self, principal: Principal, *, dataset: str) -> list[WindowRef]:
        """The captured windows of ``dataset`` with what the model proposed."""
        info = self.datasets.show(principal, dataset=dataset)
        found = windows_of(info)
        if not found:
            raise UsageError(f"dataset {info.dataset_id[:12]} was not captured from a "
                             "controller; label it on the Data page instead")
        return found

    def give(self, principal: Principal, *, dataset: str, window: int, verdict: str,
             label: str = "", note: str = "") -> Feedback:
        """``confirm``: the proposed label becomes the window's label; ``relabel``: ``label``
        does; ``reject``: recorded, no label. A note is needed to reject or relabel."""
        return self._give(principal, dataset, [window], verdict, label, note)[0]

    def alarm(self, principal: Principal, *, dataset: str, verdict: str, label: str = "",
              note: str = "") -> list[Feedback]:
        """One verdict on every window an alarm captured (``dataset``), in one transaction:
        confirm the alarm's predictions, relabel them all, or reject the alarm (a false
        alarm: recorded, nothing labelled)."""
        refs = self.windows(principal, dataset=dataset)
        return self._give(principal, dataset, [w.window_id for w in refs], verdict, label,
                          note)

    def _give(self, principal: Principal, dataset: str, ids: list[int], verdict: str,
              label: str, note: str) -> list[Feedback]:
        verdict, label, note = verdict.strip().lower(), label.strip(), note.strip()
        if verdict not in VERDICTS:
            raise UsageError(f"the verdict is one of {', '.join(VERDICTS)}, not {verdict!r}")
        if verdict == "relabel" and not label:
            raise UsageError("give the label the window should have")
        if verdict != "relabel" and label:
            raise UsageError(f"{verdict} takes no label (relabel does)")
        if verdict != "confirm" and not note:
            raise UsageError(f"say why you {verdict} it (the note is audited)")
        dataset = self.datasets.show(principal, dataset=dataset).dataset_id

        def change(s: Session, _role: Role) -> tuple[Any, Any, list[Feedback]]:
            row = _find(s, dataset)
            refs = {w.window_id: w for w in windows_of(_info(s, row))}
            if not refs:
                raise UsageError(f"dataset {row.id[:12]} was not captured from a controller")
            now = self.ctx.clock.now().isoformat()
            out: list[Feedback] = []
            for wid in ids:
                ref = refs.get(wid)
                if ref is None:
                    raise NotFound(f"dataset {row.id[:12]} holds no window {wid} (it holds "
                                   f"{min(refs)} to {max(refs)})")
                given = ref.proposed if verdict == "confirm" else label
                if verdict == "confirm" and not ref.valid:
                    raise UsageError(f"window {wid} was {ref.proposed}: there is no class to "
                                     "confirm; relabel or reject it")
                label_id = None
                if verdict != "reject":
                    stored = DatasetLabelRow(dataset_id=row.id, recording=ref.recording,
                                             t_start=ref.t_start, t_end=ref.t_end, label=given,
                                             created_at=now, created_by=principal.username)
                    s.add(stored)
                    s.flush()
                    label_id = stored.id
                out.append(Feedback(row.id, wid, verdict, given if verdict != "reject" else "",
                                    label_id, note, principal.username, now))
            new = {"verdict": verdict, "windows": [
                {"window": f.window_id, "proposed": refs[f.window_id].proposed,
                 "label": f.label, "label_id": f.label_id} for f in out], "note": note}
            return None, new, out

        return self.ctx.audited(principal, Action.DATA_FEEDBACK, f"dataset:{dataset}", change,
                                reason=note)

    def given(self, principal: Principal, *, dataset: str) -> list[Feedback]:
        """Every verdict on ``dataset``'s windows, oldest first, from the audit trail."""
        info = self.datasets.show(principal, dataset=dataset)
        with self.ctx.db.reader() as s:
            events = query_events(s, AuditFilter(action=ACTION, text=info.dataset_id,
                                                 newest_first=False, limit=100_000))
        out: list[Feedback] = []
        for ev in events:
            new = ev.new or {}
            if ev.object != f"dataset:{info.dataset_id}" or ev.result not in ("", "ok"):
                continue  # a refusal names the dataset too
            for w in new.get("windows", []):
                out.append(Feedback(info.dataset_id, int(w["window"]), str(new["verdict"]),
                                    str(w.get("label") or ""), w.get("label_id"),
                                    str(new.get("note") or ""), ev.user, ev.ts, ev.seq))
        return out
