"""The CivicLedger Python SDK: a wallet that signs locally and a client of the gateway.

    from civicledger.sdk import Client, Wallet

Everything public is listed in ``__all__``; the rest may change.
"""

from civicledger.sdk.client import Client, Inclusion, Outcome, PartialTransaction, StreamEvent
from civicledger.sdk.errors import ClientError, ProofError, Refused, TransactionFailed, Unavailable
from civicledger.sdk.wallet import Wallet

__all__ = [
    "Client",
    "ClientError",
    "Inclusion",
    "Outcome",
    "PartialTransaction",
    "ProofError",
    "Refused",
    "StreamEvent",
    "TransactionFailed",
    "Unavailable",
    "Wallet",
]
