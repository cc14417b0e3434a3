"""Volunteering: requests, a reverse auction, verified work that mints district coins.

The flow, as the third source paper describes it:

1. A district admin registers the district with its coin and the most it pays
   an hour (``register_district``; Nowon: NW, 700), and the organisations that
   post needs there (``register_org``). The coin's issuer must be the district's
   org, and the district admin must have granted ``issuer`` in that org to this
   contract's account: minting goes through ``token.mint`` as this contract.
2. A ``manager`` of an organisation (a governance role in the organisation's own
   org) posts a request: task, coarse place, time window, slots, skills, the
   most credits it offers per hour, and an application deadline.
3. Volunteers apply with the credits per hour they ask (at most the offer),
   their skills and availability. At the deadline anyone may run ``select``;
   a manager may ``close_early``. Selection is the pure function of
   ``selection.py``; every applicant's score, rank and reason are stored and
   announced. A manager may ``cancel`` before work starts; applicants are told.
4. Check-in and check-out are co-signed by the volunteer and a manager. A
   manager then confirms the minutes and rates the volunteer (1–5, tags); only
   then are credits minted: ``rate × minutes ÷ 60`` of the district's coin, to
   the volunteer, at the volunteer's own ask (not the posted offer), within the
   coin's validity. Minutes whose pay would pass the volunteer's cap are
   verified but not paid: the certificate records them as uncredited, and the
   ``payout`` query tells both sides beforehand. A rejected volunteer may
   contest; an admin of the district decides.
5. Each verified activity yields a certificate whose digest anyone can check.
6. Volunteers spend credits at merchants (accounts holding ``merchant`` in the
   district's org), donate them to anyone, or exchange them at governed rates;
   each goes through the token contract (``pay`` to this contract, then
   ``transfer`` out), so units and their expiries move as token moves them,
   and each is counted in the district's report.

Spending, donating and exchanging act for the transaction's signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from civicledger.contracts.framework import Contract, EventSpec, method, query
from civicledger.contracts.storage import Map, Value
from civicledger.contracts.volunteering import recommendation, selection
from civicledger.contracts.volunteering.records import (
    CHECK_IN_EARLY_MS,
    ISSUER_ROLE,
    MANAGER_ROLE,
    MAX_APPLICANTS,
    MAX_POSTING_MS,
    MAX_PROFILE_ITEMS,
    MAX_RECOMMEND_SCAN,
    MAX_RECOMMENDATIONS,
    MAX_WINDOW_MS,
    MERCHANT_ROLE,
    MINUTE_MS,
    Activity,
    ActivityStatus,
    After,
    Application,
    ApplicationStatus,
    Certificate,
    ContestWord,
    Credits,
    District,
    Districts,
    DistrictStats,
    Limit,
    Minutes,
    OrgStats,
    Place,
    Preferences,
    Profile,
    Rating,
    RejectWord,
    Request,
    RequestId,
    RequestStatus,
    Skills,
    Slots,
    Tags,
)
from civicledger.core import address as addresses
from civicledger.core import encoding
from civicledger.core.crypto import digest as tagged_hash
from civicledger.core.errors import (
    Conflict,
    LimitExceeded,
    NotFound,
    Rejection,
    Unauthorized,
    UnknownCall,
)
from civicledger.core.schema import Address, Amount, Bool, Hash, Int, Label, Memo, Name, Symbol, Timestamp

CERTIFICATE_TAG = b"civicledger/volunteer-certificate"
GENESIS_KEYS = ("districts", "organisations")
WorkMinutes = Annotated[int, Int(1, MAX_WINDOW_MS // MINUTE_MS)]
CertificateId = Annotated[int, Int(1, 2**63 - 1)]
RecommendLimit = Annotated[int, Int(1, MAX_RECOMMENDATIONS)]


def certificate_digest(certificate: Certificate) -> bytes:
    """What a copy of the certificate must hash to: its canonical encoding, domain-separated."""
    return tagged_hash(CERTIFICATE_TAG, encoding.encode(certificate.to_value()))


class Volunteering(Contract):
    name = "volunteering"

    districts = Map("district", District)           # district org -> District
    coin_districts = Map("coin")                    # currency symbol -> district org
    organisations = Map("org")                      # org -> district org it posts in
    requests = Map("request", Request)              # request id -> Request
    next_request = Value("next_request", 1)
    open_requests = Map("open")                     # request id -> district, while OPEN
    district_requests = Map("by_district")          # (district, request id) -> True
    applications = Map("application", Application)  # (request id, volunteer) -> Application
    applicants = Map("applicant")                   # (request id, seq) -> volunteer
    volunteer_applications = Map("my_application")  # (volunteer, request id) -> True
    activities = Map("activity", Activity)          # (request id, volunteer) -> Activity
    volunteer_activities = Map("my_activity")       # (volunteer, request id) -> True
    certificates = Map("certificate", Certificate)  # certificate id -> Certificate
    next_certificate = Value("next_certificate", 1)
    volunteer_certificates = Map("my_certificate")  # (volunteer, certificate id) -> True
    profiles = Map("profile", Profile)              # volunteer -> Profile
    skill_counts = Map("skill")                     # (volunteer, skill) -> verified activities
    tag_counts = Map("tag")                         # (volunteer, tag) -> times given
    district_minutes = Map("district_minutes")      # (volunteer, district) -> verified minutes
    preferences = Map("preferences", Preferences)   # volunteer -> Preferences
    district_stats = Map("district_stats", DistrictStats)  # district -> DistrictStats
    org_stats = Map("org_stats", OrgStats)          # org -> OrgStats

    DistrictRegistered = EventSpec("DistrictRegistered", ("district", "currency", "max_hourly"))
    OrgRegistered = EventSpec("OrgRegistered", ("org", "district"))
    RequestPosted = EventSpec(
        "RequestPosted",
        ("request", "org", "district", "slots", "offer_per_hour", "deadline_ms", "manager"),
        topics=("manager",),
    )
    Applied = EventSpec("Applied", ("request", "volunteer", "ask_per_hour", "seq"),
                        topics=("volunteer",))
    Ranked = EventSpec("Ranked", ("request", "volunteer", "selected", "rank", "score", "reason"),
                       topics=("volunteer",))
    Closed = EventSpec("Closed", ("request", "status", "selected", "early"))
    Cancelled = EventSpec("Cancelled", ("request", "volunteer"), topics=("volunteer",))
    CheckedIn = EventSpec("CheckedIn", ("request", "volunteer", "manager"),
                          topics=("volunteer", "manager"))
    CheckedOut = EventSpec("CheckedOut", ("request", "volunteer", "manager", "worked_minutes"),
                           topics=("volunteer", "manager"))
    Verified = EventSpec(
        "Verified",
        ("request", "volunteer", "minutes", "credits", "currency", "rating", "certificate",
         "digest", "uncredited_minutes"),
        topics=("volunteer",),
    )
    Rejected = EventSpec("Rejected", ("request", "volunteer", "manager", "reason"),
                         topics=("volunteer", "manager"))
    Contested = EventSpec("Contested", ("request", "volunteer", "reason"), topics=("volunteer",))
    Resolved = EventSpec("Resolved", ("request", "volunteer", "in_favour", "admin"),
                         topics=("volunteer",))
    Spent = EventSpec("Spent", ("district", "volunteer", "merchant", "currency", "amount"),
                      topics=("volunteer", "merchant"))
    Donated = EventSpec("Donated", ("district", "donor", "recipient", "currency", "amount"),
                        topics=("donor", "recipient"))
    Exchanged = EventSpec(
        "Exchanged", ("volunteer", "from_currency", "to_currency", "amount_in", "amount_out"),
        topics=("volunteer",),
    )
    PreferencesSet = EventSpec("PreferencesSet", ("volunteer",), topics=("volunteer",))

    # -- genesis -----------------------------------------------------------------

    def genesis(self, config: Mapping[str, Any]) -> None:
        """Register districts, then organisations, as their methods would (without the admin check).

        Governance and token must be registered before volunteering.
        """
        unknown = sorted(set(config) - set(GENESIS_KEYS))
        if unknown:
            raise UnknownCall(f"genesis volunteering.{unknown[0]}: unknown key; expected "
                              f"{', '.join(GENESIS_KEYS)}", code="invalid_genesis")
        for key, handler, register in (("districts", "register_district", self._register_district),
                                       ("organisations", "register_org", self._register_org)):
            for i, entry in enumerate(config.get(key, ())):
                try:
                    args = self.methods[handler].check_args(entry)
                except UnknownCall as error:
                    raise UnknownCall(f"genesis volunteering.{key}[{i}]: {error.message}",
                                      code="invalid_genesis") from None
                register(**args)

    # -- district admin methods --------------------------------------------------

    @method
    def register_district(self, district: Name, currency: Symbol, max_hourly: Credits) -> None:
        """Take part in volunteering with the district's coin, paying at most ``max_hourly`` of it
        for an hour (by an admin of the district's org). The coin's issuer must be the district's
        org, and this contract's account must hold ``issuer`` there, since it mints the credits."""
        self._require_admin(district)
        self._register_district(district, currency, max_hourly)

    @method
    def register_org(self, org: Name, district: Name) -> None:
        """Let the member organisation ``org`` post volunteer requests paid in ``district``'s coin
        (by an admin of the district's org)."""
        self._require_admin(district)
        self._register_org(org, district)

    # -- organisation methods ----------------------------------------------------

    @method
    def post_request(
        self,
        org: Name,
        task: Label,
        place: Place,
        start_ms: Timestamp,
        end_ms: Timestamp,
        slots: Slots,
        skills: Skills,
        offer_per_hour: Credits,
        deadline_ms: Timestamp,
    ) -> int:
        """Post a need (by a manager of ``org``): ``slots`` volunteers for ``task`` at ``place``
        from ``start_ms`` to ``end_ms``, paid at most ``offer_per_hour`` credits an hour;
        applications close at ``deadline_ms``. Returns the request id."""
        district_id = self._org_district(org)
        self._require_manager(org, self.ctx.sender)
        now = self.ctx.env.time_ms
        if not now < deadline_ms <= start_ms < end_ms:
            raise Rejection("times must satisfy now < deadline ≤ start < end", code="bad_window")
        if end_ms - start_ms > MAX_WINDOW_MS or end_ms - start_ms < MINUTE_MS:
            raise Rejection("a request's window lasts from a minute to 12 hours", code="bad_window")
        if start_ms > now + MAX_POSTING_MS:
            raise Rejection("a request starts within 180 days of now", code="bad_window")
        district = self._district(district_id)
        if offer_per_hour > district.max_hourly:
            raise LimitExceeded(
                f"{district_id} pays at most {district.max_hourly} {district.currency} an hour",
                code="over_district_rate",
            )
        request_id = self.next_request
        self.next_request = request_id + 1
        self.requests[request_id] = Request(org, district_id, task, place, start_ms, end_ms, slots,
                                            skills, offer_per_hour, deadline_ms, self.ctx.sender)
        self.open_requests[request_id] = district_id
        self.district_requests[district_id, request_id] = True
        self._count_district(district_id, requests=1)
        self._count_org(org, requests=1)
        self.emit(self.RequestPosted, request=request_id, org=org, district=district_id,
                  slots=slots, offer_per_hour=offer_per_hour, deadline_ms=deadline_ms,
                  manager=self.ctx.sender)
        return request_id

    @method
    def close_early(self, request: RequestId) -> str:
        """Close applications now and run the selection (by a manager of the organisation)."""
        record = self._open_request(request)
        self._require_manager(record.org, self.ctx.sender)
        return self._select(request, record, early=self.ctx.env.time_ms < record.deadline_ms)

    @method
    def cancel(self, request: RequestId) -> None:
        """Cancel a request before any selected volunteer has checked in (by a manager of the
        organisation); every applicant gets a ``Cancelled`` event."""
        record = self._request(request)
        self._require_manager(record.org, self.ctx.sender)
        if record.status not in (RequestStatus.OPEN, RequestStatus.FILLED):
            raise Conflict(f"request {request} is {record.status}", code="request_closed")
        for volunteer in self._applicants(request):
            activity = self.activities.get((request, volunteer))
            if activity is not None and activity.status != ActivityStatus.ASSIGNED:
                raise Conflict(f"work on request {request} has started", code="work_started")
        for volunteer in self._applicants(request):
            application = self.applications[request, volunteer]
            if application.status in (ApplicationStatus.APPLIED, ApplicationStatus.SELECTED):
                self.applications[request, volunteer] = application.replace(
                    status=ApplicationStatus.CANCELLED)
            activity = self.activities.get((request, volunteer))
            if activity is not None:
                self.activities[request, volunteer] = activity.replace(
                    status=ActivityStatus.CANCELLED)
            self.emit(self.Cancelled, request=request, volunteer=volunteer)
        if record.status == RequestStatus.OPEN:
            del self.open_requests[request]
        self.requests[request] = record.replace(status=RequestStatus.CANCELLED)
        self._count_org(record.org, cancelled=1)
        self.emit(self.Closed, request=request, status=RequestStatus.CANCELLED,
                  selected=record.selected, early=False)

    # -- volunteer methods -------------------------------------------------------

    @method
    def apply(
        self,
        request: RequestId,
        ask_per_hour: Credits,
        skills: Skills,
        available_from_ms: Timestamp,
        available_until_ms: Timestamp,
    ) -> int:
        """Apply for a request as the signer, asking ``ask_per_hour`` credits (at most the offer),
        with one's skills and the time one is available. Returns the application's number."""
        record = self._open_request(request)
        volunteer = self.ctx.sender
        if self.ctx.env.time_ms >= record.deadline_ms:
            raise Conflict(f"applications for request {request} closed at {record.deadline_ms}",
                           code="deadline_passed")
        if (request, volunteer) in self.applications:
            raise Conflict(f"the volunteer has applied for request {request} already",
                           code="already_applied")
        if ask_per_hour > record.offer_per_hour:
            raise LimitExceeded(f"the ask {ask_per_hour} is above the offer of "
                                f"{record.offer_per_hour} an hour", code="ask_above_offer")
        if min(available_until_ms, record.end_ms) <= max(available_from_ms, record.start_ms):
            raise Rejection("the availability does not overlap the request's window",
                            code="not_available")
        if record.applicants >= MAX_APPLICANTS:
            raise LimitExceeded(f"request {request} has {MAX_APPLICANTS} applicants already",
                                code="too_many_applicants")
        seq = record.applicants + 1
        self.applications[request, volunteer] = Application(
            seq, ask_per_hour, skills, available_from_ms, available_until_ms)
        self.applicants[request, seq] = volunteer
        self.volunteer_applications[volunteer, request] = True
        self.requests[request] = record.replace(applicants=seq)
        self.emit(self.Applied, request=request, volunteer=volunteer, ask_per_hour=ask_per_hour,
                  seq=seq)
        return seq

    @method
    def select(self, request: RequestId) -> str:
        """Run the selection once the application deadline has passed (anyone may).
        Returns the request's new status."""
        record = self._open_request(request)
        if self.ctx.env.time_ms < record.deadline_ms:
            raise Conflict(f"applications for request {request} close at {record.deadline_ms}",
                           code="deadline_not_passed")
        return self._select(request, record, early=False)

    @method
    def check_in(self, request: RequestId, volunteer: Address, manager: Address) -> None:
        """Record the volunteer's arrival, co-signed by the volunteer and a manager of the
        organisation (from 30 minutes before the window until its end)."""
        record, activity = self._activity(request, volunteer)
        self._require_cosigned(record, volunteer, manager)
        self._expect(activity, ActivityStatus.ASSIGNED, "not_assigned")
        now = self.ctx.env.time_ms
        if now < record.start_ms - CHECK_IN_EARLY_MS:
            raise Conflict("check-in opens 30 minutes before the window", code="too_early")
        if now > record.end_ms:
            raise Conflict(f"request {request}'s window is over", code="window_over")
        self.activities[request, volunteer] = activity.replace(
            status=ActivityStatus.CHECKED_IN, check_in_ms=now, manager=manager)
        self.emit(self.CheckedIn, request=request, volunteer=volunteer, manager=manager)

    @method
    def check_out(self, request: RequestId, volunteer: Address, manager: Address) -> None:
        """Record the volunteer's departure, co-signed by the volunteer and a manager."""
        record, activity = self._activity(request, volunteer)
        self._require_cosigned(record, volunteer, manager)
        self._expect(activity, ActivityStatus.CHECKED_IN, "not_checked_in")
        activity = activity.replace(status=ActivityStatus.CHECKED_OUT,
                                    check_out_ms=self.ctx.env.time_ms, manager=manager)
        self.activities[request, volunteer] = activity
        self.emit(self.CheckedOut, request=request, volunteer=volunteer, manager=manager,
                  worked_minutes=activity.worked_minutes)

    @method
    def confirm(self, request: RequestId, volunteer: Address, minutes: WorkMinutes, rating: Rating,
                tags: Tags = ()) -> int:
        """Confirm ``minutes`` of work (at most those between check-in and check-out) and rate
        the volunteer 1–5 with up to three tags (by a manager of the organisation); mints
        ``rate × minutes ÷ 60`` of the district's coin to the volunteer, up to the cap (see
        ``payout``), and issues a certificate. Returns the certificate id."""
        record, activity = self._activity(request, volunteer)
        self._require_manager(record.org, self.ctx.sender)
        self._require_other(volunteer, self.ctx.sender)
        self._expect(activity, ActivityStatus.CHECKED_OUT, "not_checked_out")
        most = self._most_minutes(record, activity)
        if minutes > most:
            raise LimitExceeded(f"at most {most} minutes can be confirmed", code="too_many_minutes")
        return self._verify(request, record, volunteer, activity, minutes, rating, tags,
                            activity.check_in_ms)

    @method
    def reject(self, request: RequestId, volunteer: Address, reason: RejectWord) -> None:
        """Refuse to verify the volunteer's work, with a reason word (by a manager of the
        organisation); a no-show can be rejected once the window is over."""
        record, activity = self._activity(request, volunteer)
        self._require_manager(record.org, self.ctx.sender)
        rejectable = (ActivityStatus.ASSIGNED, ActivityStatus.CHECKED_IN, ActivityStatus.CHECKED_OUT)
        if activity.status not in rejectable:
            raise Conflict(f"the activity is {activity.status}", code="cannot_reject")
        if activity.status == ActivityStatus.ASSIGNED and self.ctx.env.time_ms <= record.end_ms:
            raise Conflict("a no-show is known only after the window", code="window_not_over")
        self.activities[request, volunteer] = activity.replace(
            status=ActivityStatus.REJECTED, manager=self.ctx.sender, note=reason)
        self.emit(self.Rejected, request=request, volunteer=volunteer, manager=self.ctx.sender,
                  reason=reason)

    @method
    def contest(self, request: RequestId, reason: ContestWord) -> None:
        """Contest the rejection of one's own work, with a reason word (by the volunteer)."""
        volunteer = self.ctx.sender
        _, activity = self._activity(request, volunteer)
        self._expect(activity, ActivityStatus.REJECTED, "not_rejected")
        self.activities[request, volunteer] = activity.replace(status=ActivityStatus.DISPUTED,
                                                               note=reason)
        self.emit(self.Contested, request=request, volunteer=volunteer, reason=reason)

    @method
    def resolve(self, request: RequestId, volunteer: Address, in_favour: Annotated[bool, Bool()],
                minutes: Minutes = 0) -> int:
        """Decide a contested rejection (by an admin of the request's district). In the
        volunteer's favour, ``minutes`` (at least 1, at most the worked minutes or, without a
        check-out, the window) are verified and paid without a rating; returns the certificate
        id, or 0 when the rejection is upheld."""
        record, activity = self._activity(request, volunteer)
        self._require_admin(record.district)
        self._expect(activity, ActivityStatus.DISPUTED, "not_disputed")
        self.emit(self.Resolved, request=request, volunteer=volunteer, in_favour=in_favour,
                  admin=self.ctx.sender)
        if not in_favour:
            self.activities[request, volunteer] = activity.replace(status=ActivityStatus.DISMISSED)
            return 0
        most = self._most_minutes(record, activity)
        if not 1 <= minutes <= most:
            raise LimitExceeded(f"between 1 and {most} minutes can be verified",
                                code="too_many_minutes")
        return self._verify(request, record, volunteer, activity, minutes, 0, (),
                            activity.check_in_ms or record.start_ms)

    @method
    def set_preferences(self, districts: Districts, skills: Skills) -> None:
        """State the districts and skills one prefers, for recommendations (by the volunteer)."""
        for district in districts:
            self._district(district)
        self.preferences[self.ctx.sender] = Preferences(districts, skills)
        self.emit(self.PreferencesSet, volunteer=self.ctx.sender)

    # -- using credits -----------------------------------------------------------

    @method
    def spend(self, district: Name, merchant: Address, amount: Amount, memo: Memo = "") -> None:
        """Pay ``amount`` of the district's coin to a merchant registered in that district (an
        account holding ``merchant`` in the district's org), oldest credits first."""
        record = self._district(district)
        payer = self.ctx.origin
        if not self.ctx.has_role(merchant, MERCHANT_ROLE, district):
            raise Unauthorized(f"{addresses.to_text(merchant)} is not a merchant registered in "
                               f"{district}", code="not_merchant")
        if merchant == payer:
            raise Conflict("a merchant cannot pay itself", code="self_payment")
        self._move(record.currency, payer, merchant, amount, memo)
        self._count_district(district, spent=amount)
        self.emit(self.Spent, district=district, volunteer=payer, merchant=merchant,
                  currency=record.currency, amount=amount)

    @method
    def donate(self, currency: Symbol, to: Address, amount: Amount, memo: Memo = "") -> None:
        """Give ``amount`` of a district coin to another person or an organisation's account,
        like a blood-donation certificate; the recipient's cap applies."""
        district = self._coin_district(currency)
        donor = self.ctx.origin
        if to == donor:
            raise Conflict("a donation needs a recipient other than the donor", code="self_donation")
        self._move(currency, donor, to, amount, memo)
        self._count_district(district, donated=amount)
        self.emit(self.Donated, district=district, donor=donor, recipient=to, currency=currency,
                  amount=amount)

    @method
    def exchange(self, from_currency: Symbol, to_currency: Symbol, amount: Amount) -> int:
        """Exchange ``amount`` of a district coin for another district's coin at the rate
        governance set; returns the amount received. The credits received expire no later
        than those given (token's rule), so a never-expiring currency is refused."""
        district = self._coin_district(from_currency)
        self.ctx.query("token", "rate", from_currency=from_currency, to_currency=to_currency)
        volunteer = self.ctx.origin
        self.ctx.call("token", "pay", currency=from_currency, amount=amount)
        received = self.ctx.call("token", "exchange", from_currency=from_currency,
                                 to_currency=to_currency, amount=amount)
        self.ctx.call("token", "transfer", currency=to_currency, to=volunteer, amount=received,
                      memo="exchange")
        self._count_district(district, exchanged_out=amount)
        target = self.coin_districts.get(to_currency)
        if target is not None:
            self._count_district(target, exchanged_in=received)
        self.emit(self.Exchanged, volunteer=volunteer, from_currency=from_currency,
                  to_currency=to_currency, amount_in=amount, amount_out=received)
        return received

    # -- queries -----------------------------------------------------------------

    @query
    def district(self, district: Name) -> dict[str, Any]:
        """A district's coin and the most it pays an hour."""
        record = self._district(district)
        return {"district": district, "currency": record.currency, "max_hourly": record.max_hourly}

    @query
    def districts_list(self, limit: Limit = 20) -> list[dict[str, Any]]:
        """The districts taking part in volunteering, by id, with their coins."""
        return [{"district": key[0], "currency": record.currency, "max_hourly": record.max_hourly}
                for key, record in self.districts.scan(limit=limit)]

    @query
    def organisation(self, org: Name) -> dict[str, Any]:
        """The district an organisation posts in."""
        return {"org": org, "district": self._org_district(org)}

    @query
    def request(self, request: RequestId) -> dict[str, Any]:
        """A request with its status, applicant count and selected count."""
        return self._describe_request(request, self._request(request))

    @query
    def requests_in(self, district: Name, after: After = 0, limit: Limit = 20) -> list[dict[str, Any]]:
        """A district's requests by id, from the one after ``after``."""
        return [self._describe_request(request_id, self.requests[request_id])
                for (_, request_id), _ in self.district_requests.scan(district, after=(after,),
                                                                       limit=limit)]

    @query
    def application(self, request: RequestId, volunteer: Address) -> dict[str, Any]:
        """A volunteer's application: ask, status and, after selection, score, rank and reason."""
        record = self.applications.require(
            (request, volunteer),
            f"no application of {addresses.to_text(volunteer)} for request {request}",
            code="unknown_application")
        return self._describe_application(request, volunteer, record)

    @query
    def applications_for(self, request: RequestId, after: After = 0,
                         limit: Limit = 50) -> list[dict[str, Any]]:
        """A request's applications in the order they came, from the one after number ``after``."""
        self._request(request)
        return [self._describe_application(request, volunteer, self.applications[request, volunteer])
                for _, volunteer in self.applicants.scan(request, after=(after,), limit=limit)]

    @query
    def applications_of(self, volunteer: Address, after: After = 0,
                        limit: Limit = 20) -> list[dict[str, Any]]:
        """A volunteer's applications by request id, from the one after ``after``."""
        return [self._describe_application(request_id, volunteer,
                                           self.applications[request_id, volunteer])
                for (_, request_id), _ in self.volunteer_applications.scan(
                    volunteer, after=(after,), limit=limit)]

    @query
    def activity(self, request: RequestId, volunteer: Address) -> dict[str, Any]:
        """A selected volunteer's work on a request: status, times, minutes, rating, credits."""
        _, record = self._activity(request, volunteer)
        return self._describe_activity(request, volunteer, record)

    @query
    def activities_of(self, volunteer: Address, after: After = 0,
                      limit: Limit = 20) -> list[dict[str, Any]]:
        """A volunteer's activities by request id, from the one after ``after``."""
        return [self._describe_activity(request_id, volunteer, self.activities[request_id, volunteer])
                for (_, request_id), _ in self.volunteer_activities.scan(volunteer, after=(after,),
                                                                         limit=limit)]

    @query
    def payout(self, request: RequestId, volunteer: Address, minutes: Minutes = 0) -> dict[str, Any]:
        """What verifying ``minutes`` (0: the most that can be verified) of a checked-out or
        contested activity would pay now: ``most_minutes``, the agreed ``rate_per_hour`` (the
        volunteer's ask), ``credits`` for the ``credited_minutes``, the ``uncredited_minutes``
        whose pay would pass the cap, and the ``cap`` and ``room`` left under it (None: no
        cap). Credits are paid for whole minutes."""
        record, activity = self._activity(request, volunteer)
        if activity.status not in (ActivityStatus.CHECKED_OUT, ActivityStatus.DISPUTED):
            raise Conflict(f"the activity is {activity.status}, not checked out or contested",
                           code="not_checked_out")
        most = self._most_minutes(record, activity)
        minutes = minutes or most
        if minutes > most:
            raise LimitExceeded(f"at most {most} minutes can be verified", code="too_many_minutes")
        district = self._district(record.district)
        coin = self.ctx.query("token", "currency", symbol=district.currency)
        credited, credits = self._payable(district.currency, volunteer, activity.rate_per_hour,
                                          minutes)
        return {"request": request, "volunteer": volunteer, "most_minutes": most,
                "minutes": minutes, "rate_per_hour": activity.rate_per_hour,
                "credited_minutes": credited, "uncredited_minutes": minutes - credited,
                "credits": credits, "currency": district.currency, "cap": coin["cap"],
                "room": self.ctx.query("token", "room", currency=district.currency,
                                       account=volunteer)}

    @query
    def certificate(self, certificate: CertificateId) -> dict[str, Any]:
        """A volunteering certificate: who, what, where, minutes, organisation, date, and the
        digest a copy must hash to."""
        record = self._certificate(certificate)
        return record.describe(certificate, certificate_digest(record))

    @query
    def verify_certificate(self, certificate: CertificateId, digest: Hash) -> bool:
        """Whether ``digest`` is that of the certificate the chain holds under this id."""
        record = self.certificates.get(certificate)
        return record is not None and certificate_digest(record) == digest

    @query
    def certificates_of(self, volunteer: Address, after: After = 0,
                        limit: Limit = 20) -> list[dict[str, Any]]:
        """A volunteer's certificates by id, from the one after ``after``."""
        out = []
        for (_, number), _ in self.volunteer_certificates.scan(volunteer, after=(after,), limit=limit):
            record = self.certificates[number]
            out.append(record.describe(number, certificate_digest(record)))
        return out

    @query
    def profile(self, volunteer: Address) -> dict[str, Any]:
        """A volunteer's verified minutes, activities, average rating (in hundredths), tags,
        skills and districts, and stated preferences."""
        record = self.profiles.get(volunteer) or Profile()
        prefs = self.preferences.get(volunteer) or Preferences()
        return {
            "volunteer": volunteer,
            "minutes": record.minutes,
            "hours": record.minutes // 60,
            "activities": record.activities,
            "rating_centi": selection.average_rating_centi(record.rating_sum, record.rating_count)
            if record.rating_count else None,
            "ratings": record.rating_count,
            "credits_earned": record.credits,
            "tags": self._counts(self.tag_counts, volunteer),
            "skills": self._counts(self.skill_counts, volunteer),
            "districts": self._counts(self.district_minutes, volunteer),
            "preferred_districts": list(prefs.districts),
            "preferred_skills": list(prefs.skills),
        }

    @query
    def recommend(self, volunteer: Address, limit: RecommendLimit = 10) -> list[dict[str, Any]]:
        """Open requests the volunteer has not applied for, ranked by preferences and history,
        each with an integer score and its reasons (see ``recommendation.py``). Looks at the
        500 oldest open requests."""
        prefs = self.preferences.get(volunteer) or Preferences()
        seeker = recommendation.Seeker(
            prefs.districts, prefs.skills,
            tuple(self._counts(self.skill_counts, volunteer)),
            self._counts(self.district_minutes, volunteer),
        )
        now = self.ctx.env.time_ms
        openings = []
        for (request_id,), district_id in self.open_requests.scan(limit=MAX_RECOMMEND_SCAN):
            record = self.requests[request_id]
            if record.deadline_ms <= now or (request_id, volunteer) in self.applications:
                continue
            openings.append(recommendation.Opening(
                request_id, district_id, record.task, record.skills, record.offer_per_hour,
                self._district(district_id).max_hourly, record.slots, record.applicants,
                record.deadline_ms))
        return recommendation.recommend(seeker, openings, limit)

    @query
    def district_report(self, district: Name) -> dict[str, Any]:
        """A district's totals: requests, verified activities and minutes, credits minted, spent
        at merchants, donated, exchanged out and in, and ``outstanding`` — the coin's supply
        (every unit in existence, expired but unswept ones included)."""
        record = self._district(district)
        stats = self.district_stats.get(district) or DistrictStats()
        outstanding = self.ctx.query("token", "supply", currency=record.currency)
        return {"district": district, "currency": record.currency, "hours": stats.minutes // 60,
                **self._fields(stats), "outstanding": outstanding}

    @query
    def org_report(self, org: Name) -> dict[str, Any]:
        """An organisation's requests posted, filled, partly filled, unfilled and cancelled,
        volunteers selected, activities verified and minutes volunteered."""
        district = self._org_district(org)
        stats = self.org_stats.get(org) or OrgStats()
        return {"org": org, "district": district, **self._fields(stats)}

    # -- helpers: lookups and permissions ----------------------------------------

    def _district(self, district: str) -> District:
        return self.districts.require(district, f"{district} does not take part in volunteering",
                                      code="unknown_district")

    def _coin_district(self, currency: str) -> str:
        return self.coin_districts.require(currency, f"{currency} is not a district's volunteer coin",
                                           code="not_district_coin")

    def _org_district(self, org: str) -> str:
        return self.organisations.require(org, f"'{org}' is not registered for volunteering",
                                          code="unknown_org")

    def _request(self, request: int) -> Request:
        return self.requests.require(request, f"no request {request}", code="unknown_request")

    def _open_request(self, request: int) -> Request:
        record = self._request(request)
        if record.status != RequestStatus.OPEN:
            raise Conflict(f"request {request} is {record.status}", code="request_closed")
        return record

    def _activity(self, request: int, volunteer: bytes) -> tuple[Request, Activity]:
        record = self._request(request)
        activity = self.activities.require(
            (request, volunteer),
            f"{addresses.to_text(volunteer)} was not selected for request {request}",
            code="not_assigned")
        return record, activity

    def _certificate(self, number: int) -> Certificate:
        return self.certificates.require(number, f"no certificate {number}", code="unknown_certificate")

    @staticmethod
    def _expect(activity: Activity, status: ActivityStatus, code: str) -> None:
        if activity.status != status:
            raise Conflict(f"the activity is {activity.status}, not {status}", code=code)

    def _governance_org(self, org: str) -> dict[str, Any]:
        try:
            record = self.ctx.query("governance", "org", org=org)
        except NotFound:
            record = None
        if record is None or not record["active"]:
            raise NotFound(f"no active organisation '{org}'", code="unknown_org")
        return record

    def _require_admin(self, district: str) -> None:
        if self.ctx.sender not in self._governance_org(district)["admins"]:
            raise Unauthorized(f"only an admin of '{district}' may do this", code="not_admin")

    def _require_manager(self, org: str, account: bytes) -> None:
        if not self.ctx.has_role(account, MANAGER_ROLE, org):
            raise Unauthorized(f"only a {MANAGER_ROLE} of '{org}' may do this", code="not_manager")

    def _require_cosigned(self, record: Request, volunteer: bytes, manager: bytes) -> None:
        self._require_other(volunteer, manager)
        self.ctx.require_signed_by(volunteer, "volunteer")
        self.ctx.require_signed_by(manager, f"{MANAGER_ROLE} of '{record.org}'")
        self._require_manager(record.org, manager)

    @staticmethod
    def _require_other(volunteer: bytes, manager: bytes) -> None:
        if volunteer == manager:
            raise Unauthorized("a manager cannot verify their own volunteering",
                               code="self_verification")

    def _applicants(self, request: int) -> list[bytes]:
        return [volunteer for _, volunteer in self.applicants.scan(request)]

    # -- helpers: state changes --------------------------------------------------

    def _register_district(self, district: str, currency: str, max_hourly: int) -> None:
        if district in self.districts:
            raise Conflict(f"{district} takes part already", code="district_exists")
        self._governance_org(district)
        coin = self.ctx.query("token", "currency", symbol=currency)
        if coin["issuer"] != district:
            raise Conflict(f"{currency} is issued by '{coin['issuer']}', not '{district}'",
                           code="wrong_issuer")
        if currency in self.coin_districts:
            raise Conflict(f"{currency} is {self.coin_districts[currency]}'s coin already",
                           code="currency_taken")
        if not self.ctx.has_role(self.account, ISSUER_ROLE, district):
            raise Unauthorized(
                f"grant '{ISSUER_ROLE}' in '{district}' to the volunteering contract's account "
                f"{addresses.to_text(self.account)} first", code="not_issuer")
        self.districts[district] = District(currency, max_hourly)
        self.coin_districts[currency] = district
        self.emit(self.DistrictRegistered, district=district, currency=currency,
                  max_hourly=max_hourly)

    def _register_org(self, org: str, district: str) -> None:
        self._district(district)
        self._governance_org(org)
        if org in self.organisations:
            raise Conflict(f"'{org}' posts in {self.organisations[org]} already",
                           code="org_registered")
        self.organisations[org] = district
        self.emit(self.OrgRegistered, org=org, district=district)

    def _select(self, request: int, record: Request, *, early: bool) -> str:
        terms = selection.Terms(record.slots, record.offer_per_hour, record.skills, record.start_ms,
                                record.end_ms)
        outcomes = selection.select(terms, self.bids(request))
        chosen = 0
        for outcome in outcomes:
            volunteer = outcome.volunteer
            application = self.applications[request, volunteer]
            status = ApplicationStatus.SELECTED if outcome.selected else ApplicationStatus.NOT_SELECTED
            self.applications[request, volunteer] = application.replace(
                status=status, score=outcome.score, rank=outcome.rank, reason=outcome.reason)
            if outcome.selected:
                chosen += 1
                self.activities[request, volunteer] = Activity(application.ask_per_hour)
                self.volunteer_activities[volunteer, request] = True
            self.emit(self.Ranked, request=request, volunteer=volunteer, selected=outcome.selected,
                      rank=outcome.rank, score=outcome.score, reason=outcome.reason)
        status = RequestStatus.FILLED if chosen else RequestStatus.UNFILLED
        self.requests[request] = record.replace(status=status, selected=chosen)
        del self.open_requests[request]
        filled = "filled" if chosen == record.slots else "partly_filled" if chosen else "unfilled"
        self._count_org(record.org, volunteers_selected=chosen, **{filled: 1})
        self.emit(self.Closed, request=request, status=status, selected=chosen, early=early)
        return status

    def bids(self, request: int) -> list[selection.Bid]:
        """The request's applications as the selection sees them, in application order."""
        bids = []
        for (_, seq), volunteer in self.applicants.scan(request):
            application = self.applications[request, volunteer]
            profile = self.profiles.get(volunteer) or Profile()
            bids.append(selection.Bid(
                volunteer, seq, application.ask_per_hour, application.skills,
                application.available_from_ms, application.available_until_ms,
                profile.rating_sum, profile.rating_count))
        return bids

    @staticmethod
    def _most_minutes(record: Request, activity: Activity) -> int:
        """The most minutes that can be verified: those worked (or, with no check-out, the
        window's), never more than the window's."""
        worked = activity.worked_minutes if activity.check_out_ms else record.window_minutes
        return min(worked, record.window_minutes)

    def _payable(self, currency: str, volunteer: bytes, rate_per_hour: int,
                 minutes: int) -> tuple[int, int]:
        """(minutes credited, credits): ``rate × minutes ÷ 60``, or, if that would pass the
        volunteer's cap, the most whole minutes whose pay fits under it."""
        room = self.ctx.query("token", "room", currency=currency, account=volunteer)
        credited = minutes
        if room is not None and rate_per_hour * minutes // 60 > room:
            # The largest m with rate × m ÷ 60 ≤ room, i.e. rate × m < (room + 1) × 60.
            credited = min(minutes, ((room + 1) * 60 - 1) // rate_per_hour)
        return credited, rate_per_hour * credited // 60

    def _verify(self, request: int, record: Request, volunteer: bytes, activity: Activity,
                minutes: int, rating: int, tags: tuple[str, ...], work_date_ms: int) -> int:
        district = self._district(record.district)
        credited, credits = self._payable(district.currency, volunteer, activity.rate_per_hour,
                                          minutes)
        uncredited = minutes - credited
        if credits:
            self.ctx.call("token", "mint", currency=district.currency, to=volunteer, amount=credits)
        number = self.next_certificate
        self.next_certificate = number + 1
        certificate = Certificate(volunteer, request, record.org, record.district, record.task,
                                  record.place, minutes, work_date_ms, self.ctx.env.time_ms,
                                  credits, district.currency, uncredited)
        self.certificates[number] = certificate
        self.volunteer_certificates[volunteer, number] = True
        self.activities[request, volunteer] = activity.replace(
            status=ActivityStatus.VERIFIED, minutes=minutes, rating=rating, tags=tags,
            credits=credits, certificate=number, uncredited_minutes=uncredited)
        profile = self.profiles.get(volunteer) or Profile()
        self.profiles[volunteer] = profile.replace(
            minutes=profile.minutes + minutes, activities=profile.activities + 1,
            rating_sum=profile.rating_sum + rating, rating_count=profile.rating_count + (rating > 0),
            credits=profile.credits + credits)
        for tag in tags:
            self.tag_counts[volunteer, tag] = self.tag_counts.get((volunteer, tag), 0) + 1
        for skill in record.skills:
            self.skill_counts[volunteer, skill] = self.skill_counts.get((volunteer, skill), 0) + 1
        key = (volunteer, record.district)
        self.district_minutes[key] = self.district_minutes.get(key, 0) + minutes
        self._count_district(record.district, activities=1, minutes=minutes, minted=credits)
        self._count_org(record.org, activities_verified=1, minutes=minutes)
        self.emit(self.Verified, request=request, volunteer=volunteer, minutes=minutes,
                  credits=credits, currency=district.currency, rating=rating, certificate=number,
                  digest=certificate_digest(certificate), uncredited_minutes=uncredited)
        return number

    def _move(self, currency: str, payer: bytes, to: bytes, amount: int, memo: str) -> None:
        """Move the signer's units to ``to`` through this contract's account, expiries intact."""
        self.ctx.call("token", "pay", currency=currency, amount=amount)
        self.ctx.call("token", "transfer", currency=currency, to=to, amount=amount, memo=memo)

    def _count_district(self, district: str, **add: int) -> None:
        stats = self.district_stats.get(district) or DistrictStats()
        self.district_stats[district] = stats.replace(
            **{name: getattr(stats, name) + n for name, n in add.items()})

    def _count_org(self, org: str, **add: int) -> None:
        stats = self.org_stats.get(org) or OrgStats()
        self.org_stats[org] = stats.replace(**{name: getattr(stats, name) + n for name, n in add.items()})

    # -- helpers: descriptions ---------------------------------------------------

    @staticmethod
    def _fields(record: Any) -> dict[str, Any]:
        return {name: getattr(record, name) for name in record.__dataclass_fields__}

    def _counts(self, counts: Any, volunteer: bytes) -> dict[str, int]:
        """The first MAX_PROFILE_ITEMS (name, count) entries of the volunteer, by name."""
        return {key[1]: n for key, n in counts.scan(volunteer, limit=MAX_PROFILE_ITEMS)}

    def _describe_request(self, request: int, record: Request) -> dict[str, Any]:
        return {"id": request, **self._fields(record), "skills": list(record.skills)}

    def _describe_application(self, request: int, volunteer: bytes,
                              record: Application) -> dict[str, Any]:
        return {"request": request, "volunteer": volunteer, **self._fields(record),
                "skills": list(record.skills)}

    def _describe_activity(self, request: int, volunteer: bytes, record: Activity) -> dict[str, Any]:
        return {"request": request, "volunteer": volunteer, **self._fields(record),
                "tags": list(record.tags)}
