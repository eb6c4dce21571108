"""The annual report: charts, tables and entity factsheets drawn from the indicator views.

`pipeline.report.build.report(year, db, outputs)` is the entry point (`gtb report --year Y`).
"""
