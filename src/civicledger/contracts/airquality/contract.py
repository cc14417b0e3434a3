"""Air quality: providers submit readings, consumers buy datasets, all settled in the city token.

A service of kind ``airquality`` is registered in ``incentives``; its operator
registers providers (citizen sensors, devices: ``register_provider``). A
reading names a 500 m ``Cell``, its measurement time and at least one of PM10,
PM2.5 (µg/m³), O3, NO2, CO, SO2 (ppb), all integers. It is refused when:

* the signer is not a registered provider (``unregistered_provider``);
* a value lies outside its physical range (``out_of_range``), or none is given;
* it was measured in the future or more than a day ago;
* the provider already sent one for that cell in that hour (``duplicate_reading``).

A reading far from the readings of the surrounding cells in the same hour
(at least ``MIN_NEIGHBOURS`` of them: more than twice their mean plus a floor,
or under a third of it less the floor) is ``flagged``; with the service's
``needs_verification`` every reading starts ``pending``. A ``verifier`` of the
operator organisation reviews flagged and pending readings within two days of
their measurement. An ``accepted`` reading earns the service's reward
(refused with ``budget_exhausted`` when the budget cannot pay it).

Datasets are sold per 5 km ``Zone`` and UTC day, for days that are closed
(two days after they end, when no reading can join them any more). The price
is the service's fee per accepted reading; after the platform share, the rest
is divided equally among the readings, so each provider's share is exactly
proportional to its accepted readings. Providers ``claim`` their share per
zone and day, so a purchase costs the same however many providers it pays.
The chain records who licensed which data; the readings themselves are public
for audit.
"""

from __future__ import annotations

from typing import Annotated, Any

from civicledger.contracts.airquality.records import (
    MAX_AGE_MS,
    MIN_NEIGHBOURS,
    POLLUTANTS,
    Contribution,
    DatasetDays,
    Day,
    OptionalDay,
    OptionalZone,
    Purchase,
    Reading,
    ReadingId,
    ReadingStatus,
    Values,
    ZoneDay,
    hour_of,
    is_outlier,
)
from civicledger.contracts.cells import Cell, Zone, neighbours, zone_of
from civicledger.contracts.framework import Contract, EventSpec, method, query
from civicledger.contracts.shared import (
    DAY_MS,
    OPERATOR_ROLE,
    VERIFIER_ROLE,
    PageSize,
    Verification,
    load_service,
    require_role,
)
from civicledger.contracts.storage import Map, Value
from civicledger.core.errors import Conflict, LimitExceeded, NotFound, Rejection, Unauthorized
from civicledger.core.schema import MAX_AMOUNT, Address, Bool, Int, Name, Timestamp

PurchaseId = Annotated[int, Int(1, 2**63 - 1)]


