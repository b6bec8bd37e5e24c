//! The EDEXML parser against the official examples, the newcomer fixture, other encodings and
//! hostile files.

use startblok_edexml::{ParseError, Warning, parse};

mod common;

use common::shared;

#[test]
fn the_newcomer_fixture_reads_whole() {
    let Some(bytes) = shared("fixtures/edexml/nieuwkomers-demo.xml") else {
        return;
    };
    let r = parse(&bytes).unwrap();
    assert_eq!(r.school.brincode.as_deref(), Some("99ZZ"));
    assert_eq!(
        r.school.schooljaar.as_deref(),
        Some("2026-2027"),
        "a schooljaar the XSD does not list"
    );
    assert_eq!(
        (r.groepen.len(), r.leerlingen.len(), r.leerkrachten.len()),
        (3, 36, 4)
    );
    let first = &r.leerlingen[0];
    assert_eq!(first.key, "001000", "leading zeros kept");
    assert_eq!(first.achternaam.as_deref(), Some("García López"));
    assert_eq!(first.groep.as_deref(), Some("NK-A"));
    assert!(
        first
            .eckid
            .as_deref()
            .unwrap()
            .starts_with("https://ketenid.nl/")
    );
    assert!(
        r.leerlingen.iter().any(|l| l.land.as_deref() == Some("SS")),
        "South Sudan, missing from the official list"
    );
    assert_eq!(r.leerkrachten[3].groepen, ["NK-A", "NK-B", "NK-C"]);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn every_official_example_parses() {
    for rel in [
        "standards/edexml-1.03/EDEXML.Voorbeeld.1.03.xml",
        "standards/edexml-2.0/EDEXML.Voorbeeld.2.0.xml",
        "standards/edexml-2.0/EDEXML.Voorbeeld.2.0-Vla.xml",
        "standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml",
        "standards/edexml-2.1/EDEXML.Voorbeeld.2.1-Vla.xml",
    ] {
        let Some(bytes) = shared(rel) else { return };
        let r = parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(
            !r.leerlingen.is_empty() && !r.groepen.is_empty(),
            "{rel}: {r:?}"
        );
    }
    let Some(bytes) = shared("standards/edexml-2.1/EDEXML.Voorbeeld.2.1.xml") else {
        return;
    };
    let r = parse(&bytes).unwrap();
    let assati = r
        .leerlingen
        .iter()
        .find(|l| l.achternaam.as_deref() == Some("Assati"))
        .unwrap();
    assert_eq!(assati.voornamen.as_deref(), Some("Ismaël Hassan"));
    assert_eq!(r.leerlingen[0].samengestelde_groepen, ["sg1", "sg2"]);
    assert_eq!(r.samengestelde_groepen.len(), 3);
}

const SMALL: &str = r##"<?xml version="1.0" encoding="ENCODING"?>
<EDEX><school><schooljaar>2026-2027</schooljaar><brincode>12AB</brincode><dependancecode>00</dependancecode></school>
<groepen><groep key="G1"><naam>Groep 1</naam><jaargroep>C</jaargroep></groep></groepen>
<leerlingen>
  <leerling key=" 0042 "><achternaam>Çelik &amp; Sœur</achternaam><tussenvoegsel>van</tussenvoegsel><roepnaam>Ayşe</roepnaam>
    <bsn>123456782</bsn><postcodenl>1234AB</postcodenl><emailadres>kind@example.nl</emailadres>
    <geboortedatum>2016-01-02</geboortedatum><groep key="G1"/><land>xk</land><instroomdatum></instroomdatum></leerling>
  <leerling key="#0"><achternaam>Dummy</achternaam><groep key="G9"/></leerling>
</leerlingen></EDEX>"##;

#[test]
fn encodings_names_in_every_script_and_the_allow_list() {
    let utf8 = SMALL.replace("ENCODING", "UTF-8");
    let r = parse(utf8.as_bytes()).unwrap();
    let l = &r.leerlingen[0];
    assert_eq!(l.key, "0042", "keys trimmed, zeros kept");
    assert_eq!(l.achternaam.as_deref(), Some("Çelik & Sœur"));
    assert_eq!(
        l.voorvoegsel.as_deref(),
        Some("van"),
        "tussenvoegsel read as voorvoegsel"
    );
    assert_eq!(l.land.as_deref(), Some("XK"));
    assert_eq!(l.instroomdatum, None, "an empty element is absent");
    assert!(r.leerlingen[1].is_dummy_key());
    assert!(r.warnings.iter().any(|w| matches!(w,
        Warning::UnknownGroup { kind: "Leerling", key, groep, line }
            if key == "#0" && groep == "G9" && *line > 1)));
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("123456782")
            && !debug.contains("1234AB")
            && !debug.contains("kind@example.nl"),
        "BSN, postcode and e-mail are never kept"
    );

    // UTF-8 with BOM, UTF-16 (both byte orders) and ISO-8859-1 give the same roster.
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), utf8.as_bytes()].concat();
    assert_eq!(parse(&with_bom).unwrap(), r);
    let u16 = SMALL.replace("ENCODING", "UTF-16");
    let le: Vec<u8> = [0xFFu8, 0xFE]
        .into_iter()
        .chain(u16.encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    let be: Vec<u8> = [0xFEu8, 0xFF]
        .into_iter()
        .chain(u16.encode_utf16().flat_map(|u| u.to_be_bytes()))
        .collect();
    assert_eq!(parse(&le).unwrap(), r);
    assert_eq!(parse(&be).unwrap(), r);
    let latin = SMALL
        .replace("ENCODING", "ISO-8859-1")
        .replace("Ayşe", "Aysel")
        .replace("Sœur", "Soeur");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    let r2 = parse(&bytes).unwrap();
    assert_eq!(
        r2.leerlingen[0].achternaam.as_deref(),
        Some("Çelik & Soeur")
    );
    assert!(
        !r2.warnings.contains(&Warning::NotUtf8),
        "a declared encoding is no guess"
    );

    // Said to be UTF-8 but it is not: read as Windows-1252, with a warning to check the names.
    let declared_utf8 = latin.replace("ISO-8859-1", "UTF-8");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&declared_utf8);
    let r3 = parse(&bytes).unwrap();
    assert_eq!(
        r3.leerlingen[0].achternaam.as_deref(),
        Some("Çelik & Soeur")
    );
    assert!(r3.warnings.contains(&Warning::NotUtf8));
    assert!(!r.warnings.contains(&Warning::NotUtf8));
}

