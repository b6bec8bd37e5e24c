//! Small helpers shared by the aggregate modules: timestamps as sortable UTC text, and row
//! decoding that reads the same on both backends.

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Backend, Db, Result};

const TS_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Formats a timestamp as fixed-width UTC text, so that text order is time order.
pub fn format_ts(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TS_FORMAT)
        .expect("a UTC timestamp always formats")
}

pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

/// Booleans come back as `bool` from PostgreSQL and as integers from SQLite.
pub(crate) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    match row.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(col)? != 0),
    }
}

pub(crate) fn ts(row: &AnyRow, col: &str) -> Result<OffsetDateTime> {
    let s = text(row, col)?;
    parse_ts(&s).ok_or_else(|| {
        crate::DbError::Sqlx(sqlx::Error::Decode(
            format!("bad timestamp in {col}: {s}").into(),
        ))
    })
}

pub(crate) fn opt_ts(row: &AnyRow, col: &str) -> Result<Option<OffsetDateTime>> {
    Ok(opt_text(row, col)?.as_deref().and_then(parse_ts))
}

pub(crate) fn id<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T> {
    let s = text(row, col)?;
    s.parse().map_err(|_| {
        crate::DbError::Sqlx(sqlx::Error::Decode(format!("bad id in {col}: {s}").into()))
    })
}

pub(crate) async fn schema_outline(db: &Db) -> Result<Vec<(String, Vec<(String, bool)>)>> {
    let mut conn = db.pool().acquire().await?;
    let tables: Vec<String> = match db.backend() {
        Backend::Sqlite => sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        ),
        Backend::Postgres => sqlx::query(
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx_%' ORDER BY table_name",
        ),
    }
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| text(r, "name"))
    .collect::<Result<_>>()?;

    let mut out = Vec::new();
    for table in tables {
        let rows = match db.backend() {
            Backend::Sqlite => {
                sqlx::query("SELECT name, \"notnull\" AS not_null, pk FROM pragma_table_info($1)")
                    .bind(table.clone())
                    .fetch_all(&mut *conn)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query(
                    "SELECT CAST(column_name AS TEXT) AS name, \
                     CAST(CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) AS not_null, CAST(0 AS BIGINT) AS pk \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1",
                )
                .bind(table.clone())
                .fetch_all(&mut *conn)
                .await?
            }
        };
        let mut cols = Vec::new();
        for r in rows {
            let name = text(&r, "name")?;
            // SQLite reports primary-key columns as nullable unless declared NOT NULL; PostgreSQL
            // always makes them NOT NULL. Compare what the schema means, not how it is spelled.
            let not_null = r.try_get::<i64, _>("not_null").unwrap_or(0) != 0
                || r.try_get::<i64, _>("pk").unwrap_or(0) != 0;
            cols.push((name, not_null));
        }
        cols.sort();
        out.push((table, cols));
    }
    Ok(out)
}

/// How many rows one multi-row INSERT carries. Measured (benches/uwlr_intake.rs): on PostgreSQL
/// every statement is a round trip, so big statements win; on SQLite (in process) a statement of
/// a few hundred rows binds thousands of arguments and is slower than several small ones.
pub(crate) fn rows_per_insert(conn: &crate::Conn) -> usize {
    if conn.backend_name() == "PostgreSQL" {
        200
    } else {
        10
    }
}
