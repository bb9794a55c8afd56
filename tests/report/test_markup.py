"""The document model's Markdown and HTML renderers: escaping and self-containment."""

import io
import re

from matplotlib.figure import Figure

from scratchnet.core.png import png_bytes
from scratchnet.report.markup import (
    Bullets,
    Heading,
    Image,
    Note,
    Pairs,
    Para,
    Table,
    md_escape,
    png_size,
    render_html,
    render_markdown,
)

EVIL = "<script>alert(1)</script> | [x](javascript:y) *b* _i_"


def tiny_png() -> bytes:
    fig = Figure(figsize=(1.2, 0.8))
    fig.add_subplot().plot([0, 1], [1, 0])
    return png_bytes(fig)


def test_md_escape_neutralizes_markup_and_keeps_words_readable():
    out = md_escape(EVIL)
    assert "<" not in out.replace(r"\<", "") and "|" not in out.replace(r"\|", "")
    assert r"\[x\]" in out and r"\*b\*" in out and r"\_i\_" in out
    assert md_escape("gap_acc_final") == "gap_acc_final"


def test_md_escape_joins_lines():
    assert md_escape("a\nb") == "a b"


def test_markdown_table_cells_cannot_break_the_table():
    md = render_markdown([Table(("name", "value"), ((EVIL, "1"), ("plain", "2")))])
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert {len(re.findall(r"(?<!\\)\|", r)) for r in rows} == {3}


def test_html_escapes_every_kind_of_block():
    blocks = [
        Heading(1, EVIL),
        Para(EVIL),
        Note(EVIL),
        Bullets((EVIL,)),
        Pairs(((EVIL, EVIL),)),
        Table((EVIL,), ((EVIL,),)),
    ]
    page = render_html(blocks, title=EVIL)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_inlines_images_with_their_size_and_forbids_scripts():
    png = tiny_png()
    page = render_html([Image("f.png", png, 'alt "q"', "cap")], title="t")
    assert 'src="data:image/png;base64,' in page
    assert 'width="120" height="80"' in page and 'alt="alt &quot;q&quot;"' in page
    assert "default-src 'none'; img-src data:" in page


def test_markdown_references_images_by_file_name():
    md = render_markdown([Image("f.png", tiny_png(), "A figure", "Its caption")])
    assert "![A figure](f.png)" in md and "*Its caption*" in md


def test_png_size_reads_the_header():
    assert png_size(tiny_png()) == (120, 80)
    assert io.BytesIO(tiny_png()).read(8) == b"\x89PNG\r\n\x1a\n"
