"""Vectorised row checks shared by every importer: NaN/inf/missing policy per column, time order."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.core.errors import UsageError
from app.data.report import FLAGGED, REJECTED, Issue, ValidationReport

REJECT, KEEP, FLAG = "reject", "keep", "flag"
POLICIES = (REJECT, KEEP, FLAG)
LINE, ROW = "line", "row"

NAN_REASON = "NaN"
INF_REASON = "infinite value (inf, or beyond the float64 range such as 1e309)"
MISSING_REASON = "missing value"
TIME_BAD_REASON = "time missing or not finite"


def resolve_policy(policy: str | Mapping[str, str], columns: list[str]) -> dict[str, str]:
    """Per-column NaN/inf policy from one name or a mapping ({column or '*': policy}).

    Raises UsageError for an unknown policy or a column that does not exist.
    """
    if isinstance(policy, str):
        policy = {"*": policy}
    default = policy.get("*", REJECT)
    out = {}
    for name, value in policy.items():
        if value not in POLICIES:
            raise UsageError(f"NaN policy for {name!r} is {value!r}; use one of {POLICIES}")
        if name != "*" and name not in columns:
            raise UsageError(f"NaN policy names column {name!r}, which is not imported "
                             f"(columns: {', '.join(columns)})")
    for col in columns:
        out[col] = policy.get(col, default)
    return out


class RowValidator:
    """Checks batches of parsed rows in file order and records issues in ``report``.

    ``time_order`` is 'reject' or 'flag' for a time that does not increase; a missing or
    non-finite time always rejects the row. State (the latest accepted time) carries over
    from batch to batch.
    """

    def __init__(self, report: ValidationReport, policy: dict[str, str], *,
                 time_order: str = REJECT) -> None:
        if time_order not in (REJECT, FLAG):
            raise UsageError(f"time order policy {time_order!r}; use 'reject' or 'flag'")
        self.report = report
        self.policy = policy
        self.time_order = time_order
        self.last_time = -np.inf

    def check(self, t: np.ndarray | None, values: Mapping[str, np.ndarray],
              missing: Mapping[str, np.ndarray | None], positions: np.ndarray,
              kind: str = LINE) -> np.ndarray:
        """Return the mask of accepted rows; count the batch and record its issues.

        ``positions`` are line numbers (``kind='line'``) or row indexes (``kind='row'``).
        """
        n = len(positions)
        reject = np.zeros(n, dtype=bool)
        flag = np.zeros(n, dtype=bool)
        problems: list[tuple[np.ndarray, str, str, str]] = []
        for col, policy in self.policy.items():
            if policy == KEEP:
                continue
            v = values[col]
            if np.isfinite(v).all():  # one pass for the common, clean column
                continue
            miss = missing.get(col)
            nan = np.isnan(v)
            if miss is not None and miss.any():
                nan &= ~miss
                problems.append((miss, col, MISSING_REASON, policy))
            for mask, reason in ((nan, NAN_REASON), (np.isinf(v), INF_REASON)):
                if mask.any():
                    problems.append((mask, col, reason, policy))
        for mask, _, _, policy in problems:
            (reject if policy == REJECT else flag)[...] |= mask
        time_bad = np.zeros(n, dtype=bool)
        order_bad = np.zeros(n, dtype=bool)
        prev = np.empty(0)
        if t is not None:
            time_bad = ~np.isfinite(t)
            reject |= time_bad
            usable = np.where(~reject, t, -np.inf)
            run = np.maximum.accumulate(np.concatenate(([self.last_time], usable)))
            prev = run[:-1]
            order_bad = ~reject & (t <= prev)
            (reject if self.time_order == REJECT else flag)[...] |= order_bad
            self.last_time = float(run[-1])
        self._record(positions, kind, reject, flag, problems, t, time_bad, order_bad, prev)
        accepted = ~reject
        self.report.count_rows(int(accepted.sum()), int(reject.sum()),
                               int((flag & accepted).sum()))
        return accepted

    def _record(self, positions: np.ndarray, kind: str, reject: np.ndarray, flag: np.ndarray,
                problems: list, t: np.ndarray | None, time_bad: np.ndarray,
                order_bad: np.ndarray, prev: np.ndarray) -> None:
        bad = np.flatnonzero(reject | flag)
        room = self.report.room
        for i in bad[:room]:
            reasons: list[str] = []
            column = None
            if time_bad[i]:
                reasons.append(TIME_BAD_REASON)
            for mask, col, reason, _ in problems:
                if mask[i]:
                    reasons.append(f"{reason} in column {col!r}")
                    column = column or col
            if t is not None and order_bad[i]:  # order_bad is all False without times
                reasons.append(f"time {t[i]:.15g} does not increase (previous {prev[i]:.15g})")
            pos = int(positions[i])
            self.report.add_issue(Issue(
                line=pos if kind == LINE else None, row=pos if kind == ROW else None,
                column=column, reason="; ".join(reasons),
                action=REJECTED if reject[i] else FLAGGED))
        rest = bad[room:]
        if not len(rest):
            return
        # Past the listing cap: count by reason without building a message per row.
        self.report.count_unlisted(f"{REJECTED}: {TIME_BAD_REASON}", int(time_bad[rest].sum()))
        for mask, col, reason, policy in problems:
            action = REJECTED if policy == REJECT else FLAGGED
            self.report.count_unlisted(f"{action}: {reason} in column {col!r}",
                                       int(mask[rest].sum()))
        action = REJECTED if self.time_order == REJECT else FLAGGED
        self.report.count_unlisted(f"{action}: time does not increase",
                                   int(order_bad[rest].sum()))
