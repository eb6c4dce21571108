"""Errors that stop a command (exit code 2): bad arguments, missing folders, a locked database."""


class GtbError(Exception):
    """The command itself could not run. The message is one line, shown without a traceback."""
