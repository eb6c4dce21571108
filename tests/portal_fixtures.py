"""Fixtures of the portal's tests: folders of their own, accounts, workbooks, a warehouse.

`portal` points the portal's settings at a test's own inputs, outputs and state folders, with a
reporting cycle collecting 2024 (the year `tests.builders.valid_sheets` fills in). `personas`
are the four callers every URL is tried with. `warehouse_2023` is a warehouse holding UNEP's and
WFP's 2023 workbooks (built once per session, copied for each test that needs it), against which
a 2024 upload gets its plausibility flags.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import api
from tests.builders import set_cell, valid_sheets, write_workbook

PASSWORD = "a long enough test password"
YEAR = 2024


@dataclass
class Portal:
    inputs: Path
    outputs: Path
    db: Path
    state: Path

    def cycle(self, open_year: int = YEAR, deadline: dt.date | None = None) -> None:
        deadline = deadline or dt.date.today() + dt.timedelta(days=30)
        (self.inputs / "reporting_cycle.toml").write_text(
            f'[cycle]\nopen_year = {open_year}\ndeadline = "{deadline.isoformat()}"\n\n'
            '[contact]\nname = "SUN test desk"\nname_fr = "le bureau SUN"\nname_es = "la oficina SUN"\n'
            'email = "sun@example.org"\n',
            encoding="utf-8",
        )


@pytest.fixture
def portal(settings, tmp_path) -> Portal:
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    (inputs / "submissions").mkdir(parents=True)
    outputs.mkdir()
    found = Portal(inputs, outputs, outputs / "gtb.duckdb", outputs / "portal")
    found.cycle()
    settings.GTB_INPUTS, settings.GTB_OUTPUTS = inputs, outputs
    settings.GTB_DB, settings.GTB_STATE = found.db, found.state
    return found


def user(name: str, entities: tuple[str, ...] = (), analyst: bool = False):
    """An account made as `gtb users add` makes it (through the API)."""
    from django.contrib.auth import get_user_model

    api.users_add(name, list(entities), analyst, PASSWORD, Path(_outputs()))
    return get_user_model().objects.get(username=name)


def _outputs() -> Path:
    from django.conf import settings

    return Path(settings.GTB_OUTPUTS)


@pytest.fixture
def personas(portal, db) -> dict:
    """None (anonymous), a focal point of UNEP, a focal point of WFP, an analyst."""
    return {
        "anonymous": None,
        "focal_a": user("focal-a", ("UNEP",)),
        "focal_b": user("focal-b", ("WFP",)),
        "analyst": user("analyst", analyst=True),
    }


def page(client, url: str) -> str:
    """The page at `url` as `client` sees it (a 200, or the test fails)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def client_for(account, **kwargs):
    from django.test import Client

    client = Client(**kwargs)
    if account is not None:
        client.force_login(account)
    return client


def workbook(folder: Path, name: str = "UNEP_2024.xlsx", entity: str = "UNEP", year: int = YEAR, **cells) -> Path:
    """A valid workbook, with `Sheet_Cell=value` changes (e.g. Facilities_E2="litre")."""
    sheets = valid_sheets(entity, year)
    for where, value in cells.items():
        sheet, cell = where.rsplit("_", 1)
        set_cell(sheets, sheet, cell, value)
    folder.mkdir(parents=True, exist_ok=True)
    return write_workbook(folder / name, sheets)


def upload(client, entity: str, path: Path, name: str | None = None, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = SimpleUploadedFile(name or path.name, path.read_bytes(), content_type="application/octet-stream")
    return client.post(f"/entity/{entity}/upload/", {"workbook": data}, **extra)


@pytest.fixture(scope="session")
def warehouse_2023(tmp_path_factory) -> Path:
    """A warehouse with UNEP's and WFP's 2023 workbooks loaded (`gtb run`)."""
    root = tmp_path_factory.mktemp("warehouse-2023")
    inputs = root / "inputs"
    for entity in ("UNEP", "WFP"):
        workbook(inputs / "submissions" / "2023", f"{entity}_2023.xlsx", entity, 2023)
    db = root / "gtb.duckdb"
    api.run(inputs, db, root / "outputs")
    return db


@pytest.fixture
def warehouse(portal, warehouse_2023) -> Path:
    shutil.copyfile(warehouse_2023, portal.db)
    return portal.db


def shown_upload(client, url: str) -> dict[str, str]:
    """The `upload` field the page's forms carry (the id of the upload the page shows), if any."""
    found = re.search(r'name="upload" value="(\d+)"', client.get(url).content.decode())
    return {"upload": found.group(1)} if found else {}


def close_form(html: str) -> dict[str, str]:
    """The hidden fields of the review page's "Close the flags" form: the loaded file it shows."""
    form = html.split('id="close-flags-form"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="(file|sha256)" value="([^"]*)"', form))


def submit(client, entity: str = "UNEP", answers: dict[str, str] | None = None, **extra):
    """The entity page's "Submit for review" as the page posts it: with the id of the upload it shows."""
    fields = shown_upload(client, f"/entity/{entity}/") | (answers or {})
    return client.post(f"/entity/{entity}/submit/", fields, **extra)


def decide(client, action: str, fields: dict[str, str], entity: str = "UNEP", year: int = YEAR, **extra):
    """A decision of SUN's review page (`accept`, `correction`) as the page posts it: with the id
    of the upload it shows."""
    review = f"/review/{entity}/{year}/"
    return client.post(f"{review}{action}/", shown_upload(client, review) | fields, **extra)
