"""Read-only queries as of a time: what is spendable now, not at the last block.

Contracts learn the time only from their ``BlockEnv``. Execution and replay always pass the
block's own env, so consensus never sees a clock. A read-only query, though, answers a
person asking now: on a quiet chain the head may be minutes old, and a credit that expired
since would still show as spendable. So the query environment, not the contract, decides:
a query may be evaluated ``as_of`` a time at or after the head's block time (the gateway
passes the node's clock), on the head's state, and its answer states that time. Never
earlier than the head: the head's state already holds what happened until then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from civicledger.contracts.framework import Registry
from civicledger.core.block import BlockEnv
from civicledger.core.state import Overlay
from civicledger.node.store import Store


@dataclass(frozen=True, slots=True)
class AsOf:
    """A query's answer and the state and time it is for."""

    result: Any
    as_of_ms: int
    """The time the query was evaluated at: the asked time, or the head's if that is later."""
    height: int
    """The committed block whose state was read."""


def env_as_of(env: BlockEnv, as_of_ms: int | None) -> BlockEnv:
    """``env`` with its time moved to ``as_of_ms`` if that is later (for read-only queries)."""
    if as_of_ms is None or as_of_ms <= env.time_ms:
        return env
    return dataclasses.replace(env, time_ms=as_of_ms)


def query_as_of(store: Store, registry: Registry, contract: str, name: str,
                args: Mapping[str, Any], as_of_ms: int | None) -> AsOf:
    """Answer a read-only query on the latest committed state, as of ``as_of_ms`` (or the head's
    time, if later or if None)."""
    with store.reading():
        head = store.head()
        assert head is not None
        env = env_as_of(head.env, as_of_ms)
        result = registry.read(Overlay(store), env, contract, name, args)
    return AsOf(result, env.time_ms, head.height)
