//! A bounded reader for the first sheet of an uploaded `.xlsx` workbook.
//!
//! Nothing a workbook declares about itself is trusted: not the sheet's `<dimension>`, not the
//! shared-strings `count`/`uniqueCount`, not the sizes in the zip directory. Only the parts it
//! needs are inflated (the workbook, its relationships, the shared strings and the first
//! sheet), each through a meter that stops at [`Limits::inflated_bytes`] of real output; the
//! XML is streamed, and every cell, string and byte of text kept in memory is counted against
//! [`Limits`] as it is read. One text node or tag is held whole by the XML reader before it
//! can be counted, so the meter also stops a part at [`MAX_MARKUP_GAP`] bytes without markup.
//! The grid grows only to the cells that hold a value, and never past `rows × columns`.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// What one import may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Highest sheet row (1-based) that may hold a value.
    pub rows: u32,
    /// Highest sheet column (1-based, `A` = 1) that may hold a value.
    pub columns: u32,
    /// Most entries in the shared-strings table.
    pub strings: usize,
    /// Most bytes of text kept: the shared strings plus every cell's text.
    pub text_bytes: usize,
    /// Most bytes inflated from the archive, all parts read together.
    pub inflated_bytes: u64,
    /// Most entries in the archive.
    pub parts: usize,
}

/// Why a workbook was refused.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    /// Not a workbook this reader understands (not a zip, a missing or broken part).
    #[error("{0}")]
    Invalid(String),
    /// A value lies below the last accepted row.
    #[error("values are accepted in sheet rows 1 to {0} only")]
    TooManyRows(u32),
    /// Over one of the other [`Limits`].
    #[error("{0}")]
    TooLarge(String),
}

fn invalid(msg: impl Into<String>) -> WorkbookError {
    WorkbookError::Invalid(msg.into())
}

/// The longest run of bytes without a `<` or `>` that a part may hold. The XML reader keeps
/// a whole text node (or tag) in memory before the text limit can count it, so this bounds
/// what one node can take; a cell holds at most 32,767 characters, far below it.
pub const MAX_MARKUP_GAP: u64 = 1 << 20;

/// The inflation budget shared by every part read from one archive.
struct Budget {
    left: u64,
    exceeded: bool,
    /// A part held more than [`MAX_MARKUP_GAP`] bytes between two markup characters.
    gap_exceeded: bool,
}

/// A reader that fails once the budget is spent, whatever the part claims its size is, or
/// once a single text node or tag grows past [`MAX_MARKUP_GAP`].
struct Metered<'a, R> {
    inner: R,
    budget: &'a mut Budget,
    /// Bytes read since the last `<` or `>`.
    gap: u64,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for one byte more than is left, so reaching the limit exactly is not an error.
        let want = buf
            .len()
            .min(usize::try_from(self.budget.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        let n64 = n as u64;
        if n64 > self.budget.left {
            self.budget.exceeded = true;
            self.budget.left = 0;
            return Err(io::Error::other("inflation budget spent"));
        }
        self.budget.left -= n64;
        for &b in &buf[..n] {
            if b == b'<' || b == b'>' {
                self.gap = 0;
            } else {
                self.gap += 1;
                if self.gap > MAX_MARKUP_GAP {
                    self.budget.gap_exceeded = true;
                    return Err(io::Error::other("a text node or tag is too long"));
                }
            }
        }
        Ok(n)
    }
}

type Archive<'b> = zip::ZipArchive<Cursor<&'b [u8]>>;

struct Book<'b> {
    zip: Archive<'b>,
    budget: Budget,
    limits: Limits,
    /// Bytes of text kept so far.
    kept: usize,
}

