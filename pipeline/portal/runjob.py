"""`gtb run` started from the portal, in the child process (`python -m pipeline.portal.runjob JOB`,
started by `pipeline.portal.jobs`) that reports its progress in the job's row, so the server stays
responsive and a crash of the run costs only the run. When it is done, each entity-year accepted
in the portal whose file is now the loaded submission is accepted in the warehouse too
(`api.accept`, with the analyst's note and the focal point's explanations), provided its open
flags are the ones the analyst saw.

Django is imported inside the functions only: the worker processes' fork server imports this
module as the main module, before any Django setup.
"""

from __future__ import annotations

import io
import os
import sys
import time
import traceback
from pathlib import Path


def execute(job_id: int) -> None:
    """Run `gtb run` for the job, reporting progress in its row, then settle the accepted cases."""
    from django.conf import settings
    from django.utils import timezone
    from rich.console import Console

    from pipeline import api
    from pipeline.errors import GtbError
    from pipeline.portal.audit import audit
    from pipeline.portal.models import RunJob

    job = RunJob.objects.get(pk=job_id)
    RunJob.objects.filter(pk=job_id).update(pid=os.getpid(), stage="starting")
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, highlight=False, soft_wrap=True, color_system=None)
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage in last and now - last[stage] < 0.3 and done != total:
            return
        last[stage] = now
        RunJob.objects.filter(pk=job_id).update(stage=stage, done=done, total=total)

    state, had_errors = RunJob.FAILED, False
    try:
        result = api.run(settings.GTB_INPUTS, settings.GTB_DB, settings.GTB_OUTPUTS, console=console, progress=progress)
        state, had_errors = RunJob.DONE, result.had_errors
        progress("settling acceptances", 0, 0)
        for line in settle_acceptances(job.started_by):
            console.print(line)
    except GtbError as exc:
        console.print(f"gtb: {exc}")
    except Exception as exc:  # a bug: the summary says so, the log has the traceback
        console.print(f"gtb: internal error ({type(exc).__name__}: {exc})")
        traceback.print_exc()
    RunJob.objects.filter(pk=job_id).update(
        state=state, had_errors=had_errors, finished_at=timezone.now(), stage=state, summary=buffer.getvalue()
    )
    audit(
        job.started_by, "run-finished", detail=f"gtb run #{job_id}: {state}{' with rejections' if had_errors else ''}"
    )


def settle_acceptances(by: str) -> list[str]:
    """Accepted cases whose file is now loaded: accepted in the warehouse too (closing the flags the
    analyst saw), unless the load raised flags the analyst did not see. Returns what was done."""
    from django.db import transaction

    from pipeline import api
    from pipeline.errors import GtbError
    from pipeline.portal.audit import audit
    from pipeline.portal.models import Case, Explanation
    from pipeline.portal.submissions import LOADED, flag_keys, flags_of, warehouse_rows

    lines = []
    pending = Case.objects.filter(status=Case.ACCEPTED, flags_closed=False).select_related("submitted")
    for year in sorted({c.year for c in pending}):
        rows, _ = warehouse_rows(year)
        for case in (c for c in pending if c.year == year):
            row = rows.get(case.entity)
            if row is None or row.file != case.accepted_file or row.status not in LOADED:  # accepted again too
                continue
            upload = case.submitted
            seen = {f["key"] for f in flags_of(upload)} if upload else set()
            try:
                loaded_flags = api.compare(case.entity, year, settings_db()).flags
            except GtbError:
                loaded_flags = []
            keys = flag_keys([(f["sheet"], f["cell"], f["code"]) for f in loaded_flags])
            unseen = [f for f, key in zip(loaded_flags, keys, strict=True) if f["status"] == "open" and key not in seen]
            if unseen:
                lines.append(
                    f"{case.entity} {year}: loaded with {len(unseen)} flag(s) not seen at acceptance; left open"
                )
                continue
            explained = (
                "; ".join(f"{e.key}: {e.text}" for e in Explanation.objects.filter(upload=upload).order_by("key"))
                if upload
                else ""
            )
            # the case as it stands now, held until it is settled: an analyst may have asked for a
            # correction (or closed the flags) since `pending` was read, and a request for a
            # correction waits for this transaction, as this one for a request under way
            with transaction.atomic():
                still = (
                    Case.objects.select_for_update()
                    .filter(pk=case.pk, status=Case.ACCEPTED, flags_closed=False, accepted_file=case.accepted_file)
                    .first()
                )
                if still is None:
                    lines.append(f"{case.entity} {year}: no longer accepted in the portal; flags left open")
                    continue
                reason = f"accepted in the submission portal by {still.accepted_by}: {still.accept_note or 'no flags'}"
                if explained:
                    reason += f" (focal point: {explained})"
                try:  # only while the accepted file is the loaded one: a later run may have loaded another
                    done = api.accept(
                        case.entity,
                        year,
                        reason,
                        settings_db(),
                        by=still.accepted_by or by,
                        file_name=case.accepted_file,
                        # by its bytes too: a corrected workbook copied over it under the same name
                        # (an acceptance of a file loaded already keeps its name) is another file
                        sha256=upload.sha256 if upload is not None else None,
                    )
                except GtbError as exc:
                    lines.append(f"{case.entity} {year}: flags left open ({exc})")
                    continue
                Case.objects.filter(pk=case.pk).update(flags_closed=True)
            audit(
                case.accepted_by or by,
                "loaded",
                case.entity,
                year,
                upload,
                f"{case.accepted_file} loaded; accepted in the warehouse, {done.flags_closed} flag(s) closed",
            )
            lines.append(f"{case.entity} {year}: loaded and accepted ({done.flags_closed} flag(s) closed)")
    return lines


def settle_after_run(inputs: Path, db: Path, outputs: Path, by: str) -> list[str] | None:
    """After `gtb run` from the command line: each entity-year SUN accepted in the portal of
    `outputs` whose accepted file the run loaded is accepted in the warehouse too, as a run started
    from the portal does (`settle_acceptances`), with the portal set up for the run's folders and
    warehouse. A line per case; None when `outputs` holds no portal's state (it was never served
    from there), and nothing of Django is loaded then."""
    from pipeline.portal.server import boot

    if not (Path(outputs) / "portal").is_dir():
        return None
    boot(inputs, outputs, db)
    return settle_acceptances(by)


def settings_db() -> Path:
    from django.conf import settings

    return Path(settings.GTB_DB)


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipeline.portal.settings")
    django.setup()
    execute(int(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
