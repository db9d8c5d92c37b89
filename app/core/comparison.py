"""The champion/challenger comparison a challenger version carries to its approver, typed and
said in words (the same lines in ``plantml approve``, ``plantml challenge`` and the dialog)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import IntegrityError

COMPARISON_ARTIFACT = "challenger_comparison.json"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{float(x):.1%}"


@dataclass(frozen=True)
class Comparison:
    """``report`` as :func:`app.ml.compare.compare` made it, with the data it was made on."""

    report: dict

    @classmethod
    def from_report(cls, report: object) -> Comparison:
        """Checked for the parts the lines read; a damaged report is an IntegrityError."""
        if not isinstance(report, dict) or not isinstance(report.get("models"), dict) \
                or not {"champion", "challenger"} <= set(report["models"]) \
                or not isinstance(report.get("labels"), list):
            raise IntegrityError("the champion/challenger comparison is not readable")
        return cls(report)

    @property
    def champion(self) -> str:
        """The champion's ref."""
        return str(self.report["models"]["champion"]["ref"])

    def accuracy(self, role: str, part: str = "accuracy") -> float | None:
        """``role``'s accuracy on all held-out windows (``part``: accuracy_new, _old)."""
        value = self.report["models"][role].get(part)
        return None if value is None else float(value)

    def lines(self) -> list[str]:
        """Both models side by side: accuracy, recall per class, confusion matrices."""
        r, ch, cl = self.report, self.report["models"]["champion"], \
            self.report["models"]["challenger"]
        challenger = cl["ref"] or "this version"
        out = [f"Champion {ch['ref']} against the challenger ({challenger}) on the same "
               f"{r['windows']} held-out windows ({r['new_windows']} of them from the new "
               "data), through each one's ONNX model:",
               f"  accuracy: champion {_pct(ch['accuracy'])}, challenger "
               f"{_pct(cl['accuracy'])}; on the new data: {_pct(ch['accuracy_new'])} and "
               f"{_pct(cl['accuracy_new'])}; on the old: {_pct(ch['accuracy_old'])} and "
               f"{_pct(cl['accuracy_old'])}",
               f"  invalid input: champion {ch['invalid']}, challenger {cl['invalid']} windows",
               "  recall per class (champion / challenger):"]
        for name in sorted(set(ch["per_class"]) | set(cl["per_class"]), key=str):
            a, b = ch["per_class"].get(name, {}), cl["per_class"].get(name, {})
            out.append(f"    {name}: {_pct(a.get('recall'))} / {_pct(b.get('recall'))} "
                       f"(n={a.get('n', b.get('n', 0))})")
        labels = [str(x) for x in r["labels"]]
        width = max(len(x) for x in labels)
        cells = max(5, *(len(x) for x in labels))
        head = " ".join(f"{x[:cells]:>{cells}}" for x in labels)
        out.append("  confusion (rows: truth; columns: predicted) champion | challenger")
        out.append(f"    {'':<{width}} {head} | {head}")
        for i, name in enumerate(labels):
            left = " ".join(f"{n:>{cells}}" for n in ch["confusion"][i])
            right = " ".join(f"{n:>{cells}}" for n in cl["confusion"][i])
            out.append(f"    {name:<{width}} {left} | {right}")
        return out
