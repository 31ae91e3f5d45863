"""The app's live session against a relay that lies about why it refused a push
(docs/PROTOCOL.md §9.14): an error code no table holds, its text made of a
RIGHT-TO-LEFT OVERRIDE and a terminal escape; and one that closes the connection
between storing a push and acknowledging it. The app says a reason of its own words,
never the relay's code, keeps the entry saved and not delivered, and delivers it once
the relay takes pushes again. A lying proxy in front of a real relay; this pins a rule
the attack did not get past (the session already ended on an unknown code)."""

from __future__ import annotations

from pathlib import Path

from client.views.shown import UNSHOWN
from schemas.protocol import Acked, ClientMessage, Error, Push, RelayMessage
from tests.adversarial.proxy import AdversarialProxy, Link, Tamper
from tests.app.screens_helpers import arrives, flash, two_partners
from tests.integration.relay_process import RelayProcess

HOSTILE_CODE = "zz_new\u202eeulav\u001b[2J"


class RefusesPushes(Tamper):
    """Answers every push with an error of a code no version of Trellis knows."""

    def __init__(self) -> None:
        self.on = False

    async def to_relay(self, link: Link, message: ClientMessage) -> list[ClientMessage]:
        if self.on and isinstance(message, Push):
            link.send_to_client(
                Error(code=HOSTILE_CODE, detail="\u202eno", req=message.req, index=0)
            )
            return []
        return [message]


async def test_an_unknown_refusal_code_is_said_in_the_apps_words_and_retried(
    tmp_path: Path, relay: RelayProcess
) -> None:
    tamper = RefusesPushes()
    async with (
        AdversarialProxy(relay.port, tamper) as proxy,
        two_partners(tmp_path, proxy.url) as (alex, blake),
    ):
        tamper.on = True
        page = await alex.send("/journal", {"text": "Through a lying relay"})
        said = flash(page)
        assert "Saved on this device; not delivered yet" in said
        assert "cannot be reached" not in said
        await arrives(lambda: alex.state.sync_problem is not None, timeout_s=30.0)
        today = await alex.get("/today")
        assert "an error this app does not know" in today
        assert "Trellis keeps trying" in today
        assert "eulav" not in today, "the relay's code is not shown"
        assert "zz_new" not in today
        assert not set(map(ord, today)) & (UNSHOWN.keys() - {0x0D})
        assert not alex.state.sync_stopped
        assert await alex.space.outbox_size() == 1

        tamper.on = False
        await arrives(
            lambda: "Through a lying relay" in [i.text for i in blake.space.journal()],
            timeout_s=60.0,
        )
        await arrives(lambda: alex.state.sync_problem is None, timeout_s=60.0)


class ClosesBeforeTheAck(Tamper):
    """Lets the relay store a push, then drops its acknowledgement and the connection."""

    def __init__(self) -> None:
        self.on = False
        self.cut = 0

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        if self.on and isinstance(message, Acked) and self.cut == 0:
            self.cut += 1
            link._to_client.close()  # mid-push: stored at the relay, never acknowledged
            return []
        return [message]


async def test_a_relay_that_closes_mid_push_delivers_the_entry_once(
    tmp_path: Path, relay: RelayProcess
) -> None:
    tamper = ClosesBeforeTheAck()
    async with (
        AdversarialProxy(relay.port, tamper) as proxy,
        two_partners(tmp_path, proxy.url) as (alex, blake),
    ):
        tamper.on = True
        await alex.send("/journal", {"text": "Sent as the line dropped"})
        await arrives(lambda: tamper.cut == 1, timeout_s=30.0)
        await arrives(
            lambda: "Sent as the line dropped" in [i.text for i in blake.space.journal()],
            timeout_s=30.0,
        )
        texts = [i.text for i in blake.space.journal()]
        assert texts.count("Sent as the line dropped") == 1
        assert (await blake.space.audit()).clean
        assert await alex.space.outbox_size() == 0
