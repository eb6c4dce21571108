"""Isolated worker processes for work on untrusted files: reading, annotating.

`run_isolated(items, work, jobs, memory_bytes, timeout_s)` runs `work(*args)` for every
(key, args) in a small pool of long-lived worker processes (forkserver), each with an
address-space limit (on top of the modules it starts with), and a timeout per task: a parser
that aborts (calamine aborts the process on allocation failure), runs out of memory or hangs
costs only that task, whose result is then
a `ReaderFailed`; the other tasks go on. An `UnreadableFile` the work raises is that task's
result too. Results come back in completion order.

`stopping_pools()` stops, as its block ends, every pool started in it and still running (in
another thread: a reading ahead): for a process about to end, on Ctrl-C or SIGTERM among others,
which would leave their workers and log files behind.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.errors import UnreadableFile

if TYPE_CHECKING:
    from multiprocessing.context import ForkServerContext, SpawnContext

Work = Callable[..., object]


class Limits(Protocol):
    """What bounds a worker: its address space and the time one task may take (guard.Limits has both)."""

    @property
    def reader_memory_bytes(self) -> int: ...

    @property
    def reader_timeout_s(self) -> float: ...


@dataclass(frozen=True)
class WorkerLimits:
    reader_memory_bytes: int = 2 * 2**30
    reader_timeout_s: float = 60.0


DEFAULT_LIMITS = WorkerLimits()


def default_jobs() -> int:
    """Worker processes when none are asked for: the cores, at most two."""
    return max(1, min(2, os.cpu_count() or 1))


class ReaderFailed(UnreadableFile):
    """The worker crashed, ran out of memory or time, or raised an unexpected error.

    `kind` is "crashed", "out-of-memory", "timeout" or "internal-error" (its catalogue message is
    `unreadable-file.<kind>`); `detail` holds the exit signal or the worker's traceback, for logs
    (not for focal points).
    """

    def __init__(self, kind: str, params: dict[str, Any], detail: str = "") -> None:
        super().__init__(f"unreadable-file.{kind}", params)
        self.kind = kind
        self.detail = detail


class PoolStopped(RuntimeError):
    """The pool was stopped from outside (`stopping_pools`): its caller's work ends there."""


def run_isolated(
    items: Iterable[tuple[Any, tuple]],
    work: Work,
    jobs: int = 2,
    *,
    limits: Limits = DEFAULT_LIMITS,
    wanted: Callable[[Any], bool] | None = None,
    on_part: Callable[[Any, object], object] | None = None,
) -> Iterator[tuple[Any, object]]:
    """Run `work(*args)` for every (key, args) in worker processes; yield (key, result) as they finish.

    The isolation of `read_many`, for any work on untrusted files (reading, annotating): each
    worker's address space is capped at `limits.reader_memory_bytes` and each task at
    `limits.reader_timeout_s`; a crash, timeout or exception becomes a `ReaderFailed` (or the
    `UnreadableFile` the work raised) as that task's result, never the caller's exception.
    `wanted(key)`, asked as each task is about to start, can drop it: a dropped task is never
    run and yields nothing. `on_part(key, part)` hears what a task sends ahead of its result
    (`send_part`), as it arrives; without it, such parts are dropped.
    """
    tasks = deque((index, key, args) for index, (key, args) in enumerate(items))
    if not tasks:
        return
    pool = _Pool(min(max(1, jobs), len(tasks)), work, limits, wanted, on_part)
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

    def __init__(self, context: ForkServerContext | SpawnContext, work: Work, limits: Limits) -> None:
        fd, self.log_path = tempfile.mkstemp(prefix="gtb-reader-", suffix=".log")
        os.close(fd)
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_conn, work, limits.reader_memory_bytes, self.log_path), daemon=True
        )
        try:
            self.process.start()
        except BaseException:  # no process (or Ctrl-C as it starts): nothing of it left
            self.conn.close()
            os.unlink(self.log_path)
            raise
        finally:
            child_conn.close()
        self.ready = False
        self.retiring = False  # ends after its task (`retire_after_task`): given no other
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
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)

    def kill(self) -> None:
        """From another thread than the pool's: the process killed and its log file removed, at
        once; the pool's own thread, which may be using it, finds it dead and ends it as usual."""
        with contextlib.suppress(OSError, ValueError):  # ended and closed meanwhile
            self.process.kill()
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


