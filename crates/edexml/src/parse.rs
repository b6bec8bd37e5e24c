//! The EDEXML reader: encoding sniffing, then one pass of XML events with a path of local names.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::{Groep, Leerkracht, Leerling, ParseError, Roster, Vestiging, Warning};

/// Deeper nesting than this is refused (a real EDEXML file is about 5 levels deep).
pub const MAX_DEPTH: usize = 64;

/// Parses an EDEXML file (or the leerlinggegevens part of a UWLR message).
pub fn parse(bytes: &[u8]) -> Result<Roster, ParseError> {
    let (text, guessed) = decode(bytes)?;
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if !trimmed.starts_with('<') {
        return Err(if looks_like_edex2000(trimmed) {
            ParseError::Edex2000
        } else {
            ParseError::NotXml
        });
    }
    let (mut roster, lines) = read(trimmed.as_bytes())?;
    if guessed {
        roster.warnings.push(Warning::NotUtf8);
    }
    check_integrity(&mut roster, lines);
    Ok(roster)
}

/// UTF-8 (with or without BOM) is borrowed as it is; UTF-16 with a BOM and whatever the XML
/// declaration names are decoded first. The flag says the encoding was guessed: the file said
/// (or was assumed to be) UTF-8 but is not, and was read as Windows-1252.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, bool), ParseError> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        if enc == encoding_rs::UTF_8 {
            return std::str::from_utf8(&bytes[bom..])
                .map(|s| (Cow::Borrowed(s), false))
                .map_err(|_| ParseError::NotXml);
        }
        let (text, bad) = enc.decode_without_bom_handling(&bytes[bom..]);
        return if bad {
            Err(ParseError::Encoding(enc.name().to_string()))
        } else {
            Ok((text, false))
        };
    }
    let label = declared_encoding(bytes);
    match label.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8") | Some("utf8") => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), false)),
            // Declared (or assumed) UTF-8 but it is not: real exports of this kind are
            // Windows-1252. Read so, and say so (names with accents may need a look).
            Err(_) => Ok((
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0,
                true,
            )),
        },
        Some(name) => {
            // ISO-8859-1 is read as Windows-1252 (what the WHATWG label table does too).
            let enc = encoding_rs::Encoding::for_label(name.as_bytes())
                .ok_or_else(|| ParseError::Encoding(name.to_string()))?;
            let (text, bad) = enc.decode_without_bom_handling(bytes);
            if bad {
                Err(ParseError::Encoding(name.to_string()))
            } else {
                Ok((text, false))
            }
        }
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
}

fn malformed(reader: &Reader<&[u8]>, e: impl std::fmt::Display) -> ParseError {
    ParseError::Malformed {
        position: reader.error_position(),
        reason: e.to_string(),
    }
}

fn attr(e: &BytesStart, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok())
        .map(|v| xml_trim(&v).to_string())
        .filter(|v| !v.is_empty())
}

/// The line of each record as it was added to the roster (same order), for warnings.
#[derive(Default)]
struct Lines {
    leerlingen: Vec<usize>,
    leerkrachten: Vec<usize>,
    groepen: Vec<usize>,
    samengesteld: Vec<usize>,
}

