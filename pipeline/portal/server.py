"""Starting the portal: settings from the folders given, the portal's tables, the workers, waitress.

`boot(inputs, outputs, db)` points the settings at the folders (environment variables read by
`pipeline.portal.settings`), sets Django up and creates or migrates the portal's tables.
`serve(...)` then serves the WSGI application with waitress, a production server (threads,
request body cap, no debug pages), until interrupted.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable
from pathlib import Path

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import RequestEntityTooLarge

from pipeline.errors import GtbError

SETTINGS = "pipeline.portal.settings"
THREADS = 4  # uploads hold at most submissions.CHECKS_AT_ONCE of them: the others serve pages
# Waitress takes a body up to the cap and the form's fields, and refuses a larger one as soon as its
# headers came, before reading it (a body it takes is read whole, before the portal sees it).
BODY_ALLOWANCE = 2**20

log = logging.getLogger(__name__)


class PortalRefusal(ErrorTask, WSGITask):
    """Waitress's answer to a request it will not take; a body over its limit is refused as the
    portal refuses it (`middleware.too_large`: the portal's words, in the page's language), not in
    waitress's bare English. The body is not read: the connection closes after the answer."""

    def execute(self) -> None:
        if not isinstance(self.request.error, RequestEntityTooLarge):
            from pipeline.portal.middleware import REFUSAL_HEADERS

            # waitress's own refusals (a malformed length or chunk, headers too large) wear the
            # headers of every answer too
            self.response_headers.extend(REFUSAL_HEADERS)
            super().execute()
            return
        try:
            status, headers, body = self._too_large()
        except Exception:  # the portal's words cannot be had: waitress's own answer still refuses it
            log.exception("the refusal of a body over the limit could not be put in the portal's words")
            super().execute()
            return
        self.status = status
        self.response_headers.extend([*headers, ("Content-Length", str(len(body)))])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)

    def _too_large(self) -> tuple[str, list[tuple[str, str]], bytes]:
        from django.core.handlers.wsgi import WSGIRequest

        from pipeline.portal.middleware import too_large

        environ = dict(self.get_environment(), **{"wsgi.input": io.BytesIO(), "CONTENT_LENGTH": "0"})
        response = too_large(WSGIRequest(environ))
        from pipeline.portal.middleware import REFUSAL_HEADERS

        headers = [(k, v) for k, v in response.items() if k.lower() != "content-length"]
        named = {k.lower() for k, _ in headers}
        headers += [(k, v) for k, v in REFUSAL_HEADERS if k.lower() not in named]
        return f"{response.status_code} {response.reason_phrase}", headers, response.content


class PortalChannel(HTTPChannel):
    """Waitress's connection, its refusals answered by `PortalRefusal`."""

    error_task_class = PortalRefusal


def boot(inputs: Path, outputs: Path, db: Path, *, extra_hosts: tuple[str, ...] = ()) -> Path:
    """Configure Django for these folders (once per process) and migrate; returns the state folder."""
    import django
    from django.conf import settings

    wanted = {
        "GTB_PORTAL_INPUTS": str(Path(inputs).absolute()),
        "GTB_PORTAL_OUTPUTS": str(Path(outputs).absolute()),
        "GTB_PORTAL_DB": str(Path(db).absolute()),
    }
    if settings.configured:
        if str(settings.GTB_OUTPUTS) != wanted["GTB_PORTAL_OUTPUTS"]:
            raise GtbError(f"the portal is already set up for {settings.GTB_OUTPUTS} in this process")
        return Path(settings.GTB_STATE)
    os.environ.update(wanted)
    if extra_hosts and "GTB_PORTAL_ALLOWED_HOSTS" not in os.environ:
        os.environ["GTB_PORTAL_ALLOWED_HOSTS"] = ",".join(("localhost", "127.0.0.1", "[::1]", *extra_hosts))
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    Path(outputs).mkdir(parents=True, exist_ok=True)
    try:
        django.setup()
    except PermissionError as exc:
        raise GtbError(f"cannot write the portal's state folder: {exc.filename}") from None
    _migrate()
    sqlite = Path(settings.GTB_STATE) / "portal.sqlite3"
    if sqlite.is_file():  # password hashes and the audit log: the owner's only
        sqlite.chmod(0o600)
    return Path(settings.GTB_STATE)


def _migrate() -> None:
    from django.core.management import call_command
    from django.db.utils import DatabaseError

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:  # locked, unreadable, or a file that is no database at all
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GtbError(f"the portal's database cannot be opened ({first}); it was left untouched") from None


def serve(
    host: str, port: int, inputs: Path, outputs: Path, db: Path, on_ready: Callable[[str], object] | None = None
) -> None:
    """Serve the portal on host:port with waitress until interrupted (KeyboardInterrupt goes up)."""
    import waitress
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from pipeline import workers

    if not Path(inputs).is_dir():
        raise GtbError(f"inputs folder not found: {inputs}")
    hosts = () if host in ("0.0.0.0", "::", "") else (host,)
    workers.warm_up(  # prepared the last: it freezes what the server imported
        "pipeline.intake.normalise", "pipeline.intake.annotate", "pipeline.intake.excerpt", "pipeline.intake.prepared"
    )
    os.environ["GTB_PORTAL_WARM_UP"] = "1"  # the app checks a blank workbook as it starts (PortalConfig.ready)
    state = boot(inputs, outputs, db, extra_hosts=hosts)
    from pipeline.portal import jobs  # the models need the settings: after boot

    jobs.interrupt_stale()
    from pipeline.portal.middleware import readable_requests

    app = readable_requests(get_wsgi_application())
    from pipeline import cycle

    try:
        cycle.reporting_cycle(settings.GTB_INPUTS)
    except GtbError as exc:
        raise GtbError(f"the portal needs a reporting cycle: {exc}") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    proxy = os.environ.get("GTB_PORTAL_TRUSTED_PROXY")  # behind HTTPS: the proxy's address
    behind = {"trusted_proxy": proxy, "trusted_proxy_headers": {"x-forwarded-proto"}} if proxy else {}
    listeners: dict = {}
    server = waitress.create_server(
        app,
        map=listeners,
        host=host,
        port=port,
        threads=THREADS,
        ident="gtb-portal",
        max_request_body_size=settings.GTB_MAX_UPLOAD_BYTES + BODY_ALLOWANCE,
        clear_untrusted_proxy_headers=True,
        **behind,
    )
    for listener in listeners.values():  # one a socket (localhost: IPv4 and IPv6)
        listener.channel_class = PortalChannel
    if on_ready:
        on_ready(f"portal at {url} (state: {state}, database: {settings.GTB_DB}); Ctrl-C stops it")
    try:
        server.run()
    finally:
        server.close()
