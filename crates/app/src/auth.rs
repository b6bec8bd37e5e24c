//! Login, sessions, logout, password changes and one-time links (security.md, "Access").

use startblok_db::login_failures::{self, Scope};
use startblok_db::schools::School;
use startblok_db::sessions::{self, Session};
use startblok_db::user_tokens;
use startblok_db::users::{self, User};
use startblok_domain::{Email, PasswordProblem, Role, SchoolId, check_password_policy};
use time::Duration;

use crate::secrets::{hash_token, new_token};
use crate::{Actor, App, AppError, AppResult, audit, now};

/// Failed logins for one account within [`THROTTLE_WINDOW`] before further attempts are refused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed logins from one IP address within [`THROTTLE_WINDOW`] (a school shares one address).
pub const MAX_FAILURES_PER_IP: i64 = 50;
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);

/// The hash of a random password, verified when the account does not exist or has no password
/// yet, so that an unknown e-mail address costs as much time as a wrong password.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password_hash(&crate::secrets::new_token()));

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown e-mail, wrong password and disabled account: one answer for all three.
    #[error("Het e-mailadres of het wachtwoord klopt niet.")]
    Rejected,
    #[error("Te veel mislukte pogingen. Wacht een kwartier en probeer het dan opnieuw.")]
    Throttled,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<startblok_db::DbError> for LoginError {
    fn from(e: startblok_db::DbError) -> Self {
        LoginError::App(e.into())
    }
}

/// A new session: the token goes into the cookie, nowhere else.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub user: User,
}

/// A valid session with its user and the schools the user belongs to.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session: Session,
    pub user: User,
    pub schools: Vec<(School, Vec<Role>)>,
}

impl SessionUser {
    pub fn roles_at(&self, school: SchoolId) -> &[Role] {
        self.schools
            .iter()
            .find(|(s, _)| s.id == school)
            .map(|(_, r)| r.as_slice())
            .unwrap_or(&[])
    }
}

fn password_hash(password: &str) -> String {
    password_auth::generate_hash(password)
}

fn password_ok(password: &str, hash: &str) -> bool {
    password_auth::verify_password(password, hash).is_ok()
}

