"""One table of the client's error codes (client/errors.py, docs/PROTOCOL.md §8.1).

An app branches on ``TrellisError.code``, so every code must be a member of
``ClientErrorCode`` (no free string anywhere a code is given) and must be explained in
PROTOCOL.md. The scan walks every module under client/, whatever package it is in.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from client import errors
from client.errors import ClientErrorCode, RelayProtocolError, RelayRefused, TrellisError

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"


def _documented_codes() -> list[str]:
    text = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    start = text.index("### 8.1 Client error codes")
    section = text[start : text.index("\n#", start + 1)]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_every_code_is_documented_once_and_nothing_else_is() -> None:
    documented = _documented_codes()
    assert len(documented) == len(set(documented))
    assert sorted(documented) == sorted(code.value for code in ClientErrorCode)


def _free_string_codes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for each place a code is spelled as a string literal."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    found.append((node.lineno, f"code={keyword.value.value!r}"))
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if (
                name in {"_fail", "SessionFailed"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append((node.lineno, f"{name}({node.args[0].value!r}, ...)"))
            if name == "TrellisError" and not any(k.arg == "code" for k in node.keywords):
                found.append((node.lineno, "TrellisError(...) without a code"))
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (
                    isinstance(item, ast.Assign | ast.AnnAssign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "code"
                        for t in (item.targets if isinstance(item, ast.Assign) else [item.target])
                    )
                    and isinstance(item.value, ast.Constant)
                    and isinstance(item.value.value, str)
                ):
                    found.append((item.lineno, f"class {node.name}: code = {item.value.value!r}"))
    return found


def test_every_raise_in_the_client_uses_the_enum() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted(CLIENT.rglob("*.py"))
        for line, what in _free_string_codes(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == [], "use ClientErrorCode (client/errors.py):\n" + "\n".join(offenders)


def test_the_scan_finds_a_free_string_code() -> None:
    source = (
        "raise TrellisError('x', code='not_found')\n"
        "raise TrellisError('y')\n"
        "class E(TrellisError):\n    code = 'e'\n"
        "self._fail('bad_relay_frame', 'detail')\n"
    )
    assert sorted(line for line, _ in _free_string_codes(ast.parse(source))) == [1, 2, 4, 5]


def test_every_error_class_has_a_code_of_the_enum() -> None:
    classes = [
        c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, TrellisError)
    ]
    assert errors.UsageError in classes
    assert not hasattr(errors, "NotFound")  # never raised: gone
    for cls in classes:
        assert isinstance(cls.code, ClientErrorCode), cls


def test_the_clients_own_protocol_errors_are_not_relay_refusals() -> None:
    from client.store.transport import _refusal

    for code in (ClientErrorCode.BAD_RELAY_FRAME, ClientErrorCode.UNEXPECTED_RELAY_MESSAGE):
        error = _refusal(code)
        assert isinstance(error, RelayProtocolError)
        assert not isinstance(error, RelayRefused)
        assert error.code == code
        assert "does not know" not in error.message
    refused = _refusal("device_revoked")
    assert isinstance(refused, RelayRefused)
    assert refused.code == "device_revoked"
