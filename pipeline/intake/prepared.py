"""Imported by the readers' fork server (`pipeline.workers.warm_up`), never by the pipeline itself:
builds once, in the server, the lookups and code lists that normalising a workbook needs, so that
each worker process forked from it inherits them (the airports alone take 0.3 s to build).
"""

from pipeline.intake import normalise

normalise.prepare()
