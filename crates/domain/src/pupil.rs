//! Values that belong to a pupil: the Boom-leerlingnummer, dates typed by people, and the fase
//! on a date (norms.md, "Fase").

use time::{Date, Month};

/// The pupil's number in the Boom testcentrum: an opaque string, trimmed, leading zeros kept,
/// at most 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BoomLeerlingnummer(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BoomLeerlingnummerError {
    #[error("Een Boom-leerlingnummer mag hoogstens 64 tekens lang zijn.")]
    TooLong,
    #[error(
        "Een Boom-leerlingnummer mag geen spaties, tabs, regeleinden of onzichtbare tekens bevatten."
    )]
    Control,
}

/// Characters that take no room on screen (zero-width space, direction marks, soft hyphen, BOM, …):
/// they make two different values look the same, so they are removed from names and refused in
/// keys.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// Text as typed into a name-like field: NFC, invisible characters removed, runs of white space
/// folded to one space, trimmed. `None` when nothing is left.
pub fn clean_text(input: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let s: String = input.nfc().filter(|c| !is_invisible(*c)).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() { None } else { Some(s) }
}

impl BoomLeerlingnummer {
    /// Parses user input; an empty field means "no number" (`Ok(None)`), which is allowed.
    /// Compatibility forms are folded (NFKC: full-width `１２３` is `123`), so look-alikes cannot
    /// live side by side.
    pub fn parse(input: &str) -> Result<Option<Self>, BoomLeerlingnummerError> {
        use unicode_normalization::UnicodeNormalization;
        let folded: String = input.nfkc().collect();
        let s = folded.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
        {
            return Err(BoomLeerlingnummerError::Control);
        }
        if s.chars().count() > 64 {
            return Err(BoomLeerlingnummerError::TooLong);
        }
        Ok(Some(Self(s.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DateError {
    #[error("Vul een datum in als dag-maand-jaar, bijvoorbeeld 23-08-2016.")]
    Format,
    #[error("Deze datum bestaat niet.")]
    NoSuchDate,
    #[error("Deze datum ligt in de toekomst.")]
    Future,
    #[error("Deze datum ligt te ver in het verleden of de toekomst. Controleer het jaar.")]
    Implausible,
    #[error(
        "Dit is geen geboortedatum van een leerling (3 tot 30 jaar geleden). Controleer het jaar."
    )]
    NotAChild,
}

/// Parses a date as people type it: `23-08-2016`, `23/8/2016`, `23.08.2016` or ISO `2016-08-23`.
pub fn parse_date(input: &str) -> Result<Option<Date>, DateError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = s.split(['-', '/', '.']).map(str::trim).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DateError::Format);
    }
    let (y, m, d) = if parts[0].len() == 4 {
        (parts[0], parts[1], parts[2])
    } else if parts[2].len() == 4 {
        (parts[2], parts[1], parts[0])
    } else {
        return Err(DateError::Format);
    };
    let year: i32 = y.parse().map_err(|_| DateError::Format)?;
    let month: u8 = m.parse().map_err(|_| DateError::Format)?;
    let day: u8 = d.parse().map_err(|_| DateError::Format)?;
    let month = Month::try_from(month).map_err(|_| DateError::NoSuchDate)?;
    Date::from_calendar_date(year, month, day)
        .map(Some)
        .map_err(|_| DateError::NoSuchDate)
}

/// Like [`parse_date`], for dates that cannot lie after `today` (geboortedatum, aankomst).
pub fn parse_past_date(input: &str, today: Date) -> Result<Option<Date>, DateError> {
    match parse_date(input)? {
        Some(d) if d > today => Err(DateError::Future),
        other => Ok(other),
    }
}

/// A school date (instroom, uitstroom, start in newcomer education, fase from): between 1990 and
/// a year from today. Catches typos like 2099 or 0001.
pub fn parse_school_date(input: &str, today: Date) -> Result<Option<Date>, DateError> {
    match parse_date(input)? {
        Some(d) if d.year() < 1990 || d > today + time::Duration::days(366) => {
            Err(DateError::Implausible)
        }
        other => Ok(other),
    }
}

/// A birth date of a pupil: in the past, and a child's (between 3 and 30 years ago).
pub fn parse_birth_date(input: &str, today: Date) -> Result<Option<Date>, DateError> {
    match parse_past_date(input, today)? {
        Some(d)
            if d < today - time::Duration::days(30 * 366)
                || d > today - time::Duration::days(3 * 365) =>
        {
            Err(DateError::NotAChild)
        }
        other => Ok(other),
    }
}

