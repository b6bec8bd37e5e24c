//! EDEXML: the XML in which a school's administration system (ParnasSys, ESIS, Magister) exports
//! its pupils, groups and teachers. Bytes in, a typed [`Roster`] out, plus warnings.
//!
//! - Versions 1.03, 2.0 and 2.1, and the same structures inside UWLR: elements are matched on
//!   their local names, so namespaces and prefixes do not matter.
//! - Encodings: UTF-8 with or without BOM, UTF-16 with BOM, and whatever the XML declaration names
//!   (ISO-8859-1 is read as Windows-1252).
//! - Tolerant where real files break the XSD (any `YYYY-YYYY` schooljaar, any two-letter country,
//!   element order, empty elements as absent, `tussenvoegsel` for `voorvoegsel`).
//! - Strict where it matters: a DOCTYPE or entity declaration is refused (no XXE, no entity
//!   expansion), nesting is limited, a file that is not EDEXML says what it is.
//! - Only the fields Startblok needs are read (an allow-list): BSN, onderwijsnummer, gewicht,
//!   postcode, etniciteit and e-mail addresses of pupils are never captured.
//!
//! - `toevoegingen` blocks (free extensions a LAS may add) are kept aside: only whose they are,
//!   their type and their code, never their content; a warning says they were not read.
//! - It streams: [`parse_reader`] reads a file in chunks, so memory is bounded by the roster, not
//!   by the file's text.

mod parse;

pub use parse::{parse, parse_reader};

/// What an EDEXML file says about one school.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Roster {
    pub school: SchoolInfo,
    pub vestigingen: Vec<Vestiging>,
    pub groepen: Vec<Groep>,
    pub samengestelde_groepen: Vec<Groep>,
    pub leerlingen: Vec<Leerling>,
    pub leerkrachten: Vec<Leerkracht>,
    /// The `toevoegingen` blocks, kept aside and never stored (not serialised).
    #[serde(skip)]
    pub toevoegingen: Vec<Toevoeging>,
    /// Not serialised: a stored roster keeps its warnings as text next to it.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SchoolInfo {
    pub schooljaar: Option<String>,
    pub brincode: Option<String>,
    pub dependancecode: Option<String>,
    pub schoolkey: Option<String>,
    pub xsdversie: Option<String>,
    pub auteur: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Vestiging {
    pub key: String,
    pub naam: Option<String>,
}

/// A group (or a samengestelde groep: a combined group across normal ones).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Groep {
    pub key: String,
    pub naam: Option<String>,
    pub jaargroep: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Leerling {
    /// The LAS key: opaque, trimmed, leading zeros kept.
    pub key: String,
    pub eckid: Option<String>,
    pub achternaam: Option<String>,
    pub voorvoegsel: Option<String>,
    pub voornamen: Option<String>,
    pub roepnaam: Option<String>,
    /// As written (`YYYY-MM-DD`).
    pub geboortedatum: Option<String>,
    /// EDEXML code: 0 onbekend, 1 man, 2 vrouw, 9 niet gespecificeerd.
    pub geslacht: Option<String>,
    pub jaargroep: Option<String>,
    pub start_groep3: Option<String>,
    pub instroomdatum: Option<String>,
    pub uitstroomdatum: Option<String>,
    /// Two-letter country code of birth.
    pub land: Option<String>,
    pub groep: Option<String>,
    pub samengestelde_groepen: Vec<String>,
    pub vestiging: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Leerkracht {
    pub key: String,
    pub achternaam: Option<String>,
    pub voorvoegsel: Option<String>,
    pub roepnaam: Option<String>,
    pub voorletters: Option<String>,
    pub emailadres: Option<String>,
    pub groepen: Vec<String>,
}

/// A `toevoegingen/blok`: an extension a LAS may add to a record or the file. Startblok does not
/// read its content (which may be anything, remarks about a child included); this says only that
/// it was there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Toevoeging {
    /// Whose block it is: `leerling 0042`, `groep GRP4A`, `leerkracht LK1`, `vestiging V1` or
    /// `bestand`.
    pub bij: String,
    /// Its `xsi:type`, for example `OpmerkingGegevensType`.
    pub soort: Option<String>,
    /// Its `code`.
    pub code: Option<String>,
    /// The line on which the block starts.
    pub line: usize,
}

