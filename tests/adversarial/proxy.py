"""A lying relay for tests: a loopback proxy in front of the real relay process.

Clients dial the proxy as if it were the relay. HTTP requests are piped through byte for
byte. A websocket upgrade is forwarded with its headers unchanged (so the ``Host`` the
client signed in to, PROTOCOL.md §6.2, still matches), and from then on every frame is
decoded, handed to a :class:`Tamper` that may drop, change, add or hold messages, and
encoded again. The proxy never holds a key: it can only do what a relay operator can.

Everything listens on 127.0.0.1 only; every loop ends when its socket closes, and
:meth:`AdversarialProxy.stop` closes them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable

import msgspec
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import Protocol, Side

from schemas.protocol import (
    ClientMessage,
    Hello,
    RelayMessage,
    client_message_decoder,
    encode_message,
    relay_message_decoder,
)

MAX_HEAD_BYTES = 64 * 1024


class Link:
    """One proxied websocket: a device's connection to the relay."""

    _ids = itertools.count(1)

    def __init__(self, to_client: asyncio.StreamWriter, to_relay: asyncio.StreamWriter) -> None:
        self.id = next(self._ids)
        self.device_id: bytes | None = None
        self.space_id: bytes | None = None
        self.client_side = Protocol(Side.SERVER, max_size=None)
        self.relay_side = Protocol(Side.CLIENT, max_size=None)
        self._to_client = to_client
        self._to_relay = to_relay

    def send_to_client(self, message: RelayMessage) -> None:
        self.client_side.send_binary(encode_message(message))
        self._flush_client()

    def send_to_relay(self, message: ClientMessage) -> None:
        self.relay_side.send_binary(encode_message(message))
        self._flush_relay()

    def _flush_client(self) -> None:
        _write(self._to_client, self.client_side.data_to_send())

    def _flush_relay(self) -> None:
        _write(self._to_relay, self.relay_side.data_to_send())


def _write(writer: asyncio.StreamWriter, chunks: list[bytes]) -> None:
    for chunk in chunks:
        if chunk and not writer.is_closing():
            writer.write(chunk)
        elif not chunk:
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()


class Tamper:
    """Passes everything through; subclasses override what they change."""

    async def to_client(self, link: Link, message: RelayMessage) -> list[RelayMessage]:
        return [message]

    async def to_relay(self, link: Link, message: ClientMessage) -> list[ClientMessage]:
        return [message]


class AdversarialProxy:
    def __init__(self, upstream_port: int, tamper: Tamper | None = None) -> None:
        self.upstream_port = upstream_port
        self.tamper = tamper or Tamper()
        self.links: list[Link] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> AdversarialProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> AdversarialProxy:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def later(self, delay_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` after a delay, unless the proxy stops first (for delays)."""

        async def run() -> None:
            await asyncio.sleep(delay_s)
            with contextlib.suppress(OSError, RuntimeError):
                action()

        self._spawn(run())

    # -- plumbing -------------------------------------------------------------------

    def _spawn(self, coroutine: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            self._writers.add(up_writer)
            up_writer.write(head)
            if b"upgrade: websocket" not in head.lower():
                await _pipe_both(reader, writer, up_reader, up_writer)
                return
            answer = await up_reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            if not answer.startswith(b"HTTP/1.1 101"):
                await _pipe_both(reader, writer, up_reader, up_writer)
                return
            link = Link(writer, up_writer)
            self.links.append(link)
            await asyncio.gather(
                self._from_client(link, reader, up_writer),
                self._from_relay(link, up_reader, writer),
            )
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()
                    self._writers.discard(w)

    async def _from_client(
        self, link: Link, reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            link.client_side.receive_data(data)
            for frame in link.client_side.events_received():
                await self._client_frame(link, frame)
            link._flush_client()
            link._flush_relay()
        with contextlib.suppress(OSError, RuntimeError):
            up_writer.write_eof()

    async def _from_relay(
        self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            link.relay_side.receive_data(data)
            for frame in link.relay_side.events_received():
                await self._relay_frame(link, frame)
            link._flush_relay()
            link._flush_client()
        with contextlib.suppress(OSError, RuntimeError):
            writer.write_eof()

    async def _client_frame(self, link: Link, frame: Frame) -> None:
        if frame.opcode is Opcode.BINARY:
            try:
                message = client_message_decoder.decode(frame.data)
            except (msgspec.MsgspecError, UnicodeDecodeError):
                link.relay_side.send_binary(frame.data)
                return
            if isinstance(message, Hello):
                link.device_id, link.space_id = message.device_id, message.space_id
            for out in await self.tamper.to_relay(link, message):
                link.send_to_relay(out)
        elif frame.opcode is Opcode.TEXT:
            link.relay_side.send_text(frame.data)
        elif frame.opcode is Opcode.CLOSE:
            close = Close.parse(frame.data) if frame.data else None
            with contextlib.suppress(Exception):
                if close is None:
                    link.relay_side.send_close()
                else:
                    link.relay_side.send_close(close.code, close.reason)

    async def _relay_frame(self, link: Link, frame: Frame) -> None:
        if frame.opcode is Opcode.BINARY:
            try:
                message = relay_message_decoder.decode(frame.data)
            except (msgspec.MsgspecError, UnicodeDecodeError):
                link.client_side.send_binary(frame.data)
                return
            for out in await self.tamper.to_client(link, message):
                link.send_to_client(out)
        elif frame.opcode is Opcode.TEXT:
            link.client_side.send_text(frame.data)
        elif frame.opcode is Opcode.CLOSE:
            close = Close.parse(frame.data) if frame.data else None
            with contextlib.suppress(Exception):
                if close is None:
                    link.client_side.send_close()
                else:
                    link.client_side.send_close(close.code, close.reason)


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
        with contextlib.suppress(OSError, RuntimeError):
            dst.write_eof()

    await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
