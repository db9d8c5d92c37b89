"""Two model versions side by side: every field of their records that differs."""

from __future__ import annotations

from app.core.model_version import ModelVersion


def diff_versions(va: ModelVersion, vb: ModelVersion) -> dict[str, tuple]:
    """Field -> (a, b) for every registry field, record entry, nested entry (``metrics.acc``)
    and artifact (first 12 hex digits) that differs; the version number is left out."""
    out: dict[str, tuple] = {}
    for key in ("state", "kind", "created_by", "release_counter"):
        if getattr(va, key) != getattr(vb, key):
            out[key] = (getattr(va, key), getattr(vb, key))
    ra, rb = va.to_record(), vb.to_record()
    for key in sorted(set(ra) | set(rb)):
        if key in ("version", "artifacts"):
            continue
        x, y = ra.get(key), rb.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            for sub in sorted(set(x) | set(y)):
                if x.get(sub) != y.get(sub):
                    out[f"{key}.{sub}"] = (x.get(sub), y.get(sub))
        elif x != y:
            out[key] = (x, y)
    for name in sorted(set(va.artifacts) | set(vb.artifacts)):
        x, y = va.artifacts.get(name), vb.artifacts.get(name)
        if x != y:
            out[f"artifacts.{name}"] = (x and x[:12], y and y[:12])
    return out
