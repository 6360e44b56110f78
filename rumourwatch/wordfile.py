"""Word (.docx) documents of the reports and the special report, laid out as Chinese official
documents are (GB/T 9704-2012, 党政机关公文格式): A4, the type area 156 × 225 mm (top margin 37 mm,
inner 28 mm), the title in 方正小标宋简体 二号, the body in 仿宋_GB2312 三号 with a first-line indent of
two characters, first-level headings in 黑体 and second-level ones in 楷体_GB2312, the page number
"— 1 —" in the footer. An office edits the 周报 or the 月通报 before issuing it under its own header;
the PDF cannot be edited, so Word is what it asks for.

The fonts are named, not embedded: Word and WPS on an office's machines have them; elsewhere the
reader substitutes the nearest Chinese font. Tables are 五号 with a repeated header row, numbers
right-aligned, rows that need attention shaded; link cells are real hyperlinks.

`write_docx` takes the blocks that `reports.sections` and `briefing.sections` make, the same ones
the Markdown is written from, so every format prints the same figures.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from .reports import is_numeric

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
LATIN_FONT = "Times New Roman"
TITLE_PT = 22      # 二号
BODY_PT = 16       # 三号
TABLE_PT = 10.5    # 五号
SMALL_TABLE_PT = 9  # 小五, for a table too wide for 五号
NOTE_PT = 12       # 小四
LINE_PT = 28       # fixed line pitch: 22 lines in the 225 mm type area, as the standard sets
TYPE_WIDTH_MM = 156
HEADER_FILL = "D9E2EC"
MARKED_FILL = "FDECEA"
LINK_COLOR = "1565C0"
CELL_PADDING_MM = 4.6      # Word's cell margins (1.9 mm each side) and the borders, with a little room
WIDE_COLUMN_CHARS = 24     # a column of long text is given at most this much of a table's width
FAIR_WIDE_CHARS = 12       # ... and this much where the short columns' headers can take two lines
MIN_WIDE_CHARS = 6         # ... and at least this much
_URL = re.compile(r"^https?://", re.IGNORECASE)
# Characters XML 1.0 cannot carry (a scraper's stray control bytes): Word refuses a file holding them,
# and python-docx refuses to write them; they are dropped from the printed text, never the report.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _fonts(font, element, name: str) -> None:
    """Set the Chinese font of a run or a style (`element`: its XML) beside the Latin one, which is
    all python-docx's `font.name` sets."""
    font.name = LATIN_FONT
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _run(paragraph, text: str, font: str = BODY_FONT, size: float | None = None, bold: bool = False,
         color: str | None = None):
    run = paragraph.add_run(_NOT_XML.sub("", text))
    _fonts(run.font, run._r, font)
    if size:
        run.font.size = Pt(size)
    run.font.bold = bold or None
    if color:
        run.font.color.rgb = RGBColor.from_string(color)
    return run


def _paragraph(doc_or_cell, text: str = "", *, font: str = BODY_FONT, size: float | None = None,
               bold: bool = False, align=None, indent: bool = False, color: str | None = None,
               keep_with_next: bool = False, space_before: float = 0, exact: bool = True):
    p = doc_or_cell.add_paragraph()
    fmt = p.paragraph_format
    if exact:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PT if (size or BODY_PT) >= BODY_PT else max((size or BODY_PT) * 1.5, 14))
    fmt.space_before, fmt.space_after = Pt(space_before), Pt(0)
    if indent:
        fmt.first_line_indent = Pt(2 * (size or BODY_PT))
    if align is not None:
        p.alignment = align
    fmt.keep_with_next = keep_with_next or None
    if text:
        _run(p, text, font, size, bold, color)
    return p


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _hyperlink(paragraph, text: str, url: str, size: float) -> None:
    r_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), r_id)
    run = _run(paragraph, text, size=size, color=LINK_COLOR)
    run.font.underline = True
    link.append(run._r)  # moved from the paragraph into the link
    paragraph._p.append(link)


