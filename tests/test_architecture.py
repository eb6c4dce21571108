"""The layout is the road the data takes: stages import only earlier stages, and the contract
generates the warehouse.

Layers, bottom to top (a module may import its own layer and those below, never above):

    shared     pipeline/{__init__, paths, errors, safe, cells, geo, xlsx, codelists, serials, catalogue, workers}
    reference  pipeline/reference/  (factor sets, pins, unit conversions, flight distances)
    contract   schemas/             (the submission contract and its pandera models)
    intake     pipeline/intake/     (guard, read, normalise, validate, findings, reports, template, ...)
    warehouse  pipeline/warehouse/  (schema, migrations, load)
    emissions  pipeline/emissions/  (prepare, calculate)
    indicators pipeline/indicators/ (the views and reading them)
    review     pipeline/review/     (plausibility flags, acceptance, the tracker)
    report     pipeline/report/
    app        pipeline/{api, cli, run, docs, portal}

Lazy imports inside functions count: a backward import is a backward import wherever it sits.
"""

from __future__ import annotations

import ast
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse import schema
from pipeline.warehouse.db import connect

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    "shared",
    "reference",
    "contract",
    "intake",
    "warehouse",
    "emissions",
    "indicators",
    "review",
    "report",
    "app",
]
SHARED = {
    "pipeline",
    "paths",
    "errors",
    "cycle",
    "safe",
    "cells",
    "geo",
    "xlsx",
    "codelists",
    "serials",
    "catalogue",
    "workers",
    "terminal",
}
APP = {"api", "cli", "run", "docs", "portal"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "schemas":
        return "contract"
    if parts[0] != "pipeline":
        return None
    if len(parts) == 1:
        return "shared"
    if parts[1] in SHARED:
        return "shared"
    if parts[1] in APP:
        return "app"
    if parts[1] in LAYERS:
        return parts[1]
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_architecture.py")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in out if m.split(".")[0] in ("pipeline", "schemas")}


def project_modules() -> dict[str, Path]:
    files = [*ROOT.glob("pipeline/**/*.py"), *ROOT.glob("schemas/*.py")]
    return {module_name(p): p for p in files}


def known(module: str, modules: dict[str, Path]) -> str | None:
    """The project module an import names (a module, or the module holding the imported name)."""
    while module and module not in modules:
        module = module.rsplit(".", 1)[0] if "." in module else ""
    return module or None


def test_no_stage_imports_a_later_stage():
    modules = project_modules()
    backward = []
    for name, path in modules.items():
        own = LAYERS.index(layer_of(name))
        for imported in imports_of(path):
            target = known(imported, modules)
            if target and LAYERS.index(layer_of(target)) > own:
                backward.append(f"{name} ({layer_of(name)}) imports {target} ({layer_of(target)})")
    assert not backward, "\n".join(sorted(backward))


def test_no_import_cycles():
    modules = project_modules()
    graph = {
        name: {t for i in imports_of(path) if (t := known(i, modules)) and t != name and not name.startswith(t + ".")}
        for name, path in modules.items()
    }
    # a package's __init__ importing its own submodules is not a cycle of the road
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]) if nxt in trail else f"{node} -> {nxt}")
            elif not state.get(nxt):
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if not state.get(name):
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_the_portal_reaches_the_pipeline_through_the_api_only():
    """The submission portal is a client of `pipeline.api`: besides its own modules it imports the
    API and the shared modules, never a stage (intake, warehouse, review...) directly."""
    modules = project_modules()
    allowed = {"pipeline.api"} | {f"pipeline.{name}" for name in SHARED if name != "pipeline"} | {"pipeline"}
    wrong = []
    for name, path in modules.items():
        if not name.startswith("pipeline.portal"):
            continue
        for imported in imports_of(path):
            target = known(imported, modules)
            if target and not target.startswith("pipeline.portal") and target not in allowed:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def describe(con: duckdb.DuckDBPyConnection) -> dict[str, set[tuple]]:
    tables: dict[str, set[tuple]] = {}
    for table, column, dtype, nullable in con.execute(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal"
    ).fetchall():
        tables.setdefault(table, set()).add((column, dtype, nullable))
    for table, constraint in con.execute(
        "SELECT table_name, constraint_text FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'CHECK')"
    ).fetchall():
        tables.setdefault(table, set()).add(("constraint", constraint, None))
    return tables