/// A date as Dutch people write it: `23-08-2016`.
pub fn format_date(d: Date) -> String {
    format!("{:02}-{:02}-{:04}", d.day(), u8::from(d.month()), d.year())
}

/// Fase bands: the lower bound in months since the start in newcomer education of fase 2, 3, …
/// Default (norms.md): fase 1 = 0–6 months, 2 = 6–12, 3 = 12–18, 4 = 18–24, 5 = 24 and more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaseBands(pub Vec<u32>);

impl Default for FaseBands {
    fn default() -> Self {
        FaseBands(vec![6, 12, 18, 24])
    }
}

/// Why fase bands were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaseBandsError {
    #[error(
        "'{0}' is geen aantal maanden. Gebruik hele getallen met komma's ertussen, bijvoorbeeld 6, 12, 18, 24."
    )]
    NotANumber(String),
    #[error(
        "Zet de getallen van klein naar groot, bijvoorbeeld 6, 12, 18, 24 (nu staat {1} na {0})."
    )]
    NotIncreasing(u32, u32),
    #[error("Een grens ligt tussen 1 en 120 maanden; {0} kan niet.")]
    OutOfRange(u32),
    #[error("Er zijn hoogstens 8 grenzen (9 fases).")]
    TooMany,
}

impl FaseBands {
    /// "6, 12, 18, 24": the months since the start in newcomer education at which fase 2, 3, …
    /// begin. Strictly increasing, 1 to 120, at most 8. Empty: one fase for everyone.
    pub fn parse(input: &str) -> Result<FaseBands, FaseBandsError> {
        let mut out: Vec<u32> = Vec::new();
        for part in input
            .split([',', ';', ' '])
            .filter(|p| !p.trim().is_empty())
        {
            let part = part.trim();
            let n: u32 = part
                .parse()
                .map_err(|_| FaseBandsError::NotANumber(part.chars().take(20).collect()))?;
            if !(1..=120).contains(&n) {
                return Err(FaseBandsError::OutOfRange(n));
            }
            if let Some(&last) = out.last()
                && n <= last
            {
                return Err(FaseBandsError::NotIncreasing(last, n));
            }
            out.push(n);
        }
        if out.len() > 8 {
            return Err(FaseBandsError::TooMany);
        }
        Ok(FaseBands(out))
    }

    /// As stored and typed: "6, 12, 18, 24".
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Per fase its months, for people: (1, "0 t/m 5 maanden"), …, (5, "24 maanden en meer").
    pub fn describe(&self) -> Vec<(u8, String)> {
        let mut out = Vec::new();
        let mut from = 0;
        for (i, b) in self.0.iter().enumerate() {
            out.push((i as u8 + 1, format!("{from} t/m {} maanden", b - 1)));
            from = *b;
        }
        out.push((self.0.len() as u8 + 1, format!("{from} maanden en meer")));
        out
    }
}

/// An explicit fase entry: "vanaf `from`: fase `fase`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaseEntry {
    pub from: Date,
    pub fase: u8,
}

/// Whole months from `start` to `on` (0 when `on` is before `start`).
pub fn months_between(start: Date, on: Date) -> u32 {
    if on <= start {
        return 0;
    }
    let mut months = (on.year() - start.year()) * 12
        + (u8::from(on.month()) as i32 - u8::from(start.month()) as i32);
    if on.day() < start.day() {
        months -= 1;
    }
    months.max(0) as u32
}

