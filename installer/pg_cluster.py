"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temporary folder,
listening on 127.0.0.1 at a free port and on a Unix socket in that folder (standard library
only, so CI can run it before the virtual environment exists).

    python3 installer/pg_cluster.py start     # prints export PLANTML_TEST_PG_URL=... lines
    python3 installer/pg_cluster.py stop DIR  # stops the cluster and removes DIR
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: The cluster's superuser and the database the tests get.
USER = "plantml"
DATABASE = "plantml_test"
#: initdb refuses to run as root: as root the cluster belongs to this account.
SERVICE_ACCOUNT = "postgres"


def find_bin(name: str) -> str | None:
    """Path of a PostgreSQL server program: on the PATH, else Debian's versioned folder
    (/usr/lib/postgresql/N/bin, the newest N), else None."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return candidates[-1] if candidates else None


def server_available() -> str:
    """Empty if initdb and pg_ctl are found; otherwise why not (for a skip reason)."""
    missing = [n for n in ("initdb", "pg_ctl") if find_bin(n) is None]
    if missing:
        return (f"no PostgreSQL server programs ({', '.join(missing)} not on the PATH nor in "
                "/usr/lib/postgresql/*/bin); run installer/ci-postgres.sh or set "
                "PLANTML_TEST_PG_URL")
    if _is_root() and not _account_exists(SERVICE_ACCOUNT):
        return f"running as root and there is no {SERVICE_ACCOUNT!r} account to run initdb as"
    return ""


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its folder, port and the URL of its test database."""

    folder: Path
    port: int
    url: str

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder."""
        stop(self.folder)


def start(database: str = DATABASE, *, fsync: bool = True) -> Cluster:
    """Create, start and open a new cluster; raises RuntimeError with initdb's or
    pg_ctl's own message if it cannot."""
    why = server_available()
    if why:
        raise RuntimeError(why)
    folder = Path(tempfile.mkdtemp(prefix="plantml-pg-"))
    data, log = folder / "data", folder / "server.log"
    owner = SERVICE_ACCOUNT if _is_root() else None
    if owner is not None:
        shutil.chown(folder, owner, owner)
    port = _free_port()
    try:
        _run(owner, [find_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                     "-E", "UTF8", "--no-locale", "--no-sync"])
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c max_connections=200"
        options += f" -c unix_socket_directories={folder}" if os.name != "nt" else \
            " -c unix_socket_directories="
        if not fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(owner, [find_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                     "-o", options, "start"])
        createdb = find_bin("createdb") or "createdb"
        _run(owner, [createdb, "-h", "127.0.0.1", "-p", str(port), "-U", USER, database])
    except RuntimeError:
        _log_tail(log)
        stop(folder)
        raise
    return Cluster(folder, port, f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{database}")


def stop(folder: Path) -> None:
    """Stop the cluster in ``folder`` if it runs, then remove the folder."""
    folder = Path(folder)
    data = folder / "data"
    pg_ctl = find_bin("pg_ctl")
    if pg_ctl and (data / "postmaster.pid").exists():
        owner = SERVICE_ACCOUNT if _is_root() else None
        try:
            _run(owner, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
        except RuntimeError as exc:
            print(f"warning: {exc}", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)


def _run(owner: str | None, cmd: list) -> None:
    cmd = [str(c) for c in cmd]
    if owner is not None:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tempfile.gettempdir(),
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(cmd[3 if owner else 0]).name} failed "
                           f"(exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()}")


def _log_tail(log: Path) -> None:
    with contextlib.suppress(OSError):
        print(log.read_text(encoding="utf-8", errors="replace")[-2000:], file=sys.stderr)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _account_exists(name: str) -> bool:
    try:
        import pwd
    except ImportError:
        return False
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        try:
            cluster = start(fsync="--no-fsync" not in argv)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"export PLANTML_TEST_PG_URL={cluster.url}")
        print(f"export PLANTML_TEST_PG_DIR={cluster.folder}")
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        stop(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
