"""Entity sheet (Field/Value): who reports, for which year, with how many personnel."""

from pipeline import TEMPLATE_VERSION, codelists
from schemas.checks import in_codelist, is_blank, parse_text, row_check, sheet_schema

# Column rules come from columns.csv (codes, ranges, e-mail, current year). A template version
# the pipeline does not know is a warning: the workbook is read against the current contract.
schema = sheet_schema(
    "Entity",
    [
        row_check(
            "known-template-version",
            "unknown-template-version.read-as-current",
            "template_version",
            lambda d: (
                is_blank(d["template_version"]) | in_codelist(parse_text(d["template_version"]), "template_version")
            ),
            lambda v, r: {
                "version": repr(str(v).strip()),
                "known": ", ".join(codelists.codes("template_version")),
                "current": TEMPLATE_VERSION,
            },
        )
    ],
)