def _cell_text(cell, value, size: float, width_mm: float) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_after = p.paragraph_format.space_before = 0
    if isinstance(value, tuple):  # a link cell: (label, url)
        label, url = value
        if url and _URL.match(str(url)):
            _hyperlink(p, str(label), str(url), size)
        else:
            _run(p, "—", size=size)
        return
    text = "" if value is None else str(value)
    if is_numeric(value):
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if " " in text and _chars(text) * size * 0.3528 + CELL_PADDING_MM > width_mm and not _cjk_words(text):
        # a time or a figure with its unit, in a column narrower than it: broken at its spaces
        # ("11-29" over "03:37"), as Word and WPS would otherwise break it anywhere in a Chinese run
        text = "\n".join(text.split())
    _run(p, text, size=size)


def _cjk_words(text: str) -> bool:
    """Whether `text` is Chinese prose (six Chinese characters or more), which wraps anywhere."""
    return sum(ord(ch) > 0x2E7F for ch in text) >= 6


def _chars(text: str) -> float:
    """Printed width in 五号 characters: a Chinese character is one, a Latin letter or digit about half."""
    return sum(1 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def table_layout(head: list, rows: list[list], total_mm: float = TYPE_WIDTH_MM) -> tuple[float, list[float]]:
    """The type size (pt) and column widths (mm) of a table filling the type area: 五号 when its
    columns fit so with a fair width for its text (see `column_widths`), else 小五, as an office sets
    a wide table; then the text narrower, 五号 first again."""
    for least in (FAIR_WIDE_CHARS, MIN_WIDE_CHARS):
        for size in (TABLE_PT, SMALL_TABLE_PT):
            widths = column_widths(head, rows, total_mm, size, least)
            if widths is not None:
                return size, widths
    return SMALL_TABLE_PT, column_widths(head, rows, total_mm, SMALL_TABLE_PT, MIN_WIDE_CHARS, squeeze=True)


def column_widths(head: list, rows: list[list], total_mm: float = TYPE_WIDTH_MM, size: float = TABLE_PT,
                  least: float = FAIR_WIDE_CHARS, squeeze: bool = False) -> list[float] | None:
    """Widths (mm) for a table's columns filling the type area at `size` pt. A short column (a rank,
    a count, a time, an id) is as wide as its longest value and its header, so figures do not wrap;
    when that leaves too little, its header may take two lines and a value may break at a space (a
    time between its day and its hour), never inside a word. The columns of Chinese text (the
    content, a title) share the rest in proportion to their length, each at least `least`
    characters wide. When nothing fits: None, or with `squeeze` every column narrowed alike."""
    def shown(value) -> str:
        return str(value[0] if isinstance(value, tuple) else "" if value is None else value)

    per_char = size * 0.3528  # mm
    available = total_mm / per_char
    pad = CELL_PADDING_MM / per_char  # in characters of this size
    values = [max([_chars(shown(r[j])) for r in rows if j < len(r)] + [0]) for j in range(len(head))]
    # the longest word of each value: a time "11-28 02:37" may break at its space, never inside "02:37"
    words = [max([_chars(w) for r in rows if j < len(r) for w in shown(r[j]).split()] + [0])
             for j in range(len(head))]
    headers = [_chars(str(h)) for h in head]
    # text that may wrap: Chinese words; a time, a count or an id is kept on one line
    prose = [any(_cjk_words(shown(r[j])) for r in rows if j < len(r)) for j in range(len(head))]
    for wrap in (1, 2):  # headers and times on one line if the text keeps its width, else on two
        # a header on two lines keeps two characters a line: "排/名" or "报/送" would read as two words
        need = [min(max(v if wrap == 1 or p else w, max(-(-h // wrap), min(h, 2))), WIDE_COLUMN_CHARS) + pad
                for v, w, h, p in zip(values, words, headers, prose)]
        if sum(need) <= available:
            return [n / sum(need) * total_mm for n in need]
        wide = [j for j, n in enumerate(need) if n > 8 + pad and prose[j]]
        fixed = sum(n for j, n in enumerate(need) if j not in wide)
        room = available - fixed
        if wide and room >= len(wide) * (least + pad):
            scale = room / sum(need[j] for j in wide)
            return [(n * scale if j in wide else n) * per_char for j, n in enumerate(need)]
    if not squeeze:
        return None
    return [n / sum(need) * total_mm for n in need]  # too many columns for the page: all shrink alike


def _table(doc, title: str | None, head: list, rows: list[list], marked=()) -> None:
    if title:
        _paragraph(doc, title, font=SUBHEADING_FONT, keep_with_next=True, space_before=4)
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    size, widths = table_layout(head, rows)
    widths = [Mm(w) for w in widths]
    for column, width in zip(table.columns, widths):  # the grid (LibreOffice, WPS) and each cell (Word)
        column.width = width
    _repeat_header(table.rows[0])
    for cell, h, width in zip(table.rows[0].cells, head, widths):
        cell.width = width
        _shade(cell, HEADER_FILL)
        _run(cell.paragraphs[0], str(h), size=size, bold=True)
    marked = set(marked)
    for i, row in enumerate(rows):
        cells = table.add_row().cells
        for cell, value, width in zip(cells, row, widths):
            cell.width = width
            _cell_text(cell, value, size, width.mm)
            if i in marked:
                _shade(cell, MARKED_FILL)
    _paragraph(doc, "", size=TABLE_PT)  # a table directly after another would merge with it in Word


def _page_number_footer(section) -> None:
    """The page number centred at the foot of every page, "— 1 —" (the standard's 4号 numerals with dashes)."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, "— ", font="宋体", size=14)
    run = _run(p, "", font="宋体", size=14)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text.startswith(" ") else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)
    _run(p, " —", font="宋体", size=14)


def _set_defaults(doc) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    _fonts(normal.font, normal.element, BODY_FONT)
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.append(lang)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    _page_number_footer(section)


def write_docx(output: str | Path, title: str, subtitle: str, notes: list[str],
               parts: list[tuple[str, list[tuple]]], footer: str, generated_at: datetime | None = None) -> Path:
    """Write a report as a Word document: the title, the period or subject, the notes (when it was
    made, its scope), then each section's blocks (see `reports.sections`). Returns the path."""
    doc = Document()
    _set_defaults(doc)
    props = doc.core_properties
    props.title, props.subject = _NOT_XML.sub("", title)[:255], _NOT_XML.sub("", subtitle)[:255]
    props.author, props.language = "rumourwatch", "zh-CN"
    if generated_at is not None:
        props.created = props.modified = generated_at.replace(tzinfo=None)
    _paragraph(doc, title, font=TITLE_FONT, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    _paragraph(doc, subtitle, font=SUBHEADING_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    for note in notes:
        _paragraph(doc, note, size=NOTE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, color="616E7C")
    for name, blocks in parts:
        _paragraph(doc, name, font=HEADING_FONT, keep_with_next=True, space_before=8)
        for block in blocks:
            kind = block[0]
            if kind == "lead":
                _paragraph(doc, block[1], bold=True, indent=True)
            elif kind == "lines":
                for line in block[1]:
                    if line:
                        _paragraph(doc, line, indent=True)
            elif kind == "para":
                _paragraph(doc, block[1], indent=True)
            elif kind == "heading":
                _paragraph(doc, block[1], font=SUBHEADING_FONT, keep_with_next=True, space_before=4)
            elif kind in ("empty", "quote"):
                for line in str(block[1]).splitlines() or [""]:
                    if line.strip():
                        _paragraph(doc, line, font=SUBHEADING_FONT, indent=True,
                                   color="616E7C" if kind == "empty" else None)
            elif kind == "chart":
                p = _paragraph(doc, align=WD_ALIGN_PARAGRAPH.CENTER, exact=False)
                p.add_run().add_picture(io.BytesIO(block[1]), width=Mm(TYPE_WIDTH_MM))
                if len(block) > 2 and block[2]:
                    _paragraph(doc, block[2], size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, color="616E7C")
            elif kind == "table":
                _table(doc, block[1], block[2], block[3], block[4] if len(block) > 4 else ())
    _paragraph(doc, footer, size=TABLE_PT, color="7B8794", space_before=12)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    doc.save(output)
    return output
