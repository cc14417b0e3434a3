"""The contracts a CivicLedger chain runs, in genesis order."""

from __future__ import annotations

from civicledger.contracts.airquality import AirQuality
from civicledger.contracts.framework import Contract, Registry
from civicledger.contracts.governance import Governance
from civicledger.contracts.hazards import Hazards
from civicledger.contracts.incentives import Incentives
from civicledger.contracts.parking import Parking
from civicledger.contracts.token import Token
from civicledger.contracts.volunteering import Volunteering

CONTRACTS: tuple[type[Contract], ...] = (
    Governance, Token, Incentives, AirQuality, Hazards, Parking, Volunteering,
)


def registry() -> Registry:
    return Registry(CONTRACTS)
