//! Results (norms.md, uwlr-intake.md): processing a result against the school's data, a pupil's
//! results per vak with the norm band for the chart, results entered by hand (paper tests), and
//! the Groepsoverzicht.
//!
//! Processing is `startblok_domain::norms::process_result`: a pure function of the result and
//! the school's data (toetsdoel history, fase, conversion tables, norms). The app gathers that
//! data and stores the outcome. Growth is derived when results are shown, from the neighbouring
//! processed result of the same vak, so it is always true after a result is added or removed.

use std::collections::HashMap;

use startblok_db::norms::{self as normdb, Vak};
use startblok_db::pupils::{self, Pupil};
use startblok_db::resultaten::{self, Derived, Resultaat};
use startblok_db::toetsen::Toets;
use startblok_db::{Conn, DbError, groups, toetsdoelen};
use startblok_domain::norms::{
    Bound, Dle, Judgement, Norm, Processed, PupilTimeline, ResultFout, ResultScores, dle_of_fn,
    growth_per_month, process_result,
};
use startblok_domain::{FaseBands, FaseEntry, SchoolId, parse_past_date, today_nl};
use time::Date;

use crate::forms::FormErrors;
use crate::pupils::InSchool;
use crate::toetsdoelen::uuid_v7;
use crate::toetsen::{Tables, table_for};
use crate::{App, AppError, AppResult, audit, now};

/// The school data processing needs, read once for many results.
pub struct SchoolData {
    pub vakken: Vec<Vak>,
    pub toetsen: Vec<Toets>,
    pub tables: Tables,
    norms: HashMap<(String, String, u8), Norm>,
    pub toetsdoelen: Vec<toetsdoelen::Toetsdoel>,
    pub bands: FaseBands,
    pub periodes: Vec<startblok_db::school_setup::Toetsperiode>,
    pub month_table: startblok_domain::norms::MonthTable,
}

impl SchoolData {
    /// The name of the test period a date falls in, if any.
    pub fn periode_on(&self, d: Date) -> Option<&str> {
        self.periodes
            .iter()
            .find(|p| p.van <= d && d <= p.tot_en_met)
            .map(|p| p.naam.as_str())
    }

    pub fn norm(&self, toetsdoel: &str, vak: &str, fase: u8) -> Option<Norm> {
        self.norms
            .get(&(toetsdoel.to_string(), vak.to_string(), fase))
            .copied()
    }

    pub fn toetsdoel_code(&self, id: &str) -> String {
        self.toetsdoelen
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.code.clone())
            .unwrap_or_default()
    }
}

fn dle_of(tenths: i64, bound: Bound) -> Option<Dle> {
    u16::try_from(tenths)
        .ok()
        .and_then(|t| Dle::from_tenths(t, bound))
}

/// A stored DLE back as a value: the text keeps the bound (`>60`).
pub fn stored_dle(d: &Derived) -> Option<Dle> {
    d.dle.as_deref().and_then(|s| Dle::parse(s).ok())
}

pub fn stored_judgement(d: &Derived) -> Option<Judgement> {
    match d.oordeel.as_deref() {
        Some("onder_norm") => Some(Judgement::OnderNorm),
        Some("op_norm") => Some(Judgement::OpNorm),
        Some("op_streefniveau") => Some(Judgement::OpStreefniveau),
        _ => None,
    }
}

fn judgement_code(j: Judgement) -> &'static str {
    match j {
        Judgement::OnderNorm => "onder_norm",
        Judgement::OpNorm => "op_norm",
        Judgement::OpStreefniveau => "op_streefniveau",
    }
}

/// The outcome of processing as stored.
pub fn derived(p: &Processed) -> Derived {
    Derived {
        dle: p.dle.map(|(d, _)| d.to_string()),
        dle_tenths: p.dle.map(|(d, _)| i64::from(d.tenths())),
        dle_bron: p.dle.map(|(_, s)| s.label().to_string()),
        fase: p.fase.map(i64::from),
        toetsdoel_id: p.toetsdoel.clone(),
        norm_ondergrens_tenths: p.norm.map(|n| i64::from(n.ondergrens.tenths())),
        norm_streef_tenths: p.norm.map(|n| i64::from(n.streef.tenths())),
        oordeel: p.judgement.map(|j| judgement_code(j).to_string()),
        status: if p.fout.is_none() { "verwerkt" } else { "fout" }.to_string(),
        fout: p.fout.map(|f| f.code().to_string()),
        verwerkt_op: None,
    }
}

