"""``civic cluster`` and ``civic peer``: run the consortium, on one machine or one peer per member.

    civic cluster up      a 3-node NATS JetStream cluster and a peer for each of Seoul city,
                          Nowon and Gangseo (own data directory, peer key, NATS login,
                          gateway port and portal), with the demo city on it
    civic cluster down    stop exactly what ``cluster up`` started (by the PIDs it recorded)
    civic peer up         one member organisation's peer: follow the log, execute, attest

The cluster's directory (``--root``, default ``cluster``) holds ``nats/`` (the NATS
nodes' configuration, stores and logs), one data directory per organisation, and
``peers.json`` (their PIDs, ports and URLs).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import httpx

from civicledger.cli import demo
from civicledger.cli.workspace import Workspace, WorkspaceError
from civicledger.contracts.catalog import registry as default_registry
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import CivicError, NodeFault
from civicledger.gateway.config import GatewayConfig
from civicledger.gateway.server import DEFAULT_HOST, server
from civicledger.node.blobs import BlobStore
from civicledger.node.executor import Genesis
from civicledger.node.jetstream import LogNames, NatsLink, Proposer, ensure_streams
from civicledger.node.natsd import Credentials, NatsCluster, exited, spawn, stop_recorded
from civicledger.node.node import initialise
from civicledger.node.ordering import wall_clock_ms
from civicledger.node.peer import Peer, open_peer
from civicledger.node.sqlite_store import SqliteStore

PEER_ORGS = ("seoul", "nowon", "gangseo")
"""The demo's member organisations that run peers."""
PEER_KEY = "peer"
"""The key name of an organisation's peer key in its data directory."""
CREDENTIALS = "nats.json"
FIRST_PORT = 8701


def _log_to_stderr() -> None:
    """A peer's and a proposer's log lines (their leases, reconnections, faults) on stderr, which
    ``civic cluster up`` keeps in the member's directory."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nats").setLevel(logging.WARNING)


def _fail(error: CivicError) -> None:
    click.echo(f"error [{error.code}]: {error.message}", err=True)
    sys.exit(4)


# -- civic peer up -------------------------------------------------------------------


@click.group()
def peer() -> None:
    """A member organisation's consortium peer."""


@peer.command("up")
@click.option("--org", required=True, help="The member organisation this peer belongs to.")
@click.option("--key", "key_name", default=PEER_KEY, show_default=True,
              help="Name of the peer's key in the data directory (registered in governance).")
@click.option("--nats", "servers", required=True,
              help="NATS server URLs, comma-separated (nats://127.0.0.1:4222,…).")
@click.option("--creds", type=click.Path(exists=True, dir_okay=False),
              help=f"This peer's NATS login (default DATA/{CREDENTIALS}).")
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=FIRST_PORT, show_default=True)
@click.option("--propose/--no-propose", default=True, show_default=True,
              help="Run a proposer beside the peer (its own process, `civic peer propose`), "
                   "which takes the proposer lease when it is free.")
@click.option("--block-txs", default=2000, show_default=True, help="Cut a batch at this many txs.")
@click.option("--block-ms", default=20, show_default=True, help="...or after this many ms.")
@click.option("--replicas", default=3, show_default=True, help="JetStream replicas of the log.")
@click.pass_obj
def peer_up(state: Any, org: str, key_name: str, servers: str, creds: str | None, host: str,
            port: int, propose: bool, block_txs: int, block_ms: int, replicas: int) -> None:
    """Start this organisation's peer: catch up from the log, then follow it, with its gateway
    and portal. Needs CIVIC_PASSPHRASE (or a terminal) for the peer key."""
    from civicledger.cli.main import _passphrase

    ws: Workspace = state.ws
    _log_to_stderr()
    try:
        if not ws.initialised():
            raise WorkspaceError(f"no ledger in {ws.root}: a peer starts from the consortium's "
                                 "genesis (`civic init --genesis FILE`)", code="not_initialised")
        key = ws.load_key(key_name, _passphrase())
        login = Credentials.load(Path(creds) if creds else ws.root / CREDENTIALS)
        with ws.lock():
            store = SqliteStore(ws.db)
            try:
                member = open_peer(store, default_registry(), servers=servers.split(","),
                                   credentials=login, org=org, key=key,
                                   book_path=ws.root / "attestations.db", propose=False,
                                   replicas=replicas)
                proposer = None
                if propose:
                    proposer = ProposerProcess(ws, org, servers, creds, block_txs, block_ms)
                try:
                    _serve(ws, member, host, port, proposer)
                finally:
                    if proposer is not None:
                        proposer.stop()
            finally:
                store.close()
    except CivicError as error:
        _fail(error)


