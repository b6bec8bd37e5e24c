//! Instellingen > Toetsdoelen: the school's list of toetsdoelen (code, naam, actief).

use startblok_db::DbError;
use startblok_db::toetsdoelen::{self, Toetsdoel};
use startblok_domain::SchoolId;

use crate::forms::FormErrors;
use crate::{Actor, App, AppError, audit, now};

fn clean(s: &str) -> String {
    startblok_domain::clean_text(s).unwrap_or_default()
}

fn check_naam(naam: &str, errors: &mut FormErrors) {
    if naam.is_empty() {
        errors.add("naam", "Vul een naam in voor het toetsdoel.");
    } else if naam.chars().count() > 200 || naam.chars().any(char::is_control) {
        errors.add("naam", "Een naam mag hoogstens 200 tekens lang zijn.");
    }
}

impl App {
    pub async fn toetsdoelen(&self, school: SchoolId) -> Result<Vec<Toetsdoel>, AppError> {
        let mut c = self.db.conn().await?;
        Ok(toetsdoelen::list(&mut c, school).await?)
    }

    pub async fn add_toetsdoel(
        &self,
        school: SchoolId,
        code: &str,
        naam: &str,
        actor: &Actor,
    ) -> Result<Result<String, FormErrors>, AppError> {
        let code = clean(code).to_uppercase();
        let naam = clean(naam);
        let mut errors = FormErrors::default();
        if code.is_empty() {
            errors.add("code", "Vul een code in, bijvoorbeeld DOEL-A.");
        } else if code.chars().count() > 32
            || !code
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            errors.add("code", "Een code bestaat uit hoogstens 32 letters, cijfers, streepjes of punten, zonder spaties.");
        }
        check_naam(&naam, &mut errors);
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let id = uuid_v7();
        let mut tx = self.db.begin().await?;
        match toetsdoelen::insert(&mut tx, school, &id, &code, &naam, now()).await {
            Err(DbError::Duplicate) => {
                errors.add(
                    "code",
                    format!(
                        "De code {code} is al in gebruik op deze school. Kies een andere code."
                    ),
                );
                return Ok(Err(errors));
            }
            other => other?,
        }
        audit(
            &mut tx,
            actor,
            "toetsdoel.aangemaakt",
            Some(("toetsdoel", id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(id))
    }

    pub async fn update_toetsdoel(
        &self,
        school: SchoolId,
        id: &str,
        naam: &str,
        actief: bool,
        actor: &Actor,
    ) -> Result<Option<Result<(), FormErrors>>, AppError> {
        let naam = clean(naam);
        let mut errors = FormErrors::default();
        check_naam(&naam, &mut errors);
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let mut tx = self.db.begin().await?;
        match toetsdoelen::update(&mut tx, school, id, &naam, actief).await {
            Err(DbError::NotFound) => return Ok(None),
            other => other?,
        }
        audit(
            &mut tx,
            actor,
            "toetsdoel.gewijzigd",
            Some(("toetsdoel", id.to_string())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(Ok(())))
    }

    /// Deletes a toetsdoel that no pupil has or had. `Ok(false)` when it is in use.
    pub async fn delete_toetsdoel(
        &self,
        school: SchoolId,
        id: &str,
        actor: &Actor,
    ) -> Result<Option<bool>, AppError> {
        let mut tx = self.db.begin().await?;
        let Some(t) = toetsdoelen::get(&mut tx, school, id).await? else {
            return Ok(None);
        };
        if t.in_use > 0 {
            return Ok(Some(false));
        }
        toetsdoelen::delete(&mut tx, school, id).await?;
        audit(
            &mut tx,
            actor,
            "toetsdoel.verwijderd",
            Some(("toetsdoel", id.to_string())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(true))
    }
}

/// A new id: UUIDv7 text, sortable by creation time.
pub(crate) fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}
