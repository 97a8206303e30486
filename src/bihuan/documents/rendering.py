"""HTML templates → PDF with WeasyPrint, with the shipped font and the print stylesheet.

Every PDF is a Django template under ``templates/documents/`` (an administrator
overrides one by putting a file of the same name in a template directory that
comes first) plus ``documents/print.css``, itself a template so it is overridden
the same way. Images (charts, the map, QR codes, signatures) are embedded as
``data:`` URIs, so rendering fetches nothing: no network, no media URLs.
"""

from __future__ import annotations

import base64
from typing import Any

from django.template.loader import render_to_string

from bihuan.documents import fonts

PRINT_CSS_TEMPLATE = "documents/print.css"


def data_uri(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


def _url_fetcher() -> Any:
    """Only our own font file and inline images: a template cannot make the server fetch
    anything (no network, no other file)."""
    from weasyprint.urls import URLFetcher

    font_url = fonts.FONT_FILE.as_uri()

    class DocumentFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not (url.startswith("data:") or url.split("?")[0] == font_url):
                raise ValueError(f"documents do not fetch {url[:80]}")
            return super().fetch(url, headers)

    return DocumentFetcher(allowed_protocols=("data", "file"))


def html_to_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    font_config = fonts.font_configuration()
    fetcher = _url_fetcher()
    stylesheets = [
        CSS(string=fonts.font_face_css(), font_config=font_config, url_fetcher=fetcher),
        CSS(string=render_to_string(PRINT_CSS_TEMPLATE), font_config=font_config,
            url_fetcher=fetcher),
    ]
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)  # type: ignore[no-any-return]


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """The template rendered to HTML, then to PDF."""
    return html_to_pdf(render_to_string(template_name, context))
