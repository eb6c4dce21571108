"""Read submission workbooks into plain values: guard first, then calamine, in child processes.

`read_workbook(path)` runs `guard.check_bytes` on the file's bytes and hands the very same
bytes to python-calamine, returning a `RawWorkbook`: per sheet the row-1 header and the
non-blank rows with their Excel row numbers (counted from row 1 even when leading rows or
columns are blank), values as plain Python objects.

`read_many(paths, jobs)` reads many files in a small pool of worker processes (forkserver),
each with an address-space limit, and a timeout per file: a reader that aborts (calamine
aborts the process on allocation failure), runs out of memory or hangs costs only that file,
which comes back as an `UnreadableFile`; the other files go on. The worker function is
pluggable, so callers can read and normalise in the workers.

Cell values: empty or whitespace-only text -> None; numbers as int when integral (calamine
returns every number as float; 2024.0 -> 2024), float otherwise; booleans as bool; dates and
date-times as `datetime.date` / `datetime.datetime` (times and durations as `datetime.time` /
`datetime.timedelta`); error cells (#DIV/0!, #N/A) read as None and are listed in
`RawSheet.error_cells` (found by the guard). Merged cells hold their value
in the top-left cell only. Formula cells are read by their cached value; the cells without
one are listed in `RawSheet.formula_cells_without_value` (found by the guard).
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import os
import pickle
import resource
import signal
import tempfile
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import python_calamine

from pipeline.intake import guard
from pipeline.intake.guard import DEFAULT_LIMITS, GuardReport, Limits
from pipeline.intake.workbook import RawSheet, RawWorkbook, UnreadableFile

MAX_EXACT_INT = 2**53  # floats beyond this are not converted to int

READ_MESSAGES: dict[str, str] = {
    "reader-error": "The workbook could not be read ({detail}). Open it in Excel, save it again as .xlsx "
    "(File > Save As > Excel Workbook), and submit the new file.",
    "crashed": "The file could not be read: the reader crashed ({detail}), usually because the workbook is "
    "damaged or needs more than {memory_gb:g} GB of memory. Open it in Excel, save it again as .xlsx, delete "
    "unused sheets, rows and columns, and submit the new file.",
    "out-of-memory": "The file could not be read: the reader needed more than {memory_gb:g} GB of memory. "
    "The workbook is probably far larger than a normal submission; delete unused sheets, rows and columns, "
    "save, and submit it again.",
    "timeout": "The file could not be read: the reader took longer than {timeout_s:g} s and was stopped. The "
    "workbook is probably far larger than a normal submission; delete unused sheets, rows and columns, save, "
    "and submit it again.",
    "internal-error": "The pipeline failed on this file ({detail}). This is a fault of the pipeline, not of "
    "your workbook; please report it to the Greening the Blue team with the file attached.",
}


class ReaderFailed(UnreadableFile):
    """The worker reading a file crashed, timed out or raised an unexpected error.

    `kind` is "crashed", "out-of-memory", "timeout" or "internal-error"; `detail` holds the exit signal or the
    worker's traceback, for logs (not for focal points).
    """

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail

    def __reduce__(self):
        return (ReaderFailed, (self.kind, str(self), self.detail))


# --- one workbook ---------------------------------------------------------------------------


def read_workbook(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Guard and read one workbook; raise UnreadableFile (with a focal-point message) if it cannot be."""
    path = Path(path)
    data = _file_bytes(path, limits)
    report = guard.check_bytes(data, limits)
    sheets = _read_sheets(data, report)
    return RawWorkbook(
        path=str(path),
        file_name=path.name,
        sha256=report.sha256,
        size_bytes=report.size_bytes,
        sheets=sheets,
    )


