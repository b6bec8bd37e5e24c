//! UWLR intake (uwlr-intake.md): a `BrengLeerresultaten` call is checked, stored durably as a
//! levering with all its results, and acknowledged; a worker then processes the new and changed
//! results: pupil, test, and the norms steps of `resultaten::process`.
//!
//! What is received is kept apart from what is shown: `ontvangen_resultaten` holds every
//! received result by its identity (also when its pupil or test is unknown), with its history;
//! processing writes the judged result for a known pupil into `resultaten` (herkomst `boom`),
//! where the pupil's RESULTATEN tab and the Groepsoverzicht read it. Processing is a pure
//! function of the stored result and the school's current data, so doing it again (after a fix,
//! after a crash, or twice at once) gives the same outcome.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use startblok_db::leveringen::{
    self, Identity, NewLevering, NewReceived, Outcome, Received, Scope,
};
use startblok_db::pupils::{self, Pupil};
use startblok_db::resultaten::{self, Derived, Resultaat};
use startblok_db::{DbError, koppelingen};
use startblok_domain::SchoolId;
use startblok_domain::norms::PupilTimeline;
use startblok_uwlr as uwlr;
use time::Duration;

use crate::edexml_import::sha256_hex;
use crate::koppelingen::{NamedSchool, UwlrAuthFailure, UwlrFailure};
use crate::resultaten::{SchoolData, derived, process, timeline};
use crate::toetsdoelen::uuid_v7;
use crate::{Actor, App, AppError, AppResult, audit, now};

/// The error kinds of the intake's own steps (the norms steps have `ResultFout`).
pub const LEERLING_NIET_GEVONDEN: &str = "LEERLING_NIET_GEVONDEN";
pub const TOETS_NIET_GEVONDEN: &str = "TOETS_NIET_GEVONDEN";

/// How many received results one claim takes.
const BATCH: i64 = 500;
/// How long a claim holds; a worker that dies leaves its rows to others after this.
const CLAIM: Duration = Duration::seconds(30);

/// Wakes the intake worker when a delivery has been stored.
#[derive(Debug, Clone, Default)]
pub struct Signal(Arc<tokio::sync::Notify>);

impl Signal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// How many messages one koppeling may send per minute (to this process), after which a call is
/// refused with `Server.TijdelijkNietBeschikbaar` until the quota has room again. It protects the
/// database and the other schools from a sender caught in a loop; a real sender delivers a few
/// messages an hour, and a burst of a whole quota is allowed at once. Kept in memory per
/// process: with several app servers behind a load balancer a koppeling gets a quota on each.
#[derive(Clone)]
pub struct Limiter(Arc<governor::DefaultKeyedRateLimiter<String>>);

impl Limiter {
    pub fn per_minute(n: u32) -> Self {
        let n = std::num::NonZeroU32::new(n.max(1)).expect("at least 1");
        Limiter(Arc::new(governor::RateLimiter::keyed(
            governor::Quota::per_minute(n),
        )))
    }

    /// Takes one message from the koppeling's quota; false when it is used up.
    fn allow(&self, koppeling: &str) -> bool {
        let ok = self.0.check_key(&koppeling.to_string()).is_ok();
        // Forget koppelingen whose quota is full again, so the map stays small.
        if self.0.len() > 1000 {
            self.0.retain_recent();
        }
        ok
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiter")
    }
}

/// A refused call: the contract's fault code (`Client.OngeldigBericht`) and a Dutch text for
/// the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeFault {
    pub code: &'static str,
    pub text: String,
}

impl IntakeFault {
    fn autorisatie() -> Self {
        IntakeFault {
            code: "Client.AutorisatieOngeldig",
            text: "De autorisatie is ongeldig: controleer de autorisatiesleutel en de school \
                   (brincode en dependancecode) in het bericht."
                .into(),
        }
    }

    fn klant() -> Self {
        IntakeFault {
            code: "Client.OngeldigeKlantIdentificatie",
            text: "klantcode en klantnaam horen niet bij een educatieve applicatie die bij \
                   Startblok bekend is."
                .into(),
        }
    }

    fn tijdelijk() -> Self {
        IntakeFault {
            code: "Server.TijdelijkNietBeschikbaar",
            text: "Startblok kan het bericht nu niet opslaan. Probeer het later opnieuw; er is \
                   niets van dit bericht bewaard."
                .into(),
        }
    }

    pub fn druk() -> Self {
        IntakeFault {
            code: "Server.TijdelijkNietBeschikbaar",
            text: "Startblok ontvangt nu veel berichten tegelijk. Verstuur dit bericht over een \
                   paar minuten opnieuw; er is niets van bewaard."
                .into(),
        }
    }

    fn te_vaak() -> Self {
        IntakeFault {
            code: "Server.TijdelijkNietBeschikbaar",
            text: "Er komen te veel berichten van deze koppeling achter elkaar binnen. Wacht een \
                   minuut en verstuur dit bericht dan opnieuw; er is niets van bewaard."
                .into(),
        }
    }

    pub fn intern() -> Self {
        IntakeFault {
            code: "Server.InterneFout",
            text: "Er ging iets mis in Startblok. Probeer het later opnieuw; meldt u het als het \
                   blijft gebeuren."
                .into(),
        }
    }

    pub fn te_groot(limit: usize) -> Self {
        IntakeFault {
            code: "Client.OngeldigBericht",
            text: format!(
                "Het bericht is groter dan {} MB; stuur de resultaten in kleinere berichten.",
                limit / (1024 * 1024)
            ),
        }
    }
}

impl From<uwlr::Fault> for IntakeFault {
    fn from(f: uwlr::Fault) -> Self {
        IntakeFault {
            code: f.code(),
            text: f.to_string(),
        }
    }
}

/// An accepted delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub levering: String,
    pub school: SchoolId,
    pub aantal: usize,
    pub nieuw: usize,
    pub gewijzigd: usize,
    pub ongewijzigd: usize,
    /// The same bytes arrived before (this is recorded as a repeat).
    pub herhaling: bool,
}

