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


def test_every_command_is_in_the_command_page():
    from pipeline.cli import COMMANDS, build_parser

    page = (docs.DOCS / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
    commands = dict(sub.choices)
    for name, parser in list(commands.items()):  # a command's own commands (gtb users add) too
        nested = next((a for a in parser._actions if isinstance(a, type(sub))), None)
        if nested is not None:
            commands.update({f"{name} {inner}": p for inner, p in nested.choices.items()})
    for name, parser in commands.items():
        assert f"`gtb {name} " in page, name
        for action in parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    row = next(line for line in page.splitlines() if line.startswith(f"| `gtb {name} "))
                    assert option in row, (name, option)
