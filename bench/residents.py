#!/usr/bin/env python3
"""Writes N synthetic residents as CSV and as .xlsx (for the import benchmark): valid ID numbers
(GB 11643 check digits) under each grid's county code, phones, households of three, tags now and
then, spread over the grids of a demo database.

    bench/residents.py DB N OUT.csv OUT.xlsx [FIRST]

OUT.xlsx `-` writes no workbook; FIRST (default 0) numbers the rows from there, so files written
with disjoint ranges hold disjoint ID numbers and phones.
"""
import random
import sqlite3
import sys
import zipfile
from xml.sax.saxutils import escape

db, n, out_csv, out_xlsx = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
grids = [r[0] for r in sqlite3.connect(db).execute("SELECT code FROM node WHERE LENGTH(code) > 12 ORDER BY code")]
if not grids:
    sys.exit("no grids in " + db)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
rng = random.Random(13)
HEADER = ["姓名", "公民身份号码", "联系电话", "人口类型", "所属网格代码", "户号", "与户主关系", "标签"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
RELATIONS = ["户主", "配偶", "子女"]


def rows():
    # The sequence digits count up per (county, birth date): every number is distinct.
    for i in range(first, first + n):
        grid = grids[(i // 3) % len(grids)]
        year = 1940 + (i // 1000) % 80
        month, day = 1 + (i // 80000) % 12, 1 + (i // 960000) % 28
        seq = i % 1000
        first17 = f"{grid[:6]}{year:04}{month:02}{day:02}{seq:03}"
        check = "10X98765432"[sum(int(c) * w for c, w in zip(first17, W)) % 11]
        tags = "独居老人" if rng.random() < 0.02 else ("残疾人" if rng.random() < 0.06 else "")
        yield [
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            first17 + check,
            f"170{i:08}",
            "流动" if rng.random() < 0.18 else "户籍",
            grid,
            f"B{i // 3:09}",
            RELATIONS[i % 3],
            tags,
        ]


with open(out_csv, "w", encoding="utf-8") as f:
    f.write(",".join(HEADER) + "\n")
    for r in rows():
        f.write(",".join(r) + "\n")

if out_xlsx == "-":
    sys.exit(0)

# A minimal .xlsx: one sheet of inline strings (what a spreadsheet program reads, no styles).
COLS = "ABCDEFGH"
with zipfile.ZipFile(out_xlsx, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    with z.open("xl/worksheets/sheet1.xml", "w") as s:
        s.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        for r, cells in enumerate([HEADER] + list(rows()), start=1):
            xml = "".join(f'<c r="{COLS[c]}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>' for c, v in enumerate(cells) if v)
            s.write(f'<row r="{r}">{xml}</row>'.encode())
        s.write(b"</sheetData></worksheet>")
