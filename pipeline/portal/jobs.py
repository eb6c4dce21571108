"""Runs of `gtb run` started from the portal: one at a time, in a child process
(`pipeline.portal.runjob`), whose progress the tracker shows from the job's row."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

from django.conf import settings
from django.utils import timezone

from pipeline.portal.audit import audit
from pipeline.portal.models import RunJob
from pipeline.portal.state import RUNS, folder

_children: dict[int, subprocess.Popen] = {}
# Held while a run is started (its row made, then its process) and while the run going on is
# looked up: a page asking in between saw a running row without a process, marked it interrupted
# and let a second run start.
_starting = threading.RLock()


def start(user) -> tuple[RunJob, bool]:
    """Start a run unless one is going on; returns the job (the running one, if any) and whether it
    is new. With the setting GTB_RUN_IN_PROCESS (tests) the caller runs the new job itself
    (`pipeline.portal.runjob.execute`) instead of a child process."""
    with _starting:
        return _start(user)


def _start(user) -> tuple[RunJob, bool]:
    running = current()
    if running is not None:
        return running, False
    job = RunJob.objects.create(started_by=user.get_username())
    audit(user.get_username(), "run-started", detail=f"gtb run #{job.pk}")
    if settings.GTB_RUN_IN_PROCESS:
        return job, True
    log = folder(settings.GTB_STATE, RUNS) / f"run-{job.pk}.log"
    with log.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "pipeline.portal.runjob", str(job.pk)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_child_env(),
            start_new_session=True,
        )
    _children[job.pk] = child
    RunJob.objects.filter(pk=job.pk).update(pid=child.pid)
    return RunJob.objects.get(pk=job.pk), True


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GTB_PORTAL_WARM_UP"}  # the server's own warm-up
    env.update(
        {
            "GTB_PORTAL_INPUTS": str(settings.GTB_INPUTS),
            "GTB_PORTAL_OUTPUTS": str(settings.GTB_OUTPUTS),
            "GTB_PORTAL_DB": str(settings.GTB_DB),
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "pipeline.portal.settings"),
        }
    )
    return env


def current() -> RunJob | None:
    """The run going on, if any; a job whose process has gone without a word is marked interrupted."""
    with _starting:
        return _current()


def _current() -> RunJob | None:
    job = RunJob.objects.filter(state=RunJob.RUNNING).first()
    if job is None:
        return None
    child = _children.get(job.pk)
    if child is not None and child.poll() is None:
        return job
    if child is None and job.pid and _alive(job.pid, job.pk):
        return job
    job.refresh_from_db()
    if job.state == RunJob.RUNNING:
        RunJob.objects.filter(pk=job.pk, state=RunJob.RUNNING).update(
            state=RunJob.INTERRUPTED,
            finished_at=timezone.now(),
            summary=job.summary or "the run stopped without a word",
        )
    _children.pop(job.pk, None)
    return None


def _alive(pid: int, job_id: int) -> bool:
    """Whether process `pid` is the run of job `job_id`. A process of that number alone is not:
    after the server (or the machine) restarted, the number of a run gone may be another
    process's, and a job row taking it for its run would refuse every run after it."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:  # Linux; elsewhere the number has to do
            words = fh.read().split(b"\0")
    except FileNotFoundError:  # gone since, or no /proc
        return not os.path.isdir("/proc/self")
    except OSError:
        return True
    return b"pipeline.portal.runjob" in words and str(job_id).encode() in words


def interrupt_stale() -> int:
    """At start-up: runs still marked running belong to a server that is gone."""
    stale = [j for j in RunJob.objects.filter(state=RunJob.RUNNING) if not (j.pid and _alive(j.pid, j.pk))]
    for job in stale:
        RunJob.objects.filter(pk=job.pk).update(state=RunJob.INTERRUPTED, finished_at=timezone.now())
    return len(stale)
