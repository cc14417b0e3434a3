"""Parking sharing: residents and businesses list spots, drivers book them, escrow settles.

Who may list: a resident (``citizen`` role in any organisation, granted by a
district office) or a business (``merchant`` role). A spot names a 500 m
``Cell`` (never an address: the exact place is given to the driver off-chain),
a price per hour and up to 16 availability windows of whole hours.

A driver books whole hours inside one window (at most 24, starting in the
future). Each booked hour of a spot is a state entry naming its booking, so
two bookings can never hold the same hour (``double_booking``). The price is
held in escrow in the registry, from the driver's own balance; it settles:

* ``check_in`` (from 15 minutes before the start to 30 minutes after) then
  ``check_out``: the owner is paid the price less the platform share, which
  goes to the city treasury;
* ``cancel`` by the driver at least two hours before the start: full refund;
  later but before the start: half to the owner (less the platform share),
  half back; ``cancel`` by the owner before the start: full refund;
* ``no_show``, recorded by the owner once the grace period has passed without
  a check-in: as a late cancellation.

Cancelled and no-show bookings free their hours that have not begun. The
registry's reward and fee parameters are unused here: the price is the spot's.

Disputes: while the escrow is still held, the booking's driver or the spot's
owner may ``dispute`` it, naming what went wrong by a fixed ``DisputeReason``
code (``spot_occupied``, ``overstay``, ``blocked``, ``other``; never free text,
so no personal data reaches the chain):

* a booked booking, while its check-in is open: from 15 minutes before the start
  to 30 minutes after (the last moment the driver may check in and the owner may
  not yet record a no-show). Earlier, nothing has happened yet and the
  cancellation rules apply; later, the owner's no-show is the remedy;
* a checked-in booking, at any time before check-out (an overstay is raised after
  the end).

One dispute per booking. A disputed booking refuses check-in, check-out,
cancellation and no-shows with ``disputed``; its escrow stays held until an
``operator`` of the service's operator organisation (the role the registry asks
of whoever moves a service's money) calls ``resolve_dispute`` with the share of
the amount refunded to the driver, in basis points, and a short note. The rest
is settled to the owner (less the platform share); the hours not yet begun are
freed, and the booking is ``resolved`` with the outcome recorded. Open disputes
are listed per service (``open_disputes``) for the operator's console.
"""

from __future__ import annotations

from typing import Any

from civicledger.contracts.cells import Cell, Zone, zone_of
from civicledger.contracts.framework import Contract, EventSpec, method, query
from civicledger.contracts.parking.records import (
    CHECK_IN_EARLY_MS,
    FREE_CANCEL_MS,
    GRACE_MS,
    HOUR_MS,
    LATE_SHARE_BPS,
    MAX_WINDOW_MS,
    After,
    Booking,
    BookingId,
    BookingStatus,
    Dispute,
    Hours,
    Reason,
    Spot,
    SpotId,
    Windows,
)
from civicledger.contracts.shared import (
    BPS,
    CITIZEN_ROLE,
    OPERATOR_ROLE,
    Bps,
    PageSize,
    Verification,
    load_service,
    require_role,
)
from civicledger.contracts.storage import Map, Value
from civicledger.core.errors import Conflict, LimitExceeded, Rejection, Unauthorized
from civicledger.core.schema import MAX_AMOUNT, Address, Amount, Label, Name, Timestamp

MERCHANT_ROLE = "merchant"


