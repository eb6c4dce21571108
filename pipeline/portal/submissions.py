"""What the portal does with a submission: receive an upload, submit it, accept it or ask for a
correction, and say where each entity stands. Views call these; every change is audited.

Statuses of an entity-year (the portal's own, in `Case`): not started (no upload yet), uploaded
(the latest upload has no error), rejected (it has errors), submitted (for review), correction
requested (SUN asked for a new workbook), accepted (written to `{inputs}/submissions/{YEAR}/`
for `gtb run`). "loaded" comes from the warehouse: the accepted file is the entity-year's loaded
submission (`api.status`), or a workbook that came another way is loaded beside no portal case
but drafts; "rejected" too, when the warehouse rejected the entity-year's file and the portal
holds no case. `standing` says it, for every page alike.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from pipeline import TEMPLATE_VERSION, __version__, api, safe
from pipeline.cycle import Cycle, reporting_cycle
from pipeline.errors import DatabaseBusy, GtbError
from pipeline.paths import SUBMISSIONS_FOLDER
from pipeline.portal import access, state, texts
from pipeline.portal.audit import audit
from pipeline.portal.models import Case, Explanation, Upload
from pipeline.portal.texts import Said

log = logging.getLogger("gtb.portal")

FLAG_CODES = ("implausible-change", "implausible-value")
LOADED = ("loaded", "loaded-with-flags", "accepted")  # warehouse statuses of a loaded submission
NOT_STARTED, LOADED_STATUS = "not-started", "loaded"
# the entity page's status while a run holds the warehouse and it decides the status (`standing`)
UPDATING = "updating"
STATUSES = (NOT_STARTED, *(code for code, _ in Case.STATUS), LOADED_STATUS)
# The statuses in English, as the audit log records them; pages say them in their language (`status.*` texts).
LABELS = {code: texts.text(f"status.{code}", "en") for code in STATUSES}
# Why an upload was not compared with last year, when the inventory holds no year yet.
NO_EARLIER_YEAR = texts.text("report.no-earlier-year", "en")
SHOWN_FINDINGS = 200  # findings (with excerpts) kept for the page; all are in issues.csv and annotated.xlsx
MAX_EXPLANATION = 2000

_check_lock = threading.Lock()  # one upload checked at a time: validation is CPU-bound, the reviewer shared
_reviewer: Any = None  # api.reviewer(), made at the first upload
# Uploads being checked or waiting for the checker, at most: each holds one of the server's
# threads while it waits, and the others must stay free to serve pages (server.THREADS).
CHECKS_AT_ONCE = 2
_check_slots = threading.BoundedSemaphore(CHECKS_AT_ONCE)
_checking: set[str] = set()  # the users who have an upload being checked or waiting
_checking_guard = threading.Lock()


class Refused(Exception):
    """An action that cannot be done now; the message says why, for the user: a text of
    `texts.csv` and its fields (`said`), written in the user's language where it is shown; the
    exception's own text is the English one."""

    def __init__(self, key: str, **params: Any) -> None:
        self.said = Said(key, params)
        super().__init__(self.said.render("en"))


class Busy(Refused):
    """The checker cannot take the upload now: try again shortly (the server answers 429 and
    Retry-After, not 503: Django keeps no session, so no message for the page, on a 5xx)."""

    RETRY_AFTER_SECONDS = 30


@contextmanager
def check_slot(username: str) -> Iterator[None]:
    """A place among the uploads being checked, taken without waiting: a user's second upload
    while the first is checked, or any upload while CHECKS_AT_ONCE others are, is refused at once
    (`Busy`), so that uploads never hold every thread of the server and the pages stay served."""
    with _checking_guard:
        if username in _checking:
            raise Busy("refused.still-checking")
        if not _check_slots.acquire(blocking=False):
            raise Busy("refused.busy")
        _checking.add(username)
    try:
        yield
    finally:
        with _checking_guard:
            _checking.discard(username)
            _check_slots.release()


def cycle() -> Cycle:
    return reporting_cycle(settings.GTB_INPUTS)


def _reviewer_for_uploads():
    global _reviewer
    if _reviewer is None:
        _reviewer = api.reviewer()
        atexit.register(close_reviewer)
    return _reviewer


def close_reviewer() -> None:
    global _reviewer
    if _reviewer is not None:
        _reviewer.close()
        _reviewer = None


def warm_up() -> None:
    """Check a blank template once and open the reviewer's copy of the warehouse, so that the first
    upload after a start is as quick as the next (the server runs this in a thread as it starts)."""
    import tempfile

    with _check_lock, tempfile.TemporaryDirectory(prefix="gtb-portal-warm-") as tmp:
        started = time.perf_counter()
        year = cycle().open_year
        blank = api.template("UNEP", year, Path(tmp) / "blank.xlsx")
        api.check_upload(blank, Path(tmp) / "reports", "UNEP", year)
        if Path(settings.GTB_DB).is_file():
            try:
                _reviewer_for_uploads().prepare(Path(settings.GTB_DB))
            except GtbError as exc:
                log.warning("no comparison with last year until the warehouse can be read: %s", exc)
        log.info("ready for uploads (warmed up in %.1f s)", time.perf_counter() - started)


