//! Users and their memberships (user × school × role). The operator flag is instance-wide.

use sqlx::any::AnyRow;
use startblok_domain::{Role, SchoolId, UserId};
use time::OffsetDateTime;

use crate::schools::School;
use crate::support::{flag, id, opt_text, opt_ts, text, ts};
use crate::{Conn, DbError, Result, format_ts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub naam: String,
    /// `None` until the user has set a password through a one-time link.
    pub password_hash: Option<String>,
    pub is_operator: bool,
    pub disabled: bool,
    pub created_at: OffsetDateTime,
    pub password_changed_at: Option<OffsetDateTime>,
}

const COLUMNS: &str =
    "id, email, naam, password_hash, is_operator, disabled, created_at, password_changed_at";

fn from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: id(r, "id")?,
        email: text(r, "email")?,
        naam: text(r, "naam")?,
        password_hash: opt_text(r, "password_hash")?,
        is_operator: flag(r, "is_operator")?,
        disabled: flag(r, "disabled")?,
        created_at: ts(r, "created_at")?,
        password_changed_at: opt_ts(r, "password_changed_at")?,
    })
}

/// Inserts a user; an e-mail address already in use gives [`DbError::Duplicate`].
pub async fn insert(conn: &mut Conn, user: &User, email_lower: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, email_lower, naam, password_hash, is_operator, disabled, \
         created_at, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id.to_string())
    .bind(user.email.clone())
    .bind(email_lower.to_string())
    .bind(user.naam.clone())
    .bind(user.password_hash.clone())
    .bind(user.is_operator)
    .bind(user.disabled)
    .bind(format_ts(user.created_at))
    .bind(user.password_changed_at.map(format_ts))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_id(conn: &mut Conn, user: UserId) -> Result<Option<User>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(user.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_email(conn: &mut Conn, email_lower: &str) -> Result<Option<User>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE email_lower = $1"
    )))
    .bind(email_lower.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn set_password(
    conn: &mut Conn,
    user: UserId,
    hash: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(hash.to_string())
            .bind(format_ts(now))
            .bind(user.to_string())
            .execute(conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn set_disabled(conn: &mut Conn, user: UserId, disabled: bool) -> Result<()> {
    let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(disabled)
        .bind(user.to_string())
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn set_operator(conn: &mut Conn, user: UserId, is_operator: bool) -> Result<()> {
    sqlx::query("UPDATE users SET is_operator = $1 WHERE id = $2")
        .bind(is_operator)
        .bind(user.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a role at a school; adding a role the user already has changes nothing. Returns
/// whether the role was new.
pub async fn add_membership(
    conn: &mut Conn,
    school: SchoolId,
    user: UserId,
    role: Role,
    now: OffsetDateTime,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO memberships (user_id, school_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, school_id, role) DO NOTHING",
    )
    .bind(user.to_string())
    .bind(school.to_string())
    .bind(role.as_str().to_string())
    .bind(format_ts(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The schools a user belongs to, each with the user's roles there, ordered by school name.
pub async fn schools_of(conn: &mut Conn, user: UserId) -> Result<Vec<(School, Vec<Role>)>> {
    let rows = sqlx::query(
        "SELECT m.school_id, m.role FROM memberships m JOIN schools s ON s.id = m.school_id \
         WHERE m.user_id = $1 ORDER BY s.naam, s.brin, s.dependance, m.role",
    )
    .bind(user.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(School, Vec<Role>)> = Vec::new();
    for r in rows {
        let school_id: SchoolId = id(&r, "school_id")?;
        let role: Role = text(&r, "role")?.parse().map_err(|_| DbError::NotFound)?;
        match out.last_mut() {
            Some((s, roles)) if s.id == school_id => roles.push(role),
            _ => {
                let school = crate::schools::by_id(conn, school_id)
                    .await?
                    .ok_or(DbError::NotFound)?;
                out.push((school, vec![role]));
            }
        }
    }
    Ok(out)
}

/// The roles a user has at one school (empty when not a member).
pub async fn roles_at(conn: &mut Conn, school: SchoolId, user: UserId) -> Result<Vec<Role>> {
    let rows = sqlx::query(
        "SELECT role FROM memberships WHERE school_id = $1 AND user_id = $2 ORDER BY role",
    )
    .bind(school.to_string())
    .bind(user.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| text(r, "role")?.parse().map_err(|_| DbError::NotFound))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub roles: Vec<Role>,
}

/// The team of a school: every user with a role there, ordered by name.
pub async fn members_of(conn: &mut Conn, school: SchoolId) -> Result<Vec<Member>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {cols}, m.role FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE m.school_id = $1 ORDER BY u.naam, u.email_lower, m.role",
        cols = COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(school.to_string())
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Member> = Vec::new();
    for r in rows {
        let user = from_row(&r)?;
        let role: Role = text(&r, "role")?.parse().map_err(|_| DbError::NotFound)?;
        match out.last_mut() {
            Some(m) if m.user.id == user.id => m.roles.push(role),
            _ => out.push(Member {
                user,
                roles: vec![role],
            }),
        }
    }
    Ok(out)
}

pub async fn count_operators(conn: &mut Conn) -> Result<i64> {
    use sqlx::Row;
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE is_operator = $1 AND disabled = $2")
            .bind(true)
            .bind(false)
            .fetch_one(conn)
            .await?;
    Ok(row.try_get::<i64, _>("n")?)
}
