//! The EDEXML reader: encoding sniffing, then one streaming pass of XML events with a path of
//! local names. Memory is bounded by the roster: the file is read in chunks.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::{Groep, Leerkracht, Leerling, ParseError, Roster, Toevoeging, Vestiging, Warning};

/// Deeper nesting than this is refused (a real EDEXML file is about 5 levels deep).
pub const MAX_DEPTH: usize = 64;

/// How much of the start of a file is looked at for a byte-order mark and an XML declaration.
const HEAD: usize = 1024;

/// Parses an EDEXML file (or the leerlinggegevens part of a UWLR message) held in memory.
pub fn parse(bytes: &[u8]) -> Result<Roster, ParseError> {
    parse_reader(std::io::Cursor::new(bytes))
}

/// Parses an EDEXML file from anything that can be read and rewound (a file, a cursor), in
/// chunks: memory stays bounded by the roster, not by the file's text. The source is rewound
/// once, only when a file that says (or is taken to be) UTF-8 turns out not to be; it is then
/// read again as Windows-1252, with a warning.
pub fn parse_reader<R: Read + Seek>(mut source: R) -> Result<Roster, ParseError> {
    let origin = source.stream_position().map_err(io)?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut source)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    source.seek(SeekFrom::Start(origin)).map_err(io)?;
    let encoding = sniff(&head)?;
    let (mut roster, lines, guessed) = match read_as(&mut source, encoding) {
        Ok((roster, lines)) => (roster, lines, false),
        Err(Stop::NotUtf8) if encoding == encoding_rs::UTF_8 => {
            // Declared (or assumed) UTF-8 but it is not: real exports of this kind are
            // Windows-1252. Read so, and say so (names with accents may need a look).
            source.seek(SeekFrom::Start(origin)).map_err(io)?;
            match read_as(&mut source, encoding_rs::WINDOWS_1252) {
                Ok((roster, lines)) => (roster, lines, true),
                Err(stop) => return Err(stop.into_error(encoding_rs::WINDOWS_1252)),
            }
        }
        Err(stop) => return Err(stop.into_error(encoding)),
    };
    if guessed {
        roster.warnings.push(Warning::NotUtf8);
    }
    check_integrity(&mut roster, lines);
    if !roster.toevoegingen.is_empty() {
        let mut soorten: Vec<String> = roster
            .toevoegingen
            .iter()
            .filter_map(|t| t.soort.clone())
            .collect();
        soorten.sort();
        soorten.dedup();
        roster.warnings.push(Warning::Toevoegingen {
            count: roster.toevoegingen.len(),
            soorten,
        });
    }
    Ok(roster)
}

fn io(e: std::io::Error) -> ParseError {
    ParseError::Io(e.to_string())
}

/// Why a pass stopped: a refusal, or text that is not UTF-8 in a pass that required it.
enum Stop {
    Refuse(ParseError),
    NotUtf8,
}

impl From<ParseError> for Stop {
    fn from(e: ParseError) -> Self {
        Stop::Refuse(e)
    }
}

impl Stop {
    fn into_error(self, encoding: &'static encoding_rs::Encoding) -> ParseError {
        match self {
            Stop::Refuse(e) => e,
            Stop::NotUtf8 => ParseError::Encoding(encoding.name().to_string()),
        }
    }
}

/// The encoding to read the file in: a byte-order mark decides; else the XML declaration;
/// else UTF-8. ISO-8859-1 is read as Windows-1252 (what the WHATWG label table does too).
fn sniff(head: &[u8]) -> Result<&'static encoding_rs::Encoding, ParseError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(head) {
        return Ok(enc);
    }
    match declared_encoding(head) {
        None => Ok(encoding_rs::UTF_8),
        Some(name) => encoding_rs::Encoding::for_label(name.trim().as_bytes())
            .ok_or(ParseError::Encoding(name)),
    }
}

/// One pass over the source in the given encoding. UTF-8 is read as it is (and must be UTF-8);
/// any other encoding is transcoded to UTF-8 on the way in, chunk by chunk.
fn read_as<R: Read>(
    source: R,
    encoding: &'static encoding_rs::Encoding,
) -> Result<(Roster, Lines), Stop> {
    const CHUNK: usize = 64 * 1024;
    if encoding == encoding_rs::UTF_8 {
        read(BufReader::with_capacity(CHUNK, source))
    } else {
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_override(true)
            .build(source);
        read(BufReader::with_capacity(CHUNK, decoded))
    }
}

