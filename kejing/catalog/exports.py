"""A saved quote as a PDF (WeasyPrint, font "Noto Sans CJK SC" for the Chinese text) and as an Excel workbook.

Both show the figures stored with the quote (snapshots), never a recomputation, so what the customer received
can be reproduced later even after a tariff change.
"""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .models import Quote

PDF_FONT = "Noto Sans CJK SC"


def _usage_text(usage: dict[str, str], meters: dict[str, Any]) -> str:
    return ", ".join(
        f"{meters.get(k, {}).get('label', k)} {v}{meters.get(k, {}).get('unit', '')}" for k, v in usage.items()
    )


def quote_table(quote: Quote) -> tuple[list[str], list[list[Any]]]:
    """One row per explanation line, grouped by quote line; the last row is the total."""
    from .selectors import shared_definitions

    meters = shared_definitions()["meters"]
    headers = [
        _("Product"),
        _("Package"),
        _("Usage"),
        _("Item"),
        _("Calculation"),
        _("Amount (yuan)"),
        _("Opening date"),
    ]
    rows: list[list[Any]] = []
    for line in quote.lines.all():
        usage = _usage_text(line.usage, meters)
        opening = line.opening_date.isoformat() if line.opening_date else line.opening_note
        if line.opening_date and line.opening_estimated:
            opening = f"{opening} ({line.opening_note})"
        for part in line.explanation:
            for item in part["lines"]:
                rows.append(
                    [
                        line.product_name,
                        part["name"],
                        usage,
                        item["label"],
                        item["detail"],
                        float(item["amount"]),
                        opening,
                    ]
                )
        rows.append(
            [line.product_name, line.package_names, usage, _("Monthly subtotal"), "", float(line.monthly), opening]
        )
        if line.one_time:
            rows.append([line.product_name, "", "", _("One-time fees"), "", float(line.one_time), ""])
    rows.append([_("Total"), "", "", _("Monthly total"), "", float(quote.monthly_total), ""])
    rows.append([_("Total"), "", "", _("One-time total"), "", float(quote.one_time_total), ""])
    return headers, rows


def quote_xlsx_bytes(quote: Quote) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Quote")[:31]
    bold = Font(bold=True)
    ws.append([_("Quote"), quote.pk])
    ws.append([_("Customer"), quote.customer.name])
    ws.append([_("Title"), quote.title])
    ws.append([_("Order date"), quote.start_date.isoformat()])
    ws.append([_("Opening level"), quote.get_level_display()])
    ws.append([])
    headers, rows = quote_table(quote)
    ws.append(headers)
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in rows:
        ws.append(row)
        ws.cell(row=ws.max_row, column=6).number_format = "0.00"
    for col, width in zip("ABCDEFG", (18, 22, 30, 16, 46, 14, 14), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def quote_pdf_bytes(quote: Quote) -> bytes:
    from weasyprint import HTML

    from .selectors import shared_definitions

    meters = shared_definitions()["meters"]
    lines = [{"line": line, "usage": _usage_text(line.usage, meters)} for line in quote.lines.all()]
    html = render_to_string("catalog/quote_pdf.html", {"quote": quote, "lines": lines, "font": PDF_FONT})
    return HTML(string=html).write_pdf()
