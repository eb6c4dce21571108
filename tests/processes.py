"""The processes a command started, looked up in /proc (Linux): whether it left any running."""

from __future__ import annotations

import time
from pathlib import Path

AVAILABLE = Path("/proc/self/stat").exists()


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every process of this machine: pid -> (parent pid, state, start time)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command's name, which may hold spaces
        found[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return found


def descendants(pid: int) -> set[tuple[int, str]]:
    """The processes `pid` started, and theirs: (pid, start time), which names a process once."""
    processes = _processes()
    found, parents = set(), [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, _, started) in processes.items():
            if ppid == parent and (child, started) not in found:
                found.add((child, started))
                parents.append(child)
    return found


def alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Those of `processes` still running (a zombie has ended: only its parent's wait is left)."""
    now = _processes()
    return {
        (pid, started) for pid, started in processes if pid in now and now[pid][2] == started and now[pid][1] != "Z"
    }


def left_after(processes: set[tuple[int, str]], seconds: float) -> set[tuple[int, str]]:
    """Those of `processes` still running after up to `seconds` (a fork server ends once it sees
    its parent gone: it is given that time)."""
    deadline = time.monotonic() + seconds
    while alive(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(processes)
