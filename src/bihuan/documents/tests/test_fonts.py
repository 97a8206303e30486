"""Chinese renders with the shipped font alone: no system font package needed."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

from bihuan.documents import fonts
from bihuan.documents.tests.pdfcheck import needs_poppler, pdf_fonts, pdf_text

FRESH_MACHINE_SCRIPT = textwrap.dedent("""
    import sys
    from weasyprint import CSS, HTML
    from bihuan.documents import fonts

    config = fonts.font_configuration()
    css = CSS(string=fonts.font_face_css() + "html { font-family: BihuanCJK; }",
              font_config=config)
    pdf = HTML(string="<h1>整改通知书</h1><p>白塔村 楼道内电动车违规充电 42</p>").write_pdf(
        stylesheets=[css], font_config=config)
    sys.stdout.buffer.write(pdf)
""")


def test_the_font_and_its_licence_ship_with_the_app():
    assert fonts.FONT_FILE.is_file() and fonts.FONT_FILE.stat().st_size > 1_000_000
    licence = (fonts.FONT_DIR / "COPYRIGHT-wqy-microhei.txt").read_text(encoding="utf-8")
    assert "Apache-2.0" in licence and "GPL-3+ with Font exception" in licence
    assert (fonts.FONT_DIR / "LICENSE-Apache-2.0.txt").is_file()
    # The URL is computed where the app is installed, never written down.
    assert fonts.FONT_FILE.as_uri() in fonts.font_face_css()


@needs_poppler
def test_chinese_renders_where_fontconfig_knows_no_font(tmp_path):
    """A fontconfig with no font directory at all stands for a fresh server."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8")
    src = str(Path(fonts.__file__).resolve().parents[2])
    result = subprocess.run(  # noqa: S603 (our interpreter, our script)
        [sys.executable, "-W", "ignore", "-c", FRESH_MACHINE_SCRIPT],
        env={"FONTCONFIG_FILE": str(config), "PYTHONPATH": src, "HOME": str(tmp_path)},
        capture_output=True, check=True, timeout=120)
    pdf = result.stdout
    assert "整改通知书白塔村楼道内电动车违规充电42" in pdf_text(pdf)
    used = pdf_fonts(pdf)
    assert used and all(f["emb"] == "yes" and fonts.CSS_FAMILY in f["name"] for f in used)


def test_charts_draw_with_the_shipped_font():
    from PIL import Image

    from bihuan.documents import charts

    font = charts._font(9)
    assert font.getname()[0] == fonts.FONT_NAME
    assert font.path == str(fonts.FONT_FILE)
    # Real glyphs, not one missing-glyph box for every character.
    assert font.getmask("东").getbbox() and bytes(font.getmask("东")) != bytes(font.getmask("西"))
    png = charts.ranking_bars(["东城街道", "西城街道"], [0.8, 0.6], "排名得分")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "RGB"
