//! Property tests over the Excel reader: arbitrary bytes, valid workbooks mutated byte by
//! byte (flipped, cut, spliced), and sheets generated from random cells. The reader always
//! returns, never panics, and what it accepts stays inside its limits.
//!
//! Case counts are fixed and the random source is seeded, so a run takes the same time and
//! explores the same inputs every time.
#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use gomomo_api::xlsx::{read_first_sheet, Limits, WorkbookError};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x0786_c5ee_7000),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const LIMITS: Limits = Limits {
    rows: 50,
    columns: 8,
    strings: 40,
    text_bytes: 4_000,
    inflated_bytes: 200_000,
    parts: 12,
};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const WORKBOOK: &str = r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const RELS: &str = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
const STRINGS: &str = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>client_name</t></si><si><t>Ana &amp; Bo</t></si><si><r><t>ri</t></r><r><t>ch</t></r></si></sst>"#;
const SHEET: &str = r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>email</t></is></c><c r="C1" t="str"><v>start</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="inlineStr"><is><t>ana@example.com</t></is></c><c r="C2"><v>46000.5</v></c></row><row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" t="b"><v>1</v></c><c r="C3" t="e"><v>#N/A</v></c></row></sheetData></worksheet>"#;

/// A small valid workbook; `stored` keeps the parts uncompressed, so byte mutations land in
/// the XML itself rather than in the deflate stream.
fn workbook(sheet: &str, strings: &str, stored: bool) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", RELS),
        ("xl/sharedStrings.xml", strings),
        ("xl/worksheets/sheet1.xml", sheet),
    ] {
        z.start_file(name, opts).unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// What the reader may answer: refused, or a grid inside the limits.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match read_first_sheet(bytes, LIMITS) {
        Ok(grid) => {
            prop_assert!(grid.len() <= LIMITS.rows as usize);
            let mut text = 0;
            for row in &grid {
                prop_assert!(row.len() <= LIMITS.columns as usize);
                text += row.iter().map(String::len).sum::<usize>();
            }
            prop_assert!(text <= LIMITS.text_bytes);
        }
        Err(
            WorkbookError::Invalid(_) | WorkbookError::TooManyRows(_) | WorkbookError::TooLarge(_),
        ) => {}
    }
    Ok(())
}

/// One change to a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    /// Sets the byte at a position (taken modulo the length).
    Set(usize, u8),
    /// Cuts the bytes from a position on.
    Truncate(usize),
    /// Inserts bytes at a position.
    Insert(usize, Vec<u8>),
    /// Copies a span of the bytes over another place.
    Splice(usize, usize, usize),
    /// Sets a little-endian field (sizes, counts, offsets) to an extreme value.
    Field(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<usize>(), any::<usize>(), 1usize..200)
            .prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
        2 => (any::<usize>(), prop::sample::select(&[0u32, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 1_000_000][..]))
            .prop_map(|(i, v)| Mutation::Field(i, v)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let len = bytes.len();
    match m {
        Mutation::Set(i, b) => bytes[i % len] = *b,
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::Insert(i, b) => {
            let at = i % (len + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Splice(from, to, n) => {
            let (from, to) = (from % len, to % len);
            let n = (*n).min(len - from).min(len - to);
            let chunk = bytes[from..from + n].to_vec();
            bytes[to..to + n].copy_from_slice(&chunk);
        }
        Mutation::Field(i, v) => {
            if len >= 4 {
                let at = i % (len - 3);
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// A cell reference from anywhere on (and off) the sheet.
fn cell_ref() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..12, 1u32..70).prop_map(|(c, r)| format!("{}{r}", col_name(c))),
        (1u32..20_000, 1u32..2_000_000).prop_map(|(c, r)| format!("{}{r}", col_name(c))),
        "[A-Z]{0,4}[0-9]{0,12}",
    ]
}

fn col_name(mut c: u32) -> String {
    let mut s = Vec::new();
    while c > 0 {
        c -= 1;
        s.push(b'A' + (c % 26) as u8);
        c /= 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// One `<c>` element of a random kind.
fn cell() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        "[a-zA-Z0-9 @.]{0,30}",
        Just("&amp;&lt;&#x41;&#65;".to_string()),
        Just("&bogus;".to_string()),
        Just("&#0;&#xD800;".to_string()),
        "[0-9]{1,25}",
    ];
    (
        prop::option::of(cell_ref()),
        prop::sample::select(&["", "s", "str", "inlineStr", "b", "e", "n", "d"][..]),
        text,
        0u8..4,
    )
        .prop_map(|(r, t, text, shape)| {
            let r = r.map(|r| format!(r#" r="{r}""#)).unwrap_or_default();
            let t = if t.is_empty() {
                String::new()
            } else {
                format!(r#" t="{t}""#)
            };
            match shape {
                0 => format!("<c{r}{t}><v>{text}</v></c>"),
                1 => format!("<c{r}{t}><is><t>{text}</t></is></c>"),
                2 => format!("<c{r}{t}><f>SUM(A1)</f><v>{text}</v></c>"),
                _ => format!("<c{r}{t}/>"),
            }
        })
}

fn sheet() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::option::of(prop_oneof![1u32..60, any::<u32>()]),
            prop::collection::vec(cell(), 0..6),
        ),
        0..12,
    )
    .prop_map(|rows| {
        let rows: String = rows
            .into_iter()
            .map(|(r, cells)| {
                let r = r.map(|r| format!(r#" r="{r}""#)).unwrap_or_default();
                format!("<row{r}>{}</row>", cells.concat())
            })
            .collect();
        format!(r#"<?xml version="1.0"?><worksheet><dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData></worksheet>"#)
    })
}

/// What arbitrary bytes start with: nothing, a local file header, an end-of-directory record.
const HEADS: &[&[u8]] = &[b"", b"PK\x03\x04", b"PK\x05\x06"];

#[test]
fn the_valid_workbook_reads() {
    for stored in [true, false] {
        let grid = read_first_sheet(&workbook(SHEET, STRINGS, stored), LIMITS).unwrap();
        assert_eq!(grid[1][0], "Ana & Bo");
        assert_eq!(grid[2][0], "rich");
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn arbitrary_bytes_never_panic(
        head in prop::sample::select(HEADS),
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut input = head.to_vec();
        input.extend_from_slice(&bytes);
        check(&input)?;
        // The same bytes as the tail of an archive: an end-of-directory record in front of them.
        let mut tail = bytes.clone();
        tail.extend_from_slice(b"PK\x05\x06");
        tail.extend_from_slice(&bytes.iter().copied().take(18).collect::<Vec<_>>());
        check(&tail)?;
    }

    #[test]
    fn mutated_workbooks_never_panic(
        stored in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = workbook(SHEET, STRINGS, stored);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn generated_sheets_stay_inside_the_limits(sheet in sheet(), stored in any::<bool>()) {
        check(&workbook(&sheet, STRINGS, stored))?;
    }

    #[test]
    fn generated_sheets_mutated_never_panic(
        sheet in sheet(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let mut bytes = workbook(&sheet, STRINGS, true);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        check(&bytes)?;
    }
}
