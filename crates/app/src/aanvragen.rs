//! Step 1 of the manual: a school asks for the Boom koppeling on the public order form, and the
//! operator processes the request. Processing creates the school (and invites its first
//! Beheerder) when it is new, prepares the koppeling with Boom testcentrum, and mails a
//! single-use link (24 hours) with which a Beheerder of the school fetches the key once.

use startblok_db::DbError;
use startblok_db::aanvragen::{self, Aanvraag};
use startblok_db::schools::{self, School};
use startblok_domain::{
    Brin, Dependance, Email, PersonName, PersonNameError, Role, SchoolCode, clean_text,
    is_invisible,
};
use time::Duration;

use crate::forms::FormErrors;
use crate::koppelingen::{BOOM, KoppelingError};
use crate::mail::Mail;
use crate::provisioning::ProvisionError;
use crate::secrets::hash_token;
use crate::{Actor, App, AppError, audit, now};

/// At most this many requests per sender per hour (the form needs no third-party service).
pub const MAX_PER_HOUR: i64 = 5;

/// The LAS choices on the form: (value, label).
pub const LAS_OPTIONS: [(&str, &str); 5] = [
    ("", "Kies…"),
    ("parnassys", "ParnasSys"),
    ("esis", "ESIS"),
    ("magister", "Magister"),
    ("anders", "Anders"),
];

