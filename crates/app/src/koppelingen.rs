//! The koppeling between a school and an educational application (Boom testcentrum), and its
//! autorisatiesleutels: issue, rotate (the old key keeps working for a grace period), revoke (at
//! once), and the check a UWLR message's header must pass.
//!
//! A key is 256 bits from the OS random generator, written as `sbk_` plus URL-safe base64 (it
//! survives copy and paste). Only its SHA-256 hash and last 4 characters are stored; the key
//! itself exists only in the [`IssuedKey`] handed to whoever issued it, and is never logged.

use startblok_db::DbError;
use startblok_db::koppelingen::{self, Applicatie, KeyInfo, KeyOrigin, Koppeling};
use startblok_domain::SchoolId;
use time::{Duration, OffsetDateTime};

use crate::secrets::{hash_token, new_token, same_secret};
use crate::{Actor, App, AppError, audit, now};

/// What a new key starts with, so people (and log scanners) recognise one.
pub const KEY_PREFIX: &str = "sbk_";
/// How long a key replaced by rotation keeps working.
pub const DEFAULT_GRACE: Duration = Duration::days(14);
/// The example key printed in the seed manual. Used by the demo instance only, so that the
/// example delivery in `shared/fixtures/uwlr` is accepted as it is.
pub const DEMO_KEY: &str = "khasgdkj76&g7dA%$gjhsdd";
/// The demo instance's klantcode for Boom testcentrum (the one in the example delivery).
pub const DEMO_KLANTCODE: &str = "BOOM-DEMO";
/// The default application's short name.
pub const BOOM: &str = "boom";

#[derive(Debug, thiserror::Error)]
pub enum KoppelingError {
    #[error("Er is geen applicatie '{0}'. Bekende applicaties: {1}.")]
    NoSuchApplicatie(String, String),
    #[error(
        "Deze koppeling heeft al een geldige sleutel. Gebruik 'roteer' voor een nieuwe sleutel, of 'intrek' om haar te beëindigen."
    )]
    AlreadyActive,
    #[error(
        "Deze koppeling heeft geen geldige sleutel. Gebruik 'activeer' om er een uit te geven."
    )]
    NotActive,
    #[error("Deze school heeft geen koppeling met deze applicatie.")]
    NoKoppeling,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<DbError> for KoppelingError {
    fn from(e: DbError) -> Self {
        KoppelingError::App(e.into())
    }
}

/// A key just issued. The key is in here and nowhere else: show it once, then drop it. Its
/// `Debug` shows only the last 4 characters.
pub struct IssuedKey {
    key: String,
    pub koppeling: String,
    pub last4: String,
    /// Until when the keys it replaced keep working (after a rotation).
    pub previous_valid_until: Option<OffsetDateTime>,
}

impl IssuedKey {
    /// The key itself, to be shown exactly once.
    pub fn reveal(&self) -> &str {
        &self.key
    }
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IssuedKey(…{})", self.last4)
    }
}

/// The state of a koppeling, as the Beheerder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KoppelingState {
    /// There is a koppeling but no key was ever issued.
    Aangevraagd,
    /// A key is valid; no message arrived yet.
    SleutelUitgegeven,
    /// Messages arrive (since the first accepted one).
    Verbonden(OffsetDateTime),
    /// Revoked: no key works.
    Ingetrokken(OffsetDateTime),
}

#[derive(Debug, Clone)]
pub struct KoppelingStatus {
    pub koppeling: Koppeling,
    pub applicatie: Applicatie,
    pub state: KoppelingState,
    /// Keys that work now, newest first (during a rotation: the new one and the old one).
    pub valid_keys: Vec<KeyInfo>,
}

/// Why a UWLR header is refused. The sender is never told which part of a key was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UwlrAuthFailure {
    /// Header incomplete, key unknown, revoked or expired, or not for the school named.
    Autorisatie,
    /// klantcode and klantnaam name no registered application.
    KlantIdentificatie,
}

