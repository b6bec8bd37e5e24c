//! UWLR 2.2 leerresultaten (`../shared/design/uwlr-intake.md`): a `BrengLeerresultaten` SOAP 1.1
//! request in, typed data or a precise fault out; the `leerresultaten_bevestiging` and SOAP faults
//! written. No database, no HTTP.
//!
//! The reader is one pass of quick-xml events with a path of local names. Every element is
//! matched on its namespace too (any prefix and default namespaces work): SOAP for the envelope,
//! the autorisatie namespace in the header, the leerresultaten and OSO namespaces in the body. An
//! element in any other namespace is a vendor extension and is passed over with everything in
//! it, so it can never stand in for a real field. It follows the contract's tolerance: element
//! order is free, keys are trimmed and otherwise opaque (leading zeros kept), a score is kept as
//! sent, unknown elements are passed over, a missing `xsdversie` counts as 2.2. A DOCTYPE or
//! entity declaration, duplicate attributes, content after the envelope and values longer than
//! their limit (`max_len`) are refused.

pub mod client;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const NS_AUTORISATIE: &str = "http://www.edustandaard.nl/leerresultaten/2/autorisatie";
pub const NS_LEERRESULTATEN: &str = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten";
/// The OSO gegevensset's namespaces (`…/oso_gegevensset/1.2/dossier` in UWLR 2.2); any version
/// is read, for senders on another OSO release.
pub const NS_OSO_PREFIX: &str = "http://www.edustandaard.nl/oso_gegevensset/";

/// The longest value accepted for an element or attribute, in characters. The parts of a result's
/// identity are short codes (and, together, must fit a database index); names and scores are
/// short text; `anderresultaat` is kept raw and may be longer.
pub fn max_len(local: &str) -> usize {
    match local {
        "leerlingid" | "toetscode" | "versie" | "toetsonderdeelcode" | "afnamedatum" | "key"
        | "brincode" | "dependancecode" | "schoolkey" | "xsdversie" | "schooljaar" => 100,
        "eckid" | "autorisatiesleutel" | "klantcode" | "klantnaam" => 300,
        "anderresultaat" => 100_000,
        _ => 2_000,
    }
}

/// Deeper nesting than this is refused (a real message is about 10 levels deep).
pub const MAX_DEPTH: usize = 64;

/// The `xsdversie` values that are accepted (a missing one counts as 2.2).
pub const XSD_VERSIES: [&str; 3] = ["2.1", "2.2", "2.3"];

/// A parsed request: the header (if any) and the body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub autorisatie: Option<Autorisatie>,
    pub school: School,
    pub toetsafnames: Vec<Toetsafname>,
    pub toetsen: Vec<Toets>,
}

/// The `aut:autorisatie` SOAP header, as sent (trimmed; empty elements are empty strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Autorisatie {
    pub autorisatiesleutel: String,
    pub klantcode: String,
    pub klantnaam: String,
}

