use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::{SchoolRow, SchoolsPage};
use crate::AppState;
use crate::access::CurrentUser;
use crate::chrome::Chrome;
use crate::error::{WebError, render};

const DATE: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[day]-[month]-[year]");

pub async fn schools(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, WebError> {
    let all = state
        .app
        .all_schools()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let rows = all
        .into_iter()
        .map(|s| SchoolRow {
            member: user.0.schools.iter().any(|(m, _)| m.id == s.id),
            naam: s.naam,
            code: s.code.to_string(),
            aangemaakt: s.created_at.format(DATE).unwrap_or_default(),
        })
        .collect();
    let page = SchoolsPage {
        chrome: Chrome::for_user("Scholen", &user, "/beheer"),
        rows,
    };
    Ok(render(&page)?.into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct AanvragenQuery {
    #[serde(default)]
    status: String,
}

pub async fn aanvragen(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<AanvragenQuery>,
) -> Result<Response, WebError> {
    let status = match q.status.as_str() {
        "verwerkt" | "afgewezen" => q.status.clone(),
        _ => "open".to_string(),
    };
    let mut tabs = Vec::new();
    for s in ["open", "verwerkt", "afgewezen"] {
        let n = state.app.aanvragen(s).await.map_err(internal)?.len();
        tabs.push((s, format!("{} ({n})", super::status_label(s))));
    }
    let rows = state
        .app
        .aanvragen(&status)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|a| super::AanvraagRow {
            ontvangen: startblok_domain::format_moment(a.created_at),
            code: format!("{}-{}", a.brin, a.dependance),
            contact: format!("{} ({})", a.contactnaam, a.email),
            soort: super::soort_label(&a.soort),
            schoolnaam: a.schoolnaam,
            id: a.id,
        })
        .collect();
    let page = super::AanvragenPage {
        chrome: Chrome::for_user("Aanvragen", &user, "/beheer/aanvragen"),
        status,
        tabs,
        rows,
    };
    Ok(render(&page)?.into_response())
}

fn internal(e: impl std::fmt::Display) -> WebError {
    WebError::Internal(e.to_string())
}

#[derive(serde::Deserialize, Default)]
pub struct AanvraagQuery {
    #[serde(default)]
    afwijzen: Option<String>,
    #[serde(default)]
    verwerkt: Option<String>,
    #[serde(default)]
    opnieuw: Option<String>,
    #[serde(default)]
    mail: String,
    #[serde(default)]
    melding: String,
}

pub async fn aanvraag(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<AanvraagQuery>,
) -> Result<Response, WebError> {
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(WebError::NotFound);
    }
    let view = match state.app.aanvraag(&id).await {
        Ok(v) => v,
        Err(startblok_app::aanvragen::AanvraagError::NotFound) => return Err(WebError::NotFound),
        Err(e) => return Err(internal(e)),
    };
    let a = view.aanvraag;
    let outbox = if state.app.mailer.delivers() {
        ""
    } else {
        " (zie Verzonden e-mail: er is geen SMTP-server ingesteld)"
    };
    use startblok_app::aanvragen::AanvraagError as E;
    let (notice, warning) = if let Some(e) = match q.melding.as_str() {
        "geen-beheerder" => Some(E::NoBeheerder),
        "gewijzigd" => Some(E::Changed),
        "ongeldig" => Some(E::Stored(
            "De naam of het e-mailadres van de contactpersoon is niet bruikbaar. Wijs de aanvraag af en vraag de school het formulier opnieuw in te vullen."
                .into(),
        )),
        _ => None,
    } {
        (String::new(), e.to_string())
    } else if q.mail == "mislukt" {
        (
            String::new(),
            format!(
                "De e-mail aan {} kon niet worden verstuurd. Controleer de e-mailinstellingen van Startblok en stuur de link daarna opnieuw.",
                a.email
            ),
        )
    } else if q.verwerkt.is_some() && a.status == "verwerkt" {
        (
            format!(
                "Verwerkt. {} kreeg een e-mail met de link voor de sleutel{outbox}.",
                a.email
            ),
            String::new(),
        )
    } else if q.opnieuw.is_some() {
        (
            format!(
                "Er is een nieuwe link voor de sleutel gemaild aan {}{outbox}.",
                a.email
            ),
            String::new(),
        )
    } else {
        (String::new(), String::new())
    };
    let page = super::AanvraagPage {
        chrome: Chrome::for_user(
            &format!("Aanvraag van {}", a.schoolnaam),
            &user,
            "/beheer/aanvragen",
        ),
        status_label: super::status_label(&a.status).to_string(),
        ontvangen: startblok_domain::format_moment(a.created_at),
        soort: super::soort_label(&a.soort).to_string(),
        code: format!("{}-{}", a.brin, a.dependance),
        las: startblok_app::aanvragen::las_label(&a.las).to_string(),
        behandeld: match (&a.decided_at, &a.decided_by) {
            (Some(t), Some(by)) => format!("{} door {by}", startblok_domain::format_moment(*t)),
            _ => String::new(),
        },
        existing: view
            .school
            .as_ref()
            .map(|s| format!("{} ({})", s.naam, s.code))
            .unwrap_or_default(),
        active_koppeling: view.active_koppeling,
        recipients: view.recipients.join(", "),
        grants_beheerder: view.grants_beheerder,
        confirm_reject: q.afwijzen.is_some(),
        notice,
        warning,
        a,
    };
    Ok(render(&page)?.into_response())
}

pub async fn applicaties(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let rows = state
        .app
        .applicaties()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|a| super::ApplicatieRow {
            gewijzigd: startblok_domain::format_moment(a.updated_at),
            id: a.id,
            naam: a.naam,
            klantnaam: a.klantnaam,
            klantcode: a.klantcode,
        })
        .collect();
    let page = super::ApplicatiesPage {
        chrome: Chrome::for_user("Applicaties", &user, "/beheer/applicaties"),
        rows,
        notice: if q.contains_key("opgeslagen") {
            "De applicatie is opgeslagen."
        } else {
            ""
        },
    };
    Ok(render(&page)?.into_response())
}

pub async fn applicatie(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let a = state
        .app
        .applicatie_by_id(&id)
        .await
        .map_err(internal)?
        .ok_or(WebError::NotFound)?;
    let page = super::ApplicatiePage {
        chrome: Chrome::for_user(&a.naam, &user, "/beheer/applicaties"),
        id: a.id,
        naam: a.naam,
        klantnaam: a.klantnaam,
        klantcode: a.klantcode,
        errors: crate::forms::FormErrors::default(),
    };
    Ok(render(&page)?.into_response())
}

pub async fn mail(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    let mails = state.app.mailer.sent().map(|list| {
        list.into_iter()
            .map(|m| super::MailRow {
                to: m.mail.to,
                subject: m.mail.subject,
                at: startblok_domain::format_moment(m.at),
                links: super::links_in(&m.mail.text),
                text: m.mail.text,
            })
            .collect()
    });
    let page = super::MailPage {
        chrome: Chrome::for_user("Verzonden e-mail", &user, "/beheer/e-mail"),
        mails,
    };
    Ok(render(&page)?.into_response())
}