#[test]
fn hostile_and_wrong_files_are_refused_with_the_reason() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><EDEX>&lol2;</EDEX>"#;
    assert_eq!(parse(laughs.as_bytes()), Err(ParseError::Doctype));
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><EDEX>&e;</EDEX>"#;
    assert_eq!(parse(xxe.as_bytes()), Err(ParseError::Doctype));
    let undefined = "<EDEX><school><auteur>&e;</auteur></school></EDEX>";
    assert!(matches!(
        parse(undefined.as_bytes()),
        Err(ParseError::Malformed { .. })
    ));
    let deep = format!(
        "<EDEX>{}{}</EDEX>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let started = std::time::Instant::now();
    assert_eq!(parse(deep.as_bytes()), Err(ParseError::TooDeep(64)));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        parse(b"001000;Garcia;Fatima;22-08-2016;5\r\n"),
        Err(ParseError::Edex2000)
    );
    assert_eq!(
        parse(b"<html><body>hallo</body></html>"),
        Err(ParseError::NotEdexml("html".into()))
    );
    assert_eq!(parse(b"   "), Err(ParseError::Empty));
    assert!(matches!(
        parse(b"<EDEX><school></EDEX>"),
        Err(ParseError::Malformed { .. })
    ));
}

#[test]
fn the_uwlr_form_with_a_namespace_reads_the_same() {
    let uwlr = r#"<ll:leerlinggegevens xmlns:ll="http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens">
      <ll:groepen><ll:groep key="G1"><ll:naam>Groep 1</ll:naam></ll:groep></ll:groepen>
      <ll:leerlingen><ll:leerling key="7"><ll:achternaam>Haddad</ll:achternaam><ll:groep key="G1"/></ll:leerling></ll:leerlingen>
    </ll:leerlinggegevens>"#;
    let r = parse(uwlr.as_bytes()).unwrap();
    assert_eq!(r.leerlingen[0].achternaam.as_deref(), Some("Haddad"));
    assert_eq!(r.leerlingen[0].groep.as_deref(), Some("G1"));
    assert!(r.warnings.is_empty());
}

#[test]
fn duplicate_keys_keep_the_first_and_say_so() {
    let dup = r#"<EDEX><groepen><groep key="G"><naam>A</naam></groep><groep key="G"><naam>B</naam></groep></groepen>
      <leerlingen><leerling key="1"><achternaam>Een</achternaam></leerling><leerling key="1"><achternaam>Twee</achternaam></leerling></leerlingen></EDEX>"#;
    let r = parse(dup.as_bytes()).unwrap();
    assert_eq!(r.groepen.len(), 1);
    assert_eq!(r.leerlingen[0].achternaam.as_deref(), Some("Een"));
    // With the line of the record that was dropped.
    assert!(r.warnings.contains(&Warning::DuplicateKey {
        kind: "leerling",
        key: "1".into(),
        line: 2
    }));
    assert!(r.warnings.contains(&Warning::DuplicateKey {
        kind: "groep",
        key: "G".into(),
        line: 1
    }));
    assert!(r.warnings[0].to_string().starts_with("Regel "));
}