impl Autorisatie {
    /// All three elements are there and not empty (the contract's first check).
    pub fn is_complete(&self) -> bool {
        !self.autorisatiesleutel.is_empty()
            && !self.klantcode.is_empty()
            && !self.klantnaam.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct School {
    pub schooljaar: String,
    pub brincode: Option<String>,
    pub dependancecode: Option<String>,
    pub schoolkey: Option<String>,
    /// A date or a dateTime, as sent; may be missing.
    pub aanmaakdatum: Option<String>,
    pub auteur: Option<String>,
    /// As sent; `None` counts as 2.2.
    pub xsdversie: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Toetsafname {
    pub leerlingid: String,
    pub eckid: Option<String>,
    pub resultaten: Vec<Resultaat>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resultaat {
    /// `resultaat/@key`, unique within the message.
    pub key: String,
    /// `YYYY-MM-DD`, checked.
    pub afnamedatum: String,
    pub toetscode: String,
    pub versie: Option<String>,
    pub toetsonderdeelcode: Option<String>,
    /// `score` as sent (may be `6.0` or `X`).
    pub score: Option<String>,
    /// The OSO `toetsscore` fields as sent, by local name (e.g. `vaardigheidsscore`).
    pub toetsscore: Vec<(String, String)>,
    pub referentiescores: Vec<Referentiescore>,
    /// The text of `anderresultaat`, kept raw.
    pub anderresultaat: Option<String>,
    pub infourl: Option<String>,
}

impl Resultaat {
    /// A toetsscore field by local name.
    pub fn toetsscore(&self, name: &str) -> Option<&str> {
        self.toetsscore
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Referentiescore {
    pub code: String,
    pub vergelijkingsgroep: Option<String>,
    pub waarde: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toets {
    pub toetscode: String,
    pub versie: Option<String>,
    pub toetsnaam: Option<String>,
    pub vakgebied: Option<String>,
    /// (code, naam) in the order of their volgnummer.
    pub onderdelen: Vec<(String, Option<String>)>,
}

/// Why a request is refused: the contract's client fault codes that the message itself decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("{0}")]
    OngeldigBericht(String),
    #[error(
        "xsdversie '{0}' wordt niet ondersteund; stuur versie 2.1, 2.2 of 2.3 (of laat xsdversie weg)."
    )]
    XsdVersieOngeldig(String),
}

impl Fault {
    /// The SOAP fault code without its prefix, e.g. `Client.OngeldigBericht`.
    pub fn code(&self) -> &'static str {
        match self {
            Fault::OngeldigBericht(_) => "Client.OngeldigBericht",
            Fault::XsdVersieOngeldig(_) => "Client.XsdVersieOngeldig",
        }
    }
}

fn refuse(reason: impl Into<String>) -> Fault {
    Fault::OngeldigBericht(reason.into())
}

/// Trims XML white space only (not other Unicode spaces, which may belong to a key).
fn xml_trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && d >= 1 => {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let days = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d <= days
        }
        _ => false,
    }
}

/// An unprefixed attribute (as the schema has them; `x:key` is somebody else's).
fn attr(e: &BytesStart, name: &[u8]) -> Result<Option<String>, Fault> {
    for a in e.attributes() {
        let a = a.map_err(|e| refuse(format!("Het bericht is geen geldige XML: {e}.")))?;
        if a.key.as_ref() == name {
            let raw =
                std::str::from_utf8(&a.value).map_err(|_| refuse("Het bericht is geen UTF-8."))?;
            let value = quick_xml::escape::unescape(raw)
                .map_err(|e| refuse(format!("Het bericht is geen geldige XML: {e}.")))?;
            let value = xml_trim(&value);
            if value.chars().count() > max_len("key") {
                return Err(refuse(format!(
                    "Het attribuut {} is langer dan {} tekens.",
                    String::from_utf8_lossy(name),
                    max_len("key")
                )));
            }
            return Ok(some(value.to_string()));
        }
    }
    Ok(None)
}

/// Whether an element is in a namespace this message type uses where it stands: SOAP outside
/// the body's content, autorisatie inside the header's, leerresultaten or OSO inside the verzoek.
fn ns_known(ns: &ResolveResult, in_verzoek: bool, in_aut: bool) -> bool {
    let ResolveResult::Bound(n) = ns else {
        return false;
    };
    let n = n.as_ref();
    if in_verzoek {
        n == NS_LEERRESULTATEN.as_bytes() || n.starts_with(NS_OSO_PREFIX.as_bytes())
    } else if in_aut {
        n == NS_AUTORISATIE.as_bytes()
    } else {
        true
    }
}

/// Parses a `BrengLeerresultaten` request (a SOAP 1.1 envelope). The header's presence and
/// content are not judged here: authentication is the caller's first step.
pub fn parse(body: &[u8]) -> Result<Request, Fault> {
    let mut stream = Stream::new(body);
    let mut afnames = Vec::new();
    while let Some(a) = stream.next_afname()? {
        afnames.push(a);
    }
    let mut req = stream.head();
    req.toetsafnames = afnames;
    Ok(req)
}

/// A `BrengLeerresultaten` request read one toetsafname at a time, so that what is held is
/// one toetsafname (plus the header, the school, the toetsen and the keys seen), not the whole
/// message: call `next_afname` until it gives `None` (by then the whole message has been
/// checked), then `head` for the header, the school and the toetsen. A toetsafname is given
/// out as soon as it is read, before the rest of the message is checked: a caller that stores
/// them must do so in a transaction it can roll back when a later `next_afname` refuses.
pub struct Stream<'a> {
    reader: NsReader<&'a [u8]>,
    req: Request,
    path: Vec<String>,
    text: String,
    buf: Vec<u8>,
    seen_envelope: bool,
    seen_verzoek: bool,
    keys: std::collections::HashSet<String>,
    // The record being read.
    afname: Option<Toetsafname>,
    resultaat: Option<Resultaat>,
    referentie: Option<Referentiescore>,
    toets: Option<Toets>,
    onderdeel: Option<(String, Option<String>)>,
    in_header_aut: bool,
    // Depth of a foreign element being passed over with its content.
    skipping: Option<usize>,
    // Past the end of the envelope.
    done: bool,
    // Each (toetscode, versie) used, with the first result's key: checked against the toetsen
    // at the end, since toetsen may come after the results.
    used: std::collections::HashMap<(String, Option<String>), String>,
    finished: bool,
}

