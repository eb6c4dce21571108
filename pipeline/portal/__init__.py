"""The submission portal (`gtb serve`): focal points upload their workbook, see its findings and fix
them in the browser; SUN's analysts track the year, review, accept and load.

A Django project of one app, server-rendered, served by waitress. It sits in the app layer and
reaches the pipeline through `pipeline.api` (and the shared modules) only: every upload goes
through `api.check_upload`, the guard, reader and validation of `gtb validate` in the isolated
workers. Its own state (accounts, uploads, the audit log) is a database of its own, SQLite under
`{outputs}/portal/` unless DATABASE_URL names PostgreSQL; what was loaded comes from the
warehouse (`api.status`). docs/portal.md describes it.
"""
