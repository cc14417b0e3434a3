"""``civic``: run a CivicLedger node and use it from the command line.

Exit codes: 0 done; 1 the ledger refused (a failed receipt or a rejected
transaction); 2 usage error; 3 not found; 4 node or store fault; 5 key or
passphrase problem; 6 the audit found a fault (verify, check, or an import whose
file does not check out).
"""

from __future__ import annotations

import errno
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from civicledger.cli import demo, render
from civicledger.cli.workspace import Workspace, WorkspaceError
from civicledger.contracts.catalog import registry as default_registry
from civicledger.core import address as addresses
from civicledger.core import encoding, merkle, schema
from civicledger.core.crypto import KeyPair
from civicledger.core.errors import (
    ArchiveError,
    CivicError,
    InvalidBlock,
    KeyFileError,
    NodeFault,
    NotFound,
    Rejection,
)
from civicledger.core.keyfile import unseal
from civicledger.core.tx import PartialTransaction, SignedTransaction, Transaction, read_partial
from civicledger.gateway.config import GatewayConfig
from civicledger.gateway.metrics import free_bytes
from civicledger.gateway.server import DEFAULT_HOST, DEFAULT_PORT, server
from civicledger.node.audit import AuditReport, verify_chain
from civicledger.node.blobs import BlobStore
from civicledger.node.devclock import DevClock, parse_span
from civicledger.node.executor import Genesis
from civicledger.node.node import (
    MAX_HISTORY_PAGE,
    Node,
    account_history,
    find_transaction,
    initialise,
)
from civicledger.node.ordering import SoloOrderer, wall_clock_ms
from civicledger.node.sqlite_store import SqliteStore

EXIT_REJECTED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_FAULT, EXIT_KEY, EXIT_AUDIT = 1, 2, 3, 4, 5, 6
DEFAULT_TTL_MS = 10 * 60 * 1000


def _exit_code(error: CivicError) -> int:
    if isinstance(error, (InvalidBlock, ArchiveError)):
        return EXIT_AUDIT  # the chain or the file does not check out
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, KeyFileError):
        return EXIT_KEY
    if isinstance(error, Rejection):
        return EXIT_REJECTED
    return EXIT_FAULT  # node, store and workspace faults


def fail(error: CivicError) -> None:
    click.echo(f"error [{error.code}]: {error.message}", err=True)
    sys.exit(_exit_code(error))


@contextmanager
def clear_errors() -> Iterator[None]:
    try:
        yield
    except CivicError as error:
        fail(error)


class State:
    def __init__(self, data: str) -> None:
        self.ws = Workspace(Path(data))

    def store(self, *, check: bool = True) -> SqliteStore:
        if not self.ws.initialised():
            raise WorkspaceError(
                f"no ledger in {self.ws.root}: run `civic init --demo` first", code="not_initialised"
            )
        return SqliteStore(self.ws.db, check=check)


pass_state = click.make_pass_decorator(State)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", envvar="CIVIC_DATA", default="data", show_default=True,
              type=click.Path(file_okay=False), help="The node's data directory (env CIVIC_DATA).")
@click.version_option(package_name="civicledger")
@click.pass_context
def cli(ctx: click.Context, data: str) -> None:
    """CivicLedger: one trusted record and one incentive economy for a city's services."""
    ctx.obj = State(data)


# -- init / up ---------------------------------------------------------------------------------


DEMO_CHAIN_PREFIX = "civic-demo-"


def demo_chain_id() -> str:
    """A new demo chain's id, unique so that nothing signed for one demo replays on another."""
    return DEMO_CHAIN_PREFIX + os.urandom(4).hex()


def _init(state: State, genesis_file: str | None, use_demo: bool, chain_id: str | None) -> None:
    ws = state.ws
    if ws.initialised():
        raise WorkspaceError(f"{ws.root} holds a ledger already", code="already_initialised")
    if genesis_file:
        genesis = Genesis.from_json(Path(genesis_file).read_bytes())
    elif use_demo:
        genesis, demo_keys = demo.create(ws, chain_id or demo_chain_id(),
                                         wall_clock_ms() - demo.DEMO_WEEK_MS)
    else:
        raise click.UsageError("give --demo or --genesis FILE")
    with ws.lock():
        store = SqliteStore(ws.db)
        try:
            header = initialise(store, default_registry(), genesis)
            if use_demo and not genesis_file:
                blocks = demo.seed_week(store, demo_keys, genesis)
                click.echo(f"seeded a week of city services in {blocks} blocks")
        except BaseException:
            store.close()
            ws.db.unlink(missing_ok=True)
            raise
        store.close()
    ws.genesis.write_bytes(genesis.to_json())
    click.echo(f"initialised chain '{genesis.chain_id}' in {ws.root}")
    click.echo(f"genesis hash {header.hash.hex()}")
    if use_demo:
        click.echo(f"demo keys in {ws.keys} (passphrase: {demo.DEMO_PASSPHRASE})")