/// Inputs the fuzzer (`fuzz/`) found to crash the parser, kept in `fuzz/artifacts/edexml_parse/`:
/// each must now give an answer (a roster or a refusal), never a panic.
#[test]
fn inputs_that_once_crashed_the_parser_are_answered() {
    // A declaration whose encoding value starts with a multi-byte character instead of a quote.
    let minimized = b"<?xml\x65ncoding=\xef\xbb\xbf?>";
    let _ = parse(minimized);
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/artifacts/edexml_parse");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/artifacts/edexml_parse") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let _ = parse(&bytes);
        n += 1;
    }
    assert!(n > 0, "the crash inputs are in {}", dir.display());
}

/// `parse_reader` reads a file in chunks and gives what `parse` gives on the same bytes: from a
/// file, from a source not at its start, and when a file said to be UTF-8 is not (the one case
/// the source is rewound and read again).
#[test]
fn a_file_read_in_chunks_reads_the_same() {
    use startblok_edexml::parse_reader;
    use std::io::{Seek, SeekFrom, Write};
    let Some(bytes) = shared("fixtures/edexml/nieuwkomers-demo.xml") else {
        return;
    };
    let mut file = tempfile_in_target("chunks.xml");
    file.write_all(&bytes).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    let from_file = parse_reader(&mut file).unwrap();
    assert_eq!(from_file, parse(&bytes).unwrap());
    assert!(from_file.leerlingen.len() > 10);

    // A source already past a prefix: reading starts (and rewinds) from where it stands.
    let mut prefixed = b"PREFIX".to_vec();
    let latin = SMALL
        .replace("ENCODING", "UTF-8")
        .replace("Ayşe", "Aysel")
        .replace("Sœur", "Soeur");
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
    prefixed.extend_from_slice(&latin);
    let mut cursor = std::io::Cursor::new(prefixed);
    cursor.seek(SeekFrom::Start(6)).unwrap();
    let r = parse_reader(&mut cursor).unwrap();
    assert_eq!(r.leerlingen[0].achternaam.as_deref(), Some("Çelik & Soeur"));
    assert!(r.warnings.contains(&Warning::NotUtf8));
    assert_eq!(r, parse(&latin).unwrap());
}

/// A file in the build directory (no temp-dir crate needed for one file).
fn tempfile_in_target(name: &str) -> std::fs::File {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(name))
        .unwrap()
}

/// `toevoegingen` blocks are kept aside with whose they are, their type and code (never their
/// content), a warning says so, and fields inside them are not read as the record's own.
#[test]
fn toevoegingen_are_kept_aside_and_not_read() {
    let xml = r#"<EDEX>
<groepen><groep key="G1"><naam>Nieuwkomers</naam>
  <toevoegingen><blok xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="OpmerkingGegevensType"><code>OPM</code><naam>Niet deze naam</naam><opmerking>Gevoelige opmerking</opmerking></blok></toevoegingen>
</groep></groepen>
<leerlingen><leerling key="7"><achternaam>Haddad</achternaam><groep key="G1"/>
  <toevoegingen>
    <blok><code>X1</code><achternaam>Niet deze</achternaam><groep key="ANDERS"/></blok>
  </toevoegingen>
</leerling></leerlingen></EDEX>"#;
    let r = parse(xml.as_bytes()).unwrap();
    assert_eq!(r.groepen[0].naam.as_deref(), Some("Nieuwkomers"));
    assert_eq!(r.leerlingen[0].achternaam.as_deref(), Some("Haddad"));
    assert_eq!(r.leerlingen[0].groep.as_deref(), Some("G1"));
    assert_eq!(r.toevoegingen.len(), 2);
    assert_eq!(r.toevoegingen[0].bij, "groep G1");
    assert_eq!(
        r.toevoegingen[0].soort.as_deref(),
        Some("OpmerkingGegevensType")
    );
    assert_eq!(r.toevoegingen[0].code.as_deref(), Some("OPM"));
    assert_eq!(r.toevoegingen[0].line, 3);
    assert_eq!(r.toevoegingen[1].bij, "leerling 7");
    assert_eq!(r.toevoegingen[1].line, 7);
    let debug = format!("{r:?}");
    assert!(!debug.contains("Gevoelige") && !debug.contains("Niet deze"));
    assert!(r.warnings.contains(&Warning::Toevoegingen {
        count: 2,
        soorten: vec!["OpmerkingGegevensType".into()]
    }));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("OPM"), "toevoegingen are never stored");
}
