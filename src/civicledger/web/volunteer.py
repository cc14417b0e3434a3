"""The volunteering pages: citizens browse, apply and spend; organisations run their requests.

Citizens (pages about one account, ``?account=civ1…``):

- ``/volunteer``: requests recommended for the account, the open requests of each district
  (paged), and the account's preferences;
- ``/volunteer/requests/{id}``: one request, the form to apply, and the account's application
  and activity;
- ``/volunteer/me``: the account's applications, activities (with check-in and check-out
  hand-offs and contests), certificates, and its district coins with forms to spend, donate and
  exchange them;
- ``/volunteer/certificates/{id}``: a certificate, its digest recomputed and checked with the
  contract's ``verify_certificate`` (and again in the browser by ``static/volunteer.js``);
- ``/volunteer/cosign``: the other party's side of a co-signed check-in or check-out. The
  partly-signed transaction travels in the URL fragment, so no server sees it before it is
  submitted (``static/cosign.js``).

Organisations (``/console/volunteer``): managers post requests and run them; district admins
register organisations, read the district's report and decide contests.

Check-in and check-out need both parties' signatures over one body that names both public keys,
so whoever starts the hand-off must know the other's public key: the node keeps it for every
account that has signed a committed transaction (``Node.public_key``; a volunteer always has
one, the application).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicledger.contracts.volunteering.contract import certificate_digest
from civicledger.contracts.volunteering.records import (
    ActivityStatus,
    ApplicationStatus,
    Certificate,
    ContestReason,
    RatingTag,
    RejectReason,
    RequestStatus,
)
from civicledger.core import address as addresses
from civicledger.core.jsonform import plain
from civicledger.node.asof import query_as_of
from civicledger.node.node import Node
from civicledger.web.i18n import Translator, language_of
from civicledger.web.render import (
    account_of,
    ledger_now_ms,
    node_of,
    not_found,
    org_names,
    query_or_none,
    query_pages,
    render,
    roles_of,
)

router = APIRouter(include_in_schema=False)

CONTRACT = "volunteering"
LIST_PAGE = 20
"""Requests a listing shows at once."""
SCAN_LIMIT = 500
"""District requests one listing looks through for open ones or an organisation's (bounded work)."""
QUERY_PAGE = 50
SHOWN_APPLICATIONS = 50
"""A volunteer's latest applications the page shows."""
MAX_ID = 2**63 - 1
HANDOFF_METHODS = ("check_in", "check_out")


# -- reading the ledger -----------------------------------------------------------------------------


def _query(node: Node, name: str, **args: Any) -> Any:
    return node.query(CONTRACT, name, args)


def _raw(account: str | None) -> bytes | None:
    return addresses.from_text(account) if account else None


def _number(text: str) -> int | None:
    """A request or certificate id from the URL, or None if it cannot be one."""
    return int(text) if text.isdigit() and len(text) <= 19 and 1 <= int(text) <= MAX_ID else None


def _no_request(request: Request, number: str) -> Response:
    t = Translator(language_of(request))
    return not_found(request, t("volunteer.request_title", id=number), t("volunteer.no_request"))


def _after(text: str) -> int:
    """A paging cursor from the URL; anything that is not one starts from the beginning."""
    return int(text) if text.isdigit() and len(text) <= 18 else 0


def _districts(node: Node) -> list[dict[str, Any]]:
    return list(_query(node, "districts_list", limit=QUERY_PAGE))


def _decimals(node: Node) -> dict[str, int]:
    return {c["symbol"]: c["decimals"] for c in node.query("token", "currencies", {})}


def _scan_requests(node: Node, district: str, after: int, keep: Callable[[dict[str, Any]], bool],
                   want: int = LIST_PAGE) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``want`` of the district's requests after id ``after`` that ``keep`` accepts, looking
    at no more than SCAN_LIMIT; and the id to continue after, or None when none are left."""
    found: list[dict[str, Any]] = []
    cursor, scanned = after, 0
    while scanned < SCAN_LIMIT:
        page = _query(node, "requests_in", district=district, after=cursor, limit=QUERY_PAGE)
        for record in page:
            cursor, scanned = record["id"], scanned + 1
            if keep(record):
                found.append(plain(record))
                if len(found) == want:
                    return found, cursor
        if len(page) < QUERY_PAGE:
            return found, None
    return found, cursor


def _key_hex(node: Node, account: str | None) -> str:
    key = node.public_key(addresses.from_text(account)) if account else None
    return key.hex() if key else ""


def _balances(node: Node, account: bytes,
              districts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The account's district coins, spendable and expired as of now (not as of the last
    block), and the time they are for."""
    decimals = _decimals(node)
    rows = []
    now = node.clock()
    as_of = now
    with node.store.reading():
        for district in districts:
            held = query_as_of(node.store, node.registry, "token", "balance",
                               {"currency": district["currency"], "account": account}, now)
            as_of = held.as_of_ms
            rows.append({**district, "spendable": held.result["spendable"],
                         "expired": held.result["expired"],
                         "decimals": decimals.get(district["currency"], 0)})
    return rows, as_of


