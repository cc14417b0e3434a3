"""Every page of the portal on a running ``civic up --demo`` node, as a person would open it.

Account pages are opened for a demo account that has something to show there (``?account=``,
as the page's script would add it), so each page is checked with its tables and forms filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from civicledger.cli.demo import DEMO_PASSPHRASE
from civicledger.cli.workspace import Workspace
from civicledger.sdk import Wallet


@dataclass(frozen=True)
class PortalPage:
    name: str
    """A short name for screenshots and messages."""
    path: str
    """The path with its query, ``account=`` included where the page is an account's."""


def demo_address(server, name: str) -> str:
    return Wallet.load(Workspace(server.data).key_path(name), DEMO_PASSPHRASE).address_text


def portal_pages(server) -> list[PortalPage]:
    """The portal's pages on the demo node ``server``, one of each kind, plus an unknown path."""
    block = httpx.get(f"{server.url}/v1/blocks/5", timeout=10).json()
    tx_id = block["transactions"][0]["tx_id"]

    def of(name: str) -> str:
        return f"account={demo_address(server, name)}"

    return [
        PortalPage("explorer", "/"),
        PortalPage("block", "/blocks/5"),
        PortalPage("tx", f"/tx/{tx_id}"),
        PortalPage("address", f"/address/{demo_address(server, 'minji')}"),
        PortalPage("transparency", "/transparency"),
        PortalPage("wallet", "/wallet"),
        PortalPage("send", "/wallet/send"),
        PortalPage("services", f"/services?{of('minji')}"),
        PortalPage("hazards", f"/services/hazards/roads?{of('minji')}"),
        PortalPage("air", f"/services/air/air?{of('minji')}"),
        PortalPage("parking", f"/services/parking/parking?{of('junho')}"),
        PortalPage("volunteer", f"/volunteer?{of('junho')}"),
        PortalPage("volunteer-request", f"/volunteer/requests/1?{of('junho')}"),
        PortalPage("volunteer-me", f"/volunteer/me?{of('junho')}"),
        PortalPage("certificate", "/volunteer/certificates/1"),
        PortalPage("cosign", f"/volunteer/cosign?{of('junho')}"),
        PortalPage("console", f"/console?{of('seoul-admin')}"),
        PortalPage("console-roles", f"/console/roles?{of('seoul-admin')}"),
        PortalPage("console-currencies", f"/console/currencies?{of('seoul-admin')}"),
        PortalPage("console-proposals", f"/console/proposals?{of('seoul-admin')}"),
        PortalPage("console-roads", f"/console/services/roads?{of('nowon-admin')}"),
        PortalPage("console-air", f"/console/services/air?{of('seoul-admin')}"),
        PortalPage("console-parking", f"/console/services/parking?{of('seoul-admin')}"),
        PortalPage("console-volunteer", f"/console/volunteer?{of('welfare-admin')}"),
        PortalPage("console-volunteer-request", f"/console/volunteer/requests/1?{of('welfare-admin')}"),
        PortalPage("not-found", "/no/such/page"),
    ]


def with_language(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"
