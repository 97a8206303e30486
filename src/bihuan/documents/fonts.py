"""The one CJK font every document uses, shipped inside the app.

A fresh server has no Chinese font (Debian's ``fonts-wqy-microhei`` is not a
dependency), and a PDF rendered with whatever fontconfig finds would show empty
boxes. So WenQuanYi Micro Hei (Apache-2.0 or GPLv3 with the font exception; see
``fonts/COPYRIGHT-wqy-microhei.txt``) lives in ``fonts/`` and is handed to
WeasyPrint (an ``@font-face`` rule with a ``file://`` URL resolved here, at run
time), to Pillow for the charts (``ImageFont.truetype``, see ``charts``) and named
in DOCX runs. The
family name is ours, so a system font of the same name can never stand in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILE = FONT_DIR / "wqy-microhei.ttc"
# What the documents' CSS asks for; bound to our file by the @font-face rule.
CSS_FAMILY = "BihuanCJK"
# The font's own family name (name table): what Word looks for, and Pillow reports.
FONT_NAME = "WenQuanYi Micro Hei"


def font_face_css() -> str:
    """The @font-face rules binding ``CSS_FAMILY`` to the shipped file (regular and bold:
    the font has one weight, so bold is drawn from it rather than from a system font)."""
    url = FONT_FILE.as_uri()
    return "\n".join(
        f"@font-face {{ font-family: '{CSS_FAMILY}'; src: url('{url}'); "
        f"font-weight: {weight}; font-style: normal; }}"
        for weight in ("normal", "bold")
    )


def font_configuration() -> Any:
    """A fresh WeasyPrint FontConfiguration (it holds the fonts one rendering loaded)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