impl Leerling {
    /// Keys starting with `#` are placeholders in some exports and never used to match.
    pub fn is_dummy_key(&self) -> bool {
        self.key.starts_with('#')
    }
}

/// Something in the file that Startblok works around but the Beheerder should know. `line` is
/// the line of the file on which the record starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    DuplicateKey {
        kind: &'static str,
        key: String,
        line: usize,
    },
    UnknownGroup {
        kind: &'static str,
        key: String,
        groep: String,
        line: usize,
    },
    MissingKey {
        kind: &'static str,
        line: usize,
    },
    /// Said to be (or taken for) UTF-8, but it is not: read as Windows-1252.
    NotUtf8,
    /// The file has `toevoegingen` blocks; they were not read (the kinds, by `xsi:type`).
    Toevoegingen {
        count: usize,
        soorten: Vec<String>,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::DuplicateKey { kind, key, line } => write!(
                f,
                "Regel {line}: {kind} met sleutel {key} staat meer dan eens in het bestand; de eerste telt."
            ),
            Warning::UnknownGroup {
                kind,
                key,
                groep,
                line,
            } => write!(
                f,
                "Regel {line}: {kind} {key} hoort bij groep {groep}, maar die groep staat niet in het bestand."
            ),
            Warning::MissingKey { kind, line } => {
                write!(
                    f,
                    "Regel {line}: een {kind} zonder sleutel (key) is overgeslagen."
                )
            }
            Warning::Toevoegingen { count, soorten } => {
                let wat = if *count == 1 {
                    "één toevoeging".to_string()
                } else {
                    format!("{count} toevoegingen")
                };
                let soorten = if soorten.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", soorten.join(", "))
                };
                write!(
                    f,
                    "Het bestand bevat {wat}{soorten}: extra gegevens van de leerlingadministratie. Startblok leest die niet en bewaart ze niet."
                )
            }
            Warning::NotUtf8 => write!(
                f,
                "Het bestand is geen geldige UTF-8 en is gelezen als Windows-1252. Controleer namen met bijzondere tekens; exporteer bij twijfel opnieuw als UTF-8."
            ),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("Het bestand is leeg.")]
    Empty,
    #[error(
        "Dit is een EDEX-tekstbestand (EDEX2000, met puntkomma's of vaste kolommen), geen EDEXML. Exporteer uit je leerlingadministratie het bestand als EDEXML (XML, versie 2.0 of 2.1)."
    )]
    Edex2000,
    #[error(
        "Dit is geen XML-bestand. Exporteer uit je leerlingadministratie het bestand als EDEXML (XML, versie 2.0 of 2.1)."
    )]
    NotXml,
    #[error(
        "Dit is een XML-bestand, maar geen EDEXML (het begint met <{0}>). Exporteer uit je leerlingadministratie het bestand als EDEXML."
    )]
    NotEdexml(String),
    #[error(
        "Het bestand bevat een DOCTYPE- of entiteitsdeclaratie. Die worden uit veiligheidsoverwegingen geweigerd; een gewone EDEXML-export heeft ze niet."
    )]
    Doctype,
    #[error("Het bestand is te diep genest (meer dan {0} niveaus) en wordt geweigerd.")]
    TooDeep(usize),
    #[error("De tekencodering '{0}' wordt niet ondersteund. Exporteer het bestand als UTF-8.")]
    Encoding(String),
    #[error("Het bestand kon niet worden gelezen: {0}")]
    Io(String),
    #[error("Het XML-bestand is beschadigd rond positie {position}: {reason}")]
    Malformed { position: u64, reason: String },
}
