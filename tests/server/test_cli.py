"""Settings and the ``trellis-relay`` command line (server/settings.py, server/cli.py)."""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.cli import build_parser, main, uvicorn_config
from server.settings import CONFIG_ENV_VAR, Settings, from_sources, settings_table
from tests.integration.relay_process import REPO_ROOT, RelayProcess


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
    (line,) = [line for line in relay.log().splitlines() if "listening on" in line]
    assert f"http://127.0.0.1:{relay.port}" in line
    assert str(relay.db) in line
    assert f"metrics and admin on http://127.0.0.1:{relay.operator_port}" in line


# --- the config file ------------------------------------------------------------------


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_config_file_sets_defaults_that_the_environment_and_flags_override(
    tmp_path: Path,
) -> None:
    config = write(
        tmp_path / "relay.toml",
        'port = 9001\ndb = "/srv/relay.db"\nidle_timeout_s = 30\n'
        'public_hosts = ["Relay.Example.org", "relay.example.org:8443"]\n',
    )
    settings = from_sources({}, {"config": config})
    assert (settings.port, settings.db, settings.idle_timeout_s) == (9001, "/srv/relay.db", 30.0)
    assert settings.public_hosts == ("relay.example.org", "relay.example.org:8443")
    env = {CONFIG_ENV_VAR: config, "TRELLIS_RELAY_PORT": "9002"}
    assert from_sources(env).port == 9002
    assert from_sources(env, {"port": 9003}).port == 9003
    assert from_sources(env).db == "/srv/relay.db", "the file named by the environment is read"


def test_a_config_file_with_an_unknown_setting_or_a_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'max_frames', which is not a setting"):
        from_sources({}, {"config": write(tmp_path / "a.toml", "max_frames = 3\n")})
    with pytest.raises(ValueError, match=r"port in config file .* must be a whole number"):
        from_sources({}, {"config": write(tmp_path / "b.toml", 'port = "high"\n')})
    with pytest.raises(ValueError, match="not valid TOML"):
        from_sources({}, {"config": write(tmp_path / "c.toml", "port = \n")})
    with pytest.raises(ValueError, match="does not exist"):
        from_sources({}, {"config": str(tmp_path / "missing.toml")})


def test_limits_that_can_be_turned_off_take_zero_and_others_must_be_positive() -> None:
    off = Settings(max_connections_per_address=0, idle_timeout_s=0, max_space_bytes=0)
    off.validate()
    with pytest.raises(ValueError, match="max_pushes_per_s must be more than 0"):
        Settings(max_pushes_per_s=0).validate()
    with pytest.raises(ValueError, match=r"max_space_events must be 0 \(off\) or more"):
        Settings(max_space_events=-1).validate()
    with pytest.raises(ValueError, match="public_hosts"):
        Settings(public_hosts=("https://relay.example.org",)).validate()
    assert from_sources(
        {"TRELLIS_RELAY_PUBLIC_HOSTS": "a.example, b.example:8443"}
    ).public_hosts == (
        "a.example",
        "b.example:8443",
    )


def test_a_bad_config_file_stops_the_relay_with_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path / "relay.toml", "max_batch_envelopes = -5\n")
    with pytest.raises(SystemExit) as exited:
        main(["--config", config])
    assert exited.value.code == 2
    assert "max_batch_envelopes must be more than 0" in capsys.readouterr().err


# --- docs/OPERATIONS.md --------------------------------------------------------------

OPERATIONS = REPO_ROOT / "docs" / "OPERATIONS.md"
_TABLE_ROW = re.compile(r"^\| `([a-z_]+)` \| `(--[a-z-]+)` \| `(TRELLIS_RELAY_[A-Z_]+)` \|", re.M)


def test_every_setting_is_documented_in_operations_md_and_nothing_else_is() -> None:
    rows = {name: (flag, env) for name, flag, env in _TABLE_ROW.findall(OPERATIONS.read_text())}
    table = {info.name: (info.flag, info.env_var) for info in settings_table()}
    undocumented = sorted(set(table) - set(rows))
    assert not undocumented, f"settings missing from docs/OPERATIONS.md §2: {undocumented}"
    assert rows == table, "docs/OPERATIONS.md lists a setting, flag or variable that is not so"


def test_every_command_is_documented_in_operations_md() -> None:
    text = OPERATIONS.read_text()
    for command in ("trellis-relay backup --out", "trellis-relay check", "--config"):
        assert command in text
