"""Names stay out of the local integrity records (docs/THREAT_MODEL.md §22).

Findings are stored on the device (client/store/integrity_store.py) so they stand across
restarts. Their sentences name people ("Blake's device signed two histories"), but a
display name is plaintext the partners wrote: it belongs in the encrypted log only.
So findings are computed with a token naming the device by its public key, which is
no secret (the relay holds it), and the name is put in when a finding is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r"\{device:([0-9a-f]{64})\}")


def name_token(device_id: bytes) -> str:
    """Stands for the name of ``device_id``'s member in a stored sentence."""
    return "{device:" + device_id.hex() + "}"


def names_in(message: str, name_of: Callable[[bytes], str]) -> str:
    """``message`` with every token replaced by the name ``name_of`` gives now."""
    return _TOKEN.sub(lambda m: name_of(bytes.fromhex(m.group(1))), message)
