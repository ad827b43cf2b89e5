"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks.

Finds ``initdb`` in PATH or under /usr/lib/postgresql/*/bin, creates a cluster in a fresh
temporary folder with trust authentication on loopback only, starts it on a free port and
removes everything on ``stop``. initdb refuses to run as root, so under root the cluster runs
as the ``postgres`` user (which the distribution's package creates).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from schema.errors import ClasslogError

START_TIMEOUT_SECONDS = 60
SUPERUSER = "postgres"


class ClusterUnavailable(ClasslogError, RuntimeError):
    """No PostgreSQL binaries here, or the cluster could not start."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    folder: Path
    port: int
    run_as: str | None
    durable: bool = False

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        if self.run_as is not None:
            return ["runuser", "-u", self.run_as, "--", *command]
        return command

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            self._command(program, *args), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ClusterUnavailable(
                f"{program} failed: {detail[-1] if detail else result.returncode}"
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder}"
            " -c max_connections=300 -c shared_buffers=128MB"
        )
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(ClusterUnavailable):
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """Start a cluster; ``durable`` keeps fsync on (for benchmarks that mean it)."""
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailable("no initdb found in PATH or /usr/lib/postgresql/*/bin")
    run_as: str | None = None
    folder = Path(tempfile.mkdtemp(prefix="classlog-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SUPERUSER)
        except KeyError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise ClusterUnavailable(
                "running as root and no 'postgres' user to run initdb"
            ) from error
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = SUPERUSER
    cluster = Cluster(bindir, folder, free_port(), run_as, durable)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
