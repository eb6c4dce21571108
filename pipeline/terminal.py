"""The console the command line prints to: rich's, but a reader that goes away (`gtb status |
head`, a pager quit early) silences it instead of ending the process.

rich's own `Console.on_broken_pipe` raises `SystemExit(1)`: `gtb run | head -1` then ended with
exit 1, "a submission had errors", after a clean run had committed, and skipped what the command
had left to do after its first line. Here the rest of the output goes to /dev/null and the
command finishes, with the exit code its work earns."""

from __future__ import annotations

import os
import sys

from rich.console import Console as RichConsole


class Console(RichConsole):
    def on_broken_pipe(self) -> None:
        self.quiet = True  # rich prints nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())  # nor does print(), nor the flush at exit
        finally:
            os.close(devnull)
