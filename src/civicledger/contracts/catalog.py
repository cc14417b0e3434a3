"""The contracts a CivicLedger chain runs, in genesis order."""

from __future__ import annotations

from civicledger.contracts.framework import Contract, Registry
from civicledger.contracts.governance import Governance
from civicledger.contracts.token import Token
from civicledger.contracts.volunteering import Volunteering

CONTRACTS: tuple[type[Contract], ...] = (Governance, Token, Volunteering)


def registry() -> Registry:
    return Registry(CONTRACTS)