@cli.command()
@click.option("--genesis", "genesis_file", type=click.Path(exists=True, dir_okay=False),
              help="A genesis JSON document.")
@click.option("--demo", "use_demo", is_flag=True, help="Create demo organisations, keys and coins.")
@click.option("--chain-id", help="With --demo: the chain's id (default civic-demo-<random hex>).")
@pass_state
def init(state: State, genesis_file: str | None, use_demo: bool, chain_id: str | None) -> None:
    """Create a new ledger in the data directory."""
    with clear_errors():
        _init(state, genesis_file, use_demo, chain_id)


@contextmanager
def running_node(state: State, clock: DevClock | None = None, **orderer: Any) -> Iterator[Node]:
    """The node on the data directory, started; ``clock``: a dev chain's movable clock."""
    with state.ws.lock():
        store = state.store()
        try:
            timing = {} if clock is None else {"clock": clock}
            node = Node(store, default_registry(), SoloOrderer(**orderer, **timing), **timing)
            node.start()
        except BaseException:
            store.close()
            raise
        try:
            yield node
        finally:
            node.stop()
            store.close()


DRAIN_S = 10.0
"""Longest ``civic up`` waits, once stopped, for admitted transactions to reach a block."""


@cli.command()
@click.option("--demo", "use_demo", is_flag=True, help="Initialise with demo data if empty.")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address the gateway listens on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port of the gateway.")
@click.option("--rate-limit", default=0.0, show_default=True,
              help="Requests per second per client (a batch counts its transactions); 0: none.")
@click.option("--block-txs", default=2000, show_default=True, help="Cut a block at this many txs.")
@click.option("--block-ms", default=20, show_default=True, help="...or after this many ms.")
@click.option("--dev-clock", is_flag=True,
              help="Let the operator move block time forward (POST /v1/dev/advance-time, "
                   "`civic dev advance`): for dev and demo chains only.")
@pass_state
def up(state: State, use_demo: bool, host: str, port: int, rate_limit: float, block_txs: int,
       block_ms: int, dev_clock: bool) -> None:
    """Start the node with its HTTP gateway (API docs at /docs) until Ctrl-C or SIGTERM.

    On either signal it stops admitting, answers what is in flight, commits what was
    admitted, closes the store and exits 0.
    """
    with clear_errors():
        if not state.ws.initialised() and use_demo:
            _init(state, None, True, None)
        _check_room(state.ws.root)
        config = GatewayConfig(rate_per_s=rate_limit)
        clock = DevClock(start_at_least=_head_time(state)) if dev_clock else None
        with running_node(state, clock, max_txs=block_txs, max_wait_ms=block_ms) as node:
            def serving(url: str) -> None:  # once the gateway listens
                _publish(state.ws.gateway_url, url + "\n")
                click.echo(f"node up: chain '{node.chain_id}', height {node.head.height}, "
                           f"data {state.ws.root}")
                if clock is not None:
                    click.echo("dev clock on: block time can be moved forward "
                               "(civic dev advance 1d)")
                click.echo(f"gateway {url}  (API docs {url}/docs; Ctrl-C to stop)")

            gateway = server(node, host, port, config, BlobStore(state.ws.root / "blobs"),
                             data_dir=state.ws.root, dev_clock=clock, on_started=serving)
            threading.Thread(target=_stop_on_fault, args=(node, gateway), daemon=True).start()
            try:
                gateway.run()
            except SystemExit:  # uvicorn's word that it could not listen (it logged why)
                raise NodeFault(f"the gateway cannot listen on {host}:{port}",
                                code="listen_failed") from None
            finally:
                state.ws.gateway_url.unlink(missing_ok=True)
            if node.fault is None:
                _drain(node)
            if node.fault is not None:
                raise NodeFault(f"node stopped: {node.fault}")
        by = f" ({gateway.stopped_by.name})" if gateway.stopped_by else ""
        click.echo(f"node stopped{by}")


MIN_FREE_BYTES = 1024 * 1024
"""Free space below which ``civic up`` does not start: it could not commit a block."""


def _check_room(root: Path) -> None:
    """Refuse to start on a full disk, saying so (instead of failing at the first commit)."""
    try:
        free = free_bytes(root) if root.exists() else MIN_FREE_BYTES
    except OSError as error:
        raise NodeFault(f"cannot read the free space of {root}: {error}", code="io_error") from None
    if free < MIN_FREE_BYTES:
        raise NodeFault(f"the disk of {root} is full ({free:,} bytes free, a node needs "
                        f"{MIN_FREE_BYTES:,} at least to commit blocks): free some space and "
                        "start again", code="disk_full")


