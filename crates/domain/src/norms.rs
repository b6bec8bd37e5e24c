//! The arithmetic of `norms.md`: DL (didactische leeftijd) from a month table and a doublure
//! policy, the DLE of a result (from a referentiescore, a conversion table, or a
//! functioneringsniveau, in that order), the judgement of a DLE against a norm, growth per month,
//! achterstand and leerrendement. Pure functions; the values they work on are school data.

use std::fmt;

use time::{Date, Month};

use crate::pupil::months_between;

/// A DLE: months of education, in tenths (so `25,5` is exact), possibly a bound (`>60`, `<5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dle {
    tenths: u16,
    bound: Bound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    Exact,
    /// `<x`: below x (compared as x).
    Below,
    /// `>x`: above x (compared as x).
    Above,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DleError {
    #[error("'{0}' is geen DLE: verwacht een getal van 0 tot en met 60, eventueel met < of >.")]
    Invalid(String),
}

/// The highest DLE: the average pupil at the end of groep 8.
pub const MAX_DLE: u16 = 60;

impl Dle {
    /// An exact DLE in whole months (0–60).
    pub fn months(m: u16) -> Option<Dle> {
        (m <= MAX_DLE).then_some(Dle {
            tenths: m * 10,
            bound: Bound::Exact,
        })
    }

    /// A DLE from its value in tenths (0–600), as stored.
    pub fn from_tenths(tenths: u16, bound: Bound) -> Option<Dle> {
        (tenths <= MAX_DLE * 10).then_some(Dle { tenths, bound })
    }

    /// `25`, `25,5`, `25.5`, `>60`, `<5`, with white space around: 0 to 60, one decimal at most.
    pub fn parse(input: &str) -> Result<Dle, DleError> {
        let bad = || DleError::Invalid(input.trim().to_string());
        let s = input.trim();
        let (bound, rest) = match s.chars().next() {
            Some('<') => (Bound::Below, s[1..].trim_start()),
            Some('>') => (Bound::Above, s[1..].trim_start()),
            _ => (Bound::Exact, s),
        };
        let rest = rest.replace(',', ".");
        let (whole, frac) = match rest.split_once('.') {
            Some((_, "")) => return Err(bad()),
            Some((w, f)) => (w, f),
            None => (rest.as_str(), ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 1
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || whole.len() > 3
        {
            return Err(bad());
        }
        let tenths =
            whole.parse::<u16>().map_err(|_| bad())? * 10 + frac.parse::<u16>().unwrap_or(0);
        if tenths > MAX_DLE * 10 {
            return Err(bad());
        }
        Ok(Dle { tenths, bound })
    }

    /// The value it is compared by, in tenths of a month (a bound compares as its bound).
    pub fn tenths(self) -> u16 {
        self.tenths
    }

    /// The value in months, for arithmetic (growth, achterstand).
    pub fn as_months(self) -> f64 {
        f64::from(self.tenths) / 10.0
    }

    pub fn bound(self) -> Bound {
        self.bound
    }
}

impl fmt::Display for Dle {
    /// As Dutch people write it: `25`, `25,5`, `>60`, `<5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.bound {
            Bound::Exact => "",
            Bound::Below => "<",
            Bound::Above => ">",
        };
        if self.tenths.is_multiple_of(10) {
            write!(f, "{prefix}{}", self.tenths / 10)
        } else {
            write!(f, "{prefix}{},{}", self.tenths / 10, self.tenths % 10)
        }
    }
}

/// How a month counts in DL (norms.md): the default counts a started month, the alternative a
/// completed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonthTable {
    /// Aug 0, Sep 1, Oct 2, Nov 3, Dec 4, Jan 5, Feb 6, Mar 7, Apr 8, May 9, Jun 10, Jul 10.
    #[default]
    Started,
    /// Aug 0, Sep 0, Oct 1, Nov 2, Dec 3, Jan 4, Feb 5, Mar 6, Apr 7, May 8, Jun 9, Jul 10.
    Completed,
}

