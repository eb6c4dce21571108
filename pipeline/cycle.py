"""The reporting cycle SUN runs: which year is collected, its deadline, and whom to ask at SUN.

One file, read by the template (the deadline and contact on every Instructions sheet) and by the
submission portal (the year it collects). Read from `{inputs}/reporting_cycle.toml`, else the
repository's `inputs/reporting_cycle.toml`:

    [cycle]
    open_year = 2026
    deadline = 2027-03-31       # a TOML date, or an ISO date as text

    [contact]
    name = "the Greening the Blue team (Sustainable UN, SUN)"
    name_fr = "l'équipe Greening the Blue (Sustainable UN, SUN)"   # optional: the name in French
    name_es = "el equipo de Greening the Blue (Sustainable UN, SUN)"   # and in Spanish
    email = "sun@example.org"

`name` is printed wherever no name in the page's or workbook's language is given. The file is
read again whenever it changes, so SUN can open the next year without a restart.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import GtbError
from pipeline.paths import REPO

FILE_NAME = "reporting_cycle.toml"
DEFAULT = REPO / "inputs" / FILE_NAME


@dataclass(frozen=True)
class Cycle:
    open_year: int
    deadline: dt.date
    contact_name: str
    contact_email: str
    source: Path
    contact_names: tuple[tuple[str, str], ...] = ()  # (language, the name in it) of `name_fr`, `name_es`...

    def contact_in(self, lang: str | None) -> str:
        """The contact's name in `lang` (`name_{lang}`), else `name`."""
        return dict(self.contact_names).get(lang or "", self.contact_name)

    def days_left(self, today: dt.date) -> int:
        return (self.deadline - today).days

    def on_time(self, when: dt.datetime | dt.date | None) -> bool | None:
        """Whether something received at `when` came by the deadline (the whole deadline day counts)."""
        if when is None:
            return None
        day = when.date() if isinstance(when, dt.datetime) else when
        return day <= self.deadline


_cache: dict[Path, tuple[int, Cycle]] = {}


def cycle_file(inputs: Path) -> Path:
    own = Path(inputs) / FILE_NAME
    return own if own.is_file() else DEFAULT


def reporting_cycle(inputs: Path) -> Cycle:
    """The cycle of `inputs` (see the module docstring); GtbError naming the file and key when wrong."""
    path = cycle_file(inputs)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise GtbError(f"no reporting cycle: {path} ({exc.strerror})") from None
    hit = _cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise GtbError(f"{path}: cannot be read ({exc})") from None
    found = Cycle(
        open_year=_year(data, path),
        deadline=_date(data, path),
        contact_name=_text(data, "contact", "name", path),
        contact_email=_text(data, "contact", "email", path),
        source=path,
        contact_names=_names(data, path),
    )
    _cache[path] = (mtime, found)
    return found


def _value(data: dict, table: str, key: str, path: Path) -> object:
    section = data.get(table)
    if not isinstance(section, dict) or key not in section:
        raise GtbError(f"{path}: [{table}] {key} is missing")
    return section[key]


def _year(data: dict, path: Path) -> int:
    value = _value(data, "cycle", "open_year", path)
    if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2200:
        raise GtbError(f"{path}: [cycle] open_year must be a year such as 2026, not {value!r}")
    return value


def _date(data: dict, path: Path) -> dt.date:
    value = _value(data, "cycle", "deadline", path)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise GtbError(f"{path}: [cycle] deadline must be an ISO date such as 2027-03-31, not {value!r}") from None


def _names(data: dict, path: Path) -> tuple[tuple[str, str], ...]:
    """The contact's name in each language given (`name_fr = ...`); a key `name_xx` of a language
    the pipeline does not speak is refused, as a misspelt key would otherwise be ignored."""
    from pipeline.catalogue import languages

    section = data.get("contact")
    found = []
    for key in sorted(section) if isinstance(section, dict) else []:
        if not key.startswith("name_"):
            continue
        lang = key.removeprefix("name_")
        if lang not in languages():
            raise GtbError(f"{path}: [contact] {key}: no such language (names in: {', '.join(languages())})")
        found.append((lang, _text(data, "contact", key, path)))
    return tuple(found)


def _text(data: dict, table: str, key: str, path: Path) -> str:
    value = _value(data, table, key, path)
    if not isinstance(value, str) or not value.strip():
        raise GtbError(f"{path}: [{table}] {key} must be text")
    return value.strip()
