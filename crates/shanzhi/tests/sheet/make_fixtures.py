#!/usr/bin/env python3
"""Writes the spreadsheet fixtures of the tree import tests (tests/api/tree_io.rs) beside itself.

Only the standard library: an .xlsx is a zip of a few XML parts. Codes are stored the way
Excel stores a code typed as a number: a floating-point <v> value, one of them in the
exponent form Excel also writes ("4.41502001001002E+14"), so the tests see that the digits
survive. Names are shared strings, as Excel keeps them. Fixed timestamps: the same bytes on
every run.

    python3 crates/shanzhi/tests/sheet/make_fixtures.py
"""

import os
import zipfile
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))

# Header and rows of the good workbook (row 1 header, row 3 left blank on purpose so that
# spreadsheet row numbers differ from the rows' order). Numbers are written as numbers.
GOOD = [
    ["代码", "名称", "层级", "上级代码", "网格员"],
    [440000000000, "广东省", "省", None, None],
    None,
    [441500000000, "汕尾市", "市", 440000000000, None],
    [441502000000, "城区", "区", None, None],
    [441502001000, "新港街道", "街道", None, None],
    [441502001001, "立新社区", "社区", None, None],
    [441502001001001, "立新社区第一网格", "小网格", 441502001001, "张三"],
    ["4.41502001001002E+14", "立新社区第二网格", "小网格", 441502001001, "李四"],
]

# Refused row by row: a code past Excel's 15 digits (row 3), a village whose level is wrong
# (row 4), and a parent that is neither in the file nor in the database (row 5).
BAD = [
    ["code", "name", "level", "parent"],
    [440000000000, "广东省", "province", None],
    [4415020010010010, "十六位", "micro", None],
    [441500000000, "汕尾市", "village", None],
    [441502001001, "孤村", "village", 441502001000],
]


def number(v):
    return v if isinstance(v, str) else repr(float(v)) if v >= 1e15 else str(v)


def sheet_xml(rows, strings):
    out = []
    for r, row in enumerate(rows, start=1):
        if row is None:
            continue
        cells = []
        for c, v in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if v is None:
                continue
            if isinstance(v, (int, float)) or (isinstance(v, str) and "E+" in v):
                cells.append(f'<c r="{ref}"><v>{number(v)}</v></c>')
            else:
                if v not in strings:
                    strings.append(v)
                cells.append(f'<c r="{ref}" t="s"><v>{strings.index(v)}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{"".join(out)}</sheetData></worksheet>')


def workbook(path, rows):
    strings = []
    sheet = sheet_xml(rows, strings)
    shared = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
              f'count="{len(strings)}" uniqueCount="{len(strings)}">'
              + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="网格" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>'),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": shared,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


def csv(path, rows):
    def cell(v):
        if v is None:
            return ""
        s = str(v)
        return f'"{s}"' if any(ch in s for ch in ',"\n') else s
    with open(path, "w", encoding="utf-8", newline="") as f:
        for row in rows:
            f.write(",".join(cell(v) for v in (row or [])) + "\r\n")


if __name__ == "__main__":
    workbook(os.path.join(HERE, "good.xlsx"), GOOD)
    workbook(os.path.join(HERE, "bad.xlsx"), BAD)
    # The CSV twins, as "CSV UTF-8" from Excel: numbers as typed, CRLF line ends.
    csv(os.path.join(HERE, "good.csv"), GOOD)
    csv(os.path.join(HERE, "bad.csv"), BAD)
