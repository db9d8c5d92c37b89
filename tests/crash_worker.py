"""Child process for T01: does mixed audited work forever and acknowledges each finished step
on stdout, until the parent kills it."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from app.core.errors import PlantMLError
from app.services import open_services


def main(home: str, out: str, life: str) -> None:
    rng = random.Random(life)
    with open_services(home) as sv:
        admin = sv.auth.login(username="admin", password="crash-admin-password")
        # Exporting the trail is the auditor's action; the admin would always be refused.
        aud = sv.auth.login(username="aud", password="crash-aud-password")
        print("READY", flush=True)
        i = 0
        while True:
            i += 1
            op = rng.choice(("user", "user", "setting", "setting", "export"))
            key = f"{life}_{i}"
            try:
                if op == "user":
                    sv.users.add(admin, username=f"u{key}", password="crash-user-password",
                                 roles=["engineer"])
                elif op == "setting":
                    sv.settings.set(admin, key="security.idle_lock_minutes", value=i,
                                    reason=f"life {life}")
                    key = f"{life}:{i}"
                else:
                    sv.audit.export(aud, folder=Path(out) / f"export{key}")
            except PlantMLError as exc:
                print(f"ERR {op} {key} {exc}", flush=True)
                continue
            print(f"ACK {op} {key}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