/// The fase entries and toetsdoel history of a pupil, with the school's fase bands.
pub async fn timeline(
    conn: &mut Conn,
    school: SchoolId,
    p: &Pupil,
    bands: &FaseBands,
) -> AppResult<PupilTimeline> {
    let entries = pupils::fase_entries(conn, school, &p.id).await?;
    let history = pupils::toetsdoel_history(conn, school, &p.id).await?;
    let mut toetsdoelen: Vec<(Date, Option<String>)> = history
        .iter()
        .filter_map(|c| c.valid_from.map(|d| (d, c.value.clone())))
        .collect();
    // History is newest first; several changes on one date: the newest counts.
    toetsdoelen.reverse();
    toetsdoelen.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            earlier.1 = later.1.clone();
            true
        } else {
            false
        }
    });
    Ok(PupilTimeline {
        start: p.start_nieuwkomers.or(p.instroomdatum),
        fase_entries: entries
            .iter()
            .map(|e| FaseEntry {
                from: e.vanaf,
                fase: e.fase.clamp(1, 255) as u8,
            })
            .collect(),
        bands: bands.clone(),
        toetsdoelen,
    })
}

/// Processes a result with the school's data: the domain's steps 3–6.
pub fn process(r: &Resultaat, pupil: &PupilTimeline, data: &SchoolData) -> Processed {
    let mut referenties = Vec::new();
    if let Some(d) = &r.referentie_dle {
        referenties.push(("DLE".to_string(), d.clone()));
    }
    if let Some(f) = &r.referentie_fn {
        referenties.push(("FN".to_string(), f.clone()));
    }
    let conversie = r
        .toets_id
        .as_deref()
        .and_then(|t| table_for(&data.tables, t, r.onderdeel.as_deref()));
    // The table says which score it reads.
    let score = match conversie.map(|c| c.bron.as_str()) {
        Some("vaardigheidsscore") => r.vaardigheidsscore.as_deref(),
        _ => r.score.as_deref(),
    };
    let scores = ResultScores {
        referentiescores: &referenties,
        score,
    };
    let table = conversie.map(|c| &c.table);
    let vak = r.vak_id.clone().unwrap_or_default();
    process_result(r.afnamedatum, &scores, table, pupil, |doel, fase| {
        data.norm(doel, &vak, fase)
    })
}

/// One row of a pupil's results, ready to show.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub r: Resultaat,
    pub dle: Option<Dle>,
    pub judgement: Option<Judgement>,
    pub fout: Option<ResultFout>,
    pub norm: Option<Norm>,
    pub toetsdoel_code: String,
    /// DLE months per month since the previous processed result of this vak.
    pub groei: Option<f64>,
    /// The school's test period the afnamedatum falls in.
    pub periode: Option<String>,
    /// DL on the afnamedatum, when the pupil's start of groep 3 is known; with the achterstand
    /// (DL − DLE) and the leerrendement (DLE / DL × 100 %).
    pub dl: Option<u8>,
    pub achterstand: Option<f64>,
    pub leerrendement: Option<f64>,
}

/// The norm band of one stretch of time (one fase, one toetsdoel) for the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSpan {
    pub fase: u8,
    pub from: Date,
    pub to: Date,
    pub norm: Norm,
}

#[derive(Debug, Clone)]
pub struct VakResults {
    /// None: results whose test has no vak yet.
    pub vak: Option<Vak>,
    /// Oldest first.
    pub rows: Vec<ResultRow>,
    pub bands: Vec<BandSpan>,
}

/// Tab RESULTATEN.
#[derive(Debug, Clone)]
pub struct PupilResults {
    pub pupil: Pupil,
    pub per_vak: Vec<VakResults>,
    pub vakken: Vec<Vak>,
    pub toetsen: Vec<Toets>,
    /// This user may enter and remove results for this pupil.
    pub can_enter: bool,
    pub has_toetsdoel_today: bool,
    pub groep_naam: String,
    pub fase_today: Option<u8>,
    /// Today's toetsdoel as "CODE – naam", or empty.
    pub toetsdoel_today: String,
}

/// What the manual entry form sends, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ResultInput {
    pub vak: String,
    pub toets: String,
    pub onderdeel: String,
    pub afnamedatum: String,
    pub dle: String,
    pub functioneringsniveau: String,
    pub score: String,
}

