//! Uploaded Boom-leerlingnummer files, kept between upload, mapping, preview and apply.

use startblok_domain::{SchoolId, UserId};
use time::OffsetDateTime;

use crate::support::text;
use crate::{Conn, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub file_name: String,
    pub content: String,
}

pub async fn insert(
    conn: &mut Conn,
    school: SchoolId,
    user: UserId,
    upload: &Upload,
    now: OffsetDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO boom_uploads (id, school_id, user_id, file_name, content, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(upload.id.clone())
    .bind(school.to_string())
    .bind(user.to_string())
    .bind(upload.file_name.clone())
    .bind(upload.content.clone())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, school: SchoolId, id: &str) -> Result<Option<Upload>> {
    let row = sqlx::query(
        "SELECT id, file_name, content FROM boom_uploads WHERE school_id = $1 AND id = $2",
    )
    .bind(school.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref()
        .map(|r| {
            Ok(Upload {
                id: text(r, "id")?,
                file_name: text(r, "file_name")?,
                content: text(r, "content")?,
            })
        })
        .transpose()
}

/// Removes uploads older than `before` (they hold pupil data only as long as needed).
pub async fn delete_older_than(conn: &mut Conn, before: OffsetDateTime) -> Result<u64> {
    let done = sqlx::query("DELETE FROM boom_uploads WHERE created_at < $1")
        .bind(format_ts(before))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete(conn: &mut Conn, school: SchoolId, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM boom_uploads WHERE school_id = $1 AND id = $2")
        .bind(school.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