def test_migrations_reach_exactly_the_schema_the_contract_generates(tmp_path):
    fresh = connect(tmp_path / "fresh.duckdb")
    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    old.execute(schema.migrations()[1].read_text(encoding="utf-8"))
    old.execute("INSERT INTO schema_version VALUES (1, now(), 'initial schema')")
    old.close()
    migrated = connect(tmp_path / "old.duckdb")  # applies migrations 2..LATEST
    try:
        assert describe(migrated) == describe(fresh)
        assert migrated.execute("SELECT max(version) FROM schema_version").fetchone()[0] == schema.LATEST
    finally:
        fresh.close()
        migrated.close()


def test_every_contract_column_is_a_warehouse_column_with_its_comment(tmp_path):
    from schemas import contract

    con = connect(tmp_path / "w.duckdb")
    try:
        columns = {
            (t, c): (dtype, comment)
            for t, c, dtype, comment in con.execute(
                "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = 'main'"
            ).fetchall()
        }
    finally:
        con.close()
    for spec in contract.sheets():
        for col in spec.table_columns():
            dtype, comment = columns[(spec.table, col.db_name)]
            assert dtype == col.db_type, (spec.name, col.name)
            assert col.description.rstrip(".") in comment, (spec.name, col.name)


def test_every_view_and_view_column_is_described(tmp_path):
    """The views describe themselves as the tables do: every view has its comment from
    indicators.sql, every column its description (keys.csv or fields.csv), and fields.csv names
    no column that no view has."""
    from pipeline.indicators.views import FIELDS, create_views, view_descriptions

    con = connect(tmp_path / "w.duckdb")
    try:
        create_views(con)
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        columns = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE table_name IN "
            "(SELECT view_name FROM duckdb_views() WHERE NOT internal)"
        ).fetchall()
    finally:
        con.close()
    assert set(view_descriptions()) == set(views) and all(views.values())
    assert [(t, c) for t, c, comment in columns if not comment] == []
    listed = {row.split(",")[0] for row in FIELDS.read_text(encoding="utf-8").splitlines()[1:]}
    assert listed <= {c for _, c, _ in columns}, listed - {c for _, c, _ in columns}


def test_the_flags_of_a_database_of_version_3_survive_the_migration_that_allows_withdrawn(tmp_path):
    old = duckdb.connect(str(tmp_path / "v3.duckdb"))
    for number in (1, 2, 3):
        old.execute(schema.migrations()[number].read_text(encoding="utf-8"))
        old.execute("INSERT INTO schema_version VALUES (?, now(), 'older pipeline')", [number])
    old.execute(
        "INSERT INTO flags (flag_id, submission_id, code, check_name, message, status) VALUES "
        "(1, 7, 'implausible-change', 'energy_change', 'x1000', 'accepted')"
    )
    old.close()
    con = connect(tmp_path / "v3.duckdb")
    try:
        assert con.execute("SELECT flag_id, submission_id, message, status FROM flags").fetchall() == [
            (1, 7, "x1000", "accepted")
        ]
        con.execute("UPDATE flags SET status = 'withdrawn' WHERE flag_id = 1")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("UPDATE flags SET status = 'closed' WHERE flag_id = 1")
    finally:
        con.close()


@pytest.mark.parametrize("version", [1, 6])
def test_a_reader_of_a_database_an_earlier_pipeline_left_finds_it_upgraded(tmp_path, version):
    """Readers (gtb status, gtb report, the portal's pages) opened the warehouse read-only, which
    never migrates: after an upgrade, every page of the portal failed with "no column named
    withdrawn_at" until a run had opened the database. A reader now has it migrated first."""
    from pipeline import api

    path = tmp_path / f"v{version}.duckdb"
    old = duckdb.connect(str(path))
    for number in range(1, version + 1):
        old.execute(schema.migrations()[number].read_text(encoding="utf-8"))
        old.execute("INSERT INTO schema_version VALUES (?, now(), 'older pipeline')", [number])
    old.close()
    rows = api.status(2025, path)  # the tracker's queries read the latest columns
    assert rows and all(r.status == "missing" for r in rows)
    con = connect(path, read_only=True)
    try:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == schema.LATEST
    finally:
        con.close()
