"""A tiny document model rendered twice: Markdown and self-contained HTML.

Every piece of text is escaped by the renderer (HTML entities; Markdown backslash escapes
and `|` in tables), so run names, params and tags can hold anything.
"""

import base64
import html
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

# Markdown's specials; `_` only where it could start or end emphasis (not inside a word).
MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&#~]|(?<!\w)_|_(?!\w))")
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fff;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin-top:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:2em}
h3{margin-top:1.5em}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.pairs th{width:14em}
figure{margin:12px 0 24px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13px;color:#555}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
NUMERIC = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?%?$")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Pairs:
    """A two-column table of label -> value."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    """A PNG shown inline in HTML (data URI) and by file name in Markdown."""

    filename: str
    png: bytes
    alt: str
    caption: str


Block = Heading | Para | Note | Bullets | Pairs | Table | Image


def md_escape(text: str) -> str:
    """Backslash-escape Markdown's special characters; newlines become spaces."""
    return MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))


def md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table; every cell escaped (a `|` in a cell cannot end it)."""
    lines = ["| " + " | ".join(md_escape(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(blocks: Sequence[Block]) -> str:
    """The document as Markdown (images referenced by their file names)."""
    out = []
    for b in blocks:
        match b:
            case Heading(level, text):
                out.append("#" * level + " " + md_escape(text))
            case Para(text):
                out.append(md_escape(text))
            case Note(text):
                out.append("> " + md_escape(text))
            case Bullets(items):
                out.append("\n".join("- " + md_escape(i) for i in items))
            case Pairs(rows):
                out.append(md_table(("", ""), rows))
            case Table(columns, rows):
                out.append(md_table(columns, rows))
            case Image(filename, _, alt, caption):
                out.append(f"![{md_escape(alt)}]({filename})\n\n*{md_escape(caption)}*")
    return "\n\n".join(out) + "\n"


def esc(text: str) -> str:
    """HTML-escape text, quotes included."""
    return html.escape(str(text), quote=True)


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def html_cell(tag: str, text: str) -> str:
    """A th/td; numbers right-aligned."""
    cls = ' class="num"' if tag == "td" and NUMERIC.match(str(text).strip()) else ""
    return f"<{tag}{cls}>{esc(text)}</{tag}>"


def html_table(columns: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """A table with a header row (omitted when every header is empty)."""
    attr = f' class="{cls}"' if cls else ""
    head = ""
    if any(columns):
        head = "<thead><tr>" + "".join(html_cell("th", c) for c in columns) + "</tr></thead>"
    body = "".join("<tr>" + "".join(html_cell("td", c) for c in row) + "</tr>" for row in rows)
    return f"<table{attr}>{head}<tbody>{body}</tbody></table>"


def html_pairs(rows: Sequence[tuple[str, str]]) -> str:
    """Label/value rows with the label as a row header."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="pairs"><tbody>{body}</tbody></table>'


def html_image(b: Image) -> str:
    """A figure with the PNG inlined as a base64 data URI."""
    width, height = png_size(b.png)
    data = base64.b64encode(b.png).decode("ascii")
    return (
        f'<figure id="{esc(b.filename)}"><img src="data:image/png;base64,{data}" '
        f'alt="{esc(b.alt)}" width="{width}" height="{height}">'
        f"<figcaption>{esc(b.caption)}</figcaption></figure>"
    )


def render_html(blocks: Sequence[Block], title: str) -> str:
    """The document as one HTML file: inline CSS, inline images, no scripts, no links out."""
    out = []
    for b in blocks:
        match b:
            case Heading(level, text):
                out.append(f"<h{level}>{esc(text)}</h{level}>")
            case Para(text):
                out.append(f"<p>{esc(text)}</p>")
            case Note(text):
                out.append(f'<p class="note">{esc(text)}</p>')
            case Bullets(items):
                out.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>")
            case Pairs(rows):
                out.append(html_pairs(rows))
            case Table(columns, rows):
                out.append(html_table(columns, rows))
            case Image():
                out.append(html_image(b))
    body = "\n".join(out)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )
