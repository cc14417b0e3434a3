"""Local NATS JetStream clusters: configuration, credentials and the server processes.

``civic cluster up`` and the cluster tests start real ``nats-server`` processes
(Debian's package) with this module: each node gets its own directory with a
configuration file, its JetStream store and its log, listens on 127.0.0.1
only, and is stopped by the PID recorded when it started. Every member
organisation's peer gets its own NATS user and password, generated here and
written to the organisation's credentials file (mode 0600).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from civicledger.core.errors import NodeFault

HOST = "127.0.0.1"
MAX_PAYLOAD = 8 * 1024 * 1024
"""Largest NATS message: a batch of 2,000 transactions is about 0.5 MB."""
SERVER_PATHS = ("/usr/sbin/nats-server", "/usr/bin/nats-server")
CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this process started (NATS nodes, peers), by PID: kept so that they are reaped
when stopped, whichever object started them."""


def spawn(args: list[str], log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server process in its own session, its output appended to ``log_path``."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    CHILDREN[process.pid] = process
    return process


def server_binary() -> str:
    """The ``nats-server`` executable (Debian's package installs it in /usr/sbin)."""
    found = shutil.which("nats-server") or next((p for p in SERVER_PATHS if os.access(p, os.X_OK)), None)
    if found is None:
        raise NodeFault("nats-server is not installed: `apt-get install nats-server`",
                        code="nats_missing")
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass(frozen=True, slots=True)
class Credentials:
    """One peer's NATS login."""

    user: str
    password: str

    def to_json(self) -> str:
        return json.dumps({"user": self.user, "password": self.password})

    @classmethod
    def load(cls, path: Path) -> Credentials:
        doc = json.loads(path.read_text())
        return cls(str(doc["user"]), str(doc["password"]))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.to_json())


def new_credentials(users: Iterable[str]) -> dict[str, Credentials]:
    return {user: Credentials(user, secrets.token_hex(24)) for user in users}


@dataclass(frozen=True, slots=True)
class ServerSpec:
    name: str
    client_port: int
    cluster_port: int


def _config(spec: ServerSpec, routes: Sequence[int], store: Path,
            credentials: Iterable[Credentials]) -> str:
    users = ",\n".join(f'        {{user: "{c.user}", password: "{c.password}"}}' for c in credentials)
    route_list = ", ".join(f"nats-route://{HOST}:{port}" for port in routes)
    return f"""# A CivicLedger ordering node (written by civicledger.node.natsd).
server_name: {spec.name}
listen: {HOST}:{spec.client_port}
max_payload: {MAX_PAYLOAD}
jetstream {{
    store_dir: "{store}"
    max_memory_store: 64MB
    max_file_store: 8GB
}}
cluster {{
    name: civic
    listen: {HOST}:{spec.cluster_port}
    routes: [{route_list}]
}}
accounts {{
    CIVIC: {{
        jetstream: enabled
        users: [
{users}
        ]
    }}
}}
"""


class NatsCluster:
    """A cluster of ``nats-server`` processes under ``root``, one directory per node.

    ``write`` lays out the configuration once; ``start`` and ``stop`` run the
    processes, and the PIDs file lets another process (``civic cluster down``)
    stop exactly what was started.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def layout_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def pids_file(self) -> Path:
        return self.root / "pids.json"

    def write(self, size: int, users: Iterable[str]) -> dict[str, Credentials]:
        """Lay out ``size`` nodes and a login per user; returns the logins."""
        if self.layout_file.exists():
            raise NodeFault(f"{self.root} holds a NATS cluster already", code="cluster_exists")
        ports = free_ports(2 * size)
        specs = [ServerSpec(f"n{i + 1}", ports[2 * i], ports[2 * i + 1]) for i in range(size)]
        logins = new_credentials(users)
        for spec in specs:
            directory = self.root / spec.name
            (directory / "jetstream").mkdir(parents=True, exist_ok=True)
            routes = [s.cluster_port for s in specs if s is not spec]
            conf = directory / "nats.conf"
            fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(_config(spec, routes, directory / "jetstream", logins.values()))
        layout = [{"name": s.name, "client_port": s.client_port, "cluster_port": s.cluster_port}
                  for s in specs]
        self.layout_file.write_text(json.dumps(layout, indent=1))
        return logins

    def specs(self) -> list[ServerSpec]:
        return [ServerSpec(**entry) for entry in json.loads(self.layout_file.read_text())]

    def urls(self) -> list[str]:
        return [f"nats://{HOST}:{s.client_port}" for s in self.specs()]

    def start(self, names: Iterable[str] | None = None) -> None:
        """Start the nodes (all, or those named) and wait until each accepts clients."""
        binary = server_binary()
        chosen = [s for s in self.specs() if names is None or s.name in set(names)]
        for spec in chosen:
            directory = self.root / spec.name
            self.processes[spec.name] = spawn([binary, "-c", str(directory / "nats.conf")],
                                              directory / "nats.log")
        self._save_pids()
        for spec in chosen:
            _wait_for_port(spec.client_port, self.processes[spec.name], self.root / spec.name)

    def pid(self, name: str) -> int:
        """The PID of a running node (started by this object, or by another process)."""
        if name in self.processes:
            return self.processes[name].pid
        return int(json.loads(self.pids_file.read_text())[name])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to one node (SIGKILL: crash it; SIGSTOP/SIGCONT: stall it)."""
        pid = self.pid(name)
        os.kill(pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            reap(pid)
            self.processes.pop(name, None)
            self._save_pids(dropped=name)

    def stop(self) -> None:
        """Stop every recorded node (SIGTERM, then SIGKILL after 10 s)."""
        stop_recorded(self.pids_file)
        self.processes.clear()

    def _save_pids(self, dropped: str | None = None) -> None:
        """Record the running nodes' PIDs, keeping those another object started."""
        pids = json.loads(self.pids_file.read_text()) if self.pids_file.exists() else {}
        pids.update({name: p.pid for name, p in self.processes.items()})
        pids.pop(dropped, None)
        self.pids_file.write_text(json.dumps(pids))


def stop_recorded(pids_file: Path) -> list[int]:
    """Stop the processes a PIDs file records (``civic cluster down``); returns those stopped.

    The file maps names to PIDs, or to records with a ``pid``."""
    if not pids_file.exists():
        return []
    stopped = []
    for entry in json.loads(pids_file.read_text()).values():
        pid = entry["pid"] if isinstance(entry, dict) else entry
        if _end(pid):
            stopped.append(pid)
    deadline = time.monotonic() + 10
    for pid in stopped:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            reap(pid)
    pids_file.unlink(missing_ok=True)
    return stopped


def _end(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGCONT)  # a stalled process must run to hear SIGTERM
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


def _alive(pid: int) -> bool:
    child = CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del CHILDREN[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def exited(pid: int) -> bool:
    """True once ``pid`` has ended (a child of ours is reaped)."""
    return not _alive(pid)


def reap(pid: int, timeout: float = 10) -> None:
    """Wait (up to ``timeout`` s) until ``pid`` has ended; a child of ours is reaped."""
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], directory: Path,
                   timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (directory / "nats.log").read_text(errors="replace")[-2000:]
            raise NodeFault(f"nats-server exited with {process.returncode}:\n{log}",
                            code="nats_failed")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise NodeFault(f"nats-server did not listen on {HOST}:{port} within {timeout} s",
                    code="nats_failed")