def _applications(node: Node, account: bytes) -> list[dict[str, Any]]:
    """The account's latest ``SHOWN_APPLICATIONS`` applications, newest first, as they stand now
    (the contract's per-volunteer index, read up to ``SCAN_LIMIT``)."""
    found = query_pages(node, CONTRACT, "applications_of", {"volunteer": account},
                        cursor="request", page=QUERY_PAGE, most=SCAN_LIMIT)
    out = []
    for application in reversed(found[-SHOWN_APPLICATIONS:]):
        request = query_or_none(node, CONTRACT, "request", {"request": application["request"]})
        if request is not None:
            out.append({**plain(application), "task": request["task"], "org": request["org"]})
    return out


def _fit(t: Translator, record: dict[str, Any], prefs: dict[str, Any]) -> list[str]:
    """Why a recommended request suits the volunteer, in the reader's language."""
    known = set(prefs["preferred_skills"]) | set(prefs["skills"])
    matched = [skill for skill in record["skills"] if skill in known]
    reasons = []
    if matched:
        reasons.append(t("volunteer.fit.skills", skills=", ".join(matched)))
    elif not record["skills"]:
        reasons.append(t("volunteer.fit.no_skills"))
    if record["district"] in prefs["preferred_districts"]:
        reasons.append(t("volunteer.fit.district"))
    if record["district"] in prefs["districts"]:
        reasons.append(t("volunteer.fit.known_district"))
    return reasons


# -- citizens ---------------------------------------------------------------------------------------


@router.get("/volunteer", response_class=HTMLResponse)
def home(request: Request, district: str = "", after: str = "") -> Response:
    node = node_of(request)
    t = Translator(language_of(request))
    account = account_of(request)
    raw = _raw(account)
    districts = _districts(node)
    ids = [d["district"] for d in districts]
    profile = plain(_query(node, "profile", volunteer=raw)) if raw else None
    now = ledger_now_ms(node)
    recommended = []
    if raw and profile is not None:
        for item in _query(node, "recommend", volunteer=raw, limit=10):
            if item["deadline_ms"] > now:
                record = _query(node, "request", request=item["request"])
                recommended.append({**plain(record), "score": item["score"],
                                    "fit": _fit(t, record, profile)})
    if district not in ids:
        preferred = [*(profile["preferred_districts"] if profile else []),
                     *(r["district"] for r in recommended)]
        district = next((d for d in preferred if d in ids), ids[0] if ids else "")
    listing, more = (_scan_requests(node, district, _after(after),
                                    lambda r: r["status"] == RequestStatus.OPEN and r["deadline_ms"] > now)
                     if district else ([], None))
    decimals = _decimals(node)
    currency = {d["district"]: d["currency"] for d in districts}
    return render(request, "volunteer/home.html", {
        "account_page": True, "account": account, "districts": districts, "district": district,
        "listing": listing, "more": more, "after": _after(after), "recommended": recommended,
        "profile": profile, "names": org_names(node), "currency": currency, "decimals": decimals,
    })


@router.get("/volunteer/requests/{number}", response_class=HTMLResponse)
def request_page(request: Request, number: str) -> Response:
    node = node_of(request)
    ident = _number(number)
    record = query_or_none(node, CONTRACT, "request", {"request": ident}) if ident else None
    if ident is None or record is None:
        return _no_request(request, number)
    account = account_of(request)
    raw = _raw(account)
    application = activity = None
    if raw:
        application = query_or_none(node, CONTRACT, "application", {"request": ident, "volunteer": raw})
        activity = query_or_none(node, CONTRACT, "activity", {"request": ident, "volunteer": raw})
    district = _query(node, "district", district=record["district"])
    now = ledger_now_ms(node)
    return render(request, "volunteer/request.html", {
        "account_page": True, "account": account, "r": plain(record), "names": org_names(node),
        "currency": district["currency"], "decimals": _decimals(node).get(district["currency"], 0),
        "application": plain(application) if application else None,
        "activity": _activity_view(node, record, activity, account) if activity else None,
        "can_apply": record["status"] == RequestStatus.OPEN and record["deadline_ms"] > now,
    })


