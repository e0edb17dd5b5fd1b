#!/usr/bin/env python3
"""Writes the crafted workbooks the api tests feed to the Excel import, into
functions/api/tests/fixtures/. Each is small on the wire and lies about, or reaches for,
a size that a reader trusting the file would allocate.

    python3 scripts/make_xlsx_bombs.py

Facts the files rely on:
- SpreadsheetML (ECMA-376 Part 1, section 18.3.1): a cell's `r` attribute names its
  position, so two `<c>` elements can sit at A1 and at XFD1048576, the last cell of a sheet
  (16,384 columns by 1,048,576 rows, the grid size Excel documents in "Excel specifications
  and limits"). `<dimension ref>` only declares the used range.
- SpreadsheetML (ECMA-376 Part 1, section 18.4.9): `<sst count uniqueCount>` are declared
  totals; nothing ties them to the `<si>` items that follow.
- ZIP (PKWARE APPNOTE.TXT, sections 4.3.7 and 4.3.12): the local header and the central
  directory each carry the entry's uncompressed size; a reader that inflates the data sees
  the real size only as it goes.
- calamine 0.38 (the reader this import used before) reserves `uniqueCount` strings up front
  and allocates one cell per position between the outermost cells of a sheet, so the first
  two files below cost it 10^12 x 24 bytes and 2^34 x 32 bytes.

The output is deterministic (fixed timestamps), so rerunning the script leaves git clean.
"""

import os
import struct
import zipfile

OUT = os.path.join(os.path.dirname(__file__), "..", "functions", "api", "tests", "fixtures")

HEADER = ["reference", "status", "start", "end", "service", "resource",
          "client_name", "client_email", "client_phone", "notes"]

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<workbook {NS} {RNS}><sheets><sheet name="appointments" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    '</Relationships>'
)


def col_name(n):
    """1 -> A, 16384 -> XFD."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def sst(count=None, unique=None, extra=""):
    count = len(HEADER) if count is None else count
    unique = len(HEADER) if unique is None else unique
    items = "".join(f"<si><t>{h}</t></si>" for h in HEADER)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst {NS} count="{count}" uniqueCount="{unique}">{items}{extra}</sst>')


def header_row():
    cells = "".join(f'<c r="{col_name(i + 1)}1" t="s"><v>{i}</v></c>' for i in range(len(HEADER)))
    return f'<row r="1">{cells}</row>'


def sheet(dimension, rows):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet {NS} {RNS}><dimension ref="{dimension}"/>'
            f'<sheetData>{header_row()}{rows}</sheetData></worksheet>')


def write(name, sheet_xml, sst_xml):
    path = os.path.join(OUT, name)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for part, text in [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", WORKBOOK), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                           ("xl/worksheets/sheet1.xml", sheet_xml), ("xl/sharedStrings.xml", sst_xml)]:
            info = zipfile.ZipInfo(part, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return path


def understate_sizes(path, part, size):
    """Rewrites the uncompressed size `part` declares, in its local header and in the
    central directory, to `size` (the data and its CRC stay as they were)."""
    data = bytearray(open(path, "rb").read())
    name = part.encode()
    # Local file header: signature PK\3\4, uncompressed size at offset 22, name length at 26.
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) != -1:
        nlen = struct.unpack_from("<H", data, pos + 26)[0]
        if data[pos + 30:pos + 30 + nlen] == name:
            struct.pack_into("<I", data, pos + 22, size)
        pos += 4
    # Central directory header: signature PK\1\2, uncompressed size at 24, name length at 28.
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        nlen = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + nlen] == name:
            struct.pack_into("<I", data, pos + 24, size)
        pos += 4
    open(path, "wb").write(bytes(data))


def main():
    os.makedirs(OUT, exist_ok=True)
    last = f"{col_name(16384)}1048576"
    made = []
    # One value at A1 (the header) and one at the sheet's last cell.
    made.append(write("far_cells.xlsx",
                      sheet(f"A1:{last}", f'<row r="1048576"><c r="{last}" t="inlineStr"><is><t>x</t></is></c></row>'),
                      sst()))
    # Within the row limit, but at the last column: 5,001 rows by 16,384 columns.
    made.append(write("wide_cells.xlsx",
                      sheet("A1:XFD5001", '<row r="5001"><c r="XFD5001" t="inlineStr"><is><t>x</t></is></c></row>'),
                      sst()))
    # A shared-strings table that declares 10^12 strings and holds ten.
    made.append(write("string_count.xlsx", sheet("A1:J1", ""), sst(10**12, 10**12)))
    # 80 MB of whitespace inside the sheet, honestly declared: deflate packs it to about 80 KB.
    made.append(write("zip_bomb.xlsx", sheet("A1:J1", " " * (80 * 1024 * 1024)), sst()))
    # The same, declared as 1 KB in both zip headers.
    path = write("zip_bomb_understated.xlsx", sheet("A1:J1", " " * (80 * 1024 * 1024)), sst())
    understate_sizes(path, "xl/worksheets/sheet1.xml", 1024)
    made.append(path)
    for p in made:
        print(f"{os.path.relpath(p)}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