_pools: dict[int, _Pool] = {}  # every pool running in this process, by serial number (`stopping_pools`)
_pools_lock = threading.Lock()
_last_serial = [0]


@contextlib.contextmanager
def stopping_pools(wait_s: float = 5.0) -> Iterator[None]:
    """Every pool started in the block (by any thread) and still running as it ends is stopped
    then: its worker processes killed (waited for up to `wait_s`), their log files removed, and
    the thread running it gets `PoolStopped` at its next step. For a command about to end, which
    leaves nothing running: a reading ahead whose files were dropped, or that Ctrl-C or SIGTERM
    left behind as it stopped the command (the thread reading carries on otherwise, its workers
    and their log files outliving the process that ends without its teardown)."""
    with _pools_lock:
        mark = _last_serial[0]
    try:
        yield
    finally:
        with _pools_lock:
            running = [pool for serial, pool in _pools.items() if serial > mark]
        stopped = [worker for pool in running for worker in pool.stop()]
        _wait_ended(stopped, wait_s)


def _wait_ended(workers: list[_Worker], wait_s: float) -> None:
    """Wait for the processes of `workers` (killed) to be gone, for up to `wait_s` seconds."""
    deadline = time.monotonic() + wait_s
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):  # closed by the pool's own thread: it has ended
            wait([worker.process.sentinel], max(0.0, deadline - time.monotonic()))


class _Pool:
    """A few long-lived worker processes, each fed one path at a time over its own pipe."""

    def __init__(
        self,
        jobs: int,
        work: Work,
        limits: Limits,
        wanted: Callable[[Any], bool] | None = None,
        on_part: Callable[[Any, object], object] | None = None,
    ) -> None:
        self.context = _context(work)
        self.work = work
        self.limits = limits
        self.wanted = wanted
        self.on_part = on_part
        self.failed_starts = 0
        self.workers: list[_Worker] = []
        self._lock = threading.Lock()  # held while a worker starts, and to stop the pool from outside
        self._stopped = False
        with _pools_lock:
            _last_serial[0] += 1
            self.serial = _last_serial[0]
            _pools[self.serial] = self
        try:
            for _ in range(jobs):
                self._start(None)
        except BaseException:  # the workers started so far are stopped, their log files removed
            self.close()
            raise

    def _start(self, slot: int | None) -> None:
        """A new worker, in `slot` (the end if None), unless the pool was stopped."""
        with self._lock:
            if self._stopped:
                raise PoolStopped("the worker processes were stopped")
            worker = _Worker(self.context, self.work, self.limits)
            if slot is None:
                self.workers.append(worker)
            else:
                self.workers[slot] = worker

    def stop(self) -> list[_Worker]:
        """From another thread: kill the workers now and remove their log files; the pool starts no
        more, and its own thread gets `PoolStopped` when it next replaces one. The workers killed."""
        with self._lock:
            self._stopped = True
            workers = list(self.workers)
        for worker in workers:
            worker.kill()
        return workers

    def run(self, tasks: deque[tuple[int, Any, tuple]]) -> Iterator[tuple[Any, object]]:
        outstanding = len(tasks)
        while outstanding:
            for slot, worker in enumerate(self.workers):
                while worker.ready and worker.task is None and tasks and not self._wanted(tasks[0][1]):
                    tasks.popleft()  # dropped before it started
                    outstanding -= 1
                if worker.ready and worker.task is None and not worker.retiring and tasks:
                    index, key, args = tasks.popleft()
                    try:
                        worker.conn.send((index, args))
                    except OSError:  # the worker died while idle: not this file's fault
                        tasks.appendleft((index, key, args))
                        self._replace(slot, kill=True)
                        continue
                    worker.task = _Task(index, key, time.monotonic() + self.limits.reader_timeout_s)
            if not outstanding:
                break  # the last tasks were dropped
            busy = [w.task.deadline for w in self.workers if w.task is not None]
            timeout = max(0.0, min(busy) - time.monotonic()) if busy else None
            wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers], timeout)
            for slot, worker in enumerate(self.workers):
                outcome = self._poll(slot, worker)
                if outcome is not None:
                    outstanding -= 1
                    yield outcome

    def _wanted(self, key: Any) -> bool:
        return self.wanted is None or self.wanted(key)

    def _poll(self, slot: int, worker: _Worker) -> tuple[Any, object] | None:
        """Collect what one worker has to say: ready, a result, a crash or a timeout."""
        try:
            message = receive(worker.conn) if worker.conn.poll() else None
        except (EOFError, OSError):  # the worker is exiting: let it finish dying
            message = None
            worker.process.join(timeout=5)
        if message is not None:
            return self._heard(slot, worker, message)
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
                {"detail": reason, "memory_gb": self.limits.reader_memory_bytes / 2**30},
                detail=f"{reason}; the reader's last words: {log}" if log else reason,
            )
        if task is not None and time.monotonic() > task.deadline:
            self._replace(slot, kill=True)
            return task.key, ReaderFailed("timeout", {"timeout_s": self.limits.reader_timeout_s})
        return None

    def _heard(self, slot: int, worker: _Worker, message: tuple) -> tuple[Any, object] | None:
        """A message from a worker: ready, retiring (after this task), a part sent ahead of its
        task's result (`send_part`), or that result."""
        if message[0] == "ready":
            worker.ready = True
            self.failed_starts = 0
            return None
        if message[0] == "retiring":
            worker.retiring = True
            return None
        if message[0] == "part":
            if self.on_part is not None and worker.task is not None and message[1] == worker.task.index:
                self.on_part(worker.task.key, message[2])
            return None
        task, worker.task = worker.task, None
        assert task is not None and message[0] == task.index
        if worker.retiring:
            self._replace(slot, kill=False)
        return task.key, _result(message, self.limits.reader_memory_bytes / 2**30)

    def _replace(self, slot: int, kill: bool) -> None:
        self.workers[slot].stop(kill=kill)
        self._start(slot)

    def close(self) -> None:
        with _pools_lock:
            _pools.pop(self.serial, None)
        for worker in self.workers:
            worker.stop(kill=worker.task is not None)


