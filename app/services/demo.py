"""The headless end-to-end demo: runs what the loop has so far on a throwaway workspace."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.errors import AuthenticationError, PermissionDenied
from app.core.roles import Action
from app.security.passwords import HashParams
from app.services.audit import verify_export_folder
from app.services.container import open_services

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
             fast_hashing: bool = True) -> DemoResult:
    """Run the demo in the empty folder ``home``; ``say`` receives each step as it finishes.

    ``fast_hashing`` uses cheap Argon2 parameters so the demo runs in seconds; the real
    defaults apply to workspaces made with ``plantml init``.
    """
    result = DemoResult(home=home)

    def step(text: str, ok: bool = True) -> None:
        line = ("  ok    " if ok else "  FAIL  ") + text
        result.steps.append(line)
        result.ok &= ok
        say(line)

    params = HashParams(time_cost=1, memory_cost=8192, parallelism=1) if fast_hashing else None
    passwords = {name: f"{name}-demo-password" for name, _ in USERS}
    with open_services(home / "workspace", create=True, hash_params=params,
                       checkpoint_interval=10) as sv:
        step(f"workspace created at {sv.home} (SQLite WAL, audit key {sv.audit.key_id})")
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-demo-password")
        step("first run: administrator 'admin' created")
        for name, role in USERS:
            sv.users.add(admin, username=name, password=passwords[name], roles=[role])
        step(f"accounts created: {', '.join(f'{n} ({r})' for n, r in USERS)}")
        sv.settings.set(admin, key="security.idle_lock_minutes", value=10,
                        reason="control-room policy")
        step("setting security.idle_lock_minutes changed to 10 (audited)")

        erin = sv.auth.login(username="erin", password=passwords["erin"])
        try:
            sv.users.add(erin, username="mallory", password="mallory-pass", roles=["admin"])
            step("an engineer was allowed to create an account", ok=False)
        except PermissionDenied:
            step("engineer 'erin' tried to create an admin account: refused and audited")
        for _ in range(2):
            with contextlib.suppress(AuthenticationError):
                sv.auth.login(username="omar", password="not-his-password")
        step("two wrong passwords for 'omar': refused and audited")

        aud = sv.auth.login(username="aud", password=passwords["aud"])
        report = sv.audit.verify(aud)
        step(f"audit verify: {report.summary()}", report.ok)
        export_dir = home / "audit-export"
        exported = sv.audit.export(aud, folder=export_dir)
        step(f"audit exported to {export_dir}: {exported.events} events, "
             f"{len(exported.files)} files, checkpoint at {exported.checkpoint.seq}")
        manifest_hash = hashlib.sha256((export_dir / "manifest.json").read_bytes()).hexdigest()
        sig = sv.auth.esign(aud, password=passwords["aud"], action=Action.AUDIT_EXPORT,
                            meaning="reviewed", reason="monthly audit trail review",
                            record_type="audit-export", record_id=export_dir.name,
                            record_hash=manifest_hash)
        step(f"auditor signed the export electronically (meaning 'reviewed', key {sig.key_id})")

    offline = verify_export_folder(export_dir)
    step(f"export verified offline, without the workspace: {offline.summary()}", offline.ok)
    tampered = home / "audit-export-tampered"
    shutil.copytree(export_dir, tampered)
    events = tampered / "events.jsonl"
    events.write_bytes(events.read_bytes().replace(b"omar", b"omXr", 1))
    try:
        bad = verify_export_folder(tampered)
        step(f"tampered copy: {bad.summary()}", not bad.ok)
    except Exception as exc:  # noqa: BLE001 - any refusal is the expected outcome here
        step(f"tampered copy refused: {exc}")
    return result
