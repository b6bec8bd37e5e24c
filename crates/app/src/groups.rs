//! Groepen & Team: a school's groups and the leerkrachten linked to them.

use startblok_db::groups::{self, Group};
use startblok_db::users::{self, Member};
use startblok_db::{DbError, pupils};
use startblok_domain::{Role, SchoolId, UserId};

use crate::forms::FormErrors;
use crate::toetsdoelen::uuid_v7;
use crate::{Actor, App, AppError, audit, now};

#[derive(Debug, Clone)]
pub struct GroupOverview {
    pub group: Group,
    pub teachers: Vec<Member>,
    pub pupils: usize,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub groups: Vec<GroupOverview>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct GroupInput {
    pub naam: String,
    pub jaargroep: String,
    pub actief: Option<String>,
    /// Ids of the leerkrachten linked to the group.
    pub leerkrachten: Vec<String>,
}

impl App {
    pub async fn team_overview(&self, school: SchoolId) -> Result<Team, AppError> {
        let mut c = self.db.conn().await?;
        let members = users::members_of(&mut c, school).await?;
        let links = groups::teacher_links(&mut c, school).await?;
        let all_pupils = pupils::list(&mut c, school).await?;
        let groups = groups::list(&mut c, school)
            .await?
            .into_iter()
            .map(|g| GroupOverview {
                teachers: members
                    .iter()
                    .filter(|m| links.iter().any(|(gid, u)| gid == &g.id && *u == m.user.id))
                    .cloned()
                    .collect(),
                pupils: all_pupils
                    .iter()
                    .filter(|p| p.uitgeschreven_op.is_none() && p.group_id.as_ref() == Some(&g.id))
                    .count(),
                group: g,
            })
            .collect();
        Ok(Team { groups, members })
    }

    /// Creates or updates a group (`group` = None creates). Teachers must be leerkrachten of the school.
    pub async fn save_group(
        &self,
        school: SchoolId,
        group: Option<&str>,
        input: &GroupInput,
        actor: &Actor,
    ) -> Result<Option<Result<String, FormErrors>>, AppError> {
        // Another school's group (or none at all) is not found, whatever the form says.
        if let Some(id) = group {
            let mut c = self.db.conn().await?;
            if groups::get(&mut c, school, id).await?.is_none() {
                return Ok(None);
            }
        }
        let naam = startblok_domain::clean_text(&input.naam).unwrap_or_default();
        let jaargroep = input.jaargroep.trim().to_string();
        let mut errors = FormErrors::default();
        if naam.is_empty() {
            errors.add("naam", "Vul een naam in voor de groep.");
        } else if naam.chars().count() > 100 {
            errors.add("naam", "Een groepsnaam mag hoogstens 100 tekens lang zijn.");
        }
        if jaargroep.chars().count() > 10 {
            errors.add("jaargroep", "Een jaargroep is kort, bijvoorbeeld 5 of C.");
        }
        let mut tx = self.db.begin().await?;
        let members = users::members_of(&mut tx, school).await?;
        let mut teachers: Vec<UserId> = Vec::new();
        for t in &input.leerkrachten {
            match members
                .iter()
                .find(|m| m.user.id.to_string() == *t && m.roles.contains(&Role::Leerkracht))
            {
                Some(m) => teachers.push(m.user.id),
                None => errors.add("leerkrachten", "Kies leerkrachten uit de lijst."),
            }
        }
        if !errors.is_empty() {
            return Ok(Some(Err(errors)));
        }
        let g = Group {
            id: group.map(String::from).unwrap_or_else(uuid_v7),
            naam: naam.clone(),
            jaargroep: if jaargroep.is_empty() {
                None
            } else {
                Some(jaargroep)
            },
            las_key: None,
            actief: group.is_none() || input.actief.is_some(),
        };
        let result = match group {
            None => groups::insert(&mut tx, school, &g, now()).await,
            Some(id) => {
                let Some(existing) = groups::get(&mut tx, school, id).await? else {
                    return Ok(None);
                };
                groups::update(
                    &mut tx,
                    school,
                    &Group {
                        las_key: existing.las_key,
                        ..g.clone()
                    },
                )
                .await
            }
        };
        match result {
            Err(DbError::Duplicate) => {
                errors.add("naam", format!("Er is al een groep met de naam {naam}."));
                return Ok(Some(Err(errors)));
            }
            other => other?,
        }
        groups::set_teachers(&mut tx, school, &g.id, &teachers).await?;
        let action = if group.is_none() {
            "groep.aangemaakt"
        } else {
            "groep.gewijzigd"
        };
        audit(
            &mut tx,
            actor,
            action,
            Some(("groep", g.id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Some(Ok(g.id)))
    }
}
