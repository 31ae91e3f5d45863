"""Structured logs: JSON lines with request and connection ids, and no secret, token,
key or ciphertext in them, ever (issue #6; docs/THREAT_MODEL.md §14).

The relay runs at debug level (its most talkative) while two partners pair through
the client library and a raw client does everything else the protocol allows,
including the refusals whose messages are most tempted to echo what they refuse.
Then the log is searched for every secret and payload byte string the relay handled,
in every form a log line could carry it: hex, base64 (standard and URL-safe) and
Python's bytes repr.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import nacl.signing

from schemas.protocol import Authenticate, Challenge, Hello, auth_transcript
from tests.integration.pairing import pair
from tests.relay_ops.conftest import RelayFactory
from tests.server.helpers import (
    Device,
    SyncClient,
    create_space_body,
    invite_body,
    new_space_id,
    redeem_body,
)

SHORT_ID_CHARS = 8


def forms(secret: bytes) -> list[str]:
    """Every way a byte string could show up in a text log (searched in the decoded
    messages, so JSON escaping hides nothing)."""
    return [
        secret.hex(),
        " ".join(f"{b:02x}" for b in secret[:SHORT_ID_CHARS]),  # websockets' frame dumps
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        repr(secret)[2:-1][:40],
    ]


async def test_json_logs_carry_ids_and_no_secret_key_token_or_ciphertext(
    tmp_path: Path, start_relay: RelayFactory
) -> None:
    relay = start_relay("--log-level", "debug", "--log-format", "json")
    secrets: list[bytes] = []
    texts: list[str] = []

    # Two partners pair and write through the client library.
    alex, blake = await pair(tmp_path, relay.http_url)
    async with alex, blake:
        code = await alex.invite(kind="device")
        texts += [code.split("@")[0], code.split("@")[0].replace("-", "")]
        await alex.sync()
        await blake.sync()

    # A raw client: space, invite, redemption, pushes, pulls, and refusals.
    creator, joiner, space_id = Device(), Device(), new_space_id()
    invite_key = nacl.signing.SigningKey.generate()
    invite_id = os.urandom(16)
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=10) as http:
        body = create_space_body(creator, space_id)
        secrets.append(base64.b64decode(body["genesis"]))
        response = await http.post("/v1/spaces", json=body, headers={"X-Request-Id": "probe-1"})
        assert response.status_code == 201
        assert response.headers["x-request-id"] == "probe-1"
        invite = invite_body(creator, space_id, invite_key, invite_id=invite_id)
        secrets += [invite_id, bytes(invite_key.verify_key), bytes(invite_key)]
        secrets += [base64.b64decode(invite[k]) for k in ("wrapped_keys", "signature")]
        assert (
            await http.post(f"/v1/spaces/{space_id.hex()}/invites", json=invite)
        ).status_code == 201
        redeem = redeem_body(invite_key, space_id, invite_id, joiner)
        secrets += [base64.b64decode(redeem[k]) for k in ("box_key", "proof")]
        # Refusals that hold secrets in what they refuse.
        wrong = {**redeem, "proof": base64.b64encode(os.urandom(64)).decode()}
        secrets.append(base64.b64decode(wrong["proof"]))
        assert (
            await http.post(f"/v1/invites/{invite_id.hex()}/redeem", json=wrong)
        ).status_code == 403
        broken = {**invite, "expires_at": "soon"}
        assert (
            await http.post(f"/v1/spaces/{space_id.hex()}/invites", json=broken)
        ).status_code == 400
        assert (
            await http.post(f"/v1/invites/{invite_id.hex()}/redeem", json=redeem)
        ).status_code == 200
        assert (await http.get(f"/v1/invites/{invite_id.hex()}")).status_code == 409

    client = await SyncClient.open(relay.ws_url)
    client_port = client.ws.local_address[1]
    await client.send(Hello(space_id=space_id, device_id=joiner.device_id))
    challenge = await client.receive()
    assert isinstance(challenge, Challenge)
    signature = joiner.sign(
        auth_transcript(f"127.0.0.1:{relay.port}", space_id, joiner.device_id, challenge.nonce)
    )
    secrets += [challenge.nonce, signature]
    await client.send(Authenticate(signature=signature))
    await client.receive()
    envelopes = [joiner.envelope(space_id) for _ in range(3)]
    secrets += envelopes
    await client.push(1, envelopes)
    await client.push(2, [envelopes[0][:-5] + b"\x00" * 5])  # a broken envelope is refused
    await client.pull(3)
    await client.send_raw(envelopes[1] + b"trailing")  # not a frame: malformed, then closed
    await client.close_code()
    secrets += [bytes(creator.signing_key), bytes(joiner.signing_key)]

    assert relay.stop() == 0
    log = relay.log()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert len(lines) == len(log.splitlines()), "every line is a JSON object"
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    assert any(r.get("req") == "probe-1" for r in records), "request ids reach the log"
    assert any("conn" in r and "signed in" in r["msg"] for r in records), "connection ids too"
    assert any("committed" in r["msg"] for r in records), "debug level was on"

    text = log + "\n".join(f"{r['msg']}\n{r.get('exc', '')}" for r in records)
    for secret in secrets:
        for form in forms(secret):
            if len(form) >= SHORT_ID_CHARS * 2:
                assert form not in text, f"a secret or ciphertext reached the log: {form[:12]}…"
    for code_part in texts:
        assert code_part not in text, "the invite code reached the log"
    for device in (creator, joiner):
        assert device.device_id.hex() not in text, "full device ids are not logged"
    assert f"127.0.0.1:{client_port}" not in text, "client addresses are not logged"