def _serve(ws: Workspace, member: Peer, host: str, port: int,
           proposer: ProposerProcess | None) -> None:
    """Serve the peer's gateway until SIGTERM or SIGINT (then stop cleanly and exit 0), as
    ``civic up`` serves a solo node."""
    from civicledger.cli.main import _drain, _publish

    member.start()
    if proposer is not None:
        member.proposing = proposer.leading
        proposer.start()
    node = member.node

    def serving(url: str) -> None:  # once the gateway listens
        _publish(ws.gateway_url, url + "\n")
        click.echo(f"peer {member.org} up: chain '{node.chain_id}', height {node.head.height}, "
                   f"data {ws.root}")
        click.echo(f"gateway {url}  (API docs {url}/docs)")

    gateway = server(node, host, port, GatewayConfig(), BlobStore(ws.root / "blobs"),
                     data_dir=ws.root, consortium=member, on_started=serving)
    threading.Thread(target=_report_catch_up, args=(member,), daemon=True).start()
    threading.Thread(target=_stop_on_fault, args=(member, gateway), daemon=True).start()
    try:
        gateway.run()
    except SystemExit:  # uvicorn's word that it could not listen (it logged why)
        raise NodeFault(f"the gateway cannot listen on {host}:{port}", code="listen_failed") from None
    finally:
        ws.gateway_url.unlink(missing_ok=True)
        if node.fault is None:
            _drain(node)
        member.stop()
    if node.fault is not None:
        raise NodeFault(f"peer stopped: {node.fault}", code=getattr(node.fault, "code", "node_fault"))
    by = f" ({gateway.stopped_by.name})" if gateway.stopped_by else ""
    click.echo(f"peer stopped{by}")