/// The rows of one vak with growth (and DL when the start of groep 3 is known), in time order.
fn rows_with_growth(
    list: Vec<Resultaat>,
    data: &SchoolData,
    start_groep3: Option<Date>,
) -> Vec<ResultRow> {
    let mut prev: Option<(Date, Dle)> = None;
    list.into_iter()
        .map(|r| {
            let d = &r.derived;
            let dle = stored_dle(d);
            let judgement = stored_judgement(d);
            let fout = d.fout.as_deref().and_then(ResultFout::from_code);
            let norm = match (d.norm_ondergrens_tenths, d.norm_streef_tenths) {
                (Some(l), Some(s)) => dle_of(l, Bound::Exact)
                    .zip(dle_of(s, Bound::Exact))
                    .and_then(|(l, s)| Norm::new(l, s).ok()),
                _ => None,
            };
            let mut groei = None;
            if let Some(x) = dle
                && fout.is_none()
            {
                if let Some(p) = prev {
                    groei = growth_per_month(p, (r.afnamedatum, x));
                }
                prev = Some((r.afnamedatum, x));
            }
            // No repeated years are known (the LAS export does not say), so the doublure
            // policy does not apply yet.
            let dl = start_groep3.and_then(|s| {
                startblok_domain::norms::dl_on(
                    s,
                    r.afnamedatum,
                    data.month_table,
                    startblok_domain::norms::DoublurePolicy::CountOn,
                    &[],
                )
            });
            ResultRow {
                achterstand: dl
                    .zip(dle)
                    .map(|(l, d)| startblok_domain::norms::achterstand(l, d)),
                leerrendement: dl
                    .zip(dle)
                    .and_then(|(l, d)| startblok_domain::norms::leerrendement(l, d)),
                dl,
                periode: data.periode_on(r.afnamedatum).map(str::to_string),
                toetsdoel_code: d
                    .toetsdoel_id
                    .as_deref()
                    .map(|t| data.toetsdoel_code(t))
                    .unwrap_or_default(),
                r,
                dle,
                judgement,
                fout,
                norm,
                groei,
            }
        })
        .collect()
}

/// The norm band over [from, to]: a span per stretch with the same (fase, toetsdoel) that has a
/// norm for this vak.
pub fn bands(
    pupil: &PupilTimeline,
    data: &SchoolData,
    vak: &str,
    from: Date,
    to: Date,
) -> Vec<BandSpan> {
    let mut out: Vec<BandSpan> = Vec::new();
    let mut day = from;
    let mut current: Option<(u8, Option<String>, Date)> = None;
    let close = |key: &Option<(u8, Option<String>, Date)>, end: Date, out: &mut Vec<BandSpan>| {
        if let Some((fase, Some(doel), start)) = key
            && let Some(norm) = data.norm(doel, vak, *fase)
        {
            out.push(BandSpan {
                fase: *fase,
                from: *start,
                to: end,
                norm,
            });
        }
    };
    while day <= to {
        let fase = pupil.fase_on(day);
        let doel = pupil.toetsdoel_on(day).map(str::to_string);
        let same = matches!((&current, fase), (Some((f, d, _)), Some(g)) if *f == g && *d == doel);
        if !same {
            if let Some(prev) = day.previous_day() {
                close(&current, prev, &mut out);
            }
            current = fase.map(|f| (f, doel, day));
        }
        match day.next_day() {
            Some(d) => day = d,
            None => break,
        }
    }
    close(&current, to, &mut out);
    out
}

impl App {
    /// Reads what processing needs from the school's data.
    pub async fn school_data(&self, school: SchoolId) -> AppResult<SchoolData> {
        let vakken = self.vakken(school).await?;
        let toetsen = self.toetsen(school).await?;
        let tables = self.conversietabellen(school).await?;
        let mut c = self.db.conn().await?;
        let toetsdoelen = toetsdoelen::list(&mut c, school).await?;
        let mut norms = HashMap::new();
        for r in normdb::normen(&mut c, school).await? {
            let (Some(l), Some(s)) = (
                dle_of(r.ondergrens_tenths, Bound::Exact),
                dle_of(r.streef_tenths, Bound::Exact),
            ) else {
                continue;
            };
            if let (Ok(n), Ok(f)) = (Norm::new(l, s), u8::try_from(r.fase)) {
                norms.insert((r.toetsdoel_id, r.vak_id, f), n);
            }
        }
        let bands = crate::school_setup::fase_bands(&mut c, school).await?;
        let periodes = startblok_db::school_setup::toetsperiodes(&mut c, school).await?;
        let month_table = crate::school_setup::month_table(&mut c, school).await?;
        Ok(SchoolData {
            vakken,
            toetsen,
            tables,
            norms,
            toetsdoelen,
            bands,
            periodes,
            month_table,
        })
    }

