"""A signature-checking process: ``python -m civicledger.node.verify_worker``.

The node's Python work holds one GIL; a thread that checks signatures must take
it back after every signature, and beside a busy executor it waits a switch
interval (5 ms) each time. A worker process has a GIL of its own, so it checks
a whole group while the node runs Python. ``Verifier`` starts and stops these.

Protocol, on stdin and stdout, until stdin closes:

    request:  count (4 bytes, big-endian), then per signature
              public key (32) | signature (64) | transaction id (32)
    answer:   per signature one byte, 1 if the signature of the transaction id
              (``SIGNATURE_TAG || id``) by that key verifies, else 0
"""

from __future__ import annotations

import signal
import sys
from typing import BinaryIO

from civicledger.core.crypto import verify
from civicledger.core.tx import SIGNATURE_TAG

RECORD_SIZE = 32 + 64 + 32


def answer(records: bytes) -> bytes:
    """The verdicts for a request's records."""
    out = bytearray(len(records) // RECORD_SIZE)
    for i in range(len(out)):
        record = records[i * RECORD_SIZE : (i + 1) * RECORD_SIZE]
        out[i] = verify(record[:32], SIGNATURE_TAG + record[96:], record[32:96])
    return bytes(out)


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    while True:
        head = source.read(4)
        if len(head) < 4:
            return  # the node closed the pipe (or exited)
        size = int.from_bytes(head, "big") * RECORD_SIZE
        records = source.read(size)
        if len(records) < size:
            return
        sink.write(answer(records))
        sink.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the node; it closes our stdin
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