impl MonthTable {
    pub fn value(self, month: Month) -> u8 {
        use Month::*;
        match (self, month) {
            (_, August) => 0,
            (MonthTable::Started, September) => 1,
            (MonthTable::Started, October) => 2,
            (MonthTable::Started, November) => 3,
            (MonthTable::Started, December) => 4,
            (MonthTable::Started, January) => 5,
            (MonthTable::Started, February) => 6,
            (MonthTable::Started, March) => 7,
            (MonthTable::Started, April) => 8,
            (MonthTable::Started, May) => 9,
            (MonthTable::Started, June) => 10,
            (MonthTable::Completed, September) => 0,
            (MonthTable::Completed, October) => 1,
            (MonthTable::Completed, November) => 2,
            (MonthTable::Completed, December) => 3,
            (MonthTable::Completed, January) => 4,
            (MonthTable::Completed, February) => 5,
            (MonthTable::Completed, March) => 6,
            (MonthTable::Completed, April) => 7,
            (MonthTable::Completed, May) => 8,
            (MonthTable::Completed, June) => 9,
            (_, July) => 10,
        }
    }
}

/// What a repeated school year (doublure) does to DL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DoublurePolicy {
    /// The repeated year counts like any other (default).
    #[default]
    CountOn,
    /// A repeated year does not count: DL is that of a pupil without it.
    Reset,
}

/// The school year a date is in, by the year it starts (school years run 1 August – 31 July).
pub fn school_year(d: Date) -> i32 {
    if d.month() as u8 >= Month::August as u8 {
        d.year()
    } else {
        d.year() - 1
    }
}

/// DL on a date: 10 × the complete school years since the start of groep 3 (without repeated
/// years under [`DoublurePolicy::Reset`]) plus the month value of the date, at most 60. `None`
/// before the start of groep 3. `repeated` holds the school years (by their starting year) the
/// pupil repeated.
pub fn dl_on(
    start_groep3: Date,
    on: Date,
    table: MonthTable,
    policy: DoublurePolicy,
    repeated: &[i32],
) -> Option<u8> {
    if on < start_groep3 {
        return None;
    }
    let (first, now) = (school_year(start_groep3), school_year(on));
    let mut years = now - first;
    if policy == DoublurePolicy::Reset {
        years -= repeated.iter().filter(|&&y| y >= first && y < now).count() as i32;
    }
    let dl = 10 * years.max(0) + i32::from(table.value(on.month()));
    Some(dl.min(60) as u8)
}

/// Where a DLE came from, stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DleSource {
    Referentiescore,
    Conversietabel,
    Functioneringsniveau,
}

impl DleSource {
    pub fn label(self) -> &'static str {
        match self {
            DleSource::Referentiescore => "referentiescore",
            DleSource::Conversietabel => "conversietabel",
            DleSource::Functioneringsniveau => "functioneringsniveau",
        }
    }
}

/// The DLE of a functioneringsniveau: M_g = 10·(g−3)+5, E_g = 10·(g−2) for groep 3–8; `<M3` is
/// below 5 and `>E8` above 60. Anything else gives none.
pub fn dle_of_fn(fn_value: &str) -> Option<Dle> {
    let s = fn_value.trim().to_ascii_uppercase();
    match s.as_str() {
        "<M3" => {
            return Some(Dle {
                tenths: 50,
                bound: Bound::Below,
            });
        }
        ">E8" => {
            return Some(Dle {
                tenths: 600,
                bound: Bound::Above,
            });
        }
        _ => {}
    }
    let mut chars = s.chars();
    let moment = chars.next()?;
    let groep: u16 = chars.as_str().parse().ok()?;
    if !(3..=8).contains(&groep) {
        return None;
    }
    match moment {
        'M' => Dle::months(10 * (groep - 3) + 5),
        'E' => Dle::months(10 * (groep - 2)),
        _ => None,
    }
}

/// One line of a conversion table: scores `van` to `tot_en_met` (inclusive) give `dle`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConversionRange {
    pub van: f64,
    pub tot_en_met: f64,
    pub dle: Dle,
}

/// A conversion table for one test (and onderdeel): increasing, non-overlapping ranges without
/// gaps. A score between `tot_en_met` of one range and `van` of the next (a decimal score in a
/// table of whole scores) belongs to the lower range.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionTable(Vec<ConversionRange>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversionError {
    #[error("regel {line}: 'van' is groter dan 'tot en met'.")]
    Reversed { line: usize },
    #[error("regel {line}: overlapt met de regel ervoor.")]
    Overlap { line: usize },
    #[error("regel {line}: er zit een gat tussen deze regel en de regel ervoor.")]
    Gap { line: usize },
    #[error("de tabel is leeg.")]
    Empty,
}

