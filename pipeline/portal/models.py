"""The portal's own records: who may see which entity, each entity-year's submission and its
uploads, the focal points' explanations of flags, the audit log and the runs started here.

What was loaded (and its plausibility flags) is the warehouse's, read through `pipeline.api`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Profile(models.Model):
    """A portal account: an analyst sees every entity, a focal point the entities of its grants."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal")
    is_analyst = models.BooleanField(default=False)


class Grant(models.Model):
    """A focal point's right to one entity's page and data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants")
    entity = models.CharField(max_length=16)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "entity"], name="one_grant_per_entity")]


class SignInFailure(models.Model):
    """A failed sign-in for a user name (existing or not); enough of them lock the name a while."""

    username = models.CharField(max_length=150, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)


class Case(models.Model):
    """One entity's submission for one year, through its statuses (see `STATUS`)."""

    UPLOADED, REJECTED, SUBMITTED = "uploaded", "rejected", "submitted"
    CORRECTION, ACCEPTED = "correction-requested", "accepted"
    STATUS = [
        (UPLOADED, "uploaded"),
        (REJECTED, "rejected"),
        (SUBMITTED, "submitted"),
        (CORRECTION, "correction requested"),
        (ACCEPTED, "accepted"),
    ]

    entity = models.CharField(max_length=16)
    year = models.IntegerField()
    status = models.CharField(max_length=24, choices=STATUS)
    current = models.ForeignKey("Upload", null=True, on_delete=models.SET_NULL, related_name="+")
    submitted = models.ForeignKey("Upload", null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(null=True)
    first_submitted_at = models.DateTimeField(null=True)
    correction_message = models.TextField(blank=True)
    correction_by = models.CharField(max_length=150, blank=True)
    correction_at = models.DateTimeField(null=True)
    accepted_by = models.CharField(max_length=150, blank=True)
    accepted_at = models.DateTimeField(null=True)
    accept_note = models.TextField(blank=True)
    accepted_file = models.CharField(max_length=200, blank=True)  # generated, under {inputs}/submissions/{year}/
    flags_closed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "year"], name="one_case_per_entity_year")]


class Upload(models.Model):
    """One uploaded workbook, kept whatever its verdict, under a generated name."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="uploads")
    entity = models.CharField(max_length=16)  # the entity it was uploaded for (= case.entity)
    year = models.IntegerField()
    stored_name = models.CharField(max_length=80)  # generated; under {state}/uploads/
    original_name = models.CharField(max_length=255)  # metadata only, never a path
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField(default=timezone.now)
    readable = models.BooleanField(default=True)
    errors = models.IntegerField(default=0)
    warnings = models.IntegerField(default=0)
    flags = models.IntegerField(default=0)
    total_findings = models.IntegerField(default=0)
    first_finding = models.TextField(blank=True)
    findings = models.JSONField(default=list)  # the first findings, with their excerpts
    report_folder = models.CharField(max_length=200, blank=True)  # relative to the state folder
    has_annotated = models.BooleanField(default=False)
    compared = models.BooleanField(default=False)  # plausibility flags against last year were computed
    compare_note = models.TextField(blank=True)
    figures = models.JSONField(default=list)  # key figures as they would load, beside last year's
    lang = models.CharField(max_length=8, blank=True)  # the language of its findings ('' before it was kept)
    seconds = models.FloatField(default=0.0)

    @property
    def is_valid(self) -> bool:
        return self.readable and self.errors == 0


class Explanation(models.Model):
    """A focal point's explanation of a plausibility flag of an upload (keyed by sheet, cell, code)."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="explanations")
    key = models.CharField(max_length=200)
    text = models.TextField()
    by = models.CharField(max_length=150)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "key"], name="one_explanation_per_flag")]


class AuditEvent(models.Model):
    """Who did what when: every upload, status change, acceptance, correction request and run."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    entity = models.CharField(max_length=16, blank=True)
    year = models.IntegerField(null=True)
    upload = models.ForeignKey(Upload, null=True, on_delete=models.SET_NULL, related_name="+")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class RunJob(models.Model):
    """A `gtb run` started from the portal, in a child process that reports its progress here."""

    RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"

    started_by = models.CharField(max_length=150)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)
    state = models.CharField(max_length=12, default=RUNNING)
    pid = models.IntegerField(null=True)
    stage = models.CharField(max_length=40, default="starting")
    done = models.IntegerField(default=0)
    total = models.IntegerField(default=0)
    summary = models.TextField(blank=True)
    had_errors = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