/// The `encoding="…"` of an XML declaration at the very start, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    // The valid UTF-8 start of the head (the cut at 200 bytes may split a character).
    let head = match std::str::from_utf8(head) {
        Ok(h) => h,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let decl = head.strip_prefix("<?xml")?;
    let end = decl.find("?>")?;
    let decl = &decl[..end];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    // Only a real XML quote starts the value (anything else, even a multi-byte character, is no
    // declaration: found by fuzzing).
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[quote.len_utf8()..];
    Some(rest[..rest.find(quote)?].to_string())
}

fn looks_like_edex2000(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    first.contains(';')
        || first.contains('\t')
        || first.len() > 40 && first.chars().all(|c| !c.is_control())
}

fn newlines(bytes: &[u8]) -> usize {
    // Most events are short (a tag, the white space between two tags): a plain loop is quicker
    // there than setting up the vectorised count.
    if bytes.len() < 64 {
        bytes.iter().filter(|&&b| b == b'\n').count()
    } else {
        memchr::memchr_iter(b'\n', bytes).count()
    }
}

/// Skips white space and byte-order marks before the first `<`; says what the file is when it
/// does not start with one. Returns the number of newlines skipped.
fn skip_to_markup(b: &mut impl BufRead) -> Result<usize, Stop> {
    let mut skipped_lines = 0;
    loop {
        let buf = b.fill_buf().map_err(io)?;
        if buf.is_empty() {
            return Err(ParseError::Empty.into());
        }
        let mut n = 0;
        while n < buf.len() {
            if matches!(buf[n], b' ' | b'\t' | b'\r' | b'\n') {
                n += 1;
            } else if buf[n..].starts_with(b"\xEF\xBB\xBF") {
                n += 3;
            } else {
                break;
            }
        }
        skipped_lines += newlines(&buf[..n]);
        let done = n < buf.len();
        if done && buf[n] != b'<' {
            let rest = &buf[n..];
            let first = String::from_utf8_lossy(&rest[..rest.len().min(4096)]);
            return Err(if looks_like_edex2000(&first) {
                ParseError::Edex2000
            } else {
                ParseError::NotXml
            }
            .into());
        }
        b.consume(n);
        if done {
            return Ok(skipped_lines);
        }
    }
}

/// Where the reader is: which record is open.
#[derive(Default)]
struct Open {
    /// The line on which the open record (pupil, teacher, group, vestiging) starts.
    line: usize,
    leerling: Option<Leerling>,
    leerkracht: Option<Leerkracht>,
    groep: Option<Groep>,
    samengesteld: Option<Groep>,
    vestiging: Option<Vestiging>,
    /// An open `toevoegingen/blok`: kept aside, only its type and code.
    toevoeging: Option<Toevoeging>,
}

fn malformed<R>(reader: &Reader<R>, e: impl std::fmt::Display) -> Stop {
    Stop::Refuse(ParseError::Malformed {
        position: reader.error_position(),
        reason: e.to_string(),
    })
}

/// Bytes that must be UTF-8 (the pass is over UTF-8 text): anything else stops the pass.
fn utf8(bytes: &[u8]) -> Result<&str, Stop> {
    std::str::from_utf8(bytes).map_err(|_| Stop::NotUtf8)
}

/// An attribute's value by local name, unescaped and trimmed; empty is absent.
fn attr(e: &BytesStart, name: &[u8]) -> Result<Option<String>, Stop> {
    for a in e.attributes().flatten() {
        if a.key.local_name().as_ref() == name {
            let raw = utf8(&a.value)?;
            let value = quick_xml::escape::unescape(raw).map_err(|e| {
                Stop::Refuse(ParseError::Malformed {
                    position: 0,
                    reason: e.to_string(),
                })
            })?;
            let value = xml_trim(&value);
            return Ok((!value.is_empty()).then(|| value.to_string()));
        }
    }
    Ok(None)
}

impl Open {
    /// Whose `toevoegingen` block opens now: the innermost open record, else the file.
    fn owner(&self) -> String {
        if let Some(l) = &self.leerling {
            format!("leerling {}", l.key)
        } else if let Some(t) = &self.leerkracht {
            format!("leerkracht {}", t.key)
        } else if let Some(g) = self.groep.as_ref().or(self.samengesteld.as_ref()) {
            format!("groep {}", g.key)
        } else if let Some(v) = &self.vestiging {
            format!("vestiging {}", v.key)
        } else {
            "bestand".to_string()
        }
    }
}

