"""Incentives: the registry of city services and their economics, settled in one token.

An operator organisation registers a service (``register_service``) with its
currency, its provider reward, its consumer fee, a per-provider daily cap and
whether contributions need a verifier. The service's kind names the contract
that runs it (``airquality``, ``hazards``, ``parking``); that contract declares
in its ``terms`` query what reward and fee mean for it.

All money of all services sits in this contract's account, accounted per
service (``Flows``): the ``budget`` the operator funded and rewards are paid
from, and what is ``held`` (escrows, provider fee shares not yet claimed). So
for each currency the registry's token balance is the sum of the budgets and
holdings of the services in that currency — the conservation property test
checks it. Services settle in never-expiring currencies only, so a recorded
budget never silently expires.

Who may do what:

* the service's ``operator`` role holders (in its operator organisation)
  change its parameters, pause it, fund and withdraw its budget;
* the platform share of its fees (to the city treasury) and the treasury
  account itself are shared policy, changed only by a governance proposal
  (``set_platform_share``, ``set_treasury``); a new service starts at the
  city default (genesis ``platform_bps``). The treasury defaults to the
  governance contract's account, which only a passed proposal can spend;
* only the service's own contract calls the money helpers (``reward``,
  ``collect_fee``, ``hold``, ``settle``, ``pay_out``, ``refund``).

Rewards stop clearly when the budget is spent: ``reward`` refuses with
``budget_exhausted`` (so the contribution that would earn it is refused too)
until the operator funds the budget again. A provider's rewards in one UTC day
stop at the daily cap: beyond it a contribution earns what is left of the cap,
possibly nothing, and says so in its event.

Everyone can read each service's flows, its top providers (by income from it),
and any account's statement: earned and spent per service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from civicledger.contracts.framework import Contract, EventSpec, contract_account, method, query
from civicledger.contracts.incentives.records import Flows, Line, OptionalCap, Service, Units
from civicledger.contracts.shared import BPS, DAY_MS, Bps, PageSize, ServiceStatus, Verification
from civicledger.contracts.storage import Map, Value
from civicledger.core import address as addresses
from civicledger.core.errors import Conflict, LimitExceeded, NotFound, Unauthorized, UnknownCall
from civicledger.core.schema import (
    MAX_AMOUNT,
    Address,
    Amount,
    Bool,
    Count,
    Int,
    Label,
    Name,
    Optional,
    Symbol,
    Text,
)

OPERATOR_ROLE = "operator"
DEFAULT_PLATFORM_BPS = 500
GENESIS_KEYS = ("platform_bps", "treasury")
OptionalName = Annotated[str | None, Optional(Text(64, r"[a-z][a-z0-9_.-]{0,63}", low=1))]
DayNumber = Annotated[int, Int(0, 2**31 - 1)]
"""A UTC day: block time in ms // 86,400,000."""