impl<'a> Stream<'a> {
    pub fn new(body: &'a [u8]) -> Self {
        let mut reader = NsReader::from_reader(body);
        reader.config_mut().check_end_names = true;
        Stream {
            reader,
            req: Request::default(),
            path: Vec::with_capacity(16),
            text: String::new(),
            buf: Vec::new(),
            seen_envelope: false,
            seen_verzoek: false,
            keys: Default::default(),
            afname: None,
            resultaat: None,
            referentie: None,
            toets: None,
            onderdeel: None,
            in_header_aut: false,
            skipping: None,
            done: false,
            used: Default::default(),
            finished: false,
        }
    }

    /// The next toetsafname, or `None` once the whole message has been read and checked.
    pub fn next_afname(&mut self) -> Result<Option<Toetsafname>, Fault> {
        loop {
            if let Some(a) = self.req.toetsafnames.pop() {
                for r in &a.resultaten {
                    self.used
                        .entry((r.toetscode.clone(), r.versie.clone()))
                        .or_insert_with(|| r.key.clone());
                }
                return Ok(Some(a));
            }
            if self.finished {
                return Ok(None);
            }
            if self.step()? {
                self.finished = true;
                self.finish()?;
            }
        }
    }

    /// The header, the school and the toetsen (after `next_afname` gave `None`).
    pub fn head(self) -> Request {
        self.req
    }

    fn finish(&self) -> Result<(), Fault> {
        if !self.seen_envelope {
            return Err(refuse("Het bericht is leeg of geen XML."));
        }
        if !self.seen_verzoek {
            return Err(refuse(
                "Het bericht bevat geen leerresultaten_verzoek in soap:Body.",
            ));
        }
        check(&self.req, &self.used)
    }