/// The line of each record as it was added to the roster (same order), for warnings.
#[derive(Default)]
struct Lines {
    leerlingen: Vec<usize>,
    leerkrachten: Vec<usize>,
    groepen: Vec<usize>,
    samengesteld: Vec<usize>,
}

fn read(mut source: impl BufRead) -> Result<(Roster, Lines), Stop> {
    // The line the next event starts on: newlines are counted in every event's raw bytes.
    let mut line = 1 + skip_to_markup(&mut source)?;
    let mut reader = Reader::from_reader(source);
    reader.config_mut().check_end_names = true;
    let mut roster = Roster::default();
    // The open elements, as tags: no allocation per element.
    let mut path: Vec<Tag> = Vec::with_capacity(MAX_DEPTH);
    let mut open = Open::default();
    // The text of the open element as raw bytes: checked as UTF-8 only when a field is kept
    // (most text is white space between elements, or a field that is passed over).
    let mut text: Vec<u8> = Vec::new();
    let mut root_seen = false;
    let mut lines = Lines::default();
    let mut buf = Vec::with_capacity(4096);

    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| malformed(&reader, e))?;
        let starts_on = line;
        match event {
            Event::DocType(_) => return Err(ParseError::Doctype.into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                line += newlines(e);
                let is_empty = matches!(event, Event::Empty(_));
                let local = e.local_name().into_inner();
                if !root_seen {
                    root_seen = true;
                    // EDEXML's root is EDEX; in UWLR the same structures sit in leerlinggegevens
                    // (inside an envelope, so any root is allowed when such an element follows).
                    let root = String::from_utf8_lossy(local);
                    if root != "EDEX" && !is_uwlr_root(&root) {
                        return Err(ParseError::NotEdexml(root.into_owned()).into());
                    }
                }
                let name = tag(local);
                start(&mut open, &path, name, e, starts_on)?;
                text.clear();
                if is_empty {
                    end(&mut roster, &mut open, &mut lines, &path, name, b"")?;
                } else {
                    if path.len() >= MAX_DEPTH {
                        return Err(ParseError::TooDeep(MAX_DEPTH).into());
                    }
                    path.push(name);
                }
            }
            // Text holds no references here: quick-xml gives each `&…;` as a GeneralRef.
            Event::Text(t) => {
                line += newlines(&t);
                text.extend_from_slice(&t);
            }
            Event::CData(t) => {
                line += newlines(&t);
                text.extend_from_slice(&t);
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref().map_err(|e| malformed(&reader, e))? {
                    Some(c) => text.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    None => {
                        let c = match utf8(&r)? {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "apos" => '\'',
                            "quot" => '"',
                            // No DTD is allowed, so no other entity can be defined.
                            other => {
                                let reason = format!("onbekende entiteit &{other};");
                                return Err(malformed(&reader, reason));
                            }
                        };
                        text.push(c as u8);
                    }
                }
            }
            Event::End(e) => {
                line += newlines(&e);
                let name = path.pop().unwrap_or(Tag::Other);
                end(
                    &mut roster,
                    &mut open,
                    &mut lines,
                    &path,
                    name,
                    xml_trim_bytes(&text),
                )?;
                text.clear();
            }
            Event::Eof => break,
            Event::Comment(c) => line += newlines(&c),
            Event::PI(p) => line += newlines(&p),
            Event::Decl(d) => line += newlines(&d),
        }
    }
    if !root_seen {
        return Err(ParseError::NotXml.into());
    }
    Ok((roster, lines))
}

/// Trims XML white space only (space, tab, CR, LF): a name that starts with another kind of
/// space character keeps it, exactly as written.
fn xml_trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

fn is_uwlr_root(name: &str) -> bool {
    matches!(
        name,
        "leerlinggegevens" | "Envelope" | "leerresultaten_verzoek" | "leerresultaten_antwoord"
    )
}

/// The element names the reader acts on, decided once per start tag (so matching a field at its
/// end tag compares small integers, not strings). Everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Leerlingen,
    Leerling,
    Leerkrachten,
    Leerkracht,
    Groepen,
    Groep,
    SamengesteldeGroepen,
    SamengesteldeGroep,
    Vestigingen,
    Vestiging,
    Toevoegingen,
    Blok,
    Code,
    School,
    Schooljaar,
    Brincode,
    Dependancecode,
    Schoolkey,
    Xsdversie,
    Auteur,
    Achternaam,
    Voorvoegsel,
    Voornamen,
    Roepnaam,
    Geboortedatum,
    Geslacht,
    Jaargroep,
    StartOndwJgr3,
    Instroomdatum,
    Uitstroomdatum,
    Land,
    Voorletters,
    Emailadres,
    Naam,
    Other,
}

