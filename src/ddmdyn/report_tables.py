"""Result tables as self-contained HTML pages, the form the Snakemake report shows inline.

The Snakemake 9 report displays images, PDFs and HTML in its viewer but offers CSV, TSV and
Markdown files only as downloads. Each table of the workflow is therefore also written as one
HTML page: the Markdown table (formatted "mean ± std" cells, as in the paper) followed by the
full-precision numbers of the CSV file, if there is one.
"""

from __future__ import annotations

import html
import io
import re

import pandas as pd

PAGE_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.warning { color: #b00; font-weight: bold; }
.muted { color: #666; }
code { background: #f4f4f4; padding: 0 2px; }
"""

_NUMBER = re.compile(r"^[-+]?(\d[\d.,eE+-]*|n/a|nan|inf)( ± \S+)?$")


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML document (inline CSS, no scripts)."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n<style>{PAGE_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _inline(text: str) -> str:
    """Escape text and render the inline Markdown the tables use: `code` and **bold**."""
    out = html.escape(text.strip())
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _split_row(line: str) -> list[str]:
    """Cells of a Markdown pipe-table row; `\\|` is a literal bar inside a cell."""
    inner = line.strip().removeprefix("|").removesuffix("|")
    cells = re.split(r"(?<!\\)\|", inner)
    return [c.replace("\\|", "|").strip() for c in cells]


def _is_separator(line: str) -> bool:
    return bool(re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", line.strip()))


def _table_html(rows: list[list[str]]) -> str:
    header, body = rows[0], rows[1:]
    out = ["<table>", "<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header) + "</tr>"]
    for row in body:
        cells = []
        for cell in row:
            cls = " class='num'" if _NUMBER.match(cell.strip()) else ""
            cells.append(f"<td{cls}>{_inline(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def markdown_to_html(text: str) -> str:
    """HTML of the Markdown subset the workflow writes: headings, pipe tables, lists, paragraphs.

    Anything else is shown as escaped text, never dropped.
    """
    lines = text.splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            out.append("<p>" + _inline(" ".join(paragraph)) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
        elif m := re.match(r"^(#{1,6})\s+(.*)$", stripped):
            flush()
            level = len(m.group(1))
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
            i += 1
        elif stripped.startswith("|") and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            flush()
            rows = [_split_row(line)]
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_split_row(lines[i]))
                i += 1
            out.append(_table_html(rows))
        elif re.match(r"^[-*]\s+", stripped):
            flush()
            items = []
            while i < len(lines) and re.match(r"^[-*]\s+", lines[i].strip()):
                items.append("<li>" + _inline(re.sub(r"^[-*]\s+", "", lines[i].strip())) + "</li>")
                i += 1
            out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
        else:
            paragraph.append(stripped)
            i += 1
    flush()
    return "\n".join(out)


def csv_to_html(text: str) -> str:
    """HTML table of a CSV file's content, every value exactly as the file writes it."""
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    rows = [list(frame.columns), *frame.values.tolist()]
    return _table_html([[str(c) for c in row] for row in rows])


def table_page(title: str, markdown: str, csv: str | None = None) -> str:
    """The HTML page of one result table: the Markdown table, then the CSV's full numbers."""
    body = [markdown_to_html(markdown)]
    if not re.search(r"^#\s", markdown, re.M):
        body.insert(0, f"<h1>{_inline(title)}</h1>")
    if csv is not None:
        body.append("<h2>All numbers (full precision, as in the CSV file)</h2>")
        body.append(csv_to_html(csv))
    return html_page(title, "\n".join(body))
