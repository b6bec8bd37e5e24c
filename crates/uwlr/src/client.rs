//! The sender side of the contract: send a prepared envelope to an endpoint and read the
//! answer, and generate a realistic delivery for a school's pupils (for trying a koppeling,
//! for the demo, for tests and benchmarks).

use quick_xml::events::Event;
use quick_xml::reader::NsReader;
use time::{Date, Duration};

use crate::{Autorisatie, Referentiescore, Request, Resultaat, School, Toets, Toetsafname};

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// HTTP 200 with a `leerresultaten_bevestiging`: accepted and stored.
    Bevestiging,
    /// A SOAP fault: the code without its prefix (`Client.OngeldigBericht`) and the text.
    Fault { code: String, text: String },
    /// Anything else (not the contract): the HTTP status and the start of the body.
    Other { status: u16, body: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("versturen mislukt: {0}")]
    Http(#[from] reqwest::Error),
}

/// Sends an envelope as it is (POST, `text/xml`, SOAPAction `BrengLeerresultaten`).
pub async fn send(url: &str, envelope: Vec<u8>) -> Result<Answer, SendError> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .build()?;
    let res = client
        .post(url)
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"BrengLeerresultaten\"")
        .body(envelope)
        .send()
        .await?;
    let status = res.status().as_u16();
    let body = res.text().await?;
    Ok(read_answer(status, &body))
}

