"""Infrastructure risk reports: citizens report hazards, departments verify and repair them.

Who is a citizen: an account holding the ``citizen`` role in any member
organisation — district offices grant it to their residents in governance
(``grant_role``). Only citizens report.

A report names a category (pothole, sinkhole, broken streetlight, damaged
guardrail…), a 500 m ``Cell`` and the SHA-256 of a photo kept in the
off-chain blob store; the chain holds no photo and no name. A report of the
same category in the same cell within three days of the first report of a
hazard still open joins it (at most eight reporters; one report per citizen).

Each zone is assigned to a responsible department by the service's operator
(``assign_zone``; unassigned zones fall to the operator itself); a hazard
keeps the department it had when first reported. Only that department's
``verifier`` role holders move its status, which everyone can read:

    reported → verified → repairing → resolved
    reported → rejected (with a reason)

Each department's work is indexed: ``queue`` lists its hazards awaiting a
decision (reported), ``open_work`` those it has verified and not yet resolved
(verified, repairing), both oldest first, so a review console never walks
every hazard of the city.

Verifying pays the service's reward, shared among the reporters with weights
3 for the first and 1 for each later one (each share within the reporter's
daily cap); it is refused with ``budget_exhausted`` when the budget cannot pay.
Consumers (navigation, insurance apps) buy the feed of verified and repairing
hazards of a zone with ``buy_feed`` at the service's fee per page; after the
platform share the fee refills the reward budget.
"""

from __future__ import annotations

from typing import Any

from civicledger.contracts.cells import Cell, Zone, zone_of
from civicledger.contracts.framework import Contract, EventSpec, method, query
from civicledger.contracts.hazards.records import (
    MAX_REPORTERS,
    MERGE_WINDOW_MS,
    After,
    CategoryName,
    Hazard,
    HazardId,
    HazardStatus,
    Report,
    shares,
)
from civicledger.contracts.shared import (
    CITIZEN_ROLE,
    OPERATOR_ROLE,
    VERIFIER_ROLE,
    PageSize,
    Verification,
    load_service,
    require_role,
)
from civicledger.contracts.storage import Map, Value
from civicledger.core.errors import Conflict, LimitExceeded
from civicledger.core.schema import Address, Hash, Label, Name


