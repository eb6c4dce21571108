"""Imported by the readers' fork server (`pipeline.workers.warm_up`), never by the pipeline itself:
builds once, in the server, the lookups and code lists that normalising a workbook needs, so that
each worker process forked from it inherits them (the airports alone take 0.15-0.3 s to build).

Then it freezes every object the server holds by now (`gc.freeze`): the workers forked from it
never scan those (pandas, pandera and the lookups: some 90,000 objects) in their garbage
collections, nor copy their pages by touching them. Reading a workbook of 99,000 rows took
1.6 s in a process with them to scan, 1.0 s with them frozen. Import it after the others.
"""

import gc

from pipeline.intake import normalise

normalise.prepare()
gc.freeze()
