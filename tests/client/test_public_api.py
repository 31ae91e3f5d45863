"""What README's "For app developers" imports is there, and importing the package stays
light (``trellis --help`` imports it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import client
from client.errors import ClientErrorCode, TrellisError
from client.space import Space
from schemas import payloads


def test_the_public_names_are_the_library_s_own() -> None:
    assert client.Space is Space
    assert client.TrellisError is TrellisError
    assert client.ClientErrorCode is ClientErrorCode
    assert client.payloads is payloads
    assert sorted(client.__all__) == sorted([*client._WHERE, "payloads"])
    for name in client.__all__:
        assert getattr(client, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        client.NoSuchThing  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, client; "
        "print(sorted(m for m in ('asyncio', 'aiosqlite', 'nacl', 'websockets') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