def _head_time(state: State) -> int:
    store = state.store()
    try:
        head = store.head()
        assert head is not None
        return head.time_ms
    finally:
        store.close()


def _publish(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (a full disk leaves no empty file behind)."""
    partial = path.with_name(path.name + ".tmp")
    try:
        partial.write_text(text)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise NodeFault(f"cannot write {path}: {error.strerror or error}",
                        code="disk_full" if error.errno == errno.ENOSPC else "io_error") from None


def _drain(node: Node) -> None:
    """Wait until what was admitted is in a block (the gateway admits nothing more)."""
    deadline = time.monotonic() + DRAIN_S
    while node.orderer.pending() and node.fault is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _stop_on_fault(node: Node, gateway: Any) -> None:
    """Stop serving once the node stops committing: its answers would no longer be true."""
    while not gateway.should_exit:
        if node.fault is not None:
            gateway.should_exit = True
        time.sleep(0.5)


# -- keys ----------------------------------------------------------------------------------------


def _passphrase(confirm: bool = False) -> str:
    value = os.environ.get("CIVIC_PASSPHRASE")
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise KeyFileError("set CIVIC_PASSPHRASE or run in a terminal to enter the passphrase",
                           code="no_passphrase")
    return click.prompt("passphrase", hide_input=True, confirmation_prompt=confirm)


@cli.group()
def keys() -> None:
    """Create, list, show, import and export keys (encrypted with a passphrase)."""


@keys.command("new")
@click.argument("name")
@pass_state
def keys_new(state: State, name: str) -> None:
    """Create a new key NAME."""
    with clear_errors():
        keypair = KeyPair.generate()
        state.ws.save_key(name, keypair, _passphrase(confirm=True))
        click.echo(addresses.to_text(addresses.address_of(keypair.public_key)))


@keys.command("list")
@pass_state
def keys_list(state: State) -> None:
    """List keys with their addresses."""
    with clear_errors():
        for name in state.ws.key_names():
            info = state.ws.key_info(name)
            click.echo(f"{name}\t{info['address']}")


@keys.command("show")
@click.argument("name")
@pass_state
def keys_show(state: State, name: str) -> None:
    """Show a key's address and public key."""
    with clear_errors():
        click.echo(render.dumps(state.ws.key_info(name)))


@keys.command("import")
@click.argument("name")
@click.argument("keyfile", type=click.Path(exists=True, dir_okay=False))
@pass_state
def keys_import(state: State, name: str, keyfile: str) -> None:
    """Import an exported key file as NAME (checks the passphrase)."""
    with clear_errors():
        passphrase = _passphrase()
        keypair = unseal(Path(keyfile).read_bytes(), passphrase)
        state.ws.save_key(name, keypair, passphrase)
        click.echo(addresses.to_text(addresses.address_of(keypair.public_key)))


@keys.command("export")
@click.argument("name")
@pass_state
def keys_export(state: State, name: str) -> None:
    """Print NAME's encrypted key file (a backup; it needs the passphrase to use)."""
    with clear_errors():
        click.echo(state.ws.key_file(name).decode(), nl=False)


# -- transactions ----------------------------------------------------------------------------------


def _account(state: State, text: str) -> bytes:
    """An address from civ1… text or a key name."""
    if text.startswith(addresses.HRP + "1"):
        try:
            return addresses.from_text(text)
        except addresses.AddressError as exc:
            raise click.BadParameter(str(exc)) from None
    return addresses.from_text(state.ws.key_info(text)["address"])


def _coerce(state: State, spec: schema.Spec, raw: str, name: str) -> Any:
    """Turn command-line text into the value ``spec`` expects."""
    if isinstance(spec, schema.Optional):
        return None if raw in ("", "null") else _coerce(state, spec.inner, raw, name)
    try:
        if isinstance(spec, schema.Int):
            return int(raw)
        if isinstance(spec, schema.Bool):
            return {"true": True, "false": False}[raw.lower()]
        if isinstance(spec, schema.Bytes):
            if spec.high == addresses.ADDRESS_SIZE:
                return _account(state, raw)
            return bytes.fromhex(raw)
        if isinstance(spec, schema.Text):
            return raw
        return json.loads(raw)
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(f"{name}: cannot read '{raw}' ({exc})") from None


def _args(state: State, handler: Any, pairs: tuple[str, ...]) -> dict[str, Any]:
    specs = {p.name: p.spec for p in handler.params}
    out = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--arg")
        if name not in specs:
            raise click.BadParameter(
                f"{handler.name} takes {', '.join(specs) or 'no arguments'}", param_hint="--arg"
            )
        out[name] = _coerce(state, specs[name], raw, name)
    return out


class TxGroup(click.Group):
    """``civic tx CONTRACT METHOD …`` sends; ``civic tx show ID`` shows."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args.insert(0, "send")
        return super().resolve_command(ctx, args)


@cli.group(cls=TxGroup)
def tx() -> None:
    """Send a transaction (civic tx CONTRACT METHOD --key K --arg NAME=VALUE …) or show one."""


@tx.command("send")
@click.argument("contract")
@click.argument("method")
@click.option("--key", "key_name", required=True, help="Name of the signing key.")
@click.option("--cosign", multiple=True, help="Names of co-signing keys (repeatable).")
@click.option("--arg", "pairs", multiple=True, help="NAME=VALUE (addresses as civ1… or key name).")
@pass_state
def tx_send(state: State, contract: str, method: str, key_name: str, cosign: tuple[str, ...],
            pairs: tuple[str, ...]) -> None:
    """Sign CONTRACT.METHOD and commit it on the local node."""
    with clear_errors():
        registry = default_registry()
        _, handler = registry.handler(contract, method, readonly=False)
        args = _args(state, handler, pairs)
        passphrase = _passphrase()
        signer = state.ws.load_key(key_name, passphrase)
        cosigners = [state.ws.load_key(name, passphrase) for name in cosign]
        try:
            with running_node(state, max_wait_ms=1) as node:
                now = max(wall_clock_ms(), node.head.time_ms)  # a dev chain's may be ahead
                stx = _sign(node.chain_id, contract, method, args, signer, cosigners, now)
                committed = node.submit(stx.envelope()).result(timeout=60)
                shown = {"height": committed.height, "index": committed.index,
                         **render.receipt(committed.receipt)}
        except WorkspaceError as error:
            if error.code != "node_running":
                raise
            shown = _send_to_gateway(state, contract, method, args, signer, cosigners)
        click.echo(render.dumps(shown))
        if shown["status"] != "ok":
            sys.exit(EXIT_REJECTED)


def _sign(chain_id: str, contract: str, method: str, args: dict[str, Any], signer: KeyPair,
          cosigners: list[KeyPair], now_ms: int) -> SignedTransaction:
    """Sign as ``signer`` and every co-signer, valid from the chain's ``now_ms`` for 10 min."""
    return Transaction(
        chain_id, contract, method, args, signer.public_key, os.urandom(16),
        now_ms + DEFAULT_TTL_MS, tuple(k.public_key for k in cosigners),
    ).sign(signer, *cosigners)


def _send_to_gateway(state: State, contract: str, method: str, args: dict[str, Any],
                     signer: KeyPair, cosigners: list[KeyPair]) -> dict[str, Any]:
    """A node runs on this data directory: submit through its gateway instead."""
    from civicledger.sdk import Client, ClientError, Unavailable

    try:
        url = state.ws.gateway_url.read_text().strip()
    except FileNotFoundError:
        raise WorkspaceError("a node runs here but its gateway address is unknown",
                             code="node_running") from None
    chain_id = json.loads(state.ws.genesis.read_bytes())["chain_id"]
    with Client(url) as client:
        try:
            stx = _sign(chain_id, contract, method, args, signer, cosigners, client.now_ms())
            outcome = client.submit(stx, wait=True, timeout_ms=60_000)
        except Unavailable as error:
            raise NodeFault(error.message, code=error.code) from None
        except ClientError as error:
            raise Rejection(error.message, code=error.code) from None
    if not outcome.committed:
        raise NodeFault(f"transaction {outcome.tx_id} did not commit within 60 s", code="timeout")
    assert outcome.receipt is not None
    return {"height": outcome.height, "index": outcome.index, **outcome.receipt}


HANDOFF_TTL = "30m"


@tx.command("sign")
@click.argument("contract")
@click.argument("method")
@click.option("--key", "key_name", required=True, help="Name of the signing key.")
@click.option("--cosigner", "cosigners", multiple=True, required=True,
              help="Who must co-sign, in order (repeatable): a key name, a civ1… account that "
                   "has signed before, or a public key in hex.")
@click.option("--arg", "pairs", multiple=True, help="NAME=VALUE (addresses as civ1… or key name).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the partial transaction ('-': print it).")
@click.option("--ttl", default=HANDOFF_TTL, show_default=True,
              help="How long the co-signers have (e.g. 30m, 2h; at most 24h).")
@pass_state
def tx_sign(state: State, contract: str, method: str, key_name: str, cosigners: tuple[str, ...],
            pairs: tuple[str, ...], out: str, ttl: str) -> None:
    """Sign CONTRACT.METHOD as the first party; write it for the co-signers (`civic tx cosign`).

    The file holds the call and the signatures so far as URL-safe base64 text, the same
    text a portal co-signing link carries after its '#'.
    """
    with clear_errors():
        _, handler = default_registry().handler(contract, method, readonly=False)
        args = _args(state, handler, pairs)
        try:
            ttl_ms = parse_span(ttl)
        except CivicError as error:
            raise click.BadParameter(error.message, param_hint="--ttl") from None
        keys = tuple(_public_key(state, who) for who in cosigners)
        signer = state.ws.load_key(key_name, _passphrase())
        chain_id, now = _chain_now(state)
        partial = Transaction(chain_id, contract, method, args, signer.public_key, os.urandom(16),
                              now + ttl_ms, keys).start(signer)
        _write_partial(out, partial)
        click.echo(render.dumps(_partial_view(partial)), err=out == "-")


@tx.command("cosign")
@click.argument("partial_file", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--key", "key_name", help="Name of the co-signing key (none: only --submit).")
@click.option("--submit", is_flag=True, help="Submit once every party has signed.")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write it with the added signature (default: back to FILE).")
@pass_state
def tx_cosign(state: State, partial_file: str, key_name: str | None, submit: bool,
              out: str | None) -> None:
    """Check a partial transaction, add your signature, and hand it on or submit it.

    Refused, changing nothing, if a signature so far does not verify, if it is for another
    chain or has expired, or if your key is not the next co-signer it names.
    """
    with clear_errors():
        text = click.get_text_stream("stdin").read() if partial_file == "-" else \
            Path(partial_file).read_text()
        chain_id, now = _chain_now(state)
        partial = read_partial(text, chain_id, now)
        if key_name is not None:
            partial = partial.cosign(state.ws.load_key(key_name, _passphrase()))
            _write_partial(out or partial_file, partial)
        elif not submit:
            raise click.UsageError("give --key to co-sign, or --submit to submit")
        view = _partial_view(partial)
        if not submit:
            click.echo(render.dumps(view), err=(out or partial_file) == "-")
            return
        shown = _submit_signed(state, partial.signed())
        click.echo(render.dumps(shown))
        if shown["status"] != "ok":
            sys.exit(EXIT_REJECTED)


def _public_key(state: State, who: str) -> bytes:
    """A co-signer's public key from a key name, a civ1… account or hex."""
    if len(who) == 64:
        try:
            return bytes.fromhex(who)
        except ValueError:
            pass
    if not who.startswith(addresses.HRP + "1"):
        return bytes.fromhex(state.ws.key_info(who)["public_key"])
    account = _account(state, who)
    if state.ws.gateway_url.exists():
        from civicledger.sdk import ClientError

        with _gateway_client(state) as client:
            try:
                return client.public_key(who)
            except ClientError as error:
                raise NotFound(error.message, code=error.code) from None
    store = state.store()
    try:
        key = store.public_key(account)
    finally:
        store.close()
    if key is None:
        raise NotFound(f"{who} has not signed a committed transaction, so its key is unknown: "
                       "give its public key in hex", code="unknown_key")
    return key


def _chain_now(state: State) -> tuple[str, int]:
    """The chain's id and its time now (its gateway's clock while a node runs)."""
    chain_id = json.loads(state.ws.genesis.read_bytes())["chain_id"]
    if state.ws.gateway_url.exists():
        with _gateway_client(state) as client, _gateway_errors():
            return chain_id, client.now_ms()
    return chain_id, max(wall_clock_ms(), _head_time(state))


@contextmanager
def _gateway_errors() -> Iterator[None]:
    """The SDK's errors as the CLI's: unavailable is a node fault, the rest are refusals."""
    from civicledger.sdk import ClientError, Unavailable

    try:
        yield
    except Unavailable as error:
        raise NodeFault(error.message, code=error.code) from None
    except ClientError as error:
        raise Rejection(error.message, code=error.code) from None


def _write_partial(out: str, partial: PartialTransaction) -> None:
    if out == "-":
        click.echo(partial.text())
    else:
        Path(out).write_text(partial.text() + "\n")


def _partial_view(partial: PartialTransaction) -> dict[str, Any]:
    t = partial.tx
    return {"tx_id": partial.id.hex(), "chain_id": t.chain_id, "contract": t.contract,
            "method": t.method, "args": dict(t.args),
            "signer": addresses.address_of(t.signer), "expires_ms": t.expires,
            "awaiting": [addresses.address_of(k) for k in partial.awaiting],
            "complete": partial.complete}


def _submit_signed(state: State, stx: SignedTransaction) -> dict[str, Any]:
    """Commit ``stx`` on the local node, or through its gateway while `civic up` runs."""
    try:
        with running_node(state, max_wait_ms=1) as node:
            committed = node.submit(stx.envelope()).result(timeout=60)
            return {"height": committed.height, "index": committed.index,
                    **render.receipt(committed.receipt)}
    except WorkspaceError as error:
        if error.code != "node_running":
            raise
    with _gateway_client(state) as client, _gateway_errors():
        outcome = client.submit(stx, wait=True, timeout_ms=60_000)
    if not outcome.committed:
        raise NodeFault(f"transaction {outcome.tx_id} did not commit within 60 s", code="timeout")
    assert outcome.receipt is not None
    return {"height": outcome.height, "index": outcome.index, **outcome.receipt}


@tx.command("show")
@click.argument("tx_id")
@pass_state
def tx_show(state: State, tx_id: str) -> None:
    """Show a committed transaction, its receipt and its verified inclusion proof."""
    with clear_errors():
        try:
            raw_id = bytes.fromhex(tx_id)
        except ValueError:
            raise click.BadParameter("a transaction id is 64 hex digits") from None
        store = state.store()
        try:
            record = find_transaction(store, raw_id, proof=True)
        finally:
            store.close()
        assert record.proof is not None
        proof_ok = merkle.verify(record.envelope, record.proof, record.header.tx_root)
        t = record.tx.tx
        click.echo(render.dumps({
            "tx_id": tx_id, "height": record.height, "index": record.index,
            "contract": t.contract, "method": t.method, "args": dict(t.args),
            "signers": list(record.tx.signer_addresses),
            "receipt": render.receipt(record.receipt),
            "proof": {"index": record.proof.index, "size": record.proof.size,
                      "path": [p.hex() for p in record.proof.path],
                      "tx_root": record.header.tx_root.hex(), "verified": proof_ok},
        }))
        if not proof_ok:
            sys.exit(EXIT_AUDIT)


@cli.group()
def dev() -> None:
    """Operator calls of a dev chain (its node started with `civic up --dev-clock`)."""


@dev.command("advance")
@click.argument("span")
@pass_state
def dev_advance(state: State, span: str) -> None:
    """Move the running dev chain's clock SPAN forward (3d, 12h, 90m, 1h30m, 500ms, or ms).

    The next block's time is at least that much later; contracts see it from that block.
    """
    from civicledger.sdk import ClientError, Unavailable

    with clear_errors():
        try:
            ms = parse_span(span)
        except CivicError as error:
            raise click.BadParameter(error.message, param_hint="SPAN") from None
        with _gateway_client(state) as client:
            try:
                moved = client.advance_time(ms)
            except Unavailable as error:
                raise NodeFault(error.message, code=error.code) from None
            except ClientError as error:
                raise Rejection(error.message, code=error.code) from None
        click.echo(render.dumps(moved))


@contextmanager
def _gateway_client(state: State) -> Iterator[Any]:
    """An SDK client of the gateway that ``civic up`` serves on this data directory."""
    from civicledger.sdk import Client

    try:
        url = state.ws.gateway_url.read_text().strip()
    except FileNotFoundError:
        raise WorkspaceError(f"no node runs on {state.ws.root}: start it with `civic up`",
                             code="node_not_running") from None
    with Client(url) as client:
        yield client


@cli.command()
@click.argument("contract")
@click.argument("name")
@click.option("--arg", "pairs", multiple=True, help="NAME=VALUE")
@pass_state
def query(state: State, contract: str, name: str, pairs: tuple[str, ...]) -> None:
    """Run a read-only contract query on the latest state."""
    with clear_errors():
        registry = default_registry()
        _, handler = registry.handler(contract, name, readonly=True)
        click.echo(render.dumps(_read(state, contract, name, _args(state, handler, pairs))))


def _read(state: State, contract: str, name: str, args: dict[str, Any]) -> Any:
    from civicledger.core.state import Overlay

    store = state.store()
    try:
        with store.reading():
            head = store.head()
            assert head is not None
            return default_registry().read(Overlay(store), head.env, contract, name, args)
    finally:
        store.close()


@cli.command()
@click.argument("account")
@click.option("--currency", help="Only this currency.")
@pass_state
def balance(state: State, account: str, currency: str | None) -> None:
    """Balances of ACCOUNT (civ1… or a key name), per currency."""
    with clear_errors():
        address = _account(state, account)
        symbols = [currency] if currency else [
            c["symbol"] for c in _read(state, "token", "currencies", {})
        ]
        rows = {s: _read(state, "token", "balance", {"currency": s, "account": address})
                for s in symbols}
        click.echo(render.dumps({"account": address, "balances": rows}))


@cli.command()
@click.argument("account")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, MAX_HISTORY_PAGE))
@click.option("--before", help="HEIGHT:INDEX of the oldest entry already seen (to page back).")
@pass_state
def history(state: State, account: str, limit: int, before: str | None) -> None:
    """ACCOUNT's transactions (civ1… or a key name), newest first, with the events naming it."""
    with clear_errors():
        address = _account(state, account)
        cursor = None
        if before is not None:
            height, sep, index = before.partition(":")
            if not (sep and height.isdigit() and index.isdigit()):
                raise click.BadParameter("use HEIGHT:INDEX, e.g. 12:0", param_hint="--before")
            cursor = (int(height), int(index))
        store = state.store()
        try:
            entries = account_history(store, address, before=cursor, limit=limit)
        finally:
            store.close()
        click.echo(render.dumps([
            {"height": e.height, "index": e.index, "time_ms": e.time_ms,
             "tx_id": e.receipt.tx_id.hex(), "status": e.receipt.status,
             "events": [{"contract": ev.contract, "name": ev.name, "data": dict(ev.data)}
                        for ev in e.events]}
            for e in entries
        ]))


