//! Reading a small table from a file people export from a spreadsheet or another system:
//! CSV (`;` or `,`, UTF-8 with or without BOM, or Windows-1252) or XLSX (first sheet).
//! The first non-empty row holds the column names. Cells come back as trimmed text; numbers
//! as written (whole numbers without `.0`), spreadsheet dates as `YYYY-MM-DD`.

use std::io::Cursor;

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TableError {
    #[error("Het bestand is leeg.")]
    Empty,
    #[error(
        "Dit bestand kan Startblok niet lezen. Sla het op als CSV (puntkomma- of kommagescheiden) of als Excel-werkmap (.xlsx)."
    )]
    Format,
    #[error("Het bestand heeft meer dan {0} regels. Splits het op in kleinere bestanden.")]
    TooManyRows(usize),
    #[error(
        "Dit Excel-bestand is uitgepakt te groot (meer dan 20 MB). Sla alleen de tabel zelf op, of gebruik CSV."
    )]
    Unpacked,
    #[error(
        "Het bestand heeft maar één kolom. Sla het op als CSV met komma's of puntkomma's tussen de kolommen, of als Excel-werkmap (.xlsx)."
    )]
    OneColumn,
}

pub const MAX_ROWS: usize = 5000;

/// Reads a table; which reader is used follows from the content (an XLSX file is a ZIP).
pub fn read_table(bytes: &[u8]) -> Result<Table, TableError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TableError::Empty);
    }
    let table = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)?
    } else {
        read_csv(bytes)?
    };
    if table.headers.len() < 2 {
        return Err(TableError::OneColumn);
    }
    if table.rows.len() > MAX_ROWS {
        return Err(TableError::TooManyRows(MAX_ROWS));
    }
    Ok(table)
}

fn decode(bytes: &[u8]) -> Result<String, TableError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(str::to_string)
            .map_err(|_| TableError::Format);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (enc, _) = encoding_rs::Encoding::for_bom(bytes).ok_or(TableError::Format)?;
        let (text, _, bad) = enc.decode(bytes);
        return if bad {
            Err(TableError::Format)
        } else {
            Ok(text.into_owned())
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        // Not UTF-8: Excel's "CSV" on Dutch Windows writes Windows-1252.
        Err(_) => Ok(encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let text = decode(bytes)?;
    if text.contains('\0') {
        return Err(TableError::Format);
    }
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first_line.matches(';').count() >= first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| TableError::Format)?;
        rows.push(record.iter().map(|c| c.trim().to_string()).collect());
        if rows.len() > MAX_ROWS + 1 {
            break;
        }
    }
    into_table(rows)
}

/// How much an XLSX may unpack to, in all: a school's list is a few hundred kilobytes, and a
/// small file that inflates to gigabytes (a zip bomb) must be refused before anything parses it.
pub const MAX_XLSX_UNPACKED: u64 = 20 * 1024 * 1024;

/// Unpacks every entry with a hard cap (declared sizes in a ZIP can lie) and refuses an archive
/// that would grow beyond [`MAX_XLSX_UNPACKED`].
fn check_unpacked_size(bytes: &[u8]) -> Result<(), TableError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| TableError::Format)?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|_| TableError::Format)?;
        let budget = MAX_XLSX_UNPACKED - total;
        let read = std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink())
            .map_err(|_| TableError::Format)?;
        total += read;
        if total > MAX_XLSX_UNPACKED {
            return Err(TableError::Unpacked);
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, TableError> {
    use calamine::{Data, Reader, Xlsx};
    check_unpacked_size(bytes)?;
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| TableError::Format)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(TableError::Empty)?
        .map_err(|_| TableError::Format)?;
    let rows = range
        .rows()
        .take(MAX_ROWS + 2)
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty | Data::Error(_) => String::new(),
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        s.trim().to_string()
                    }
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Bool(b) => if *b { "ja" } else { "nee" }.to_string(),
                    Data::DateTime(d) => excel_date(d.as_f64()),
                })
                .collect()
        })
        .collect();
    into_table(rows)
}