    /// After a change to what judging depends on (a pupil's toetsdoel, start or fase entries;
    /// the school's norms or conversion tables): every result concerned is processed again. The
    /// change itself is saved already; should this fail, the results keep their earlier outcome
    /// until the next change or "opnieuw verwerken", and the log says so.
    pub async fn reprocess_after_change(&self, school: SchoolId, pupil: Option<&str>) {
        if let Err(e) = self.reprocess(school, pupil).await {
            tracing::error!(error = %e, "resultaten opnieuw verwerken mislukt");
        }
    }

    /// Processes every result (of one pupil, or of the whole school) again with the school's
    /// current data: processing is a pure function of the result and that data, so a result
    /// whose outcome is unchanged is left as it is. Returns how many open errors were resolved.
    pub async fn reprocess(&self, school: SchoolId, pupil: Option<&str>) -> AppResult<usize> {
        let data = self.school_data(school).await?;
        let mut tx = self.db.begin().await?;
        let all = match pupil {
            Some(p) => resultaten::of_pupil(&mut tx, school, p).await?,
            None => resultaten::of_school(&mut tx, school).await?,
        };
        let mut timelines: HashMap<String, PupilTimeline> = HashMap::new();
        let mut fixed = 0;
        let at = now();
        let mut changed = 0;
        // Results from a test provider are processed from what was received (below).
        for r in all.iter().filter(|r| r.herkomst != "boom") {
            if !timelines.contains_key(&r.pupil_id) {
                let Some(p) = pupils::get(&mut tx, school, &r.pupil_id).await? else {
                    continue;
                };
                let t = timeline(&mut tx, school, &p, &data.bands).await?;
                timelines.insert(r.pupil_id.clone(), t);
            }
            let t = &timelines[&r.pupil_id];
            let d = derived(&process(r, t, &data));
            if d.status == "verwerkt" && r.derived.status == "fout" {
                fixed += 1;
            }
            let mut before = r.derived.clone();
            before.verwerkt_op = None;
            if d != before {
                resultaten::set_derived(&mut tx, school, &r.id, &d, at).await?;
                changed += 1;
            }
        }
        if changed > 0 {
            audit(
                &mut tx,
                &crate::Actor::system(),
                "resultaten.opnieuw_verwerkt",
                pupil.map(|p| ("leerling", p.to_string())),
                Some(school),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        let scope = match pupil {
            Some(p) => startblok_db::leveringen::Scope::Pupil(school, p.to_string()),
            None => startblok_db::leveringen::Scope::School(school),
        };
        let run = self.process_received(&scope).await?;
        Ok(fixed + run.opgelost)
    }

    /// Tab RESULTATEN: the pupil's results per vak with the norm band, if this user may see the
    /// pupil (else `None`). Viewing is recorded in the audit log.
    pub async fn pupil_results(
        &self,
        who: &InSchool,
        pupil: &str,
    ) -> AppResult<Option<PupilResults>> {
        let data = self.school_data(who.school).await?;
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        let Some(p) = pupils::get(&mut c, who.school, pupil)
            .await?
            .filter(|p| reach.sees(p))
        else {
            return Ok(None);
        };
        let t = timeline(&mut c, who.school, &p, &data.bands).await?;
        let all = resultaten::of_pupil(&mut c, who.school, &p.id).await?;
        let today = today_nl(now());
        let mut per_vak = Vec::new();
        for vak in data.vakken.iter().map(Some).chain([None]) {
            let list: Vec<Resultaat> = all
                .iter()
                .filter(|r| r.vak_id.as_deref() == vak.map(|v| v.id.as_str()))
                .cloned()
                .collect();
            if list.is_empty() {
                continue;
            }
            let from = list[0].afnamedatum.min(today);
            let to = list[list.len() - 1].afnamedatum.max(today);
            let bands = match vak {
                Some(v) => bands(&t, &data, &v.id, from, to),
                None => Vec::new(),
            };
            per_vak.push(VakResults {
                vak: vak.cloned(),
                rows: rows_with_growth(list, &data, p.start_groep3),
                bands,
            });
        }
        audit(
            &mut c,
            &who.actor,
            "leerling.resultaten_bekeken",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        let groep_naam = match &p.group_id {
            Some(g) => groups::list(&mut c, who.school)
                .await?
                .into_iter()
                .find(|x| &x.id == g)
                .map(|x| x.naam)
                .unwrap_or_default(),
            None => String::new(),
        };
        let toetsdoel_today = t
            .toetsdoel_on(today)
            .and_then(|id| data.toetsdoelen.iter().find(|d| d.id == id))
            .map(|d| format!("{} – {}", d.code, d.naam))
            .unwrap_or_default();
        Ok(Some(PupilResults {
            can_enter: reach.edits(&p) && p.uitgeschreven_op.is_none(),
            has_toetsdoel_today: t.toetsdoel_on(today).is_some(),
            groep_naam,
            fase_today: t.fase_on(today),
            toetsdoel_today,
            pupil: p,
            per_vak,
            vakken: data.vakken,
            toetsen: data.toetsen,
        }))
    }

    /// Enters a result by hand (a paper test): checked field by field, stored and judged by the
    /// same rules as a delivered result. `Ok(None)`: the pupil is not there for this user.
    pub async fn add_result(
        &self,
        who: &InSchool,
        pupil: &str,
        input: &ResultInput,
    ) -> AppResult<Option<Result<Resultaat, FormErrors>>> {
        let data = self.school_data(who.school).await?;
        let mut tx = self.db.begin().await?;
        let reach = self.reach(&mut tx, who).await?;
        let Some(p) = pupils::get(&mut tx, who.school, pupil)
            .await?
            .filter(|p| reach.edits(p) && p.uitgeschreven_op.is_none())
        else {
            return Ok(None);
        };
        let today = today_nl(now());
        let mut errors = FormErrors::default();
        let vak = data.vakken.iter().find(|v| v.id == input.vak);
        if vak.is_none() {
            errors.add("vak", "Kies het vak van de toets.");
        }
        let toets = if input.toets.is_empty() {
            None
        } else {
            let t = data.toetsen.iter().find(|t| t.id == input.toets);
            match t {
                None => errors.add(
                    "toets",
                    "Kies een toets uit de lijst, of 'Geen toets uit de lijst'.",
                ),
                Some(t) => {
                    if let (Some(tv), Some(v)) = (&t.vak_id, vak)
                        && tv != &v.id
                    {
                        let naam = data
                            .vakken
                            .iter()
                            .find(|x| &x.id == tv)
                            .map(|x| x.naam.as_str())
                            .unwrap_or("een ander vak");
                        errors.add(
                            "toets",
                            format!("{} hoort bij het vak {naam}, niet bij {}.", t.naam, v.naam),
                        );
                    }
                }
            }
            t
        };
        let onderdeel = input.onderdeel.trim().to_string();
        if let Some(t) = toets
            && !onderdeel.is_empty()
            && !t
                .onderdelen
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&onderdeel))
        {
            errors.add(
                "onderdeel",
                format!(
                    "{} heeft geen onderdeel '{onderdeel}'. Kies uit: {}.",
                    t.naam,
                    t.onderdelen.join(", ")
                ),
            );
        }
        let onderdeel = toets
            .and_then(|t| {
                t.onderdelen
                    .iter()
                    .find(|o| o.eq_ignore_ascii_case(&onderdeel))
                    .cloned()
            })
            .or_else(|| (!onderdeel.is_empty()).then(|| onderdeel.chars().take(40).collect()));
        // A school date (1990 to next year), and not in the future.
        let afname =
            match startblok_domain::parse_school_date(&input.afnamedatum, today).and_then(|d| {
                match d {
                    Some(d) if d > today => parse_past_date(&input.afnamedatum, today),
                    other => Ok(other),
                }
            }) {
                Ok(Some(d)) => Some(d),
                Ok(None) => {
                    errors.add(
                        "afnamedatum",
                        "Vul de afnamedatum in, bijvoorbeeld 14-11-2026.",
                    );
                    None
                }
                Err(e) => {
                    errors.add("afnamedatum", format!("Afnamedatum: {e}"));
                    None
                }
            };
        let dle = input.dle.trim();
        if !dle.is_empty()
            && let Err(e) = Dle::parse(dle)
        {
            errors.add("dle", e.to_string());
        }
        let fnv = input.functioneringsniveau.trim().to_uppercase();
        if !fnv.is_empty() && dle_of_fn(&fnv).is_none() {
            errors.add(
                "functioneringsniveau",
                format!(
                    "'{}' is geen functioneringsniveau: gebruik M3, E3, M4 … E8, of <M3 en >E8.",
                    input.functioneringsniveau.trim()
                ),
            );
        }
        let score = input.score.trim();
        let mut score_bron = "score";
        if !score.is_empty() {
            let number = score
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && score.chars().count() <= 12);
            match (number, toets) {
                (None, _) => errors.add(
                    "score",
                    format!(
                        "'{}' is geen getal.",
                        score.chars().take(20).collect::<String>()
                    ),
                ),
                (Some(_), None) => errors.add(
                    "score",
                    "Een score zet Startblok om met de conversietabel van een toets: kies de toets, of vul de DLE in.",
                ),
                (Some(n), Some(t)) => match table_for(&data.tables, &t.id, onderdeel.as_deref()) {
                    Some(c) => {
                        if c.bron == "vaardigheidsscore" {
                            score_bron = "vaardigheidsscore";
                        }
                        if c.table.lookup(n).is_none() {
                            let r = c.table.ranges();
                            let show = |f: f64| f.to_string().replace('.', ",");
                            errors.add(
                                "score",
                                format!(
                                    "De {score_bron} {score} valt buiten de conversietabel van {} (van {} tot en met {}).",
                                    t.naam,
                                    show(r[0].van),
                                    show(r[r.len() - 1].tot_en_met)
                                ),
                            );
                        }
                    }
                    None => errors.add(
                        "score",
                        format!(
                            "Voor {}{} is geen conversietabel (Instellingen > Toetsen). Vul de DLE in.",
                            t.naam,
                            onderdeel
                                .as_deref()
                                .map(|o| format!(" onderdeel {o}"))
                                .unwrap_or_default()
                        ),
                    ),
                },
            }
        }
        if dle.is_empty() && fnv.is_empty() && score.is_empty() {
            errors.add(
                "dle",
                "Vul de DLE in, of een functioneringsniveau, of een score met de toets.",
            );
        }
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let (Some(vak), Some(afname)) = (vak, afname) else {
            return Err(AppError::Corrupt("checked above".into()));
        };
        let t = timeline(&mut tx, who.school, &p, &data.bands).await?;
        let at = now();
        let mut r = Resultaat {
            id: uuid_v7(),
            pupil_id: p.id.clone(),
            herkomst: "handmatig".into(),
            vak_id: Some(vak.id.clone()),
            toets_id: toets.map(|t| t.id.clone()),
            toetsnaam: toets.map(|t| t.naam.clone()),
            onderdeel,
            afnamedatum: afname,
            score: (!score.is_empty() && score_bron == "score").then(|| score.to_string()),
            vaardigheidsscore: (!score.is_empty() && score_bron == "vaardigheidsscore")
                .then(|| score.to_string()),
            referentie_dle: (!dle.is_empty()).then(|| dle.to_string()),
            referentie_fn: (!fnv.is_empty()).then_some(fnv),
            derived: Derived::default(),
            ingevoerd_door: who.actor.user_id.map(|u| u.to_string()),
            created_at: at,
        };
        r.derived = derived(&process(&r, &t, &data));
        resultaten::insert(&mut tx, who.school, &r, at).await?;
        audit(
            &mut tx,
            &who.actor,
            "leerling.resultaat_ingevoerd",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(Ok(r)))
    }

