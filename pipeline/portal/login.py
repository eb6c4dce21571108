"""Sign-in lockout: after `GTB_LOCKOUT_FAILURES` failed sign-ins for one user name within
`GTB_LOCKOUT_MINUTES` minutes, that name is locked for as long, even with the right password.
Names that do not exist are counted the same way, so the answer never tells whether a name exists.

An attempt is recorded (as a failure) before its password is checked, then counted (`attempt`):
attempts sent in parallel each count every attempt recorded before them, so no more than
`GTB_LOCKOUT_FAILURES` passwords of a name are ever checked within the window. Checking first and
recording after let every parallel attempt pass the check before any was recorded.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from pipeline.portal.models import SignInFailure


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.GTB_LOCKOUT_MINUTES)


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _recent(key: str):
    return SignInFailure.objects.filter(username=key, at__gte=timezone.now() - _window())


def locked_until(username: str) -> dt.datetime | None:
    """When the name's lock ends, or None when it is not locked."""
    recent = list(_recent(_key(username)).order_by("-at").values_list("at", flat=True))
    if len(recent) < settings.GTB_LOCKOUT_FAILURES:
        return None
    return recent[0] + _window()


def attempt(username: str) -> dt.datetime | None:
    """Record a sign-in attempt for the name, then count: None when its password may be checked
    (the attempt stays recorded as a failure until `succeeded`), else when the lock ends (the
    attempt, never checked, is not kept: knocking on a locked name does not lengthen its lock)."""
    key = _key(username)
    mine = SignInFailure.objects.create(username=key)
    if _recent(key).count() <= settings.GTB_LOCKOUT_FAILURES:
        return None
    mine.delete()
    latest = _recent(key).order_by("-at").values_list("at", flat=True).first()
    return (latest or timezone.now()) + _window()


def failed(username: str) -> None:
    """The attempt's password was wrong: its record (`attempt`) stays; records long past go."""
    SignInFailure.objects.filter(at__lt=timezone.now() - 4 * _window()).delete()  # keep the table small


def succeeded(username: str) -> None:
    SignInFailure.objects.filter(username=_key(username)).delete()