class Parking(Contract):
    name = "parking"

    spots = Map("spot", Spot)               # (service, spot id) -> Spot
    next_id = Value("next_id", 1)           # spot and booking ids, shared
    by_zone = Map("by_zone")                # (service, zone, spot id) -> True while listed
    by_owner = Map("by_owner")              # (service, owner, spot id) -> True
    taken = Map("taken")                    # (service, spot id, hour start ms) -> booking id
    bookings = Map("booking", Booking)      # (service, booking id) -> Booking
    by_driver = Map("by_driver")            # (service, driver, booking id) -> True
    for_owner = Map("for_owner")            # (service, owner, booking id) -> True while the
                                            # booking is open, and once it has been disputed
    disputes = Map("dispute", Dispute)      # (service, booking id) -> Dispute, once disputed
    disputed = Map("disputed")              # (service, booking id) -> True while disputed

    SpotListed = EventSpec("SpotListed", ("service", "spot", "owner", "cell", "price_per_hour"),
                           topics=("owner",))
    SpotWithdrawn = EventSpec("SpotWithdrawn", ("service", "spot", "owner"), topics=("owner",))
    Booked = EventSpec(
        "Booked", ("service", "booking", "spot", "driver", "owner", "start_ms", "hours", "amount"),
        topics=("driver", "owner"),
    )
    BookingChanged = EventSpec(
        "BookingChanged", ("service", "booking", "driver", "owner", "status", "paid_owner",
                           "refunded"),
        topics=("driver", "owner"),
    )
    Disputed = EventSpec(
        "Disputed", ("service", "booking", "driver", "owner", "by", "reason"),
        topics=("driver", "owner"),
    )
    DisputeResolved = EventSpec(
        "DisputeResolved", ("service", "booking", "driver", "owner", "driver_refund_bps",
                            "refunded", "paid_owner", "note"),
        topics=("driver", "owner"),
    )

    # -- provider methods --------------------------------------------------------

    @method
    def list_spot(self, service: Name, cell: Cell, price_per_hour: Amount, windows: Windows) -> int:
        """List a spot with its hourly price and availability windows (by a resident or a
        business); returns the spot id."""
        load_service(self.ctx, service, self.name, active=True)
        owner = self.ctx.sender
        if not (self.ctx.has_role(owner, CITIZEN_ROLE) or self.ctx.has_role(owner, MERCHANT_ROLE)):
            raise Unauthorized("only a resident (citizen) or a business (merchant) may list a spot",
                               code="not_citizen")
        now = self.ctx.env.time_ms
        previous_end = now
        for start, end in windows:
            if start % HOUR_MS or end % HOUR_MS:
                raise Rejection("availability windows start and end on whole hours",
                                code="not_whole_hours")
            if not previous_end <= start < end <= start + MAX_WINDOW_MS:
                raise Rejection("windows lie in the future, in order, without overlapping, each "
                                "at most 31 days long", code="bad_window")
            previous_end = end
        spot = self._next_id()
        self.spots[service, spot] = Spot(owner, cell, price_per_hour, tuple(windows), True)
        self.by_zone[service, zone_of(cell), spot] = True
        self.by_owner[service, owner, spot] = True
        self.emit(self.SpotListed, service=service, spot=spot, owner=owner, cell=cell,
                  price_per_hour=price_per_hour)
        return spot

    @method
    def withdraw_spot(self, service: Name, spot: SpotId) -> None:
        """Take a spot off the list (by its owner); bookings made stay valid."""
        stored = self._spot(service, spot)
        if self.ctx.sender != stored.owner:
            raise Unauthorized("only the spot's owner may withdraw it", code="not_owner")
        if not stored.active:
            raise Conflict(f"spot {spot} is withdrawn already", code="spot_withdrawn")
        self.spots[service, spot] = stored.replace(active=False)
        del self.by_zone[service, zone_of(stored.cell), spot]
        self.emit(self.SpotWithdrawn, service=service, spot=spot, owner=stored.owner)

    # -- driver methods ----------------------------------------------------------

    @method
    def book(self, service: Name, spot: SpotId, start_ms: Timestamp, hours: Hours) -> dict[str, Any]:
        """Book ``hours`` whole hours of a spot from ``start_ms``, holding the price in escrow;
        returns the booking id and the amount held."""
        load_service(self.ctx, service, self.name, active=True)
        stored = self._spot(service, spot)
        driver = self.ctx.sender
        if not stored.active:
            raise Conflict(f"spot {spot} is withdrawn", code="spot_withdrawn")
        if driver == stored.owner:
            raise Conflict("an owner cannot book their own spot", code="own_spot")
        if start_ms % HOUR_MS:
            raise Rejection("a booking starts on a whole hour", code="not_whole_hours")
        if start_ms < self.ctx.env.time_ms:
            raise Conflict("a booking cannot start in the past", code="in_the_past")
        end_ms = start_ms + hours * HOUR_MS
        if not any(start <= start_ms and end_ms <= end for start, end in stored.windows):
            raise Conflict("the booking lies outside the spot's availability windows",
                           code="outside_window")
        for hour in range(start_ms, end_ms, HOUR_MS):
            if (service, spot, hour) in self.taken:
                raise Conflict(f"spot {spot} is booked at {hour} already", code="double_booking")
        amount = stored.price_per_hour * hours
        if amount > MAX_AMOUNT:
            raise LimitExceeded("the booking costs more than any amount can be", code="too_large")
        booking = self._next_id()
        for hour in range(start_ms, end_ms, HOUR_MS):
            self.taken[service, spot, hour] = booking
        self.ctx.call("incentives", "hold", service=service, amount=amount)
        self.bookings[service, booking] = Booking(spot, driver, stored.owner, start_ms, hours, amount,
                                                  BookingStatus.BOOKED)
        self.by_driver[service, driver, booking] = True
        self.for_owner[service, stored.owner, booking] = True
        self.emit(self.Booked, service=service, booking=booking, spot=spot, driver=driver,
                  owner=stored.owner, start_ms=start_ms, hours=hours, amount=amount)
        return {"booking": booking, "amount": amount}

    @method
    def check_in(self, service: Name, booking: BookingId) -> None:
        """Arrive at a booked spot (by the driver), from 15 minutes before the start to 30
        minutes after."""
        stored = self._booking(service, booking)
        self._require(stored.driver, "driver", "check in")
        self._refuse_disputed(booking, stored)
        if stored.status != BookingStatus.BOOKED:
            raise Conflict(f"booking {booking} is {stored.status}", code="wrong_status")
        now = self.ctx.env.time_ms
        if now < stored.start_ms - CHECK_IN_EARLY_MS:
            raise Conflict("check-in opens 15 minutes before the booking starts", code="too_early")
        if now > stored.start_ms + GRACE_MS:
            raise Conflict("check-in closed 30 minutes after the booking started", code="too_late")
        self._store(service, booking, stored.replace(status=BookingStatus.CHECKED_IN))

    @method
    def check_out(self, service: Name, booking: BookingId) -> int:
        """Leave the spot (by the driver, or by the owner once the booking has ended): the owner
        is paid; returns what the owner received."""
        stored = self._booking(service, booking)
        sender, now = self.ctx.sender, self.ctx.env.time_ms
        if sender != stored.driver and not (sender == stored.owner and now >= stored.end_ms):
            raise Unauthorized("only the booking's driver checks out (or the owner once it has "
                               "ended)", code="not_your_booking")
        self._refuse_disputed(booking, stored)
        if stored.status != BookingStatus.CHECKED_IN:
            raise Conflict(f"booking {booking} is {stored.status}, not checked in",
                           code="not_checked_in")
        paid = self.ctx.call("incentives", "settle", service=service, payee=stored.owner,
                             amount=stored.amount)
        self._store(service, booking, stored.replace(status=BookingStatus.COMPLETED,
                                                     paid_owner=paid))
        return paid

    @method
    def cancel(self, service: Name, booking: BookingId) -> int:
        """Cancel before the start (by the driver or the owner); returns the driver's refund."""
        stored = self._booking(service, booking)
        sender, now = self.ctx.sender, self.ctx.env.time_ms
        if sender not in (stored.driver, stored.owner):
            raise Unauthorized("only the booking's driver or the spot's owner may cancel it",
                               code="not_your_booking")
        self._refuse_disputed(booking, stored)
        if stored.status != BookingStatus.BOOKED:
            raise Conflict(f"booking {booking} is {stored.status}", code="wrong_status")
        if now >= stored.start_ms:
            raise Conflict("a booking that has started cannot be cancelled", code="too_late")
        full = sender == stored.owner or stored.start_ms - now >= FREE_CANCEL_MS
        owner_part = 0 if full else stored.amount * LATE_SHARE_BPS // BPS
        return self._unwind(service, booking, stored, BookingStatus.CANCELLED, owner_part)

    @method
    def no_show(self, service: Name, booking: BookingId) -> int:
        """Record that the driver never came (by the owner, after the grace period); returns
        the driver's refund."""
        stored = self._booking(service, booking)
        self._require(stored.owner, "spot's owner", "record a no-show")
        self._refuse_disputed(booking, stored)
        if stored.status != BookingStatus.BOOKED:
            raise Conflict(f"booking {booking} is {stored.status}", code="wrong_status")
        if self.ctx.env.time_ms <= stored.start_ms + GRACE_MS:
            raise Conflict("the driver may still check in", code="too_early")
        return self._unwind(service, booking, stored, BookingStatus.NO_SHOW,
                            stored.amount * LATE_SHARE_BPS // BPS)

    # -- disputes ----------------------------------------------------------------

    @method
    def dispute(self, service: Name, booking: BookingId, reason: Reason) -> None:
        """Report a problem with a booking (by its driver or the spot's owner) while its escrow
        is held: a booked booking while check-in is open, a checked-in one until check-out.
        The escrow stays held until the service's operator resolves it."""
        stored = self._booking(service, booking)
        sender, now = self.ctx.sender, self.ctx.env.time_ms
        if sender not in (stored.driver, stored.owner):
            raise Unauthorized("only the booking's driver or the spot's owner may dispute it",
                               code="not_your_booking")
        if (service, booking) in self.disputes:
            raise Conflict(f"booking {booking} has been disputed already", code="already_disputed")
        if stored.status == BookingStatus.BOOKED:
            if now < stored.start_ms - CHECK_IN_EARLY_MS:
                raise Conflict("a booking may be disputed from 15 minutes before it starts; "
                               "until then it may be cancelled", code="too_early")
            if now > stored.start_ms + GRACE_MS:
                raise Conflict("a booking nobody checked in to may be disputed until 30 minutes "
                               "after its start; later the owner records a no-show",
                               code="too_late")
        elif stored.status != BookingStatus.CHECKED_IN:
            raise Conflict(f"booking {booking} is {stored.status}: its escrow is settled",
                           code="wrong_status")
        self.disputes[service, booking] = Dispute(sender, reason, now, stored.status)
        self.disputed[service, booking] = True
        self.bookings[service, booking] = stored.replace(status=BookingStatus.DISPUTED)
        self.emit(self.Disputed, service=service, booking=booking, driver=stored.driver,
                  owner=stored.owner, by=sender, reason=reason)

    @method
    def resolve_dispute(self, service: Name, booking: BookingId, driver_refund_bps: Bps,
                        note: Label) -> dict[str, int]:
        """Settle a disputed booking (by an operator of the service's operator organisation):
        ``driver_refund_bps`` of the amount back to the driver, the rest to the owner less the
        platform share; the hours not yet begun are freed. Returns what each side received."""
        record = load_service(self.ctx, service, self.name)
        require_role(self.ctx, OPERATOR_ROLE, record["operator"], "resolve parking disputes")
        stored = self._booking(service, booking)
        if stored.status != BookingStatus.DISPUTED:
            raise Conflict(f"booking {booking} is {stored.status}, not disputed",
                           code="no_open_dispute")
        owner_part = stored.amount * (BPS - driver_refund_bps) // BPS
        paid, refund = self._release(service, stored, owner_part)
        self.bookings[service, booking] = stored.replace(
            status=BookingStatus.RESOLVED, paid_owner=paid, refunded=refund)
        self.disputes[service, booking] = self.disputes[service, booking].replace(
            driver_refund_bps=driver_refund_bps, note=note, resolved_by=self.ctx.sender,
            resolved_ms=self.ctx.env.time_ms)
        del self.disputed[service, booking]
        self.emit(self.DisputeResolved, service=service, booking=booking, driver=stored.driver,
                  owner=stored.owner, driver_refund_bps=driver_refund_bps, refunded=refund,
                  paid_owner=paid, note=note)
        return {"refunded": refund, "paid_owner": paid}

    # -- queries -----------------------------------------------------------------

    @query
    def terms(self) -> dict[str, str]:
        """What the registry's parameters mean for a parking service: the spot sets the price."""
        return {"verification": Verification.NONE, "reward": "", "fee": ""}

    @query
    def spot(self, service: Name, spot: SpotId) -> dict[str, Any]:
        return self._spot(service, spot).describe(spot)

    @query
    def spots_in(self, service: Name, zone: Zone, after: After = 0,
                 limit: PageSize = 50) -> list[dict[str, Any]]:
        """Listed spots of a zone, by id, after the id ``after``."""
        return [self.spots[service, key[2]].describe(key[2])
                for key, _ in self.by_zone.scan(service, zone, after=(after,), limit=limit)]

    @query
    def spots_of(self, service: Name, owner: Address, after: After = 0,
                 limit: PageSize = 50) -> list[dict[str, Any]]:
        """An owner's spots, by id, after the id ``after``."""
        return [self.spots[service, key[2]].describe(key[2])
                for key, _ in self.by_owner.scan(service, owner, after=(after,), limit=limit)]

    @query
    def booking(self, service: Name, booking: BookingId) -> dict[str, Any]:
        """A booking, with its ``dispute`` (None if it was never disputed)."""
        return self._view(service, booking, self._booking(service, booking))

    @query
    def bookings_of(self, service: Name, driver: Address, after: After = 0,
                    limit: PageSize = 50) -> list[dict[str, Any]]:
        """A driver's bookings, by id, after the id ``after``."""
        return [self._view(service, key[2], self.bookings[service, key[2]])
                for key, _ in self.by_driver.scan(service, driver, after=(after,), limit=limit)]

    @query
    def bookings_for(self, service: Name, owner: Address, after: After = 0,
                     limit: PageSize = 50) -> list[dict[str, Any]]:
        """Bookings of an owner's spots that are open (booked, checked in, disputed) or whose
        dispute was resolved, by id, after the id ``after``: what the owner may act on or must
        hear about. A booking that ends otherwise leaves this list."""
        return [self._view(service, key[2], self.bookings[service, key[2]])
                for key, _ in self.for_owner.scan(service, owner, after=(after,), limit=limit)]

    @query
    def open_disputes(self, service: Name, after: After = 0,
                      limit: PageSize = 50) -> list[dict[str, Any]]:
        """The service's disputed bookings awaiting the operator, by booking id, after the id
        ``after``; each with its spot's cell."""
        return [self._disputed_view(service, key[1])
                for key, _ in self.disputed.scan(service, after=(after,), limit=limit)]

    @query
    def dispute_history(self, service: Name, after: After = 0,
                        limit: PageSize = 50) -> list[dict[str, Any]]:
        """Every dispute of the service, open or decided, by booking id, after the id ``after``;
        each with its booking and its spot's cell: the record an auditor reads."""
        return [self._disputed_view(service, key[1])
                for key, _ in self.disputes.scan(service, after=(after,), limit=limit)]

    @query
    def is_free(self, service: Name, spot: SpotId, start_ms: Timestamp, hours: Hours) -> bool:
        """Whether every hour of the range is inside a window and not booked."""
        stored = self._spot(service, spot)
        end_ms = start_ms + hours * HOUR_MS
        return (start_ms % HOUR_MS == 0 and stored.active
                and any(s <= start_ms and end_ms <= e for s, e in stored.windows)
                and all((service, spot, h) not in self.taken for h in range(start_ms, end_ms, HOUR_MS)))

    # -- helpers -----------------------------------------------------------------

    def _next_id(self) -> int:
        next_id = self.next_id
        self.next_id = next_id + 1
        return next_id

    def _spot(self, service: str, spot: int) -> Spot:
        return self.spots.require((service, spot), f"no spot {spot} in '{service}'", code="unknown_spot")

    def _booking(self, service: str, booking: int) -> Booking:
        return self.bookings.require((service, booking), f"no booking {booking} in '{service}'",
                                     code="unknown_booking")

    def _require(self, account: bytes, who: str, what: str) -> None:
        if self.ctx.sender != account:
            raise Unauthorized(f"only the booking's {who} may {what}", code="not_your_booking")

    def _refuse_disputed(self, booking: int, stored: Booking) -> None:
        if stored.status == BookingStatus.DISPUTED:
            raise Conflict(f"booking {booking} is disputed: the service's operator decides it",
                           code="disputed")

    def _view(self, service: str, booking: int, stored: Booking) -> dict[str, Any]:
        dispute = self.disputes.get((service, booking))
        return {**stored.describe(booking),
                "dispute": None if dispute is None else dispute.describe()}

    def _disputed_view(self, service: str, booking: int) -> dict[str, Any]:
        """A disputed booking as the operator reads it: ``_view`` and its spot's cell."""
        stored = self.bookings[service, booking]
        return {**self._view(service, booking, stored), "cell": self.spots[service, stored.spot].cell}

    def _unwind(self, service: str, booking: int, stored: Booking, status: BookingStatus,
                owner_part: int) -> int:
        """End a booking early: release its escrow (see ``_release``) and record it."""
        paid, refund = self._release(service, stored, owner_part)
        self._store(service, booking, stored.replace(status=status, paid_owner=paid, refunded=refund))
        return refund

    def _release(self, service: str, stored: Booking, owner_part: int) -> tuple[int, int]:
        """Free the hours not yet begun, pay the owner ``owner_part`` (less the platform share)
        and refund the driver the rest; returns (what the owner received, the refund)."""
        now = self.ctx.env.time_ms
        for hour in range(stored.start_ms, stored.end_ms, HOUR_MS):
            if hour >= now:
                del self.taken[service, stored.spot, hour]
        refund = stored.amount - owner_part
        paid = 0
        if owner_part:
            paid = self.ctx.call("incentives", "settle", service=service, payee=stored.owner,
                                 amount=owner_part)
        if refund:
            self.ctx.call("incentives", "refund", service=service, payee=stored.driver,
                          amount=refund)
        return paid, refund

    def _store(self, service: str, booking: int, stored: Booking) -> None:
        self.bookings[service, booking] = stored
        if stored.status in (BookingStatus.COMPLETED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW):
            del self.for_owner[service, stored.owner, booking]
        self.emit(self.BookingChanged, service=service, booking=booking, driver=stored.driver,
                  owner=stored.owner, status=stored.status, paid_owner=stored.paid_owner,
                  refunded=stored.refunded)
