"""The status report as a PDF document for Udlændingestyrelsen to file (WeasyPrint).

The document is the report's page template in print form, with the shipped DejaVu fonts (so a
machine without them installed renders the same), and the question it answers (as-of,
known-at, position, rule pack and revision) with its head hash and digest on every page, in
the page header and footer.
"""

from __future__ import annotations

from typing import Any

from weasyprint import HTML

from api.web.render import STATIC, render
from ledger.i18n import Language


def status_pdf(language: Language, report: dict[str, Any]) -> bytes:
    html = render(language, "status_pdf.html", r=report)
    pdf: bytes = HTML(string=html, base_url=str(STATIC)).write_pdf()
    return pdf