/// What the form sends, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AanvraagInput {
    #[serde(default)]
    pub soort: String,
    #[serde(default)]
    pub schoolnaam: String,
    #[serde(default)]
    pub brin: String,
    #[serde(default)]
    pub dependance: String,
    #[serde(default)]
    pub contactnaam: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub telefoon: String,
    #[serde(default)]
    pub las: String,
    #[serde(default)]
    pub opmerking: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AanvraagError {
    #[error("Het formulier is niet goed ingevuld.")]
    Invalid(FormErrors),
    #[error(
        "Er zijn vanaf dit adres in het afgelopen uur al veel aanvragen gedaan. Probeer het over een uur opnieuw, of mail ons."
    )]
    TooMany,
    #[error("Deze aanvraag is al behandeld.")]
    AlreadyDecided,
    #[error("Deze aanvraag bestaat niet.")]
    NotFound,
    #[error(
        "De school heeft geen actieve beheerder, dus niemand kan de sleutel ophalen. Maak eerst een beheerder aan (startblok user create … --rol beheerder) en verwerk de aanvraag dan opnieuw."
    )]
    NoBeheerder,
    #[error(
        "Intussen is de school aangemaakt. Open de aanvraag opnieuw en kijk wie de link krijgt."
    )]
    Changed,
    #[error("Deze aanvraag kan zo niet worden verwerkt. {0}")]
    Stored(String),
    #[error("{0}")]
    Provision(#[from] ProvisionError),
    #[error("{0}")]
    Koppeling(#[from] KoppelingError),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<DbError> for AanvraagError {
    fn from(e: DbError) -> Self {
        AanvraagError::App(e.into())
    }
}

/// A request with what the operator must see before processing it.
#[derive(Debug, Clone)]
pub struct AanvraagView {
    pub aanvraag: Aanvraag,
    /// The school with this BRIN + dependance, when there is one already.
    pub school: Option<School>,
    /// That school already has a working koppeling with Boom testcentrum.
    pub active_koppeling: bool,
    /// Who gets the key link (e-mail addresses). For a new school: the requester, who becomes
    /// its beheerder. For an existing school: the requester only if already a beheerder there,
    /// else the school's current beheerders; a request never makes anyone beheerder of a school
    /// that exists.
    pub recipients: Vec<String>,
    /// The requester becomes beheerder (only of a school this request creates).
    pub grants_beheerder: bool,
}

/// What processing did, for the operator's confirmation.
#[derive(Debug, Clone)]
pub struct Processed {
    pub school: School,
    pub school_created: bool,
    /// The Beheerder got an invitation to set a password (a new account).
    pub invited: bool,
    /// Where the key link went.
    pub mailed_to: String,
    /// Whether every mail was handed to the mail server (when not, send the link again).
    pub mailed: bool,
}

fn clean(s: &str, max: usize) -> String {
    let t: String = s.trim().chars().filter(|c| !c.is_control()).collect();
    t.chars().take(max).collect()
}

/// Validates the form: every error at its field, in Dutch.
pub fn validate(input: &AanvraagInput) -> Result<(Aanvraag, SchoolCode), FormErrors> {
    let mut errors = FormErrors::default();
    let soort = match input.soort.as_str() {
        "nieuw" | "bestaand" => input.soort.clone(),
        _ => {
            errors.add(
                "soort",
                "Kies of het om een nieuwe school gaat of om een school die al een account heeft.",
            );
            String::new()
        }
    };
    // Names as the rest of Startblok keeps them: NFC, invisible and direction-changing
    // characters removed (they could make an address in the operator's list read differently),
    // white space folded. Too long is said, never cut silently.
    let schoolnaam = clean_text(&input.schoolnaam).unwrap_or_default();
    if schoolnaam.is_empty() {
        errors.add("schoolnaam", "Vul de naam van de school in.");
    } else if schoolnaam.chars().count() > 200 || schoolnaam.chars().any(char::is_control) {
        errors.add(
            "schoolnaam",
            "De naam van de school mag hoogstens 200 tekens lang zijn, zonder stuurtekens.",
        );
    }
    let brin = Brin::parse(&input.brin);
    if let Err(e) = &brin {
        errors.add("brin", e.to_string());
    }
    let dep_input = if input.dependance.trim().is_empty() {
        "00"
    } else {
        input.dependance.as_str()
    };
    let dependance = Dependance::parse(dep_input);
    if let Err(e) = &dependance {
        errors.add("dependance", e.to_string());
    }
    // The same rule as for any account's name: this person may become a beheerder.
    let contactnaam = clean_text(&input.contactnaam).unwrap_or_default();
    match PersonName::parse(&contactnaam) {
        Err(PersonNameError::Empty) => {
            errors.add("contactnaam", "Vul de naam van de contactpersoon in.")
        }
        Err(e) => errors.add("contactnaam", e.to_string()),
        Ok(_) => {}
    }
    let email = Email::parse(&input.email);
    if let Err(e) = &email {
        errors.add("email", e.to_string());
    }
    let telefoon = clean(&input.telefoon, 40);
    let digits = telefoon.chars().filter(char::is_ascii_digit).count();
    if telefoon.is_empty() {
        errors.add(
            "telefoon",
            "Vul een telefoonnummer in waarop we de school kunnen bereiken.",
        );
    } else if digits < 10
        || !telefoon
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'))
    {
        errors.add(
            "telefoon",
            "Vul een telefoonnummer in van minstens 10 cijfers, bijvoorbeeld 030 123 45 67 of +31 30 123 45 67.",
        );
    }
    let las = if LAS_OPTIONS
        .iter()
        .any(|(v, _)| !v.is_empty() && *v == input.las)
    {
        input.las.clone()
    } else {
        errors.add(
            "las",
            "Kies welke leerlingadministratie de school gebruikt (of Anders).",
        );
        String::new()
    };
    let opmerking: String = input
        .opmerking
        .trim()
        .chars()
        .filter(|c| (!c.is_control() || *c == '\n') && !is_invisible(*c))
        .collect();
    if opmerking.chars().count() > 2000 {
        errors.add(
            "opmerking",
            "De opmerking is langer dan 2000 tekens. Maak haar korter.",
        );
    }
    match (brin, dependance, email) {
        (Ok(brin), Ok(dependance), Ok(email)) if errors.is_empty() => {
            let code = SchoolCode::new(brin, dependance);
            Ok((
                Aanvraag {
                    id: uuid::Uuid::now_v7().to_string(),
                    soort,
                    schoolnaam,
                    brin: code.brin.as_str().to_string(),
                    dependance: code.dependance.as_str().to_string(),
                    contactnaam,
                    email: email.as_str().to_string(),
                    telefoon,
                    las,
                    opmerking,
                    status: "open".into(),
                    created_at: now(),
                    decided_at: None,
                    decided_by: None,
                    school_id: None,
                },
                code,
            ))
        }
        _ => Err(errors),
    }
}

pub fn las_label(value: &str) -> &'static str {
    LAS_OPTIONS
        .iter()
        .find(|(v, _)| *v == value)
        .map(|(_, l)| *l)
        .unwrap_or("Anders")
}