def _result(message: tuple, memory_gb: float) -> object:
    _, status, *payload = message
    if status == "ok":
        return payload[0]
    if status == "unreadable":
        return payload[0]
    if status == "memory":
        return ReaderFailed("out-of-memory", {"memory_gb": memory_gb}, payload[1])
    return ReaderFailed("internal-error", {"detail": payload[0]}, payload[1])


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"stopped by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"stopped by signal {-exitcode}"
    return f"exit code {exitcode}"


_PRELOAD: list[str] = []  # modules the fork server imports once; each work function adds its own


def _context(work: Work | None = None) -> ForkServerContext | SpawnContext:
    """forkserver: children fork from a clean single-threaded server that has the work's module loaded.

    Plain fork is unsafe once the parent runs threads (DuckDB, BLAS); spawn would re-import
    everything in every worker. The server starts once per process, preloading the module of
    the first work function (e.g. pipeline.intake.validate with pandas and pandera), so a worker costs
    a fork, not the imports.
    """
    return _context_preloading(getattr(getattr(work, "func", work), "__module__", None))


def _context_preloading(module: str | None) -> ForkServerContext | SpawnContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        if module and module not in _PRELOAD:
            _PRELOAD.append(module)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(_PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def warm_up(module: str, *more: str) -> None:
    """Start the fork server now, preloading `module` (the work function's) and `more`, so that
    their imports run while the caller is still importing its own; the first worker is then
    ready at once. A long-lived caller (the submission portal) names every module its workers use."""
    for other in more:
        _context_preloading(other)
    if _context_preloading(module).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _picklable(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _address_space() -> int:
    """Bytes of address space this process has mapped now (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _set_up_worker(memory_bytes: int, log_path: str) -> None:
    """In the worker: stdout to nowhere (a library's stray print, such as openpyxl's "0 is out of
    range" on a damaged style table, never reaches the user's console), stderr to `log_path` (if
    given), the address space capped at `memory_bytes` beyond what the worker has mapped as it
    starts (the modules the fork server preloaded: pandas when the workers normalise), within the
    hard limit; Arrow on the system allocator (its default, mimalloc, reserves about 1 GiB of
    address space on first use, which the cap would count as if the work had used it); Ctrl-C
    ignored, SIGTERM left to end it (the pool's parent sends it at exit, and so does a stop of
    the whole process group)."""
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    if log_path:
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        os.dup2(log, 2)
        os.close(log)
        os.environ["RUST_BACKTRACE"] = "0"  # one line (e.g. "memory allocation of N bytes failed")
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # read when Arrow's pool is first used
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = _address_space() + memory_bytes
        cap = cap if hard == resource.RLIM_INFINITY else min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # whatever the process that started it does with it
    gc.disable()  # during a task; `_worker_main` collects after each (see there)


_retiring = [False]  # in a worker: set by `retire_after_task`
_current: list[tuple[Connection, int]] = []  # in a worker: the pipe and index of the task running


def send_part(part: object) -> bool:
    """In a worker, from the work function: send `part` to the caller now, ahead of the task's
    result (`run_isolated(on_part=...)` hears it; a part of a task whose worker then fails is
    the caller's to drop). Whether it was sent: outside a worker, nothing is."""
    if not _current:
        return False
    conn, index = _current[0]
    conn.send(("part", index, part))
    return True


def retire_after_task() -> None:
    """In a worker, from the work function: this worker process ends as soon as the task's result
    is sent, and the pool starts another in its place. For a task that leaves something running
    it cannot stop (`read.read_workbook(overlap=True)`: calamine still parsing a file the guard
    has refused), which must not run on into the next task."""
    _retiring[0] = True


YIELD_EVERY_BYTES = 256 * 1024  # about 5 ms of unpickling: Python's own switch interval


class _Yielding:
    """The bytes of a message, read by the unpickler a frame at a time, letting the interpreter's
    other threads run every YIELD_EVERY_BYTES. `pickle.loads` holds it throughout: a worker's
    result of 500,000 rows took 0.8 s to unpickle, during which a server's threads (the portal's
    pages) could not run at all."""

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._at = 0
        self._since_yield = 0

    def _advance(self, n: int) -> memoryview:
        chunk = self._data[self._at : self._at + n]
        self._at += len(chunk)
        self._since_yield += len(chunk)
        if self._since_yield >= YIELD_EVERY_BYTES:
            self._since_yield = 0
            time.sleep(0)  # releases the interpreter: a waiting thread takes its turn
        return chunk

    def read(self, n: int = -1) -> bytes:
        return bytes(self._advance(len(self._data) - self._at if n is None or n < 0 else n))

    def readinto(self, buffer: Any) -> int:
        chunk = self._advance(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def readline(self) -> bytes:
        """Up to and with the next newline (the text opcodes of the first protocols)."""
        end = self._at
        while end < len(self._data):
            found = bytes(self._data[end : end + 4096]).find(b"\n")
            if found >= 0:
                return bytes(self._advance(end + found + 1 - self._at))
            end += 4096
        return bytes(self._advance(len(self._data) - self._at))


def receive(conn: Connection) -> Any:
    """`conn.recv()`, unpickled a frame at a time so that other threads run meanwhile
    (`_Yielding`); the message is read as `recv` reads it, into one buffer, never copied."""
    conn._check_closed()  # type: ignore[attr-defined]  # as recv() itself reads a message
    conn._check_readable()  # type: ignore[attr-defined]
    buffer = conn._recv_bytes().getbuffer()  # type: ignore[attr-defined]
    if len(buffer) < YIELD_EVERY_BYTES:
        return pickle.loads(buffer)
    return pickle.Unpickler(_Yielding(buffer)).load()


def _run_task(work: Work, index: int, args: tuple) -> tuple[object, ...]:
    """Run one task; the reply (index, status, payload...) that `_result` reads back."""
    try:
        return (index, "ok", work(*args))
    except UnreadableFile as exc:
        return (index, "unreadable", exc if _picklable(exc) else UnreadableFile(str(exc)))
    except MemoryError:
        return (index, "memory", "MemoryError", traceback.format_exc())
    except BaseException as exc:  # includes pyo3's PanicException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return (index, "error", f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _worker_main(conn: Connection, work: Work, memory_bytes: int, log_path: str = "") -> None:
    """Loop of a worker process: receive (index, args), send (index, status, payload...).

    stderr goes to `log_path`, so a reader's dying words (Rust panics and allocation failures
    print there) end up in ReaderFailed.detail instead of the user's console.
    """
    _set_up_worker(memory_bytes, log_path)
    _retiring[0] = False  # whatever the process it was forked from had set
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, args = task
        _current[:] = [(conn, index)]
        reply = _run_task(work, index, args)
        _current.clear()
        if _retiring[0]:
            conn.send(("retiring",))  # before the result: the pool gives this worker nothing more
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result: pickling fails before anything is sent
            conn.send((index, "error", f"the result could not be sent back ({type(exc).__name__}: {exc})", ""))
        if _retiring[0]:
            os._exit(0)  # not a return: no interpreter shutdown under a thread still in native code
        del task, args, reply
        gc.collect()  # what cycles the task left; its cells are not scanned again and again while it runs
