from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "pipeline.portal"
    label = "portal"
    verbose_name = "Submission portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from pipeline import api

        # the factor pins and sets of the portal's inputs folder where it has them, as its runs read
        api.use_reference(Path(settings.GTB_INPUTS))
        if os.environ.get("GTB_PORTAL_WARM_UP") == "1":  # set by `gtb serve` only
            threading.Thread(target=_warm_up, name="gtb-portal-warm-up", daemon=True).start()


def _warm_up() -> None:
    from pipeline.portal import submissions

    try:
        submissions.warm_up()
    except Exception:  # the first upload is then slower, nothing worse
        logging.getLogger("gtb.portal").exception("warm-up failed")
