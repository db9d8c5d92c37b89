"""Case Western Reserve University bearing files (NPZ): labelled 12 kHz recordings."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.data.binary.importer import BinaryOptions, import_binary
from app.data.errors import ImportRefused
from app.data.recording import Recording

SAMPLE_RATE_HZ = 12_000.0
#: Motor speed (rpm) to motor load (hp), as the CWRU test rig documents them.
LOAD_BY_RPM = {1797: 0, 1772: 1, 1750: 2, 1730: 3}
_NAME = re.compile(r"^(?P<rpm>\d{4})_(?P<label>Normal|(?P<loc>B|IR|OR@\d+)_(?P<size>\d+))"
                   r"(?:_(?P<end>DE|FE)(?P<khz>\d+))?$")
_LOCATIONS = {"B": "ball", "IR": "inner race", "OR": "outer race"}


def parse_name(stem: str) -> dict:
    """Label and test conditions from a file name such as '1797_OR@6_14_DE12'.

    Raises ImportRefused for a name that does not follow the CWRU pattern.
    """
    match = _NAME.match(stem)
    if not match:
        raise ImportRefused(f"{stem}: not a CWRU file name (expected e.g. 1797_IR_7_DE12 or "
                            "1797_Normal)")
    rpm = int(match["rpm"])
    info: dict = {"label": match["label"], "rpm": rpm, "load_hp": LOAD_BY_RPM.get(rpm),
                  "fault": "none" if match["label"] == "Normal" else
                  _LOCATIONS[match["loc"].split("@")[0]]}
    if match["size"]:
        info["fault_diameter_mil"] = int(match["size"])
    if match["loc"] and "@" in match["loc"]:
        info["outer_race_position"] = f"{match['loc'].split('@')[1]}:00"
    if match["end"]:
        info["sensor_end"] = match["end"]
        info["sample_rate_khz"] = int(match["khz"])
    return info


def condition_of(info: dict) -> str:
    """The operating condition of a parsed CWRU name: its motor load, '' if not known."""
    return "" if info.get("load_hp") is None else f"load={info['load_hp']}hp"


def import_cwru(path: Path, *, work_dir: Path | None = None,
                progress: ProgressFn = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> Recording:
    """Import one CWRU ``.npz`` (keys DE, FE and maybe BA) as a labelled recording.

    The label comes from the file name (e.g. 'IR_7', 'Normal'), and so does the condition:
    the motor load the rig ran at, read from the speed in the name ('load=0hp' for 1797
    rpm; none for a speed the rig's table does not list). The sample rate is 12 kHz (the
    drive-end 12k set). Raises ImportRefused like :func:`import_binary`.
    """
    path = Path(path)
    info = parse_name(path.stem)
    khz = info.get("sample_rate_khz", 12)
    rec = import_binary(path, BinaryOptions(sample_rate=khz * 1000.0, label=info["label"]),
                        work_dir=work_dir, progress=progress, cancel=cancel)
    rec.name = path.stem
    rec.provenance["dataset"] = "CWRU bearing data"
    rec.provenance["conditions"] = info
    rec.condition = condition_of(info)
    if not any("DE" in c for c in rec.channel_names):
        rec.discard()
        raise ImportRefused(f"{path}: no drive-end (DE) array in the file "
                            f"(found {', '.join(rec.channel_names)})")
    return rec