class AirQuality(Contract):
    name = "airquality"

    providers = Map("provider")                 # (service, account) -> True
    readings = Map("reading", Reading)          # (service, reading id) -> Reading
    next_id = Value("next_id", 1)               # reading and purchase ids, shared
    seen = Map("seen")                          # (service, provider, cell, hour) -> reading id
    by_provider = Map("my_reading")             # (service, provider, reading id) -> True
    sums = Map("sum")                           # (service, hour, cell) -> [[count, sum]] per pollutant
    queue = Map("queue")                        # (service, reading id) -> True while under review
    zone_days = Map("zone_day", ZoneDay)        # (service, zone, day) -> ZoneDay
    by_zone = Map("zone_reading")         # (service, zone, day, reading id) -> provider
    contribs = Map("contrib", Contribution)     # (service, provider, zone, day) -> Contribution
    purchases = Map("purchase", Purchase)       # (service, purchase id) -> Purchase

    ProviderRegistered = EventSpec("ProviderRegistered", ("service", "provider"),
                                   topics=("provider",))
    ProviderRemoved = EventSpec("ProviderRemoved", ("service", "provider"), topics=("provider",))
    Submitted = EventSpec("Submitted", ("service", "reading", "provider", "cell", "hour", "status"),
                          topics=("provider",))
    Reviewed = EventSpec("Reviewed", ("service", "reading", "provider", "status", "reward"),
                         topics=("provider",))
    DatasetBought = EventSpec(
        "DatasetBought",
        ("service", "purchase", "buyer", "zone", "first_day", "days", "readings", "amount"),
        topics=("buyer",),
    )
    Claimed = EventSpec("Claimed", ("service", "provider", "zone", "day", "amount"),
                        topics=("provider",))

    # -- operator methods --------------------------------------------------------

    @method
    def register_provider(self, service: Name, provider: Address) -> None:
        """Register a sensor or device account as a provider (by the service's operator)."""
        record = load_service(self.ctx, service, self.name)
        require_role(self.ctx, OPERATOR_ROLE, record["operator"], "register providers")
        if (service, provider) in self.providers:
            raise Conflict("the account is a provider already", code="provider_exists")
        self.providers[service, provider] = True
        self.emit(self.ProviderRegistered, service=service, provider=provider)

    @method
    def remove_provider(self, service: Name, provider: Address) -> None:
        """Stop accepting a provider's readings (by the service's operator)."""
        record = load_service(self.ctx, service, self.name)
        require_role(self.ctx, OPERATOR_ROLE, record["operator"], "remove providers")
        if (service, provider) not in self.providers:
            raise NotFound("the account is not a provider", code="unregistered_provider")
        del self.providers[service, provider]
        self.emit(self.ProviderRemoved, service=service, provider=provider)

    # -- provider methods --------------------------------------------------------

    @method
    def submit(self, service: Name, cell: Cell, measured_ms: Timestamp, values: Values) -> dict[str, Any]:
        """Submit one reading (by a registered provider); returns its id, status and reward."""
        record = load_service(self.ctx, service, self.name, active=True)
        provider = self.ctx.sender
        if (service, provider) not in self.providers:
            raise Unauthorized(f"the signer is not a registered provider of '{service}'",
                               code="unregistered_provider")
        now = self.ctx.env.time_ms
        if measured_ms > now:
            raise Rejection("a reading cannot be measured after the block time",
                            code="future_reading")
        if now - measured_ms > MAX_AGE_MS:
            raise Rejection("a reading must be submitted within a day of its measurement",
                            code="stale_reading")
        measured = tuple(values[name] for name, _, _ in POLLUTANTS)
        if all(v is None for v in measured):
            raise Rejection("a reading needs at least one value", code="empty_reading")
        for (name, high, unit), value in zip(POLLUTANTS, measured, strict=True):
            if value is not None and value > high:
                raise Rejection(f"{name} {value} {unit} is outside the physical range 0–{high}",
                                code="out_of_range")
        hour = hour_of(measured_ms)
        if (service, provider, cell, hour) in self.seen:
            raise Conflict(f"the provider sent a reading for cell {cell} in this hour already",
                           code="duplicate_reading")
        reading_id = self._next_id()
        self.seen[service, provider, cell, hour] = reading_id
        self.by_provider[service, provider, reading_id] = True
        if self._outlier(service, hour, cell, measured):
            status = ReadingStatus.FLAGGED
        elif record["needs_verification"]:
            status = ReadingStatus.PENDING
        else:
            status = ReadingStatus.ACCEPTED
        reading = Reading(provider, cell, measured_ms, measured, status, 0)
        self.emit(self.Submitted, service=service, reading=reading_id, provider=provider,
                  cell=cell, hour=hour, status=status)
        if status == ReadingStatus.ACCEPTED:
            reading = self._accept(service, record, reading_id, reading)
        else:
            self.queue[service, reading_id] = True
        self.readings[service, reading_id] = reading
        return {"reading": reading_id, "status": status, "reward": reading.reward}

    @method
    def claim(self, service: Name, zone: Zone, day: Day) -> int:
        """Take the signer's share of dataset fees for its readings in ``zone`` on ``day``;
        returns the units received."""
        load_service(self.ctx, service, self.name)
        provider = self.ctx.sender
        contribution = self.contribs.require(
            (service, provider, zone, day),
            f"no accepted readings of the signer in zone {zone} on day {day}", code="no_contribution")
        owed = self._owed(service, zone, day, contribution)
        if owed == 0:
            raise Conflict("nothing to claim: no dataset with these readings was sold since the "
                           "last claim", code="nothing_to_claim")
        self.contribs[service, provider, zone, day] = contribution.replace(
            claimed=contribution.claimed + owed)
        self.ctx.call("incentives", "pay_out", service=service, payee=provider, amount=owed)
        self.emit(self.Claimed, service=service, provider=provider, zone=zone, day=day,
                  amount=owed)
        return owed

    # -- verifier methods --------------------------------------------------------

    @method
    def review(self, service: Name, reading: ReadingId, accept: Annotated[bool, Bool()]) -> str:
        """Accept or reject a flagged or pending reading (by a verifier of the operator
        organisation), within two days of its measurement; returns its new status."""
        record = load_service(self.ctx, service, self.name)
        require_role(self.ctx, VERIFIER_ROLE, record["operator"], "review readings")
        stored = self._reading(service, reading)
        if stored.status not in (ReadingStatus.PENDING, ReadingStatus.FLAGGED):
            raise Conflict(f"reading {reading} is {stored.status}, not awaiting review",
                           code="not_under_review")
        if self._closed(stored.measured_ms // DAY_MS):
            raise Conflict(f"reading {reading}'s day is closed; it can no longer be reviewed",
                           code="review_closed")
        del self.queue[service, reading]
        if accept:
            stored = self._accept(service, record, reading, stored.replace(
                status=ReadingStatus.ACCEPTED))
        else:
            stored = stored.replace(status=ReadingStatus.REJECTED)
        self.readings[service, reading] = stored
        self.emit(self.Reviewed, service=service, reading=reading, provider=stored.provider,
                  status=stored.status, reward=stored.reward)
        return stored.status

    # -- consumer methods --------------------------------------------------------

    @method
    def buy_dataset(self, service: Name, zone: Zone, first_day: Day, days: DatasetDays = 1) -> dict[str, Any]:
        """Buy the accepted readings of ``zone`` over ``days`` closed days from ``first_day``:
        pays the service fee per reading; returns the purchase id, readings and amount."""
        record = load_service(self.ctx, service, self.name, active=True)
        last = first_day + days - 1
        if not self._closed(last):
            raise Conflict(f"day {last} is not closed yet; datasets cover days that ended two "
                           "days ago", code="day_not_closed")
        counts = [(day, self.zone_days.get((service, zone, day))) for day in range(first_day, last + 1)]
        total = sum(zd.readings for _, zd in counts if zd is not None)
        if total == 0:
            raise NotFound(f"no accepted readings in zone {zone} on those days",
                           code="empty_dataset")
        amount = record["fee"] * total
        if amount > MAX_AMOUNT:
            raise LimitExceeded("the dataset costs more than any amount can be; buy fewer days",
                                code="too_large")
        per_reading = 0
        if amount:
            per_reading = self.ctx.call("incentives", "collect_fee", service=service,
                                        amount=amount, shares=total)
        for day, zd in counts:
            if zd is not None and zd.readings:
                self.zone_days[service, zone, day] = zd.replace(
                    per_reading=zd.per_reading + per_reading, sales=zd.sales + 1)
        purchase_id = self._next_id()
        buyer = self.ctx.sender
        self.purchases[service, purchase_id] = Purchase(buyer, zone, first_day, days, total, amount,
                                                        self.ctx.env.time_ms)
        self.emit(self.DatasetBought, service=service, purchase=purchase_id, buyer=buyer,
                  zone=zone, first_day=first_day, days=days, readings=total, amount=amount)
        return {"purchase": purchase_id, "readings": total, "amount": amount}

    # -- queries -----------------------------------------------------------------

    @query
    def terms(self) -> dict[str, str]:
        """What the registry's parameters mean for an air-quality service."""
        return {"verification": Verification.OPTIONAL,
                "reward": "units per accepted reading",
                "fee": "units per accepted reading in a purchased dataset"}

    @query
    def is_provider(self, service: Name, account: Address) -> bool:
        return (service, account) in self.providers

    @query
    def reading(self, service: Name, reading: ReadingId) -> dict[str, Any]:
        """One reading, its status and the reward it earned."""
        return self._reading(service, reading).describe(reading)

    @query
    def readings_of(self, service: Name, provider: Address,
                    after: Annotated[int, Int(0, 2**63 - 1)] = 0,
                    limit: PageSize = 50) -> list[dict[str, Any]]:
        """A provider's readings, oldest first, after the id ``after``: each with its status
        (accepted, awaiting review, rejected) and reward."""
        return [self.readings[service, key[2]].describe(key[2])
                for key, _ in self.by_provider.scan(service, provider, after=(after,), limit=limit)]

    @query
    def review_queue(self, service: Name, after: Annotated[int, Int(0, 2**63 - 1)] = 0,
                     limit: PageSize = 50) -> list[dict[str, Any]]:
        """Readings awaiting review, oldest first, after the id ``after``."""
        return [self.readings[service, key[1]].describe(key[1])
                for key, _ in self.queue.scan(service, after=(after,), limit=limit)]

    @query
    def zone_day(self, service: Name, zone: Zone, day: Day) -> dict[str, Any]:
        """Accepted readings of a zone on a day, whether the day is closed, and the fee share
        per reading its sales have earned so far."""
        zd = self.zone_days.get((service, zone, day), ZoneDay())
        return {"zone": zone, "day": day, "readings": zd.readings, "per_reading": zd.per_reading,
                "sales": zd.sales, "closed": self._closed(day)}

    @query
    def zone_readings(self, service: Name, zone: Zone, day: Day,
                      after: Annotated[int, Int(0, 2**63 - 1)] = 0,
                      limit: PageSize = 100) -> list[dict[str, Any]]:
        """The accepted readings of a zone on a day, by id, after the id ``after``."""
        return [self.readings[service, key[3]].describe(key[3])
                for key, _ in self.by_zone.scan(service, zone, day, after=(after,),
                                                      limit=limit)]

    @query
    def purchase(self, service: Name, purchase: PurchaseId) -> dict[str, Any]:
        record = self.purchases.require((service, purchase), f"no purchase {purchase} in '{service}'",
                                        code="unknown_purchase")
        return record.describe(purchase)

    @query
    def contributions(self, service: Name, provider: Address, after_zone: OptionalZone = None,
                      after_day: OptionalDay = None, limit: PageSize = 50) -> list[dict[str, Any]]:
        """A provider's accepted readings per zone and day with what it may claim, in (zone, day)
        order, after (``after_zone``, ``after_day``)."""
        after = None if after_zone is None else (
            (after_zone,) if after_day is None else (after_zone, after_day))
        out = []
        for key, contribution in self.contribs.scan(service, provider, after=after,
                                                         limit=limit):
            zone, day = key[2], key[3]
            out.append({"zone": zone, "day": day, "readings": contribution.readings,
                        "claimed": contribution.claimed,
                        "claimable": self._owed(service, zone, day, contribution)})
        return out

    # -- helpers -----------------------------------------------------------------

    def _next_id(self) -> int:
        next_id = self.next_id
        self.next_id = next_id + 1
        return next_id

    def _reading(self, service: str, reading: int) -> Reading:
        return self.readings.require((service, reading), f"no reading {reading} in '{service}'",
                                     code="unknown_reading")

    def _closed(self, day: int) -> bool:
        """Whether no reading can join ``day`` any more (submitted or reviewed)."""
        return self.ctx.env.time_ms >= (day + 2) * DAY_MS

    def _outlier(self, service: str, hour: int, cell: str, measured: tuple[int | None, ...]) -> bool:
        totals = [[0, 0] for _ in POLLUTANTS]
        for other in neighbours(cell):
            for i, (count, total) in enumerate(self.sums.get((service, hour, other), ())):
                totals[i][0] += count
                totals[i][1] += total
        return any(value is not None and count >= MIN_NEIGHBOURS and is_outlier(value, count, total, i)
                   for i, (value, (count, total)) in enumerate(zip(measured, totals, strict=True)))

    def _accept(self, service: str, record: dict[str, Any], reading_id: int, reading: Reading) -> Reading:
        """Count an accepted reading in its cell, zone and day, and pay its reward."""
        hour = hour_of(reading.measured_ms)
        sums = [list(pair) for pair in self.sums.get((service, hour, reading.cell), ())] or [
            [0, 0] for _ in POLLUTANTS]
        for i, value in enumerate(reading.values):
            if value is not None:
                sums[i][0] += 1
                sums[i][1] += value
        self.sums[service, hour, reading.cell] = sums
        zone, day = zone_of(reading.cell), reading.measured_ms // DAY_MS
        zd = self.zone_days.get((service, zone, day), ZoneDay())
        self.zone_days[service, zone, day] = zd.replace(readings=zd.readings + 1)
        self.by_zone[service, zone, day, reading_id] = reading.provider
        key = (service, reading.provider, zone, day)
        contribution = self.contribs.get(key) or Contribution(0, 0)
        # A newcomer to a zone-day that was sold before is owed nothing of those sales: it
        # joins with the shares paid so far counted as claimed.
        self.contribs[key] = contribution.replace(
            readings=contribution.readings + 1, claimed=contribution.claimed + zd.per_reading)
        reward = 0
        if record["reward"]:
            reward = self.ctx.call("incentives", "reward", service=service,
                                   provider=reading.provider, amount=record["reward"])
        return reading.replace(status=ReadingStatus.ACCEPTED, reward=reward)

    def _owed(self, service: str, zone: str, day: int, contribution: Contribution) -> int:
        zd = self.zone_days.get((service, zone, day), ZoneDay())
        return contribution.readings * zd.per_reading - contribution.claimed