impl App {
    /// Stores a request from the order form and confirms it to the requester by e-mail.
    /// `source` is the sender's address (kept only as a hash, for the limit per hour).
    pub async fn submit_aanvraag(
        &self,
        input: &AanvraagInput,
        source: &str,
    ) -> Result<Aanvraag, AanvraagError> {
        let (aanvraag, code) = validate(input).map_err(AanvraagError::Invalid)?;
        let source_hash = hash_token(&format!("aanvraag:{}", sender(source)));
        let mut tx = self.db.begin().await?;
        let recent =
            aanvragen::count_from(&mut tx, &source_hash, now() - Duration::hours(1)).await?;
        if recent >= MAX_PER_HOUR {
            return Err(AanvraagError::TooMany);
        }
        aanvragen::insert(&mut tx, &aanvraag, &source_hash).await?;
        audit(
            &mut tx,
            &Actor::anonymous(source),
            "aanvraag.ontvangen",
            Some(("aanvraag", aanvraag.id.clone())),
            None,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        let mail = Mail {
            to: aanvraag.email.clone(),
            subject: "Uw aanvraag voor de koppeling met Boom testcentrum".into(),
            text: format!(
                "Beste {naam},\n\n\
                 We hebben uw aanvraag ontvangen voor de koppeling tussen Startblok en Boom testcentrum voor {school} ({code}).\n\n\
                 Wat gebeurt er nu?\n\
                 1. Wij verwerken de aanvraag, meestal binnen twee werkdagen.\n\
                 2. Daarna krijgt u een e-mail met een link. Na inloggen als beheerder van de school ziet u daar één keer de autorisatiesleutel.\n\
                 3. Die sleutel vult u in bij Boom testcentrum. Startblok legt uit waar.\n\n\
                 De sleutel zelf sturen we nooit per e-mail.\n\n\
                 Heeft u deze aanvraag niet gedaan? Dan kunt u deze e-mail negeren.\n\n\
                 Met vriendelijke groet,\nStartblok",
                naam = aanvraag.contactnaam,
                school = aanvraag.schoolnaam,
            ),
        };
        self.send_after_commit(&mail).await;
        Ok(aanvraag)
    }

    /// Sends a mail whose cause is already committed. A failure is logged (never the body: it
    /// may hold a link) and does not undo what was done; the operator can send again.
    pub(crate) async fn send_after_commit(&self, mail: &Mail) -> bool {
        match self.mailer.send(mail).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(
                    to_domain = mail.to.rsplit('@').next().unwrap_or(""),
                    subject = %mail.subject,
                    error = %e,
                    "e-mail niet verstuurd"
                );
                false
            }
        }
    }

    /// Requests with a status (`open`, `verwerkt`, `afgewezen`).
    pub async fn aanvragen(&self, status: &str) -> Result<Vec<Aanvraag>, AanvraagError> {
        let mut c = self.db.conn().await?;
        Ok(aanvragen::with_status(&mut c, status).await?)
    }

    /// One request, with the school it names and whether that school already has a koppeling.
    pub async fn aanvraag(&self, id: &str) -> Result<AanvraagView, AanvraagError> {
        let mut c = self.db.conn().await?;
        let aanvraag = aanvragen::by_id(&mut c, id)
            .await?
            .ok_or(AanvraagError::NotFound)?;
        let school = match code_of(&aanvraag) {
            Some(code) => schools::by_code(&mut c, &code).await?,
            None => None,
        };
        drop(c);
        let active_koppeling = match &school {
            Some(s) => self
                .koppeling_status(s.id)
                .await?
                .iter()
                .any(|k| k.applicatie.slug == BOOM && !k.valid_keys.is_empty()),
            None => false,
        };
        let recipients = match &school {
            None => vec![aanvraag.email.clone()],
            Some(s) => self
                .link_recipients(s.id, &aanvraag)
                .await?
                .into_iter()
                .map(|(email, _)| email)
                .collect(),
        };
        Ok(AanvraagView {
            grants_beheerder: school.is_none(),
            aanvraag,
            school,
            active_koppeling,
            recipients,
        })
    }

    /// Who receives a key link for an existing school: the requester when already a beheerder
    /// there, else every active beheerder of the school. (e-mail, name) pairs.
    async fn link_recipients(
        &self,
        school: startblok_domain::SchoolId,
        a: &Aanvraag,
    ) -> Result<Vec<(String, String)>, AanvraagError> {
        let beheerders: Vec<(String, String)> = self
            .team(school)
            .await?
            .into_iter()
            .filter(|m| m.roles.contains(&Role::Beheerder) && !m.user.disabled)
            .map(|m| (m.user.email, m.user.naam))
            .collect();
        Ok(
            match beheerders
                .iter()
                .find(|(email, _)| email.eq_ignore_ascii_case(&a.email))
            {
                Some(me) => vec![me.clone()],
                None => beheerders,
            },
        )
    }

    /// Processes a request: the school (made when new), its first Beheerder (invited when new),
    /// the koppeling with Boom testcentrum, and a key link mailed to the contact. Every step is
    /// safe to repeat, so a request that failed halfway can be processed again.
    pub async fn process_aanvraag(
        &self,
        id: &str,
        actor: &Actor,
    ) -> Result<Processed, AanvraagError> {
        let view = self.aanvraag(id).await?;
        let a = view.aanvraag;
        if a.status != "open" {
            return Err(AanvraagError::AlreadyDecided);
        }
        let code = code_of(&a).ok_or(AanvraagError::NotFound)?;
        // Checked again before anything is written, so nothing is stored half.
        let contact = PersonName::parse(&a.contactnaam)
            .map_err(|e| AanvraagError::Stored(format!("De naam van de contactpersoon: {e}")))?;
        Email::parse(&a.email)
            .map_err(|e| AanvraagError::Stored(format!("Het e-mailadres: {e}")))?;
        let (school, school_created, recipients, account) = match view.school {
            Some(s) => {
                // An existing school: nobody becomes beheerder through a request.
                let recipients = self.link_recipients(s.id, &a).await?;
                if recipients.is_empty() {
                    return Err(AanvraagError::NoBeheerder);
                }
                (s, false, recipients, None)
            }
            None => {
                let school = match self.create_school(&a.schoolnaam, &code, None, actor).await {
                    Ok(s) => s,
                    // Made in the meantime (another request, a second click): look again.
                    Err(ProvisionError::SchoolExists(_)) => return Err(AanvraagError::Changed),
                    Err(e) => return Err(e.into()),
                };
                let account = self
                    .create_school_user(
                        &code,
                        &a.email,
                        Some(contact.as_str()),
                        Role::Beheerder,
                        None,
                        actor,
                    )
                    .await?;
                let me = vec![(a.email.clone(), contact.as_str().to_string())];
                (school, true, me, Some(account))
            }
        };
        let key_link = self.prepare_key_link(school.id, BOOM, actor).await?;
        let mut tx = self.db.begin().await?;
        if !aanvragen::decide(
            &mut tx,
            &a.id,
            "verwerkt",
            &actor.label,
            Some(school.id),
            now(),
        )
        .await?
        {
            return Err(AanvraagError::AlreadyDecided);
        }
        audit(
            &mut tx,
            actor,
            "aanvraag.verwerkt",
            Some(("aanvraag", a.id.clone())),
            Some(school.id),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;

        let invite = account.as_ref().and_then(|acc| acc.link.clone());
        let mut mailed = true;
        if let Some(link) = &invite {
            mailed &= self.send_after_commit(&Mail {
                to: a.email.clone(),
                subject: format!("Welkom bij Startblok – {}", school.naam),
                text: format!(
                    "Beste {naam},\n\n\
                     Er is een account voor u gemaakt in Startblok, als beheerder van {school} ({code}).\n\n\
                     Kies eerst een wachtwoord via deze link (7 dagen geldig, één keer te gebruiken):\n{link}\n\n\
                     Met vriendelijke groet,\nStartblok",
                    naam = a.contactnaam,
                    school = school.naam,
                ),
            })
            .await;
        }
        for (email, naam) in &recipients {
            mailed &= self
                .send_after_commit(&key_link_mail(
                    email,
                    naam,
                    &school,
                    &key_link,
                    invite.is_some(),
                ))
                .await;
        }
        Ok(Processed {
            school,
            school_created,
            invited: invite.is_some(),
            mailed_to: recipients
                .iter()
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            mailed,
        })
    }

    /// Sends a processed request's contact a fresh key link (when the first mail did not arrive
    /// or the link expired). Earlier links keep working until they expire or are used.
    pub async fn resend_key_link(&self, id: &str, actor: &Actor) -> Result<bool, AanvraagError> {
        let view = self.aanvraag(id).await?;
        let a = view.aanvraag;
        let (Some(school), "verwerkt") = (view.school, a.status.as_str()) else {
            return Err(AanvraagError::NotFound);
        };
        let recipients = self.link_recipients(school.id, &a).await?;
        if recipients.is_empty() {
            return Err(AanvraagError::NoBeheerder);
        }
        let link = self.prepare_key_link(school.id, BOOM, actor).await?;
        let mut c = self.db.conn().await?;
        audit(
            &mut c,
            actor,
            "aanvraag.sleutellink.opnieuw",
            Some(("aanvraag", a.id.clone())),
            Some(school.id),
        )
        .await?;
        drop(c);
        let mut mailed = true;
        for (email, naam) in &recipients {
            mailed &= self
                .send_after_commit(&key_link_mail(email, naam, &school, &link, false))
                .await;
        }
        Ok(mailed)
    }

    /// Rejects a request (nothing is created).
    pub async fn reject_aanvraag(&self, id: &str, actor: &Actor) -> Result<(), AanvraagError> {
        let mut tx = self.db.begin().await?;
        if aanvragen::by_id(&mut tx, id).await?.is_none() {
            return Err(AanvraagError::NotFound);
        }
        if !aanvragen::decide(&mut tx, id, "afgewezen", &actor.label, None, now()).await? {
            return Err(AanvraagError::AlreadyDecided);
        }
        audit(
            &mut tx,
            actor,
            "aanvraag.afgewezen",
            Some(("aanvraag", id.to_string())),
            None,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }
}

/// Who counts as one sender for the limit: an IPv4 address, or an IPv6 /64 (one household or
/// machine has a whole /64 to choose addresses from).
fn sender(source: &str) -> String {
    match source.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => source.to_string(),
    }
}

