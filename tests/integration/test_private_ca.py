"""A relay behind TLS with a certificate from a private CA (issue #18).

A TLS listener on loopback, with a server certificate signed by a CA made in the test,
forwards bytes to the real relay. A client that was not given the CA gets a
certificate error, said as such; given it (``--ca-file`` or ``TRELLIS_CA_FILE``) it
creates, invites, joins and syncs over https and wss.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from client.errors import RelayCertificateError, RelayUnreachable
from client.keys.vault import CHEAP_COST
from client.space import Space
from client.store.relay_http import CA_FILE_ENV
from schemas.payloads import JournalEntry
from tests.integration.cli import run
from tests.integration.pairing import PASSPHRASE
from tests.integration.relay_process import RelayProcess
from tests.tools.certs import PrivateCA, make_private_ca


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@contextlib.asynccontextmanager
async def tls_in_front(relay: RelayProcess, ca: PrivateCA) -> AsyncIterator[str]:
    """https://127.0.0.1:PORT, terminating TLS with the private CA's certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(ca.server_cert, ca.server_key)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", relay.port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return make_private_ca(tmp_path_factory.mktemp("ca"))


async def test_without_the_ca_the_client_reports_a_certificate_error_not_an_unreachable_relay(
    tmp_path: Path, relay: RelayProcess, ca: PrivateCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CA_FILE_ENV, raising=False)
    async with tls_in_front(relay, ca) as url:
        with pytest.raises(RelayCertificateError) as failed:
            await Space.create(
                tmp_path / "alex",
                relay_url=url,
                name="Alex",
                passphrase=PASSPHRASE,
                kdf_cost=CHEAP_COST,
            )
    assert failed.value.code == "relay_certificate"
    text = failed.value.message
    assert "certificate could not be verified" in text
    assert "--ca-file" in text
    assert "Could not reach" not in text
    # A relay that is really not there is still "could not reach", not a certificate.
    with pytest.raises(RelayUnreachable) as down:
        await Space.create(
            tmp_path / "b",
            relay_url="https://127.0.0.1:9",
            name="Alex",
            passphrase=PASSPHRASE,
            kdf_cost=CHEAP_COST,
        )
    assert not isinstance(down.value, RelayCertificateError)


async def test_with_the_ca_file_partners_pair_and_sync_over_https_and_wss(
    tmp_path: Path, relay: RelayProcess, ca: PrivateCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CA_FILE_ENV, str(ca.ca_cert))
    async with tls_in_front(relay, ca) as url:
        alex = await Space.create(
            tmp_path / "alex",
            relay_url=url,
            name="Alex",
            passphrase=PASSPHRASE,
            kdf_cost=CHEAP_COST,
        )
        code = await alex.invite()
        blake = await Space.join(
            tmp_path / "blake", code=code, name="Blake", passphrase=PASSPHRASE, kdf_cost=CHEAP_COST
        )
        async with alex, blake:
            assert blake.joined
            await alex.sync()
            await alex.append(JournalEntry(text="over a private CA"))
            await alex.sync()
            await blake.sync()
            assert [e.text for e in blake.journal()] == ["over a private CA"]
            # The sync websocket (wss) checks the certificate the same way.
            monkeypatch.delenv(CA_FILE_ENV)
            with pytest.raises(RelayCertificateError):
                await blake.sync()


async def test_the_cli_takes_ca_file_and_says_certificate_when_it_is_missing(
    tmp_path: Path, relay: RelayProcess, ca: PrivateCA
) -> None:
    async with tls_in_front(relay, ca) as url:
        without = await asyncio.to_thread(
            run, tmp_path / "a", "init", "--relay", url, "--name", "Alex", check=False
        )
        assert without.returncode == 1
        (line,) = without.stderr.strip().splitlines()
        assert line.startswith("trellis: The relay at ")
        assert "certificate could not be verified" in line
        assert "--ca-file" in line
        made = await asyncio.to_thread(
            run, tmp_path / "b", "--ca-file", str(ca.ca_cert), "init", "--relay", url,
            "--name", "Alex",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        bad = await asyncio.to_thread(
            run, tmp_path / "c", "--ca-file", str(tmp_path / "none.pem"), "init", "--relay",
            url, "--name", "Alex", check=False,
        )  # fmt: skip
        assert bad.returncode == 1
        assert "cannot be read as a PEM certificate" in bad.stderr
