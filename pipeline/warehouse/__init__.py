"""The DuckDB warehouse: schema and migrations (db), loading (load, history), views."""