# --- receiving an upload ---------------------------------------------------------------------


def _store(uploaded: UploadedFile, entity: str, year: int) -> tuple[str, int, str]:
    """Copy the upload to `{state}/uploads/` under a generated name; (name, size, sha256).
    Stops (and removes the copy) as soon as it passes the size cap, whatever the request said."""
    folder = state.folder(settings.GTB_STATE, state.UPLOADS)
    name = f"{entity}_{year}_{secrets.token_hex(8)}.xlsx"
    path = folder / name
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in uploaded.chunks():
                size += len(chunk)
                if size > settings.GTB_MAX_UPLOAD_BYTES:
                    raise Refused("refused.too-large", cap=texts.Megabytes(settings.GTB_MAX_UPLOAD_BYTES))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, size, digest.hexdigest()


def original_name(uploaded: UploadedFile) -> str:
    """The name the file was uploaded under, as metadata: no folders, no control characters."""
    name = (uploaded.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return safe.console_safe(name)[:255] or "(no name)"


def _finding_rows(check: api.UploadCheck) -> list[dict]:
    rows = []
    shown = check.submission.findings[:SHOWN_FINDINGS]
    keys = flag_keys([(f.sheet, f.cell, f.code) for f in shown])
    for f, key in zip(shown, keys, strict=True):
        excerpt = check.excerpts.get((f.sheet, f.cell))
        rows.append(
            {
                "sheet": f.sheet,
                "cell": f.cell,
                "row": f.row,
                "column": f.column,
                "value": f.value,
                "code": f.code,
                "severity": f.severity,
                "message": f.message,
                "flag": f.code in FLAG_CODES,
                "key": key,
                # what the focal point typed in the workbook's comment on the flag's row, which the
                # flag's message asks for: the explanation box starts with it
                "comment": _comment_on(check.submission, f) if f.code in FLAG_CODES else None,
                "excerpt": None
                if excerpt is None
                else {
                    "row": excerpt.row,
                    "column": excerpt.column,
                    "columns": list(excerpt.columns),
                    "header": list(excerpt.header) if excerpt.header is not None else None,
                    "rows": [[r, list(texts)] for r, texts in excerpt.rows],
                },
            }
        )
    return rows


def _comment_on(sub: Any, f: Any) -> str | None:
    """The workbook's comment on the row a flag is on (a table sheet's comment column), or the
    Entity sheet's comment for a flag on a whole sheet or on a field, as the warehouse keeps it
    for `gtb run`'s flags (`review.flags`); None when there is none."""
    sheet = {tab: name for name, tab in sub.tabs.items()}.get(f.sheet, f.sheet)
    table = sub.tables.get(sheet) if f.row is not None and f.cell else None
    if table is not None and "comment" in table.columns and "source_row" in table.columns:
        found = table.loc[table["source_row"] == f.row, "comment"]
        text = found.iloc[0] if len(found) else None
    elif table is None:
        text = sub.entity.get("comment")
    else:
        text = None
    return text.strip() or None if isinstance(text, str) else None


def _verdict(check: api.UploadCheck, compared_with: Path | None) -> dict[str, Any]:
    """The fields of an `Upload` its check gives: the verdict, the findings shown, the reports,
    whether it was compared with last year (`compared_with`: the warehouse, None without one); no
    NUL in any text (`_no_nul`), wherever it is saved."""
    return _no_nul(_verdict_fields(check, compared_with))


def _verdict_fields(check: api.UploadCheck, compared_with: Path | None) -> dict[str, Any]:
    sub = check.submission
    first = next((f for f in sub.findings if f.severity == "error"), sub.findings[0] if sub.findings else None)
    return {
        "readable": sub.readable,
        "errors": sub.errors,
        "warnings": sub.warnings,
        "flags": sum(f.code in FLAG_CODES for f in sub.findings),
        "total_findings": len(sub.findings),
        "first_finding": f"{first.where}: {first.message}" if first else "",
        "findings": _finding_rows(check),
        "report_folder": str(check.folder.relative_to(Path(settings.GTB_STATE))),
        "has_annotated": (check.folder / "annotated.xlsx").is_file(),
        "compared": check.compared,
        "compare_note": check.note if compared_with else NO_EARLIER_YEAR,
        "figures": check.submission.figures,
        "lang": sub.lang,  # the language its findings are written in
    }


def _no_nul(value: Any) -> Any:
    """`value` (a verdict's fields: text, numbers, lists and dicts) with every NUL written as the
    escape the pages show (`\\x00`). A cell may hold one (Excel's `_x0000_`), and a finding quotes
    it; PostgreSQL refuses a NUL in text and in JSON, and the upload was then never recorded."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nul(v) for v in value]
    return value


def flag_keys(flags: list[tuple[str, str, str]]) -> list[str]:
    """The key of each flag (sheet, cell, code), by which its explanation is kept: `Facilities!D2
    implausible-change`, and for the second flag of the same code on the same cell (a figure that
    moved in total and per person) `... (2)`, so that each has a box and an explanation of its own.
    The keys of a submission's flags are the same set wherever they are counted."""
    seen: Counter[str] = Counter()
    keys = []
    for sheet, cell, code in flags:
        base = f"{sheet}!{cell} {code}"
        seen[base] += 1
        keys.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return keys


def receive(user, entity: str, uploaded: UploadedFile, lang: str | None = None) -> Upload:
    """Store, check and record one upload for `entity` and the open year; the case's status
    follows its verdict. Refused when the entity-year was accepted (SUN must ask for a correction),
    and, before anything is stored, when the checker is busy (`check_slot`). `lang`: the page's
    language, in which a file that cannot be read is told so (a workbook's findings are in its own)."""
    year = cycle().open_year
    case = Case.objects.filter(entity=entity, year=year).first()
    accepted = Refused("refused.accepted", entity=entity, year=year)
    if case is not None and case.status == Case.ACCEPTED:
        raise accepted
    with check_slot(user.get_username()):
        return _receive(user, entity, year, uploaded, accepted, lang)


def _check(
    path: Path, report_dir: Path, entity: str, year: int, name: str, lang: str | None = None
) -> tuple[api.UploadCheck, Path | None]:
    """Check a stored upload (one at a time), compared with last year when there is a warehouse;
    the check, and the warehouse (None without one)."""
    warehouse = Path(settings.GTB_DB) if Path(settings.GTB_DB).is_file() else None
    with _check_lock:
        check = api.check_upload(
            path,
            report_dir,
            entity,
            year,
            db=warehouse,
            name=name,
            reviewer=_reviewer_for_uploads(),
            excerpts=SHOWN_FINDINGS,
            unread_lang=lang,
        )
    if warehouse is not None and not check.compared and check.submission.is_valid:
        log.warning("upload of %s %s not compared with last year: %s", entity, year, check.note)
    return check, warehouse


def _receive(user, entity: str, year: int, uploaded: UploadedFile, accepted: Refused, lang: str | None) -> Upload:
    started = time.perf_counter()
    stored, size, sha = _store(uploaded, entity, year)
    name = original_name(uploaded)
    report_dir = state.folder(settings.GTB_STATE, state.REPORTS) / stored.removesuffix(".xlsx")
    path = Path(settings.GTB_STATE) / state.UPLOADS / stored
    try:
        check, warehouse = _check(path, report_dir, entity, year, name, lang)
        return _record(user, entity, year, check, warehouse, path, stored, name, size, sha, started, accepted)
    except BaseException:  # not checked or not recorded (a fault, a database that refused it, the case
        # accepted meanwhile): nothing of it kept
        path.unlink(missing_ok=True)
        shutil.rmtree(report_dir, ignore_errors=True)  # the upload's own folder, its reports in it
        raise


def _record(
    user,
    entity: str,
    year: int,
    check: api.UploadCheck,
    warehouse: Path | None,
    path: Path,
    stored: str,
    name: str,
    size: int,
    sha: str,
    started: float,
    accepted: Refused,
) -> Upload:
    """The checked upload recorded in one transaction, its case's status following its verdict."""
    with transaction.atomic():
        case, created = Case.objects.select_for_update().get_or_create(
            entity=entity, year=year, defaults={"status": Case.UPLOADED}
        )
        if case.status == Case.ACCEPTED:  # accepted while this upload was checked: it must not undo that
            raise accepted
        upload = Upload.objects.create(
            case=case,
            entity=entity,
            year=year,
            stored_name=stored,
            original_name=name,
            size_bytes=size,
            sha256=sha,
            uploaded_by=user.get_username(),
            seconds=time.perf_counter() - started,
            **_verdict(check, compared_with=warehouse),
        )
        before = NOT_STARTED if created else case.status
        case.status = Case.UPLOADED if upload.is_valid else Case.REJECTED
        case.current = upload
        case.save()
        verdict = "valid" if upload.is_valid else f"{upload.errors} error(s)"
        audit(
            user.get_username(),
            "upload",
            entity,
            year,
            upload,
            f"{name} ({size:,} bytes): {verdict}, {upload.warnings} warning(s), {upload.flags} flag(s); "
            f"status {LABELS.get(before, before)} -> {LABELS[case.status]}",
        )
    log.info("upload %s for %s %s checked in %.2f s", upload.pk, entity, year, upload.seconds)
    return upload


# --- the focal point's explanations and submission --------------------------------------------


def flags_of(upload: Upload) -> list[dict]:
    return [f for f in upload.findings if f.get("flag")]


def save_explanations(user, upload: Upload, posted: dict[str, str]) -> int:
    """Keep the explanations posted for the upload's flags (`explain:<key>` fields); returns how many."""
    keys = {f["key"] for f in flags_of(upload)}
    saved = 0
    for name, text in posted.items():
        if not name.startswith("explain:"):
            continue
        key = name.removeprefix("explain:")
        text = (text or "").strip()[:MAX_EXPLANATION]
        if key not in keys:
            continue
        if text:
            Explanation.objects.update_or_create(
                upload=upload, key=key, defaults={"text": text, "by": user.get_username(), "at": timezone.now()}
            )
            saved += 1
        else:
            Explanation.objects.filter(upload=upload, key=key).delete()
    if saved:
        audit(user.get_username(), "explain", upload.entity, upload.year, upload, f"{saved} flag(s) explained")
    return saved


def unexplained(upload: Upload) -> list[dict]:
    done = set(Explanation.objects.filter(upload=upload).values_list("key", flat=True))
    return [f for f in flags_of(upload) if f["key"] not in done]


def explain(user, upload: Upload, posted: dict[str, str]) -> int:
    """Keep the explanations posted for `upload`'s flags (`save_explanations`), only while it is
    its case's latest upload and not submitted: checked and saved under the case's lock, as
    `submit` does, so that a submission going through meanwhile is never rewritten after it."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=upload.case_id)
        if case.current_id != upload.pk or case.status != Case.UPLOADED:
            raise Refused("flash.explain-latest")
        return save_explanations(user, upload, posted)


def submit(user, entity: str, upload_id: int | None, explanations: dict[str, str] | None = None) -> Case:
    """Submit the entity's latest upload of the open year for SUN's review, with the
    explanations posted with it (`explain:<key>` fields). `upload_id` is the upload the page
    showed (its form carries it): refused, nothing saved, when another upload came since, so a
    workbook the focal point never saw is never submitted with their explanations. An upload
    that could not be compared with last year is compared first (`_compare_before_submit`).
    The explanations are kept only while the submission is the open one, checked under the
    case's lock: once submitted or accepted, what SUN read can no longer be rewritten. They are
    kept even when the submission is then refused for a flag still unexplained."""
    year = cycle().open_year
    _compare_before_submit(user, entity, year, upload_id)
    refused: Refused | None = None
    with transaction.atomic():
        case, upload = _latest_shown(
            Case.objects.select_for_update().filter(entity=entity, year=year).select_related("current").first(),
            upload_id,
            explained=any(k.startswith("explain:") and (v or "").strip() for k, v in (explanations or {}).items()),
        )
        if explanations:
            save_explanations(user, upload, explanations)
        missing = unexplained(upload) if upload.is_valid else []
        if not upload.is_valid:
            refused = Refused("refused.errors")
        elif missing:
            refused = Refused("refused.unexplained", count=len(missing))
        elif needs_comparison(upload):  # compared by a request that saw it then, or the warehouse went busy
            refused = Refused("refused.not-compared")
        else:
            now = timezone.now()
            case.status, case.submitted, case.submitted_at = Case.SUBMITTED, upload, now
            case.first_submitted_at = case.first_submitted_at or now
            case.save()
            audit(user.get_username(), "submit", entity, year, upload, f"{upload.original_name} submitted for review")
    if refused is not None:
        raise refused
    return case


def _latest_shown(case: Case | None, upload_id: int | None, explained: bool = False) -> tuple[Case, Upload]:
    """The case and its latest upload, if it is open to submission and the one the page showed
    (`upload_id`); else refused (saying "nothing saved" when explanations were posted: `explained`)."""
    if case is None or case.current is None:
        raise Refused("refused.upload-first")
    if case.status != Case.UPLOADED:
        raise Refused("refused.nothing", status=Said(f"status.{case.status}"))
    if case.current_id != upload_id:
        if explained:
            raise Refused("refused.not-latest-unsaved", user=case.current.uploaded_by)
        raise Refused("refused.not-latest", user=case.current.uploaded_by)
    return case, case.current


def needs_comparison(upload: Upload) -> bool:
    """A valid upload not compared with last year although there is a warehouse now: it was
    checked while a run held the warehouse (or before the first run), so its flags are unknown."""
    return upload.is_valid and not upload.compared and Path(settings.GTB_DB).is_file()


def _compare_before_submit(user, entity: str, year: int, upload_id: int | None) -> None:
    """Compare the upload about to be submitted with last year when its check could not
    (`needs_comparison`): checked again, outside the case's lock (it takes a second or two), then
    its report is the new check's, flags included, for the focal point to explain as any. Refused
    while the warehouse still cannot be read ("try again in a minute"), or the checker is busy."""
    case = Case.objects.filter(entity=entity, year=year).select_related("current").first()
    upload = case.current if case is not None and case.status == Case.UPLOADED else None
    if upload is None or upload.pk != upload_id or not needs_comparison(upload):
        return  # nothing to compare, or refused under the lock by `submit`
    path = Path(settings.GTB_STATE) / state.UPLOADS / upload.stored_name
    report_dir = (Path(settings.GTB_STATE) / upload.report_folder).parent
    with check_slot(user.get_username()):
        check, warehouse = _check(path, report_dir, entity, year, upload.original_name)
    if check.submission.is_valid and not check.compared:
        raise Refused("refused.not-compared")  # still busy; the upload stays as it was
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        upload = Upload.objects.get(pk=upload.pk)
        if upload.compared:  # another request compared it meanwhile
            return
        for name, value in _verdict(check, compared_with=warehouse).items():
            setattr(upload, name, value)
        upload.save()
        if case.current_id == upload.pk and case.status == Case.UPLOADED and not upload.is_valid:
            case.status = Case.REJECTED  # the rules changed since it was checked: it has errors now
            case.save()
        audit(
            user.get_username(),
            "compare",
            entity,
            year,
            upload,
            f"compared with last year before submission: {upload.flags} flag(s), {upload.errors} error(s)",
        )


# --- SUN's decisions ---------------------------------------------------------------------------


def _submissions_folder(year: int) -> Path:
    return Path(settings.GTB_INPUTS) / SUBMISSIONS_FOLDER / str(year)


def accepted_name(upload: Upload) -> str:
    return f"{upload.entity}_{upload.year}_portal-{upload.pk}.xlsx"


def _withdraw(case: Case, by: str, why: str) -> None:
    """Take the case's accepted file out of the inputs when the warehouse has not loaded it, so the
    next run does not load it (it goes to `{state}/withdrawn/`); a loaded one stays for the record.
    Refused while the warehouse cannot be read (a run holds it): the file may be loaded already."""
    if not case.accepted_file:
        return
    path = _submissions_folder(case.year) / case.accepted_file
    if not path.is_file():
        return
    try:
        # held from the check to the move: a run starting between the two would list the file,
        # then not find it (it is told "taken out" then, but not loaded either way)
        with api.warehouse_held(Path(settings.GTB_DB)):
            rows, note = warehouse_rows(case.year)
            if note and Path(settings.GTB_DB).exists():  # whether a run loaded the file is unknown
                raise Refused("refused.inventory-busy", note=note)
            if _loaded_row(rows, case.entity, case.accepted_file) is not None:
                return
            target = state.folder(settings.GTB_STATE, "withdrawn") / case.accepted_file
            shutil.move(str(path), target)
    except GtbError as exc:  # a run holds the warehouse
        raise Refused("refused.inventory-busy", note=str(exc)) from None
    audit(
        by, "withdraw", case.entity, case.year, case.submitted, f"{case.accepted_file} taken out of the inputs: {why}"
    )


def reviewed_upload(case: Case | None) -> Upload | None:
    """The upload SUN's review page shows, and its decisions act on: the submitted one while
    submitted or accepted, else the latest."""
    if case is None:
        return None
    if case.status in (Case.SUBMITTED, Case.ACCEPTED) and case.submitted is not None:
        return case.submitted
    return case.current


def _as_reviewed(case: Case, upload_id: int | None) -> None:
    """Refused unless the review page the decision was made on showed the upload it would act on
    (`upload_id`, carried by its form): a workbook submitted or uploaded after the page was read
    is never accepted, nor asked a correction of, unseen."""
    shown = reviewed_upload(case)
    if shown is None or shown.pk != upload_id:
        # the page now shows a workbook to decide on again, or one not submitted: nothing to accept yet
        if case.status in (Case.SUBMITTED, Case.ACCEPTED):
            raise Refused("refused.not-reviewed", entity=case.entity, year=case.year)
        raise Refused("refused.not-reviewed-draft", entity=case.entity, year=case.year)


def accept(user, entity: str, year: int, note: str, upload_id: int | None) -> Case:
    """Accept the submitted upload, the one the review page showed (`upload_id`): its bytes go to
    `{inputs}/submissions/{YEAR}/` under a generated name, for `gtb run` to load. With flags, a
    note (why the figures stand) is required."""
    note = (note or "").strip()[:MAX_EXPLANATION]
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(entity=entity, year=year).first()
        if case is None:
            raise Refused("refused.not-submitted")
        _as_reviewed(case, upload_id)  # first: a workbook uploaded since is told as such, as by a correction
        if case.status != Case.SUBMITTED or case.submitted is None:
            raise Refused("refused.not-submitted")
        upload = case.submitted
        if upload.flags and not note:
            raise Refused("refused.note", count=upload.flags)
        by = user.get_username()
        loaded = _loaded_already(upload)
        _withdraw(case, by, "a newer upload was accepted")
        name = loaded or _write_accepted(upload)
        case.status, case.accepted_by, case.accepted_at = Case.ACCEPTED, by, timezone.now()
        case.accept_note, case.accepted_file, case.flags_closed = note, name, False
        case.save()
        where = f"already loaded as {name}" if loaded else f"written to {SUBMISSIONS_FOLDER}/{year}/{name}"
        audit(by, "accept", entity, year, upload, f"{where}; note: {note or '-'}")
    return case


def _loaded_already(upload: Upload) -> str | None:
    """The file name under which the warehouse loaded these very bytes for the upload's entity-year
    (a workbook sent again unchanged after a correction request), or None when it never saw them.
    Refused when it recorded them otherwise (replaced since, rejected, or another entity-year's): a
    run never reads the same bytes twice, so accepted again they would never be loaded."""
    try:
        seen = api.recorded(upload.sha256, Path(settings.GTB_DB))
    except GtbError as exc:
        raise Refused("refused.inventory-busy", note=str(exc)) from None
    if seen is None:
        return None
    if seen.status == "loaded" and (seen.entity_code, seen.reporting_year) == (upload.entity, upload.year):
        return seen.file_name
    received = seen.received_at
    when = texts.When(received) if isinstance(received, dt.date) else str(received)
    how = Said(f"refused.how.{seen.status}") if texts.member("refused.how", seen.status) else seen.status
    raise Refused("refused.same-bytes", file=seen.file_name, when=when, how=how)


def _write_accepted(upload: Upload) -> str:
    """The upload's bytes into `{inputs}/submissions/{YEAR}/` under a generated name, checked against
    what was checked; the name."""
    source = Path(settings.GTB_STATE) / state.UPLOADS / upload.stored_name
    folder = _submissions_folder(upload.year)
    folder.mkdir(parents=True, exist_ok=True)
    name = accepted_name(upload)
    partial = folder / f".{name}.part"
    shutil.copyfile(source, partial)
    if hashlib.sha256(partial.read_bytes()).hexdigest() != upload.sha256:
        partial.unlink()
        raise Refused("refused.changed")
    partial.replace(folder / name)
    return name


def request_correction(user, entity: str, year: int, message: str, upload_id: int | None) -> Case:
    """Ask the focal point for a corrected workbook of the upload the review page showed
    (`upload_id`); they see `message` on their page. An accepted file not loaded yet is taken out
    of the inputs."""
    message = (message or "").strip()[:MAX_EXPLANATION]
    if not message:
        raise Refused("refused.correction-message")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(entity=entity, year=year).first()
        if case is None:
            raise Refused("refused.no-submission")
        _as_reviewed(case, upload_id)  # first, as `accept` does
        if case.status == Case.CORRECTION:
            raise Refused("refused.no-submission")
        by = user.get_username()
        if case.status == Case.ACCEPTED:
            _withdraw(case, by, "a correction was requested")
        before = case.status
        case.status, case.correction_message = Case.CORRECTION, message
        case.correction_by, case.correction_at = by, timezone.now()
        case.save()
        audit(
            by, "request-correction", entity, year, case.current, f"{LABELS[before]} -> correction requested: {message}"
        )
    return case


# --- where things stand ------------------------------------------------------------------------


def warehouse_rows(year: int) -> tuple[dict[str, Any], str]:
    """The warehouse's tracker rows of `year` by entity (`api.status`), and a note when it cannot
    be read (no database yet, or a run holds it)."""
    rows, note, _ = warehouse_state(year)
    return rows, note


def warehouse_state(year: int) -> tuple[dict[str, Any], str, bool]:
    """`warehouse_rows`, and whether the warehouse is held by a run or another program (its lock:
    it can be read again shortly), rather than missing or damaged."""
    try:
        return {r.entity: r for r in api.status(year, settings.GTB_DB)}, "", False
    except DatabaseBusy as exc:
        return {}, str(exc), True
    except GtbError as exc:
        return {}, str(exc), False


def unattributed_files(year: int) -> list[Any]:
    """The warehouse's rejected files of `year` that no entity's row shows (`api.unattributed`:
    their entity or year could not be read); none when the warehouse cannot be read (the tracker
    says so already)."""
    try:
        return api.unattributed(year, settings.GTB_DB)
    except GtbError:
        return []


@dataclass(frozen=True)
class WarehouseFile:
    """A file of the entity-year the warehouse loaded or rejected, as the review page lists it."""

    file: str
    kind: str  # loaded, rejected (the row's), rejected-since (a correction after the loaded one)
    errors: int = 0
    first_finding: str = ""


@dataclass(frozen=True)
class WarehouseFindings:
    """What the warehouse holds of an entity-year's files that came without a portal upload
    (`warehouse_findings`): the row's file and the rejected files beside it, with their error
    count and first finding (the warehouse keeps the first; every finding is in the run's
    issues.csv), and the open flags of the loaded one (sheet, cell, message, the focal point's
    comment in the workbook); `unreadable` when the flags could not be read (a run holds the
    warehouse)."""

    files: tuple[WarehouseFile, ...] = ()
    flags: tuple[dict, ...] = ()
    unreadable: bool = False


def warehouse_findings(entity: str, year: int, row: Any | None, shown_in_portal: bool) -> WarehouseFindings:
    """The warehouse's findings of the entity-year's files (`WarehouseFindings`), for the review
    page: the row's file unless `shown_in_portal` (the portal's upload the page shows is that
    workbook, with its own report), and every rejected file beside it. The open flags through
    `api.compare` (its flags are those of the loaded submission), read only when the row counts some."""
    if row is None:
        return WarehouseFindings()
    files: list[WarehouseFile] = []
    flags: tuple[dict, ...] = ()
    unreadable = False
    status = getattr(row, "status", "")
    if not shown_in_portal and getattr(row, "file", None) and status in (*LOADED, "rejected"):
        rejected = status == "rejected"
        files.append(
            WarehouseFile(
                row.file,
                "rejected" if rejected else "loaded",
                int(getattr(row, "errors", 0) or 0),
                (getattr(row, "first_finding", "") or "") if rejected else "",
            )
        )
        if not rejected and int(getattr(row, "open_flags", 0) or 0) > 0:
            try:
                found = api.compare(entity, year, Path(settings.GTB_DB)).flags
            except GtbError:
                unreadable = True
            else:
                flags = tuple(f for f in found if f.get("status") == "open")
    for other in getattr(row, "rejected_files", None) or ():
        kind = "rejected-since" if other.newer else "rejected"
        files.append(WarehouseFile(other.file, kind, int(other.errors), other.first_finding or ""))
    return WarehouseFindings(tuple(files), flags, unreadable)


def close_flags(user, entity: str, year: int, reason: str, file_name: str, sha256: str) -> Any:
    """Close the open flags of the entity-year's loaded submission (`api.accept`), only while it is
    `file_name` with the SHA-256 `sha256`, the loaded file the review page showed (its form carries
    both): checked by `api.accept` on the connection that closes the flags, so that a run loading
    another file between the page and the click, under another name or the same one (a corrected
    workbook copied over the first), never has that file's flags closed unseen. Refused when
    another file is loaded or the form names no bytes ("changed after this page was shown"), or
    the inventory is busy."""
    if not re.fullmatch("[0-9a-f]{64}", sha256 or ""):
        raise Refused("refused.not-reviewed", entity=entity, year=year)
    try:
        return api.accept(
            entity, year, reason, Path(settings.GTB_DB), by=user.get_username(), file_name=file_name, sha256=sha256
        )
    except GtbError as exc:
        if isinstance(getattr(exc, "loaded", None), str):  # `NotTheLoadedFile`: another file is loaded
            raise Refused("refused.not-reviewed", entity=entity, year=year) from None
        raise Refused("refused.inventory-busy", note=str(exc)) from None


def _loaded_row(rows: dict[str, Any], entity: str, file_name: str):
    """The entity's row of `rows` (`warehouse_rows`) if `file_name` is its loaded submission, else None."""
    row = rows.get(entity)
    return row if row is not None and row.file == file_name and row.status in LOADED else None


def _received(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def draft_beside_loaded(case: Case | None) -> bool:
    """No case, or one whose uploads are drafts nobody submitted or asked for: the warehouse's
    loaded workbook (sent another way) is then the entity's status. A correction SUN asked for
    stays the status until it is answered."""
    return case is None or (
        case.status in (Case.UPLOADED, Case.REJECTED) and case.first_submitted_at is None and not case.correction_at
    )


@dataclass(frozen=True)
class Standing:
    """Where an entity-year stands, as every page says it (`standing`): the tracker's row, the
    review page and the focal point's page."""

    status: str
    received: dt.datetime | None = None  # the first submission for review, else the warehouse's file
    notes: tuple[Said, ...] = ()  # written in the page's language
    sent_file: str = ""  # the warehouse's file of the entity-year (loaded, else the newest rejected)


def standing(case: Case | None, row: Any | None) -> Standing:
    """The status of an entity-year, from its portal case and its warehouse row (`warehouse_rows`);
    the one source of the tracker, the review page and the entity page, so they never disagree:

    - `loaded` once the case's accepted file is the loaded submission; also when the warehouse
      loaded a workbook that came another way (put in the inputs by SUN) and the portal holds no
      case, or only drafts nobody submitted or asked for (`draft_beside_loaded`, with a note);
    - `rejected` when the warehouse rejected the entity-year's file and the portal holds no case;
    - else the case's status, `not-started` without one.

    Notes name the warehouse's rejected files not replaced since: a correction rejected after the
    loaded workbook, and any other rejected file still standing beside the row's; and a loaded
    workbook whose comparison with an earlier year is stale (`compare_again`)."""
    warehouse = getattr(row, "status", "") if row is not None else ""
    notes: list[Said] = []
    accepted_loaded = (
        case is not None and case.status == Case.ACCEPTED and getattr(row, "file", None) == case.accepted_file
    )
    if warehouse in LOADED and (accepted_loaded or draft_beside_loaded(case)):
        if case is not None and case.status != Case.ACCEPTED:
            # a workbook that came another way is loaded; the portal holds only a draft (a check)
            notes.append(Said("tracker.newer-draft", {"status": Said(f"status.{case.status}")}))
        status = LOADED_STATUS
    elif case is None:
        status = Case.REJECTED if warehouse == "rejected" else NOT_STARTED
    else:
        status = case.status
    for other in getattr(row, "rejected_files", None) or ():
        said = {"file": other.file, "count": int(other.errors)}
        # after the loaded workbook: a correction, rejected; else another rejected file still standing
        notes.append(Said("tracker.rejected-since", said) if other.newer else Said("tracker.rejected-also", said))
    if warehouse in LOADED and (earlier := getattr(row, "compare_again", None)):
        # an earlier year received or recalculated since it was compared: its flags, and any
        # acceptance, may not hold; the next run that finds its workbook compares it again
        notes.append(Said("tracker.compare-again", {"year": int(earlier)}))
    received = case.first_submitted_at if case is not None and case.first_submitted_at else None
    if received is None and warehouse not in ("", "missing"):
        received = _received(getattr(row, "received_at", None))
    sent = (getattr(row, "file", None) or "") if warehouse in (*LOADED, "rejected") else ""
    return Standing(status, received, tuple(notes), sent)


@dataclass
class TrackerRow:
    entity: str
    name: str
    status: str
    warehouse: str
    received: dt.datetime | None
    on_time: bool | None
    errors: int
    warnings: int
    open_flags: int
    first_finding: str
    upload: Upload | None
    case: Case | None
    late: bool = False
    notes: list[Said] = field(default_factory=list)  # written in the page's language
    # expected to report the year (entities.csv, or the warehouse); a case or a file of another is listed too
    expected: bool = True

    @property
    def label(self) -> str:
        return LABELS.get(self.status, self.status)

    @property
    def reviewable(self) -> bool:
        """Something to review: a portal case, or a file the warehouse loaded or rejected."""
        return self.case is not None or self.warehouse in (*LOADED, "rejected")


def _open_flags(status: str, upload: Upload | None, row: Any) -> int:
    """The warehouse's open flags once loaded; before, the flags on the latest upload."""
    if status == LOADED_STATUS or upload is None:
        return int(getattr(row, "open_flags", 0) or 0) if row is not None else 0
    return upload.flags


def expected_entities(year: int) -> dict[str, str]:
    """Entity code -> name of the entities expected to report `year` (entities.csv)."""
    from pipeline import codelists

    out = {}
    for row in codelists.table("entities"):
        first = int(row.get("expected_from") or 0)
        last = int(row.get("expected_until") or 9999)
        if first <= year <= last:
            out[row["code"]] = row["name"]
    return out


def tracker(year: int, today: dt.date) -> tuple[list[TrackerRow], str]:
    """Every entity expected for `year` (by the code list or the warehouse), and any other with a
    case or a workbook of the year: the portal's status beside the warehouse's, received date, on
    time or late, errors, warnings, open flags, first finding; and a note on the warehouse."""
    rows, note = warehouse_rows(year)
    the_cycle = cycle()
    deadline = the_cycle.deadline if year == the_cycle.open_year else None
    cases = {c.entity: c for c in Case.objects.filter(year=year).select_related("current", "submitted")}
    names = expected_entities(year)
    # the code list's, and the warehouse's (`gtb status`): an entity taken off the list stays
    # expected there until its last year with data, after the next run
    expected = set(names) | {code for code, row in rows.items() if getattr(row, "expected", False)}
    for code, row in rows.items():
        names.setdefault(code, getattr(row, "name", "") or code)
    for code in cases:  # an entity not expected that year whose focal point uploaded all the same
        names.setdefault(code, access.known_entities().get(code, code))
    out = []
    for code in sorted(names):
        case, row = cases.get(code), rows.get(code)
        upload = case.current if case else None
        where = standing(case, row)
        status, received = where.status, where.received
        on_time = None if deadline is None or received is None else received.date() <= deadline
        out.append(
            TrackerRow(
                entity=code,
                name=names[code],
                status=status,
                warehouse=getattr(row, "status", "") if row is not None else "",
                received=received,
                on_time=on_time,
                errors=upload.errors if upload else int(getattr(row, "errors", 0) or 0),
                warnings=upload.warnings if upload else int(getattr(row, "warnings", 0) or 0),
                open_flags=_open_flags(status, upload, row),
                first_finding=(upload.first_finding if upload else (getattr(row, "first_finding", "") or "")) or "",
                upload=upload,
                case=case,
                late=code in expected
                and (bool(deadline and received is None and today > deadline) or on_time is False),
                expected=code in expected,
                notes=list(where.notes),
            )
        )
    return out, note


# --- blank templates -----------------------------------------------------------------------------


def template_name(entity: str, year: int, lang: str) -> str:
    """The name a template is downloaded under, and the one its Instructions sheet says to keep."""
    return f"{entity}_{year}_template_{lang}.xlsx"


def template_file(entity: str, year: int, lang: str) -> Path:
    """The template of `entity`, `year` and `lang`, with the entity's last year as the warehouse
    holds it (the read-only last-year sheet, as `gtb template --db` makes it) and the deadline and
    contact of the portal's reporting cycle; made once per pipeline and template version, per
    last year loaded and per cycle (SUN moving the deadline makes it anew). While a run holds the
    warehouse, the template without that sheet."""
    folder = state.folder(settings.GTB_STATE, state.TEMPLATES)
    db = Path(settings.GTB_DB)
    try:
        key = api.last_year_key(entity, year, db)
    except GtbError:
        key = ""
    the_cycle = cycle()
    said = (the_cycle.open_year, the_cycle.deadline, the_cycle.contact_name, the_cycle.contact_email)
    said_key = hashlib.sha256(repr((*said, the_cycle.contact_names)).encode()).hexdigest()[:8]
    stem = f"{entity}_{year}_{lang}_{TEMPLATE_VERSION}_{__version__}_{said_key}"
    path = folder / f"{stem}{'_' + key if key else ''}.xlsx"
    if not path.is_file():
        partial = folder / f".{secrets.token_hex(6)}.part.xlsx"
        inputs, name = Path(settings.GTB_INPUTS), template_name(entity, year, lang)
        try:
            api.template(entity, year, partial, lang, db if key else None, inputs=inputs, file_name=name)
        except GtbError:  # the warehouse went busy between the two reads
            api.template(entity, year, partial, lang, inputs=inputs, file_name=name)
            path = folder / f"{stem}.xlsx"
        partial.replace(path)
    return path