class Incentives(Contract):
    name = "incentives"

    services = Map("service", Service)     # service id -> Service
    flows = Map("flows", Flows)            # service id -> Flows
    lines = Map("line", Line)              # (account, service id) -> Line
    ranks = Map("rank")                    # (service id, MAX_AMOUNT - earned, account) -> earned
    today = Map("today")                   # (service id, provider) -> [day, reward units that day]
    day_start = Map("day_start", Flows)    # (service id, UTC day) -> Flows before that day's first change
    treasury_account = Value("treasury")   # the treasury's address; None: governance's account
    platform_default = Value("platform_bps", DEFAULT_PLATFORM_BPS)

    ServiceRegistered = EventSpec(
        "ServiceRegistered", ("service", "kind", "operator", "currency", "platform_bps")
    )
    ParamsChanged = EventSpec(
        "ParamsChanged", ("service", "reward", "fee", "daily_cap", "needs_verification")
    )
    StatusChanged = EventSpec("StatusChanged", ("service", "status"))
    PlatformShareSet = EventSpec("PlatformShareSet", ("service", "platform_bps"))
    TreasurySet = EventSpec("TreasurySet", ("account",), topics=("account",))
    Funded = EventSpec("Funded", ("service", "account", "amount", "budget"), topics=("account",))
    Withdrawn = EventSpec("Withdrawn", ("service", "account", "amount", "budget"),
                          topics=("account",))
    Rewarded = EventSpec("Rewarded", ("service", "provider", "requested", "amount", "budget"),
                         topics=("provider",))
    FeeCollected = EventSpec(
        "FeeCollected", ("service", "payer", "amount", "platform", "to_budget", "held"),
        topics=("payer",),
    )
    Held = EventSpec("Held", ("service", "payer", "amount"), topics=("payer",))
    Settled = EventSpec("Settled", ("service", "payee", "amount", "platform"), topics=("payee",))
    PaidOut = EventSpec("PaidOut", ("service", "payee", "amount"), topics=("payee",))
    Refunded = EventSpec("Refunded", ("service", "payee", "amount"), topics=("payee",))

    # -- genesis -----------------------------------------------------------------

    def genesis(self, config: Mapping[str, Any]) -> None:
        """``{"platform_bps": 0…10000, "treasury": "civ1…"}``, both optional."""
        unknown = sorted(set(config) - set(GENESIS_KEYS))
        if unknown:
            raise UnknownCall(f"genesis incentives.{unknown[0]}: unknown key; expected "
                              f"{', '.join(GENESIS_KEYS)}", code="invalid_genesis")
        if "platform_bps" in config:
            self.platform_default = Bps.__metadata__[0].check(config["platform_bps"],
                                                              "platform_bps")
        if "treasury" in config:
            self.treasury_account = addresses.from_text(config["treasury"])

    # -- operator methods --------------------------------------------------------

    @method
    def register_service(
        self,
        service: Name,
        kind: Name,
        operator: Name,
        currency: Symbol,
        title: Label,
        reward: Units = 0,
        fee: Units = 0,
        daily_cap: OptionalCap = None,
        needs_verification: Annotated[bool, Bool()] = False,
    ) -> None:
        """Register a service run by the contract ``kind`` (by an operator of ``operator``).

        Its platform share starts at the city default; its budget starts empty (``fund``)."""
        self._require_operator(operator)
        if service in self.services:
            raise Conflict(f"service '{service}' exists already", code="service_exists")
        self._check_terms(kind, reward, fee, needs_verification)
        policy = self.ctx.query("token", "currency", symbol=currency)
        if policy["validity_ms"] is not None:
            raise Conflict(f"{currency} expires; a service budget needs a currency that does not",
                           code="expiring_currency")
        bps = self.platform_default
        self.services[service] = Service(kind, operator, currency, title, reward, fee, daily_cap,
                                         needs_verification, bps, ServiceStatus.ACTIVE)
        self._set_flows(service, Flows())
        self.emit(self.ServiceRegistered, service=service, kind=kind, operator=operator,
                  currency=currency, platform_bps=bps)

    @method
    def set_params(
        self,
        service: Name,
        reward: Units,
        fee: Units,
        daily_cap: OptionalCap = None,
        needs_verification: Annotated[bool, Bool()] = False,
    ) -> None:
        """Change a service's reward, fee, daily cap and verification (by its operator).

        Applies from the next contribution or purchase; nothing paid is recalculated."""
        record = self._service(service)
        self._require_operator(record.operator)
        self._check_terms(record.kind, reward, fee, needs_verification)
        self.services[service] = record.replace(reward=reward, fee=fee, daily_cap=daily_cap,
                                                needs_verification=needs_verification)
        self.emit(self.ParamsChanged, service=service, reward=reward, fee=fee,
                  daily_cap=daily_cap, needs_verification=needs_verification)

    @method
    def set_active(self, service: Name, active: Annotated[bool, Bool()]) -> None:
        """Pause or resume a service (by its operator). A paused service pays no rewards and
        takes no fees or escrows; open escrows still settle and refund."""
        record = self._service(service)
        self._require_operator(record.operator)
        status = ServiceStatus.ACTIVE if active else ServiceStatus.PAUSED
        if record.status == status:
            raise Conflict(f"service '{service}' is {status} already", code="no_change")
        self.services[service] = record.replace(status=status)
        self.emit(self.StatusChanged, service=service, status=status)

    @method
    def fund(self, service: Name, amount: Amount) -> int:
        """Move ``amount`` from the signer into the service's budget (by its operator);
        returns the budget."""
        record = self._service(service)
        self._require_operator(record.operator)
        self.ctx.call("token", "pay", currency=record.currency, amount=amount)
        flows = self.flows[service]
        flows = flows.replace(funded=flows.funded + amount, budget=flows.budget + amount)
        self._set_flows(service, flows)
        self.emit(self.Funded, service=service, account=self.ctx.sender, amount=amount,
                  budget=flows.budget)
        return flows.budget

    @method
    def withdraw(self, service: Name, amount: Amount) -> int:
        """Take ``amount`` of unspent budget back to the signer (by its operator);
        returns the budget left."""
        record = self._service(service)
        self._require_operator(record.operator)
        flows = self.flows[service]
        if flows.budget < amount:
            raise LimitExceeded(f"service '{service}' has {flows.budget} {record.currency} of "
                                f"budget, not {amount}", code="budget_exhausted")
        flows = flows.replace(withdrawn=flows.withdrawn + amount, budget=flows.budget - amount)
        self._set_flows(service, flows)
        self._send(record.currency, self.ctx.sender, amount, f"{service}: budget withdrawn")
        self.emit(self.Withdrawn, service=service, account=self.ctx.sender, amount=amount,
                  budget=flows.budget)
        return flows.budget

    # -- governance methods ------------------------------------------------------

    @method
    def set_platform_share(self, service: Name, platform_bps: Bps) -> None:
        """Set the share of a service's fees paid to the treasury (by proposal only)."""
        self._require_governance()
        record = self._service(service)
        self.services[service] = record.replace(platform_bps=platform_bps)
        self.emit(self.PlatformShareSet, service=service, platform_bps=platform_bps)

    @method
    def set_default_platform_share(self, platform_bps: Bps) -> None:
        """Set the platform share new services start with (by proposal only)."""
        self._require_governance()
        self.platform_default = platform_bps
        self.emit(self.PlatformShareSet, service=None, platform_bps=platform_bps)

    @method
    def set_treasury(self, account: Address) -> None:
        """Name the account platform shares are paid to (by proposal only)."""
        self._require_governance()
        self.treasury_account = account
        self.emit(self.TreasurySet, account=account)

    # -- money helpers, for the service's own contract ---------------------------

    @method
    def reward(self, service: Name, provider: Address, amount: Units) -> int:
        """Pay a provider ``amount`` from the budget, within the daily cap (by the service's
        contract); returns what was paid. Refused with ``budget_exhausted`` when the budget
        cannot pay it."""
        record = self._for_caller(service, active=True)
        day = self.ctx.env.time_ms // DAY_MS
        seen_day, used = self.today.get((service, provider), (day, 0))
        used = used if seen_day == day else 0
        paid = amount if record.daily_cap is None else max(0, min(amount, record.daily_cap - used))
        flows = self.flows[service]
        if paid:
            if flows.budget < paid:
                raise LimitExceeded(
                    f"service '{service}' has spent its budget ({flows.budget} {record.currency} "
                    f"left, the reward is {paid}); rewards resume when its operator funds it",
                    code="budget_exhausted",
                )
            flows = flows.replace(budget=flows.budget - paid, rewards_paid=flows.rewards_paid + paid)
            self._set_flows(service, flows)
            self.today[service, provider] = [day, used + paid]
            self._send(record.currency, provider, paid, f"{service}: reward")
            self._earned(service, provider, paid)
        self.emit(self.Rewarded, service=service, provider=provider, requested=amount, amount=paid,
                  budget=flows.budget)
        return paid

    @method
    def collect_fee(self, service: Name, amount: Amount, shares: Count = 0) -> int:
        """Take a fee of ``amount`` from the transaction's signer (by the service's contract).

        The platform share goes to the treasury. With ``shares`` = 0 the rest refills the
        budget; otherwise the rest is held for providers in ``shares`` equal parts (what does
        not divide evenly refills the budget). Returns the units per share."""
        record = self._for_caller(service, active=True)
        payer = self.ctx.origin
        self.ctx.call("token", "pay", currency=record.currency, amount=amount)
        platform = self._platform(record, amount)
        net = amount - platform
        per_share = net // shares if shares else 0
        held = per_share * shares
        flows = self.flows[service]
        self._set_flows(service, flows.replace(
            fees_collected=flows.fees_collected + amount, budget=flows.budget + net - held,
            fees_to_budget=flows.fees_to_budget + net - held, held=flows.held + held,
            platform_paid=flows.platform_paid + platform,
        ))
        self._spent(service, payer, amount)
        self.emit(self.FeeCollected, service=service, payer=payer, amount=amount,
                  platform=platform, to_budget=net - held, held=held)
        return per_share

    @method
    def hold(self, service: Name, amount: Amount) -> None:
        """Hold ``amount`` of the transaction's signer in escrow (by the service's contract)."""
        record = self._for_caller(service, active=True)
        payer = self.ctx.origin
        self.ctx.call("token", "pay", currency=record.currency, amount=amount)
        flows = self.flows[service]
        self._set_flows(service, flows.replace(held=flows.held + amount))
        self._spent(service, payer, amount)
        self.emit(self.Held, service=service, payer=payer, amount=amount)

    @method
    def settle(self, service: Name, payee: Address, amount: Amount) -> int:
        """Pay ``amount`` of escrow to a provider as a fee, less the platform share
        (by the service's contract); returns what the provider received."""
        record = self._for_caller(service, active=False)
        flows = self._release(service, record, amount)
        platform = self._platform(record, amount)
        net = amount - platform
        self._set_flows(service, flows.replace(
            fees_collected=flows.fees_collected + amount, platform_paid=flows.platform_paid + platform,
            provider_paid=flows.provider_paid + net,
        ))
        if net:
            self._send(record.currency, payee, net, f"{service}: fee")
            self._earned(service, payee, net)
        self.emit(self.Settled, service=service, payee=payee, amount=net, platform=platform)
        return net

    @method
    def pay_out(self, service: Name, payee: Address, amount: Amount) -> None:
        """Pay a provider ``amount`` of its held fee share (by the service's contract)."""
        record = self._for_caller(service, active=False)
        flows = self._release(service, record, amount)
        self._set_flows(service, flows.replace(provider_paid=flows.provider_paid + amount))
        self._send(record.currency, payee, amount, f"{service}: fee share")
        self._earned(service, payee, amount)
        self.emit(self.PaidOut, service=service, payee=payee, amount=amount)

    @method
    def refund(self, service: Name, payee: Address, amount: Amount) -> None:
        """Return ``amount`` of escrow to the consumer who paid it (by the service's contract)."""
        record = self._for_caller(service, active=False)
        flows = self._release(service, record, amount)
        self._set_flows(service, flows.replace(refunded=flows.refunded + amount))
        self._send(record.currency, payee, amount, f"{service}: refund")
        self._spent(service, payee, -amount)
        self.emit(self.Refunded, service=service, payee=payee, amount=amount)

    # -- queries -----------------------------------------------------------------

    @query
    def service(self, service: Name) -> dict[str, Any]:
        """A service's parameters and flows."""
        record = self._service(service)
        return {**record.describe(service), "flows": self.flows[service].describe()}

    @query
    def services_list(self, after: OptionalName = None, limit: PageSize = 50) -> list[dict[str, Any]]:
        """Services by id, ``limit`` at a time, starting after the id ``after``."""
        page = self.services.scan(after=None if after is None else (after,), limit=limit)
        return [{**record.describe(name), "flows": self.flows[name].describe()}
                for (name,), record in page]

    @query
    def service_flows(self, service: Name) -> dict[str, int]:
        """Rewards paid, fees collected, platform share, budget left and held units."""
        self._service(service)
        return self.flows[service].describe()

    @query
    def flows_by_day(self, service: Name, from_day: DayNumber = 0,
                     limit: PageSize = 50) -> list[dict[str, Any]]:
        """For each UTC day with activity from ``from_day`` on, oldest first: the service's
        flows (running totals) as they stood before that day's first change. The flows at the
        end of a day are the next entry's, or the current flows after the last entry."""
        self._service(service)
        after = (from_day - 1,) if from_day else None
        return [{"day": key[1], **flows.describe()}
                for key, flows in self.day_start.scan(service, after=after, limit=limit)]

    @query
    def top_providers(self, service: Name, limit: PageSize = 10) -> list[dict[str, Any]]:
        """The providers who earned most from the service (rewards and fee income), best first."""
        self._service(service)
        return [{"account": key[2], "earned": earned}
                for key, earned in self.ranks.scan(service, limit=limit)]

    @query
    def statement(self, account: Address) -> dict[str, Any]:
        """What ``account`` earned and spent in each service (up to 100 services, by id), and
        the totals per currency."""
        lines: list[dict[str, Any]] = []
        totals: dict[str, dict[str, int]] = {}
        for (_, name), line in self.lines.scan(account, limit=100):
            record = self.services[name]
            lines.append({"service": name, "kind": record.kind, "currency": record.currency,
                          "earned": line.earned, "spent": line.spent})
            total = totals.setdefault(record.currency, {"earned": 0, "spent": 0})
            total["earned"] += line.earned
            total["spent"] += line.spent
        return {"account": account, "services": lines, "totals": totals}

    @query
    def treasury(self) -> dict[str, Any]:
        """The treasury account and the platform share new services start with."""
        return {"account": self._treasury(), "default_platform_bps": self.platform_default}

    # -- helpers -----------------------------------------------------------------

    def _set_flows(self, service: str, flows: Flows) -> None:
        """Record a service's flows; the first change of a UTC day also keeps the flows as
        they stood before it, so the flows at the end of any day can be told (see
        ``flows_by_day``)."""
        day = self.ctx.env.time_ms // DAY_MS
        if (service, day) not in self.day_start:
            self.day_start[service, day] = self.flows.get(service, Flows())
        self.flows[service] = flows

    def _service(self, service: str) -> Service:
        return self.services.require(service, f"no service '{service}'", code="unknown_service")

    def _require_operator(self, org: str) -> None:
        if not self.ctx.has_role(self.ctx.sender, OPERATOR_ROLE, org):
            raise Unauthorized(f"only an {OPERATOR_ROLE} of '{org}' may do this",
                               code="not_operator")

    def _require_governance(self) -> None:
        if self.ctx.sender != contract_account("governance"):
            raise Unauthorized("only a passed governance proposal may do this", code="needs_quorum")

    def _for_caller(self, service: str, *, active: bool) -> Service:
        record = self._service(service)
        if self.ctx.caller != record.kind:
            raise Unauthorized(f"only the {record.kind} contract moves the money of '{service}'",
                               code="not_service_contract")
        if active and record.status != ServiceStatus.ACTIVE:
            raise Conflict(f"service '{service}' is {record.status}", code="service_paused")
        return record

    def _check_terms(self, kind: str, reward: int, fee: int, needs_verification: bool) -> None:
        cls = self.ctx.registry.contracts.get(kind)
        if cls is None or "terms" not in cls.queries:
            raise NotFound(f"no service contract '{kind}'", code="unknown_kind")
        terms = self.ctx.query(kind, "terms")
        if terms["verification"] == Verification.REQUIRED and not needs_verification:
            raise Conflict(f"{kind} contributions are always verified", code="verification_required")
        if terms["verification"] == Verification.NONE and needs_verification:
            raise Conflict(f"{kind} has no contributions to verify", code="nothing_to_verify")
        for param, value in (("reward", reward), ("fee", fee)):
            if value and not terms[param]:
                raise Conflict(f"{kind} services have no {param}; leave it 0", code="unused_param")

    def _treasury(self) -> bytes:
        account = self.treasury_account
        return contract_account("governance") if account is None else account

    def _platform(self, record: Service, amount: int) -> int:
        """Send the platform share of a fee of ``amount`` to the treasury; returns it."""
        platform = amount * record.platform_bps // BPS
        if platform:
            self._send(record.currency, self._treasury(), platform, "platform share")
        return platform

    def _release(self, service: str, record: Service, amount: int) -> Flows:
        flows = self.flows[service]
        if flows.held < amount:  # a service contract's bug, never a user's doing
            raise LimitExceeded(f"service '{service}' holds {flows.held} {record.currency}, "
                                f"not {amount}", code="over_held")
        return flows.replace(held=flows.held - amount)

    def _send(self, currency: str, to: bytes, amount: int, memo: str) -> None:
        self.ctx.call("token", "transfer", currency=currency, to=to, amount=amount, memo=memo)

    def _earned(self, service: str, account: bytes, amount: int) -> None:
        line = self.lines.get((account, service), Line())
        if line.earned:
            del self.ranks[service, MAX_AMOUNT - line.earned, account]
        line = line.replace(earned=line.earned + amount)
        self.lines[account, service] = line
        self.ranks[service, MAX_AMOUNT - line.earned, account] = line.earned

    def _spent(self, service: str, account: bytes, amount: int) -> None:
        line = self.lines.get((account, service), Line())
        self.lines[account, service] = line.replace(spent=line.spent + amount)