    /// Removes a result entered by hand (it is kept in the database, marked removed). Delivered
    /// results are not removed here. `None`: no such result for this user; `Some(true)`: removed
    /// now; `Some(false)`: it was removed already (a second click changes nothing).
    pub async fn remove_result(
        &self,
        who: &InSchool,
        pupil: &str,
        id: &str,
    ) -> AppResult<Option<bool>> {
        let mut tx = self.db.begin().await?;
        let reach = self.reach(&mut tx, who).await?;
        let Some(p) = pupils::get(&mut tx, who.school, pupil)
            .await?
            .filter(|p| reach.edits(p) && p.uitgeschreven_op.is_none())
        else {
            return Ok(None);
        };
        let Some((r, removed)) = resultaten::get_any(&mut tx, who.school, id)
            .await?
            .filter(|(r, _)| r.pupil_id == p.id && r.herkomst == "handmatig")
        else {
            return Ok(None);
        };
        if removed {
            return Ok(Some(false));
        }
        let by = who.actor.user_id.map(|u| u.to_string());
        let done = resultaten::remove(&mut tx, who.school, &r.id, by.as_deref(), now()).await?;
        audit(
            &mut tx,
            &who.actor,
            "leerling.resultaat_verwijderd",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(done))
    }

    /// One result of a pupil, for the removal confirmation (same access as removing).
    pub async fn result_of(
        &self,
        who: &InSchool,
        pupil: &str,
        id: &str,
    ) -> AppResult<Option<(Pupil, Resultaat)>> {
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        let Some(p) = pupils::get(&mut c, who.school, pupil)
            .await?
            .filter(|p| reach.edits(p) && p.uitgeschreven_op.is_none())
        else {
            return Ok(None);
        };
        let Some(r) = resultaten::get(&mut c, who.school, id)
            .await?
            .filter(|r| r.pupil_id == p.id && r.herkomst == "handmatig")
        else {
            return Ok(None);
        };
        audit(
            &mut c,
            &who.actor,
            "leerling.resultaat_bekeken",
            Some(("leerling", p.id.clone())),
            Some(who.school),
        )
        .await?;
        Ok(Some((p, r)))
    }
}