def _report_catch_up(member: Peer) -> None:
    """Show progress while the peer is behind the log: a bar on a terminal, lines otherwise."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    time.sleep(2.5)  # the orderer learns the log's newest batch within a second or two
    status = member.status()
    if status.lag < 10:
        return
    start = status.height
    with Progress(TextColumn("catching up"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), disable=not sys.stdout.isatty()) as bar:
        task = bar.add_task("catch-up", total=status.log_height, completed=status.height)
        while member.node.running:
            status = member.status()
            bar.update(task, completed=status.height, total=status.log_height)
            if not sys.stdout.isatty():
                click.echo(f"catching up: block {status.height} of {status.log_height}")
            if status.lag == 0:
                break
            time.sleep(0.5 if sys.stdout.isatty() else 5)
    click.echo(f"caught up at block {member.node.head.height} "
               f"({member.node.head.height - start} blocks replayed)")


def _stop_on_fault(member: Peer, gateway: Any) -> None:
    """Stop serving once the peer stops committing, unless it diverged: a diverged peer keeps
    answering health and metrics so that its operator can see why."""
    while not gateway.should_exit:
        if member.node.fault is not None and not member.status().diverged:
            gateway.should_exit = True
        time.sleep(0.5)


class ProposerProcess:
    """``civic peer propose`` as a child of ``civic peer up``, restarted if it dies.

    Proposing is moving bytes from one stream to another on a timer; in the peer's own
    process it would wait for the interpreter lock behind the executor at every step, and
    its pace sets everyone's latency. Its own process keeps it prompt.
    """

    def __init__(self, ws: Workspace, org: str, servers: str, creds: str | None, block_txs: int,
                 block_ms: int) -> None:
        self.args = [sys.executable, "-m", "civicledger", "--data", str(ws.root), "peer", "propose",
                     "--org", org, "--nats", servers, "--block-txs", str(block_txs),
                     "--block-ms", str(block_ms)] + (["--creds", creds] if creds else [])
        self.log = ws.root / "proposer.log"
        self.state = ws.root / "proposer.state"
        self.pid_file = ws.root / "proposer.pid"
        self._process: Any = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._watch = threading.Thread(target=self._keep_running, name="proposer-watch", daemon=True)
        self._watch.start()

    def _spawn(self) -> None:
        self.state.unlink(missing_ok=True)
        self._process = spawn(self.args, self.log, {**os.environ})
        self.pid_file.write_text(f"{self._process.pid}\n")

    def _keep_running(self) -> None:
        backoff = 1.0
        while not self._stopping.wait(1.0):
            if self._process.poll() is not None and not self._stopping.is_set():
                click.echo(f"the proposer exited ({self._process.returncode}); restarting in "
                           f"{backoff:.0f} s", err=True)
                if self._stopping.wait(backoff):
                    return
                self._spawn()
                backoff = min(backoff * 2, 30.0)

    def leading(self) -> bool:
        """Whether the proposer holds the lease now (it says so in its state file)."""
        try:
            return self.state.read_text().strip() == "leading"
        except OSError:
            return False

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self.state.unlink(missing_ok=True)
        self.pid_file.unlink(missing_ok=True)


@peer.command("propose")
@click.option("--org", required=True, help="The member organisation this proposer belongs to.")
@click.option("--nats", "servers", required=True, help="NATS server URLs, comma-separated.")
@click.option("--creds", type=click.Path(exists=True, dir_okay=False),
              help=f"The organisation's NATS login (default DATA/{CREDENTIALS}).")
@click.option("--block-txs", default=2000, show_default=True, help="Cut a batch at this many txs.")
@click.option("--block-ms", default=20, show_default=True, help="...or after this many ms.")
@click.pass_obj
def peer_propose(state: Any, org: str, servers: str, creds: str | None, block_txs: int,
                 block_ms: int) -> None:
    """Propose batches while this organisation holds the proposer lease, until SIGTERM or SIGINT
    (`civic peer up` runs one beside its peer; run it alone to propose from another machine)."""
    ws: Workspace = state.ws
    _log_to_stderr()
    try:
        if not ws.initialised():
            raise WorkspaceError(f"no ledger in {ws.root}", code="not_initialised")
        login = Credentials.load(Path(creds) if creds else ws.root / CREDENTIALS)
        store = SqliteStore(ws.db, readonly=True, check=False)
        try:
            head = store.head()
        finally:
            store.close()
        assert head is not None
        link = NatsLink(servers.split(","), login, name=f"civic-proposer-{org}")
    except CivicError as error:
        _fail(error)
    names = LogNames.of(head.chain_id)
    proposer = Proposer(link, names, head.chain_id, org, lambda: head, max_txs=block_txs,
                        max_wait_ms=block_ms)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()
    try:
        link.run(ensure_streams(link.js, names), timeout=90)
        proposer.start()
        state_file, said = ws.root / "proposer.state", None
        while not stop.wait(0.25):
            if os.getppid() != parent:  # the peer that started us is gone (killed): so are we
                break
            now = "leading" if proposer.leading else "standby"
            if now != said:  # whole or not at all: the peer reads it for its health answer
                partial = state_file.with_name(state_file.name + ".tmp")
                partial.write_text(now + "\n")
                partial.replace(state_file)
                said = now
    finally:
        link.close()
    click.echo(f"proposer {org} stopped ({proposer.proposed} batches proposed)")


# -- civic cluster up / down ----------------------------------------------------------


@click.group()
def cluster() -> None:
    """A whole consortium on this machine: 3 NATS nodes and a peer per member organisation."""


@cluster.command("up")
@click.option("--root", default="cluster", show_default=True, type=click.Path(file_okay=False),
              help="The cluster's directory (kept between runs).")
@click.option("--port", "first_port", default=FIRST_PORT, show_default=True,
              help="The first peer's gateway port; the others follow.")
@click.option("--block-ms", default=20, show_default=True, help="Cut a batch after this many ms.")
def cluster_up(root: str, first_port: int, block_ms: int) -> None:
    """Start the NATS cluster and the Seoul, Nowon and Gangseo peers (creating the demo city on
    first start), wait until each gateway is ready, and return; `civic cluster down` stops them."""
    base = Path(root)
    try:
        peers = start_cluster(base, ports=range(first_port, first_port + len(PEER_ORGS)),
                              block_ms=block_ms)
    except CivicError as error:
        _fail(error)
    for org, entry in peers.items():
        click.echo(f"{org:8} {entry['url']}  (portal {entry['url']}/, data {base / org})")
    click.echo(f"NATS {', '.join(NatsCluster(base / 'nats').urls())}")
    click.echo("stop with: civic cluster down" + ("" if root == "cluster" else f" --root {root}"))


@cluster.command("down")
@click.option("--root", default="cluster", show_default=True, type=click.Path(file_okay=False))
def cluster_down(root: str) -> None:
    """Stop the peers and NATS nodes that `civic cluster up` started here (data is kept)."""
    stopped = stop_cluster(Path(root))
    click.echo(f"stopped {stopped} processes" if stopped else "nothing was running")


def start_cluster(base: Path, *, ports: Sequence[int] | None = None, block_ms: int = 20,
                  orgs: Sequence[str] = PEER_ORGS, genesis: Genesis | None = None,
                  timeout: float = 120) -> dict[str, Any]:
    """Lay out (first time) and start the cluster under ``base``; the peers' PIDs and URLs.

    ``genesis``: the chain to start (its governance must list ``orgs``); default the demo city.
    """
    nats = NatsCluster(base / "nats")
    peers_file = base / "peers.json"
    if peers_file.exists():
        raise NodeFault(f"a cluster is running from {base} already: `civic cluster down` first",
                        code="cluster_running")
    if not nats.layout_file.exists():
        if base.exists() and any(base.iterdir()):
            raise NodeFault(f"{base} is not empty and holds no cluster", code="cluster_exists")
        try:
            _create_members(base, tuple(orgs), nats.write(3, orgs), genesis)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)  # nothing half-made is left to start from
            raise
    nats.start()
    ports = list(ports or range(FIRST_PORT, FIRST_PORT + len(orgs)))
    peers: dict[str, Any] = {}
    try:
        for org, port in zip(orgs, ports, strict=True):
            peers[org] = launch_peer(base, org, port, block_ms=block_ms)
            peers_file.write_text(json.dumps(peers, indent=1))
        _wait_ready(peers, base, timeout)
    except BaseException:
        stop_cluster(base)
        raise
    return peers


def launch_peer(base: Path, org: str, port: int, *, block_ms: int = 20,
                extra: Sequence[str] = ()) -> dict[str, Any]:
    """Start ``org``'s peer as a process of its own (its log: ``base/org/peer.log``)."""
    servers = ",".join(NatsCluster(base / "nats").urls())
    directory = base / org
    env = {**os.environ, "CIVIC_PASSPHRASE": demo.DEMO_PASSPHRASE}
    process = spawn([sys.executable, "-m", "civicledger", "--data", str(directory), "peer", "up",
                     "--org", org, "--nats", servers, "--port", str(port), "--block-ms", str(block_ms),
                     *extra], directory / "peer.log", env)
    return {"pid": process.pid, "port": port, "url": f"http://{DEFAULT_HOST}:{port}"}