@cli.command()
@click.argument("height", default="latest")
@click.option("--txs", is_flag=True, help="Also list the block's transactions and receipts.")
@pass_state
def block(state: State, height: str, txs: bool) -> None:
    """Show block HEIGHT (a number, a block hash, or 'latest')."""
    with clear_errors():
        store = state.store()
        try:
            if height == "latest":
                number = store.head().height  # type: ignore[union-attr]
            elif height.isdigit():
                number = int(height)
            else:
                found = store.height_of_hash(bytes.fromhex(height)) if len(height) == 64 else None
                if found is None:
                    raise NotFound(f"no block {height}")
                number = found
            stored = store.block(number)
            if stored is None:
                raise NotFound(f"no block at height {number}")
        finally:
            store.close()
        out: dict[str, Any] = render.header(stored.header)
        if txs:
            out["receipts"] = [render.receipt(r) for r in stored.receipts]
        click.echo(render.dumps(out))


@cli.command()
@click.option("--repair-indexes", is_flag=True,
              help="Rebuild the transaction, topic and signer indexes from the blocks (never state).")
@pass_state
def verify(state: State, repair_indexes: bool) -> None:
    """Replay the chain from genesis, check every hash, signature and root, and compare the
    replayed state and indexes with the live ones (each difference is listed)."""
    with clear_errors():
        with state.ws.lock() if repair_indexes else _nothing():
            store = state.store(check=False)
            try:
                started = time.perf_counter()
                with _progress("verifying") as bar:
                    task = bar.add_task("verify", total=store.head().height)  # type: ignore[union-attr]
                    report = verify_chain(store, default_registry(), repair_indexes=repair_indexes,
                                          progress=lambda h, top: bar.update(task, completed=h, total=top))
            finally:
                store.close()
        seconds = time.perf_counter() - started
        if report.problem:
            click.echo(f"FAILED at height {report.height}: {report.problem}", err=True)
            sys.exit(EXIT_AUDIT)
        for line in _difference_lines(report):
            click.echo(line, err=True)
        rate = report.transactions / seconds if seconds else 0
        summary = (f"{report.height + 1} blocks, {report.transactions} transactions replayed "
                   f"in {seconds:.2f} s ({rate:,.0f} tx/s)")
        if report.repaired:
            click.echo("indexes rebuilt from the blocks", err=True)
        if not report.ok:
            click.echo(f"FAILED: {summary}; the live store differs from the replay", err=True)
            sys.exit(EXIT_AUDIT)
        click.echo(f"ok: {summary}; state and indexes match")


