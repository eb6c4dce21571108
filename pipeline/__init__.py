"""Greening the Blue inventory pipeline.

Stages, one module each: guard -> read -> normalise -> validate -> findings -> load ->
calculate -> indicators -> report. Every `gtb` command is a thin wrapper over a function of
the same name in `pipeline.api`.
"""

__version__ = "2025.1.0"
TEMPLATE_VERSION = "2026.1"