impl ConversionTable {
    /// Checks the ranges (in the order given; `line` numbers count from 1). For whole-number
    /// ranges a gap is a missing score between two lines (`tot_en_met + 1 < van`).
    pub fn new(ranges: Vec<ConversionRange>) -> Result<ConversionTable, ConversionError> {
        if ranges.is_empty() {
            return Err(ConversionError::Empty);
        }
        for (i, r) in ranges.iter().enumerate() {
            let line = i + 1;
            if r.van > r.tot_en_met {
                return Err(ConversionError::Reversed { line });
            }
            if i > 0 {
                let prev = &ranges[i - 1];
                if r.van <= prev.tot_en_met {
                    return Err(ConversionError::Overlap { line });
                }
                if r.van > prev.tot_en_met + 1.0 {
                    return Err(ConversionError::Gap { line });
                }
            }
        }
        Ok(ConversionTable(ranges))
    }

    pub fn ranges(&self) -> &[ConversionRange] {
        &self.0
    }

    /// The DLE for a score, or `None` outside the table.
    pub fn lookup(&self, score: f64) -> Option<Dle> {
        if !score.is_finite() {
            return None;
        }
        let last = self.0.last()?;
        if score < self.0[0].van || score > last.tot_en_met {
            return None;
        }
        self.0.iter().rev().find(|r| score >= r.van).map(|r| r.dle)
    }
}

/// Why a result has no DLE (the codes of the intake's error list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDle {
    /// Nothing gives a DLE: `GEEN_DLE`.
    GeenDle,
    /// The score cannot be used (not a number, outside the table's reach is still `GEEN_DLE`):
    /// `ONGELDIGE_SCORE`.
    OngeldigeScore,
}

/// What a result offers to derive a DLE from.
#[derive(Debug, Clone, Default)]
pub struct ResultScores<'a> {
    /// OSO referentiescores: (`codereferentiescore`, `waarde`).
    pub referentiescores: &'a [(String, String)],
    /// The score the school's conversion table reads (score or vaardigheidsscore), as sent.
    pub score: Option<&'a str>,
}

/// The DLE of a result, in the order of norms.md: a referentiescore `DLE`, the school's conversion
/// table, a referentiescore `FN`.
pub fn derive_dle(
    result: &ResultScores<'_>,
    table: Option<&ConversionTable>,
) -> Result<(Dle, DleSource), NoDle> {
    let referentie = |code: &str| {
        result
            .referentiescores
            .iter()
            .find(|(c, _)| c.trim().eq_ignore_ascii_case(code))
            .map(|(_, w)| w.as_str())
    };
    if let Some(w) = referentie("DLE")
        && let Ok(d) = Dle::parse(w)
    {
        return Ok((d, DleSource::Referentiescore));
    }
    let mut unusable = false;
    if let (Some(table), Some(score)) = (table, result.score) {
        match score.trim().replace(',', ".").parse::<f64>() {
            Ok(s) if s.is_finite() => {
                if let Some(d) = table.lookup(s) {
                    return Ok((d, DleSource::Conversietabel));
                }
            }
            _ => unusable = true,
        }
    }
    if let Some(d) = referentie("FN").and_then(dle_of_fn) {
        return Ok((d, DleSource::Functioneringsniveau));
    }
    Err(if unusable {
        NoDle::OngeldigeScore
    } else {
        NoDle::GeenDle
    })
}

/// A DLE norm for (toetsdoel, vak, fase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Norm {
    pub ondergrens: Dle,
    pub streef: Dle,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormError {
    #[error("de ondergrens ({0}) is hoger dan de streefwaarde ({1}).")]
    Reversed(Dle, Dle),
}

impl Norm {
    pub fn new(ondergrens: Dle, streef: Dle) -> Result<Norm, NormError> {
        if ondergrens.tenths() > streef.tenths() {
            return Err(NormError::Reversed(ondergrens, streef));
        }
        Ok(Norm { ondergrens, streef })
    }