/// Filters of the Groepsoverzicht.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OverviewFilter {
    pub groep: String,
    /// "1".."9" or empty for all.
    pub fase: String,
    /// A toetsdoel id, "geen" for pupils without one, or empty for all.
    pub toetsdoel: String,
}

/// The latest processed result of one pupil in one vak.
#[derive(Debug, Clone)]
pub struct Cell {
    pub dle: Dle,
    pub judgement: Judgement,
    pub afnamedatum: Date,
}

#[derive(Debug, Clone)]
pub struct OverviewRow {
    pub pupil: Pupil,
    pub fase: Option<u8>,
    pub toetsdoel_code: String,
    /// Per vak of [`Overview::vakken`].
    pub cells: Vec<Option<Cell>>,
    /// Results of this pupil with an open error.
    pub open_errors: usize,
}

/// Counts per vak: onder norm, op norm, op streefniveau, no processed result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub onder: usize,
    pub op: usize,
    pub streef: usize,
    pub geen: usize,
}

#[derive(Debug, Clone)]
pub struct Overview {
    /// The groups this user may choose from (id, naam).
    pub groups: Vec<(String, String)>,
    /// The chosen group, if any.
    pub groep: Option<groups::Group>,
    pub vakken: Vec<Vak>,
    pub rows: Vec<OverviewRow>,
    pub counts: Vec<Counts>,
    pub toetsdoelen: Vec<toetsdoelen::Toetsdoel>,
}

