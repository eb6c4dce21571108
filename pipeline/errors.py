"""Errors that cross stages.

- `GtbError`: the command itself could not run (exit code 2): bad arguments, missing folders, a
  locked or damaged database. The message is one line, shown without a traceback.
- `UnreadableFile`: one file cannot be opened safely; it becomes that file's `unreadable-file`
  finding and the others go on. The message is for a focal point: what is wrong and the fix.
"""

from __future__ import annotations

from typing import Any


class GtbError(Exception):
    """The command itself could not run. The message is one line, shown without a traceback."""


class DatabaseBusy(GtbError):
    """The database is held by another run or program (its lock): it may be read again shortly."""


class UnreadableFile(Exception):
    """The file cannot be opened safely. The message is for a focal point: what is wrong and the fix.

    Raised with a catalogue message id and its parameters (`str(exc)` is the English text,
    `exc.render(lang)` the text in another language); plain text is accepted too.
    """

    def __init__(self, message: str, params: dict[str, Any] | None = None) -> None:
        self.message_id = message if params is not None else ""
        self.params = dict(params or {})
        super().__init__(self.render() if params is not None else message)

    def render(self, lang: str = "en") -> str:
        from pipeline import catalogue

        return catalogue.text(self.message_id, lang, **self.params) if self.message_id else str(self)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes, subclasses included
        return (_rebuild, (type(self), self.message_id, self.params, str(self), self.__dict__))


def _rebuild(cls: type[UnreadableFile], message_id: str, params: dict, text: str, state: dict) -> UnreadableFile:
    exc = cls.__new__(cls)
    Exception.__init__(exc, text)
    exc.__dict__.update(state)
    exc.message_id, exc.params = message_id, params
    return exc