    /// `d < ondergrens` → onder norm; `ondergrens ≤ d < streef` → op norm; `d ≥ streef` → op
    /// streefniveau. Bounded values compare by their bound.
    pub fn judge(&self, d: Dle) -> Judgement {
        if d.tenths() < self.ondergrens.tenths() {
            Judgement::OnderNorm
        } else if d.tenths() < self.streef.tenths() {
            Judgement::OpNorm
        } else {
            Judgement::OpStreefniveau
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Judgement {
    OnderNorm,
    OpNorm,
    OpStreefniveau,
}

impl Judgement {
    pub fn label(self) -> &'static str {
        match self {
            Judgement::OnderNorm => "onder norm",
            Judgement::OpNorm => "op norm",
            Judgement::OpStreefniveau => "op streefniveau",
        }
    }
}

/// What held on a date in a history of (from, value) entries: the latest entry from on or before
/// it. A result is judged by the toetsdoel the pupil had on the afnamedatum, not today's.
pub fn value_on<T>(history: &[(Date, T)], on: Date) -> Option<&T> {
    history
        .iter()
        .filter(|(from, _)| *from <= on)
        .max_by_key(|(from, _)| *from)
        .map(|(_, v)| v)
}

/// Growth in DLE months per month of time between two results (`None` within the same month).
pub fn growth_per_month(earlier: (Date, Dle), later: (Date, Dle)) -> Option<f64> {
    let months = months_between(earlier.0, later.0);
    (months > 0).then(|| (later.1.as_months() - earlier.1.as_months()) / f64::from(months))
}

/// Achterstand = DL − DLE, in months.
pub fn achterstand(dl: u8, dle: Dle) -> f64 {
    f64::from(dl) - dle.as_months()
}

/// Leerrendement = DLE / DL × 100 % (`None` when DL is 0).
pub fn leerrendement(dl: u8, dle: Dle) -> Option<f64> {
    (dl > 0).then(|| dle.as_months() / f64::from(dl) * 100.0)
}

/// Why a result could not be judged: the error kinds of the intake contract that belong to the
/// norms (the first step that fails, in the contract's order). The pupil and test steps
/// (`LEERLING_NIET_GEVONDEN`, `TOETS_NIET_GEVONDEN`) come before these and belong to the intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultFout {
    GeenToetsdoel,
    GeenDle,
    OngeldigeScore,
    GeenNorm,
}

impl ResultFout {
    /// The code stored in the data.
    pub fn code(self) -> &'static str {
        match self {
            ResultFout::GeenToetsdoel => "GEEN_TOETSDOEL",
            ResultFout::GeenDle => "GEEN_DLE",
            ResultFout::OngeldigeScore => "ONGELDIGE_SCORE",
            ResultFout::GeenNorm => "GEEN_NORM",
        }
    }

    pub fn from_code(code: &str) -> Option<ResultFout> {
        [
            ResultFout::GeenToetsdoel,
            ResultFout::GeenDle,
            ResultFout::OngeldigeScore,
            ResultFout::GeenNorm,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ResultFout::GeenToetsdoel => "Geen toetsdoel op de afnamedatum",
            ResultFout::GeenDle => "Geen DLE af te leiden",
            ResultFout::OngeldigeScore => "Score niet bruikbaar",
            ResultFout::GeenNorm => "Geen norm voor dit vak en deze fase",
        }
    }
}

/// What the processing of a result needs to know about the pupil, as of any date.
#[derive(Debug, Clone, Default)]
pub struct PupilTimeline {
    /// Start in newcomer education (or the instroomdatum): where the fase bands count from.
    pub start: Option<Date>,
    pub fase_entries: Vec<crate::pupil::FaseEntry>,
    pub bands: crate::pupil::FaseBands,
    /// The toetsdoel history as (valid from, toetsdoel id or none).
    pub toetsdoelen: Vec<(Date, Option<String>)>,
}

impl PupilTimeline {
    pub fn fase_on(&self, on: Date) -> Option<u8> {
        crate::pupil::fase_on(self.start, &self.fase_entries, &self.bands, on)
    }

    pub fn toetsdoel_on(&self, on: Date) -> Option<&str> {
        value_on(&self.toetsdoelen, on).and_then(|v| v.as_deref())
    }
}

