//! Instellingen > Boom testcentrum (Beheerder): the koppeling's state, the key's last 4
//! characters, how to enter a key in Boom testcentrum, a new key (shown once), and revocation
//! after a confirmation page. The list of deliveries and errors comes with the intake.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use startblok_app::koppelingen::{BOOM, KoppelingState};
use startblok_db::koppelingen::KeyOrigin;
use startblok_domain::format_moment;

use crate::AppState;
use crate::access::{ClientIp, CurrentUser, SchoolScope};
use crate::chrome::Chrome;
use crate::error::{WebError, render};
use crate::routes::sleutel::KeyShownPage;

#[derive(Template)]
#[template(path = "boom_koppeling.html")]
pub struct KoppelingPage {
    pub chrome: Chrome,
    pub base: String,
    pub koppeling: Option<KoppelingView>,
    pub has_valid: bool,
    /// The working keys' last 4 characters, sent back by the new-key form.
    pub huidige: String,
    pub notice: String,
    pub intake: startblok_app::intake::IntakeOverview,
    /// Deliveries: (id, aangeboden op, results, new, changed, unchanged, verwerkt, fouten,
    /// wachtend, herhaling).
    pub leveringen: Vec<LeveringRow>,
    pub pagina: i64,
    pub paginas: i64,
    /// An error at one fix form: (the item it belongs to, the message, the value kept).
    pub fout_bij: String,
    pub fout: String,
    pub gekozen: String,
}

impl KoppelingPage {
    /// The id of a fix form's field: kind, then the item's key parts.
    pub fn key(&self, kind: &str, a: &str, b: &str) -> String {
        if b.is_empty() {
            format!("{kind}-{a}")
        } else {
            format!("{kind}-{a}-{b}")
        }
    }

    /// The error to show at the fix form `key`, if the last attempt there was refused.
    pub fn err(&self, key: &str) -> &str {
        if self.fout_bij == key { &self.fout } else { "" }
    }

    /// The open errors of known pupils, per kind: (title, what fixes it, the results).
    pub fn result_groups(
        &self,
    ) -> Vec<(
        &'static str,
        &'static str,
        Vec<&startblok_app::intake::ResultError>,
        i64,
    )> {
        [
            ("GEEN_TOETSDOEL", "Geen toetsdoel op de afnamedatum", "Stel bij de leerling het toetsdoel in; de resultaten worden dan meteen verwerkt."),
            ("GEEN_NORM", "Geen norm voor dit vak en deze fase", "Vul de ontbrekende norm in bij Toetsdoelen & normen; de resultaten worden dan meteen verwerkt."),
            ("GEEN_DLE", "Geen DLE af te leiden", "Boom stuurde geen DLE en er is geen conversietabel voor deze toets. Voeg een conversietabel toe, of negeer het resultaat met een reden."),
            ("ONGELDIGE_SCORE", "Score niet bruikbaar", "De score is geen getal of valt buiten de conversietabel. Pas de tabel aan, of negeer het resultaat met een reden."),
        ]
        .into_iter()
        .map(|(code, title, hint)| {
            let items: Vec<&startblok_app::intake::ResultError> =
                self.intake.result_errors.iter().filter(|e| e.fout == code).collect();
            let total = self
                .intake
                .counts
                .iter()
                .find(|(f, _)| f == code)
                .map_or(0, |(_, n)| *n);
            (title, hint, items, total)
        })
        .filter(|g| !g.2.is_empty())
        .collect()
    }

    /// Results of unknown Boom-leerlingnummers beyond the listed numbers (the list is capped).
    pub fn unlisted_unknown(&self) -> i64 {
        let all = self
            .intake
            .counts
            .iter()
            .find(|(f, _)| f == "LEERLING_NIET_GEVONDEN")
            .map_or(0, |(_, n)| *n);
        let listed: usize = self.intake.unknown_pupils.iter().map(|u| u.aantal).sum();
        all - listed as i64
    }

    /// What the user chose or typed at the fix form `key`, kept after a refusal.
    pub fn kept(&self, key: &str) -> &str {
        if self.fout_bij == key {
            &self.gekozen
        } else {
            ""
        }
    }
}

pub struct LeveringRow {
    pub id: String,
    pub aangeboden: String,
    pub aantal: i64,
    pub nieuw: i64,
    pub gewijzigd: i64,
    pub ongewijzigd: i64,
    pub verwerkt: i64,
    pub fouten: i64,
    pub wachtend: i64,
    pub herhaling: bool,
}