fn tag(local: &[u8]) -> Tag {
    match local {
        b"leerlingen" => Tag::Leerlingen,
        b"leerling" => Tag::Leerling,
        b"leerkrachten" => Tag::Leerkrachten,
        b"leerkracht" => Tag::Leerkracht,
        b"groepen" => Tag::Groepen,
        b"groep" => Tag::Groep,
        b"samengestelde_groepen" => Tag::SamengesteldeGroepen,
        b"samengestelde_groep" => Tag::SamengesteldeGroep,
        b"vestigingen" => Tag::Vestigingen,
        b"vestiging" => Tag::Vestiging,
        b"toevoegingen" => Tag::Toevoegingen,
        b"blok" => Tag::Blok,
        b"code" => Tag::Code,
        b"school" => Tag::School,
        b"schooljaar" => Tag::Schooljaar,
        b"brincode" => Tag::Brincode,
        b"dependancecode" => Tag::Dependancecode,
        b"schoolkey" => Tag::Schoolkey,
        b"xsdversie" => Tag::Xsdversie,
        b"auteur" => Tag::Auteur,
        b"achternaam" => Tag::Achternaam,
        b"voornamen" => Tag::Voornamen,
        b"roepnaam" => Tag::Roepnaam,
        b"geboortedatum" => Tag::Geboortedatum,
        b"geslacht" => Tag::Geslacht,
        b"jaargroep" => Tag::Jaargroep,
        b"start_ondw_jgr3" => Tag::StartOndwJgr3,
        b"instroomdatum" => Tag::Instroomdatum,
        b"uitstroomdatum" => Tag::Uitstroomdatum,
        b"land" => Tag::Land,
        b"voorletters" => Tag::Voorletters,
        b"emailadres" => Tag::Emailadres,
        b"naam" => Tag::Naam,
        b"voorvoegsel" | b"tussenvoegsel" => Tag::Voorvoegsel,
        _ => Tag::Other,
    }
}

/// The element under which records live, ignoring any envelope above it.
fn parent(path: &[Tag]) -> Option<Tag> {
    path.last().copied()
}

fn start(
    open: &mut Open,
    path: &[Tag],
    name: Tag,
    e: &BytesStart,
    line: usize,
) -> Result<(), Stop> {
    // Only elements that carry a key are looked at (most elements are plain fields), and the
    // blocks of `toevoegingen`.
    let key = match name {
        Tag::Leerling | Tag::Leerkracht | Tag::Groep | Tag::SamengesteldeGroep | Tag::Vestiging => {
            attr(e, b"key")?
        }
        Tag::Blok if parent(path) == Some(Tag::Toevoegingen) => {
            open.toevoeging = Some(Toevoeging {
                bij: open.owner(),
                soort: attr(e, b"type")?,
                code: None,
                line,
            });
            return Ok(());
        }
        _ => return Ok(()),
    };
    match (parent(path), name) {
        (Some(Tag::Leerlingen), Tag::Leerling) => {
            open.line = line;
            open.leerling = Some(Leerling {
                key: key.unwrap_or_default(),
                eckid: attr(e, b"eckid")?,
                ..Leerling::default()
            })
        }
        (Some(Tag::Leerkrachten), Tag::Leerkracht) => {
            open.line = line;
            open.leerkracht = Some(Leerkracht {
                key: key.unwrap_or_default(),
                ..Leerkracht::default()
            })
        }
        (Some(Tag::Groepen), Tag::Groep) if open.leerkracht.is_none() => {
            open.line = line;
            open.groep = Some(Groep {
                key: key.unwrap_or_default(),
                ..Groep::default()
            })
        }
        (Some(Tag::Groepen), Tag::SamengesteldeGroep) if open.leerkracht.is_none() => {
            open.line = line;
            open.samengesteld = Some(Groep {
                key: key.unwrap_or_default(),
                ..Groep::default()
            })
        }
        (Some(Tag::Vestigingen), Tag::Vestiging) => {
            open.vestiging = Some(Vestiging {
                key: key.unwrap_or_default(),
                ..Vestiging::default()
            })
        }
        // References by key, inside a pupil or a teacher.
        (Some(Tag::Leerling), Tag::Groep) => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.groep = Some(k);
            }
        }
        (Some(Tag::SamengesteldeGroepen), Tag::SamengesteldeGroep) => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.samengestelde_groepen.push(k);
            }
        }
        (Some(Tag::Leerling), Tag::Vestiging) => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.vestiging = Some(k);
            }
        }
        (Some(Tag::Groepen), Tag::Groep | Tag::SamengesteldeGroep) => {
            if let (Some(t), Some(k)) = (open.leerkracht.as_mut(), key) {
                t.groepen.push(k);
            }
        }
        _ => {}
    }
    Ok(())
}