/// The first sheet's values as rows of trimmed strings, from the first row and column that
/// hold a value to the last ones (empty cells are empty strings).
#[expect(
    clippy::redundant_closure,
    reason = "a closure is generic over the part's borrow; the bare generic function is not"
)]
pub fn read_first_sheet(bytes: &[u8], limits: Limits) -> Result<Vec<Vec<String>>, WorkbookError> {
    if declared_entries(bytes).most > limits.parts as u64 {
        return Err(WorkbookError::TooLarge(format!(
            "the workbook has more than {} parts",
            limits.parts
        )));
    }
    let zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| invalid("the body is not an .xlsx file"))?;
    if zip.len() > limits.parts {
        return Err(WorkbookError::TooLarge(format!(
            "the workbook has more than {} parts",
            limits.parts
        )));
    }
    let mut book = Book {
        zip,
        budget: Budget {
            left: limits.inflated_bytes,
            exceeded: false,
            gap_exceeded: false,
        },
        limits,
        kept: 0,
    };
    let rel_id = book
        .parse("xl/workbook.xml", |r| first_sheet_rel(r))?
        .ok_or_else(|| invalid("the workbook has no sheet"))?;
    let (sheet, strings) = book.parse("xl/_rels/workbook.xml.rels", |r| {
        sheet_and_strings_targets(r, &rel_id)
    })?;
    let sheet = sheet.ok_or_else(|| invalid("the workbook's first sheet is missing"))?;
    let strings = match strings {
        Some(path) => book.parse_with_book(&path, |r, k| shared_strings(r, k))?,
        None => Vec::new(),
    };
    book.parse_with_book(&sheet, |r, b| sheet_cells(r, b, &strings))
}

const EOCD_SIG: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const EOCD64_LOCATOR_SIG: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
const EOCD64_SIG: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
/// The fixed part of the end-of-central-directory record; a comment of at most `u16::MAX`
/// bytes may follow it.
const EOCD_LEN: usize = 22;

fn le_u16(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u64::from(u16::from_le_bytes(s)))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

/// What [`declared_entries`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Declared {
    /// The largest entry count declared.
    most: u64,
    /// Byte positions looked at: at most the tail once and the body once.
    examined: usize,
}

/// The largest entry count declared by any end-of-central-directory record a zip reader
/// could pick (each candidate in the archive's tail and, when a Zip64 locator precedes it,
/// every Zip64 record before that locator), read before the central directory is parsed: the
/// parser sizes its table from them. Linear in the size of the archive: the Zip64 records
/// before the last locator found are read in one pass (those before an earlier locator are
/// among them), never once per candidate.
fn declared_entries(bytes: &[u8]) -> Declared {
    let tail_start = bytes.len().saturating_sub(EOCD_LEN + usize::from(u16::MAX));
    let last = bytes.len().saturating_sub(EOCD_LEN);
    let at = |sig: [u8; 4], i: usize| bytes.get(i..i.saturating_add(4)) == Some(&sig[..]);
    let mut found = Declared {
        most: 0,
        examined: 0,
    };
    let mut last_locator: Option<usize> = None;
    for i in (tail_start..=last).rev() {
        found.examined += 1;
        if !at(EOCD_SIG, i) {
            continue;
        }
        let count = le_u16(bytes, i + 8)
            .unwrap_or(0)
            .max(le_u16(bytes, i + 10).unwrap_or(0));
        found.most = found.most.max(count);
        if let Some(l) = i.checked_sub(20).filter(|&l| at(EOCD64_LOCATOR_SIG, l)) {
            last_locator = Some(last_locator.map_or(l, |m| m.max(l)));
        }
    }
    for j in 0..last_locator.unwrap_or(0) {
        found.examined += 1;
        if at(EOCD64_SIG, j) {
            let count = le_u64(bytes, j + 24)
                .unwrap_or(u64::MAX)
                .max(le_u64(bytes, j + 32).unwrap_or(u64::MAX));
            found.most = found.most.max(count);
        }
    }
    found
}

/// One part of the archive, streamed: `'s` borrows the book, `'b` the uploaded bytes.
type Part<'s, 'b> = Reader<BufReader<Metered<'s, zip::read::ZipFile<'s, Cursor<&'b [u8]>>>>>;