def _payout(node: Node, activity: dict[str, Any]) -> dict[str, Any] | None:
    """What confirming a checked-out activity's (or deciding a contested one's) most minutes
    would pay, as the contract answers it (credits, and minutes over the volunteer's cap);
    None in any other state."""
    if activity["status"] not in (ActivityStatus.CHECKED_OUT, ActivityStatus.DISPUTED):
        return None
    answer = query_or_none(node, CONTRACT, "payout", {"request": activity["request"],
                                                      "volunteer": activity["volunteer"]})
    return plain(answer) if answer else None


def _activity_view(node: Node, record: dict[str, Any], activity: dict[str, Any],
                   account: str | None) -> dict[str, Any]:
    """An activity as the volunteer's pages show it, with the manager a hand-off would name
    and, once checked out, what confirming it would pay."""
    view = plain(activity)
    view["payout"] = _payout(node, activity)
    manager = view["manager"] if activity["manager"] else addresses.to_text(record["poster"])
    view["handoff"] = None
    if account and view["status"] in (ActivityStatus.ASSIGNED, ActivityStatus.CHECKED_IN):
        method = "check_in" if view["status"] == ActivityStatus.ASSIGNED else "check_out"
        view["handoff"] = {"method": method, "manager": manager, "key": _key_hex(node, manager)}
    return view


@router.get("/volunteer/me", response_class=HTMLResponse)
def mine(request: Request, after: str = "") -> Response:
    node = node_of(request)
    account = account_of(request)
    raw = _raw(account)
    districts = _districts(node)
    context: dict[str, Any] = {"account_page": True, "account": account, "districts": districts,
                               "names": org_names(node), "decimals": _decimals(node),
                               "coin": {d["district"]: d["currency"] for d in districts}}
    if raw is None:
        return render(request, "volunteer/me.html", context)
    cursor = _after(after)
    activities = []
    page = _query(node, "activities_of", volunteer=raw, after=cursor, limit=LIST_PAGE)
    for activity in page:
        record = _query(node, "request", request=activity["request"])
        activities.append({**_activity_view(node, record, activity, account), "r": plain(record)})
    balances, balances_as_of = _balances(node, raw, districts)
    context.update(
        balances=balances, balances_as_of=balances_as_of, activities=activities,
        more=page[-1]["request"] if len(page) == LIST_PAGE else None,
        applications=_applications(node, raw),
        certificates=plain(_query(node, "certificates_of", volunteer=raw, limit=QUERY_PAGE)),
        profile=plain(_query(node, "profile", volunteer=raw)),
        currencies=[c["symbol"] for c in node.query("token", "currencies", {})], words=word_lists(),
    )
    return render(request, "volunteer/me.html", context)


@router.get("/volunteer/certificates/{number}", response_class=HTMLResponse)
def certificate(request: Request, number: str, digest: str = "") -> Response:
    """A certificate; its digest recomputed from its fields and checked by the contract, and a
    digest someone handed over (``?digest=``) checked too."""
    node = node_of(request)
    t = Translator(language_of(request))
    ident = _number(number)
    record = query_or_none(node, CONTRACT, "certificate", {"certificate": ident}) if ident else None
    if record is None:
        return not_found(request, t("volunteer.certificate_title", id=number), t("volunteer.no_certificate"))
    fields = {name: record[name] for name in Certificate.__dataclass_fields__}
    recomputed = certificate_digest(Certificate(**fields))
    verified = _query(node, "verify_certificate", certificate=ident, digest=recomputed)
    given = digest.strip().lower()
    checked = None
    if given:
        valid = len(given) == 64 and all(c in "0123456789abcdef" for c in given)
        checked = valid and _query(node, "verify_certificate", certificate=ident,
                                   digest=bytes.fromhex(given))
    return render(request, "volunteer/certificate.html", {
        "c": plain(record), "recomputed": recomputed.hex(), "verified": verified,
        "given": given, "checked": checked, "names": org_names(node),
        "value": {**plain(record), "volunteer_hex": record["volunteer"].hex()},
    })


@router.get("/volunteer/cosign", response_class=HTMLResponse)
def cosign(request: Request) -> Response:
    """The co-signing side of a hand-off; everything it needs is in the URL fragment."""
    return render(request, "volunteer/cosign.html", {})


# -- organisations ------------------------------------------------------------------------------


def _roles(node: Node, account: str, raw: bytes) -> tuple[list[str], list[str]]:
    """The organisations registered for volunteering that the account manages, and the
    volunteering districts it administers."""
    managed = sorted({org for role, org in roles_of(node, account)
                      if role == "manager" and query_or_none(node, CONTRACT, "organisation", {"org": org})})
    districts = {d["district"] for d in _districts(node)}
    admin = sorted(org["id"] for org in node.query("governance", "orgs_list", {})
                   if raw in org["admins"] and org["id"] in districts)
    return managed, admin


