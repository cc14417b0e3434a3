"""The incentive registry's stored records and argument types (what it shares with the
services it pays is in ``contracts/shared.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from civicledger.contracts.storage import Record
from civicledger.core.schema import MAX_AMOUNT, Int, Optional

Units = Annotated[int, Int(0, MAX_AMOUNT)]
"""An amount in minor units that may be zero (a service without rewards or fees)."""
OptionalCap = Annotated[int | None, Optional(Int(1, MAX_AMOUNT))]
"""Most reward units one provider may earn per (UTC) day; None for no cap."""


@dataclass(frozen=True, slots=True)
class Service(Record):
    """A registered service and its economics; its id is the key it is stored under."""

    kind: str
    """The contract that runs it (``airquality``, ``hazards``, ``parking``); only that
    contract may pay its rewards and take its fees."""
    operator: str
    """The organisation whose ``operator`` role holders change it and fund its budget."""
    currency: str
    title: str
    reward: int
    """Units per rewarded contribution (see the kind's ``terms``)."""
    fee: int
    """Units a consumer pays per unit of consumption (see the kind's ``terms``)."""
    daily_cap: int | None
    """Most reward units one provider may earn per UTC day; None for no cap."""
    needs_verification: bool
    platform_bps: int
    """Share of every fee paid to the city treasury, in basis points (set by governance)."""
    status: str

    def describe(self, service: str) -> dict[str, Any]:
        return {
            "service": service, "kind": self.kind, "operator": self.operator,
            "currency": self.currency, "title": self.title, "reward": self.reward,
            "fee": self.fee, "daily_cap": self.daily_cap,
            "needs_verification": self.needs_verification, "platform_bps": self.platform_bps,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Flows(Record):
    """A service's money, in its currency's minor units. ``budget + held`` is exactly what the
    registry's account holds for this service."""

    funded: int = 0
    """Put into the budget by the operator, ever."""
    withdrawn: int = 0
    """Taken back out of the budget by the operator, ever."""
    budget: int = 0
    """Left to pay rewards with."""
    rewards_paid: int = 0
    fees_collected: int = 0
    """Consumers' payments that became fees (escrows count once settled)."""
    platform_paid: int = 0
    """Fee shares paid to the treasury."""
    provider_paid: int = 0
    """Fee income paid to providers (settled escrows, claimed dataset shares)."""
    fees_to_budget: int = 0
    """Fee income that refilled the budget."""
    held: int = 0
    """Escrows and provider fee shares not yet paid out."""
    refunded: int = 0

    def describe(self) -> dict[str, int]:
        return {
            "funded": self.funded, "withdrawn": self.withdrawn, "budget": self.budget,
            "rewards_paid": self.rewards_paid, "fees_collected": self.fees_collected,
            "platform_paid": self.platform_paid, "provider_paid": self.provider_paid,
            "fees_to_budget": self.fees_to_budget, "held": self.held, "refunded": self.refunded,
        }


@dataclass(frozen=True, slots=True)
class Line(Record):
    """One account's statement line for one service."""

    earned: int = 0
    """Rewards and fee income received."""
    spent: int = 0
    """Fees and escrows paid, less refunds."""
