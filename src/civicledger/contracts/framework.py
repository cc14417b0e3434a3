"""The contract framework: how a city service is declared, called and run.

A contract is a class with a ``name``, a ``version``, its state containers
(``contracts.storage``), its events, and its handlers:

    class Token(Contract):
        name = "token"
        balances = Map("balance")
        Transferred = EventSpec("Transferred", ("currency", "sender", "recipient", "amount"),
                                topics=("sender", "recipient"))

        @method(roles=("issuer",))
        def mint(self, currency: Symbol, to: Address, amount: Amount) -> None: ...

        @query
        def balance(self, currency: Symbol, account: Address) -> int: ...

Argument types come from the ``Annotated`` hints (``core.schema``) and are
checked before a handler runs. Handlers are pure: they see only ``self.ctx``,
a ``Context`` with the block environment, the verified signers, their own
state namespace, events and calls to other contracts. A rejection anywhere in
a transaction — including inside a call to another contract — discards every
write the transaction made.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from civicledger.core import encoding
from civicledger.core.address import derived_address
from civicledger.core.block import OK, BlockEnv, Event, Receipt
from civicledger.core.errors import (
    EncodingError,
    NodeFault,
    Rejection,
    Unauthorized,
    UnknownCall,
)
from civicledger.core.schema import Spec
from civicledger.core.state import Overlay

MAX_CALL_DEPTH = 8
MAX_EVENTS = 256


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    spec: Spec
    required: bool
    default: Any = None


@dataclass(frozen=True, slots=True)
class Handler:
    """A declared method or query with its argument schema."""

    name: str
    function: Callable[..., Any]
    params: tuple[Param, ...]
    readonly: bool
    roles: tuple[str, ...] = ()
    doc: str = ""
    names: frozenset[str] = field(init=False, repr=False, compare=False)
    """The parameters' names (derived)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(p.name for p in self.params))

    def check_args(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Validate arguments against the schema; raises UnknownCall(invalid_argument)."""
        if not isinstance(args, Mapping):
            raise UnknownCall("arguments must be a map", code="invalid_argument")
        if not self.names.issuperset(args):
            unknown = [key for key in args if key not in self.names]
            raise UnknownCall(
                f"{self.name} takes no argument '{unknown[0]}'", code="invalid_argument"
            )
        checked = {}
        for param in self.params:
            if param.name in args:
                checked[param.name] = param.spec.check(args[param.name], param.name)
            elif param.required:
                raise UnknownCall(f"{self.name} needs '{param.name}'", code="invalid_argument")
            else:
                checked[param.name] = param.default
        return checked


def _handler(function: Callable[..., Any], readonly: bool, roles: tuple[str, ...]) -> Handler:
    hints = typing.get_type_hints(function, include_extras=True)
    params = []
    for name, parameter in list(inspect.signature(function).parameters.items())[1:]:
        hint = hints.get(name)
        specs = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Spec)]
        if len(specs) != 1:
            raise TypeError(f"{function.__qualname__}: '{name}' needs an Annotated schema type")
        required = parameter.default is inspect.Parameter.empty
        params.append(Param(name, specs[0], required, None if required else parameter.default))
    doc = inspect.getdoc(function) or ""
    return Handler(function.__name__, function, tuple(params), readonly, roles, doc)


def method(function: Callable[..., Any] | None = None, *, roles: Iterable[str] = ()) -> Any:
    """Declare a transaction method. ``roles``: the signer must hold one of them (any org)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__civic_handler__ = ("method", tuple(roles))  # type: ignore[attr-defined]
        return fn

    return wrap(function) if function is not None else wrap


def query(function: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a read-only query."""
    function.__civic_handler__ = ("query", ())  # type: ignore[attr-defined]
    return function


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event's shape, declared on the contract; ``topics`` name the indexed fields."""

    name: str
    fields: tuple[str, ...]
    topics: tuple[str, ...] = ()


class Contract:
    """Base of every contract. One instance serves one call and holds its Context."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    methods: ClassVar[dict[str, Handler]]
    queries: ClassVar[dict[str, Handler]]
    events: ClassVar[dict[str, EventSpec]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.methods, cls.queries, cls.events = {}, {}, {}
        for attribute, value in vars(cls).items():
            kind = getattr(value, "__civic_handler__", None)
            if kind is not None:
                handler = _handler(value, kind[0] == "query", kind[1])
                (cls.queries if handler.readonly else cls.methods)[attribute] = handler
            elif isinstance(value, EventSpec):
                cls.events[value.name] = value

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def account(self) -> bytes:
        """This contract's own account (it holds escrowed or budgeted funds)."""
        return contract_account(self.name)

    def emit(self, spec: EventSpec, **data: Any) -> None:
        if set(data) != set(spec.fields):
            raise TypeError(f"event {spec.name} has fields {spec.fields}, got {sorted(data)}")
        topics = tuple(data[name] for name in spec.topics if data[name] is not None)
        self.ctx.emit(Event(self.name, spec.name, data, topics))

    def genesis(self, config: Mapping[str, Any]) -> None:
        """Write this contract's initial state from its part of the genesis document."""
        if config:
            raise UnknownCall(f"contract {self.name} takes no genesis configuration")


def _check_result(result: Any, contract: str, name: str) -> None:
    """A result crosses into receipts and other contracts, so it must encode; else it is a bug."""
    if result is None:
        return
    try:
        encoding.encode(result)
    except EncodingError:
        raise TypeError(f"{contract}.{name} returned a value that cannot be encoded") from None


def contract_account(name: str) -> bytes:
    return derived_address("contract", name)


@dataclass(slots=True)
class TxScope:
    """What is shared by every frame of one transaction."""

    env: BlockEnv
    tx_id: bytes
    origin: bytes
    """Address of the transaction's signer."""
    signers: frozenset[bytes]
    """Addresses of the signer and every co-signer, all verified."""
    events: list[Event] = field(default_factory=list)
    max_events: int = MAX_EVENTS


class Context:
    """The narrow world a handler sees."""

    __slots__ = ("registry", "state", "scope", "contract", "sender", "depth", "readonly")

    def __init__(
        self,
        registry: Registry,
        state: Overlay,
        scope: TxScope,
        *,
        contract: str | None = None,
        sender: bytes,
        depth: int = 0,
        readonly: bool = False,
    ) -> None:
        self.registry = registry
        self.state = state
        self.scope = scope
        self.contract = contract
        """The contract whose code runs in this frame; None for the transaction itself."""
        self.sender = sender
        """Who acts: the signer for a call made by the transaction, the calling contract's
        account for a call made by a contract."""
        self.depth = depth
        self.readonly = readonly

    @property
    def caller(self) -> str | None:
        """The contract that called this frame's contract; None if the transaction did."""
        return self.registry.contract_of_account(self.sender)

    @property
    def env(self) -> BlockEnv:
        return self.scope.env

    @property
    def origin(self) -> bytes:
        return self.scope.origin

    @property
    def signers(self) -> frozenset[bytes]:
        return self.scope.signers

    @property
    def tx_id(self) -> bytes:
        return self.scope.tx_id

    def writable_state(self) -> Overlay:
        if self.readonly:
            raise Unauthorized("a query cannot change state", code="read_only")
        return self.state

    def require_signed_by(self, account: bytes, role: str) -> None:
        """Refuse unless ``account`` signed this transaction (``role`` names it in the message)."""
        if account not in self.scope.signers:
            raise Unauthorized(f"the {role} must sign this transaction", code="missing_signature")

    def emit(self, event: Event) -> None:
        if self.readonly:
            raise Unauthorized("a query cannot emit events", code="read_only")
        if len(self.scope.events) >= self.scope.max_events:
            raise Rejection(
                f"a transaction emits at most {self.scope.max_events} events", code="too_many_events"
            )
        self.scope.events.append(event)

    def call(self, contract: str, method_name: str, /, **args: Any) -> Any:
        """Call another contract's method as this contract; its writes roll back if it fails."""
        return self.registry.invoke(self, contract, method_name, args, readonly=False)

    def query(self, contract: str, query_name: str, /, **args: Any) -> Any:
        return self.registry.invoke(self, contract, query_name, args, readonly=True)

    def has_role(self, account: bytes, role: str, org: str | None = None) -> bool:
        """Whether ``account`` holds ``role`` (in ``org``, or in any organisation)."""
        return bool(self.query("governance", "has_role", account=account, role=role, org=org))


class Registry:
    """The contracts a chain runs, by name, and the one way to invoke them."""

    def __init__(self, contracts: Iterable[type[Contract]]) -> None:
        self.contracts: dict[str, type[Contract]] = {}
        self._accounts: dict[bytes, str] = {}
        for contract in contracts:
            if contract.name in self.contracts:
                raise ValueError(f"contract '{contract.name}' is registered twice")
            self.contracts[contract.name] = contract
            self._accounts[contract_account(contract.name)] = contract.name

    def contract_of_account(self, account: bytes) -> str | None:
        return self._accounts.get(account)

    def handler(self, contract: str, name: str, *, readonly: bool) -> tuple[type[Contract], Handler]:
        cls = self.contracts.get(contract)
        if cls is None:
            raise UnknownCall(f"no contract named '{contract}'", code="unknown_contract")
        handler = (cls.queries if readonly else cls.methods).get(name)
        if handler is None:
            kind = "query" if readonly else "method"
            raise UnknownCall(f"contract '{contract}' has no {kind} '{name}'", code="unknown_method")
        return cls, handler

    def check_call(self, contract: str, method_name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """The stateless check of a call: contract, method and arguments exist and fit.

        Returns the checked arguments (defaults filled in); ``apply`` accepts them back as
        ``checked`` so that a call admitted by this registry is not checked twice.
        """
        return self.handler(contract, method_name, readonly=False)[1].check_args(args)

    def invoke(
        self, ctx: Context, contract: str, name: str, args: Mapping[str, Any], *, readonly: bool,
        checked: Mapping[str, Any] | None = None,
    ) -> Any:
        """Run ``contract.name(**args)`` from the frame ``ctx``.

        ``checked``: what ``check_call`` of this registry returned for these args, if known.
        """
        if not readonly and ctx.readonly:
            raise Unauthorized("a query cannot call a method", code="read_only")
        if ctx.depth >= MAX_CALL_DEPTH:
            raise Rejection(f"calls nest at most {MAX_CALL_DEPTH} deep", code="call_depth")
        cls, handler = self.handler(contract, name, readonly=readonly)
        if checked is None:
            checked = handler.check_args(args)
        sender = ctx.sender if ctx.contract is None else contract_account(ctx.contract)
        state = ctx.state if readonly else ctx.state.child()
        frame = Context(
            self, state, ctx.scope, contract=contract, sender=sender, depth=ctx.depth + 1,
            readonly=readonly or ctx.readonly,
        )
        if handler.roles and not any(frame.has_role(sender, role) for role in handler.roles):
            raise Unauthorized(
                f"{contract}.{name} needs the role {' or '.join(handler.roles)}",
                code="missing_role",
            )
        events = len(ctx.scope.events)
        try:
            result = handler.function(cls(frame), **checked)
            _check_result(result, contract, name)
        except BaseException:
            del ctx.scope.events[events:]  # a failed call's events go with its writes
            raise
        if not readonly:
            state.merge_into_parent()
        return result

    def apply(self, state: Overlay, env: BlockEnv, tx_id: bytes, signers: tuple[bytes, ...],
              contract: str, method_name: str, args: Mapping[str, Any], *,
              checked: Mapping[str, Any] | None = None) -> Receipt:
        """Run one transaction's call on ``state``; a rejection leaves ``state`` untouched.

        ``signers`` are verified addresses, the transaction's signer first. ``checked``: the
        arguments as ``check_call`` of this registry returned them at admission, if it did.
        """
        scope = TxScope(env, tx_id, signers[0], frozenset(signers))
        top = Context(self, state, scope, sender=signers[0])
        try:
            result = self.invoke(top, contract, method_name, args, readonly=False, checked=checked)
        except NodeFault:
            raise
        except (MemoryError, RecursionError) as fault:
            # How much memory or stack a host has is not part of the protocol: another peer
            # could run the same call, so this is the node's fault, never a receipt.
            raise NodeFault(f"{type(fault).__name__} in {contract}.{method_name} on this host",
                            code="host_fault") from fault
        except Rejection as rejection:
            return Receipt(tx_id, rejection.code, rejection.message)
        except Exception as bug:  # noqa: BLE001 - a contract bug is deterministic: record it
            return Receipt(tx_id, "contract_error", f"{type(bug).__name__} in {contract}.{method_name}")
        return Receipt(tx_id, OK, "", tuple(scope.events), result)

    def read(self, state: Overlay, env: BlockEnv, contract: str, query_name: str,
             args: Mapping[str, Any]) -> Any:
        """Answer a query against ``state``; raises the query's rejection."""
        scope = TxScope(env, b"", bytes(20), frozenset())
        top = Context(self, state, scope, sender=bytes(20), readonly=True)
        return self.invoke(top, contract, query_name, args, readonly=True)

    def genesis(self, state: Overlay, env: BlockEnv, config: Mapping[str, Any]) -> None:
        """Let every contract write its initial state, in registration order."""
        unknown = sorted(set(config) - set(self.contracts))
        if unknown:
            raise UnknownCall(f"genesis names unknown contract(s): {', '.join(unknown)}")
        scope = TxScope(env, b"genesis", bytes(20), frozenset(), max_events=2**62)
        for name, cls in self.contracts.items():
            frame = Context(self, state, scope, contract=name, sender=bytes(20), depth=1)
            cls(frame).genesis(config.get(name, {}))