@router.get("/console/volunteer", response_class=HTMLResponse)
def console(request: Request, after: str = "") -> Response:
    node = node_of(request)
    account = account_of(request)
    raw = _raw(account)
    context: dict[str, Any] = {"account_page": True, "account": account, "names": org_names(node),
                               "decimals": _decimals(node)}
    if raw is None:
        return render(request, "volunteer/console.html", context)
    managed, admin = _roles(node, account, raw)
    cursor = _after(after)
    head = ledger_now_ms(node)
    hour = 60 * 60 * 1000
    defaults = {"deadline": (head // hour + 24) * hour, "start": (head // hour + 48) * hour}
    defaults["end"] = defaults["start"] + 3 * hour
    orgs = []
    for org in managed:
        report = _query(node, "org_report", org=org)
        district = _query(node, "district", district=report["district"])
        requests, more = _scan_requests(node, report["district"], cursor, lambda r, o=org: r["org"] == o)
        orgs.append({"org": org, "report": report, "district": district, "requests": requests,
                     "more": more})
    districts = []
    for district in admin:
        report = _query(node, "district_report", district=district)
        requests, more = _scan_requests(node, district, cursor, lambda r: True)
        districts.append({"district": district, "report": report, "requests": requests, "more": more})
    context.update(orgs=orgs, admin_districts=districts, defaults=defaults, after=cursor,
                   all_orgs=node.query("governance", "orgs_list", {}))
    return render(request, "volunteer/console.html", context)


@router.get("/console/volunteer/requests/{number}", response_class=HTMLResponse)
def console_request(request: Request, number: str, after: str = "") -> Response:
    node = node_of(request)
    ident = _number(number)
    record = query_or_none(node, CONTRACT, "request", {"request": ident}) if ident else None
    if ident is None or record is None:
        return _no_request(request, number)
    account = account_of(request)
    raw = _raw(account)
    cursor = _after(after)
    page = _query(node, "applications_for", request=ident, after=cursor, limit=QUERY_PAGE)
    rows = []
    for application in page:
        row = plain(application)
        activity = (query_or_none(node, CONTRACT, "activity",
                                  {"request": ident, "volunteer": application["volunteer"]})
                    if application["status"] == ApplicationStatus.SELECTED else None)
        row["activity"] = plain(activity) if activity else None
        if activity and activity["status"] in (ActivityStatus.ASSIGNED, ActivityStatus.CHECKED_IN):
            row["handoff"] = {
                "method": "check_in" if activity["status"] == ActivityStatus.ASSIGNED else "check_out",
                "key": _key_hex(node, row["volunteer"]),
            }
        row["payout"] = _payout(node, activity) if activity else None
        rows.append(row)
    district = _query(node, "district", district=record["district"])
    managed, admin = _roles(node, account, raw) if account and raw else ([], [])
    now = ledger_now_ms(node)
    return render(request, "volunteer/console_request.html", {
        "account_page": True, "account": account, "r": plain(record), "rows": rows,
        "more": page[-1]["seq"] if len(page) == QUERY_PAGE else None, "names": org_names(node),
        "currency": district["currency"], "decimals": _decimals(node).get(district["currency"], 0),
        "is_manager": record["org"] in managed, "is_admin": record["district"] in admin,
        "deadline_passed": now >= record["deadline_ms"],
        "window_over": now > record["end_ms"], "words": word_lists(),
        "started": any(r["activity"] and r["activity"]["status"] != ActivityStatus.ASSIGNED for r in rows),
    })


# -- words the pages build from values ------------------------------------------------------------


def status_keys() -> list[str]:
    """Every translation key the volunteering pages and scripts build from a ledger value."""
    keys = [f"volunteer.request_status.{s}" for s in RequestStatus]
    keys += [f"volunteer.application_status.{s}" for s in ApplicationStatus]
    keys += [f"volunteer.activity_status.{s}" for s in ActivityStatus]
    keys += [f"volunteer.reject.{r}" for r in RejectReason]
    keys += [f"volunteer.contest.{r}" for r in ContestReason]
    keys += [f"volunteer.tag.{g}" for g in RatingTag]
    keys += [f"volunteer.handoff.{m}" for m in HANDOFF_METHODS]
    keys += [f"cosign.what.{m}" for m in HANDOFF_METHODS]
    return keys


def word_lists() -> dict[str, list[str]]:
    """The fixed words forms offer: rating tags, rejection and contest reasons."""
    return {"tags": [g.value for g in RatingTag], "reject": [r.value for r in RejectReason],
            "contest": [r.value for r in ContestReason]}