/// Reads an answer envelope: a bevestiging on 200, a fault's code and text.
pub fn read_answer(status: u16, body: &str) -> Answer {
    let mut reader = NsReader::from_str(body);
    let mut path: Vec<String> = Vec::new();
    let (mut code, mut text, mut bevestiging, mut fault) = (None, None, false, false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                note(&name, &mut bevestiging, &mut fault);
                path.push(name);
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                note(&name, &mut bevestiging, &mut fault);
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Text(t)) => {
                let s = t.decode().map(|c| c.into_owned()).unwrap_or_default();
                let s = quick_xml::escape::unescape(&s)
                    .map(|c| c.into_owned())
                    .unwrap_or(s);
                match path.last().map(String::as_str) {
                    Some("faultcode") => code = Some(s.trim().to_string()),
                    Some("faultstring") => text = Some(s.trim().to_string()),
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if fault && let Some(c) = code {
        let c = c.split_once(':').map(|(_, r)| r.to_string()).unwrap_or(c);
        return Answer::Fault {
            code: c,
            text: text.unwrap_or_default(),
        };
    }
    if status == 200 && bevestiging {
        return Answer::Bevestiging;
    }
    Answer::Other {
        status,
        body: body.chars().take(500).collect(),
    }
}

fn note(name: &str, bevestiging: &mut bool, fault: &mut bool) {
    match name {
        "leerresultaten_bevestiging" => *bevestiging = true,
        "Fault" => *fault = true,
        _ => {}
    }
}

/// The tests the generator uses: Boom LVS lines as the demo catalogue knows them
/// (toetscode, versie, naam, vakgebied, onderdelen).
pub const BOOM_TOETSEN: [(&str, &str, &str, &str, &[&str]); 4] = [
    (
        "BOOM-LVS-RW-2019",
        "2019",
        "LVS RW 2019",
        "Rekenen-wiskunde",
        &["G3", "G4", "G5", "G6"],
    ),
    (
        "BOOM-LVS-RW-DIG",
        "1",
        "LVS RW digitaal",
        "Rekenen-wiskunde",
        &["G4", "G5", "G6", "G7"],
    ),
    (
        "BOOM-LVS-BL-DIG",
        "1",
        "LVS BL digitaal",
        "Begrijpend lezen",
        &["G4", "G5", "G6"],
    ),
    (
        "BOOM-LVS-SP",
        "1",
        "LVS SP",
        "Spelling",
        &["G3", "G4", "G5"],
    ),
];

/// A test no catalogue has (for the error case).
pub const ONBEKENDE_TOETS: (&str, &str, &str, &str, &[&str]) = (
    "BOOM-LVS-WS-2023",
    "2023",
    "LVS Woordenschat 2023",
    "Voortgezet taal",
    &["G5"],
);

/// What to generate.
#[derive(Debug, Clone)]
pub struct Generate {
    pub autorisatie: Autorisatie,
    pub brincode: String,
    pub dependancecode: String,
    /// Boom-leerlingnummers of the school's pupils.
    pub leerlingids: Vec<String>,
    /// Results for the known pupils.
    pub resultaten: usize,
    /// Extra results for this many unknown leerlingids (error LEERLING_NIET_GEVONDEN).
    pub onbekende_leerlingen: usize,
    /// One extra result with a test no catalogue has (error TOETS_NIET_GEVONDEN).
    pub onbekende_toets: bool,
    /// The newest afnamedatum; older results go back a week per round.
    pub tot: Date,
    /// Varies the scores.
    pub seed: u64,
}

/// A realistic delivery: each pupil gets results of the four Boom tests in turn, a week apart,
/// with a DLE as referentiescore and a vaardigheidsscore.
pub fn generate(g: &Generate) -> Request {
    let mut rng = g
        .seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |n: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    let mut afnames: Vec<Toetsafname> = g
        .leerlingids
        .iter()
        .map(|l| Toetsafname {
            leerlingid: l.clone(),
            eckid: None,
            resultaten: Vec::new(),
        })
        .collect();
    let mut key = 0usize;
    let mut result = |toets: &(&str, &str, &str, &str, &[&str]),
                      round: usize,
                      next: &mut dyn FnMut(u64) -> u64| {
        key += 1;
        let onderdelen = toets.4;
        let onderdeel = onderdelen[(round / 4) % onderdelen.len()];
        let dle = 3 + next(40);
        Resultaat {
            key: format!("G{key:06}"),
            afnamedatum: (g.tot - Duration::weeks((round / 4) as i64)).to_string(),
            toetscode: toets.0.to_string(),
            versie: Some(toets.1.to_string()),
            toetsonderdeelcode: Some(onderdeel.to_string()),
            score: None,
            toetsscore: vec![
                ("aantalopgaven".into(), "40".into()),
                ("aantalgoed".into(), (10 + next(30)).to_string()),
                (
                    "vaardigheidsscore".into(),
                    format!("{}.{}", 60 + dle * 2, next(10)),
                ),
            ],
            referentiescores: vec![Referentiescore {
                code: "DLE".into(),
                vergelijkingsgroep: Some("Landelijk".into()),
                waarde: dle.to_string(),
            }],
            anderresultaat: None,
            infourl: None,
        }
    };
    if !afnames.is_empty() {
        for i in 0..g.resultaten {
            let p = i % afnames.len();
            let round = i / afnames.len();
            let r = result(&BOOM_TOETSEN[round % 4], round, &mut next);
            afnames[p].resultaten.push(r);
        }
    }
    for u in 0..g.onbekende_leerlingen {
        let r = result(&BOOM_TOETSEN[u % 4], 0, &mut next);
        afnames.push(Toetsafname {
            leerlingid: format!("{}", 999_001 + u),
            eckid: None,
            resultaten: vec![r],
        });
    }
    if g.onbekende_toets
        && let Some(first) = afnames.first_mut()
    {
        let r = result(&ONBEKENDE_TOETS, 0, &mut next);
        first.resultaten.push(r);
    }
    afnames.retain(|a| !a.resultaten.is_empty());
    let mut toetsen: Vec<Toets> = BOOM_TOETSEN.iter().map(toets_def).collect();
    if g.onbekende_toets {
        toetsen.push(toets_def(&ONBEKENDE_TOETS));
    }
    Request {
        autorisatie: Some(g.autorisatie.clone()),
        school: School {
            schooljaar: schooljaar(g.tot),
            brincode: Some(g.brincode.clone()),
            dependancecode: Some(g.dependancecode.clone()),
            schoolkey: None,
            aanmaakdatum: Some(format!("{}T12:00:00", g.tot)),
            auteur: Some("startblok uwlr send --generate".into()),
            xsdversie: Some("2.2".into()),
        },
        toetsafnames: afnames,
        toetsen,
    }
}

fn toets_def(t: &(&str, &str, &str, &str, &[&str])) -> Toets {
    Toets {
        toetscode: t.0.to_string(),
        versie: Some(t.1.to_string()),
        toetsnaam: Some(t.2.to_string()),
        vakgebied: Some(t.3.to_string()),
        onderdelen: t
            .4
            .iter()
            .map(|o| (o.to_string(), Some(format!("{} niveau {o}", t.2))))
            .collect(),
    }
}

/// The school year a date falls in (from 1 August): `2026-2027`.
pub fn schooljaar(d: Date) -> String {
    let y = if u8::from(d.month()) >= 8 {
        d.year()
    } else {
        d.year() - 1
    };
    format!("{y}-{}", y + 1)
}
