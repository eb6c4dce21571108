"""Portal accounts (`gtb users add`, `gtb users list`, `gtb users disable`): one per focal point,
bound to their entity or entities, or an analyst who sees every entity. Passwords are hashed with
Argon2; a password given on the command line is never echoed, one made up is printed once. An
account is disabled, never deleted: its uploads and audit entries keep naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import GtbError
from pipeline.paths import DEFAULT_DB, DEFAULT_INPUTS

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{1,149}")


@dataclass(frozen=True)
class PortalUser:
    username: str
    analyst: bool
    entities: tuple[str, ...]
    last_login: dt.datetime | None
    locked_until: dt.datetime | None
    is_active: bool = True

    @property
    def role(self) -> str:
        return "analyst" if self.analyst else "focal point"


def _boot(outputs: Path) -> None:
    from pipeline.portal.server import boot

    boot(DEFAULT_INPUTS, outputs, Path(outputs) / DEFAULT_DB.name)


class NotBlankPasswordValidator:
    """A password of white space only (ten spaces pass the length rule) is refused
    (`AUTH_PASSWORD_VALIDATORS`)."""

    def validate(self, password: str, user: object = None) -> None:
        from django.core.exceptions import ValidationError

        if not (password or "").strip():
            raise ValidationError("This password is blank: it holds only spaces.", code="password_blank")

    def get_help_text(self) -> str:
        return "Your password cannot be only spaces."


def make_password() -> str:
    """16 characters from letters and digits (about 95 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def _entities(codes: list[str]) -> list[str]:
    from pipeline import codelists

    known = {row["code"] for row in codelists.table("entities")}
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise GtbError(f"unknown entity code(s): {', '.join(unknown)} (see schemas/codelists/entities.csv)")
    return wanted


def add_user(
    username: str, entities: list[str], analyst: bool, password: str | None, outputs: Path, replace: bool = False
) -> tuple[PortalUser, str]:
    """Create (or with `replace`, reset) an account; returns it and its password."""
    if not USERNAME.fullmatch(username or ""):
        raise GtbError("a user name is 2-150 letters, digits or . _ @ + - (starting with a letter or digit)")
    codes = _entities(entities)  # blank codes dropped first: --entity "" grants nothing
    if analyst == bool(codes):
        raise GtbError("give either --entity CODE (one or more) or --analyst")
    _boot(outputs)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from pipeline.portal.audit import audit
    from pipeline.portal.login import succeeded
    from pipeline.portal.models import Grant, Profile

    users = get_user_model()
    exists = users.objects.filter(username=username).exists()
    if exists and not replace:
        raise GtbError(f"user {username} exists (--replace resets their entities, role and password)")
    other = users.objects.filter(username__iexact=username).exclude(username=username).first()
    if other is not None:  # names are told apart regardless of case at sign-in
        raise GtbError(f"user {other.username} exists; a name that differs only in case would be the same account")
    secret = password if password is not None else make_password()
    user = users.objects.filter(username=username).first() or users(username=username)
    try:
        validate_password(secret, user=user)  # the user too: a password like the user's name is refused
    except ValidationError as exc:
        raise GtbError("password refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        user.set_password(secret)
        user.is_active = True
        user.save()
        Profile.objects.update_or_create(user=user, defaults={"is_analyst": analyst})
        Grant.objects.filter(user=user).delete()
        Grant.objects.bulk_create([Grant(user=user, entity=c) for c in codes])
        succeeded(username)  # a reset lifts a lockout
        role = "analyst" if analyst else f"focal point of {', '.join(codes)}"
        audit("gtb users", "account-replaced" if exists else "account-added", detail=f"{username}: {role}")
    return _describe(user), secret


def _existing_portal(outputs: Path) -> None:
    """Boot the portal whose state is under `outputs`; none made there: said, and no folder made
    to say so."""
    if not (Path(outputs) / "portal").is_dir():
        raise GtbError(
            f"no portal under {outputs} (its accounts are in {outputs}/portal): add one with `gtb users add`"
        )
    _boot(outputs)


def list_users(outputs: Path) -> list[PortalUser]:
    """The accounts of the portal whose state is under `outputs`."""
    _existing_portal(outputs)
    from django.contrib.auth import get_user_model

    return [_describe(u) for u in get_user_model().objects.order_by("username")]


def disable_user(username: str, outputs: Path) -> PortalUser:
    """Disable an account: it can no longer sign in, and a session it has open ends at its next
    request (Django's sign-in refuses an inactive user, and its session loader drops one). Its
    uploads, grants and audit entries stay; `gtb users add --replace` enables it again."""
    _existing_portal(outputs)
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from pipeline.portal.audit import audit

    user = get_user_model().objects.filter(username__iexact=(username or "").strip()).first()
    if user is None:
        raise GtbError(f"no user {username} (see `gtb users list`)")
    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit("gtb users", "account-disabled", detail=user.username)
    return _describe(user)


def _describe(user) -> PortalUser:
    from pipeline.portal.login import locked_until
    from pipeline.portal.models import Grant, Profile

    profile = Profile.objects.filter(user=user).first()
    return PortalUser(
        username=user.username,
        analyst=bool(profile and profile.is_analyst),
        entities=tuple(Grant.objects.filter(user=user).order_by("entity").values_list("entity", flat=True)),
        last_login=user.last_login,
        locked_until=locked_until(user.username),
        is_active=bool(user.is_active),
    )