impl App {
    /// E-mail + password login with throttling per account and per IP address.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: &str,
    ) -> Result<NewSession, LoginError> {
        let lookup = Email::parse(email)
            .map(|e| e.lookup().to_string())
            .unwrap_or_default();
        let account_key = hash_token(&format!("account:{lookup}"));
        let ip_key = hash_token(&format!("ip:{ip}"));
        let t = now();
        let since = t - THROTTLE_WINDOW;
        {
            let mut c = self.db.conn().await?;
            let by_account =
                login_failures::count_since(&mut c, Scope::Account, &account_key, since).await?;
            let by_ip = login_failures::count_since(&mut c, Scope::Ip, &ip_key, since).await?;
            if by_account >= MAX_FAILURES_PER_ACCOUNT || by_ip >= MAX_FAILURES_PER_IP {
                let mut tx = self.db.begin().await?;
                audit(
                    &mut tx,
                    &Actor::anonymous(ip),
                    "login.throttled",
                    None,
                    None,
                )
                .await?;
                tx.commit().await.map_err(startblok_db::DbError::from)?;
                return Err(LoginError::Throttled);
            }
        }

        let user = {
            let mut c = self.db.conn().await?;
            users::by_email(&mut c, &lookup).await?
        };
        // Argon2 is slow on purpose: run it off the async threads.
        let pw = password.to_string();
        let hash = user
            .as_ref()
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let verified = tokio::task::spawn_blocking(move || password_ok(&pw, &hash))
            .await
            .unwrap_or(false);
        let accepted = match &user {
            Some(u) => verified && u.password_hash.is_some() && !u.disabled,
            None => false,
        };

        let mut tx = self.db.begin().await?;
        if !accepted {
            login_failures::record(&mut tx, Scope::Account, &account_key, t).await?;
            login_failures::record(&mut tx, Scope::Ip, &ip_key, t).await?;
            let object = user.as_ref().map(|u| ("gebruiker", u.id.to_string()));
            audit(
                &mut tx,
                &Actor::anonymous(ip),
                "login.mislukt",
                object,
                None,
            )
            .await?;
            tx.commit().await.map_err(startblok_db::DbError::from)?;
            return Err(LoginError::Rejected);
        }
        let user = user.expect("accepted implies a user");
        login_failures::clear(&mut tx, Scope::Account, &account_key).await?;
        let token = self.start_session(&mut tx, &user, None).await?;
        audit(
            &mut tx,
            &Actor::user(user.id, &user.email, ip),
            "login",
            Some(("gebruiker", user.id.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        Ok(NewSession { token, user })
    }

    /// A new session; it opens in `prefer` (else the school last worked in, else the first).
    async fn start_session(
        &self,
        conn: &mut startblok_db::Conn,
        user: &User,
        prefer: Option<SchoolId>,
    ) -> AppResult<String> {
        let token = new_token();
        let t = now();
        // Back to the school the user last worked in, else the first one.
        let schools = users::schools_of(conn, user.id).await?;
        let last = match prefer {
            Some(p) => Some(p),
            None => sessions::last_school(conn, user.id).await?,
        };
        let current_school_id = last
            .filter(|l| schools.iter().any(|(s, _)| s.id == *l))
            .or_else(|| schools.first().map(|(s, _)| s.id));
        sessions::insert(
            conn,
            &Session {
                token_hash: hash_token(&token),
                user_id: user.id,
                csrf_token: new_token(),
                current_school_id,
                created_at: t,
                last_seen_at: t,
                expires_at: t + self.settings.session_absolute,
            },
        )
        .await?;
        Ok(token)
    }

    /// The session behind a cookie token, if it is still valid (not expired, not idle too long,
    /// user not disabled). Refreshes its idle clock.
    pub async fn session_user(&self, token: &str) -> AppResult<Option<SessionUser>> {
        let hash = hash_token(token);
        let t = now();
        let mut c = self.db.conn().await?;
        let Some(session) = sessions::by_token_hash(&mut c, &hash).await? else {
            return Ok(None);
        };
        let expired =
            session.expires_at <= t || session.last_seen_at + self.settings.session_idle <= t;
        let user = users::by_id(&mut c, session.user_id).await?;
        let Some(user) = user.filter(|u| !u.disabled && !expired) else {
            sessions::delete(&mut c, &hash).await?;
            return Ok(None);
        };
        // Refresh at most once a minute: fewer writes, same idle timeout to the minute.
        if t - session.last_seen_at > Duration::minutes(1) {
            sessions::touch(&mut c, &hash, t).await?;
        }
        let schools = users::schools_of(&mut c, user.id).await?;
        Ok(Some(SessionUser {
            session,
            user,
            schools,
        }))
    }

    pub async fn logout(&self, token: &str, actor: &Actor) -> AppResult<()> {
        let mut tx = self.db.begin().await?;
        sessions::delete(&mut tx, &hash_token(token)).await?;
        audit(
            &mut tx,
            actor,
            "logout",
            actor.user_id.map(|u| ("gebruiker", u.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        Ok(())
    }

    /// Remembers which school the user is working in, for the start page.
    pub async fn switch_school(&self, session: &SessionUser, school: SchoolId) -> AppResult<bool> {
        if session.roles_at(school).is_empty() {
            return Ok(false);
        }
        let mut c = self.db.conn().await?;
        sessions::set_current_school(&mut c, &session.session.token_hash, school).await?;
        Ok(true)
    }

    /// Changes the password after checking the current one. Ends every session of the user and
    /// returns a fresh one for the browser that made the change.
    pub async fn change_password(
        &self,
        who: &SessionUser,
        current: &str,
        new: &str,
        actor: &Actor,
    ) -> Result<String, PasswordChangeError> {
        let hash = who
            .user
            .password_hash
            .clone()
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let cur = current.to_string();
        let ok = tokio::task::spawn_blocking(move || password_ok(&cur, &hash))
            .await
            .unwrap_or(false);
        if !ok {
            return Err(PasswordChangeError::WrongCurrent);
        }
        check_password_policy(new).map_err(PasswordChangeError::Policy)?;
        if current == new {
            return Err(PasswordChangeError::Unchanged);
        }
        let new_hash = hash_off_thread(new).await?;
        let mut tx = self.db.begin().await.map_err(AppError::from)?;
        users::set_password(&mut tx, who.user.id, &new_hash, now())
            .await
            .map_err(AppError::from)?;
        sessions::delete_all_for_user(&mut tx, who.user.id)
            .await
            .map_err(AppError::from)?;
        let token = self
            .start_session(&mut tx, &who.user, who.session.current_school_id)
            .await?;
        audit(
            &mut tx,
            actor,
            "wachtwoord.gewijzigd",
            Some(("gebruiker", who.user.id.to_string())),
            None,
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| AppError::from(startblok_db::DbError::from(e)))?;
        Ok(token)
    }

    /// The account a one-time link belongs to, if the link is still valid.
    pub async fn link_user(&self, token: &str) -> AppResult<Option<User>> {
        let mut c = self.db.conn().await?;
        let Some(user_id) = user_tokens::peek(&mut c, &hash_token(token), now()).await? else {
            return Ok(None);
        };
        Ok(users::by_id(&mut c, user_id).await?.filter(|u| !u.disabled))
    }

    /// Sets a password through a one-time link and logs the user in. The link works once.
    pub async fn complete_link(
        &self,
        token: &str,
        password: &str,
        ip: &str,
    ) -> Result<NewSession, LinkError> {
        check_password_policy(password).map_err(LinkError::Policy)?;
        let hash = hash_off_thread(password)
            .await
            .map_err(|_| LinkError::App(AppError::PasswordHash))?;
        let mut tx = self.db.begin().await?;
        let t = now();
        let Some(user_id) = user_tokens::consume(&mut tx, &hash_token(token), t).await? else {
            return Err(LinkError::Invalid);
        };
        let Some(user) = users::by_id(&mut tx, user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            return Err(LinkError::Invalid);
        };
        users::set_password(&mut tx, user.id, &hash, t).await?;
        user_tokens::revoke_all_for_user(&mut tx, user.id, t).await?;
        sessions::delete_all_for_user(&mut tx, user.id).await?;
        let session = self.start_session(&mut tx, &user, None).await?;
        audit(
            &mut tx,
            &Actor::user(user.id, &user.email, ip),
            "wachtwoord.ingesteld",
            Some(("gebruiker", user.id.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        Ok(NewSession {
            token: session,
            user,
        })
    }
}

/// How long a password-reset link works.
pub const RESET_VALID: time::Duration = time::Duration::hours(2);
/// At most this many reset mails per account per hour.
pub const RESET_PER_HOUR: i64 = 3;

impl App {
    /// "Wachtwoord vergeten": mails a single-use link (2 hours) to set a new password, when the
    /// address belongs to an active account. The caller says the same whatever happened, so
    /// nobody learns which addresses have an account.
    pub async fn request_password_reset(&self, email: &str, ip: &str) -> AppResult<()> {
        let Ok(email) = startblok_domain::Email::parse(email) else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        let Some(user) = users::by_email(&mut tx, email.lookup())
            .await?
            .filter(|u| !u.disabled)
        else {
            return Ok(());
        };
        let t = now();
        let recent = user_tokens::count_since(
            &mut tx,
            user.id,
            user_tokens::Purpose::Reset,
            t - time::Duration::hours(1),
        )
        .await?;
        if recent >= RESET_PER_HOUR {
            return Ok(());
        }
        let token = new_token();
        user_tokens::insert(
            &mut tx,
            &hash_token(&token),
            user.id,
            user_tokens::Purpose::Reset,
            t,
            t + RESET_VALID,
        )
        .await?;
        audit(
            &mut tx,
            &Actor::anonymous(ip),
            "wachtwoord.herstel.gevraagd",
            Some(("gebruiker", user.id.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(startblok_db::DbError::from)?;
        let link = self.link(&format!("/welkom/{token}"));
        let mail = crate::mail::Mail {
            to: user.email.clone(),
            subject: "Nieuw wachtwoord voor Startblok".into(),
            text: format!(
                "Beste {naam},\n\n\
                 Er is gevraagd om een nieuw wachtwoord voor uw account in Startblok ({email}).\n\n\
                 Kies een nieuw wachtwoord via deze link (2 uur geldig, één keer te gebruiken):\n{link}\n\n\
                 Heeft u dit niet gevraagd? Dan hoeft u niets te doen: uw wachtwoord blijft zoals het is.\n\n\
                 Met vriendelijke groet,\nStartblok",
                naam = user.naam,
                email = user.email,
            ),
        };
        // Sent in the background: an answer that waits for the mail server would take longer for
        // an address with an account, and so tell which addresses have one.
        let app = self.clone();
        tokio::spawn(async move {
            app.send_after_commit(&mail).await;
        });
        Ok(())
    }
}

pub(crate) async fn hash_off_thread(password: &str) -> Result<String, AppError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || password_hash(&pw))
        .await
        .map_err(|_| AppError::PasswordHash)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("Het huidige wachtwoord klopt niet.")]
    WrongCurrent,
    #[error("Het nieuwe wachtwoord is hetzelfde als het huidige.")]
    Unchanged,
    #[error("{0}")]
    Policy(PasswordProblem),
    #[error(transparent)]
    App(#[from] AppError),
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("Deze link is verlopen of al gebruikt. Vraag een nieuwe aan bij de beheerder.")]
    Invalid,
    #[error("{0}")]
    Policy(PasswordProblem),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<startblok_db::DbError> for LinkError {
    fn from(e: startblok_db::DbError) -> Self {
        LinkError::App(e.into())
    }
}