/// A spreadsheet date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let base = time::macros::date!(1899 - 12 - 30);
    match base.checked_add(time::Duration::days(serial.floor() as i64)) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        None => serial.to_string(),
    }
}

fn into_table(mut rows: Vec<Vec<String>>) -> Result<Table, TableError> {
    rows.retain(|r| r.iter().any(|c| !c.is_empty()));
    if rows.is_empty() {
        return Err(TableError::Empty);
    }
    let mut headers = rows.remove(0);
    while headers.last().is_some_and(|h| h.is_empty()) {
        headers.pop();
    }
    for (i, h) in headers.iter_mut().enumerate() {
        if h.is_empty() {
            *h = format!("Kolom {}", i + 1);
        }
    }
    let width = headers.len();
    for r in rows.iter_mut() {
        r.resize(width, String::new());
    }
    Ok(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str =
        "leerlingnummer_las;boom_leerlingnummer\r\n001000;127700\r\n001007;127713\r\n";

    #[test]
    fn csv_with_semicolons_commas_bom_and_windows_1252() {
        let t = read_table(DEMO.as_bytes()).unwrap();
        assert_eq!(t.headers, ["leerlingnummer_las", "boom_leerlingnummer"]);
        assert_eq!(t.rows[0], ["001000", "127700"], "leading zeros kept");

        let with_bom = [
            b"\xEF\xBB\xBF".as_slice(),
            DEMO.replace(';', ",").as_bytes(),
        ]
        .concat();
        assert_eq!(read_table(&with_bom).unwrap(), t);

        let latin = b"achternaam;geboortedatum;boom\nG\xe9rard;01-02-2016;5\n";
        let t = read_table(latin).unwrap();
        assert_eq!(t.rows[0][0], "Gérard");
    }

    #[test]
    fn quoted_fields_short_rows_and_blank_lines_are_tolerated() {
        let t = read_table(b"naam,boom\n\"Yilmaz, Ay\xc5\x9fe\",12\n\nalleen\n").unwrap();
        assert_eq!(
            t.rows,
            vec![
                vec!["Yilmaz, Ayşe".to_string(), "12".to_string()],
                vec!["alleen".to_string(), String::new()]
            ]
        );
    }

    #[test]
    fn unusable_files_get_a_clear_answer() {
        assert_eq!(read_table(b"  \n"), Err(TableError::Empty));
        assert_eq!(
            read_table(b"alleen_een_kolom\n1\n"),
            Err(TableError::OneColumn)
        );
        assert_eq!(read_table(b"PK\x03\x04kapot"), Err(TableError::Format));
        let many: String = std::iter::once("a;b\n".to_string())
            .chain((0..5001).map(|i| format!("{i};{i}\n")))
            .collect();
        assert_eq!(
            read_table(many.as_bytes()),
            Err(TableError::TooManyRows(MAX_ROWS))
        );
    }

    #[test]
    fn an_xlsx_that_unpacks_to_gigabytes_is_refused_without_unpacking_it_whole() {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
            let chunk = vec![b' '; 1024 * 1024];
            for _ in 0..24 {
                z.write_all(&chunk).unwrap();
            }
            z.finish().unwrap();
        }
        let bytes = buf.into_inner();
        assert!(bytes.len() < 1024 * 1024, "small on disk: {}", bytes.len());
        assert_eq!(read_table(&bytes), Err(TableError::Unpacked));
    }

    #[test]
    fn excel_serials_become_iso_dates() {
        assert_eq!(excel_date(42370.0), "2016-01-01");
    }
}

/// A text cell for a report CSV that people open in a spreadsheet: a value that a spreadsheet
/// would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a
/// leading apostrophe, as OWASP advises against CSV injection. Not for files meant to be read
/// back in (norms, conversion tables), whose values must round-trip.
pub fn report_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod report_cell_tests {
    use super::report_cell;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(report_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(report_cell("+31"), "'+31");
        assert_eq!(report_cell("@SUM"), "'@SUM");
        assert_eq!(report_cell("Fatima García"), "Fatima García");
        assert_eq!(report_cell(""), "");
    }
}
