"""What the incentive services (air quality, hazards, parking) share with the registry that
pays them (``incentives``): units and page sizes, the service statuses and verification
terms, the roles, and the calls that load a service record and check a role.

It lives beside ``framework`` and ``storage`` rather than inside one service's package, so
that no contract package imports another's internals (``tests/test_layers.py``): a service
talks to the registry only through ``ctx.query`` and ``ctx.call``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from civicledger.contracts.framework import Context
from civicledger.core.errors import Conflict, NotFound, Unauthorized
from civicledger.core.schema import Int

BPS = 10_000
"""Basis points in a whole: a platform share of 500 bps is 5 %."""
DAY_MS = 24 * 3600 * 1000
MAX_PAGE = 100
"""Most entries any list query or paid feed returns at once."""

Bps = Annotated[int, Int(0, BPS)]
PageSize = Annotated[int, Int(1, MAX_PAGE)]


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    """No new rewards, fees or escrows; open escrows still settle and refund."""


class Verification(StrEnum):
    """What a service kind says about ``needs_verification`` (its ``terms`` query)."""

    REQUIRED = "required"
    """Every contribution is verified (hazard reports): the flag must be true."""
    OPTIONAL = "optional"
    """The operator chooses (air readings)."""
    NONE = "none"
    """Nothing to verify (parking): the flag must be false."""


CITIZEN_ROLE = "citizen"
"""Held by residents, granted by their district office (any organisation) in governance."""
OPERATOR_ROLE = "operator"
VERIFIER_ROLE = "verifier"


def load_service(ctx: Context, service: str, kind: str, *, active: bool = False) -> dict[str, Any]:
    """The registry's record of ``service``, refused unless ``kind`` runs it (and it is active)."""
    record = ctx.query("incentives", "service", service=service)
    if record["kind"] != kind:
        raise NotFound(f"service '{service}' is a {record['kind']} service, not {kind}",
                       code="wrong_service")
    if active and record["status"] != ServiceStatus.ACTIVE:
        raise Conflict(f"service '{service}' is {record['status']}", code="service_paused")
    return record


def require_role(ctx: Context, role: str, org: str | None, what: str) -> None:
    """Refuse unless the sender holds ``role`` (in ``org``, or in any organisation)."""
    if not ctx.has_role(ctx.sender, role, org):
        where = f" of '{org}'" if org is not None else ""
        raise Unauthorized(f"only a {role}{where} may {what}", code=f"not_{role}")
