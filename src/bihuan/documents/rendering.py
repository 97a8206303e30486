"""HTML templates → PDF with WeasyPrint, with the shipped font and the print stylesheet.

Every PDF is a Django template under ``templates/documents/`` (an administrator
overrides one by putting a file of the same name in a template directory that
comes first) plus ``documents/print.css``, itself a template so it is overridden
the same way. Images (charts, the map, QR codes, signatures) are embedded as
``data:`` URIs or handed over in memory (``images``), so rendering fetches nothing:
no network, no media URLs.
"""

from __future__ import annotations

import atexit
import base64
import threading
from typing import Any

from django.template.loader import render_to_string

from bihuan.documents import fonts

PRINT_CSS_TEMPLATE = "documents/print.css"


def data_uri(content: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode('ascii')}"


# Images handed to a rendering in memory (``images`` below) are named by this scheme.
IMAGE_SCHEME = "bihuan-image"


def image_url(name: str) -> str:
    """The ``src`` of an image passed to :func:`html_to_pdf` in ``images`` under ``name``."""
    return f"{IMAGE_SCHEME}:{name}"


def _url_fetcher(images: dict[str, tuple[bytes, str]] | None = None) -> Any:
    """Only our own font file, inline images and the images handed over in memory: a
    template cannot make the server fetch anything (no network, no other file)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    font_url = fonts.FONT_FILE.as_uri()
    prefix = f"{IMAGE_SCHEME}:"
    in_memory = images or {}

    class DocumentFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(prefix) and url[len(prefix):] in in_memory:
                content, content_type = in_memory[url[len(prefix):]]
                return URLFetcherResponse(url, content, {"Content-Type": content_type})
            if not (url.startswith("data:") or url.split("?")[0] == font_url):
                raise ValueError(f"documents do not fetch {url[:80]}")
            return super().fetch(url, headers)

    return DocumentFetcher(allowed_protocols=("data", "file"))


def html_to_pdf(html: str, images: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """``images``: name -> (content, content type), shown where the HTML has
    ``src="{image_url(name)}"``. Large images passed so rather than as ``data:`` URIs
    spare the base64 round trip and the HTML parser a character-by-character walk over
    them (a quarter of a second for a briefing's charts)."""
    from weasyprint import HTML

    fetcher = _url_fetcher(images)
    font_config, stylesheets = _stylesheets(render_to_string(PRINT_CSS_TEMPLATE))
    document = HTML(string=html, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=stylesheets, font_config=font_config)  # type: ignore[no-any-return]


# Per thread: the font configuration (the shipped font loaded into fontconfig) and the
# parsed stylesheets, for the print stylesheet's current text. Loading the font and
# parsing the sheets again for every document cost 30-60 ms; WeasyPrint supports reusing
# a FontConfiguration and CSS objects across documents, but they are not made for
# concurrent use, hence one set per thread.
_parsed = threading.local()
# Dropped before the interpreter's teardown, when FontConfiguration.__del__ can still run.
atexit.register(lambda: vars(_parsed).clear())


def _stylesheets(print_css: str) -> tuple[Any, list[Any]]:
    from weasyprint import CSS

    cached = getattr(_parsed, "sheets", None)
    if cached is not None and cached[0] == print_css:
        return cached[1], cached[2]
    font_config = fonts.font_configuration()
    fetcher = _url_fetcher()
    stylesheets = [
        CSS(string=fonts.font_face_css(), font_config=font_config, url_fetcher=fetcher),
        CSS(string=print_css, font_config=font_config, url_fetcher=fetcher),
    ]
    _parsed.sheets = (print_css, font_config, stylesheets)
    return font_config, stylesheets


def render_pdf(template_name: str, context: dict[str, Any],
               images: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """The template rendered to HTML, then to PDF (``images`` as in :func:`html_to_pdf`)."""
    return html_to_pdf(render_to_string(template_name, context), images)