fn code_of(a: &Aanvraag) -> Option<SchoolCode> {
    Some(SchoolCode::new(
        Brin::parse(&a.brin).ok()?,
        Dependance::parse(&a.dependance).ok()?,
    ))
}

/// The mail with the key link: the link, never the key.
pub(crate) fn key_link_mail(
    to: &str,
    naam: &str,
    school: &School,
    link: &str,
    set_password_first: bool,
) -> Mail {
    let first = if set_password_first {
        "Kies eerst een wachtwoord met de link uit de welkomstmail. "
    } else {
        ""
    };
    Mail {
        to: to.to_string(),
        subject: format!(
            "De koppeling met Boom testcentrum voor {} staat klaar",
            school.naam
        ),
        text: format!(
            "Beste {naam},\n\n\
             De koppeling tussen Startblok en Boom testcentrum voor {school} ({code}) staat klaar. \
             De autorisatiesleutel die u daarvoor nodig hebt, ziet u één keer via deze link (24 uur geldig, één keer te gebruiken):\n{link}\n\n\
             {first}Log in als beheerder van de school en open dan de link. \
             Startblok laat de sleutel zien met een knop om hem te kopiëren, en legt uit waar u hem invult bij Boom testcentrum.\n\n\
             Werkt de link niet meer? Ga in Startblok naar Instellingen > Boom testcentrum en maak daar een nieuwe sleutel.\n\n\
             Met vriendelijke groet,\nStartblok",
            school = school.naam,
            code = school.code,
        ),
    }
}
