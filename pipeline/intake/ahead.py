"""Reading ahead: workbooks guarded, read and normalised in the worker processes while this
process goes on with other things (importing pandas, pandera and DuckDB, opening the warehouse).

`Reading(files, jobs, lang)` starts at once: a thread of this process hands the files to the
readers' workers (`read.read_many` with `normalise.read_normalised`) and keeps what comes back.
`results()` waits for the last one. `part(path)` waits for the part of a file its worker
sends ahead (the workbook but for its largest sheet: when the guard and calamine run side by
side, so that the caller validates those sheets while the largest is normalised), or for the
file itself. `listen(on_file)` hears of every file done, those done before it was called
included. `keep_only(files)` drops the others: those not yet started are
never read. No pandas here: the command line starts a reading before it imports the rest of
the pipeline (`start`), and validation takes it up (`take`) when it is asked for those files
(or some of them: `gtb run` reads only the files the warehouse does not hold yet, which it
knows once the warehouse is open), jobs and language.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import UnreadableFile

Outcome = object  # a ParsedWorkbook, a RawWorkbook (too large for a worker to normalise) or an UnreadableFile


class Reading:
    """Files being read in the worker processes, by a thread of this process."""

    def __init__(self, files: list[Path], jobs: int, lang: str | None = None, overlap: bool | None = None) -> None:
        self.files = list(files)
        self.jobs = jobs
        self.lang = lang
        self.overlap = overlap  # guard and calamine side by side; None: as `side_by_side` says
        self._results: dict[Path, Outcome] = {}
        self._done: list[Path] = []
        self._listeners: list[Callable[[Path], object]] = []
        self._failure: list[BaseException] = []
        self._parts: dict[Path, Outcome] = {}  # file -> the part its worker sent ahead of it
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a part or a file arrived, or the reading ended
        self._kept: set[Path] | None = None  # None: every file
        self._ended = False
        existing = []
        for f in self.files:
            if f.exists():  # a folder or pipe too: the reader refuses it, saying what it is
                existing.append(f)
            else:
                self._results[f] = UnreadableFile("unreadable-file.file-not-found", {"path": str(f)})
        self._thread = threading.Thread(target=self._read, args=(existing,), name="gtb-reader", daemon=True)
        self._thread.start()

    def _read(self, existing: list[Path]) -> None:
        """Read the files; with a core to spare for each, the guard and calamine of each file run
        side by side in its worker (`side_by_side`, `read.read_workbook(overlap=True)`), which
        sends the workbook but for its largest sheet ahead (`part`), and a file whose worker
        then crashed or ran out of memory is read again the careful way (guard first, nothing
        sent ahead), so that its verdict is what the guard says of it."""
        from pipeline.intake.read import read_many
        from pipeline.workers import ReaderFailed

        try:
            overlap = side_by_side(existing) if self.overlap is None else self.overlap
            again: list[Path] = []
            work = functools.partial(read_one, lang=self.lang, overlap=overlap, early=overlap)
            for path, result in read_many(
                existing, jobs=self.jobs, work=work, wanted=self._wanted, on_part=self._deliver_part
            ):
                if overlap and isinstance(result, ReaderFailed) and result.kind in ("crashed", "out-of-memory"):
                    with self._lock:
                        self._parts.pop(Path(path), None)  # its part is of a reading that failed
                    again.append(Path(path))
                else:
                    self._deliver(Path(path), result)
            if again:
                work = functools.partial(read_one, lang=self.lang)
                for path, result in read_many(again, jobs=self.jobs, work=work, wanted=self._wanted):
                    self._deliver(Path(path), result)
        except BaseException as exc:
            self._failure.append(exc)
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def _deliver_part(self, path: Path, part: Outcome) -> None:
        with self._changed:
            if self._wanted(Path(path)):
                self._parts[Path(path)] = part
                self._changed.notify_all()

    def _deliver(self, path: Path, result: Outcome) -> None:
        with self._changed:
            if not self._wanted(path):
                return  # started before it was dropped
            self._results[path] = result
            self._done.append(path)
            listeners = list(self._listeners)
            self._changed.notify_all()
        for listener in listeners:
            listener(path)

    def _wanted(self, path: Path) -> bool:
        kept = self._kept
        return kept is None or path in kept

    def keep_only(self, files: list[Path]) -> None:
        """Read only `files` (of those given) from now on: the others are dropped, their results too."""
        with self._lock:
            self._kept = {Path(f) for f in files}
            self.files = [f for f in self.files if f in self._kept]
            self._results = {f: r for f, r in self._results.items() if f in self._kept}
            self._done = [f for f in self._done if f in self._kept]
            self._parts = {f: r for f, r in self._parts.items() if f in self._kept}

    def listen(self, on_file: Callable[[Path], object]) -> None:
        """Call `on_file(path)` for every file read, now for those already done."""
        with self._lock:
            self._listeners.append(on_file)
            done = list(self._done)
        for path in done:
            on_file(path)

    def part(self, path: Path) -> Outcome | None:
        """The part of `path` its worker sent ahead of it (`read_normalised(early=True)`), once it
        or the file itself has come; None if the file came without one. A part belongs to the
        file's outcome in `results()` only if `part(path)` still gives it then: a part of a
        reading that failed is dropped, and the file read again sends none."""
        with self._changed:
            self._changed.wait_for(lambda: path in self._parts or path in self._results or self._ended)
            return self._parts.get(path)

    def results(self) -> dict[Path, Outcome]:
        """Every file's outcome, once the last is read (an error of the reading itself is raised)."""
        self._thread.join()
        if self._failure:
            raise self._failure[0]
        return self._results


SIDE_BY_SIDE_FROM_BYTES = 1 << 20  # smaller files take a few milliseconds to guard and to parse


def side_by_side(files: list[Path]) -> bool:
    """Whether to read `files` with the guard and calamine side by side: when there are fewer
    files than cores (one workbook validated, one upload to the portal) and each is large enough
    to gain from it (a thread costs about as much as it saves on a small workbook)."""
    try:
        return len(files) < (os.cpu_count() or 1) and all(f.stat().st_size >= SIDE_BY_SIDE_FROM_BYTES for f in files)
    except OSError:
        return False


def read_one(path: Path, lang: str | None = None, overlap: bool = False, early: bool = False) -> object:
    """The work of a reading worker (`normalise.read_normalised`), named here so that handing it
    to the workers does not import the normaliser into this process before it needs it."""
    from pipeline.intake.normalise import read_normalised

    return read_normalised(path, lang, overlap=overlap, early=early)


_started: list[Reading] = []


def start(files: list[Path], jobs: int, lang: str | None = None) -> Reading:
    """Start reading `files` now, for a validation to take up later (`take`)."""
    reading = Reading([Path(f) for f in files], jobs, lang)
    _started.append(reading)
    return reading


def take(files: list[Path], jobs: int, lang: str | None = None) -> Reading | None:
    """The reading started ahead of these files (or more: the others are dropped), with these
    jobs and language, if there is one (each is taken once); None otherwise."""
    wanted = [Path(f) for f in files]
    for reading in _started:
        if set(wanted) <= set(reading.files) and reading.jobs == jobs and reading.lang == lang:
            _started.remove(reading)
            reading.keep_only(wanted)
            return reading
    return None


def discard() -> None:
    """Drop every reading started ahead and not taken (nothing more of it is read)."""
    while _started:
        _started.pop().keep_only([])
