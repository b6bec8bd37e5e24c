//! Creating schools, operators and school users (the operator CLI and, later, the back office).

use startblok_db::schools::{self, School};
use startblok_db::user_tokens::{self, Purpose};
use startblok_db::users::{self, User};
use startblok_db::{DbError, Tx};
use startblok_domain::{
    Email, EmailError, PasswordProblem, PersonName, PersonNameError, Role, SchoolCode, SchoolId,
    UserId, check_password_policy,
};

use crate::auth::hash_off_thread;
use crate::secrets::{hash_token, new_token};
use crate::{Actor, App, AppError, audit, now};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("Er bestaat al een school met BRIN {0}.")]
    SchoolExists(SchoolCode),
    #[error("Er is geen school met BRIN {0}.")]
    NoSuchSchool(SchoolCode),
    #[error("{0}")]
    Email(#[from] EmailError),
    #[error("{0}")]
    Name(#[from] PersonNameError),
    #[error("{0}")]
    Password(#[from] PasswordProblem),
    #[error("Vul de naam van de school in.")]
    SchoolName,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<DbError> for ProvisionError {
    fn from(e: DbError) -> Self {
        ProvisionError::App(e.into())
    }
}

/// The outcome of creating (or finding) an account.
#[derive(Debug)]
pub struct Account {
    pub user: User,
    /// True when the account existed already (only a role or flag was added).
    pub existed: bool,
    /// A one-time link to set the password, when no password was given.
    pub link: Option<String>,
    /// Whether anything changed (a new account, role or operator flag).
    pub changed: bool,
}

impl App {
    pub async fn create_school(
        &self,
        naam: &str,
        code: &SchoolCode,
        schoolkey: Option<&str>,
        actor: &Actor,
    ) -> Result<School, ProvisionError> {
        let naam = naam.trim();
        if naam.is_empty() || naam.chars().count() > 200 || naam.chars().any(char::is_control) {
            return Err(ProvisionError::SchoolName);
        }
        let school = School {
            id: SchoolId::new(),
            naam: naam.to_string(),
            code: code.clone(),
            schoolkey: schoolkey
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
            created_at: now(),
        };
        let mut tx = self.db.begin().await?;
        match schools::insert(&mut tx, &school).await {
            Err(DbError::Duplicate) => return Err(ProvisionError::SchoolExists(code.clone())),
            other => other?,
        }
        audit(
            &mut tx,
            actor,
            "school.aangemaakt",
            Some(("school", school.id.to_string())),
            Some(school.id),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(school)
    }

    pub async fn school_by_code(
        &self,
        code: &SchoolCode,
    ) -> Result<Option<School>, ProvisionError> {
        let mut c = self.db.conn().await?;
        Ok(schools::by_code(&mut c, code).await?)
    }

    /// Creates an operator account, or makes an existing user operator.
    pub async fn create_operator(
        &self,
        email: &str,
        naam: Option<&str>,
        password: Option<&str>,
        actor: &Actor,
    ) -> Result<Account, ProvisionError> {
        let mut tx = self.db.begin().await?;
        let mut account = self
            .find_or_create_user(&mut tx, email, naam, password, Purpose::Setup)
            .await?;
        // Only what changed is done and recorded: a second demo start adds nothing to the log.
        if !account.user.is_operator {
            users::set_operator(&mut tx, account.user.id, true).await?;
            account.user.is_operator = true;
            account.changed = true;
            audit(
                &mut tx,
                actor,
                "operator.aangemaakt",
                Some(("gebruiker", account.user.id.to_string())),
                None,
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(account)
    }

    /// Gives a user a role at a school, creating the account when it does not exist yet.
    pub async fn create_school_user(
        &self,
        school: &SchoolCode,
        email: &str,
        naam: Option<&str>,
        role: Role,
        password: Option<&str>,
        actor: &Actor,
    ) -> Result<Account, ProvisionError> {
        let mut tx = self.db.begin().await?;
        let Some(school_row) = schools::by_code(&mut tx, school).await? else {
            return Err(ProvisionError::NoSuchSchool(school.clone()));
        };
        let mut account = self
            .find_or_create_user(&mut tx, email, naam, password, Purpose::Invite)
            .await?;
        if users::add_membership(&mut tx, school_row.id, account.user.id, role, now()).await? {
            account.changed = true;
            audit(
                &mut tx,
                actor,
                &format!("rol.toegekend.{}", role.as_str()),
                Some(("gebruiker", account.user.id.to_string())),
                Some(school_row.id),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(account)
    }

    async fn find_or_create_user(
        &self,
        tx: &mut Tx,
        email: &str,
        naam: Option<&str>,
        password: Option<&str>,
        purpose: Purpose,
    ) -> Result<Account, ProvisionError> {
        let email = Email::parse(email)?;
        if let Some(pw) = password {
            check_password_policy(pw)?;
        }
        if let Some(existing) = users::by_email(tx, email.lookup()).await? {
            return Ok(Account {
                user: existing,
                existed: true,
                link: None,
                changed: false,
            });
        }
        let naam = match naam {
            Some(n) => PersonName::parse(n)?.as_str().to_string(),
            // Until the person fills in a name, the part before the @ is a readable stand-in.
            None => email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let password_hash = match password {
            Some(pw) => Some(
                hash_off_thread(pw)
                    .await
                    .map_err(|_| AppError::PasswordHash)?,
            ),
            None => None,
        };
        let t = now();
        let user = User {
            id: UserId::new(),
            email: email.as_str().to_string(),
            naam,
            password_changed_at: password_hash.as_ref().map(|_| t),
            password_hash,
            is_operator: false,
            disabled: false,
            created_at: t,
        };
        users::insert(tx, &user, email.lookup()).await?;
        let link = if password.is_none() {
            let token = new_token();
            user_tokens::insert(
                tx,
                &hash_token(&token),
                user.id,
                purpose,
                t,
                t + self.settings.link_valid_for,
            )
            .await?;
            Some(self.link(&format!("/welkom/{token}")))
        } else {
            None
        };
        Ok(Account {
            user,
            existed: false,
            link,
            changed: true,
        })
    }

    /// Disables or re-enables an account; disabling ends all its sessions at once.
    pub async fn set_user_disabled(
        &self,
        user: UserId,
        disabled: bool,
        actor: &Actor,
    ) -> Result<(), ProvisionError> {
        let mut tx = self.db.begin().await?;
        users::set_disabled(&mut tx, user, disabled).await?;
        if disabled {
            startblok_db::sessions::delete_all_for_user(&mut tx, user).await?;
        }
        let action = if disabled {
            "gebruiker.geblokkeerd"
        } else {
            "gebruiker.gedeblokkeerd"
        };
        audit(
            &mut tx,
            actor,
            action,
            Some(("gebruiker", user.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    pub async fn any_operator(&self) -> Result<bool, ProvisionError> {
        let mut c = self.db.conn().await?;
        Ok(users::count_operators(&mut c).await? > 0)
    }
}

impl App {
    /// The team of a school (Instellingen > Gebruikers).
    pub async fn team(&self, school: SchoolId) -> Result<Vec<users::Member>, ProvisionError> {
        let mut c = self.db.conn().await?;
        Ok(users::members_of(&mut c, school).await?)
    }

    /// Team members of a school with an open invitation (a link to set their password).
    pub async fn invited(&self, school: SchoolId) -> Result<Vec<UserId>, ProvisionError> {
        let mut c = self.db.conn().await?;
        Ok(startblok_db::user_tokens::with_open_links(&mut c, school, now()).await?)
    }

    /// All schools of the instance (operator).
    pub async fn all_schools(&self) -> Result<Vec<School>, ProvisionError> {
        let mut c = self.db.conn().await?;
        Ok(schools::list_all(&mut c).await?)
    }
}
