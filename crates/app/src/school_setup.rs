//! Instellingen > School Setup: the fase bands the school uses (norms.md: months since the start
//! in newcomer education; the default is 6, 12, 18, 24) and its test periods. A change of bands
//! changes how results are judged, so they are processed again at once.

use startblok_db::school_setup::{self, Toetsperiode};
use startblok_db::{Conn, DbError};
use startblok_domain::norms::MonthTable;
use startblok_domain::{FaseBands, SchoolId, clean_text, parse_school_date, today_nl};

use crate::forms::FormErrors;
use crate::{Actor, App, AppResult, audit, now};

/// The school's fase bands (the default when none are set).
pub async fn fase_bands(conn: &mut Conn, school: SchoolId) -> AppResult<FaseBands> {
    Ok(school_setup::fasegrenzen(conn, school)
        .await?
        .and_then(|s| FaseBands::parse(&s).ok())
        .unwrap_or_default())
}

/// The school's DL month table (the default counts a started month).
pub async fn month_table(conn: &mut Conn, school: SchoolId) -> AppResult<MonthTable> {
    Ok(
        match school_setup::maandtabel(conn, school).await?.as_deref() {
            Some("voltooid") => MonthTable::Completed,
            _ => MonthTable::Started,
        },
    )
}

/// What the test period form sends.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PeriodeInput {
    pub naam: String,
    pub van: String,
    pub tot_en_met: String,
}

impl App {
    pub async fn fase_bands(&self, school: SchoolId) -> AppResult<FaseBands> {
        let mut c = self.db.conn().await?;
        fase_bands(&mut c, school).await
    }

    /// Saves the fase bands as typed ("6, 12, 18, 24"), or says at the field why not.
    pub async fn save_fase_bands(
        &self,
        school: SchoolId,
        input: &str,
        actor: &Actor,
    ) -> AppResult<Result<FaseBands, FormErrors>> {
        let bands = match FaseBands::parse(input) {
            Ok(b) => b,
            Err(e) => {
                let mut errors = FormErrors::default();
                errors.add("fasegrenzen", format!("Fasegrenzen: {e}"));
                return Ok(Err(errors));
            }
        };
        let mut tx = self.db.begin().await?;
        school_setup::set_fasegrenzen(&mut tx, school, &bands.to_text(), now()).await?;
        audit(&mut tx, actor, "school.fasegrenzen", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        // Every fase is derived again: results are judged in the fase of their afnamedatum.
        self.reprocess_after_change(school, None).await;
        Ok(Ok(bands))
    }

    pub async fn month_table(&self, school: SchoolId) -> AppResult<MonthTable> {
        let mut c = self.db.conn().await?;
        month_table(&mut c, school).await
    }

    /// Saves the DL month table: `gestart` (default) or `voltooid`.
    pub async fn save_month_table(
        &self,
        school: SchoolId,
        input: &str,
        actor: &Actor,
    ) -> AppResult<Result<(), FormErrors>> {
        if input != "gestart" && input != "voltooid" {
            let mut errors = FormErrors::default();
            errors.add("maandtabel", "Kies hoe een maand telt voor de DL.");
            return Ok(Err(errors));
        }
        let mut tx = self.db.begin().await?;
        let bands = fase_bands(&mut tx, school).await?;
        school_setup::set_maandtabel(&mut tx, school, input, &bands.to_text(), now()).await?;
        audit(&mut tx, actor, "school.maandtabel", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(()))
    }

    pub async fn toetsperiodes(&self, school: SchoolId) -> AppResult<Vec<Toetsperiode>> {
        let mut c = self.db.conn().await?;
        Ok(school_setup::toetsperiodes(&mut c, school).await?)
    }

    /// Adds a test period: a name, and dates that do not overlap another period.
    pub async fn add_toetsperiode(
        &self,
        school: SchoolId,
        input: &PeriodeInput,
        actor: &Actor,
    ) -> AppResult<Result<(), FormErrors>> {
        let mut errors = FormErrors::default();
        let today = today_nl(now());
        let naam = clean_text(&input.naam).filter(|n| n.chars().count() <= 60);
        if naam.is_none() {
            errors.add(
                "naam",
                "Geef de toetsperiode een naam van hoogstens 60 tekens, bijvoorbeeld 'Midden 2026-2027'.",
            );
        }
        let date = |field: &str, label: &str, value: &str, errors: &mut FormErrors| {
            match parse_school_date(value, today) {
                Ok(Some(d)) => Some(d),
                Ok(None) => {
                    errors.add(
                        field,
                        format!("Vul de datum '{label}' in, bijvoorbeeld 12-01-2027."),
                    );
                    None
                }
                Err(e) => {
                    errors.add(field, format!("{label}: {e}"));
                    None
                }
            }
        };
        let van = date("van", "Van", &input.van, &mut errors);
        let tot = date("tot_en_met", "Tot en met", &input.tot_en_met, &mut errors);
        let mut tx = self.db.begin().await?;
        if let (Some(v), Some(t)) = (van, tot) {
            if t < v {
                errors.add("tot_en_met", "'Tot en met' ligt voor 'Van'.");
            } else if let Some(o) = school_setup::toetsperiodes(&mut tx, school)
                .await?
                .into_iter()
                .find(|p| p.van <= t && v <= p.tot_en_met)
            {
                errors.add(
                    "van",
                    format!(
                        "Deze periode overlapt met '{}' ({} tot en met {}).",
                        o.naam,
                        startblok_domain::format_date(o.van),
                        startblok_domain::format_date(o.tot_en_met)
                    ),
                );
            }
        }
        let (Some(naam), Some(v), Some(t), true) = (naam, van, tot, errors.is_empty()) else {
            return Ok(Err(errors));
        };
        school_setup::add_toetsperiode(&mut tx, school, &naam, v, t, now()).await?;
        audit(&mut tx, actor, "school.toetsperiode", None, Some(school)).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(()))
    }

    pub async fn remove_toetsperiode(
        &self,
        school: SchoolId,
        id: &str,
        actor: &Actor,
    ) -> AppResult<bool> {
        let mut tx = self.db.begin().await?;
        let done = school_setup::remove_toetsperiode(&mut tx, school, id).await?;
        if done {
            audit(
                &mut tx,
                actor,
                "school.toetsperiode_verwijderd",
                None,
                Some(school),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(done)
    }
}