impl<'b> Book<'b> {
    /// Streams the part `name` through `f`, under the inflation budget.
    fn parse<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Part<'_, 'b>) -> Result<T, WorkbookError>,
    ) -> Result<T, WorkbookError> {
        self.parse_inner(name, |r, _| f(r))
    }

    /// Like [`Book::parse`], for readers that keep text and so count it against the limits.
    fn parse_with_book<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Part<'_, 'b>, &mut Keep) -> Result<T, WorkbookError>,
    ) -> Result<T, WorkbookError> {
        self.parse_inner(name, f)
    }

    fn parse_inner<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Part<'_, 'b>, &mut Keep) -> Result<T, WorkbookError>,
    ) -> Result<T, WorkbookError> {
        let file = self
            .zip
            .by_name(name)
            .map_err(|_| invalid(format!("the workbook part {name} is missing or unreadable")))?;
        let metered = Metered {
            inner: file,
            budget: &mut self.budget,
            gap: 0,
        };
        let mut reader = Reader::from_reader(BufReader::new(metered));
        let mut keep = Keep {
            kept: self.kept,
            limits: self.limits,
        };
        let out = f(&mut reader, &mut keep);
        drop(reader);
        self.kept = keep.kept;
        if self.budget.gap_exceeded {
            return Err(WorkbookError::TooLarge(format!(
                "the workbook holds a text or tag longer than {MAX_MARKUP_GAP} bytes"
            )));
        }
        if self.budget.exceeded {
            return Err(WorkbookError::TooLarge(format!(
                "the workbook is larger than {} bytes once unpacked",
                self.limits.inflated_bytes
            )));
        }
        out
    }
}

/// The running count of text kept.
struct Keep {
    kept: usize,
    limits: Limits,
}

impl Keep {
    fn add(&mut self, bytes: usize) -> Result<(), WorkbookError> {
        self.kept = self.kept.saturating_add(bytes);
        if self.kept > self.limits.text_bytes {
            return Err(WorkbookError::TooLarge(format!(
                "the sheet holds more than {} bytes of text",
                self.limits.text_bytes
            )));
        }
        Ok(())
    }
}

fn xml_err(e: impl Into<quick_xml::Error>) -> WorkbookError {
    match e.into() {
        quick_xml::Error::Io(io) => invalid(format!("the workbook's archive is damaged: {io}")),
        e => invalid(format!("the workbook's XML is malformed: {e}")),
    }
}

/// The value of the attribute whose local name is `local` (any prefix when `prefixed`, none
/// otherwise).
fn attr(e: &BytesStart<'_>, local: &str, prefixed: bool) -> Result<Option<String>, WorkbookError> {
    for a in e.attributes() {
        let a = a.map_err(xml_err)?;
        if a.key.local_name().as_ref() == local && a.key.prefix().is_some() == prefixed {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(xml_err)?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// `xl/workbook.xml`: the relationship id of the first `<sheet>`.
fn first_sheet_rel<B: BufRead>(r: &mut Reader<B>) -> Result<Option<String>, WorkbookError> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sheet" => {
                return attr(&e, "id", true);
            }
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

/// `xl/_rels/workbook.xml.rels`: the paths of the sheet `rel_id` and of the shared strings.
fn sheet_and_strings_targets<B: BufRead>(
    r: &mut Reader<B>,
    rel_id: &str,
) -> Result<(Option<String>, Option<String>), WorkbookError> {
    let (mut sheet, mut strings) = (None, None);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                let Some(target) = attr(&e, "Target", false)? else {
                    continue;
                };
                if attr(&e, "Id", false)?.as_deref() == Some(rel_id) {
                    sheet = Some(part_path(&target));
                } else if attr(&e, "Type", false)?.is_some_and(|t| t.ends_with("/sharedStrings")) {
                    strings = Some(part_path(&target));
                }
            }
            Event::Eof => return Ok((sheet, strings)),
            _ => {}
        }
    }
}

