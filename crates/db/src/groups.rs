//! Groups (klassen) of a school and the teachers linked to them.

use sqlx::any::AnyRow;
use startblok_domain::{SchoolId, UserId};
use time::OffsetDateTime;

use crate::support::{flag, id, opt_text, text};
use crate::{Conn, DbError, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub naam: String,
    pub jaargroep: Option<String>,
    pub las_key: Option<String>,
    pub actief: bool,
}

fn from_row(r: &AnyRow) -> Result<Group> {
    Ok(Group {
        id: text(r, "id")?,
        naam: text(r, "naam")?,
        jaargroep: opt_text(r, "jaargroep")?,
        las_key: opt_text(r, "las_key")?,
        actief: flag(r, "actief")?,
    })
}

pub async fn list(conn: &mut Conn, school: SchoolId) -> Result<Vec<Group>> {
    let rows = sqlx::query(
        "SELECT id, naam, jaargroep, las_key, actief FROM groups WHERE school_id = $1 ORDER BY naam_lower",
    )
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(conn: &mut Conn, school: SchoolId, group: &str) -> Result<Option<Group>> {
    let row = sqlx::query(
        "SELECT id, naam, jaargroep, las_key, actief FROM groups WHERE school_id = $1 AND id = $2",
    )
    .bind(school.to_string())
    .bind(group.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Inserts a group; a name the school already uses gives [`DbError::Duplicate`].
pub async fn insert(
    conn: &mut Conn,
    school: SchoolId,
    g: &Group,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO groups (id, school_id, naam, naam_lower, jaargroep, las_key, actief, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(g.id.clone())
    .bind(school.to_string())
    .bind(g.naam.clone())
    .bind(g.naam.to_lowercase())
    .bind(g.jaargroep.clone())
    .bind(g.las_key.clone())
    .bind(g.actief)
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Conn, school: SchoolId, g: &Group) -> Result<()> {
    let done = sqlx::query(
        "UPDATE groups SET naam = $1, naam_lower = $2, jaargroep = $3, actief = $4 WHERE school_id = $5 AND id = $6",
    )
    .bind(g.naam.clone())
    .bind(g.naam.to_lowercase())
    .bind(g.jaargroep.clone())
    .bind(g.actief)
    .bind(school.to_string())
    .bind(g.id.clone())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Like [`update`], and also writes the LAS key (used by the EDEXML import only).
pub async fn update_with_key(conn: &mut Conn, school: SchoolId, g: &Group) -> Result<()> {
    let done = sqlx::query(
        "UPDATE groups SET naam = $1, naam_lower = $2, jaargroep = $3, actief = $4, las_key = $5 \
         WHERE school_id = $6 AND id = $7",
    )
    .bind(g.naam.clone())
    .bind(g.naam.to_lowercase())
    .bind(g.jaargroep.clone())
    .bind(g.actief)
    .bind(g.las_key.clone())
    .bind(school.to_string())
    .bind(g.id.clone())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Replaces the set of teachers of a group.
pub async fn set_teachers(
    conn: &mut Conn,
    school: SchoolId,
    group: &str,
    teachers: &[UserId],
) -> Result<()> {
    sqlx::query("DELETE FROM group_teachers WHERE school_id = $1 AND group_id = $2")
        .bind(school.to_string())
        .bind(group.to_string())
        .execute(&mut *conn)
        .await?;
    for t in teachers {
        sqlx::query(
            "INSERT INTO group_teachers (group_id, user_id, school_id) VALUES ($1, $2, $3)",
        )
        .bind(group.to_string())
        .bind(t.to_string())
        .bind(school.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// (group id, teacher id) pairs of a school.
pub async fn teacher_links(conn: &mut Conn, school: SchoolId) -> Result<Vec<(String, UserId)>> {
    let rows = sqlx::query("SELECT group_id, user_id FROM group_teachers WHERE school_id = $1")
        .bind(school.to_string())
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((text(r, "group_id")?, id(r, "user_id")?)))
        .collect()
}

/// The ids of the groups a teacher is linked to.
pub async fn groups_of_teacher(
    conn: &mut Conn,
    school: SchoolId,
    user: UserId,
) -> Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT group_id FROM group_teachers WHERE school_id = $1 AND user_id = $2")
            .bind(school.to_string())
            .bind(user.to_string())
            .fetch_all(conn)
            .await?;
    rows.iter().map(|r| text(r, "group_id")).collect()
}