pub fn levering_row(l: &startblok_db::leveringen::Levering) -> LeveringRow {
    LeveringRow {
        id: l.id.clone(),
        aangeboden: format_moment(l.ontvangen_op),
        aantal: l.aantal,
        nieuw: l.nieuw,
        gewijzigd: l.gewijzigd,
        ongewijzigd: l.ongewijzigd,
        verwerkt: l.verwerkt,
        fouten: l.fouten,
        wachtend: l.wachtend,
        herhaling: l.herhaling_van.is_some(),
    }
}

/// Deliveries per page.
const PER_PAGE: i64 = 20;

pub struct KoppelingView {
    pub applicatie: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub state_detail: String,
    pub keys: Vec<KeyView>,
    pub demo: bool,
    pub link_waiting: bool,
}

pub struct KeyView {
    pub last4: String,
    pub until: String,
    pub demo: bool,
}

#[derive(Template)]
#[template(path = "boom_revoke.html")]
pub struct RevokePage {
    pub chrome: Chrome,
    pub base: String,
}

fn base(scope: &SchoolScope) -> String {
    format!("/s/{}", scope.code())
}

fn path(scope: &SchoolScope) -> String {
    format!("{}/instellingen/boom-testcentrum", base(scope))
}

#[derive(Deserialize, Default)]
pub struct Said {
    #[serde(default)]
    ingetrokken: Option<String>,
    #[serde(default)]
    verouderd: Option<String>,
    #[serde(default)]
    pagina: Option<i64>,
    /// After a fix: how many open errors it resolved.
    #[serde(default)]
    opgelost: Option<usize>,
    #[serde(default)]
    genegeerd: Option<String>,
    #[serde(default)]
    verwerkt: Option<usize>,
}

/// A form error to show at its fix.
#[derive(Default)]
pub struct FixError {
    pub bij: String,
    pub fout: String,
    pub gekozen: String,
}

/// The keys that work now, as the page shows them: the form sends this back, so a repeated or
/// stale POST (a reload of the page that showed a new key) makes no second key.
fn fingerprint(keys: &[startblok_db::koppelingen::KeyInfo]) -> String {
    let mut v: Vec<&str> = keys.iter().map(|k| k.last4.as_str()).collect();
    v.sort_unstable();
    if v.is_empty() {
        "geen".into()
    } else {
        v.join(",")
    }
}

async fn current_fingerprint(state: &AppState, scope: &SchoolScope) -> Result<String, WebError> {
    let all = state
        .app
        .koppeling_status(scope.school.id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(all
        .iter()
        .find(|k| k.applicatie.slug == BOOM)
        .map(|k| fingerprint(&k.valid_keys))
        .unwrap_or_else(|| "geen".into()))
}

pub async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    Query(said): Query<Said>,
) -> Result<Response, WebError> {
    render_page(&state, &user, &scope, &said, FixError::default()).await
}