impl App {
    /// The Groepsoverzicht: the pupils of a group this user may see × vakken, with the latest
    /// judgement and DLE, filtered by today's fase and toetsdoel; counts per judgement per vak.
    /// Each pupil shown is recorded in the audit log (`export` for the CSV).
    pub async fn group_overview(
        &self,
        who: &InSchool,
        filter: &OverviewFilter,
        export: bool,
    ) -> AppResult<Overview> {
        let data = self.school_data(who.school).await?;
        let mut c = self.db.conn().await?;
        let reach = self.reach(&mut c, who).await?;
        let all_groups: Vec<groups::Group> = groups::list(&mut c, who.school)
            .await?
            .into_iter()
            .filter(|g| g.actief && (who.sees_all() || reach.owns_group(&g.id)))
            .collect();
        let groep = all_groups.iter().find(|g| g.id == filter.groep).cloned();
        let mut out = Overview {
            groups: all_groups
                .iter()
                .map(|g| (g.id.clone(), g.naam.clone()))
                .collect(),
            groep: groep.clone(),
            counts: vec![Counts::default(); data.vakken.len()],
            vakken: data.vakken.clone(),
            rows: Vec::new(),
            toetsdoelen: data.toetsdoelen.clone(),
        };
        let Some(groep) = groep else {
            return Ok(out);
        };
        let today = today_nl(now());
        let fase_filter: Option<u8> = filter.fase.parse().ok();
        let mut pupils_in: Vec<Pupil> = pupils::list(&mut c, who.school)
            .await?
            .into_iter()
            .filter(|p| {
                p.uitgeschreven_op.is_none()
                    && p.group_id.as_deref() == Some(groep.id.as_str())
                    && reach.sees(p)
            })
            .collect();
        pupils_in.sort_by_key(|p| p.sort_name().to_lowercase());
        for p in pupils_in {
            let t = timeline(&mut c, who.school, &p, &data.bands).await?;
            let fase = t.fase_on(today);
            let doel = t.toetsdoel_on(today).map(str::to_string);
            if fase_filter.is_some() && fase != fase_filter {
                continue;
            }
            match filter.toetsdoel.as_str() {
                "" => {}
                "geen" if doel.is_none() => {}
                id if doel.as_deref() == Some(id) => {}
                _ => continue,
            }
            let results = resultaten::of_pupil(&mut c, who.school, &p.id).await?;
            let cells: Vec<Option<Cell>> = data
                .vakken
                .iter()
                .map(|v| {
                    results
                        .iter()
                        .filter(|r| {
                            r.vak_id.as_deref() == Some(v.id.as_str())
                                && r.derived.status == "verwerkt"
                        })
                        .max_by_key(|r| (r.afnamedatum, r.created_at))
                        .and_then(|r| {
                            Some(Cell {
                                dle: stored_dle(&r.derived)?,
                                judgement: stored_judgement(&r.derived)?,
                                afnamedatum: r.afnamedatum,
                            })
                        })
                })
                .collect();
            for (k, cell) in cells.iter().enumerate() {
                let n = &mut out.counts[k];
                match cell.as_ref().map(|c| c.judgement) {
                    Some(Judgement::OnderNorm) => n.onder += 1,
                    Some(Judgement::OpNorm) => n.op += 1,
                    Some(Judgement::OpStreefniveau) => n.streef += 1,
                    None => n.geen += 1,
                }
            }
            audit(
                &mut c,
                &who.actor,
                if export {
                    "leerling.geexporteerd_groepsoverzicht"
                } else {
                    "leerling.bekeken_groepsoverzicht"
                },
                Some(("leerling", p.id.clone())),
                Some(who.school),
            )
            .await?;
            out.rows.push(OverviewRow {
                open_errors: results
                    .iter()
                    .filter(|r| r.derived.status == "fout")
                    .count(),
                toetsdoel_code: doel
                    .as_deref()
                    .map(|d| data.toetsdoel_code(d))
                    .unwrap_or_default(),
                fase,
                cells,
                pupil: p,
            });
        }
        Ok(out)
    }