/// A kept field's value: checked as UTF-8 here; empty is absent.
fn some(value: &[u8]) -> Result<Option<String>, Stop> {
    Ok(if value.is_empty() {
        None
    } else {
        Some(utf8(value)?.to_string())
    })
}

/// [`xml_trim`] on raw bytes.
fn xml_trim_bytes(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

fn end(
    roster: &mut Roster,
    open: &mut Open,
    lines: &mut Lines,
    path: &[Tag],
    name: Tag,
    value: &[u8],
) -> Result<(), Stop> {
    let line = open.line;
    match (parent(path), name) {
        (Some(Tag::Leerlingen), Tag::Leerling) => {
            if let Some(l) = open.leerling.take() {
                if l.key.is_empty() {
                    roster.warnings.push(Warning::MissingKey {
                        kind: "leerling",
                        line,
                    });
                } else {
                    roster.leerlingen.push(l);
                    lines.leerlingen.push(line);
                }
            }
        }
        (Some(Tag::Leerkrachten), Tag::Leerkracht) => {
            if let Some(t) = open.leerkracht.take() {
                if t.key.is_empty() {
                    roster.warnings.push(Warning::MissingKey {
                        kind: "leerkracht",
                        line,
                    });
                } else {
                    roster.leerkrachten.push(t);
                    lines.leerkrachten.push(line);
                }
            }
        }
        (Some(Tag::Groepen), Tag::Groep) if open.groep.is_some() => {
            let g = open.groep.take().expect("checked");
            if g.key.is_empty() {
                roster.warnings.push(Warning::MissingKey {
                    kind: "groep",
                    line,
                });
            } else {
                roster.groepen.push(g);
                lines.groepen.push(line);
            }
        }
        (Some(Tag::Groepen), Tag::SamengesteldeGroep) if open.samengesteld.is_some() => {
            let g = open.samengesteld.take().expect("checked");
            if !g.key.is_empty() {
                roster.samengestelde_groepen.push(g);
                lines.samengesteld.push(line);
            }
        }
        (Some(Tag::Vestigingen), Tag::Vestiging) => {
            if let Some(v) = open.vestiging.take() {
                roster.vestigingen.push(v);
            }
        }
        (Some(Tag::Toevoegingen), Tag::Blok) => {
            if let Some(t) = open.toevoeging.take() {
                roster.toevoegingen.push(t);
            }
        }
        (Some(Tag::Blok), Tag::Code) => {
            if let Some(t) = open.toevoeging.as_mut() {
                t.code = some(value)?;
            }
        }
        (Some(Tag::School), field) => {
            let s = &mut roster.school;
            let slot = match field {
                Tag::Schooljaar => &mut s.schooljaar,
                Tag::Brincode => &mut s.brincode,
                Tag::Dependancecode => &mut s.dependancecode,
                Tag::Schoolkey => &mut s.schoolkey,
                Tag::Xsdversie => &mut s.xsdversie,
                Tag::Auteur => &mut s.auteur,
                _ => return Ok(()),
            };
            *slot = some(value)?;
        }
        (Some(Tag::Leerling), field) => {
            if let Some(l) = open.leerling.as_mut() {
                // The allow-list: only these fields are read. BSN, onderwijsnummer, gewicht,
                // postcode, etniciteit and e-mail addresses are passed over and never kept.
                let slot = match field {
                    Tag::Achternaam => &mut l.achternaam,
                    Tag::Voorvoegsel => &mut l.voorvoegsel,
                    Tag::Voornamen => &mut l.voornamen,
                    Tag::Roepnaam => &mut l.roepnaam,
                    Tag::Geboortedatum => &mut l.geboortedatum,
                    Tag::Geslacht => &mut l.geslacht,
                    Tag::Jaargroep => &mut l.jaargroep,
                    Tag::StartOndwJgr3 => &mut l.start_groep3,
                    Tag::Instroomdatum => &mut l.instroomdatum,
                    Tag::Uitstroomdatum => &mut l.uitstroomdatum,
                    Tag::Land => {
                        l.land = some(value)?.map(|c| c.to_ascii_uppercase());
                        return Ok(());
                    }
                    _ => return Ok(()),
                };
                *slot = some(value)?;
            }
        }
        (Some(Tag::Leerkracht), field) => {
            if let Some(t) = open.leerkracht.as_mut() {
                let slot = match field {
                    Tag::Achternaam => &mut t.achternaam,
                    Tag::Voorvoegsel => &mut t.voorvoegsel,
                    Tag::Roepnaam => &mut t.roepnaam,
                    Tag::Voorletters => &mut t.voorletters,
                    Tag::Emailadres => &mut t.emailadres,
                    _ => return Ok(()),
                };
                *slot = some(value)?;
            }
        }
        (Some(Tag::Groep), field) if open.groep.is_some() => {
            let g = open.groep.as_mut().expect("checked");
            match field {
                Tag::Naam => g.naam = some(value)?,
                Tag::Jaargroep => g.jaargroep = some(value)?,
                _ => {}
            }
        }
        (Some(Tag::SamengesteldeGroep), Tag::Naam) if open.samengesteld.is_some() => {
            open.samengesteld.as_mut().expect("checked").naam = some(value)?;
        }
        (Some(Tag::Vestiging), Tag::Naam) => {
            if let Some(v) = open.vestiging.as_mut() {
                v.naam = some(value)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Integrity is ours to check (the UWLR schema's own key checks do not work): duplicate keys and
/// references to groups that are not in the file become warnings with the line of the record;
/// duplicates keep the first.
fn check_integrity(roster: &mut Roster, mut lines: Lines) {
    use std::collections::HashSet;
    let mut warnings = Vec::new();
    fn dedupe<T>(
        items: &mut Vec<T>,
        lines: &mut Vec<usize>,
        key: impl Fn(&T) -> &str,
        kind: &'static str,
        warnings: &mut Vec<Warning>,
    ) {
        // Decide on borrowed keys first (no copy per record), then drop the duplicates.
        let mut keep = Vec::with_capacity(items.len());
        {
            let mut seen: HashSet<&str> = HashSet::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let k = key(item);
                let first = seen.insert(k);
                if !first {
                    warnings.push(Warning::DuplicateKey {
                        kind,
                        key: k.to_string(),
                        line: lines.get(i).copied().unwrap_or(0),
                    });
                }
                keep.push(first);
            }
        }
        if keep.iter().all(|k| *k) {
            return;
        }
        let mut flags = keep.iter();
        items.retain(|_| *flags.next().unwrap_or(&true));
        let mut flags = keep.iter();
        let kept_lines: Vec<usize> = std::mem::take(lines)
            .into_iter()
            .filter(|_| *flags.next().unwrap_or(&true))
            .collect();
        *lines = kept_lines;
    }
    dedupe(
        &mut roster.groepen,
        &mut lines.groepen,
        |g| &g.key,
        "groep",
        &mut warnings,
    );
    dedupe(
        &mut roster.samengestelde_groepen,
        &mut lines.samengesteld,
        |g| &g.key,
        "samengestelde groep",
        &mut warnings,
    );
    dedupe(
        &mut roster.leerlingen,
        &mut lines.leerlingen,
        |l| &l.key,
        "leerling",
        &mut warnings,
    );
    dedupe(
        &mut roster.leerkrachten,
        &mut lines.leerkrachten,
        |t| &t.key,
        "leerkracht",
        &mut warnings,
    );
    let groups: HashSet<&str> = roster
        .groepen
        .iter()
        .chain(roster.samengestelde_groepen.iter())
        .map(|g| g.key.as_str())
        .collect();
    for (i, l) in roster.leerlingen.iter().enumerate() {
        for g in l.groep.iter().chain(l.samengestelde_groepen.iter()) {
            if !groups.contains(g.as_str()) {
                warnings.push(Warning::UnknownGroup {
                    kind: "Leerling",
                    key: l.key.clone(),
                    groep: g.clone(),
                    line: lines.leerlingen.get(i).copied().unwrap_or(0),
                });
            }
        }
    }
    for (i, t) in roster.leerkrachten.iter().enumerate() {
        for g in &t.groepen {
            if !groups.contains(g.as_str()) {
                warnings.push(Warning::UnknownGroup {
                    kind: "Leerkracht",
                    key: t.key.clone(),
                    groep: g.clone(),
                    line: lines.leerkrachten.get(i).copied().unwrap_or(0),
                });
            }
        }
    }
    roster.warnings.extend(warnings);
}
