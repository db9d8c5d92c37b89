"""The headless end-to-end demo: the whole loop on a throwaway workspace, printing each step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.security.passwords import HashParams
from app.services.container import open_services
from app.services.demo_steps import Demo

USERS = (
    ("erin", "engineer"),
    ("avery", "approver"),
    ("omar", "operator"),
    ("aud", "auditor"),
)


@dataclass
class DemoResult:
    """What the demo did, step by step, and whether every check held."""

    home: Path
    steps: list[str] = field(default_factory=list)
    ok: bool = True


def run_demo(home: Path, *, say: Callable[[str], None] = lambda _l: None,
             fast_hashing: bool = True, data_dir: Path | None = None) -> DemoResult:
    """Run the demo in the empty folder ``home``; ``say`` receives each step as it finishes.

    ``data_dir`` holds the CWRU recordings (default: ``../shared/data/cwru`` when present);
    without them the demo trains on synthetic vibration. ``fast_hashing`` uses cheap Argon2
    parameters so the demo runs in seconds; ``plantml init`` workspaces use the real ones.
    """
    result = DemoResult(home=home)

    def step(text: str, ok: bool = True) -> None:
        line = ("  ok    " if ok else "  FAIL  ") + text
        result.steps.append(line)
        result.ok &= ok
        say(line)

    params = HashParams(time_cost=1, memory_cost=8192, parallelism=1) if fast_hashing else None
    with open_services(home / "workspace", create=True, hash_params=params,
                       checkpoint_interval=25) as sv:
        demo = Demo(sv, home, step, {name: f"{name}-demo-password" for name, _ in USERS})
        demo.accounts(USERS)
        demo.acquire()
        dataset = demo.training_data(data_dir)
        ref = demo.train(dataset)
        demo.release(ref)
        demo.package(ref)
        demo.deploy(ref)
        demo.audit()
    demo.audit_offline()
    return result