/// The school a UWLR message names: BRIN with dependancecode (default `00`), or a schoolkey.
#[derive(Debug, Clone, Default)]
pub struct NamedSchool {
    pub brincode: Option<String>,
    pub dependancecode: Option<String>,
    pub schoolkey: Option<String>,
}

fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

impl App {
    /// The registered educational applications.
    pub async fn applicaties(&self) -> Result<Vec<Applicatie>, KoppelingError> {
        let mut c = self.db.conn().await?;
        Ok(koppelingen::applicaties(&mut c).await?)
    }

    async fn applicatie(
        &self,
        c: &mut startblok_db::Conn,
        slug: &str,
    ) -> Result<Applicatie, KoppelingError> {
        match koppelingen::applicatie_by_slug(c, slug).await? {
            Some(a) => Ok(a),
            None => {
                let known: Vec<String> = koppelingen::applicaties(c)
                    .await?
                    .into_iter()
                    .map(|a| a.slug)
                    .collect();
                Err(KoppelingError::NoSuchApplicatie(
                    slug.to_string(),
                    known.join(", "),
                ))
            }
        }
    }

    /// Issues the first key of a school's koppeling with an application (creating the koppeling,
    /// or opening a revoked one again). Refused while a key is valid: that is a rotation.
    pub async fn activate_koppeling(
        &self,
        school: SchoolId,
        applicatie: &str,
        actor: &Actor,
    ) -> Result<IssuedKey, KoppelingError> {
        let mut tx = self.db.begin().await?;
        let app = self.applicatie(&mut tx, applicatie).await?;
        let at = now();
        let k = match koppelingen::koppeling(&mut tx, school, &app.id).await? {
            Some(k) => {
                let valid = koppelingen::keys(&mut tx, &k.id)
                    .await?
                    .iter()
                    .any(|key| key.is_valid_at(at));
                if valid && k.revoked_at.is_none() {
                    return Err(KoppelingError::AlreadyActive);
                }
                if k.revoked_at.is_some() {
                    koppelingen::set_revoked(&mut tx, &k.id, None).await?;
                }
                k
            }
            None => {
                let k = koppelingen::insert_koppeling(&mut tx, school, &app.id, at).await?;
                audit(
                    &mut tx,
                    actor,
                    "koppeling.aangemaakt",
                    Some(("koppeling", k.id.clone())),
                    Some(school),
                )
                .await?;
                k
            }
        };
        let issued = issue(&mut tx, &k, at, None).await?;
        audit(
            &mut tx,
            actor,
            "koppeling.sleutel.uitgegeven",
            Some(("koppeling", k.id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(issued)
    }

    /// A new key for an active koppeling; the keys valid until now keep working for `grace`.
    pub async fn rotate_key(
        &self,
        school: SchoolId,
        applicatie: &str,
        grace: Duration,
        actor: &Actor,
    ) -> Result<IssuedKey, KoppelingError> {
        let mut tx = self.db.begin().await?;
        let app = self.applicatie(&mut tx, applicatie).await?;
        let at = now();
        let k = koppelingen::koppeling(&mut tx, school, &app.id)
            .await?
            .ok_or(KoppelingError::NoKoppeling)?;
        let valid = koppelingen::keys(&mut tx, &k.id)
            .await?
            .iter()
            .any(|key| key.is_valid_at(at));
        if !valid || k.revoked_at.is_some() {
            return Err(KoppelingError::NotActive);
        }
        let until = at + grace;
        koppelingen::end_keys(&mut tx, &k.id, at, until).await?;
        let issued = issue(&mut tx, &k, at, Some(until)).await?;
        audit(
            &mut tx,
            actor,
            "koppeling.sleutel.geroteerd",
            Some(("koppeling", k.id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(issued)
    }

    /// Revokes every key of the koppeling, at once. Returns how many keys stopped working.
    pub async fn revoke_koppeling(
        &self,
        school: SchoolId,
        applicatie: &str,
        actor: &Actor,
    ) -> Result<u64, KoppelingError> {
        let mut tx = self.db.begin().await?;
        let app = self.applicatie(&mut tx, applicatie).await?;
        let at = now();
        let k = koppelingen::koppeling(&mut tx, school, &app.id)
            .await?
            .ok_or(KoppelingError::NoKoppeling)?;
        let n = koppelingen::revoke_keys(&mut tx, &k.id, at).await?;
        // A link still in someone's mailbox must not bring a key back.
        koppelingen::cancel_key_links(&mut tx, &k.id, at).await?;
        koppelingen::set_revoked(&mut tx, &k.id, Some(at)).await?;
        audit(
            &mut tx,
            actor,
            "koppeling.ingetrokken",
            Some(("koppeling", k.id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(n)
    }

    /// The school's koppelingen with their state and the keys that work now.
    pub async fn koppeling_status(
        &self,
        school: SchoolId,
    ) -> Result<Vec<KoppelingStatus>, KoppelingError> {
        let mut c = self.db.conn().await?;
        let apps = koppelingen::applicaties(&mut c).await?;
        let at = now();
        let mut out = Vec::new();
        for k in koppelingen::koppelingen_of_school(&mut c, school).await? {
            let Some(applicatie) = apps.iter().find(|a| a.id == k.applicatie_id).cloned() else {
                continue;
            };
            let keys = koppelingen::keys(&mut c, &k.id).await?;
            let valid_keys: Vec<KeyInfo> =
                keys.iter().filter(|x| x.is_valid_at(at)).cloned().collect();
            let state = match (k.revoked_at, k.connected_at) {
                (Some(t), _) => KoppelingState::Ingetrokken(t),
                _ if keys.is_empty() => KoppelingState::Aangevraagd,
                _ if valid_keys.is_empty() => KoppelingState::Ingetrokken(
                    keys.iter()
                        .filter_map(|x| x.revoked_at.or(x.valid_until))
                        .max()
                        .unwrap_or(at),
                ),
                (None, Some(t)) => KoppelingState::Verbonden(t),
                (None, None) => KoppelingState::SleutelUitgegeven,
            };
            out.push(KoppelingStatus {
                koppeling: k,
                applicatie,
                state,
                valid_keys,
            });
        }
        Ok(out)
    }

    /// The UWLR header check, in the contract's order: klantidentificatie, then the key, then
    /// whether the key covers the school the message names. (A missing or empty header element is
    /// the caller's to refuse before this.) On success, the koppeling the message belongs to.
    pub async fn authenticate_uwlr(
        &self,
        key: &str,
        klantcode: &str,
        klantnaam: &str,
        named: &NamedSchool,
        at: OffsetDateTime,
    ) -> Result<Koppeling, UwlrFailure> {
        let mut c = self.db.conn().await?;
        let app = koppelingen::applicatie_by_klant(&mut c, klantcode.trim(), klantnaam.trim())
            .await?
            .ok_or(UwlrFailure::Refused(UwlrAuthFailure::KlantIdentificatie))?;
        let hash = hash_token(key.trim());
        let (k, stored) = koppelingen::by_valid_key_hash(&mut c, &hash, at)
            .await?
            .ok_or_else(refused)?;
        if !same_secret(&stored, &hash) || k.applicatie_id != app.id {
            return Err(refused());
        }
        let school = startblok_db::schools::by_id(&mut c, k.school_id)
            .await?
            .ok_or_else(refused)?;
        // Every identification the message gives must name the key's school: a message that
        // names two schools is refused. (A schoolkey unknown to Startblok does not count
        // against it when the school has none recorded.)
        let code_given = named
            .brincode
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty());
        let given_key = named
            .schoolkey
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let key_given = match given_key {
            None => false,
            Some(_) if school.schoolkey.is_some() => true,
            Some(s) => startblok_db::schools::by_schoolkey(&mut c, s)
                .await?
                .is_some(),
        };
        let by_code = named.brincode.as_deref().map(str::trim).is_some_and(|b| {
            b.eq_ignore_ascii_case(school.code.brin.as_str())
                && named
                    .dependancecode
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .unwrap_or("00")
                    == school.code.dependance.as_str()
        });
        let by_key = named
            .schoolkey
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .is_some_and(|s| school.schoolkey.as_deref() == Some(s));
        let contradicts = (code_given && !by_code) || (key_given && !by_key);
        if contradicts {
            return Err(refused());
        }
        if by_code || by_key {
            Ok(k)
        } else {
            Err(refused())
        }
    }

    /// Prepares a school's koppeling with an application (creating it, or opening a revoked one
    /// again) and makes a single-use link, valid for 24 hours, with which a Beheerder of the
    /// school fetches a new key once. Returns the full link.
    pub async fn prepare_key_link(
        &self,
        school: SchoolId,
        applicatie: &str,
        actor: &Actor,
    ) -> Result<String, KoppelingError> {
        let mut tx = self.db.begin().await?;
        let app = self.applicatie(&mut tx, applicatie).await?;
        let at = now();
        let k = match koppelingen::koppeling(&mut tx, school, &app.id).await? {
            Some(k) => {
                if k.revoked_at.is_some() {
                    koppelingen::set_revoked(&mut tx, &k.id, None).await?;
                }
                k
            }
            None => {
                let k = koppelingen::insert_koppeling(&mut tx, school, &app.id, at).await?;
                audit(
                    &mut tx,
                    actor,
                    "koppeling.aangemaakt",
                    Some(("koppeling", k.id.clone())),
                    Some(school),
                )
                .await?;
                k
            }
        };
        let token = new_token();
        koppelingen::insert_key_link(&mut tx, &hash_token(&token), &k.id, at, at + KEY_LINK_VALID)
            .await?;
        audit(
            &mut tx,
            actor,
            "koppeling.sleutellink.gemaakt",
            Some(("koppeling", k.id.clone())),
            Some(school),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(self.link(&format!("/sleutel/{token}")))
    }

    /// What a key link is, without using it (to show the page before the button).
    pub async fn key_link(&self, token: &str) -> Result<KeyLinkState, KoppelingError> {
        let mut c = self.db.conn().await?;
        let Some(link) = koppelingen::key_link(&mut c, &hash_token(token)).await? else {
            return Ok(KeyLinkState::Unknown);
        };
        if link.used_by.as_deref() == Some(koppelingen::CANCELLED) {
            return Ok(KeyLinkState::Revoked);
        }
        if link.used_at.is_some() {
            return Ok(KeyLinkState::Used);
        }
        if link.expires_at <= now() {
            return Ok(KeyLinkState::Expired);
        }
        let k = koppelingen::koppeling_by_id(&mut c, &link.koppeling_id)
            .await?
            .ok_or(KoppelingError::NoKoppeling)?;
        let school = startblok_db::schools::by_id(&mut c, k.school_id)
            .await?
            .ok_or(KoppelingError::NoKoppeling)?;
        let applicatie = koppelingen::applicatie_by_id(&mut c, &k.applicatie_id)
            .await?
            .ok_or(KoppelingError::NoKoppeling)?;
        Ok(KeyLinkState::Ready {
            school: Box::new(school),
            applicatie: Box::new(applicatie),
        })
    }

    /// Uses a key link and makes the key it promised, to be shown this once. Only for a Beheerder
    /// of the link's school (`beheerder_of`). Keys that worked until now keep working for the
    /// grace period (as after a rotation).
    pub async fn redeem_key_link(
        &self,
        token: &str,
        beheerder_of: &[SchoolId],
        actor: &Actor,
    ) -> Result<IssuedKey, KeyLinkError> {
        let mut tx = self.db.begin().await.map_err(KoppelingError::from)?;
        let hash = hash_token(token);
        let link = koppelingen::key_link(&mut tx, &hash)
            .await
            .map_err(KoppelingError::from)?
            .ok_or(KeyLinkError::Unknown)?;
        let k = koppelingen::koppeling_by_id(&mut tx, &link.koppeling_id)
            .await
            .map_err(KoppelingError::from)?
            .ok_or(KeyLinkError::Unknown)?;
        if !beheerder_of.contains(&k.school_id) {
            return Err(KeyLinkError::NotYours);
        }
        let at = now();
        let user = actor.user_id.map(|u| u.to_string()).unwrap_or_default();
        if !koppelingen::use_key_link(&mut tx, &hash, &user, at)
            .await
            .map_err(KoppelingError::from)?
        {
            return Err(if link.used_by.as_deref() == Some(koppelingen::CANCELLED) {
                KeyLinkError::Revoked
            } else if link.used_at.is_some() {
                KeyLinkError::Used
            } else {
                KeyLinkError::Expired
            });
        }
        if k.revoked_at.is_some() {
            koppelingen::set_revoked(&mut tx, &k.id, None)
                .await
                .map_err(KoppelingError::from)?;
        }
        let until = at + DEFAULT_GRACE;
        let replaced = koppelingen::end_keys(&mut tx, &k.id, at, until)
            .await
            .map_err(KoppelingError::from)?;
        let issued = issue(&mut tx, &k, at, (replaced > 0).then_some(until)).await?;
        for action in ["koppeling.sleutel.uitgegeven", "koppeling.sleutel.bekeken"] {
            audit(
                &mut tx,
                actor,
                action,
                Some(("koppeling", k.id.clone())),
                Some(k.school_id),
            )
            .await
            .map_err(KoppelingError::from)?;
        }
        tx.commit()
            .await
            .map_err(|e| KoppelingError::from(DbError::from(e)))?;
        Ok(issued)
    }

    /// A new key made by a Beheerder on Instellingen > Boom testcentrum: a rotation when a key
    /// works (the old one keeps working for the grace period), else a first key. Shown once.
    pub async fn new_key_for_school(
        &self,
        school: SchoolId,
        applicatie: &str,
        actor: &Actor,
    ) -> Result<IssuedKey, KoppelingError> {
        let issued = match self
            .rotate_key(school, applicatie, DEFAULT_GRACE, actor)
            .await
        {
            Err(KoppelingError::NotActive) | Err(KoppelingError::NoKoppeling) => {
                self.activate_koppeling(school, applicatie, actor).await
            }
            other => other,
        }?;
        // It is shown in the answer to this request: that is a view.
        let mut c = self.db.conn().await?;
        audit(
            &mut c,
            actor,
            "koppeling.sleutel.bekeken",
            Some(("koppeling", issued.koppeling.clone())),
            Some(school),
        )
        .await?;
        Ok(issued)
    }

    /// One registered application.
    pub async fn applicatie_by_id(&self, id: &str) -> Result<Option<Applicatie>, KoppelingError> {
        let mut c = self.db.conn().await?;
        Ok(koppelingen::applicatie_by_id(&mut c, id).await?)
    }

    /// Changes an application's klantnaam and klantcode (what a UWLR sender must name itself),
    /// audited. Errors come back per field.
    pub async fn update_applicatie(
        &self,
        id: &str,
        klantnaam: &str,
        klantcode: &str,
        actor: &Actor,
    ) -> Result<Result<(), crate::forms::FormErrors>, KoppelingError> {
        let mut errors = crate::forms::FormErrors::default();
        let klantnaam = klantnaam.trim();
        let klantcode = klantcode.trim();
        if klantnaam.is_empty() || klantnaam.chars().count() > 100 {
            errors.add("klantnaam", "Vul de klantnaam in (hoogstens 100 tekens), precies zoals de applicatie hem meestuurt.");
        }
        if klantcode.is_empty()
            || klantcode.chars().count() > 64
            || klantcode
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            errors.add("klantcode", "Vul de klantcode in (hoogstens 64 tekens, zonder spaties), precies zoals de applicatie hem meestuurt.");
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut tx = self.db.begin().await?;
        if koppelingen::applicatie_by_id(&mut tx, id).await?.is_none() {
            return Err(KoppelingError::NoSuchApplicatie(
                id.to_string(),
                String::new(),
            ));
        }
        match koppelingen::update_klant(&mut tx, id, klantnaam, klantcode, now()).await {
            Err(DbError::Duplicate) => {
                errors.add(
                    "klantcode",
                    "Een andere applicatie heeft deze klantcode al.",
                );
                return Ok(Err(errors));
            }
            other => other?,
        }
        audit(
            &mut tx,
            actor,
            "applicatie.gewijzigd",
            Some(("applicatie", id.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Ok(()))
    }

    /// Makes a demo instance's koppeling: Boom testcentrum with klantcode `BOOM-DEMO`, and the
    /// demo school's koppeling active with the manual's example key (marked as a demo key).
    pub(crate) async fn seed_demo_koppeling(&self, school: SchoolId) -> Result<(), KoppelingError> {
        let mut tx = self.db.begin().await?;
        let app = self.applicatie(&mut tx, BOOM).await?;
        let at = now();
        if app.klantcode != DEMO_KLANTCODE {
            koppelingen::update_klant(&mut tx, &app.id, &app.klantnaam, DEMO_KLANTCODE, at).await?;
        }
        if koppelingen::koppeling(&mut tx, school, &app.id)
            .await?
            .is_none()
        {
            let k = koppelingen::insert_koppeling(&mut tx, school, &app.id, at).await?;
            koppelingen::insert_key(
                &mut tx,
                &k.id,
                &hash_token(DEMO_KEY),
                &last4(DEMO_KEY),
                KeyOrigin::Demo,
                at,
            )
            .await?;
            audit(
                &mut tx,
                &Actor::system(),
                "koppeling.sleutel.demo",
                Some(("koppeling", k.id.clone())),
                Some(school),
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }
}

/// How long a key link works.
pub const KEY_LINK_VALID: Duration = Duration::hours(24);

/// What a key link is, before it is used.
#[derive(Debug, Clone)]
pub enum KeyLinkState {
    Unknown,
    /// Ended unused by a revocation of the koppeling.
    Revoked,
    Used,
    Expired,
    Ready {
        school: Box<startblok_db::schools::School>,
        applicatie: Box<Applicatie>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum KeyLinkError {
    #[error("Deze link bestaat niet.")]
    Unknown,
    #[error("Deze link is al gebruikt.")]
    Used,
    #[error("De koppeling is ingetrokken; deze link werkt niet meer.")]
    Revoked,
    #[error("Deze link is verlopen.")]
    Expired,
    #[error("Deze link is voor een beheerder van een andere school.")]
    NotYours,
    #[error(transparent)]
    Koppeling(#[from] KoppelingError),
}

/// The outcome of a refused UWLR header check, or a failure of our own.
#[derive(Debug)]
pub enum UwlrFailure {
    Refused(UwlrAuthFailure),
    App(AppError),
}

impl From<DbError> for UwlrFailure {
    fn from(e: DbError) -> Self {
        UwlrFailure::App(e.into())
    }
}

fn refused() -> UwlrFailure {
    UwlrFailure::Refused(UwlrAuthFailure::Autorisatie)
}

/// A new key for a koppeling, stored as hash and last 4 characters.
async fn issue(
    tx: &mut startblok_db::Conn,
    k: &Koppeling,
    at: OffsetDateTime,
    previous_valid_until: Option<OffsetDateTime>,
) -> Result<IssuedKey, KoppelingError> {
    let key = format!("{KEY_PREFIX}{}", new_token());
    let last4 = last4(&key);
    koppelingen::insert_key(
        tx,
        &k.id,
        &hash_token(&key),
        &last4,
        KeyOrigin::Uitgegeven,
        at,
    )
    .await?;
    Ok(IssuedKey {
        key,
        koppeling: k.id.clone(),
        last4,
        previous_valid_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last4_counts_characters() {
        assert_eq!(last4("khasgdkj76&g7dA%$gjhsdd"), "hsdd");
        assert_eq!(last4("ab"), "ab");
        assert_eq!(last4("xxéçñü"), "éçñü");
    }
}