    /// The Groepsoverzicht as CSV: a row per pupil, per vak the DLE, the judgement and the date.
    pub async fn group_overview_csv(
        &self,
        who: &InSchool,
        filter: &OverviewFilter,
    ) -> AppResult<Option<(String, String)>> {
        let o = self.group_overview(who, filter, true).await?;
        let Some(g) = &o.groep else {
            return Ok(None);
        };
        // A report for a spreadsheet: semicolons and a byte order mark, as Dutch Excel expects.
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer("\u{feff}".as_bytes().to_vec());
        let err = |e: csv::Error| AppError::Corrupt(e.to_string());
        let mut head = vec![
            "leerling".to_string(),
            "fase".to_string(),
            "toetsdoel".to_string(),
        ];
        for v in &o.vakken {
            let naam = crate::spreadsheet::report_cell(&v.naam);
            let v = &naam;
            head.push(format!("{v} DLE"));
            head.push(format!("{v} oordeel"));
            head.push(format!("{v} afnamedatum"));
        }
        w.write_record(&head).map_err(err)?;
        for r in &o.rows {
            let cell = crate::spreadsheet::report_cell;
            let mut rec = vec![
                cell(&r.pupil.display_name()),
                r.fase.map(|f| f.to_string()).unwrap_or_default(),
                cell(&r.toetsdoel_code),
            ];
            for c in &r.cells {
                match c {
                    Some(c) => {
                        rec.push(c.dle.to_string());
                        rec.push(c.judgement.label().to_string());
                        rec.push(startblok_domain::format_date(c.afnamedatum));
                    }
                    None => rec.extend([String::new(), String::new(), String::new()]),
                }
            }
            w.write_record(&rec).map_err(err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| AppError::Corrupt(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| AppError::Corrupt(e.to_string()))?;
        Ok(Some((g.naam.clone(), text)))
    }
}