def _difference_lines(report: AuditReport) -> Iterator[str]:
    for table, count in report.counts.items():
        yield f"{table}: {count} row(s) differ from the replay"
    for d in report.differences:
        values = d.table == "state"
        key = repr(d.key) if values else _shown(d.key, False)
        yield (f"  {d.table} {key}: live {_shown(d.live, values)}, "
               f"replayed {_shown(d.replayed, values)}")
    listed = len(report.differences)
    if sum(report.counts.values()) > listed:
        yield f"  … (the first {listed} listed)"


def _shown(value: object, decode: bool) -> str:
    """A row key or value for people: a state value decoded, other bytes as hex."""
    if value is None:
        return "(absent)"
    if isinstance(value, tuple):
        return "(" + ", ".join(_shown(v, False) for v in value) + ")"
    if isinstance(value, bytes) and not decode:
        return value.hex()
    if isinstance(value, bytes):
        try:
            decoded = encoding.decode(value, max_size=len(value))
        except CivicError:
            decoded = None
        text = repr(decoded) if decoded is not None and not isinstance(decoded, bytes) else value.hex()
        return text if len(text) <= 120 else text[:117] + "..."
    return str(value)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _progress(label: str) -> Any:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeRemainingColumn(), transient=True, disable=not sys.stderr.isatty())


