"""Issue 14 item 12: every stacked table names each cell's column in the HTML the server
sends (data-label, shown by CSS `content: attr(data-label)` at small widths), so a row read
on a 320 px screen says what each value is with JavaScript off as well as on."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
STACKED = re.compile(r"<table\b[^>]*app-table--stacked.*?</table>", re.S)
STACKED_TEMPLATES = sorted(path for path in TEMPLATES.rglob("*.html") if STACKED.search(path.read_text()))


def test_there_are_stacked_tables_to_check():
    assert len(STACKED_TEMPLATES) >= 20


@pytest.mark.parametrize("template", STACKED_TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_every_cell_of_a_stacked_table_carries_its_column_name(template):
    for table in STACKED.findall(template.read_text()):
        body = table[table.index("</thead>") :]
        cells = re.findall(r"<td\b[^>]*>", body)
        assert cells, f"a stacked table in {template.name} has no cells"
        # A cell spanning every column ("No users yet.") is a message, not a value.
        unlabelled = [cell for cell in cells if "data-label=" not in cell and "colspan=" not in cell]
        assert unlabelled == [], f"{template.name}: cells without data-label: {unlabelled}"
        assert all('data-label=""' not in cell for cell in cells)


def test_the_stylesheet_shows_the_label_and_no_script_adds_labels():
    static = TEMPLATES.parent / "static"
    assert "content: attr(data-label)" in (static / "signposting.css").read_text()
    for script in static.rglob("*.js"):
        assert "data-label" not in script.read_text(), script