def stop_cluster(base: Path) -> int:
    """Stop the recorded peers (SIGTERM: they commit, close and exit), then the NATS nodes."""
    stopped = stop_recorded(base / "peers.json")
    return len(stopped) + len(stop_recorded(base / "nats" / "pids.json"))


def _create_members(base: Path, orgs: tuple[str, ...], logins: dict[str, Credentials],
                    genesis: Genesis | None) -> None:
    """Make the chain once (the demo city by default), with each member's peer key in
    governance, and give every member the same chain: the first member's store copied
    (online backup) into each data directory."""
    first = Workspace(base / orgs[0])
    peer_keys = {org: KeyPair.generate() for org in orgs}
    keys = None
    if genesis is None:
        chain_id = f"civic-cluster-{os.urandom(3).hex()}"
        genesis, keys = demo.create(first, chain_id, wall_clock_ms() - demo.DEMO_WEEK_MS)
    genesis = Genesis(genesis.chain_id, genesis.time_ms, demo.merge_genesis(genesis.contracts, {
        "governance": {"peers": [{"org": org, "key": peer_keys[org].public_key.hex()} for org in orgs]},
    }))
    first.root.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(first.db)
    try:
        initialise(store, default_registry(), genesis)
        if keys is not None:
            demo.seed_week(store, keys, genesis)
    finally:
        store.close()
    for org in orgs:
        ws = Workspace(base / org)
        ws.root.mkdir(parents=True, exist_ok=True)
        if ws.root != first.root:
            with sqlite3.connect(first.db) as source, sqlite3.connect(ws.db) as copy:
                source.backup(copy)
            for name in (n for n in first.key_names() if n != PEER_KEY):
                ws.keys.mkdir(parents=True, exist_ok=True)
                (ws.keys / f"{name}.json").write_bytes(first.key_file(name))
                os.chmod(ws.keys / f"{name}.json", 0o600)
        ws.genesis.write_bytes(genesis.to_json())
        ws.save_key(PEER_KEY, peer_keys[org], demo.DEMO_PASSPHRASE, fast=True)
        logins[org].save(ws.root / CREDENTIALS)


def _wait_ready(peers: dict[str, Any], base: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = dict(peers)
    while waiting:
        for org, entry in list(waiting.items()):
            try:
                if httpx.get(f"{entry['url']}/v1/ready", timeout=1).status_code == 200:
                    del waiting[org]
            except httpx.HTTPError:
                pass
            if exited(entry["pid"]):
                log = (base / org / "peer.log").read_text(errors="replace")[-2000:]
                raise NodeFault(f"the {org} peer exited:\n{log}", code="peer_failed")
        if time.monotonic() > deadline:
            raise NodeFault(f"peers not ready within {timeout:.0f} s: {', '.join(waiting)}",
                            code="peer_failed")
        time.sleep(0.25)