/// A relationship target of the workbook as an archive path.
fn part_path(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("xl/{}", target.trim_start_matches("./")),
    }
}

/// Appends the text of a `<t>` run (text and entity references) to `out`, counting it.
fn read_text<B: BufRead>(
    r: &mut Reader<B>,
    out: &mut String,
    keep: &mut Keep,
) -> Result<(), WorkbookError> {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let before = out.len();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(t) => out.push_str(&t.xml10_content()),
            Event::GeneralRef(g) => {
                if let Some(c) = g.resolve_char_ref().map_err(xml_err)? {
                    out.push(c);
                } else {
                    let name = g.xml10_content();
                    let v = resolve_predefined_entity(&name)
                        .ok_or_else(|| invalid(format!("unknown XML entity &{name};")))?;
                    out.push_str(v);
                }
            }
            Event::End(_) => return Ok(()),
            Event::Eof => return Err(invalid("the workbook's XML ends too early")),
            _ => {}
        }
        keep.add(out.len() - before)?;
    }
}

/// The text of a string item (`<si>` or `<is>`): its `<t>` runs, without phonetic runs.
fn read_string_item<B: BufRead>(
    r: &mut Reader<B>,
    keep: &mut Keep,
) -> Result<String, WorkbookError> {
    let mut out = String::new();
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut phonetic = 0usize;
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) => {
                let name = e.local_name();
                if name.as_ref() == "t" && phonetic == 0 {
                    read_text(r, &mut out, keep)?;
                } else {
                    if name.as_ref() == "rPh" {
                        phonetic += 1;
                    }
                    depth += 1;
                }
            }
            Event::End(e) => {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
                if e.local_name().as_ref() == "rPh" {
                    phonetic = phonetic.saturating_sub(1);
                }
            }
            Event::Eof => return Err(invalid("the workbook's XML ends too early")),
            _ => {}
        }
    }
}

/// The shared-strings part, counted item by item. Its declared `uniqueCount` only serves to
/// refuse a table that announces more strings than allowed; nothing is sized from it.
fn shared_strings<B: BufRead>(
    r: &mut Reader<B>,
    keep: &mut Keep,
) -> Result<Vec<String>, WorkbookError> {
    let max = keep.limits.strings;
    let too_many =
        || WorkbookError::TooLarge(format!("the workbook has more than {max} shared strings"));
    let mut strings = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) if e.local_name().as_ref() == "sst" => {
                let declared = attr(&e, "uniqueCount", false)?;
                if declared
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > max as u64)
                {
                    return Err(too_many());
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                if strings.len() >= max {
                    return Err(too_many());
                }
                strings.push(read_string_item(r, keep)?);
            }
            Event::Empty(e) if e.local_name().as_ref() == "si" => {
                if strings.len() >= max {
                    return Err(too_many());
                }
                strings.push(String::new());
            }
            Event::Eof => return Ok(strings),
            _ => {}
        }
    }
}

/// A cell reference such as `B12` as a 1-based (row, column); `None` when malformed. Numbers
/// past `u32` are malformed too, so no arithmetic here can overflow.
fn cell_ref(r: &str) -> Option<(u32, u32)> {
    let letters = r.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (col, row) = r.split_at(letters);
    if col.is_empty() || row.is_empty() || !row.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut c: u32 = 0;
    for b in col.bytes() {
        c = c
            .checked_mul(26)?
            .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)?;
    }
    let row: u32 = row.parse().ok()?;
    (row > 0).then_some((row, c))
}