/// The outcome of processing one result: everything that could be derived, and the first step
/// that failed (if any). A result with an error keeps its DLE when one could be derived, so a
/// chart can still show it (without a judgement).
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub dle: Option<(Dle, DleSource)>,
    pub fase: Option<u8>,
    pub toetsdoel: Option<String>,
    pub norm: Option<Norm>,
    pub judgement: Option<Judgement>,
    pub fout: Option<ResultFout>,
}

/// Steps 3 to 6 of the intake contract, as a pure function of the result and the school's data:
/// the toetsdoel on the afnamedatum, the DLE (norms.md's order), the fase on the afnamedatum, the
/// norm for (toetsdoel, vak, fase) and the judgement. Running it twice gives the same outcome.
pub fn process_result(
    afnamedatum: Date,
    scores: &ResultScores<'_>,
    table: Option<&ConversionTable>,
    pupil: &PupilTimeline,
    norm_for: impl Fn(&str, u8) -> Option<Norm>,
) -> Processed {
    let toetsdoel = pupil.toetsdoel_on(afnamedatum).map(str::to_string);
    let dle = derive_dle(scores, table);
    let fase = pupil.fase_on(afnamedatum);
    let norm = match (&toetsdoel, fase) {
        (Some(t), Some(f)) => norm_for(t, f),
        _ => None,
    };
    let judgement = match (&dle, norm) {
        (Ok((d, _)), Some(n)) => Some(n.judge(*d)),
        _ => None,
    };
    let fout = if toetsdoel.is_none() {
        Some(ResultFout::GeenToetsdoel)
    } else if let Err(e) = dle {
        Some(match e {
            NoDle::GeenDle => ResultFout::GeenDle,
            NoDle::OngeldigeScore => ResultFout::OngeldigeScore,
        })
    } else if norm.is_none() {
        Some(ResultFout::GeenNorm)
    } else {
        None
    };
    Processed {
        dle: dle.ok(),
        fase,
        toetsdoel,
        norm,
        judgement: if fout.is_none() { judgement } else { None },
        fout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn dle(s: &str) -> Dle {
        Dle::parse(s).unwrap()
    }

    fn timeline() -> PupilTimeline {
        PupilTimeline {
            start: Some(date!(2026 - 01 - 05)),
            fase_entries: vec![],
            bands: crate::pupil::FaseBands::default(),
            toetsdoelen: vec![(date!(2026 - 02 - 01), Some("A".into()))],
        }
    }

    fn norms_a(t: &str, fase: u8) -> Option<Norm> {
        (t == "A" && fase <= 2).then(|| {
            Norm::new(
                Dle::months(4 + 6 * u16::from(fase - 1)).unwrap(),
                Dle::months(9 + 6 * u16::from(fase - 1)).unwrap(),
            )
            .unwrap()
        })
    }

    #[test]
    fn processing_follows_the_contract_order_and_keeps_what_it_could_derive() {
        let dle_ref = [("DLE".to_string(), "12".to_string())];
        let scores = ResultScores {
            referentiescores: &dle_ref,
            score: None,
        };
        // Fase 2 (6–12 months after 2026-01-05), norm 10–15: 12 is op norm.
        let p = process_result(date!(2026 - 08 - 10), &scores, None, &timeline(), norms_a);
        assert_eq!(p.fase, Some(2));
        assert_eq!(p.toetsdoel.as_deref(), Some("A"));
        assert_eq!(p.judgement, Some(Judgement::OpNorm));
        assert_eq!(p.fout, None);
        assert_eq!(p.dle, Some((dle("12"), DleSource::Referentiescore)));

        // Before the toetsdoel was set: GEEN_TOETSDOEL, but the DLE is kept.
        let p = process_result(date!(2026 - 01 - 20), &scores, None, &timeline(), norms_a);
        assert_eq!(p.fout, Some(ResultFout::GeenToetsdoel));
        assert_eq!(p.judgement, None);
        assert_eq!(p.dle, Some((dle("12"), DleSource::Referentiescore)));

        // Fase 3 has no norm.
        let p = process_result(date!(2027 - 02 - 10), &scores, None, &timeline(), norms_a);
        assert_eq!((p.fase, p.fout), (Some(3), Some(ResultFout::GeenNorm)));

        // Nothing to derive a DLE from; an unusable score says so.
        let none = ResultScores::default();
        let p = process_result(date!(2026 - 08 - 10), &none, None, &timeline(), norms_a);
        assert_eq!(p.fout, Some(ResultFout::GeenDle));
        let table = ConversionTable::new(vec![ConversionRange {
            van: 0.0,
            tot_en_met: 40.0,
            dle: dle("20"),
        }])
        .unwrap();
        let x = ResultScores {
            referentiescores: &[],
            score: Some("X"),
        };
        let p = process_result(
            date!(2026 - 08 - 10),
            &x,
            Some(&table),
            &timeline(),
            norms_a,
        );
        assert_eq!(p.fout, Some(ResultFout::OngeldigeScore));
        for f in [
            ResultFout::GeenToetsdoel,
            ResultFout::GeenDle,
            ResultFout::OngeldigeScore,
            ResultFout::GeenNorm,
        ] {
            assert_eq!(ResultFout::from_code(f.code()), Some(f));
        }
    }

    #[test]
    fn a_toetsdoel_change_applies_from_its_date_on() {
        let mut t = timeline();
        t.toetsdoelen
            .push((date!(2026 - 09 - 01), Some("B".into())));
        t.toetsdoelen.push((date!(2026 - 10 - 01), None));
        assert_eq!(t.toetsdoel_on(date!(2026 - 08 - 31)), Some("A"));
        assert_eq!(t.toetsdoel_on(date!(2026 - 09 - 01)), Some("B"));
        assert_eq!(t.toetsdoel_on(date!(2026 - 10 - 02)), None, "cleared");
    }

    #[test]
    fn dl_test_vectors_of_norms_md() {
        let start = date!(2020 - 08 - 20);
        let dl = |on| dl_on(start, on, MonthTable::Started, DoublurePolicy::CountOn, &[]);
        assert_eq!(dl(date!(2021 - 06 - 15)), Some(10));
        assert_eq!(dl(date!(2023 - 01 - 15)), Some(25));
        assert_eq!(dl(date!(2025 - 09 - 10)), Some(51));
        assert_eq!(dl(date!(2020 - 08 - 01)), None, "before groep 3");
        assert_eq!(dl(date!(2030 - 07 - 01)), Some(60), "capped");
        // The completed-month table: a month later in the year.
        assert_eq!(
            dl_on(
                start,
                date!(2023 - 01 - 15),
                MonthTable::Completed,
                DoublurePolicy::CountOn,
                &[]
            ),
            Some(24)
        );
        // A repeated year: counts on by default, does not count under Reset.
        let repeated = [2021];
        let on = date!(2023 - 01 - 15);
        assert_eq!(
            dl_on(
                start,
                on,
                MonthTable::Started,
                DoublurePolicy::CountOn,
                &repeated
            ),
            Some(25)
        );
        assert_eq!(
            dl_on(
                start,
                on,
                MonthTable::Started,
                DoublurePolicy::Reset,
                &repeated
            ),
            Some(15)
        );
        // A repeated year not yet complete on the date changes nothing yet.
        assert_eq!(
            dl_on(
                start,
                on,
                MonthTable::Started,
                DoublurePolicy::Reset,
                &[2022]
            ),
            Some(25)
        );
    }

    #[test]
    fn month_tables_are_as_norms_md_says() {
        use Month::*;
        let started: Vec<u8> = [
            August, September, October, November, December, January, February, March, April, May,
            June, July,
        ]
        .iter()
        .map(|m| MonthTable::Started.value(*m))
        .collect();
        assert_eq!(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
        let completed: Vec<u8> = [
            September, October, November, December, January, February, March, April, May, June,
            July,
        ]
        .iter()
        .map(|m| MonthTable::Completed.value(*m))
        .collect();
        assert_eq!(completed, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }

    #[test]
    fn functioneringsniveau_gives_the_dle_of_norms_md() {
        let want = [
            ("M3", "5"),
            ("E3", "10"),
            ("M4", "15"),
            ("E4", "20"),
            ("M5", "25"),
            ("E5", "30"),
            ("M6", "35"),
            ("E6", "40"),
            ("M7", "45"),
            ("E7", "50"),
            ("M8", "55"),
            ("E8", "60"),
            ("<M3", "<5"),
            (">E8", ">60"),
            (" m5 ", "25"),
        ];
        for (fn_value, d) in want {
            assert_eq!(
                dle_of_fn(fn_value).map(|d| d.to_string()).as_deref(),
                Some(d),
                "{fn_value}"
            );
        }
        for other in ["B5", "M2", "E9", "M", "", "5", "M5a"] {
            assert_eq!(dle_of_fn(other), None, "{other}");
        }
    }

    #[test]
    fn dles_parse_show_and_refuse_as_people_write_them() {
        assert_eq!(dle("25").to_string(), "25");
        assert_eq!(dle(" 25,5 ").to_string(), "25,5");
        assert_eq!(dle("25.5"), dle("25,5"));
        assert_eq!(dle(">60").to_string(), ">60");
        assert_eq!(dle("< 5").to_string(), "<5");
        assert_eq!(dle(">60").tenths(), 600, "compared as its bound");
        for bad in ["", "61", "-1", "2,55", "abc", "25,", ">", "1e2", "1000"] {
            assert!(Dle::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_dle_comes_from_referentiescore_then_table_then_fn() {
        let table = ConversionTable::new(vec![
            ConversionRange {
                van: 0.0,
                tot_en_met: 4.0,
                dle: dle("2"),
            },
            ConversionRange {
                van: 5.0,
                tot_en_met: 9.0,
                dle: dle("7"),
            },
            ConversionRange {
                van: 10.0,
                tot_en_met: 14.0,
                dle: dle("12"),
            },
        ])
        .unwrap();
        let refs = vec![
            ("DLE".to_string(), "18".to_string()),
            ("FN".to_string(), "M5".to_string()),
        ];
        let all = ResultScores {
            referentiescores: &refs,
            score: Some("6"),
        };
        assert_eq!(
            derive_dle(&all, Some(&table)),
            Ok((dle("18"), DleSource::Referentiescore))
        );
        let fn_only = vec![("FN".to_string(), "M5".to_string())];
        let r = ResultScores {
            referentiescores: &fn_only,
            score: Some("6"),
        };
        assert_eq!(
            derive_dle(&r, Some(&table)),
            Ok((dle("7"), DleSource::Conversietabel))
        );
        assert_eq!(
            derive_dle(&r, None),
            Ok((dle("25"), DleSource::Functioneringsniveau))
        );
        // A decimal score between two whole-number lines belongs to the lower one.
        let r = ResultScores {
            referentiescores: &[],
            score: Some("9,5"),
        };
        assert_eq!(
            derive_dle(&r, Some(&table)),
            Ok((dle("7"), DleSource::Conversietabel))
        );
        // Outside the table: no DLE; an unusable score says so.
        let r = ResultScores {
            referentiescores: &[],
            score: Some("99"),
        };
        assert_eq!(derive_dle(&r, Some(&table)), Err(NoDle::GeenDle));
        let r = ResultScores {
            referentiescores: &[],
            score: Some("veel"),
        };
        assert_eq!(derive_dle(&r, Some(&table)), Err(NoDle::OngeldigeScore));
        // A bounded referentiescore is kept as a bound.
        let bounded = vec![("dle".to_string(), ">60".to_string())];
        let r = ResultScores {
            referentiescores: &bounded,
            score: None,
        };
        assert_eq!(derive_dle(&r, None).unwrap().0.to_string(), ">60");
    }

    #[test]
    fn conversion_tables_refuse_reversed_overlapping_and_gapped_lines() {
        let r = |van: f64, tot: f64| ConversionRange {
            van,
            tot_en_met: tot,
            dle: dle("1"),
        };
        assert_eq!(ConversionTable::new(vec![]), Err(ConversionError::Empty));
        assert_eq!(
            ConversionTable::new(vec![r(0.0, 4.0), r(3.0, 9.0)]),
            Err(ConversionError::Overlap { line: 2 })
        );
        assert_eq!(
            ConversionTable::new(vec![r(0.0, 4.0), r(6.0, 9.0)]),
            Err(ConversionError::Gap { line: 2 })
        );
        assert_eq!(
            ConversionTable::new(vec![r(0.0, 4.0), r(9.0, 5.0)]),
            Err(ConversionError::Reversed { line: 2 })
        );
        assert!(ConversionTable::new(vec![r(0.0, 4.0), r(5.0, 9.0)]).is_ok());
    }

    #[test]
    fn judgement_at_the_band_edges_is_where_norms_md_puts_it() {
        let n = Norm::new(dle("10"), dle("15")).unwrap();
        assert_eq!(n.judge(dle("9,9")), Judgement::OnderNorm);
        assert_eq!(
            n.judge(dle("10")),
            Judgement::OpNorm,
            "the ondergrens is op norm"
        );
        assert_eq!(n.judge(dle("14,9")), Judgement::OpNorm);
        assert_eq!(
            n.judge(dle("15")),
            Judgement::OpStreefniveau,
            "the streef is op streefniveau"
        );
        assert_eq!(n.judge(dle("<5")), Judgement::OnderNorm);
        assert_eq!(n.judge(dle(">60")), Judgement::OpStreefniveau);
        assert!(Norm::new(dle("16"), dle("15")).is_err());
    }

    #[test]
    fn the_toetsdoel_on_the_afnamedatum_counts() {
        let history = [
            (date!(2026 - 03 - 01), "DOEL-B"),
            (date!(2025 - 09 - 01), "DOEL-A"),
        ];
        assert_eq!(value_on(&history, date!(2025 - 08 - 31)), None);
        assert_eq!(value_on(&history, date!(2025 - 09 - 01)), Some(&"DOEL-A"));
        assert_eq!(value_on(&history, date!(2026 - 02 - 28)), Some(&"DOEL-A"));
        assert_eq!(value_on(&history, date!(2026 - 03 - 01)), Some(&"DOEL-B"));
    }

    #[test]
    fn growth_achterstand_and_leerrendement() {
        let g = growth_per_month(
            (date!(2026 - 01 - 10), dle("10")),
            (date!(2026 - 07 - 10), dle("16")),
        );
        assert_eq!(g, Some(1.0));
        assert_eq!(
            growth_per_month(
                (date!(2026 - 01 - 10), dle("10")),
                (date!(2026 - 01 - 30), dle("12"))
            ),
            None
        );
        assert_eq!(achterstand(25, dle("20")), 5.0);
        assert_eq!(leerrendement(25, dle("20")), Some(80.0));
        assert_eq!(leerrendement(0, dle("20")), None);
    }

    proptest! {
        /// A higher DLE never gets a lower judgement.
        #[test]
        fn judgement_is_monotonic_in_the_dle(a in 0u16..=600, b in 0u16..=600, lo in 0u16..=600, width in 0u16..=200) {
            let hi = (lo + width).min(600);
            let norm = Norm::new(Dle { tenths: lo, bound: Bound::Exact }, Dle { tenths: hi, bound: Bound::Exact }).unwrap();
            let (x, y) = (a.min(b), a.max(b));
            let (jx, jy) = (
                norm.judge(Dle { tenths: x, bound: Bound::Exact }),
                norm.judge(Dle { tenths: y, bound: Bound::Exact }),
            );
            prop_assert!(jx <= jy);
        }

        /// DL never decreases with time (without doublures) and stays within 0–60.
        #[test]
        fn dl_is_monotonic_and_bounded(start in 0i64..4000, d1 in 0i64..5000, d2 in 0i64..5000) {
            let base = date!(2010 - 08 - 01);
            let start = base + time::Duration::days(start);
            let (a, b) = (d1.min(d2), d1.max(d2));
            let on_a = start + time::Duration::days(a);
            let on_b = start + time::Duration::days(b);
            for table in [MonthTable::Started, MonthTable::Completed] {
                let x = dl_on(start, on_a, table, DoublurePolicy::CountOn, &[]).unwrap();
                let y = dl_on(start, on_b, table, DoublurePolicy::CountOn, &[]).unwrap();
                prop_assert!(x <= y && y <= 60);
            }
        }

        /// Every DLE that parses shows as text that parses back to it.
        #[test]
        fn dle_text_round_trips(t in 0u16..=600, bound in 0u8..3) {
            let bound = [Bound::Exact, Bound::Below, Bound::Above][bound as usize];
            let d = Dle { tenths: t, bound };
            prop_assert_eq!(Dle::parse(&d.to_string()), Ok(d));
        }
    }
}
