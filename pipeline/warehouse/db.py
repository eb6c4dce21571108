"""Opening the DuckDB warehouse: clear one-line errors, migrations, no surprise overwrites.

- Opening waits a little for a database another process has open (DuckDB holds a file lock): a
  writer up to `LOCK_WAIT_S["write"]`, a reader up to `LOCK_WAIT_S["read"]`, so that the portal's
  short reads never fail a run, nor a run's commit a page; past that, one line: "database is in
  use by another run or program".
- A file that is not a DuckDB database is reported and left untouched, never overwritten.
- A new database gets the current schema (`schema.ddl()`); an older one its missing migrations.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline import safe
from pipeline.errors import DatabaseBusy, GtbError
from pipeline.warehouse import schema


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# How long opening waits for another process to let go of the database, in seconds: a page of the
# portal or `gtb status` reads it for a fraction of a second; a run or a recalculation holds it
# for as long as it writes.
LOCK_WAIT_S = {"write": 15.0, "read": 2.0}


def _is_lock(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and "lock" in str(exc).lower()


def _deadline(wait: str) -> float:
    return time.monotonic() + LOCK_WAIT_S[wait]


def _duckdb_connect(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, waiting while another process holds the file's lock, until `deadline`
    (`time.monotonic()`)."""
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not _is_lock(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def _explain(exc: Exception, path: Path) -> GtbError:
    text = str(exc)
    if "lock" in text.lower():
        return DatabaseBusy(
            f"database is in use by another run or program: {path} "
            "(wait for it to finish, close the program that has it open, or use --db)"
        )
    if "not a valid duckdb" in text.lower() or "database file" in text.lower() or "magic" in text.lower():
        return GtbError(f"{path} is not a readable DuckDB database; it was left untouched (move it away or use --db)")
    if "permission denied" in text.lower():
        return GtbError(f"cannot open the database {path}: permission denied (a read-only folder or file?)")
    if "could not read enough bytes" in text.lower():
        return GtbError(
            f"{path} is damaged (cut short); it was left untouched. Restore it from a backup or move it away"
        )
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return GtbError(f"cannot open the database {path}: {first_line}")


# A DuckDB file: three 4 KiB headers, the magic "DUCK" at byte 8 of the first, then whole blocks.
HEADER_BYTES = 3 * 4096
MAGIC = (8, b"DUCK")


def check_file(path: Path, wait: str = "read", deadline: float | None = None) -> None:
    """Refuse, without writing a byte, an existing file that is not a whole DuckDB database.

    A foreign file (no DuckDB magic) or a truncated one (shorter than its headers and the blocks
    its header counts) gets one line; DuckDB itself would fail only later, on the first block it
    misses, after a writer had already rewritten the header.
    """
    try:
        if not path.exists():
            return
        if not path.is_file():
            raise GtbError(f"{path} is not a file; give --db the path of a database file")
        with path.open("rb") as fh:
            head = fh.read(MAGIC[0] + len(MAGIC[1]))
    except OSError as exc:
        raise GtbError(f"cannot read the database {path}: {exc.strerror or exc}") from None
    if head[MAGIC[0] :] != MAGIC[1]:
        raise GtbError(f"{path} is not a readable DuckDB database; it was left untouched (move it away or use --db)")
    try:
        with _duckdb_connect(path, True, deadline or _deadline(wait)) as probe:
            # the size once the probe holds the file: taken before a wait for a writer's lock, it
            # was the file before the writer grew it, and a busy warehouse read as "damaged"
            size = path.stat().st_size
            block_size, last_block = _last_used_block(probe)
    except (duckdb.Error, OSError) as exc:
        raise _explain(exc, path) from None
    expected = HEADER_BYTES + block_size * (last_block + 1)
    if size < expected:
        raise GtbError(
            f"{path} is damaged: {size:,} bytes where its blocks need {expected:,} (cut short in a copy or a "
            "full disk?); it was left untouched. Restore it from a backup or move it away and rerun gtb run"
        )


def _last_used_block(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """The block size and the highest block a whole file must hold.

    Not simply the header's `total_blocks`: a checkpoint writes the header, then trims free blocks
    at the end of the file, so a whole file can be shorter than headers + total_blocks blocks.
    Two lower bounds that hold for every whole file: the blocks not on the free list (every free
    block beyond the file's end is on it), and the highest block any table's data uses.
    """
    [(block_size, total, free)] = con.execute(
        "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size()"
    ).fetchall()
    last = int(total) - int(free) - 1
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    for schema_name, table in tables:
        name = f"{schema_name}.{table}".replace("'", "''")
        [(used,)] = con.execute(
            f"SELECT max(block_id) FROM pragma_storage_info('{name}') WHERE block_id >= 0"
        ).fetchall()
        if used is not None:
            last = max(last, int(used))
    return int(block_size), last


def connect(path: Path, read_only: bool = False, create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (and for writers create and migrate) the warehouse at `path`. `create=False`: a writer
    that only changes a warehouse `gtb run` made (`gtb accept`, `gtb recalculate`) refuses a path
    where there is none, rather than making an empty one (a mistyped --db, its folders too).
    A DuckDB file that holds tables but is no warehouse of gtb's is refused, untouched."""
    path = Path(path)
    if (read_only or not create) and not path.exists():
        raise GtbError(f"no database at {path}: run `gtb run` first (or give --db)")
    deadline = _deadline("read" if read_only else "write")  # one wait for the check and the open
    check_file(path, deadline=deadline)
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GtbError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    try:
        con = _duckdb_connect(path, read_only, deadline)
    except (duckdb.Error, OSError) as exc:
        raise _explain(exc, path) from None
    try:
        version = _refuse_foreign(con, path)
        if not version and (read_only or not create):
            raise GtbError(f"{path} holds no warehouse yet (an empty database): run `gtb run` first (or give --db)")
    except BaseException:
        con.close()
        raise
    if read_only and version < schema.LATEST:  # a warehouse of an earlier pipeline: upgraded first
        con = _upgraded(con, path, version, deadline)
    if read_only:
        # one thread: DuckDB's parallel float sums differ in the last bit from run to run, and
        # published figures must be reproducible (the views are small; a thread is enough)
        con.execute("SET threads = 1")
    else:
        try:
            migrate(con)
        except duckdb.Error as exc:
            con.close()
            raise _explain(exc, path) from None
    return con


def _upgraded(
    reader: duckdb.DuckDBPyConnection, path: Path, version: int, deadline: float
) -> duckdb.DuckDBPyConnection:
    """A reader's connection to the warehouse an earlier pipeline left at schema `version`, once
    migrated: the tracker, the report and the portal's pages read columns the later migrations
    add, and a reader cannot migrate on its own connection. It is closed, a writer opens the file
    for the migrations and closes it (one that holds the file already, a run, has migrated it on
    opening, so waiting for it is enough), and the reader opens it again."""
    reader.close()
    try:
        writer = _duckdb_connect(path, False, deadline)
    except (duckdb.Error, OSError) as exc:
        raise GtbError(
            f"the database at {path} has schema version {version}, older than this pipeline's "
            f"({schema.LATEST}), and could not be opened to upgrade it ({_explain(exc, path)}); "
            "`gtb run` upgrades it"
        ) from None
    try:
        migrate(writer)
    except duckdb.Error as exc:
        raise _explain(exc, path) from None
    finally:
        writer.close()
    try:
        return _duckdb_connect(path, True, deadline)
    except (duckdb.Error, OSError) as exc:
        raise _explain(exc, path) from None


def _refuse_foreign(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The database's gtb schema version (0: none yet), after refusing one without it that holds
    tables or views: another program's, not to be migrated into (an empty one is a new warehouse)."""
    version = current_version(con)
    if version:
        return version
    names = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "AND NOT internal ORDER BY 1 LIMIT 4"
        ).fetchall()
    ]
    if names:
        shown = ", ".join(safe.console_safe(str(n)) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        raise GtbError(
            f"{path} is a DuckDB database of another program (it holds {shown}), not a gtb warehouse; "
            "it was left untouched (give --db the path of gtb's database)"
        )
    return 0


@contextmanager
def read_lock(path: Path, wait: str = "read") -> Iterator[None]:
    """A reader's hold on the database at `path` for the block: no writer (`gtb run`, `gtb
    accept`) opens it meanwhile, so that the block can copy the file and its WAL whole, neither
    torn by a write nor one of them older than the other."""
    try:
        con = _duckdb_connect(path, True, _deadline(wait))
    except (duckdb.Error, OSError) as exc:
        raise _explain(exc, path) from None
    try:
        yield
    finally:
        con.close()


@contextmanager
def opened(path: Path, read_only: bool = False, create: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only, create=create)
    try:
        yield con
    finally:
        con.close()


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' AND schema_name = 'main'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Create a new database from the current schema (its comments included), or upgrade an
    older one migration by migration, each in its own transaction, then refresh the comments
    from the contract."""
    version = current_version(con)
    if version > schema.LATEST:
        raise GtbError(
            f"the database has schema version {version}, newer than this pipeline ({schema.LATEST}); "
            "upgrade the pipeline"
        )
    if version == 0:
        with transaction(con):
            con.execute(schema.ddl())
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [schema.LATEST, utcnow(), "created from the current schema"],
            )
        return schema.LATEST  # its comments came with it: the schema is the contract's as it is now
    for number, path in schema.migrations().items():
        if number <= version:
            continue
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [number, utcnow(), f"migration {path.stem}"])
    with transaction(con):
        con.execute(schema.comments())
    return schema.LATEST


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, or ROLLBACK when anything (even a KeyboardInterrupt) escapes."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