/// The value of one cell as text, the way a spreadsheet shows it.
fn cell_value(
    kind: Option<&str>,
    raw: String,
    strings: &[String],
) -> Result<String, WorkbookError> {
    Ok(match kind {
        Some("s") => {
            let i: usize = raw
                .trim()
                .parse()
                .map_err(|_| invalid("a cell names a shared string by a non-number"))?;
            strings
                .get(i)
                .cloned()
                .ok_or_else(|| invalid("a cell names a shared string that does not exist"))?
        }
        Some("b") => match raw.trim() {
            "1" => "true".into(),
            "0" => "false".into(),
            other => other.to_string(),
        },
        Some("str" | "inlineStr" | "e" | "d") => raw,
        _ => match raw.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => n.to_string(),
            _ => raw,
        },
    })
}

/// A worksheet part: every value cell placed in a grid bounded by the limits.
fn sheet_cells<B: BufRead>(
    r: &mut Reader<B>,
    keep: &mut Keep,
    strings: &[String],
) -> Result<Vec<Vec<String>>, WorkbookError> {
    let limits = keep.limits;
    let mut grid: Vec<Vec<String>> = Vec::new();
    let (mut min_row, mut min_col) = (u32::MAX, u32::MAX);
    let mut row = 0u32;
    let mut col = 0u32;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "row" => {
                row = match attr(&e, "r", false)? {
                    Some(v) => v
                        .trim()
                        .parse()
                        .map_err(|_| invalid(format!("bad row number {v:?}")))?,
                    None => row.saturating_add(1),
                };
                col = 0;
            }
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                (row, col) = match attr(&e, "r", false)? {
                    Some(v) => cell_ref(v.trim())
                        .ok_or_else(|| invalid(format!("bad cell reference {v:?}")))?,
                    None => (row.max(1), col.saturating_add(1)),
                };
                let kind = attr(&e, "t", false)?;
                // The raw content is counted while it is read, then handed back: what the
                // grid keeps is counted once, below.
                let before = keep.kept;
                let raw = read_cell_content(r, keep)?;
                keep.kept = before;
                let Some(raw) = raw else {
                    continue;
                };
                let text = cell_value(kind.as_deref(), raw, strings)?;
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                if row > limits.rows {
                    return Err(WorkbookError::TooManyRows(limits.rows));
                }
                if col > limits.columns {
                    return Err(WorkbookError::TooLarge(format!(
                        "values are accepted in the first {} columns only",
                        limits.columns
                    )));
                }
                keep.add(text.len())?;
                min_row = min_row.min(row);
                min_col = min_col.min(col);
                // Both are at most the limits, checked just above.
                let (ri, ci) = (row as usize - 1, col as usize - 1);
                if grid.len() <= ri {
                    grid.resize_with(ri + 1, Vec::new);
                }
                let cells = &mut grid[ri];
                if cells.len() <= ci {
                    cells.resize_with(ci + 1, String::new);
                }
                cells[ci] = text.to_string();
            }
            Event::Empty(e) if e.local_name().as_ref() == "c" => {
                if let Some(v) = attr(&e, "r", false)? {
                    (row, col) = cell_ref(v.trim())
                        .ok_or_else(|| invalid(format!("bad cell reference {v:?}")))?;
                } else {
                    col = col.saturating_add(1);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if grid.is_empty() {
        return Ok(grid);
    }
    let (skip_rows, skip_cols) = (min_row as usize - 1, min_col as usize - 1);
    Ok(grid
        .into_iter()
        .skip(skip_rows)
        .map(|mut cells| {
            cells.drain(..skip_cols.min(cells.len()));
            cells
        })
        .collect())
}

/// The inside of a `<c>` element: the text of its `<v>` or inline `<is>`, `None` when it has
/// neither. Formulas (`<f>`) are skipped; their cached value is in `<v>`.
fn read_cell_content<B: BufRead>(
    r: &mut Reader<B>,
    keep: &mut Keep,
) -> Result<Option<String>, WorkbookError> {
    let mut value = None;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        match r.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Start(e) if depth == 0 && e.local_name().as_ref() == "v" => {
                let mut s = String::new();
                read_text(r, &mut s, keep)?;
                value = Some(s);
            }
            Event::Start(e) if depth == 0 && e.local_name().as_ref() == "is" => {
                value = Some(read_string_item(r, keep)?);
            }
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                if depth == 0 {
                    return Ok(value);
                }
                depth -= 1;
            }
            Event::Eof => return Err(invalid("the workbook's XML ends too early")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use super::*;

    const LIMITS: Limits = Limits {
        rows: 100,
        columns: 10,
        strings: 50,
        text_bytes: 10_000,
        inflated_bytes: 1_000_000,
        parts: 20,
    };
    /// Limits that only the gap between markup can reach.
    const BIG: Limits = Limits {
        text_bytes: 1 << 30,
        inflated_bytes: 1 << 30,
        ..LIMITS
    };

    const WORKBOOK: &str = r#"<workbook xmlns:r="rel"><sheets><sheet name="a" sheetId="1" r:id="rId7"/><sheet name="b" sheetId="2" r:id="rId8"/></sheets></workbook>"#;
    const RELS: &str = r#"<Relationships><Relationship Id="rId8" Type="x/worksheet" Target="worksheets/other.xml"/><Relationship Id="rId7" Type="x/worksheet" Target="/xl/worksheets/first.xml"/><Relationship Id="rId9" Type="x/sharedStrings" Target="strings.xml"/></Relationships>"#;

    fn book(sheet: &str, strings: &str) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        for (name, text) in [
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", RELS),
            ("xl/worksheets/first.xml", sheet),
            ("xl/worksheets/other.xml", "<worksheet/>"),
            ("xl/strings.xml", strings),
        ] {
            z.start_file(name, opts).unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn sheet(rows: &str) -> String {
        format!(
            r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData></worksheet>"#
        )
    }

    #[test]
    fn reads_every_kind_of_cell_of_the_first_sheet() {
        let strings = r#"<sst uniqueCount="2"><si><t>plain &amp; simple</t></si><si><r><t>ri</t></r><r><t xml:space="preserve">ch </t></r><rPh><t>PHONETIC</t></rPh></si></sst>"#;
        let rows = r#"<row r="2"><c r="B2" t="s"><v>0</v></c><c r="C2" t="s"><v>1</v></c><c r="D2" t="inlineStr"><is><t>in&#x6C;ine</t></is></c></row>
            <row><c t="b"><v>1</v></c><c><v>15555550100</v></c><c t="str"><f>A1</f><v>  formula </v></c><c r="F3" s="1"/><c><v>2.50</v></c></row>
            <row r="5"><c r="B5" t="e"><v>#N/A</v></c></row>"#;
        let got = read_first_sheet(&book(&sheet(rows), strings), LIMITS).unwrap();
        assert_eq!(
            got,
            vec![
                vec!["", "plain & simple", "rich", "inline"],
                vec!["true", "15555550100", "formula", "", "", "", "2.5"],
                vec![],
                vec!["", "#N/A"],
            ]
        );
    }

    #[test]
    fn declared_sizes_are_not_trusted() {
        // A far dimension and a wrong count change nothing for a small sheet.
        let strings = r#"<sst count="7" uniqueCount="9"><si><t>x</t></si></sst>"#;
        let got = read_first_sheet(
            &book(
                &sheet(r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#),
                strings,
            ),
            LIMITS,
        )
        .unwrap();
        assert_eq!(got, vec![vec!["x"]]);
        // Declaring more strings than allowed is refused before any is read.
        let strings = r#"<sst uniqueCount="1000000000000"><si><t>x</t></si></sst>"#;
        let err = read_first_sheet(&book(&sheet(""), strings), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn limits_are_counted_as_the_sheet_is_read() {
        let none = "<sst/>";
        let at = |r: &str| {
            sheet(&format!(
                r#"<row><c r="{r}" t="inlineStr"><is><t>x</t></is></c></row>"#
            ))
        };
        assert!(read_first_sheet(&book(&at("J100"), none), LIMITS).is_ok());
        let err = read_first_sheet(&book(&at("A101"), none), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooManyRows(100)), "{err:?}");
        let err = read_first_sheet(&book(&at("K1"), none), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");
        // An empty cell far away is not a value.
        let far = sheet(
            r#"<row r="1048576"><c r="XFD1048576" s="3"/><c r="XFC1048576"><v></v></c></row>"#,
        );
        assert_eq!(
            read_first_sheet(&book(&far, none), LIMITS).unwrap(),
            Vec::<Vec<String>>::new()
        );

        // Too many strings, counted one by one.
        let many = format!("<sst>{}</sst>", "<si><t>s</t></si>".repeat(51));
        let err = read_first_sheet(&book(&sheet(""), &many), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");

        // One long shared string named by many cells: each copy is counted.
        let long = format!("<sst><si><t>{}</t></si></sst>", "y".repeat(1_000));
        let cells: String = (1..=10)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#))
            .collect();
        let err = read_first_sheet(&book(&sheet(&cells), &long), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");

        // One text node longer than the gap allowed, refused while it is read (the reader
        // would otherwise hold it whole, and copy it, before the text limit counts it).
        let huge = format!(
            "<sst><si><t>{}</t></si></sst>",
            "\r\n".repeat(usize::try_from(MAX_MARKUP_GAP).unwrap())
        );
        let err = read_first_sheet(&book(&sheet(""), &huge), BIG).unwrap_err();
        assert!(
            matches!(&err, WorkbookError::TooLarge(m) if m.contains("text or tag")),
            "{err:?}"
        );

        // Real inflated bytes, whatever the archive declares.
        let padded = sheet(&" ".repeat(1_000_001));
        let err = read_first_sheet(&book(&padded, none), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn inline_text_is_counted_once_against_the_text_limit() {
        let inline = |n: usize| {
            sheet(&format!(
                r#"<row><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row>"#,
                "x".repeat(n)
            ))
        };
        let got = read_first_sheet(&book(&inline(10_000), "<sst/>"), LIMITS).unwrap();
        assert_eq!(got[0][0].len(), 10_000);
        let err = read_first_sheet(&book(&inline(10_001), "<sst/>"), LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");
        // A plain value is counted once as well.
        let value = sheet(&format!(
            r#"<row><c r="A1" t="str"><v>{}</v></c></row>"#,
            "7".repeat(10_000)
        ));
        assert!(read_first_sheet(&book(&value, "<sst/>"), LIMITS).is_ok());
    }

    /// The end-of-central-directory record of `zip` (it has no comment).
    fn eocd(zip: &mut [u8]) -> &mut [u8] {
        let at = zip.len() - EOCD_LEN;
        assert_eq!(zip[at..at + 4], EOCD_SIG);
        &mut zip[at..]
    }

    #[test]
    fn the_declared_entry_count_is_checked_before_the_directory_is_read() {
        let mut zip = book(&sheet(""), "<sst/>");
        assert_eq!(declared_entries(&zip).most, 5);
        // A count over the limit is refused as too large, not as a damaged archive: the
        // directory it announces is never parsed.
        let record = eocd(&mut zip);
        record[8..10].copy_from_slice(&1_001u16.to_le_bytes());
        record[10..12].copy_from_slice(&1_001u16.to_le_bytes());
        let limits = Limits {
            parts: 1_000,
            ..LIMITS
        };
        let err = read_first_sheet(&zip, limits).unwrap_err();
        assert!(
            matches!(&err, WorkbookError::TooLarge(m) if m.contains("parts")),
            "{err:?}"
        );

        // A Zip64 record named by a locator counts too.
        let mut zip = book(&sheet(""), "<sst/>");
        let at = zip.len() - EOCD_LEN;
        let tail = zip.split_off(at);
        let record64 = zip.len() as u64;
        zip.extend_from_slice(&EOCD64_SIG);
        zip.extend_from_slice(&44u64.to_le_bytes());
        zip.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&1_000_000_000_000u64.to_le_bytes());
        zip.extend_from_slice(&1_000_000_000_000u64.to_le_bytes());
        zip.extend_from_slice(&[0; 16]);
        zip.extend_from_slice(&EOCD64_LOCATOR_SIG);
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(&record64.to_le_bytes());
        zip.extend_from_slice(&1u32.to_le_bytes());
        zip.extend_from_slice(&tail);
        eocd(&mut zip)[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(declared_entries(&zip).most, 1_000_000_000_000);
        let err = read_first_sheet(&zip, LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn a_tail_full_of_directory_ends_is_read_in_one_pass() {
        // A body of Zip64 records, then a tail where every 32 bytes a locator is followed by
        // an end-of-central-directory candidate.
        let mut bytes = Vec::new();
        for _ in 0..4_096 {
            bytes.extend_from_slice(&EOCD64_SIG);
            bytes.extend_from_slice(&[0; 20]);
            bytes.extend_from_slice(&7u64.to_le_bytes());
            bytes.extend_from_slice(&7u64.to_le_bytes());
            bytes.extend_from_slice(&[0; 16]);
        }
        // One record the parser could pick declares more, near the start.
        bytes[24..32].copy_from_slice(&9_000u64.to_le_bytes());
        let body = bytes.len();
        let mut candidates = 0;
        while bytes.len() - body < usize::from(u16::MAX) {
            bytes.extend_from_slice(&EOCD64_LOCATOR_SIG);
            bytes.extend_from_slice(&[0; 16]);
            bytes.extend_from_slice(&EOCD_SIG);
            bytes.extend_from_slice(&[0; 4]);
            bytes.extend_from_slice(&3u16.to_le_bytes());
            bytes.extend_from_slice(&3u16.to_le_bytes());
            candidates += 1;
        }
        bytes.extend_from_slice(&[0; EOCD_LEN]);
        assert!(candidates > 2_000, "{candidates}");
        let found = declared_entries(&bytes);
        assert_eq!(found.most, 9_000);
        // Each candidate does not rescan the body: the tail once, the body at most once.
        let tail = EOCD_LEN + usize::from(u16::MAX) + 1;
        assert!(
            found.examined <= tail + bytes.len(),
            "{} positions for {} bytes",
            found.examined,
            bytes.len()
        );
        let err = read_first_sheet(&bytes, LIMITS).unwrap_err();
        assert!(
            matches!(&err, WorkbookError::TooLarge(m) if m.contains("parts")),
            "{err:?}"
        );
    }

    #[test]
    fn broken_workbooks_are_invalid() {
        let err = read_first_sheet(b"not a zip", LIMITS).unwrap_err();
        assert!(matches!(err, WorkbookError::Invalid(_)), "{err:?}");
        for (rows, strings) in [
            (r#"<row><c r="A1" t="s"><v>3</v></c></row>"#, "<sst/>"),
            (r#"<row><c r="1A"><v>1</v></c></row>"#, "<sst/>"),
            (
                r#"<row><c r="A1" t="inlineStr"><is><t>&bogus;</t></is></c></row>"#,
                "<sst/>",
            ),
            (r#"<row><c r="A1"><v>1</v>"#, "<sst/>"),
        ] {
            let err = read_first_sheet(&book(&sheet(rows), strings), LIMITS).unwrap_err();
            assert!(matches!(err, WorkbookError::Invalid(_)), "{rows}: {err:?}");
        }
    }

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref("A1"), Some((1, 1)));
        assert_eq!(cell_ref("b12"), Some((12, 2)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_576, 16_384)));
        assert_eq!(cell_ref("A0"), None);
        assert_eq!(cell_ref("1A"), None);
        assert_eq!(cell_ref("A99999999999"), None);
        assert_eq!(cell_ref("ZZZZZZZZZZZZ1"), None);
    }
}