/// A received result as stored (`gegevens`): all its data and the test definition it refers
/// to. `inhoud` is what decides whether a later arrival is a change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Gegevens {
    pub key: String,
    #[serde(flatten)]
    pub inhoud: Inhoud,
    pub toets: Option<ToetsDef>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Inhoud {
    pub eckid: Option<String>,
    pub score: Option<String>,
    pub toetsscore: Vec<(String, String)>,
    pub referentiescores: Vec<Referentie>,
    pub anderresultaat: Option<String>,
    pub infourl: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Referentie {
    pub code: String,
    pub vergelijkingsgroep: Option<String>,
    pub waarde: String,
}

/// The `toets` definition from the message: what the Beheerder sees to map an unknown test.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ToetsDef {
    pub naam: Option<String>,
    pub vakgebied: Option<String>,
    pub onderdelen: Vec<(String, Option<String>)>,
}

impl Gegevens {
    pub fn parse(json: &str) -> AppResult<Gegevens> {
        serde_json::from_str(json).map_err(|e| AppError::Corrupt(format!("gegevens: {e}")))
    }

    fn inhoud_sha256(&self) -> String {
        sha256_hex(
            serde_json::to_string(&self.inhoud)
                .expect("plain data serialises")
                .as_bytes(),
        )
    }

    pub fn toetsscore(&self, name: &str) -> Option<&str> {
        self.inhoud
            .toetsscore
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn referentie(&self, code: &str) -> Option<&str> {
        self.inhoud
            .referentiescores
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code))
            .map(|r| r.waarde.as_str())
    }
}

/// A leerlingid must be a Boom-leerlingnummer as Startblok stores one (the rule of the Boom
/// nummers form), exactly as sent: otherwise no pupil could ever be given it, and its results
/// would wait for a fix that cannot be made.
fn usable_leerlingid(leerlingid: &str) -> Result<(), IntakeFault> {
    match startblok_domain::BoomLeerlingnummer::parse(leerlingid) {
        Ok(Some(n)) if n.as_str() == leerlingid => Ok(()),
        other => {
            let reden = match other {
                Err(e) => e.to_string(),
                _ => "Het bevat tekens in een andere vorm (bijvoorbeeld brede cijfers).".into(),
            };
            Err(uwlr::Fault::OngeldigBericht(format!(
                "leerlingid {leerlingid:?} is geen bruikbaar Boom-leerlingnummer. {reden}"
            ))
            .into())
        }
    }
}

/// New, changed and unchanged results of a levering.
#[derive(Debug, Default)]
struct Counts {
    nieuw: usize,
    gewijzigd: usize,
    ongewijzigd: usize,
}

/// Turns a message's toetsafnames, a batch at a time, into rows to store, by identity: the same
/// result twice in one message is stored once; two different results for one afname refuse
/// the message. What it remembers across batches is small per result: a 64-bit hash of the
/// identity and of the content, and the key (for the refusal's text).
struct RowBuilder<'h> {
    toetsen: &'h [uwlr::Toets],
    seen: HashMap<u64, (u64, String)>,
}

fn hash64(v: &impl std::hash::Hash) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(v)
}

impl<'h> RowBuilder<'h> {
    fn new(toetsen: &'h [uwlr::Toets]) -> Self {
        RowBuilder {
            toetsen,
            seen: HashMap::new(),
        }
    }

