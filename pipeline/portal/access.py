"""Who may see what: the one access rule of the portal, and the decorators every view wears.

- Anyone not signed in is sent to the sign-in page.
- An analyst sees every entity; a focal point only the entities of their grants. Every query of
  entity data goes through `visible(user, queryset)`, which filters on the entity; what another
  entity holds is "not found" (404), so a focal point cannot even learn that it exists.
- Analyst pages (the tracker, review, runs, the audit log) are forbidden (403) to focal points;
  a focal point's actions (upload, explain, submit) are forbidden to analysts, who review.

`tests/test_portal_access.py` checks every URL pattern against every persona.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from pipeline import codelists
from pipeline.portal.models import Grant, Profile, Upload

View = Callable[..., HttpResponse]


def is_analyst(user) -> bool:
    if not user.is_authenticated:
        return False
    profile = Profile.objects.filter(user=user).first()
    return bool(profile and profile.is_analyst)


def entities_of(user) -> frozenset[str] | None:
    """The entity codes `user` may see; None for an analyst (every entity)."""
    if is_analyst(user):
        return None
    if not user.is_authenticated:
        return frozenset()
    return frozenset(Grant.objects.filter(user=user).values_list("entity", flat=True))


def visible(user, queryset: QuerySet) -> QuerySet:
    """`queryset` (of a model with an `entity` field) cut down to what `user` may see."""
    allowed = entities_of(user)
    return queryset if allowed is None else queryset.filter(entity__in=allowed)


def known_entities() -> dict[str, str]:
    """Entity code -> name, from schemas/codelists/entities.csv."""
    return {row["code"]: row["name"] for row in codelists.table("entities")}


def may_see(user, entity: str) -> bool:
    allowed = entities_of(user)
    return entity in known_entities() and (allowed is None or entity in allowed)


def _signed_in(view: View) -> View:
    return login_required(view, login_url="login")


def analyst_only(view: View) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_analyst(request.user):
            raise PermissionDenied("for SUN's analysts")
        return view(request, *args, **kwargs)

    return _signed_in(wrapper)


def entity_page(*, focal_point_only: bool = False) -> Callable[[View], View]:
    """A view of one entity (`code` in the URL): 404 unless the user may see it; with
    `focal_point_only`, 403 for analysts (the focal point's own actions)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, code: str, *args, **kwargs) -> HttpResponse:
            entity = code.strip().upper()
            if not may_see(request.user, entity):
                raise Http404("no such entity")
            if focal_point_only and is_analyst(request.user):
                raise PermissionDenied("a focal point's action")
            return view(request, entity, *args, **kwargs)

        return _signed_in(wrapper)

    return decorate


def upload_page(*, focal_point_only: bool = False) -> Callable[[View], View]:
    """A view of one upload (`pk` in the URL), found only among the uploads the user may see."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
            upload = visible(request.user, Upload.objects.select_related("case")).filter(pk=pk).first()
            if upload is None:
                raise Http404("no such upload")
            if focal_point_only and is_analyst(request.user):
                raise PermissionDenied("a focal point's action")
            return view(request, upload, *args, **kwargs)

        return _signed_in(wrapper)

    return decorate


def signed_in(view: View) -> View:
    return _signed_in(view)