fn read(bytes: &[u8]) -> Result<(Roster, Lines), ParseError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut roster = Roster::default();
    // The open elements' local names. Slots are reused (a slot above `depth` keeps its buffer),
    // so a large file costs no allocation per element.
    let mut path: Vec<String> = Vec::new();
    let mut depth = 0;
    let mut empty_name = String::new();
    let mut open = Open::default();
    let mut text = String::new();
    let mut root_seen = false;
    let mut lines = Lines::default();
    // Line numbers are counted lazily, only up to where a record starts.
    let (mut line, mut counted) = (1usize, 0usize);

    loop {
        let at = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| malformed(&reader, e))?;
        match event {
            Event::DocType(_) => return Err(ParseError::Doctype),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = String::from_utf8_lossy(e.local_name().into_inner());
                if !root_seen {
                    root_seen = true;
                    // EDEXML's root is EDEX; in UWLR the same structures sit in leerlinggegevens
                    // (inside an envelope, so any root is allowed when such an element follows).
                    if local != "EDEX" && !is_uwlr_root(&local) {
                        return Err(ParseError::NotEdexml(local.into_owned()));
                    }
                }
                if is_record(&local) {
                    let upto = at.min(bytes.len());
                    line += bytes[counted.min(upto)..upto]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    counted = upto;
                }
                start(&mut open, &path[..depth], &local, e, line);
                text.clear();
                if is_empty {
                    empty_name.clear();
                    empty_name.push_str(&local);
                    end(
                        &mut roster,
                        &mut open,
                        &mut lines,
                        &path[..depth],
                        &empty_name,
                        "",
                    );
                } else {
                    if depth >= MAX_DEPTH {
                        return Err(ParseError::TooDeep(MAX_DEPTH));
                    }
                    if depth == path.len() {
                        path.push(String::new());
                    }
                    path[depth].clear();
                    path[depth].push_str(&local);
                    depth += 1;
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| malformed(&reader, e))?;
                let s = quick_xml::escape::unescape(&s).map_err(|e| malformed(&reader, e))?;
                text.push_str(&s);
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| malformed(&reader, e))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref().map_err(|e| malformed(&reader, e))? {
                    Some(c) => text.push(c),
                    None => {
                        let name = r.decode().map_err(|e| malformed(&reader, e))?;
                        let c = match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "apos" => '\'',
                            "quot" => '"',
                            // No DTD is allowed, so no other entity can be defined.
                            other => {
                                return Err(malformed(
                                    &reader,
                                    format!("onbekende entiteit &{other};"),
                                ));
                            }
                        };
                        text.push(c);
                    }
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                let (outer, here) = path.split_at(depth);
                let name = here.first().map(String::as_str).unwrap_or("");
                end(
                    &mut roster,
                    &mut open,
                    &mut lines,
                    outer,
                    name,
                    xml_trim(&text),
                );
                text.clear();
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !root_seen {
        return Err(ParseError::NotXml);
    }
    Ok((roster, lines))
}

/// Elements that start a record (or a reference to one): only for these is the line counted.
fn is_record(name: &str) -> bool {
    matches!(
        name,
        "leerling" | "leerkracht" | "groep" | "samengestelde_groep" | "vestiging"
    )
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

/// The element under which records live, ignoring any envelope above it.
fn parent(path: &[String]) -> Option<&str> {
    path.last().map(String::as_str)
}

fn start(open: &mut Open, path: &[String], name: &str, e: &BytesStart, line: usize) {
    // Only elements that carry a key are looked at (most elements are plain fields).
    let key = match name {
        "leerling" | "leerkracht" | "groep" | "samengestelde_groep" | "vestiging" => {
            attr(e, b"key")
        }
        _ => return,
    };
    match (parent(path), name) {
        (Some("leerlingen"), "leerling") => {
            open.line = line;
            open.leerling = Some(Leerling {
                key: key.unwrap_or_default(),
                eckid: attr(e, b"eckid"),
                ..Leerling::default()
            })
        }
        (Some("leerkrachten"), "leerkracht") => {
            open.line = line;
            open.leerkracht = Some(Leerkracht {
                key: key.unwrap_or_default(),
                ..Leerkracht::default()
            })
        }
        (Some("groepen"), "groep") if open.leerkracht.is_none() => {
            open.line = line;
            open.groep = Some(Groep {
                key: key.unwrap_or_default(),
                ..Groep::default()
            })
        }
        (Some("groepen"), "samengestelde_groep") if open.leerkracht.is_none() => {
            open.line = line;
            open.samengesteld = Some(Groep {
                key: key.unwrap_or_default(),
                ..Groep::default()
            })
        }
        (Some("vestigingen"), "vestiging") => {
            open.vestiging = Some(Vestiging {
                key: key.unwrap_or_default(),
                ..Vestiging::default()
            })
        }
        // References by key, inside a pupil or a teacher.
        (Some("leerling"), "groep") => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.groep = Some(k);
            }
        }
        (Some("samengestelde_groepen"), "samengestelde_groep") => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.samengestelde_groepen.push(k);
            }
        }
        (Some("leerling"), "vestiging") => {
            if let (Some(l), Some(k)) = (open.leerling.as_mut(), key) {
                l.vestiging = Some(k);
            }
        }
        (Some("groepen"), "groep" | "samengestelde_groep") => {
            if let (Some(t), Some(k)) = (open.leerkracht.as_mut(), key) {
                t.groepen.push(k);
            }
        }
        _ => {}
    }
}

