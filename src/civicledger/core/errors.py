"""The error tree of CivicLedger.

    CivicError                      every error this package raises
    ├── Rejection                   deterministic: the same on every peer, never a node's fault
    │   ├── InvalidTransaction      stateless: judged from the bytes alone, refused before ordering
    │   │   ├── EncodingError       malformed, oversized or non-canonical bytes
    │   │   ├── BadSignature        a signature does not verify, or a required one is missing
    │   │   ├── WrongChain          signed for another chain id
    │   │   ├── Expired             the transaction's expiry has passed, or lies too far ahead
    │   │   └── UnknownCall         no such contract, method or query; or arguments off-schema
    │   └── ContractRejection       stateful: recorded in a failed receipt with its code
    │       ├── Unauthorized        the signers lack the role or ownership the action needs
    │       ├── NotFound            the named thing does not exist
    │       ├── Conflict            it exists already, or is in the wrong state for this action
    │       ├── InsufficientFunds   the balance (of unexpired lots) is too small
    │       ├── LimitExceeded       a cap, budget, supply bound or quota would be passed
    │       └── Replayed            the transaction id was already committed
    ├── NodeFault                   the node's environment failed; never affects state, retry
    │   ├── StoreError              the store could not read or commit
    │   ├── Busy                    a bounded queue is full; retry later
    │   └── Diverged                this peer's block differs from what a quorum of peers attested
    ├── InvalidBlock                a stored block does not re-execute to its header and receipts
    ├── ArchiveError                an export file is unreadable, truncated or of another version
    └── KeyFileError                a key file will not open: wrong passphrase, altered file

Every error carries a stable, machine-readable ``code`` (snake_case) and a human
message. HTTP status codes are assigned only by the gateway. A rejection's code
and message go into the failed receipt, so both must be deterministic: build
them from the transaction and the state, never from the clock or the host.
"""

from __future__ import annotations


class CivicError(Exception):
    """Base of every CivicLedger error: a code for machines, a message for people."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if not message:
            raise ValueError("an error needs a message")
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Rejection(CivicError):
    """A deterministic refusal: every honest peer reaches the same verdict."""

    code = "rejected"


class InvalidTransaction(Rejection):
    code = "invalid_transaction"


class EncodingError(InvalidTransaction):
    code = "malformed"


class BadSignature(InvalidTransaction):
    code = "bad_signature"


class WrongChain(InvalidTransaction):
    code = "wrong_chain"


class Expired(InvalidTransaction):
    code = "expired"


class UnknownCall(InvalidTransaction):
    code = "unknown_call"


class ContractRejection(Rejection):
    code = "contract_rejected"


class Unauthorized(ContractRejection):
    code = "unauthorized"


class NotFound(ContractRejection):
    code = "not_found"


class Conflict(ContractRejection):
    code = "conflict"


class InsufficientFunds(ContractRejection):
    code = "insufficient_funds"


class LimitExceeded(ContractRejection):
    code = "limit_exceeded"


class Replayed(ContractRejection):
    code = "replayed"


class NodeFault(CivicError):
    """The node could not do its work; nothing was decided, the caller may retry."""

    code = "node_fault"


class StoreError(NodeFault):
    code = "store_error"


class Busy(NodeFault):
    code = "busy"


class Diverged(NodeFault):
    """This peer computed a block header that a quorum of member peers did not: it stops
    committing and answers nothing as committed until an operator has looked."""

    code = "diverged"


class InvalidBlock(CivicError):
    """A block that re-execution does not reproduce: the chain (or this copy of it) is faulty.

    Neither a rejection (no transaction is refused) nor a node fault (retrying changes
    nothing): the block itself is wrong. ``height`` is the block's, ``field`` names what
    differs (a header field, ``receipt[i]``, ``prev_hash`` or ``envelope[i]``).
    """

    code = "invalid_block"

    def __init__(self, message: str, *, height: int, field: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.height = height
        self.field = field


class ArchiveError(CivicError):
    """An export file (``node.archive``) that cannot be read as one: wrong magic or version,
    a record cut short or oversized, or a trailer that does not match what came before."""

    code = "bad_archive"


class KeyFileError(CivicError):
    """A key file could not be sealed or opened; see ``core.keyfile`` for the codes."""

    code = "bad_keyfile"
