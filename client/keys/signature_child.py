"""The child process of :mod:`client.keys.signature_worker`: checks envelopes'
signatures, one request at a time, for the app or the CLI that started it.

Run as ``python -m client.keys.signature_child``; it reads requests on stdin and answers
on stdout until stdin closes. A request is a 4-byte big-endian length and a msgpack array
of envelopes (bytes, exactly as the relay served them); the answer is a 4-byte length
and one byte per envelope, 1 where its author's signature verifies, else 0. Only public
data crosses the pipe: ciphertext, signatures and public keys. It imports no key
material and writes nothing anywhere else.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

import msgspec

from client.keys.signatures import signature_item
from schemas.signatures import verify_signature

MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""Far above any page a relay may serve (its frames are at most a few MiB)."""

_requests = msgspec.msgpack.Decoder(list[bytes])


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def answer(envelopes: list[bytes]) -> bytes:
    """One byte per envelope: 1 where its author's signature verifies."""
    out = bytearray(len(envelopes))
    for index, data in enumerate(envelopes):
        item = signature_item(data)
        if item is not None and verify_signature(*item):
            out[index] = 1
    return bytes(out)


def serve(requests: BinaryIO, answers: BinaryIO) -> int:
    """Answer requests until the parent closes the pipe (exit 0) or sends something
    this child cannot read (exit 2: the parent then checks on threads)."""
    while True:
        header = _read_exactly(requests, 4)
        if header is None:
            return 0
        size = int.from_bytes(header, "big")
        if size > MAX_REQUEST_BYTES:
            return 2
        body = _read_exactly(requests, size)
        if body is None:
            return 0
        try:
            envelopes = _requests.decode(body)
        except msgspec.DecodeError:
            return 2
        result = answer(envelopes)
        answers.write(len(result).to_bytes(4, "big") + result)
        answers.flush()


if __name__ == "__main__":
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