fn some(value: &str) -> Option<String> {
    if value.is_empty() {
        None
    } else {
        Some(value.to_string())
    }
}

fn end(
    roster: &mut Roster,
    open: &mut Open,
    lines: &mut Lines,
    path: &[String],
    name: &str,
    value: &str,
) {
    let line = open.line;
    match (parent(path), name) {
        (Some("leerlingen"), "leerling") => {
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
        (Some("leerkrachten"), "leerkracht") => {
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
        (Some("groepen"), "groep") if open.groep.is_some() => {
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
        (Some("groepen"), "samengestelde_groep") if open.samengesteld.is_some() => {
            let g = open.samengesteld.take().expect("checked");
            if !g.key.is_empty() {
                roster.samengestelde_groepen.push(g);
                lines.samengesteld.push(line);
            }
        }
        (Some("vestigingen"), "vestiging") => {
            if let Some(v) = open.vestiging.take() {
                roster.vestigingen.push(v);
            }
        }
        (Some("school"), field) => {
            let s = &mut roster.school;
            let v = some(value);
            match field {
                "schooljaar" => s.schooljaar = v,
                "brincode" => s.brincode = v,
                "dependancecode" => s.dependancecode = v,
                "schoolkey" => s.schoolkey = v,
                "xsdversie" => s.xsdversie = v,
                "auteur" => s.auteur = v,
                _ => {}
            }
        }
        (Some("leerling"), field) => {
            if let Some(l) = open.leerling.as_mut() {
                // The allow-list: only these fields are read. BSN, onderwijsnummer, gewicht,
                // postcode, etniciteit and e-mail addresses are passed over and never kept.
                let v = some(value);
                match field {
                    "achternaam" => l.achternaam = v,
                    "voorvoegsel" | "tussenvoegsel" => l.voorvoegsel = v,
                    "voornamen" => l.voornamen = v,
                    "roepnaam" => l.roepnaam = v,
                    "geboortedatum" => l.geboortedatum = v,
                    "geslacht" => l.geslacht = v,
                    "jaargroep" => l.jaargroep = v,
                    "start_ondw_jgr3" => l.start_groep3 = v,
                    "instroomdatum" => l.instroomdatum = v,
                    "uitstroomdatum" => l.uitstroomdatum = v,
                    "land" => l.land = v.map(|c| c.to_ascii_uppercase()),
                    _ => {}
                }
            }
        }
        (Some("leerkracht"), field) => {
            if let Some(t) = open.leerkracht.as_mut() {
                let v = some(value);
                match field {
                    "achternaam" => t.achternaam = v,
                    "voorvoegsel" | "tussenvoegsel" => t.voorvoegsel = v,
                    "roepnaam" => t.roepnaam = v,
                    "voorletters" => t.voorletters = v,
                    "emailadres" => t.emailadres = v,
                    _ => {}
                }
            }
        }
        (Some("groep"), field) if open.groep.is_some() => {
            let g = open.groep.as_mut().expect("checked");
            match field {
                "naam" => g.naam = some(value),
                "jaargroep" => g.jaargroep = some(value),
                _ => {}
            }
        }
        (Some("samengestelde_groep"), "naam") if open.samengesteld.is_some() => {
            open.samengesteld.as_mut().expect("checked").naam = some(value);
        }
        (Some("vestiging"), "naam") => {
            if let Some(v) = open.vestiging.as_mut() {
                v.naam = some(value);
            }
        }
        _ => {}
    }
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
