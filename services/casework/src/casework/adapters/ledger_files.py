"""The ledgers as files: CSV (UTF-8 with BOM, so Excel opens the Chinese headers) and XLSX
(one workbook, a sheet per ledger)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

Columns = Sequence[tuple[str, str]]
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(columns: Columns, rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in columns])
    for row in rows:
        writer.writerow([row.get(key, "") for key, _ in columns])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(sheets: list[tuple[str, Columns, list[dict[str, Any]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, columns, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append([t for _, t in columns])
        for row in rows:
            sheet.append([row.get(key, "") for key, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
