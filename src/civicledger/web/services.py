"""The citizens' incentive-service pages: air readings, hazard reports, shared parking.

``/services`` lists every service the incentive registry knows, with what it pays
or costs, and the account's statement (what each service earned or cost it).
Each service kind has its page, addressed by the service id:

* ``/services/hazards/{service}``: report a hazard with a photo, follow one's reports;
* ``/services/air/{service}``: submit readings (registered providers), claim dataset shares;
* ``/services/parking/{service}``: find and book spots in a zone, check in and out,
  list one's own spots and handle the bookings made on them; either side reports a
  problem with a booking (a fixed reason code, never free text) while the contract
  allows it, and sees the dispute's state and, once the operator decided, its outcome.

Every action is a signed ``<form data-contract=…>`` (``static/actions.js``); page
helpers for times, prices and availability windows are in ``static/services.js``.
The helpers below are shared with the operators' consoles (``service_console``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicledger.contracts.airquality.records import POLLUTANTS
from civicledger.contracts.cells import Zone
from civicledger.contracts.hazards.records import Category
from civicledger.contracts.parking.records import (
    CHECK_IN_EARLY_MS,
    FREE_CANCEL_MS,
    GRACE_MS,
    HOUR_MS,
    MAX_BOOKING_HOURS,
    MAX_WINDOWS,
    BookingStatus,
    DisputeReason,
)
from civicledger.core import address as addresses
from civicledger.core.errors import NotFound, UnknownCall
from civicledger.core.jsonform import plain
from civicledger.core.schema import Name
from civicledger.node.node import Node
from civicledger.web.render import (
    SEOUL,
    account_of,
    ledger_now_ms,
    node_of,
    not_found,
    query_pages,
    render,
    templates,
)

router = APIRouter(include_in_schema=False)

PAGES = {"hazards": "hazards", "airquality": "air", "parking": "parking"}
"""The page path segment of each service kind (the contract that runs it)."""
DEFAULT_ZONE = "041-108"
"""The zone the parking page opens on: Nowon's, where the demo city's spots are."""
DEMO_ZONES = ("041-108", "038-105")
"""Zones offered in the zone picker (Nowon, Gangseo); any other can be typed."""
PAGE = 100
"""Rows read per query page (the contracts' largest page)."""
MAX_OWN_REPORTS = 500
"""Most of a citizen's hazard reports the page reads; it shows the newest first."""
MAX_OWN_READINGS = 2_000
SHOWN_READINGS = 20
"""Most of a provider's readings the air page reads, and how many of the newest it shows."""
MAX_OWNER_BOOKINGS = 500
"""Most open or disputed bookings of an owner's spots the page lists."""
AIR_FIELDS = ("pm10", "pm25", "no2")
"""The pollutants the reading form asks for (the contract takes any subset of POLLUTANTS)."""
UNITS = {name: unit for name, _, unit in POLLUTANTS}
HIGHEST = {name: high for name, high, _ in POLLUTANTS}
"""The top of each pollutant's physical range: the form refuses more before signing."""
DRIVER_REASONS = (DisputeReason.SPOT_OCCUPIED, DisputeReason.BLOCKED, DisputeReason.OTHER)
OWNER_REASONS = (DisputeReason.OVERSTAY, DisputeReason.BLOCKED, DisputeReason.OTHER)
"""The reasons the page offers each side (the contract takes any ``DisputeReason`` from either)."""


# -- shared with the consoles ---------------------------------------------------------------------


def valid(spec: Any, value: str) -> bool:
    """Whether ``value`` passes the contract argument type ``spec`` (an ``Annotated`` alias)."""
    try:
        spec.__metadata__[0].check(value, "value")
    except UnknownCall:
        return False
    return True


def service_of(node: Node, service: str, kind: str | None = None) -> dict[str, Any] | None:
    """The registry's record of ``service`` (JSON-ready), or None if there is no such service
    (of that ``kind``)."""
    if not valid(Name, service):
        return None
    try:
        record = node.query("incentives", "service", {"service": service})
    except NotFound:
        return None
    if kind is not None and record["kind"] != kind:
        return None
    return plain(record)


def currency_of(node: Node, symbol: str) -> dict[str, Any]:
    return plain(node.query("token", "currency", {"symbol": symbol}))


def balance_of(node: Node, symbol: str, account: str) -> int:
    held = node.query("token", "balance", {"currency": symbol, "account": addresses.from_text(account)})
    return int(held["spendable"])


def has_role(node: Node, account: str | None, role: str, org: str | None = None) -> bool:
    if account is None:
        return False
    return bool(node.query("governance", "has_role",
                           {"account": addresses.from_text(account), "role": role, "org": org}))


def page_link(record: dict[str, Any]) -> str | None:
    segment = PAGES.get(record["kind"])
    return f"/services/{segment}/{record['service']}" if segment else None


def photo_url(photo_hex: str) -> str:
    return f"/v1/blobs/{photo_hex}"


def kst_minutes(time_ms: int) -> str:
    """A time as Seoul wall-clock time to the minute: ``2025-05-01 09:00 KST``."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC).astimezone(SEOUL)
    return moment.strftime("%Y-%m-%d %H:%M KST")


def utc_day(day: int) -> str:
    """A UTC day number (block time // 86 400 000) as its date."""
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def bps_percent(bps: int) -> str:
    """Basis points as a percentage: 10000 → ``100%``, 3333 → ``33.33%``, 50 → ``0.5%``."""
    whole, part = divmod(bps, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".") + "%" if part else f"{whole}%"


templates.env.filters.update(kst_minutes=kst_minutes, utc_day=utc_day, photo_url=photo_url,
                             bps_percent=bps_percent)


def service_context(node: Node, record: dict[str, Any], account: str | None) -> dict[str, Any]:
    """What every service page shows: the service, its currency and the account's balance."""
    currency = currency_of(node, record["currency"])
    return {
        "service": record, "currency": currency, "decimals": currency["decimals"],
        "balance": balance_of(node, record["currency"], account) if account else None,
        "account_page": True, "account": account,
    }


# -- the list -------------------------------------------------------------------------------------


@router.get("/services", response_class=HTMLResponse)
def services(request: Request) -> Response:
    """Every registered service with its terms; the account's statement per service."""
    node = node_of(request)
    account = account_of(request)
    listed = [plain(s) for s in node.query("incentives", "services_list", {"limit": PAGE})]
    decimals = {c["symbol"]: c["decimals"] for c in node.query("token", "currencies", {})}
    for record in listed:
        record["link"] = page_link(record)
        record["decimals"] = decimals.get(record["currency"], 0)
    statement = None
    if account is not None:
        statement = plain(node.query("incentives", "statement", {"account": addresses.from_text(account)}))
        titles = {s["service"]: s for s in listed}
        for line in statement["services"]:
            line["title"] = titles.get(line["service"], {}).get("title", line["service"])
            line["link"] = page_link(line)
            line["decimals"] = decimals.get(line["currency"], 0)
        statement["totals"] = [{"currency": c, "decimals": decimals.get(c, 0), **v}
                               for c, v in statement["totals"].items()]
    return render(request, "services/index.html", {
        "services": listed, "statement": statement, "account_page": True, "account": account,
    })


# -- hazards --------------------------------------------------------------------------------------


@router.get("/services/hazards/{service}", response_class=HTMLResponse)
def hazards(request: Request, service: str) -> Response:
    node = node_of(request)
    record = service_of(node, service, "hazards")
    if record is None:
        return not_found(request, service)
    account = account_of(request)
    context = service_context(node, record, account)
    context.update(categories=[c.value for c in Category], reports=[],
                   citizen=has_role(node, account, "citizen"))
    if account is not None:
        context["reports"] = own_reports(node, service, account)
    return render(request, "services/hazards.html", context)


def own_reports(node: Node, service: str, account: str) -> list[dict[str, Any]]:
    """The account's hazard reports, newest first, each with its own photo and reward share."""
    found = query_pages(node, "hazards", "reports_of",
                        {"service": service, "reporter": addresses.from_text(account)},
                        cursor="hazard", page=PAGE, most=MAX_OWN_REPORTS)
    rows = []
    for summary in reversed(found[-50:]):
        hazard = plain(node.query("hazards", "hazard", {"service": service, "hazard": summary["hazard"]}))
        mine = next((r for r in hazard["reports"] if r["reporter"] == account), None)
        hazard["mine"] = mine
        rows.append(hazard)
    return rows


# -- air quality ----------------------------------------------------------------------------------


@router.get("/services/air/{service}", response_class=HTMLResponse)
def air(request: Request, service: str) -> Response:
    node = node_of(request)
    record = service_of(node, service, "airquality")
    if record is None:
        return not_found(request, service)
    account = account_of(request)
    context = service_context(node, record, account)
    provider = account is not None and bool(node.query(
        "airquality", "is_provider", {"service": service, "account": addresses.from_text(account)}))
    contributions: list[dict[str, Any]] = []
    readings: list[dict[str, Any]] = []
    if provider and account is not None:
        contributions = plain(node.query("airquality", "contributions", {
            "service": service, "provider": addresses.from_text(account), "limit": PAGE}))
        contributions.sort(key=lambda c: (-c["day"], c["zone"]))
        readings = latest_readings(node, service, addresses.from_text(account))
    context.update(provider=provider, contributions=contributions, readings=readings,
                   fields=AIR_FIELDS, units=UNITS, highest=HIGHEST)
    return render(request, "services/air.html", context)


def latest_readings(node: Node, service: str, provider: bytes) -> list[dict[str, Any]]:
    """The provider's latest ``SHOWN_READINGS`` readings, newest first, with status and reward
    (the contract's per-provider index, read up to ``MAX_OWN_READINGS``)."""
    found = query_pages(node, "airquality", "readings_of", {"service": service, "provider": provider},
                        cursor="reading", page=PAGE, most=MAX_OWN_READINGS)
    return [plain(r) for r in reversed(found[-SHOWN_READINGS:])]


# -- parking --------------------------------------------------------------------------------------


@router.get("/services/parking/{service}", response_class=HTMLResponse)
def parking(request: Request, service: str, zone: str = DEFAULT_ZONE) -> Response:
    node = node_of(request)
    record = service_of(node, service, "parking")
    zone = zone.strip()
    if record is None or not valid(Zone, zone):
        return not_found(request, service if record is None else zone)
    account = account_of(request)
    now = ledger_now_ms(node)
    context = service_context(node, record, account)
    spots = plain(node.query("parking", "spots_in", {"service": service, "zone": zone, "limit": PAGE}))
    for spot in spots:
        spot["start_ms"] = first_bookable_hour(spot["windows"], now)
        spot["own"] = spot["owner"] == account
    bookings: list[dict[str, Any]] = []
    own_spots: list[dict[str, Any]] = []
    on_my_spots: list[dict[str, Any]] = []
    if account is not None:
        raw = addresses.from_text(account)
        bookings = [with_actions(b, now) for b in reversed(plain(node.query(
            "parking", "bookings_of", {"service": service, "driver": raw, "limit": PAGE})))]
        own_spots = plain(node.query("parking", "spots_of", {"service": service, "owner": raw,
                                                             "limit": PAGE}))
        on_my_spots = [with_actions(b, now) for b in bookings_on_spots_of(node, service, raw)]
    may_list = has_role(node, account, "citizen") or has_role(node, account, "merchant")
    context.update(
        zone=zone, zones=DEMO_ZONES, spots=spots, bookings=bookings, own_spots=own_spots,
        on_my_spots=on_my_spots, may_list=may_list, driver_reasons=DRIVER_REASONS,
        owner_reasons=OWNER_REASONS,
        max_hours=MAX_BOOKING_HOURS, max_windows=MAX_WINDOWS,
        next_hour_ms=now - now % HOUR_MS + HOUR_MS, now_ms=now,
    )
    return render(request, "services/parking.html", context)


def first_bookable_hour(windows: list[list[int]], now: int) -> int | None:
    """The first whole hour from now inside one of the windows, or None if they are all past."""
    next_hour = now - now % HOUR_MS + HOUR_MS
    for start, end in windows:
        candidate = max(start, next_hour)
        if candidate + HOUR_MS <= end:
            return candidate
    return None


def with_actions(booking: dict[str, Any], now: int) -> dict[str, Any]:
    """A booking with the steps its driver and owner may take now (the contract decides)."""
    start, status = booking["start_ms"], booking["status"]
    booked = status == BookingStatus.BOOKED
    booking["check_in_opens"] = start - CHECK_IN_EARLY_MS
    booking["can_check_in"] = booked and start - CHECK_IN_EARLY_MS <= now <= start + GRACE_MS
    booking["can_check_out"] = status == BookingStatus.CHECKED_IN
    booking["owner_can_check_out"] = booking["can_check_out"] and now >= booking["end_ms"]
    booking["can_cancel"] = booked and now < start
    booking["free_cancel"] = start - now >= FREE_CANCEL_MS
    booking["can_no_show"] = booked and now > start + GRACE_MS
    booking["dispute_opens"] = start - CHECK_IN_EARLY_MS
    booking["can_dispute"] = booking["dispute"] is None and (
        status == BookingStatus.CHECKED_IN or booking["can_check_in"])
    return booking


def bookings_on_spots_of(node: Node, service: str, owner: bytes) -> list[dict[str, Any]]:
    """Bookings of the owner's spots that are open (by start) or whose dispute was decided
    (newest first): the contract's owner index, read page by page up to ``MAX_OWNER_BOOKINGS``."""
    found = [plain(b) for b in query_pages(node, "parking", "bookings_for",
                                           {"service": service, "owner": owner},
                                           cursor="booking", page=PAGE, most=MAX_OWNER_BOOKINGS)]
    live = [b for b in found if b["status"] != BookingStatus.RESOLVED]
    decided = [b for b in found if b["status"] == BookingStatus.RESOLVED]
    return sorted(live, key=lambda b: b["start_ms"]) + decided[::-1]

