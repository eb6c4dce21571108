"""Sign-in lockout: after `GTB_LOCKOUT_FAILURES` failed sign-ins for one user name within
`GTB_LOCKOUT_MINUTES` minutes, that name is locked for as long, even with the right password.
Names that do not exist are counted the same way, so the answer never tells whether a name exists.
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


def locked_until(username: str) -> dt.datetime | None:
    """When the name's lock ends, or None when it is not locked."""
    since = timezone.now() - _window()
    recent = list(
        SignInFailure.objects.filter(username=_key(username), at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)
    )
    if len(recent) < settings.GTB_LOCKOUT_FAILURES:
        return None
    return recent[0] + _window()


def failed(username: str) -> None:
    SignInFailure.objects.create(username=_key(username))
    SignInFailure.objects.filter(at__lt=timezone.now() - 4 * _window()).delete()  # keep the table small


def succeeded(username: str) -> None:
    SignInFailure.objects.filter(username=_key(username)).delete()