/// The fase on a date: the latest explicit entry on or before it, else derived from the months
/// since `start` through the bands. `None` when neither an entry nor a start date is known.
pub fn fase_on(
    start: Option<Date>,
    entries: &[FaseEntry],
    bands: &FaseBands,
    on: Date,
) -> Option<u8> {
    if let Some(e) = entries
        .iter()
        .filter(|e| e.from <= on)
        .max_by_key(|e| e.from)
    {
        return Some(e.fase);
    }
    let start = start?;
    let months = months_between(start, on);
    Some(1 + bands.0.iter().filter(|&&b| months >= b).count() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn boom_numbers_are_opaque_trimmed_strings() {
        assert_eq!(
            BoomLeerlingnummer::parse("  007100 ")
                .unwrap()
                .unwrap()
                .as_str(),
            "007100"
        );
        assert_eq!(BoomLeerlingnummer::parse("   ").unwrap(), None);
        assert_eq!(
            BoomLeerlingnummer::parse(&"1".repeat(65)),
            Err(BoomLeerlingnummerError::TooLong)
        );
        assert!(
            BoomLeerlingnummer::parse(&"é".repeat(64)).is_ok(),
            "64 characters, not bytes"
        );
        assert_eq!(
            BoomLeerlingnummer::parse("12\t34"),
            Err(BoomLeerlingnummerError::Control)
        );
        assert_eq!(
            BoomLeerlingnummer::parse("12 34"),
            Err(BoomLeerlingnummerError::Control)
        );
        assert_eq!(
            BoomLeerlingnummer::parse("12\u{200B}34"),
            Err(BoomLeerlingnummerError::Control)
        );
        assert_eq!(
            BoomLeerlingnummer::parse("１２３")
                .unwrap()
                .unwrap()
                .as_str(),
            "123",
            "full-width folds"
        );
        assert_eq!(
            clean_text("  Groep\u{200B}  X01 "),
            Some("Groep X01".to_string())
        );
        assert_eq!(clean_text("\u{200B} "), None);
    }

    #[test]
    fn dates_parse_the_way_people_type_them() {
        for s in [
            "23-08-2016",
            "23/8/2016",
            "23.08.2016",
            "2016-08-23",
            " 23-08-2016 ",
        ] {
            assert_eq!(parse_date(s), Ok(Some(date!(2016 - 08 - 23))), "{s}");
        }
        assert_eq!(parse_date(""), Ok(None));
        assert_eq!(parse_date("31-02-2016"), Err(DateError::NoSuchDate));
        assert_eq!(parse_date("23-08-16"), Err(DateError::Format));
        assert_eq!(parse_date("gisteren"), Err(DateError::Format));
        assert_eq!(
            parse_past_date("01-01-2030", date!(2026 - 12 - 03)),
            Err(DateError::Future)
        );
        assert_eq!(format_date(date!(2016 - 08 - 03)), "03-08-2016");
        let today = date!(2026 - 12 - 03);
        assert_eq!(
            parse_school_date("01-01-2099", today),
            Err(DateError::Implausible)
        );
        assert_eq!(
            parse_school_date("01-01-0001", today),
            Err(DateError::Implausible)
        );
        assert!(
            parse_school_date("01-09-2027", today).is_ok(),
            "a planned start next school year"
        );
        assert_eq!(
            parse_birth_date("29-02-2024", today),
            Err(DateError::NotAChild)
        );
        assert_eq!(
            parse_birth_date("01-01-1900", today),
            Err(DateError::NotAChild)
        );
        assert!(parse_birth_date("22-08-2016", today).unwrap().is_some());
    }

    #[test]
    fn fase_bands_are_typed_as_increasing_months_and_refused_otherwise() {
        assert_eq!(FaseBands::parse("6, 12, 18, 24"), Ok(FaseBands::default()));
        assert_eq!(FaseBands::parse("3;9"), Ok(FaseBands(vec![3, 9])));
        assert_eq!(FaseBands::parse(""), Ok(FaseBands(vec![])));
        assert_eq!(
            FaseBands::parse("6, 12, 12"),
            Err(FaseBandsError::NotIncreasing(12, 12))
        );
        assert_eq!(
            FaseBands::parse("12, 6"),
            Err(FaseBandsError::NotIncreasing(12, 6))
        );
        assert_eq!(FaseBands::parse("0, 6"), Err(FaseBandsError::OutOfRange(0)));
        assert_eq!(
            FaseBands::parse("6, zes"),
            Err(FaseBandsError::NotANumber("zes".into()))
        );
        assert_eq!(
            FaseBands::parse("1,2,3,4,5,6,7,8,9"),
            Err(FaseBandsError::TooMany)
        );
        assert_eq!(FaseBands::default().to_text(), "6, 12, 18, 24");
        assert_eq!(
            FaseBands(vec![6, 12]).describe(),
            vec![
                (1, "0 t/m 5 maanden".to_string()),
                (2, "6 t/m 11 maanden".to_string()),
                (3, "12 maanden en meer".to_string())
            ]
        );
    }

    #[test]
    fn fase_follows_the_default_bands_and_explicit_entries() {
        let start = Some(date!(2026 - 01 - 15));
        let b = FaseBands::default();
        assert_eq!(fase_on(start, &[], &b, date!(2026 - 01 - 15)), Some(1));
        assert_eq!(
            fase_on(start, &[], &b, date!(2026 - 07 - 14)),
            Some(1),
            "5 months"
        );
        assert_eq!(
            fase_on(start, &[], &b, date!(2026 - 07 - 15)),
            Some(2),
            "6 months: band edge belongs to the next fase"
        );
        assert_eq!(fase_on(start, &[], &b, date!(2028 - 01 - 15)), Some(5));
        let entries = [FaseEntry {
            from: date!(2026 - 03 - 01),
            fase: 3,
        }];
        assert_eq!(fase_on(start, &entries, &b, date!(2026 - 02 - 28)), Some(1));
        assert_eq!(fase_on(start, &entries, &b, date!(2026 - 03 - 01)), Some(3));
        assert_eq!(fase_on(None, &[], &b, date!(2026 - 03 - 01)), None);
    }

    proptest! {
        #[test]
        fn fase_never_goes_down_over_time_without_entries(a in 0i64..4000, b in 0i64..4000) {
            let start = date!(2020 - 01 - 01);
            let (early, late) = (a.min(b), a.max(b));
            let d1 = start + time::Duration::days(early);
            let d2 = start + time::Duration::days(late);
            let bands = FaseBands::default();
            prop_assert!(fase_on(Some(start), &[], &bands, d1) <= fase_on(Some(start), &[], &bands, d2));
        }

        #[test]
        fn fase_never_goes_down_with_any_bands_a_school_can_set(
            steps in proptest::collection::vec(1u32..15, 0..8),
            a in 0i64..4000,
            b in 0i64..4000,
        ) {
            // Strictly increasing bounds, as FaseBands::parse accepts them.
            let bounds: Vec<u32> = steps
                .iter()
                .scan(0, |acc, s| { *acc += s; Some(*acc) })
                .collect();
            let text = bounds.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
            let bands = FaseBands::parse(&text).unwrap();
            let start = date!(2020 - 01 - 01);
            let d1 = start + time::Duration::days(a.min(b));
            let d2 = start + time::Duration::days(a.max(b));
            let f1 = fase_on(Some(start), &[], &bands, d1).unwrap();
            let f2 = fase_on(Some(start), &[], &bands, d2).unwrap();
            prop_assert!(f1 <= f2);
            prop_assert!(usize::from(f2) <= bounds.len() + 1);
        }
    }
}

/// A moment as Dutch clocks show it (Europe/Amsterdam: UTC+1, UTC+2 in summer time from the
/// last Sunday of March to the last Sunday of October, switching at 01:00 UTC).
pub fn nl_time(now_utc: time::OffsetDateTime) -> time::OffsetDateTime {
    let utc = now_utc.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    let last_sunday = |month: Month| {
        let mut d =
            Date::from_calendar_date(year, month, 31).expect("March and October have 31 days");
        while d.weekday() != time::Weekday::Sunday {
            d = d.previous_day().expect("within the year");
        }
        d.with_hms(1, 0, 0).expect("valid time").assume_utc()
    };
    let summer = utc >= last_sunday(Month::March) && utc < last_sunday(Month::October);
    let offset = time::UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).expect("valid offset");
    utc.to_offset(offset)
}

/// Today's date in the Netherlands.
pub fn today_nl(now_utc: time::OffsetDateTime) -> Date {
    nl_time(now_utc).date()
}

/// A moment as `23-08-2026 14:05`, Dutch time.
pub fn format_moment(t: time::OffsetDateTime) -> String {
    let nl = nl_time(t);
    format!(
        "{} {:02}:{:02}",
        format_date(nl.date()),
        nl.hour(),
        nl.minute()
    )
}

#[cfg(test)]
mod today_tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_dutch_date_changes_at_local_midnight() {
        assert_eq!(
            today_nl(datetime!(2026-12-03 22:59 UTC)),
            time::macros::date!(2026 - 12 - 03)
        );
        assert_eq!(
            today_nl(datetime!(2026-12-03 23:00 UTC)),
            time::macros::date!(2026 - 12 - 04)
        );
        assert_eq!(
            today_nl(datetime!(2026-07-01 21:59 UTC)),
            time::macros::date!(2026 - 07 - 01)
        );
        assert_eq!(
            today_nl(datetime!(2026-07-01 22:00 UTC)),
            time::macros::date!(2026 - 07 - 02)
        );
    }
}
