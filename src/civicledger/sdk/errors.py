"""What the SDK raises: the gateway's refusals keep their code and message."""

from __future__ import annotations


class ClientError(Exception):
    """Base of the SDK's errors."""

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


class Refused(ClientError):
    """The gateway or the ledger refused the request (4xx); nothing changed."""


class Unavailable(ClientError):
    """The node is busy or faulted, or could not be reached (5xx, network); retry later."""


class TransactionFailed(ClientError):
    """The transaction was committed but its call was rejected: see ``receipt``."""

    def __init__(self, code: str, message: str, receipt: dict[str, object]) -> None:
        super().__init__(code, message)
        self.receipt = receipt


class ProofError(ClientError):
    """An inclusion proof did not check out against its header."""