    fn add(&mut self, afnames: &[uwlr::Toetsafname]) -> Result<Vec<NewReceived>, IntakeFault> {
        let mut out = Vec::new();
        for afname in afnames {
            for r in &afname.resultaten {
                let versie = r.versie.clone().unwrap_or_default();
                let toets = self
                    .toetsen
                    .iter()
                    .find(|t| {
                        t.toetscode == r.toetscode && t.versie.clone().unwrap_or_default() == versie
                    })
                    .or_else(|| self.toetsen.iter().find(|t| t.toetscode == r.toetscode))
                    .map(|t| ToetsDef {
                        naam: t.toetsnaam.clone(),
                        vakgebied: t.vakgebied.clone(),
                        onderdelen: t.onderdelen.clone(),
                    });
                let g = Gegevens {
                    key: r.key.clone(),
                    inhoud: Inhoud {
                        eckid: afname.eckid.clone(),
                        score: r.score.clone(),
                        toetsscore: r.toetsscore.clone(),
                        referentiescores: r
                            .referentiescores
                            .iter()
                            .map(|x| Referentie {
                                code: x.code.clone(),
                                vergelijkingsgroep: x.vergelijkingsgroep.clone(),
                                waarde: x.waarde.clone(),
                            })
                            .collect(),
                        anderresultaat: r.anderresultaat.clone(),
                        infourl: r.infourl.clone(),
                    },
                    toets,
                };
                let identity = Identity {
                    leerlingid: afname.leerlingid.clone(),
                    toetscode: r.toetscode.clone(),
                    versie,
                    onderdeel: r.toetsonderdeelcode.clone().unwrap_or_default(),
                    afnamedatum: r.afnamedatum.clone(),
                };
                let sha = g.inhoud_sha256();
                match self.seen.get(&hash64(&identity)) {
                    None => {
                        self.seen
                            .insert(hash64(&identity), (hash64(&sha), r.key.clone()));
                        out.push(NewReceived {
                            id: uuid_v7(),
                            identity,
                            inhoud_sha256: sha,
                            gegevens: serde_json::to_string(&g).expect("plain data serialises"),
                        });
                    }
                    // The same result twice: stored once.
                    Some((first, _)) if *first == hash64(&sha) => {}
                    // Two different outcomes of one afname: which one holds is not ours to guess.
                    Some((_, first_key)) => {
                        return Err(uwlr::Fault::OngeldigBericht(format!(
                            "Resultaat '{}' en resultaat '{first_key}' gaan over dezelfde afname \
                             (leerlingid {}, toetscode {}, versie {}, onderdeel {}, afnamedatum {}) \
                             maar verschillen. Stuur per afname één resultaat.",
                            r.key,
                            identity.leerlingid,
                            identity.toetscode,
                            if identity.versie.is_empty() { "-" } else { &identity.versie },
                            if identity.onderdeel.is_empty() { "-" } else { &identity.onderdeel },
                            identity.afnamedatum
                        ))
                        .into());
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Stores a batch of a levering's results by identity: new ones inserted, changed ones
/// replaced (the old version into the history), unchanged ones counted.
async fn store_rows(
    tx: &mut startblok_db::Conn,
    k: &koppelingen::Koppeling,
    levering: &str,
    rows: &[NewReceived],
    at: time::OffsetDateTime,
    counts: &mut Counts,
) -> Result<(), DbError> {
    let ids: Vec<&Identity> = rows.iter().map(|r| &r.identity).collect();
    let known = leveringen::existing(tx, &k.id, &ids).await?;
    let fresh: Vec<NewReceived> = rows
        .iter()
        .filter(|r| !known.contains_key(&r.identity))
        .cloned()
        .collect();
    let stored = leveringen::insert_new(tx, k.school_id, &k.id, levering, &fresh, at).await?;
    counts.nieuw += stored.len();
    // Identities another delivery stored meanwhile are compared like known ones.
    let mut compare: Vec<&NewReceived> = rows
        .iter()
        .filter(|r| known.contains_key(&r.identity))
        .collect();
    let raced: Vec<&NewReceived> = fresh.iter().filter(|r| !stored.contains(&r.id)).collect();
    let raced_known = if raced.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<&Identity> = raced.iter().map(|r| &r.identity).collect();
        leveringen::existing(tx, &k.id, &ids).await?
    };
    compare.extend(raced.iter().copied());
    for r in compare {
        let Some(s) = known
            .get(&r.identity)
            .or_else(|| raced_known.get(&r.identity))
        else {
            continue;
        };
        if s.inhoud_sha256 == r.inhoud_sha256 {
            counts.ongewijzigd += 1;
        } else if leveringen::replace(tx, &s.id, levering, &r.inhoud_sha256, &r.gegevens, at)
            .await?
        {
            counts.gewijzigd += 1;
        } else {
            counts.ongewijzigd += 1;
        }
    }
    Ok(())
}

/// What processing needs of one school, read once per run.
struct SchoolCtx {
    data: SchoolData,
    by_boom: HashMap<String, Pupil>,
    by_eck: HashMap<String, Pupil>,
    timelines: HashMap<String, PupilTimeline>,
}

/// What a processing run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Run {
    pub verwerkt: usize,
    pub fouten: usize,
    /// Results that had an open error before and are processed now.
    pub opgelost: usize,
}

impl App {
    /// Receives one `BrengLeerresultaten` call (the raw body): checks it in the contract's order,
    /// stores the delivery with all its results in one transaction, and only then answers. A
    /// refused call is logged without its body.
    pub async fn receive_uwlr(&self, body: &[u8]) -> Result<Receipt, IntakeFault> {
        let sha = sha256_hex(body);
        let result = self.receive_checked(body, &sha).await;
        if let Err((fault, koppeling)) = &result {
            self.log_uwlr_refusal(fault, koppeling.as_deref(), body.len(), &sha)
                .await;
        }
        let receipt = result.map_err(|(f, _)| f)?;
        self.intake.wake();
        Ok(receipt)
    }

    /// Logs a refused UWLR call (a log line and a row in `uwlr_weigeringen`): time, koppeling
    /// if known, fault code, size and SHA-256 (empty when the body was not read whole). Never
    /// the body. For refusals before the app sees the message too (size, SOAPAction, a full
    /// house).
    pub async fn log_uwlr_refusal(
        &self,
        fault: &IntakeFault,
        koppeling: Option<&str>,
        size: usize,
        sha: &str,
    ) {
        tracing::warn!(
            foutcode = fault.code,
            grootte = size,
            sha256 = %sha,
            koppeling = koppeling.unwrap_or("-"),
            "UWLR-bericht geweigerd"
        );
        if let Ok(mut c) = self.db.conn().await {
            let _ = leveringen::log_refusal(&mut c, koppeling, fault.code, size as i64, sha, now())
                .await;
        }
    }

    async fn receive_checked(
        &self,
        body: &[u8],
        sha: &str,
    ) -> Result<Receipt, (IntakeFault, Option<String>)> {
        if body.len() > self.settings.uwlr_body_limit {
            return Err((IntakeFault::te_groot(self.settings.uwlr_body_limit), None));
        }
        let text = std::str::from_utf8(body).map_err(|_| {
            (
                IntakeFault::from(uwlr::Fault::OngeldigBericht(
                    "Het bericht is geen UTF-8.".into(),
                )),
                None,
            )
        })?;
        // Characters XML 1.0 does not allow (quick-xml does not check text for them).
        if text.chars().any(|c| {
            matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
        }) {
            return Err((
                uwlr::Fault::OngeldigBericht(
                    "Het bericht bevat een teken dat in XML niet mag (een stuurteken).".into(),
                )
                .into(),
                None,
            ));
        }
        // First pass: the whole message checked, one toetsafname at a time (nothing kept but
        // the header, the school, the toetsen and a count); the second pass, below, stores it.
        let mut stream = uwlr::Stream::new(body);
        let mut aantal = 0;
        while let Some(a) = stream
            .next_afname()
            .map_err(|f| (IntakeFault::from(f), None))?
        {
            usable_leerlingid(&a.leerlingid).map_err(|f| (f, None))?;
            aantal += a.resultaten.len();
        }
        let req = stream.head();
        // Authentication, in the contract's order.
        let aut = req
            .autorisatie
            .as_ref()
            .filter(|a| a.is_complete())
            .ok_or((IntakeFault::autorisatie(), None))?;
        let named = NamedSchool {
            brincode: req.school.brincode.clone(),
            dependancecode: req.school.dependancecode.clone(),
            schoolkey: req.school.schoolkey.clone(),
        };
        let at = now();
        let k = match self
            .authenticate_uwlr(
                &aut.autorisatiesleutel,
                &aut.klantcode,
                &aut.klantnaam,
                &named,
                at,
            )
            .await
        {
            Ok(k) => k,
            Err(UwlrFailure::Refused(UwlrAuthFailure::KlantIdentificatie)) => {
                return Err((IntakeFault::klant(), None));
            }
            Err(UwlrFailure::Refused(UwlrAuthFailure::Autorisatie)) => {
                return Err((IntakeFault::autorisatie(), None));
            }
            Err(UwlrFailure::App(e)) => {
                tracing::error!(error = %e, "UWLR: autorisatie niet te controleren");
                return Err((IntakeFault::tijdelijk(), None));
            }
        };
        if !self.uwlr_limiter.allow(&k.id) {
            return Err((IntakeFault::te_vaak(), Some(k.id.clone())));
        }
        match self.store_levering(&k, &req, aantal, text, sha, at).await {
            Ok(stored) => stored.map_err(|f| (f, Some(k.id.clone()))),
            Err(e) => {
                tracing::error!(error = %e, "UWLR: levering niet opgeslagen");
                Err((IntakeFault::tijdelijk(), Some(k.id.clone())))
            }
        }
    }

    /// Stores the levering and its results in one transaction, reading the message a second
    /// time and storing its results a batch at a time (about 1,000), so what is held besides the
    /// message is one batch. A refusal found on the way (two outcomes of one afname) rolls it
    /// all back.
    async fn store_levering(
        &self,
        k: &koppelingen::Koppeling,
        head: &uwlr::Request,
        aantal: usize,
        body: &str,
        sha: &str,
        at: time::OffsetDateTime,
    ) -> Result<Result<Receipt, IntakeFault>, DbError> {
        const BATCH_RESULTS: usize = 1000;
        let mut tx = self.db.begin().await?;
        let original = leveringen::original_of(&mut tx, &k.id, sha).await?;
        let levering = uuid_v7();
        leveringen::insert_levering(
            &mut tx,
            &NewLevering {
                id: levering.clone(),
                school_id: k.school_id,
                koppeling_id: k.id.clone(),
                ontvangen_op: at,
                schooljaar: head.school.schooljaar.clone(),
                aanmaakdatum: head.school.aanmaakdatum.clone(),
                auteur: head.school.auteur.clone(),
                xsdversie: head.school.xsdversie.clone(),
                sha256: sha.to_string(),
                grootte: body.len() as i64,
                body_bewaard_tot: at + self.settings.uwlr_bewaartermijn,
                herhaling_van: original.clone(),
                aantal: aantal as i64,
            },
        )
        .await?;
        leveringen::insert_body(&mut tx, &levering, body).await?;
        let mut counts = Counts::default();
        let mut rows = RowBuilder::new(&head.toetsen);
        let mut stream = uwlr::Stream::new(body.as_bytes());
        let mut batch = Vec::new();
        let mut in_batch = 0;
        loop {
            // The first pass read the same bytes without a refusal.
            let next = match stream.next_afname() {
                Ok(n) => n,
                Err(f) => return Ok(Err(f.into())),
            };
            let end = next.is_none();
            if let Some(a) = next {
                in_batch += a.resultaten.len();
                batch.push(a);
            }
            if in_batch >= BATCH_RESULTS || (end && !batch.is_empty()) {
                let new_rows = match rows.add(&batch) {
                    Ok(r) => r,
                    Err(f) => return Ok(Err(f)),
                };
                batch.clear();
                in_batch = 0;
                store_rows(&mut tx, k, &levering, &new_rows, at, &mut counts).await?;
            }
            if end {
                break;
            }
        }
        leveringen::set_counts(
            &mut tx,
            &levering,
            counts.nieuw as i64,
            counts.gewijzigd as i64,
            counts.ongewijzigd as i64,
        )
        .await?;
        koppelingen::mark_connected(&mut tx, &k.id, at).await?;
        tx.commit().await?;
        Ok(Ok(Receipt {
            levering,
            school: k.school_id,
            aantal,
            nieuw: counts.nieuw,
            gewijzigd: counts.gewijzigd,
            ongewijzigd: counts.ongewijzigd,
            herhaling: original.is_some(),
        }))
    }

    /// Starts the worker that processes received results in the background: woken by each
    /// stored delivery, and every few seconds for work other processes left (a claim that ran
    /// out after a crash). Also forgets raw bodies past their retention.
    pub fn start_intake_worker(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut last_cleanup = None::<time::OffsetDateTime>;
            loop {
                match app.process_received(&Scope::Due).await {
                    Ok(run) if run.verwerkt + run.fouten > 0 => tracing::info!(
                        verwerkt = run.verwerkt,
                        fouten = run.fouten,
                        "ontvangen resultaten verwerkt"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "ontvangen resultaten verwerken mislukt"),
                }
                let t = now();
                if last_cleanup.is_none_or(|l| t - l > Duration::hours(1)) {
                    last_cleanup = Some(t);
                    if let Ok(mut c) = app.db.conn().await
                        && let Err(e) = leveringen::drop_old_bodies(&mut c, t).await
                    {
                        tracing::error!(error = %e, "oude berichten opruimen mislukt");
                    }
                }
                tokio::select! {
                    _ = app.intake.0.notified() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(3)) => {}
                }
            }
        });
    }

    /// Processes the due received results of a scope now (the worker uses `Scope::Due`; a fix
    /// or "opnieuw verwerken" makes its scope due first). Results another worker holds are left
    /// to it.
    pub async fn process_received(&self, scope: &Scope) -> AppResult<Run> {
        if !matches!(scope, Scope::Due) {
            let mut c = self.db.conn().await?;
            leveringen::mark_due(&mut c, scope).await?;
        }
        let mut schools = HashMap::new();
        let mut run = Run::default();
        loop {
            let at = now();
            let claimed = {
                let mut tx = self.db.begin().await?;
                let c = leveringen::claim(&mut tx, scope, BATCH, at, at + CLAIM).await?;
                tx.commit().await.map_err(DbError::from)?;
                c
            };
            if claimed.is_empty() {
                return Ok(run);
            }
            self.process_batch(&claimed, &mut schools, &mut run).await?;
        }
    }

    /// Processes results claimed earlier (with `leveringen::claim`), as a worker does after its
    /// claim. Public for the tests of the race with a newer delivery; everything else goes
    /// through `process_received`.
    pub async fn process_claimed(&self, claimed: &[Received]) -> AppResult<Run> {
        let mut run = Run::default();
        self.process_batch(claimed, &mut HashMap::new(), &mut run)
            .await?;
        Ok(run)
    }

    /// Processes one claimed batch in one transaction. A result that a newer delivery changed
    /// after the claim is skipped (its new version is due and processed next).
    async fn process_batch(
        &self,
        claimed: &[Received],
        schools: &mut HashMap<SchoolId, SchoolCtx>,
        run: &mut Run,
    ) -> AppResult<()> {
        for r in claimed {
            if let std::collections::hash_map::Entry::Vacant(e) = schools.entry(r.school_id) {
                e.insert(self.school_ctx(r.school_id).await?);
            }
        }
        let at = now();
        let mut tx = self.db.begin().await?;
        let held = leveringen::hold(&mut tx, claimed).await?;
        let mut outcomes = Vec::with_capacity(held.len());
        let mut new_rows = Vec::new();
        for r in claimed.iter().filter(|r| held.contains(&r.id)) {
            let ctx = schools.get_mut(&r.school_id).expect("loaded above");
            let (o, new_row) = process_one(&mut tx, ctx, r, at).await?;
            if let Some(row) = new_row {
                new_rows.push((r.school_id, row));
            }
            outcomes.push((r, o));
        }
        let refs: Vec<_> = new_rows.iter().map(|(s, row)| (*s, row)).collect();
        resultaten::insert_many(&mut tx, &refs, at).await?;
        let done: Vec<_> = outcomes.iter().map(|(r, o)| (*r, o)).collect();
        // Held above, so no version can have changed; counted from what was stored all the same.
        let stored = leveringen::finish(&mut tx, &done, at).await?;
        for (r, o) in outcomes.iter().filter(|(r, _)| stored.contains(&r.id)) {
            if o.status == "verwerkt" {
                run.verwerkt += 1;
                if r.status == "fout" {
                    run.opgelost += 1;
                }
            } else {
                run.fouten += 1;
            }
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    async fn school_ctx(&self, school: SchoolId) -> AppResult<SchoolCtx> {
        let data = self.school_data(school).await?;
        let mut c = self.db.conn().await?;
        let all = pupils::list(&mut c, school).await?;
        let mut by_boom: HashMap<String, Pupil> = HashMap::new();
        let mut by_eck = HashMap::new();
        // Active pupils first, so a number still on a pupil who left loses to an active one.
        for p in all
            .iter()
            .filter(|p| p.uitgeschreven_op.is_none())
            .chain(all.iter().filter(|p| p.uitgeschreven_op.is_some()))
        {
            if let Some(b) = &p.boom_leerlingnummer {
                by_boom.entry(b.clone()).or_insert_with(|| p.clone());
            }
            if let Some(e) = &p.eck_id {
                by_eck.entry(e.clone()).or_insert_with(|| p.clone());
            }
        }
        Ok(SchoolCtx {
            data,
            by_boom,
            by_eck,
            timelines: HashMap::new(),
        })
    }
}

/// Steps 1–6 of the contract for one received result. A result shown before is updated (or
/// taken away) here; a new one is returned for the caller to insert with the rest of the batch.
async fn process_one(
    tx: &mut startblok_db::Conn,
    ctx: &mut SchoolCtx,
    r: &Received,
    at: time::OffsetDateTime,
) -> AppResult<(Outcome, Option<Resultaat>)> {
    let g = Gegevens::parse(&r.gegevens)?;
    let school = r.school_id;
    let id = &r.identity;
    // 1. The pupil: by Boom-leerlingnummer, else by ECK-iD (which then gives the number).
    let mut pupil = ctx.by_boom.get(&id.leerlingid).cloned();
    if pupil.is_none()
        && let Some(e) = g.inhoud.eckid.as_deref()
        && let Some(p) = ctx.by_eck.get(e).cloned()
    {
        if p.boom_leerlingnummer.is_none() {
            pupils::set_boom(tx, school, &p.id, Some(&id.leerlingid), "uwlr", at).await?;
            audit(
                tx,
                &Actor::system(),
                "leerling.boomnummer.via_eckid",
                Some(("leerling", p.id.clone())),
                Some(school),
            )
            .await?;
            let mut q = p.clone();
            q.boom_leerlingnummer = Some(id.leerlingid.clone());
            ctx.by_boom.insert(id.leerlingid.clone(), q.clone());
            ctx.by_eck.insert(e.to_string(), q);
        }
        pupil = Some(p);
    }
    let Some(pupil) = pupil else {
        // A result shown on a pupil before (whose number has changed since) is taken away.
        if let Some(old) = &r.resultaat_id {
            resultaten::remove(tx, school, old, None, at).await?;
        }
        let o = Outcome {
            status: "fout".into(),
            fout: Some(LEERLING_NIET_GEVONDEN.into()),
            pupil_id: None,
            resultaat_id: None,
        };
        return Ok((o, None));
    };
    // 2. The test, by (toetscode, versie) and onderdeel, with a vak.
    let toets = ctx
        .data
        .toetsen
        .iter()
        .find(|t| {
            t.toetscode == id.toetscode
                && t.versie == id.versie
                && (id.onderdeel.is_empty()
                    || t.onderdelen.is_empty()
                    || t.onderdelen.contains(&id.onderdeel))
        })
        .filter(|t| t.vak_id.is_some())
        .cloned();
    let afnamedatum = startblok_db::pupils::parse_date(&id.afnamedatum)
        .ok_or_else(|| AppError::Corrupt(format!("afnamedatum {}", id.afnamedatum)))?;
    let mut row = Resultaat {
        id: r.resultaat_id.clone().unwrap_or_else(uuid_v7),
        pupil_id: pupil.id.clone(),
        herkomst: "boom".into(),
        vak_id: toets.as_ref().and_then(|t| t.vak_id.clone()),
        toets_id: toets.as_ref().map(|t| t.id.clone()),
        toetsnaam: Some(
            toets
                .as_ref()
                .map(|t| t.naam.clone())
                .or_else(|| g.toets.as_ref().and_then(|t| t.naam.clone()))
                .unwrap_or_else(|| id.toetscode.clone()),
        ),
        onderdeel: (!id.onderdeel.is_empty()).then(|| id.onderdeel.clone()),
        afnamedatum,
        score: g.inhoud.score.clone(),
        vaardigheidsscore: g.toetsscore("vaardigheidsscore").map(String::from),
        referentie_dle: g.referentie("DLE").map(String::from),
        referentie_fn: g.referentie("FN").map(String::from),
        derived: Derived::default(),
        ingevoerd_door: None,
        created_at: at,
    };
    // 3–6, the norms steps.
    row.derived = if toets.is_none() {
        Derived {
            status: "fout".into(),
            fout: Some(TOETS_NIET_GEVONDEN.into()),
            ..Derived::default()
        }
    } else {
        if !ctx.timelines.contains_key(&pupil.id) {
            let t = timeline(tx, school, &pupil, &ctx.data.bands).await?;
            ctx.timelines.insert(pupil.id.clone(), t);
        }
        derived(&process(&row, &ctx.timelines[&pupil.id], &ctx.data))
    };
    let o = Outcome {
        status: row.derived.status.clone(),
        fout: row.derived.fout.clone(),
        pupil_id: Some(pupil.id.clone()),
        resultaat_id: Some(row.id.clone()),
    };
    if r.resultaat_id.is_some() {
        resultaten::update_received(tx, school, &row, at).await?;
        Ok((o, None))
    } else {
        Ok((o, Some(row)))
    }
}

/// An unknown Boom-leerlingnummer with its open results (fix: pick the pupil).
#[derive(Debug, Clone)]
pub struct UnknownPupil {
    pub leerlingid: String,
    pub aantal: usize,
    pub eerste: String,
    pub laatste: String,
}

/// A test that is not in the catalogue (with a vak), as the message describes it (fix: add it
/// with a vak).
#[derive(Debug, Clone)]
pub struct UnknownTest {
    pub toetscode: String,
    pub versie: String,
    pub naam: String,
    pub vakgebied: String,
    pub onderdelen: Vec<String>,
    pub aantal: usize,
}

/// An open error of a known pupil (toetsdoel, DLE, score, norm).
#[derive(Debug, Clone)]
pub struct ResultError {
    pub id: String,
    pub fout: String,
    pub uitleg: String,
    pub pupil_id: Option<String>,
    pub pupil_naam: String,
    pub toets: String,
    pub afnamedatum: String,
    pub score: String,
    pub toetsdoel_id: Option<String>,
    pub vak_id: Option<String>,
    pub fase: Option<i64>,
}

/// Instellingen > Boom testcentrum: the deliveries (one page) and the open errors by kind.
#[derive(Debug, Clone)]
pub struct IntakeOverview {
    pub leveringen: Vec<leveringen::Levering>,
    pub total: i64,
    pub open: usize,
    pub unknown_pupils: Vec<UnknownPupil>,
    pub unknown_tests: Vec<UnknownTest>,
    pub result_errors: Vec<ResultError>,
    /// Open errors per kind, all of them (the lists above are capped).
    pub counts: Vec<(String, i64)>,
    /// Active pupils to pick from: (id, name with groep, Boom-leerlingnummer).
    pub pupils: Vec<(String, String, Option<String>)>,
    pub vakken: Vec<(String, String)>,
}

/// The school's active pupils to pick from when a Boom-leerlingnummer is unknown: (id, label,
/// current Boom-leerlingnummer), by label. The label is the name with the groep, made unique
/// (` · 2`, …) when two pupils share both, because the pick is made by typing it.
fn pupil_choices(
    all: &[Pupil],
    groups: &[startblok_db::groups::Group],
) -> Vec<(String, String, Option<String>)> {
    let mut pupils: Vec<(String, String, Option<String>)> = all
        .iter()
        .filter(|p| p.uitgeschreven_op.is_none())
        .map(|p| {
            let groep = p
                .group_id
                .as_deref()
                .and_then(|g| groups.iter().find(|x| x.id == g))
                .map(|g| format!(" ({})", g.naam))
                .unwrap_or_default();
            (
                p.id.clone(),
                format!("{}{groep}", p.sort_name()),
                p.boom_leerlingnummer.clone(),
            )
        })
        .collect();
    pupils.sort_by(|a, b| (a.1.to_lowercase(), &a.0).cmp(&(b.1.to_lowercase(), &b.0)));
    let mut seen: HashMap<String, usize> = HashMap::new();
    for p in &mut pupils {
        let n = seen.entry(p.1.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            p.1 = format!("{} · {n}", p.1);
        }
    }
    pupils
}

/// The Dutch sentence for an error kind of a received result.
pub fn fout_uitleg(fout: &str, leerlingid: &str, toets: &str) -> String {
    match fout {
        LEERLING_NIET_GEVONDEN => format!("Boom-leerlingnummer {leerlingid} is niet gevonden"),
        TOETS_NIET_GEVONDEN => format!("Toets '{toets}' is niet gevonden"),
        other => startblok_domain::norms::ResultFout::from_code(other)
            .map(|f| f.label().to_string())
            .unwrap_or_else(|| other.to_string()),
    }
}

/// An ISO date as people read it (`2026-11-10` → `10-11-2026`).
pub fn nl_date(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() == 10 => format!("{d}-{m}-{y}"),
        _ => iso.to_string(),
    }
}

/// How many open errors to list at most (the counts are always complete).
/// At most this many unknown Boom-leerlingnummers, or unknown tests, are listed with a fix.
const GROUP_LIMIT: i64 = 200;
/// At most this many open errors of one kind of known pupils are listed (the page says how many
/// there are in all).
const ERRORS_PER_KIND: i64 = 100;

impl App {
    pub async fn intake_overview(
        &self,
        school: SchoolId,
        offset: i64,
        limit: i64,
    ) -> AppResult<IntakeOverview> {
        let vakken = self.vakken(school).await?;
        let mut c = self.db.conn().await?;
        let list = leveringen::of_school(&mut c, school, offset, limit).await?;
        let total = leveringen::count_of_school(&mut c, school).await?;
        let counts = leveringen::error_counts(&mut c, school).await?;
        let open: i64 = counts.iter().map(|(_, n)| n).sum();
        let all = pupils::list(&mut c, school).await?;
        let groups = startblok_db::groups::list(&mut c, school).await?;
        // Every kind is listed, each on its own: many errors of one kind never hide another.
        let unknown_pupils: Vec<UnknownPupil> =
            leveringen::open_error_leerlingids(&mut c, school, LEERLING_NIET_GEVONDEN, GROUP_LIMIT)
                .await?
                .into_iter()
                .map(|(leerlingid, n, eerste, laatste)| UnknownPupil {
                    leerlingid,
                    aantal: n as usize,
                    eerste: nl_date(&eerste),
                    laatste: nl_date(&laatste),
                })
                .collect();
        let mut unknown_tests: Vec<UnknownTest> = Vec::new();
        for (id, n, example) in
            leveringen::open_error_toetsen(&mut c, school, TOETS_NIET_GEVONDEN, GROUP_LIMIT).await?
        {
            let g = Gegevens::parse(&example.gegevens)?;
            match unknown_tests
                .iter_mut()
                .find(|t| t.toetscode == id.toetscode && t.versie == id.versie)
            {
                Some(t) => {
                    t.aantal += n as usize;
                    if !id.onderdeel.is_empty() && !t.onderdelen.contains(&id.onderdeel) {
                        t.onderdelen.push(id.onderdeel.clone());
                    }
                }
                None => {
                    let def = g.toets.clone().unwrap_or_default();
                    let mut onderdelen: Vec<String> =
                        def.onderdelen.iter().map(|(c, _)| c.clone()).collect();
                    if !id.onderdeel.is_empty() && !onderdelen.contains(&id.onderdeel) {
                        onderdelen.push(id.onderdeel.clone());
                    }
                    unknown_tests.push(UnknownTest {
                        toetscode: id.toetscode.clone(),
                        versie: id.versie.clone(),
                        naam: def.naam.unwrap_or_else(|| id.toetscode.clone()),
                        vakgebied: def.vakgebied.unwrap_or_default(),
                        onderdelen,
                        aantal: n as usize,
                    });
                }
            }
        }
        let mut result_errors = Vec::new();
        for (fout, _) in counts
            .iter()
            .filter(|(f, _)| f != LEERLING_NIET_GEVONDEN && f != TOETS_NIET_GEVONDEN)
        {
            for e in leveringen::open_errors(&mut c, school, fout, ERRORS_PER_KIND).await? {
                let g = Gegevens::parse(&e.gegevens)?;
                let id = &e.identity;
                let p = e
                    .pupil_id
                    .as_deref()
                    .and_then(|pid| all.iter().find(|p| p.id == pid));
                let row = match &e.resultaat_id {
                    Some(rid) => resultaten::get(&mut c, school, rid).await?,
                    None => None,
                };
                let toets = row
                    .as_ref()
                    .and_then(|r| r.toetsnaam.clone())
                    .unwrap_or_else(|| id.toetscode.clone());
                let toets = if id.onderdeel.is_empty() {
                    toets
                } else {
                    format!("{toets} ({})", id.onderdeel)
                };
                result_errors.push(ResultError {
                    id: e.id.clone(),
                    fout: fout.to_string(),
                    uitleg: fout_uitleg(fout, &id.leerlingid, &toets),
                    pupil_id: p.map(|p| p.id.clone()),
                    pupil_naam: p.map(|p| p.display_name()).unwrap_or_default(),
                    toets,
                    afnamedatum: nl_date(&id.afnamedatum),
                    score: g
                        .referentie("DLE")
                        .map(|d| format!("DLE {d}"))
                        .or_else(|| g.referentie("FN").map(|f| format!("FN {f}")))
                        .or_else(|| g.inhoud.score.clone().map(|s| format!("score {s}")))
                        .or_else(|| {
                            g.toetsscore("vaardigheidsscore")
                                .map(|v| format!("vaardigheidsscore {v}"))
                        })
                        .unwrap_or_default(),
                    toetsdoel_id: row
                        .as_ref()
                        .and_then(|r| r.derived.toetsdoel_id.clone())
                        .or_else(|| p.and_then(|p| p.toetsdoel_id.clone())),
                    vak_id: row.as_ref().and_then(|r| r.vak_id.clone()),
                    fase: row.as_ref().and_then(|r| r.derived.fase),
                });
            }
        }
        let pupils = pupil_choices(&all, &groups);
        Ok(IntakeOverview {
            leveringen: list,
            total,
            open: open as usize,
            unknown_pupils,
            unknown_tests,
            result_errors,
            counts,
            pupils,
            vakken: vakken.into_iter().map(|v| (v.id, v.naam)).collect(),
        })
    }

    /// For the start page: the open errors of received results, and when the newest delivery
    /// arrived.
    pub async fn intake_summary(
        &self,
        school: SchoolId,
    ) -> AppResult<(usize, Option<time::OffsetDateTime>)> {
        let open = self.open_error_count(school).await?;
        let mut c = self.db.conn().await?;
        let last = leveringen::of_school(&mut c, school, 0, 1)
            .await?
            .first()
            .map(|l| l.ontvangen_op);
        Ok((open, last))
    }

    async fn open_error_count(&self, school: SchoolId) -> AppResult<usize> {
        let mut c = self.db.conn().await?;
        Ok(leveringen::error_counts(&mut c, school)
            .await?
            .iter()
            .map(|(_, n)| *n as usize)
            .sum())
    }

    /// Fix for LEERLING_NIET_GEVONDEN: the number becomes the pupil's Boom-leerlingnummer, and
    /// every open error is processed again at once. Returns how many errors were resolved, or
    /// the reason in Dutch.
    pub async fn assign_leerlingid(
        &self,
        who: &crate::pupils::InSchool,
        leerlingid: &str,
        gekozen: &str,
    ) -> AppResult<Result<usize, String>> {
        let gekozen = gekozen.trim();
        if gekozen.is_empty() {
            return Ok(Err(
                "Typ een deel van de naam en kies de leerling bij wie dit nummer hoort.".into(),
            ));
        }
        // The pick is a label from the list (typed, or chosen from the suggestions); a label
        // typed in other capitals still counts when it names one pupil.
        let choices = {
            let mut c = self.db.conn().await?;
            let all = pupils::list(&mut c, who.school).await?;
            let groups = startblok_db::groups::list(&mut c, who.school).await?;
            pupil_choices(&all, &groups)
        };
        let exact: Vec<_> = choices.iter().filter(|p| p.1 == gekozen).collect();
        let loose: Vec<_> = choices
            .iter()
            .filter(|p| p.1.to_lowercase() == gekozen.to_lowercase())
            .collect();
        let pupil = match (exact.as_slice(), loose.as_slice()) {
            ([one], _) | ([], [one]) => one.0.clone(),
            _ => {
                return Ok(Err(format!(
                    "Er is geen leerling \"{gekozen}\". Typ een deel van de naam en kies een \
                     leerling uit de lijst die verschijnt."
                )));
            }
        };
        let pupil = pupil.as_str();
        let before = self.open_error_count(who.school).await?;
        match self
            .save_boom_bulk(who, &[(pupil.to_string(), leerlingid.to_string())])
            .await?
        {
            Ok(_) => {}
            Err(errors) => {
                return Ok(Err(errors
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join(" ")));
            }
        }
        self.process_received(&Scope::School(who.school)).await?;
        let after = self.open_error_count(who.school).await?;
        Ok(Ok(before.saturating_sub(after)))
    }

    /// Fix for TOETS_NIET_GEVONDEN: the test as the message describes it goes into the
    /// catalogue with a vak (or gets the vak when it is there without one), and every open
    /// error is processed again.
    pub async fn map_toets(
        &self,
        who: &crate::pupils::InSchool,
        toetscode: &str,
        versie: &str,
        vak: &str,
    ) -> AppResult<Result<usize, String>> {
        let overview = self.intake_overview(who.school, 0, 1).await?;
        let Some(t) = overview
            .unknown_tests
            .iter()
            .find(|t| t.toetscode == toetscode && t.versie == versie)
        else {
            return Ok(Err("Deze toets heeft geen open fouten meer.".into()));
        };
        if !overview.vakken.iter().any(|(id, _)| id == vak) {
            return Ok(Err("Kies het vak waar deze toets bij hoort.".into()));
        }
        let before = self.open_error_count(who.school).await?;
        let existing = self
            .toetsen(who.school)
            .await?
            .into_iter()
            .find(|x| x.toetscode == toetscode && x.versie == versie);
        let mut tx = self.db.begin().await?;
        match existing {
            Some(x) => {
                let mut onderdelen = x.onderdelen.clone();
                for o in &t.onderdelen {
                    if !onderdelen.contains(o) {
                        onderdelen.push(o.clone());
                    }
                }
                startblok_db::toetsen::update(
                    &mut tx,
                    who.school,
                    &x.id,
                    &x.naam,
                    Some(vak),
                    &onderdelen,
                )
                .await?;
            }
            None => {
                startblok_db::toetsen::insert_if_absent(
                    &mut tx,
                    who.school,
                    &startblok_db::toetsen::NewToets {
                        leverancier: "Boom",
                        toetscode,
                        versie,
                        naam: &t.naam,
                        vak_id: Some(vak),
                        onderdelen: &t.onderdelen,
                    },
                    now(),
                )
                .await?;
            }
        }
        audit(
            &mut tx,
            &who.actor,
            "toets.toegevoegd_uit_levering",
            Some(("toets", format!("{toetscode} {versie}"))),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        self.process_received(&Scope::SchoolErrors(who.school))
            .await?;
        let after = self.open_error_count(who.school).await?;
        Ok(Ok(before.saturating_sub(after)))
    }

    /// A Beheerder sets an open error aside with a reason (it no longer counts as open; the
    /// result stays stored, and a later version of it is processed as usual).
    pub async fn dismiss_error(
        &self,
        who: &crate::pupils::InSchool,
        id: &str,
        reden: &str,
    ) -> AppResult<Result<(), String>> {
        let reden = reden.trim();
        if reden.is_empty() {
            return Ok(Err(
                "Schrijf kort op waarom deze fout genegeerd mag worden.".into(),
            ));
        }
        let mut tx = self.db.begin().await?;
        let Some(r) = leveringen::dismiss(&mut tx, who.school, id, reden, now()).await? else {
            return Ok(Err("Deze fout is er niet meer.".into()));
        };
        if let Some(rid) = &r.resultaat_id {
            resultaten::remove(
                &mut tx,
                who.school,
                rid,
                who.actor.user_id.map(|u| u.to_string()).as_deref(),
                now(),
            )
            .await?;
        }
        audit(
            &mut tx,
            &who.actor,
            "resultaat.fout_genegeerd",
            Some(("ontvangen_resultaat", id.to_string())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(()))
    }

    /// "Opnieuw verwerken" for a delivery or one received result. Returns what the run did.
    pub async fn reprocess_received(&self, scope: &Scope) -> AppResult<Run> {
        self.process_received(scope).await
    }

    /// One delivery of a school with its results (one page).
    pub async fn levering_detail(
        &self,
        school: SchoolId,
        id: &str,
        offset: i64,
        limit: i64,
    ) -> AppResult<Option<(leveringen::Levering, Vec<Received>)>> {
        let mut c = self.db.conn().await?;
        let Some(l) = leveringen::get(&mut c, school, id).await? else {
            return Ok(None);
        };
        let rows = leveringen::of_levering(&mut c, school, id, offset, limit).await?;
        Ok(Some((l, rows)))
    }
}