pub async fn render_page(
    state: &AppState,
    user: &CurrentUser,
    scope: &SchoolScope,
    said: &Said,
    fix: FixError,
) -> Result<Response, WebError> {
    let all = state
        .app
        .koppeling_status(scope.school.id)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let status = all.into_iter().find(|k| k.applicatie.slug == BOOM);
    let link_waiting = match &status {
        Some(k) => {
            let mut c = state.app.db.conn().await?;
            startblok_db::koppelingen::has_open_key_link(
                &mut c,
                &k.koppeling.id,
                startblok_app::now(),
            )
            .await?
        }
        None => false,
    };
    let has_valid = status.as_ref().is_some_and(|k| !k.valid_keys.is_empty());
    let huidige = status
        .as_ref()
        .map(|k| fingerprint(&k.valid_keys))
        .unwrap_or_else(|| "geen".into());
    let koppeling = status.map(|k| {
        let (state, class, detail) = match &k.state {
            KoppelingState::Aangevraagd => (
                "Aangevraagd",
                "sb-state--wait",
                "Er is nog geen sleutel opgehaald.".to_string(),
            ),
            KoppelingState::SleutelUitgegeven => (
                "Sleutel uitgegeven",
                "sb-state--wait",
                "Boom testcentrum heeft nog niets gestuurd.".to_string(),
            ),
            KoppelingState::Verbonden(t) => (
                "Verbonden",
                "sb-state--ok",
                format!("sinds het eerste bericht op {}", format_moment(*t)),
            ),
            KoppelingState::Ingetrokken(t) => (
                "Ingetrokken",
                "sb-state--off",
                format!("op {}", format_moment(*t)),
            ),
        };
        let keys: Vec<KeyView> = k
            .valid_keys
            .iter()
            .map(|key| KeyView {
                last4: key.last4.clone(),
                until: key.valid_until.map(format_moment).unwrap_or_default(),
                demo: key.origin == KeyOrigin::Demo,
            })
            .collect();
        KoppelingView {
            applicatie: k.applicatie.naam.clone(),
            state,
            state_class: class,
            state_detail: detail,
            demo: keys.iter().any(|k| k.demo),
            keys,
            link_waiting,
        }
    });
    let pagina = said.pagina.unwrap_or(1).max(1);
    let intake = state
        .app
        .intake_overview(scope.school.id, (pagina - 1) * PER_PAGE, PER_PAGE)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let paginas = ((intake.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let notice = if said.ingetrokken.is_some() {
        "De koppeling is ingetrokken. Geen enkele sleutel werkt nog.".to_string()
    } else if said.verouderd.is_some() {
        "Er is geen nieuwe sleutel gemaakt: de sleutels waren intussen al veranderd, bijvoorbeeld doordat de pagina met de nieuwe sleutel opnieuw werd geladen. Hieronder staat hoe het nu is. Heb je de laatste sleutel niet bewaard? Maak dan hier een nieuwe.".to_string()
    } else if let Some(n) = said.opgelost {
        match n {
            0 => {
                "Opgeslagen. Er is nog geen fout door opgelost; kijk hieronder wat er nog nodig is."
                    .to_string()
            }
            1 => "Opgeslagen. 1 fout is opgelost en het resultaat is verwerkt.".to_string(),
            n => format!("Opgeslagen. {n} fouten zijn opgelost en de resultaten zijn verwerkt."),
        }
    } else if said.genegeerd.is_some() {
        "De fout is genegeerd; de reden staat in het logboek.".to_string()
    } else if let Some(n) = said.verwerkt {
        format!("Opnieuw verwerkt: {n} resultaten.")
    } else {
        String::new()
    };
    let page = KoppelingPage {
        chrome: Chrome::for_school(
            "Boom testcentrum",
            user,
            scope,
            &format!("{}/instellingen", base(scope)),
        ),
        base: base(scope),
        koppeling,
        has_valid,
        huidige,
        notice,
        leveringen: intake.leveringen.iter().map(levering_row).collect(),
        intake,
        pagina,
        paginas,
        fout_bij: fix.bij,
        fout: fix.fout,
        gekozen: fix.gekozen,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct Action {
    #[serde(default)]
    actie: String,
    /// The keys the page showed ([`fingerprint`]).
    #[serde(default)]
    huidige: String,
}

/// A new key (a rotation when one works), shown once in this answer.
pub async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
    Form(form): Form<Action>,
) -> Result<Response, WebError> {
    if form.actie != "nieuwe-sleutel" {
        return Ok(Redirect::to(&path(&scope)).into_response());
    }
    if form.huidige != current_fingerprint(&state, &scope).await? {
        return Ok(Redirect::to(&format!("{}?verouderd=1", path(&scope))).into_response());
    }
    let issued = state
        .app
        .new_key_for_school(scope.school.id, BOOM, &user.actor(&ip))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let page = KeyShownPage {
        chrome: Chrome::for_school(
            "Je nieuwe sleutel",
            &user,
            &scope,
            &format!("{}/instellingen", base(&scope)),
        ),
        school: scope.school.naam.clone(),
        applicatie: "Boom testcentrum".into(),
        key: issued.reveal().to_string(),
        previous_until: issued.previous_valid_until.map(format_moment),
        settings: path(&scope),
    };
    Ok(render(&page)?.into_response())
}

pub async fn revoke_form(user: CurrentUser, scope: SchoolScope) -> Result<Response, WebError> {
    let page = RevokePage {
        chrome: Chrome::for_school(
            "Koppeling intrekken",
            &user,
            &scope,
            &format!("{}/instellingen", base(&scope)),
        ),
        base: base(&scope),
    };
    Ok(render(&page)?.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: SchoolScope,
    ip: ClientIp,
) -> Result<Response, WebError> {
    match state
        .app
        .revoke_koppeling(scope.school.id, BOOM, &user.actor(&ip))
        .await
    {
        Ok(_) | Err(startblok_app::koppelingen::KoppelingError::NoKoppeling) => {
            Ok(Redirect::to(&format!("{}?ingetrokken=1", path(&scope))).into_response())
        }
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}