    /// Reads one event; true at the end of the input.
    fn step(&mut self) -> Result<bool, Fault> {
        self.buf.clear();
        let (ns, event) = self
            .reader
            .read_resolved_event_into(&mut self.buf)
            .map_err(|e| refuse(format!("Het bericht is geen geldige XML: {e}.")))?;
        let ns_is =
            |want: &str| matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == want.as_bytes());
        match event {
            Event::DocType(_) => {
                return Err(refuse(
                    "Een DOCTYPE of entiteitdeclaratie is niet toegestaan in een UWLR-bericht.",
                ));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                // Every attribute read once: duplicates and bad syntax are refused.
                for a in e.attributes() {
                    a.map_err(|e| refuse(format!("Het bericht is geen geldige XML: {e}.")))?;
                }
                if self.done {
                    return Err(refuse(
                        "Na het einde van soap:Envelope mag niets meer volgen.",
                    ));
                }
                if self.skipping.is_some() {
                    if !empty {
                        self.path.push(String::new());
                    }
                    return Ok(false);
                }
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let in_verzoek =
                    self.seen_verzoek && self.path.iter().any(|p| p == "leerresultaten_verzoek");
                if !self.path.is_empty() && !ns_known(&ns, in_verzoek, self.in_header_aut) {
                    // A vendor extension: passed over with everything in it.
                    if !empty {
                        self.skipping = Some(self.path.len());
                        self.path.push(String::new());
                    }
                    self.text.clear();
                    return Ok(false);
                }
                if self.path.is_empty() {
                    if local != "Envelope" || !ns_is(NS_SOAP) {
                        return Err(refuse(
                            "Dit is geen SOAP 1.1-bericht: het moet beginnen met soap:Envelope.",
                        ));
                    }
                    self.seen_envelope = true;
                }
                if self.path.len() >= MAX_DEPTH {
                    return Err(refuse("Het bericht is te diep genest."));
                }
                let parent = self.path.last().map(String::as_str).unwrap_or("");
                match local.as_str() {
                    "autorisatie" if parent == "Header" && ns_is(NS_AUTORISATIE) => {
                        self.in_header_aut = true;
                        self.req.autorisatie = Some(Autorisatie::default());
                    }
                    "leerresultaten_verzoek" if parent == "Body" => {
                        if !ns_is(NS_LEERRESULTATEN) {
                            return Err(refuse(format!(
                                "leerresultaten_verzoek hoort in de namespace {NS_LEERRESULTATEN}."
                            )));
                        }
                        self.seen_verzoek = true;
                    }
                    "toetsafname" if self.seen_verzoek && parent == "toetsafnames" => {
                        self.afname = Some(Toetsafname::default());
                    }
                    "resultaat" if self.afname.is_some() && parent == "resultaten" => {
                        let key = attr(e, b"key")?
                            .ok_or_else(|| refuse("Een resultaat heeft geen key-attribuut."))?;
                        if !self.keys.insert(key.clone()) {
                            return Err(refuse(format!(
                                "resultaat key '{key}' komt meer dan één keer voor in het bericht."
                            )));
                        }
                        self.resultaat = Some(Resultaat {
                            key,
                            ..Default::default()
                        });
                    }
                    "referentiescore" if self.resultaat.is_some() => {
                        self.referentie = Some(Referentiescore::default());
                    }
                    "toets" if self.seen_verzoek && parent == "toetsen" => {
                        self.toets = Some(Toets::default());
                    }
                    "toetsonderdeel" if self.toets.is_some() => {
                        self.onderdeel = Some((String::new(), None));
                    }
                    _ => {}
                }
                self.text.clear();
                if empty {
                    close(
                        &local,
                        &self.path,
                        "",
                        &mut self.req,
                        &mut self.afname,
                        &mut self.resultaat,
                        &mut self.referentie,
                        &mut self.toets,
                        &mut self.onderdeel,
                        &mut self.in_header_aut,
                    )?;
                } else {
                    self.path.push(local);
                }
            }
            Event::Text(t) => {
                let s =
                    std::str::from_utf8(&t).map_err(|_| refuse("Het bericht is geen UTF-8."))?;
                if self.done && !xml_trim(s).is_empty() {
                    return Err(refuse(
                        "Na het einde van soap:Envelope mag niets meer volgen.",
                    ));
                }
                if self.skipping.is_none() {
                    self.text.push_str(s);
                }
            }
            Event::CData(t) => {
                let s =
                    std::str::from_utf8(&t).map_err(|_| refuse("Het bericht is geen UTF-8."))?;
                if self.done {
                    return Err(refuse(
                        "Na het einde van soap:Envelope mag niets meer volgen.",
                    ));
                }
                if self.skipping.is_none() {
                    self.text.push_str(s);
                }
            }
            Event::GeneralRef(_) if self.skipping.is_some() => {}
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| refuse(format!("Het bericht is geen geldige XML: {e}.")))?
                {
                    Some(c) => c,
                    None => match std::str::from_utf8(&r).unwrap_or("") {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "apos" => '\'',
                        "quot" => '"',
                        other => {
                            return Err(refuse(format!(
                                "Onbekende entiteit &{other}; (entiteiten zijn niet toegestaan)."
                            )));
                        }
                    },
                };
                self.text.push(c);
            }
            Event::End(_) => {
                let local = self.path.pop().unwrap_or_default();
                if self.path.is_empty() {
                    self.done = true;
                }
                if let Some(depth) = self.skipping {
                    if self.path.len() == depth {
                        self.skipping = None;
                        self.text.clear();
                    }
                    return Ok(false);
                }
                let value = xml_trim(&self.text).to_string();
                if value.chars().count() > max_len(&local) {
                    return Err(refuse(format!(
                        "{local} is langer dan {} tekens.",
                        max_len(&local)
                    )));
                }
                close(
                    &local,
                    &self.path,
                    &value,
                    &mut self.req,
                    &mut self.afname,
                    &mut self.resultaat,
                    &mut self.referentie,
                    &mut self.toets,
                    &mut self.onderdeel,
                    &mut self.in_header_aut,
                )?;
                self.text.clear();
            }
            Event::Eof => return Ok(true),
            _ => {}
        }
        Ok(false)
    }
}

