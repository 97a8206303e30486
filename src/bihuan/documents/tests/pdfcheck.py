"""Reading a produced PDF back the way a person (or a script) would: poppler's tools."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
    reason="poppler-utils (pdftotext, pdffonts) is not installed",
)


def _run(tool: str, content: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.pdf"
        path.write_bytes(content)
        # Our own fixed tool names and a temporary file: no outside input.
        return subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],  # noqa: S603
                              check=True, capture_output=True, text=True).stdout


def pdf_text(content: bytes) -> str:
    """The text of the PDF, whitespace removed (tables wrap cells across lines)."""
    return "".join(_run("pdftotext", content).split())


def pdf_rows(content: bytes) -> list[list[str]]:
    """Each printed line's words, in reading order (``pdftotext -layout``): a table row whose
    cells do not wrap is one line."""
    return [line.split() for line in _run("pdftotext", content, "-layout").splitlines()]


def pdf_fonts(content: bytes) -> list[dict[str, str]]:
    lines = _run("pdffonts", content).splitlines()[2:]
    fonts = []
    for line in lines:
        # name type... emb sub uni object ID: read from the right.
        parts = line.split()
        fonts.append({"name": parts[0], "emb": parts[-5], "uni": parts[-3]})
    return fonts
