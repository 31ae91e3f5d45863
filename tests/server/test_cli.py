"""Settings and the ``trellis-relay`` command line (server/settings.py, server/cli.py)."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.cli import build_parser, main, uvicorn_config
from server.settings import Settings, from_sources, settings_table
from tests.server.helpers import REPO_ROOT, RelayProcess


def test_every_setting_is_documented_in_help_with_its_flag_and_env_var() -> None:
    parser = build_parser()
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=10_000)
    help_text = " ".join(parser.format_help().split())
    fields = [f.name for f in dataclasses.fields(Settings)]
    assert [info.name for info in settings_table()] == fields
    for info in settings_table():
        assert info.help.strip(), f"{info.name} has no help text"
        assert info.flag in help_text
        assert info.env_var in help_text
        assert " ".join(info.help.split()) in help_text


def test_defaults_match_the_operations_contract() -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.db) == ("127.0.0.1", 8765, "./trellis-relay.db")
    assert settings.max_frame_bytes == 1024 * 1024
    assert settings.max_batch_envelopes == 500
    assert settings.auth_timeout_s == 10.0
    assert settings.invite_ttl_max_s == 7 * 24 * 3600
    settings.validate()


def test_the_environment_overrides_defaults_and_flags_override_the_environment() -> None:
    env = {"TRELLIS_RELAY_PORT": "9000", "TRELLIS_RELAY_DB": "/tmp/env.db"}
    settings = from_sources(env, {"port": 9100, "host": None})
    assert (settings.host, settings.port, settings.db) == ("127.0.0.1", 9100, "/tmp/env.db")
    args = vars(build_parser().parse_args(["--max-batch-envelopes", "7"]))
    assert from_sources({}, args).max_batch_envelopes == 7


def test_a_setting_that_cannot_work_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match=r"port must be"):
        from_sources({"TRELLIS_RELAY_PORT": "not-a-number"})
    with pytest.raises(ValueError, match="max_frame_bytes"):
        Settings(max_frame_bytes=1000).validate()
    with pytest.raises(ValueError, match="log_level"):
        Settings(log_level="loud").validate()


def test_a_bad_flag_exits_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--max-frame-bytes", "10"])
    assert exited.value.code == 2
    assert "max_frame_bytes" in capsys.readouterr().err


def test_the_server_stack_is_sansio_websockets_without_compression() -> None:
    config = uvicorn_config(Settings())
    assert isinstance(config.ws, type)
    assert issubclass(config.ws, WebSocketsSansIOProtocol)
    assert config.ws_per_message_deflate is False
    assert config.ws_max_size > Settings().max_frame_bytes


def test_python_dash_m_server_prints_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--max-frame-bytes" in result.stdout


def test_the_relay_says_where_it_listens_and_where_its_database_is(
    relay: RelayProcess,
) -> None:
    first_line = relay.log().splitlines()[0]
    assert f"http://127.0.0.1:{relay.port}" in first_line
    assert str(relay.db) in first_line
