"""``trellis-relay backup`` and ``trellis-relay check`` (docs/OPERATIONS.md §6).

Plain synchronous sqlite3: these run as their own short-lived process next to a relay
that keeps serving, or inside the relay before it migrates a database.

* ``backup_database`` copies a live database with SQLite's online backup API in one
  step, which reads one consistent snapshot even while the relay commits (WAL readers
  never block the writer, nor it them). The copy is written beside the target, checked
  (``PRAGMA integrity_check``), flushed to disk and only then renamed into place, so
  a backup file that exists is always complete.
* ``check_database`` opens a database read-only and checks SQLite's own integrity and
  the relay's invariants: each space's seqs are dense and end at its head, its byte
  count is right, every stored envelope is canonical, belongs to its space, is signed
  by its author, and continues its author's chain (whose links are the hashes of the
  stored envelopes: schema version 5 keeps no separate event id).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.envelope import EnvelopeFormatError, decode_envelope, event_id_of, signed_bytes
from server._migrations import migrations
from server.ingest import signature_valid
from server.store import COMMON_PREFIX_BYTES, COMPACT_POSTGRES, COMPACT_SQLITE, full_envelope

BACKUP_FILE_MODE = 0o600
MAX_PROBLEMS_SHOWN = 50
BUSY_TIMEOUT_S = 30.0
INTEGER_IDS_VERSION = 5
"""The schema this check reads (server/migrations/0005_integer_ids.sql)."""


class OpsError(RuntimeError):
    """A backup or check could not run at all (no database, target exists...)."""


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_database(source: str, target: str) -> Path:
    """A consistent copy of the database at ``source`` in the new file ``target``."""
    source_path = Path(source)
    target_path = Path(target)
    if not source_path.is_file():
        raise OpsError(f"there is no database at {source_path}")
    if target_path.exists():
        raise OpsError(f"{target_path} exists already; choose a new file name")
    if not target_path.parent.is_dir():
        raise OpsError(f"the folder {target_path.parent} does not exist")
    partial = target_path.with_name(target_path.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_S)
    try:
        src.execute("PRAGMA query_only=ON")
        dst = sqlite3.connect(partial)
        try:
            os.chmod(partial, BACKUP_FILE_MODE)
            # pages=-1: the whole database in one step, from one read snapshot.
            src.backup(dst, pages=-1)
            # A backup is one self-contained file, not a WAL database with companions.
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise OpsError(f"the copy failed its integrity check: {verdict}")
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    _fsync_path(partial)
    os.replace(partial, target_path)
    _fsync_path(target_path.parent)
    return target_path


def migration_backup_path(db: str, from_version: int, to_version: int) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return Path(f"{db}.v{from_version}-before-v{to_version}-{stamp}.bak")


# --- check ---------------------------------------------------------------------------


@dataclass(slots=True)
class CheckReport:
    schema_version: int = 0
    spaces: int = 0
    events: int = 0
    envelope_bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def summary(self) -> str:
        if self.ok:
            return (
                f"ok: schema version {self.schema_version}, {self.spaces} spaces, "
                f"{self.events} events, {self.envelope_bytes} bytes of envelopes"
            )
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        lines = [f"{len(self.problems)} problems found:", *(f"- {p}" for p in shown)]
        if more:
            lines.append(f"- … and {more} more")
        return "\n".join(lines)


def _rows(
    db: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()
) -> Iterator[tuple[Any, ...]]:
    cursor = db.execute(sql, params)
    while chunk := cursor.fetchmany(512):
        yield from chunk


def check_database(path: str, *, signatures: bool = True) -> CheckReport:
    """Check a relay database without changing it (safe while the relay serves)."""
    db_path = Path(path)
    if not db_path.is_file():
        raise OpsError(f"there is no database at {db_path}")
    db = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    report = CheckReport()
    try:
        # One read transaction: every check sees the same snapshot.
        db.execute("BEGIN")
        verdicts = [row[0] for row in db.execute("PRAGMA integrity_check")]
        if verdicts != ["ok"]:
            report.problems.extend(f"sqlite integrity: {v}" for v in verdicts)
            return report
        for row in db.execute("PRAGMA foreign_key_check"):
            report.problem(f"a row of {row[0]} refers to a missing row of {row[2]}")
        _check_schema(db, report)
        if report.schema_version < 1:
            return report
        if report.schema_version < INTEGER_IDS_VERSION:
            report.problem(
                f"schema version {report.schema_version} is older than this relay's "
                f"({len(migrations())}); start the relay on a copy once to upgrade it, "
                "then check that copy"
            )
            return report
        _check_spaces(db, report)
        _check_events(db, report, signatures=signatures)
        _check_invites(db, report)
    except sqlite3.DatabaseError as exc:
        report.problem(f"the database cannot be read: {exc}")
    finally:
        db.close()
    return report


def _check_schema(db: sqlite3.Connection, report: CheckReport) -> None:
    try:
        (version,) = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        report.problem("this is not a Trellis relay database (no schema_version table)")
        return
    report.schema_version = int(version or 0)
    known = len(migrations())
    if report.schema_version > known:
        report.problem(
            f"schema version {report.schema_version} is newer than this relay knows ({known})"
        )


_SPACES_SUMMARY = (
    "SELECT s.space_id, s.head, s.bytes, COUNT(e.seq), COALESCE(MAX(e.seq), 0), "
    "COALESCE(MIN(e.seq), 1), COALESCE(SUM(LENGTH(e.envelope) + CASE WHEN <compact> "
    "THEN <prefix> ELSE 0 END), 0) "
    "FROM spaces s LEFT JOIN events e ON e.space = s.id GROUP BY s.id"
)
"""Each space's head, byte count, events and the bytes of their envelopes as pushed;
``<compact>`` is the SQL test for an envelope kept without its common prefix of
``<prefix>`` bytes (store.py, stored_form)."""


def spaces_summary(compact: str) -> str:
    return _SPACES_SUMMARY.replace("<compact>", compact).replace(
        "<prefix>", str(COMMON_PREFIX_BYTES)
    )


SPACES_SUMMARY = spaces_summary(COMPACT_SQLITE)
SPACES_SUMMARY_POSTGRES = spaces_summary(COMPACT_POSTGRES)


def _check_spaces(db: sqlite3.Connection, report: CheckReport) -> None:
    check_space_rows(_rows(db, SPACES_SUMMARY), report)
    for (space_id,) in _rows(
        db,
        "SELECT DISTINCT space FROM events WHERE space NOT IN (SELECT id FROM spaces)",
    ):
        report.problem(f"events of an unknown space (number {space_id})")


def check_space_rows(rows: Iterable[Sequence[Any]], report: CheckReport) -> None:
    """Each space's seqs are 1..head without gaps and its byte count is right; rows
    are those of ``_SPACES`` (PostgreSQL runs the same query, pg_ops.py)."""
    for space_id, head, stored_bytes, count, top, bottom, total in rows:
        name = bytes(space_id)[:4].hex()
        report.spaces += 1
        report.events += count
        report.envelope_bytes += total
        if not (count == top == head and bottom == 1):
            report.problem(
                f"space {name}: {count} events with seqs {bottom}..{top}, head {head}; "
                "seqs must be 1..head without gaps"
            )
        if stored_bytes != total:
            report.problem(f"space {name}: bytes is {stored_bytes} but its events hold {total}")


EVENTS_IN_CHAIN_ORDER = (
    "SELECT s.space_id, e.seq, d.device_id, e.author_seq, e.envelope FROM events e "
    "JOIN spaces s ON s.id = e.space JOIN devices d ON d.id = e.author "
    "ORDER BY e.space, e.author, e.author_seq"
)


def _check_events(db: sqlite3.Connection, report: CheckReport, *, signatures: bool) -> None:
    check_event_rows(_rows(db, EVENTS_IN_CHAIN_ORDER), report, signatures=signatures)


ChainPlace = tuple[bytes, bytes, int, bytes]
"""space, author, author_seq, event id of the last event checked."""


def check_event_rows(
    rows: Iterable[Sequence[Any]],
    report: CheckReport,
    *,
    signatures: bool,
    previous: ChainPlace | None = None,
) -> ChainPlace | None:
    """Every envelope is canonical, in its row's space and chain place, signed, and
    linked to its author's previous one; rows as ``EVENTS_IN_CHAIN_ORDER`` gives them.

    Schema version 5 stores no event id: it is the hash of the envelope, and a changed
    envelope shows as a broken signature, chain or canonical form. Returns where it
    stopped, to go on with the next chunk of rows from there."""
    for space_id, seq, author, author_seq, envelope in rows:
        space, author = bytes(space_id), bytes(author)
        raw = full_envelope(bytes(envelope), space, author)
        event_id = event_id_of(raw)
        where = f"space {space[:4].hex()} seq {seq}"
        try:
            env = decode_envelope(raw)
        except EnvelopeFormatError as exc:
            report.problem(f"{where}: not a canonical envelope ({exc})")
            previous = (space, author, author_seq, event_id)
            continue
        if env.space_id != space or env.author != author or env.seq != author_seq:
            report.problem(f"{where}: the envelope's space, author or seq differ from its row")
        if signatures and not signature_valid(env.author, signed_bytes(env), env.signature):
            report.problem(f"{where}: the signature does not verify")
        same_chain = previous is not None and previous[:2] == (space, author)
        expected_seq = previous[2] + 1 if same_chain and previous is not None else 1
        expected_prev = previous[3] if same_chain and previous is not None else None
        if author_seq != expected_seq:
            report.problem(f"{where}: author seq {author_seq} where {expected_seq} was due")
        elif env.prev != expected_prev:
            report.problem(f"{where}: prev does not name the author's previous event")
        previous = (space, author, author_seq, event_id)
    return previous


INVITES_OF_NO_DEVICE = (
    "SELECT s.space_id, i.redeemed_by FROM invites i JOIN spaces s ON s.id = i.space "
    "WHERE i.redeemed_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM devices d "
    "WHERE d.space = i.space AND d.device_id = i.redeemed_by)"
)


def _check_invites(db: sqlite3.Connection, report: CheckReport) -> None:
    check_invite_rows(_rows(db, INVITES_OF_NO_DEVICE), report)


def check_invite_rows(rows: Iterable[Sequence[Any]], report: CheckReport) -> None:
    for space_id, redeemed_by in rows:
        report.problem(
            f"space {bytes(space_id)[:4].hex()}: an invite was redeemed by device "
            f"{bytes(redeemed_by)[:4].hex()}, which is not a device of the space"
        )
