"""Operators' consoles of the incentive services: money, review queues and registrations.

``/console/services/{service}`` shows a service's flows and budget, its top
providers and the operator's fund / withdraw / pause forms, then what its kind
needs from the city:

* hazards: a department's review queue (reported hazards with their photos and
  reporters: verify or reject) and its open work (start repairs, resolve);
* air quality: the readings awaiting review (accept or reject) and provider
  registration;
* parking: the open disputes (booking facts, who reported what) with the
  operator's resolve form (the driver's refund share: full, half, none or any
  percentage, and a short note), and the spots listed in a zone.

Like the citizens' pages, these are account pages: actions are offered only to
an account holding the role the contract requires, and otherwise the page names
that role.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicledger.contracts.cells import Zone
from civicledger.core.errors import NotFound
from civicledger.core.jsonform import plain
from civicledger.core.schema import Name
from civicledger.node.node import Node
from civicledger.web import charts
from civicledger.web.i18n import Translator, language_of
from civicledger.web.render import account_of, node_of, not_found, query_pages, render, roles_of
from civicledger.web.services import (
    DEFAULT_ZONE,
    DEMO_ZONES,
    PAGE,
    UNITS,
    currency_of,
    page_link,
    service_of,
    valid,
)

router = APIRouter(include_in_schema=False)

FLOW_BARS = ("funded", "budget", "rewards_paid", "fees_collected", "platform_paid", "provider_paid",
             "held", "refunded", "withdrawn")
"""The service flows charted on the console, in this order."""
QUEUE_PAGE = 50
MAX_DISPUTES = 2_000
"""Most disputes of a service the console reads to list the latest decided ones."""
REFUND_PRESETS = (("full", 100), ("half", 50), ("none", 0))
"""The refund shares a parking dispute's resolve form offers as one-click choices, in percent."""
TOP_PROVIDERS = 10


@router.get("/console/services/{service}", response_class=HTMLResponse)
def console(request: Request, service: str, department: str | None = None,
            zone: str = DEFAULT_ZONE) -> Response:
    node = node_of(request)
    record = service_of(node, service)
    if record is None:
        return not_found(request, service)
    account = account_of(request)
    roles = roles_of(node, account)
    t = Translator(language_of(request))
    currency = currency_of(node, record["currency"])
    flows = record["flows"]
    chart = charts.bars([(t(f"svc_console.flow.{k}"), flows[k]) for k in FLOW_BARS],
                        t("svc_console.flows_of", name=record["title"]))
    top = plain(node.query("incentives", "top_providers", {"service": service, "limit": TOP_PROVIDERS}))
    context: dict[str, Any] = {
        "service": record, "currency": currency, "decimals": currency["decimals"], "flows": flows,
        "chart": chart, "top": top, "roles": sorted(roles), "link": page_link(record),
        "operator": ("operator", record["operator"]) in roles,
        "account_page": True, "account": account,
    }
    kind = record["kind"]
    if kind == "hazards":
        chosen = department or default_department(roles, record["operator"])
        if not valid(Name, chosen) or not org_exists(node, chosen):
            return not_found(request, chosen)
        context.update(hazard_review(node, service, chosen, roles))
    elif kind == "airquality":
        context.update(air_review(node, service, record["operator"], roles))
    elif kind == "parking":
        zone = zone.strip()
        if not valid(Zone, zone):
            return not_found(request, zone)
        spots = plain(node.query("parking", "spots_in", {"service": service, "zone": zone, "limit": PAGE}))
        disputes = plain(node.query("parking", "open_disputes", {"service": service, "limit": QUEUE_PAGE}))
        context.update(zone=zone, zones=DEMO_ZONES, spots=spots, disputes=disputes,
                       decided=decided_disputes(node, service), refund_presets=REFUND_PRESETS)
    return render(request, "console/services/service.html", context)


def decided_disputes(node: Node, service: str) -> list[dict[str, Any]]:
    """The service's latest ``QUEUE_PAGE`` decided disputes, newest decision first (from the
    contract's dispute history, read up to ``MAX_DISPUTES``)."""
    found = [b for b in query_pages(node, "parking", "dispute_history", {"service": service},
                                    cursor="booking", page=PAGE, most=MAX_DISPUTES)
             if b["dispute"]["resolved_ms"] is not None]
    found.sort(key=lambda b: b["dispute"]["resolved_ms"], reverse=True)
    return [plain(b) for b in found[:QUEUE_PAGE]]


def default_department(roles: set[tuple[str, str]], operator: str) -> str:
    """The first organisation the account verifies for, else the operator (who answers for
    zones no department was assigned)."""
    verifying = sorted(org for role, org in roles if role == "verifier")
    return verifying[0] if verifying else operator


def org_exists(node: Node, org: str) -> bool:
    try:
        node.query("governance", "org", {"org": org})
    except NotFound:
        return False
    return True


def hazard_review(node: Node, service: str, department: str,
                  roles: set[tuple[str, str]]) -> dict[str, Any]:
    """A department's hazards awaiting a decision and its open repair work."""
    args = {"service": service, "department": department, "limit": QUEUE_PAGE}
    departments = [plain(o) for o in node.query("governance", "orgs_list", {})]
    return {
        "department": department, "departments": departments,
        "department_name": next(o["name"] for o in departments if o["id"] == department),
        "queue": plain(node.query("hazards", "queue", args)),
        "work": plain(node.query("hazards", "open_work", args)),
        "verifier": ("verifier", department) in roles,
    }


def air_review(node: Node, service: str, operator: str, roles: set[tuple[str, str]]) -> dict[str, Any]:
    """Readings awaiting review (flagged or pending), oldest first."""
    queue = plain(node.query("airquality", "review_queue", {"service": service, "limit": QUEUE_PAGE}))
    return {"readings": queue, "verifier": ("verifier", operator) in roles, "units": UNITS}
