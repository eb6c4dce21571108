"""The generated docs match the contract data they are generated from."""

from pipeline import docs


def test_generated_docs_are_up_to_date():
    for name, build in docs.OUTPUTS.items():
        committed = (docs.DOCS / name).read_text(encoding="utf-8")
        assert committed == build(), f"docs/{name} is stale: run python -m pipeline.docs"


def test_data_dictionary_names_every_contract_column():
    from schemas import contract

    text = docs.data_dictionary()
    for sheet in contract.sheets():
        assert f"## {sheet.name}" in text
        for col in sheet.columns:
            assert f"| `{col.name}` |" in text