# -- export / import / backup / check ------------------------------------------------------------


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_state
def export_(state: State, file: str) -> None:
    """Write the chain (every block and the genesis document) to FILE, a new file; works
    beside a running node (one consistent head)."""
    from civicledger.node.archive import export_chain

    with clear_errors():
        target = Path(file)
        if target.exists():
            raise WorkspaceError(f"{target} exists already", code="exists_already")
        partial = target.with_name(target.name + ".partial")
        store = state.store(check=False)
        try:
            with open(partial, "wb") as out, _progress("exporting") as bar:
                task = bar.add_task("export", total=None)
                height = export_chain(store, out, lambda h, top: bar.update(task, completed=h, total=top))
                out.flush()
                os.fsync(out.fileno())
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            store.close()
        click.echo(f"exported {height + 1} blocks to {target}")


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_state
def import_(state: State, file: str) -> None:
    """Build a ledger in the (empty) data directory from an export FILE, replaying and
    checking every block; a file that does not check out leaves nothing behind."""
    from civicledger.node.archive import import_chain

    with clear_errors():
        ws = state.ws
        if ws.initialised():
            raise WorkspaceError(f"{ws.root} holds a ledger already; import into an empty "
                                 "data directory", code="already_initialised")
        with ws.lock(), open(file, "rb") as source, _progress("importing") as bar:
            task = bar.add_task("import", total=None)
            genesis, head = import_chain(source, ws.db, default_registry(),
                                         progress=lambda h, top: bar.update(task, completed=h, total=top))
        ws.genesis.write_bytes(genesis.to_json())
        click.echo(f"imported and verified {head.height + 1} blocks of chain '{genesis.chain_id}' "
                   f"into {ws.root}; head {head.hash.hex()}")