def _file_bytes(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise guard.refuse("too-large", size_mb=size / guard.MiB, limit_mb=limits.max_file_bytes / guard.MiB)
        return path.read_bytes()
    except OSError as exc:
        raise guard.refuse("not-found", error=exc.strerror or str(exc)) from None


def _read_sheets(data: bytes, report: GuardReport) -> dict[str, RawSheet]:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # CalamineError and pyo3's PanicException (a BaseException) below
        raise _reader_error(exc) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise _reader_error(exc) from None
    sheets: dict[str, RawSheet] = {}
    with book:
        if list(book.sheet_names) != report.sheet_names:
            raise guard.refuse("damaged-part", detail="its list of sheets cannot be read consistently")
        for name in report.sheet_names:
            grid: list[list[object]] = []
            if report.sheet_kinds.get(name) == "worksheets":
                try:
                    grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
                except Exception as exc:
                    raise _reader_error(exc, name) from None
                except BaseException as exc:
                    if type(exc).__name__ != "PanicException":
                        raise
                    raise _reader_error(exc, name) from None
            sheets[name] = _raw_sheet(name, grid, report)
    return sheets


def _reader_error(exc: BaseException, sheet: str | None = None) -> UnreadableFile:
    where = f"sheet '{sheet}': " if sheet else ""
    return UnreadableFile(READ_MESSAGES["reader-error"].format(detail=f"{where}{type(exc).__name__}: {exc}"))


def _raw_sheet(name: str, grid: list[list[object]], report: GuardReport) -> RawSheet:
    """Grid from A1 (calamine, skip_empty_area=False) -> header and (Excel row, values) of non-blank rows."""
    header = _clean(grid[0]) if grid else []
    rows: list[tuple[int, list[object]]] = []
    for excel_row, values in enumerate(grid[1:], start=2):
        clean = _clean(values)
        if any(value is not None for value in clean):
            rows.append((excel_row, clean))
    return RawSheet(
        name=name,
        header=header,
        rows=rows,
        formula_cells_without_value=list(report.formula_cells_without_value.get(name, [])),
        error_cells=dict(report.error_cells.get(name, {})),
        hidden=name in report.hidden_sheets,
    )


def _clean(values: list[object]) -> list[object]:
    return [
        (v if v.strip() else None)
        if type(v) is str
        else (_number(v) if type(v) is float else v)
        for v in values
    ]


def _number(v: float) -> object:
    """2024.0 -> 2024; a non-finite number (<v>NaN</v>, <v>inf</v>) -> its text, so it is no number."""
    if v.is_integer() and -MAX_EXACT_INT <= v <= MAX_EXACT_INT:
        return int(v)
    if v != v or v in (float("inf"), float("-inf")):
        return repr(v)
    return v


# --- many workbooks, in worker processes ----------------------------------------------------

Work = Callable[..., object]


def read_many(
    paths: Iterable[Path | str],
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
    work: Work | None = None,
) -> Iterator[tuple[Path, object]]:
    """Yield (path, result) for every path, in completion order; result is an UnreadableFile on failure.

    `work(path)` runs in a worker process and defaults to `read_workbook(path, limits)`; it
    must be a picklable top-level function (or functools.partial of one) returning a
    picklable value. An UnreadableFile it raises is yielded as the result; so are crashes
    (ReaderFailed "crashed"), runs beyond `limits.reader_timeout_s` ("timeout") and any other
    exception ("internal-error"). Each worker's address space is capped at
    `limits.reader_memory_bytes`. Workers are reused from file to file; one that fails is replaced.
    """
    if work is None:
        work = functools.partial(read_workbook, limits=limits)
    yield from run_isolated(((Path(p), (Path(p),)) for p in paths), work, jobs, limits=limits)


def run_isolated(
    items: Iterable[tuple[Any, tuple]],
    work: Work,
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[tuple[Any, object]]:
    """Run `work(*args)` for every (key, args) in worker processes; yield (key, result) as they finish.

    The isolation of `read_many`, for any work on untrusted files (reading, annotating): each
    worker's address space is capped at `limits.reader_memory_bytes` and each task at
    `limits.reader_timeout_s`; a crash, timeout or exception becomes a `ReaderFailed` (or the
    `UnreadableFile` the work raised) as that task's result, never the caller's exception.
    """
    tasks = deque((index, key, args) for index, (key, args) in enumerate(items))
    if not tasks:
        return
    pool = _Pool(min(max(1, jobs), len(tasks)), work, limits)
    try:
        yield from pool.run(tasks)
    finally:
        pool.close()


@dataclass
class _Task:
    index: int
    key: Any
    deadline: float


class _Worker:
    """One worker process, its pipe, and the file its stderr goes to (reader crash messages)."""

    def __init__(self, context: multiprocessing.context.BaseContext, work: Work, limits: Limits) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="gtb-reader-", suffix=".log")
        os.close(fd)
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_conn, work, limits.reader_memory_bytes, self.log_path), daemon=True
        )
        self.process.start()
        child_conn.close()
        self.ready = False
        self.task: _Task | None = None

    def log_tail(self, size: int = 2000) -> str:
        """The end of what the worker wrote to stderr (e.g. Rust's 'memory allocation of N bytes failed')."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(max(0, os.fstat(fh.fileno()).st_size - size))
                return fh.read().decode("utf-8", errors="replace").strip()
        except OSError:
            return ""

    def stop(self, kill: bool) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


class _Pool:
    """A few long-lived worker processes, each fed one path at a time over its own pipe."""

    def __init__(self, jobs: int, work: Work, limits: Limits) -> None:
        self.context = _context(work)
        self.work = work
        self.limits = limits
        self.workers = [_Worker(self.context, work, limits) for _ in range(jobs)]
        self.failed_starts = 0

    def run(self, tasks: deque[tuple[int, Any, tuple]]) -> Iterator[tuple[Any, object]]:
        outstanding = len(tasks)
        while outstanding:
            for slot, worker in enumerate(self.workers):
                if worker.ready and worker.task is None and tasks:
                    index, key, args = tasks.popleft()
                    try:
                        worker.conn.send((index, args))
                    except OSError:  # the worker died while idle: not this file's fault
                        tasks.appendleft((index, key, args))
                        self._replace(slot, kill=True)
                        continue
                    worker.task = _Task(index, key, time.monotonic() + self.limits.reader_timeout_s)
            busy = [w.task.deadline for w in self.workers if w.task is not None]
            timeout = max(0.0, min(busy) - time.monotonic()) if busy else None
            wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers], timeout)
            for slot, worker in enumerate(self.workers):
                outcome = self._poll(slot, worker)
                if outcome is not None:
                    outstanding -= 1
                    yield outcome

    def _poll(self, slot: int, worker: _Worker) -> tuple[Any, object] | None:
        """Collect what one worker has to say: ready, a result, a crash or a timeout."""
        try:
            message = worker.conn.recv() if worker.conn.poll() else None
        except (EOFError, OSError):  # the worker is exiting: let it finish dying
            message = None
            worker.process.join(timeout=5)
        if message is not None:
            if message[0] == "ready":
                worker.ready = True
                self.failed_starts = 0
                return None
            task, worker.task = worker.task, None
            assert task is not None and message[0] == task.index
            return task.key, _result(message, self.limits.reader_memory_bytes / 2**30)
        task = worker.task
        if not worker.process.is_alive():
            started, log = worker.ready, worker.log_tail()
            worker.process.join()
            reason = _exit_reason(worker.process.exitcode)
            self._replace(slot, kill=False)
            if task is None:
                if not started:
                    self.failed_starts += 1
                    if self.failed_starts > 3:
                        raise RuntimeError(f"the reading worker processes cannot start ({reason}): {log}")
                return None
            return task.key, ReaderFailed(
                "crashed",
                READ_MESSAGES["crashed"].format(
                    detail=reason, memory_gb=self.limits.reader_memory_bytes / 2**30
                ),
                detail=f"{reason}; the reader's last words: {log}" if log else reason,
            )
        if task is not None and time.monotonic() > task.deadline:
            self._replace(slot, kill=True)
            return task.key, ReaderFailed(
                "timeout", READ_MESSAGES["timeout"].format(timeout_s=self.limits.reader_timeout_s)
            )
        return None

    def _replace(self, slot: int, kill: bool) -> None:
        self.workers[slot].stop(kill=kill)
        self.workers[slot] = _Worker(self.context, self.work, self.limits)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(kill=worker.task is not None)


def _result(message: tuple, memory_gb: float) -> object:
    _, status, *payload = message
    if status == "ok":
        return payload[0]
    if status == "unreadable":
        return payload[0]
    if status == "memory":
        return ReaderFailed("out-of-memory", READ_MESSAGES["out-of-memory"].format(memory_gb=memory_gb), payload[1])
    return ReaderFailed("internal-error", READ_MESSAGES["internal-error"].format(detail=payload[0]), payload[1])


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"stopped by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"stopped by signal {-exitcode}"
    return f"exit code {exitcode}"


_PRELOAD = ["pipeline.intake.read"]


def _context(work: Work | None = None) -> multiprocessing.context.BaseContext:
    """forkserver: children fork from a clean single-threaded server that has the work's module loaded.

    Plain fork is unsafe once the parent runs threads (DuckDB, BLAS); spawn would re-import
    everything in every worker. The server starts once per process, preloading the module of
    the first work function (e.g. pipeline.intake.validate with pandas and pandera), so a worker costs
    a fork, not the imports.
    """
    return _context_preloading(getattr(getattr(work, "func", work), "__module__", None))


def _context_preloading(module: str | None) -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        if module and module not in _PRELOAD:
            _PRELOAD.append(module)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def warm_up(module: str) -> None:
    """Start the fork server now, preloading `module` (the work function's), so that its imports
    run while the caller is still importing its own; the first worker is then ready at once."""
    if _context_preloading(module).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _worker_main(conn: Connection, work: Work, memory_bytes: int, log_path: str = "") -> None:
    """Loop of a worker process: receive (index, args), send (index, status, payload...).

    stderr goes to `log_path`, so a reader's dying words (Rust panics and allocation failures
    print there) end up in ReaderFailed.detail instead of the user's console.
    """
    if log_path:
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(log, 2)
        os.close(log)
        os.environ["RUST_BACKTRACE"] = "0"  # one line (e.g. "memory allocation of N bytes failed")
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, args = task
        try:
            reply = (index, "ok", work(*args))
        except UnreadableFile as exc:
            reply = (index, "unreadable", exc if _picklable(exc) else UnreadableFile(str(exc)))
        except MemoryError:
            reply = (index, "memory", "MemoryError", traceback.format_exc())
        except BaseException as exc:  # includes pyo3's PanicException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reply = (index, "error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result: pickling fails before anything is sent
            conn.send((index, "error", f"the result could not be sent back ({type(exc).__name__}: {exc})", ""))


__all__ = ["READ_MESSAGES", "ReaderFailed", "read_many", "read_workbook", "run_isolated"]
