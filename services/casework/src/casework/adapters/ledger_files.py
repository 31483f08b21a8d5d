"""The ledgers as files: CSV (UTF-8 with BOM, so Excel opens the Chinese headers) and XLSX
(one workbook, a sheet per ledger).

Staff open these in spreadsheets, and their cells hold text that came from outside (a
complaint's category from the public, a result typed by staff). A cell a spreadsheet would
take for a formula (OWASP, CSV injection: a leading `=`, `+`, `-`, `@`, tab or carriage
return) is written as text: in CSV behind a single quote, which spreadsheets show as text;
in XLSX as a string cell (openpyxl would store `=…` as a formula and `#N/A` as an error)
with the quote-prefix style, so it stays text when someone edits it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

Columns = Sequence[tuple[str, str]]
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""OWASP CSV injection: the first characters that make a spreadsheet evaluate a cell."""


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_cell(value: object) -> object:
    return "'" + value if looks_like_formula(value) and isinstance(value, str) else value


def to_csv(columns: Columns, rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(title) for _, title in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(key, "")) for key, _ in columns])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: list[tuple[str, Columns, list[dict[str, Any]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        lines = [
            [t for _, t in columns],
            *([row.get(key, "") for key, _ in columns] for row in rows),
        ]
        for r, line in enumerate(lines, start=1):
            for c, value in enumerate(line, start=1):
                if value == "":
                    continue  # an empty cell, not an empty string
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # never a formula ("f") nor an error ("e")
                    if looks_like_formula(value):
                        cell.quotePrefix = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