class Hazards(Contract):
    name = "hazards"

    departments = Map("department")          # (service, zone) -> org
    hazards = Map("hazard", Hazard)          # (service, hazard id) -> Hazard
    next_id = Value("next_id", 1)
    reports = Map("report", Report)          # (service, hazard id, n) -> Report, n from 0
    reported_by = Map("reported_by")         # (service, hazard id, reporter) -> n
    open_hazards = Map("open")               # (service, cell, category) -> hazard id
    feed = Map("feed")                       # (service, zone, hazard id) -> True while listed
    by_reporter = Map("by_reporter")         # (service, reporter, hazard id) -> n
    awaiting = Map("awaiting")               # (service, department, hazard id) -> True while reported
    work = Map("work")                       # (service, department, hazard id) -> True while
                                             # verified or repairing

    ZoneAssigned = EventSpec("ZoneAssigned", ("service", "zone", "department"))
    Reported = EventSpec(
        "Reported", ("service", "hazard", "reporter", "category", "cell", "photo", "merged"),
        topics=("reporter",),
    )
    StatusChanged = EventSpec(
        "StatusChanged", ("service", "hazard", "department", "status", "reason", "reward"),
    )
    FeedBought = EventSpec("FeedBought", ("service", "buyer", "zone", "hazards", "amount"),
                           topics=("buyer",))

    # -- operator methods --------------------------------------------------------

    @method
    def assign_zone(self, service: Name, zone: Zone, department: Name) -> None:
        """Make ``department`` responsible for the hazards reported in ``zone`` from now on
        (by the service's operator)."""
        record = load_service(self.ctx, service, self.name)
        require_role(self.ctx, OPERATOR_ROLE, record["operator"], "assign zones")
        self.ctx.query("governance", "org", org=department)  # refuses an unknown organisation
        self.departments[service, zone] = department
        self.emit(self.ZoneAssigned, service=service, zone=zone, department=department)

    # -- citizen methods ---------------------------------------------------------

    @method
    def report(self, service: Name, category: CategoryName, cell: Cell, photo: Hash) -> dict[str, Any]:
        """Report a hazard (by a citizen); returns its id, whether the report joined an earlier
        one of the same hazard, and its reporters so far."""
        record = load_service(self.ctx, service, self.name, active=True)
        require_role(self.ctx, CITIZEN_ROLE, None, "report hazards")
        reporter, now = self.ctx.sender, self.ctx.env.time_ms
        hazard_id = self.open_hazards.get((service, cell, category))
        hazard = None if hazard_id is None else self.hazards[service, hazard_id]
        if hazard is not None and now - hazard.reported_ms > MERGE_WINDOW_MS:
            hazard = None  # too old to be the same sighting: a new hazard
        if hazard is None:
            hazard_id = self.next_id
            self.next_id = hazard_id + 1
            department = self.departments.get((service, zone_of(cell)), record["operator"])
            hazard = Hazard(category, cell, department, HazardStatus.REPORTED, now, now, 0, "", 0)
            self.open_hazards[service, cell, category] = hazard_id
            self.awaiting[service, department, hazard_id] = True
            merged = False
        else:
            if (service, hazard_id, reporter) in self.reported_by:
                raise Conflict(f"the signer reported hazard {hazard_id} already",
                               code="duplicate_report")
            if hazard.reporters >= MAX_REPORTERS:
                raise LimitExceeded(f"hazard {hazard_id} has {MAX_REPORTERS} reporters already",
                                    code="enough_reports")
            merged = True
        n = hazard.reporters
        self.reports[service, hazard_id, n] = Report(reporter, photo, now, 0)
        self.reported_by[service, hazard_id, reporter] = n
        self.by_reporter[service, reporter, hazard_id] = n
        self.hazards[service, hazard_id] = hazard.replace(reporters=n + 1, updated_ms=now)
        self.emit(self.Reported, service=service, hazard=hazard_id, reporter=reporter,
                  category=category, cell=cell, photo=photo, merged=merged)
        return {"hazard": hazard_id, "merged": merged, "reporters": n + 1}

    # -- department methods ------------------------------------------------------

    @method
    def verify(self, service: Name, hazard: HazardId) -> int:
        """Confirm a reported hazard (by a verifier of its department) and pay its reporters;
        returns the units paid."""
        record = load_service(self.ctx, service, self.name, active=True)
        stored = self._advance(service, hazard, HazardStatus.REPORTED, "verify")
        paid = 0
        if record["reward"]:
            for n, share in enumerate(shares(record["reward"], stored.reporters)):
                report = self.reports[service, hazard, n]
                got = self.ctx.call("incentives", "reward", service=service,
                                    provider=report.reporter, amount=share) if share else 0
                self.reports[service, hazard, n] = report.replace(reward=got)
                paid += got
        self.feed[service, zone_of(stored.cell), hazard] = True
        del self.awaiting[service, stored.department, hazard]
        self.work[service, stored.department, hazard] = True
        self._store(service, hazard, stored.replace(status=HazardStatus.VERIFIED, reward=paid))
        return paid

    @method
    def reject(self, service: Name, hazard: HazardId, reason: Label) -> None:
        """Reject a reported hazard with a reason (by a verifier of its department)."""
        load_service(self.ctx, service, self.name)
        stored = self._advance(service, hazard, HazardStatus.REPORTED, "reject")
        self._close(service, hazard, stored)
        del self.awaiting[service, stored.department, hazard]
        self._store(service, hazard, stored.replace(status=HazardStatus.REJECTED, reason=reason))

    @method
    def start_repair(self, service: Name, hazard: HazardId) -> None:
        """Mark a verified hazard as under repair (by a verifier of its department)."""
        load_service(self.ctx, service, self.name)
        stored = self._advance(service, hazard, HazardStatus.VERIFIED, "start repairs on")
        self._store(service, hazard, stored.replace(status=HazardStatus.REPAIRING))

    @method
    def resolve(self, service: Name, hazard: HazardId) -> None:
        """Mark a hazard under repair as resolved (by a verifier of its department)."""
        load_service(self.ctx, service, self.name)
        stored = self._advance(service, hazard, HazardStatus.REPAIRING, "resolve")
        self._close(service, hazard, stored)
        del self.feed[service, zone_of(stored.cell), hazard]
        del self.work[service, stored.department, hazard]
        self._store(service, hazard, stored.replace(status=HazardStatus.RESOLVED))

    # -- consumer methods --------------------------------------------------------

    @method
    def buy_feed(self, service: Name, zone: Zone, after: After = 0,
                 limit: PageSize = 50) -> list[dict[str, Any]]:
        """Pay the service fee for one page of the verified and repairing hazards of ``zone``
        (by id, after the id ``after``); returns the page."""
        record = load_service(self.ctx, service, self.name, active=True)
        page = [self.hazards[service, key[2]].describe(key[2])
                for key, _ in self.feed.scan(service, zone, after=(after,), limit=limit)]
        if record["fee"]:
            self.ctx.call("incentives", "collect_fee", service=service, amount=record["fee"])
        self.emit(self.FeedBought, service=service, buyer=self.ctx.sender, zone=zone,
                  hazards=len(page), amount=record["fee"])
        return page

    # -- queries -----------------------------------------------------------------

    @query
    def terms(self) -> dict[str, str]:
        """What the registry's parameters mean for a hazard service."""
        return {"verification": Verification.REQUIRED,
                "reward": "units per verified hazard, shared among its reporters",
                "fee": "units per page of the verified-hazard feed"}

    @query
    def hazard(self, service: Name, hazard: HazardId) -> dict[str, Any]:
        """A hazard's status, department and reporters (account, photo hash, time, reward)."""
        return self._with_reports(service, hazard, self._hazard(service, hazard))

    @query
    def reports_of(self, service: Name, reporter: Address, after: After = 0,
                   limit: PageSize = 50) -> list[dict[str, Any]]:
        """The hazards ``reporter`` reported, by id, after the id ``after``."""
        return [self.hazards[service, key[2]].describe(key[2])
                for key, _ in self.by_reporter.scan(service, reporter, after=(after,), limit=limit)]

    @query
    def queue(self, service: Name, department: Name, after: After = 0,
              limit: PageSize = 50) -> list[dict[str, Any]]:
        """The hazards ``department`` has to verify or reject (reported), oldest first, after the
        id ``after``; each with its reports (reporter, photo hash, time)."""
        return [self._with_reports(service, key[2], self.hazards[service, key[2]])
                for key, _ in self.awaiting.scan(service, department, after=(after,), limit=limit)]

    @query
    def open_work(self, service: Name, department: Name, after: After = 0,
                  limit: PageSize = 50) -> list[dict[str, Any]]:
        """The hazards ``department`` verified and has not resolved yet (verified: repairs to
        start; repairing: to resolve), oldest first, after the id ``after``."""
        return [self.hazards[service, key[2]].describe(key[2])
                for key, _ in self.work.scan(service, department, after=(after,), limit=limit)]

    @query
    def department(self, service: Name, zone: Zone) -> str:
        """The organisation responsible for new hazards in ``zone``."""
        record = load_service(self.ctx, service, self.name)
        return self.departments.get((service, zone), record["operator"])

    # -- helpers -----------------------------------------------------------------

    def _hazard(self, service: str, hazard: int) -> Hazard:
        return self.hazards.require((service, hazard), f"no hazard {hazard} in '{service}'",
                                    code="unknown_hazard")

    def _with_reports(self, service: str, hazard: int, stored: Hazard) -> dict[str, Any]:
        reports = [{"reporter": r.reporter, "photo": r.photo, "reported_ms": r.reported_ms,
                    "reward": r.reward} for _, r in self.reports.scan(service, hazard)]
        return {**stored.describe(hazard), "reports": reports}

    def _advance(self, service: str, hazard: int, expected: HazardStatus, what: str) -> Hazard:
        """The hazard, if the sender is its department's verifier and it is ``expected``."""
        stored = self._hazard(service, hazard)
        require_role(self.ctx, VERIFIER_ROLE, stored.department, f"{what} this hazard")
        if stored.status != expected:
            raise Conflict(f"hazard {hazard} is {stored.status}; only a {expected} hazard can be "
                           "moved this way", code="wrong_status")
        return stored

    def _close(self, service: str, hazard: int, stored: Hazard) -> None:
        """Stop merging new reports into the hazard."""
        key = (service, stored.cell, stored.category)
        if self.open_hazards.get(key) == hazard:
            del self.open_hazards[key]

    def _store(self, service: str, hazard: int, stored: Hazard) -> None:
        stored = stored.replace(updated_ms=self.ctx.env.time_ms)
        self.hazards[service, hazard] = stored
        self.emit(self.StatusChanged, service=service, hazard=hazard, department=stored.department,
                  status=stored.status, reason=stored.reason, reward=stored.reward)
