"""Attestations: a member peer's signature on the block header it computed.

After executing and committing block ``h``, each peer that a member
organisation runs signs ``(chain id, h, header hash)`` with the peer key the
organisation registered in governance, and publishes the attestation. A block
is final once ``quorum`` of the peers in force at ``h`` (``governance.peers``)
have attested the same header hash; anyone holding the peer keys can check
that without trusting the peer that served the block.

The attestation also carries the attesting peer's whole header, so that a peer
whose own header differs can say which root differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from civicledger.core import encoding
from civicledger.core.block import BlockHeader
from civicledger.core.crypto import KeyPair, digest, verify
from civicledger.core.errors import EncodingError

ATTESTATION_VERSION = 1
MAX_ATTESTATION_BYTES = 4096


def signing_payload(chain_id: str, height: int, header_hash: bytes) -> bytes:
    """The bytes a peer signs: domain-separated, so no other signature can be mistaken for one."""
    return digest(b"civicledger/attestation", encoding.encode([chain_id, height, header_hash]))


@dataclass(frozen=True, slots=True)
class Attestation:
    org: str
    """The member organisation whose peer signed."""
    header: BlockHeader
    """The header that peer computed and committed."""
    signature: bytes
    """Ed25519 signature by the organisation's peer key over ``signing_payload``."""

    @property
    def height(self) -> int:
        return self.header.height

    @property
    def header_hash(self) -> bytes:
        return self.header.hash

    @classmethod
    def sign(cls, org: str, header: BlockHeader, key: KeyPair) -> Attestation:
        return cls(org, header, key.sign(signing_payload(header.chain_id, header.height, header.hash)))

    def verifies(self, public_key: bytes) -> bool:
        payload = signing_payload(self.header.chain_id, self.header.height, self.header.hash)
        return verify(public_key, payload, self.signature)

    def encode(self) -> bytes:
        return encoding.encode([ATTESTATION_VERSION, self.org, self.header.to_value(), self.signature])

    @classmethod
    def decode(cls, data: bytes) -> Attestation:
        try:
            version, org, header, signature = encoding.decode(data, max_size=MAX_ATTESTATION_BYTES)
            if version != ATTESTATION_VERSION or type(org) is not str or type(signature) is not bytes:
                raise ValueError("unknown version or field types")
            return cls(org, BlockHeader.from_value(header), signature)
        except (ValueError, TypeError, EncodingError) as exc:
            raise EncodingError(f"not an attestation: {exc}", code="bad_attestation") from None


def differing_fields(mine: BlockHeader, theirs: BlockHeader) -> list[str]:
    """The header fields (roots first) in which two headers of one height differ."""
    order = ("state_root", "receipt_root", "tx_root", "prev_hash", "time_ms", "proposer",
             "tx_count", "chain_id", "height")
    return [name for name in order if getattr(mine, name) != getattr(theirs, name)]


def quorum_signers(header: BlockHeader, attestations: Iterable[Attestation],
                   peers: Mapping[str, bytes]) -> list[str]:
    """The organisations in ``peers`` (org → key in force at the header's height) whose valid
    attestation names exactly ``header``, in name order; each counts once."""
    signed = {a.org for a in attestations
              if a.org in peers and a.header == header and a.verifies(peers[a.org])}
    return sorted(signed)