@cli.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@pass_state
def backup_(state: State, dest: str) -> None:
    """Copy the ledger to DEST, a new (or empty) data directory, as one consistent snapshot,
    whether or not a node runs on it (keys are not copied: back them up with keys export)."""
    from civicledger.node.archive import backup

    with clear_errors():
        ws, target = state.ws, Workspace(Path(dest))
        if not ws.initialised():
            raise WorkspaceError(f"no ledger in {ws.root}", code="not_initialised")
        if target.root.exists() and any(target.root.iterdir()):
            raise WorkspaceError(f"{target.root} is not empty", code="exists_already")
        target.root.mkdir(parents=True, exist_ok=True)
        with _progress("backing up") as bar:
            bar.add_task("backup", total=None)
            height = backup(ws.db, target.db)
        if ws.genesis.exists():
            target.genesis.write_bytes(ws.genesis.read_bytes())
        click.echo(f"backed up {height + 1} blocks to {target.root}")


@cli.command("check")
@pass_state
def check_(state: State) -> None:
    """Check the store's integrity (SQLite), its header chain and a sample of its indexes,
    without replaying (that is `civic verify`); exit code 6 on a fault."""
    from civicledger.node.archive import check_store

    with clear_errors():
        if not state.ws.initialised():
            raise WorkspaceError(f"no ledger in {state.ws.root}", code="not_initialised")
        with _progress("checking") as bar:
            task = bar.add_task("check", total=None)
            report = check_store(state.ws.db, progress=lambda h, top: bar.update(task, completed=h,
                                                                                 total=top))
        for problem in report.problems:
            click.echo(f"FAULT: {problem}", err=True)
        if not report.ok:
            sys.exit(EXIT_AUDIT)
        click.echo(f"ok: {report.height + 1} blocks: file integrity, header chain and index "
                   "sample check out")


@cli.command()
@click.option("--accounts", default=1000, show_default=True)
@click.option("--txs", "count", default=20000, show_default=True)
def bench(accounts: int, count: int) -> None:
    """Benchmark signed transfers on a scratch node (same as python -m bench.transfers)."""
    from civicledger.benchmark import run_transfers

    click.echo(run_transfers(accounts=accounts, count=count).line())


from civicledger.cli.cluster import cluster, peer  # noqa: E402 - they import this module's helpers

cli.add_command(cluster)
cli.add_command(peer)


def main() -> None:
    cli(prog_name="civic")
