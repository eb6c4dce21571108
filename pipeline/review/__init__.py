"""Review between collection and publication: plausibility flags, their acceptance, the tracker.

- `plausibility`: figures against the entity's previous year and against documented bounds.
- `flags`: recording the flags of a run, accepting them (`gtb accept`), the open ones of a year.
- `status`: who is missing, rejected, loaded with flags or accepted (`gtb status`).
- `compare`: an entity's indicators this year and last (`gtb compare`).
"""