#[allow(clippy::too_many_arguments)]
fn close(
    local: &str,
    path: &[String],
    value: &str,
    req: &mut Request,
    afname: &mut Option<Toetsafname>,
    resultaat: &mut Option<Resultaat>,
    referentie: &mut Option<Referentiescore>,
    toets: &mut Option<Toets>,
    onderdeel: &mut Option<(String, Option<String>)>,
    in_header_aut: &mut bool,
) -> Result<(), Fault> {
    let parent = path.last().map(String::as_str).unwrap_or("");
    let v = || value.to_string();
    if *in_header_aut {
        if let Some(a) = req.autorisatie.as_mut() {
            match local {
                "autorisatiesleutel" => a.autorisatiesleutel = v(),
                "klantcode" => a.klantcode = v(),
                "klantnaam" => a.klantnaam = v(),
                "autorisatie" => *in_header_aut = false,
                _ => {}
            }
        }
        return Ok(());
    }
    if let Some(o) = onderdeel.as_mut() {
        match local {
            "toetsonderdeelcode" => o.0 = v(),
            "toetsonderdeelnaam" => o.1 = some(v()),
            "toetsonderdeel" => {
                if let (Some(t), Some(o)) = (toets.as_mut(), onderdeel.take()) {
                    if o.0.is_empty() {
                        return Err(refuse(format!(
                            "Een toetsonderdeel van toets '{}' heeft geen toetsonderdeelcode.",
                            t.toetscode
                        )));
                    }
                    t.onderdelen.push(o);
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if let Some(t) = toets.as_mut() {
        match local {
            "toetscode" if parent == "toets" => t.toetscode = v(),
            "versie" if parent == "toets" => t.versie = some(v()),
            "toetsnaam" => t.toetsnaam = some(v()),
            "vakgebied" => t.vakgebied = some(v()),
            "toets" => {
                let t = toets.take().unwrap_or_default();
                if t.toetscode.is_empty() {
                    return Err(refuse("Een toets-definitie heeft geen toetscode."));
                }
                req.toetsen.push(t);
            }
            _ => {}
        }
        return Ok(());
    }
    if let Some(rs) = referentie.as_mut() {
        match local {
            "codereferentiescore" => rs.code = v(),
            "codevergelijkingsgroep" => rs.vergelijkingsgroep = some(v()),
            "waarde" => rs.waarde = v(),
            "referentiescore" => {
                if let (Some(r), Some(rs)) = (resultaat.as_mut(), referentie.take()) {
                    r.referentiescores.push(rs);
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if let Some(r) = resultaat.as_mut() {
        match local {
            "afnamedatum" => r.afnamedatum = v(),
            "toetscode" => r.toetscode = v(),
            "versie" => r.versie = some(v()),
            "toetsonderdeelcode" => r.toetsonderdeelcode = some(v()),
            "score" => r.score = some(v()),
            "anderresultaat" => r.anderresultaat = some(v()),
            "infourl" => r.infourl = some(v()),
            _ if parent == "toetsscore" => r.toetsscore.push((local.to_string(), v())),
            "resultaat" => {
                let r = resultaat.take().unwrap_or_default();
                if r.toetscode.is_empty() {
                    return Err(refuse(format!(
                        "Resultaat '{}' heeft geen toetscode.",
                        r.key
                    )));
                }
                if !is_date(&r.afnamedatum) {
                    return Err(refuse(format!(
                        "Resultaat '{}' heeft geen geldige afnamedatum (JJJJ-MM-DD): '{}'.",
                        r.key, r.afnamedatum
                    )));
                }
                if let Some(a) = afname.as_mut() {
                    a.resultaten.push(r);
                }
            }
            _ => {}
        }
        return Ok(());
    }
    if let Some(a) = afname.as_mut() {
        match local {
            "leerlingid" => a.leerlingid = v(),
            "eckid" => a.eckid = some(v()),
            "toetsafname" => {
                let a = afname.take().unwrap_or_default();
                if a.leerlingid.is_empty() {
                    return Err(refuse("Een toetsafname heeft geen leerlingid."));
                }
                req.toetsafnames.push(a);
            }
            _ => {}
        }
        return Ok(());
    }
    if parent == "school" {
        let s = &mut req.school;
        match local {
            "schooljaar" => s.schooljaar = v(),
            "brincode" => s.brincode = some(v()),
            "dependancecode" => s.dependancecode = some(v()),
            "schoolkey" => s.schoolkey = some(v()),
            "aanmaakdatum" => s.aanmaakdatum = some(v()),
            "auteur" => s.auteur = some(v()),
            "xsdversie" => s.xsdversie = Some(v()),
            _ => {}
        }
    }
    Ok(())
}

/// The checks over the whole message.
fn check(
    req: &Request,
    used: &std::collections::HashMap<(String, Option<String>), String>,
) -> Result<(), Fault> {
    if let Some(v) = &req.school.xsdversie
        && !XSD_VERSIES.contains(&v.as_str())
    {
        return Err(Fault::XsdVersieOngeldig(v.clone()));
    }
    let s = &req.school;
    if s.brincode.is_none() && s.schoolkey.is_none() {
        return Err(refuse(
            "Het bericht noemt de school niet: school/brincode (of school/schoolkey) ontbreekt.",
        ));
    }
    // Sorted by key, so the fault always names the same result.
    let mut used: Vec<_> = used.iter().collect();
    used.sort_by(|a, b| a.1.cmp(b.1));
    for ((toetscode, versie), key) in used {
        let defined = req
            .toetsen
            .iter()
            .any(|t| &t.toetscode == toetscode && (t.versie.is_none() || &t.versie == versie));
        if !defined {
            return Err(refuse(format!(
                "Toetscode '{toetscode}'{} van resultaat '{key}' heeft geen toets-definitie in toetsen.",
                versie
                    .as_ref()
                    .map(|v| format!(" (versie {v})"))
                    .unwrap_or_default(),
            )));
        }
    }
    Ok(())
}

/// Escapes text for XML element content.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The answer to an accepted request: an empty `leerresultaten_bevestiging`.
pub fn bevestiging() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{NS_SOAP}"><soap:Body><lr:leerresultaten_bevestiging xmlns:lr="{NS_LEERRESULTATEN}"/></soap:Body></soap:Envelope>"#
    )
}

/// A SOAP 1.1 fault: `code` like `Client.OngeldigBericht`, a Dutch `text` for the sender.
pub fn fault_envelope(code: &str, text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{NS_SOAP}"><soap:Body><soap:Fault><faultcode>soap:{}</faultcode><faultstring xml:lang="nl">{}</faultstring></soap:Fault></soap:Body></soap:Envelope>"#,
        esc(code),
        esc(text)
    )
}

/// The client side: a request envelope for `req` (with its header when it has one), in the
/// element order of the XSD. What [`parse`] reads back equals `req` for any request it accepts.
pub fn write_request(req: &Request) -> String {
    use std::fmt::Write as _;
    let mut o = String::with_capacity(512 + 400 * req.toetsafnames.len());
    let _ = write!(
        o,
        r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{NS_SOAP}">"#
    );
    if let Some(a) = &req.autorisatie {
        let _ = write!(
            o,
            r#"<soap:Header><aut:autorisatie xmlns:aut="{NS_AUTORISATIE}"><aut:autorisatiesleutel>{}</aut:autorisatiesleutel><aut:klantcode>{}</aut:klantcode><aut:klantnaam>{}</aut:klantnaam></aut:autorisatie></soap:Header>"#,
            esc(&a.autorisatiesleutel),
            esc(&a.klantcode),
            esc(&a.klantnaam)
        );
    }
    let _ = write!(
        o,
        r#"<soap:Body><lr:leerresultaten_verzoek xmlns:lr="{NS_LEERRESULTATEN}" xmlns:oso="http://www.edustandaard.nl/oso_gegevensset/1.2/dossier"><lr:school>"#
    );
    let el = |o: &mut String, name: &str, v: &Option<String>| {
        if let Some(v) = v {
            let _ = write!(o, "<lr:{name}>{}</lr:{name}>", esc(v));
        }
    };
    let s = &req.school;
    let _ = write!(o, "<lr:schooljaar>{}</lr:schooljaar>", esc(&s.schooljaar));
    el(&mut o, "brincode", &s.brincode);
    el(&mut o, "dependancecode", &s.dependancecode);
    el(&mut o, "schoolkey", &s.schoolkey);
    el(&mut o, "aanmaakdatum", &s.aanmaakdatum);
    el(&mut o, "auteur", &s.auteur);
    el(&mut o, "xsdversie", &s.xsdversie);
    o.push_str("</lr:school><lr:toetsafnames>");
    for a in &req.toetsafnames {
        let _ = write!(
            o,
            "<lr:toetsafname><lr:leerlingid>{}</lr:leerlingid>",
            esc(&a.leerlingid)
        );
        el(&mut o, "eckid", &a.eckid);
        o.push_str("<lr:resultaten>");
        for r in &a.resultaten {
            let _ = write!(
                o,
                r#"<lr:resultaat key="{}"><lr:afnamedatum>{}</lr:afnamedatum><lr:toetscode>{}</lr:toetscode>"#,
                esc(&r.key),
                esc(&r.afnamedatum),
                esc(&r.toetscode)
            );
            el(&mut o, "versie", &r.versie);
            el(&mut o, "toetsonderdeelcode", &r.toetsonderdeelcode);
            el(&mut o, "score", &r.score);
            if !r.toetsscore.is_empty() || !r.referentiescores.is_empty() {
                o.push_str("<lr:osoresultaat>");
                if !r.toetsscore.is_empty() {
                    o.push_str("<oso:toetsscore>");
                    for (n, v) in &r.toetsscore {
                        let _ = write!(o, "<oso:{n}>{}</oso:{n}>", esc(v));
                    }
                    o.push_str("</oso:toetsscore>");
                }
                for rs in &r.referentiescores {
                    let _ = write!(
                        o,
                        "<oso:referentiescore><oso:codereferentiescore>{}</oso:codereferentiescore>",
                        esc(&rs.code)
                    );
                    if let Some(g) = &rs.vergelijkingsgroep {
                        let _ = write!(
                            o,
                            "<oso:codevergelijkingsgroep>{}</oso:codevergelijkingsgroep>",
                            esc(g)
                        );
                    }
                    let _ = write!(
                        o,
                        "<oso:waarde>{}</oso:waarde></oso:referentiescore>",
                        esc(&rs.waarde)
                    );
                }
                o.push_str("</lr:osoresultaat>");
            }
            el(&mut o, "anderresultaat", &r.anderresultaat);
            el(&mut o, "infourl", &r.infourl);
            o.push_str("</lr:resultaat>");
        }
        o.push_str("</lr:resultaten></lr:toetsafname>");
    }
    o.push_str("</lr:toetsafnames><lr:toetsen>");
    for t in &req.toetsen {
        let _ = write!(
            o,
            "<lr:toets><lr:toetscode>{}</lr:toetscode>",
            esc(&t.toetscode)
        );
        el(&mut o, "versie", &t.versie);
        el(&mut o, "toetsnaam", &t.toetsnaam);
        el(&mut o, "vakgebied", &t.vakgebied);
        if !t.onderdelen.is_empty() {
            o.push_str("<lr:toetsonderdelen>");
            for (i, (code, naam)) in t.onderdelen.iter().enumerate() {
                let _ = write!(
                    o,
                    "<lr:toetsonderdeel><lr:toetsonderdeelvolgnummer>{}</lr:toetsonderdeelvolgnummer><lr:toetsonderdeelcode>{}</lr:toetsonderdeelcode>",
                    i + 1,
                    esc(code)
                );
                el(&mut o, "toetsonderdeelnaam", naam);
                o.push_str("</lr:toetsonderdeel>");
            }
            o.push_str("</lr:toetsonderdelen>");
        }
        o.push_str("</lr:toets>");
    }
    o.push_str("</lr:toetsen></lr:leerresultaten_verzoek></soap:Body></soap:Envelope>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_as_calendar_dates() {
        assert!(is_date("2026-11-10"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2026-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("10-11-2026"));
        assert!(!is_date("2026-11-10T10:00:00"));
    }

    #[test]
    fn faults_and_the_bevestiging_are_soap_envelopes() {
        let f = fault_envelope("Client.OngeldigBericht", "a < b & c");
        assert!(f.contains("<faultcode>soap:Client.OngeldigBericht</faultcode>"));
        assert!(f.contains("a &lt; b &amp; c"));
        assert!(bevestiging().contains("leerresultaten_bevestiging"));
    }
}
