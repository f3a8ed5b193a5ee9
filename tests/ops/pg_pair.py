"""A throw-away PostgreSQL primary and its streaming replica on loopback, for the replica tests:
initdb, pg_basebackup -R (streaming replication), pg_ctl; run as the postgres user when we are root.
Never touches the machine's own cluster."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> bool:
    return all(_bin(n) for n in ("initdb", "pg_ctl", "pg_basebackup"))


def free_port(start: int, end: int) -> int:
    for port in range(start, end):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{end}")


class PgPair:
    def __init__(self, port_range=(18710, 18799)):
        self.root = Path(tempfile.mkdtemp(prefix="ops-pgpair-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.primary_dir, self.replica_dir = self.root / "primary", self.root / "replica"
        self.primary_port = free_port(*port_range)
        self.replica_port = free_port(self.primary_port + 1, port_range[1])
        self.as_postgres = os.geteuid() == 0

    def _run(self, *cmd, check=True, timeout=120):
        argv = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + [str(c) for c in cmd]
        return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=timeout)

    def _conf(self, port: int) -> list[str]:
        return ["-o", f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
                      " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"]

    def start(self):
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(_bin("initdb"), "-D", self.primary_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start_primary()
        self._run(_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", self.primary_port, "-U", "postgres", "-D", self.replica_dir,
                  "-R", "-X", "stream", "-c", "fast")
        self.start_replica()
        return self

    def start_primary(self):
        self._run(_bin("pg_ctl"), "-D", self.primary_dir, "-l", self.root / "primary.log", "-w", *self._conf(self.primary_port), "start")

    def start_replica(self):
        self._run(_bin("pg_ctl"), "-D", self.replica_dir, "-l", self.root / "replica.log", "-w", *self._conf(self.replica_port), "start")

    def stop_replica(self):
        self._run(_bin("pg_ctl"), "-D", self.replica_dir, "-m", "immediate", "-w", "stop", check=False)

    def url(self, which: str, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.primary_port if which == 'primary' else self.replica_port}/{db}"

    def close(self):
        for d in (self.replica_dir, self.primary_dir):
            if d.exists():
                self._run(_bin("pg_ctl"), "-D", d, "-m", "immediate", "-w", "stop", check=False)
        time.sleep(0.2)
        shutil.rmtree(self.root, ignore_errors=True)
