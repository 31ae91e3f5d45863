"""Private notes over the real relay: the partner learns nothing (issue 16).

Blake's device talks to the relay through a recorder that keeps every byte the relay
sends it: HTTP answers while joining, every websocket frame of every sync, live ones
included. Alex writes private notes and syncs them while Blake is connected and
watching. The tests then look through everything Blake's device received for any
trace of them, and compare it with a run in which Alex wrote no private notes at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from client.core.verify import VerifiedEvent
from client.keys.vault import CHEAP_COST
from client.space import Space, private_notes
from schemas.envelope import decode_envelope, encode_envelope
from schemas.intimacy import IntimacyCheckIn, PrivateNote
from schemas.payloads import JournalEntry
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess

WATCH_SETTLE_S = 0.5
NOTES = 6


@dataclass
class Recorder:
    """A loopback TCP proxy that keeps every byte the relay sends to the client."""

    upstream_port: int
    received: bytearray = field(default_factory=bytearray)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter, keep: bool) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    if keep:
                        self.received.extend(data)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError, RuntimeError):
                dst.close()

        await asyncio.gather(copy(reader, up_writer, False), copy(up_reader, writer, True))

    async def __aenter__(self) -> Recorder:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)


@dataclass
class Run:
    received: bytes
    blake_events: list[VerifiedEvent]
    alex_shared: list[VerifiedEvent]
    private_envelopes: list[bytes]
    private_space_id: bytes
    private_devices: list[bytes]


async def story(tmp_path: Path, relay: RelayProcess, *, notes: int) -> Run:
    """Alex and Blake pair; Blake watches live through the recorder while Alex writes
    ``notes`` private notes (and a private intimacy check-in) and syncs them; then Alex
    writes one shared entry, which Blake receives live."""
    async with Recorder(relay.port) as recorder:
        alex = await Space.create(
            tmp_path / "alex",
            relay_url=relay.url,
            name="Alex",
            passphrase=PASSPHRASE,
            kdf_cost=CHEAP_COST,
        )
        code = await alex.invite()
        blake = await Space.join(
            tmp_path / "blake",
            code=code,
            name="Blake",
            passphrase=PASSPHRASE,
            relay_url=recorder.url,
            kdf_cost=CHEAP_COST,
        )
        await alex.sync()
        await alex.append(JournalEntry(text="before"))
        await alex.sync()
        await blake.sync()
        arrived: list[VerifiedEvent] = []
        got_after = asyncio.Event()

        async def on_event(event: VerifiedEvent) -> None:
            arrived.append(event)
            if isinstance(event.payload, JournalEntry) and event.payload.text == "after":
                got_after.set()

        connected = asyncio.Event()
        watching = asyncio.ensure_future(
            blake.sync(watch=True, on_event=on_event, connected=connected)
        )
        private: Space | None = None
        try:
            await asyncio.wait_for(connected.wait(), 30)
            if notes:
                private = await private_notes.open_private(alex, PASSPHRASE, create=True)
                for i in range(notes):
                    await private.append(PrivateNote(text=f"grounding practice {i}"))
                    await private.sync()
                await private.append(IntimacyCheckIn(comfort=1, fatigue=4, note="not tonight"))
                await private.sync()
            await asyncio.sleep(WATCH_SETTLE_S)
            await alex.append(JournalEntry(text="after"))
            await alex.sync()
            await asyncio.wait_for(got_after.wait(), 30)
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        run = Run(
            received=bytes(recorder.received),
            blake_events=blake.events(),
            alex_shared=alex.events(),
            private_envelopes=[]
            if private is None
            else [encode_envelope(e.envelope) for e in private.events()],
            private_space_id=b"" if private is None else private.space_id,
            private_devices=[] if private is None else [private.device_id],
        )
        for space in (private, alex, blake):
            if space is not None:
                await space.close()
        return run


@pytest.fixture
async def runs(tmp_path: Path, relay: RelayProcess) -> tuple[Run, Run]:
    with_notes = await story(tmp_path / "with", relay, notes=NOTES)
    without = await story(tmp_path / "without", relay, notes=0)
    return with_notes, without


async def test_nothing_the_partner_device_receives_carries_any_trace_of_a_private_note(
    runs: tuple[Run, Run],
) -> None:
    run, _ = runs
    assert len(run.private_envelopes) == NOTES + 2  # genesis, notes, check-in

    ids = [run.private_space_id, *run.private_devices]
    traces = [*ids, *(i.hex().encode() for i in ids), *run.private_envelopes]
    for data in run.private_envelopes:
        env = decode_envelope(data)
        traces.extend([env.ciphertext, env.signature, env.nonce, env.wrapped_key])
    assert run.received, "the recorder saw Blake's traffic"

    assert [t for t in traces if t in run.received] == []
    assert b"grounding practice" not in run.received


async def test_the_partner_receives_the_shared_space_and_nothing_else(
    runs: tuple[Run, Run],
) -> None:
    run, _ = runs
    shared = {e.event_id for e in run.alex_shared}

    assert {e.event_id for e in run.blake_events} == shared
    # Alex's shared chain and clock went on as if no note had been written.
    alex_own = [e for e in run.alex_shared if e.author == run.alex_shared[0].author]
    assert [e.envelope.seq for e in alex_own] == list(range(1, len(alex_own) + 1))
    before, after = alex_own[-2], alex_own[-1]
    assert after.body.lamport == before.body.lamport + 1


async def test_what_the_partner_receives_is_the_same_size_with_or_without_private_notes(
    runs: tuple[Run, Run],
) -> None:
    with_notes, without = runs

    assert len(with_notes.received) == len(without.received)
    assert [len(e.canonical) for e in with_notes.blake_events] == [
        len(e.canonical) for e in without.blake_events
    ]


async def test_private_notes_sync_to_the_writer_s_other_device_through_a_private_code(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex = await Space.create(
        tmp_path / "alex",
        relay_url=relay.url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    laptop_code = await alex.invite(kind="device")
    laptop = await Space.join(
        tmp_path / "laptop",
        code=laptop_code,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    await alex.sync()
    async with alex, laptop:
        private = await private_notes.open_private(alex, PASSPHRASE, create=True)
        async with private:
            await private.append(PrivateNote(text="what I want to say on Sunday"))
            code = await private.invite(kind="device")
            laptop_private = await private_notes.join_private(laptop, PASSPHRASE, code)
            async with laptop_private:
                await private.sync()
                await laptop_private.sync()
                notes = private_notes.fold_private(laptop_private).notes

                assert [n.text for n in notes] == ["what I want to say on Sunday"]
                assert laptop_private.space_id != alex.space_id


async def test_a_private_note_shared_later_becomes_an_ordinary_entry_the_partner_sees(
    tmp_path: Path, relay: RelayProcess
) -> None:
    alex = await Space.create(
        tmp_path / "alex",
        relay_url=relay.url,
        name="Alex",
        passphrase=PASSPHRASE,
        kdf_cost=CHEAP_COST,
    )
    code = await alex.invite()
    blake = await Space.join(
        tmp_path / "blake", code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
    )
    await alex.sync()
    async with alex, blake:
        private = await private_notes.open_private(alex, PASSPHRASE, create=True)
        async with private:
            await private.append(PrivateNote(text="I felt afraid on Tuesday"))
            (note,) = private_notes.fold_private(private).notes
            await private_notes.share_note(alex, private, note, keep_date=False)
            await alex.sync()
            await blake.sync()

            assert [i.text for i in blake.journal()] == ["I felt afraid on Tuesday"]
            assert private_notes.fold_private(private).notes[0].shared_as is not None
