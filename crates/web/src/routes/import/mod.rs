//! Importeren (Beheerder): upload an EDEXML export, see what would change, apply it, and the
//! history of earlier imports. The rules live in `startblok_app::edexml_import`.

pub mod get;
pub mod post;

use askama::Template;
use startblok_app::edexml_import::{GroupChange, HistoryRow, ImportView, Plan, Progress, Report};
use startblok_db::imports::Status;

use crate::chrome::Chrome;
use crate::forms::FormErrors;

/// Rows shown per table of the preview; the rest is counted (the apply takes all of them).
pub const SHOWN: usize = 200;

#[derive(Template)]
#[template(path = "import_upload.html")]
pub struct UploadPage {
    pub chrome: Chrome,
    pub base: String,
    pub errors: FormErrors,
    pub history: Vec<HistoryRow>,
}

impl UploadPage {
    /// Said at the file field when the file is larger than an import takes (by the server, and
    /// before sending by the page's script).
    pub const TOO_LARGE: &str = "Het bestand is groter dan 64 MB. Een EDEXML-export van een school is veel kleiner; controleer of je het goede bestand kiest.";
    pub const MAX_BYTES: usize = startblok_app::edexml_import::MAX_IMPORT_BYTES;

    pub fn status_label(s: &Status) -> &'static str {
        match s {
            Status::Preview => "Wacht op controle",
            Status::Running => "Bezig",
            Status::Applied => "Ingelezen",
            Status::Failed => "Mislukt",
            Status::Expired => "Vervallen",
        }
    }
    pub fn status_class(s: &Status) -> &'static str {
        match s {
            Status::Applied => "utrecht-status-badge--success",
            Status::Failed => "utrecht-status-badge--error",
            Status::Preview | Status::Running => "utrecht-status-badge--warning",
            Status::Expired => "utrecht-status-badge--neutral",
        }
    }
    pub fn moment(t: &time::OffsetDateTime) -> String {
        startblok_domain::format_moment(*t)
    }
    pub fn line(h: &HistoryRow) -> String {
        history_line(h)
    }
}

#[derive(Template)]
#[template(path = "import_preview.html")]
pub struct PreviewPage {
    pub chrome: Chrome,
    pub base: String,
    pub view: ImportView,
    pub plan: Plan,
    pub fingerprint: String,
    /// Set when the situation changed between the preview and the click on Toepassen.
    pub notice: String,
    pub shown: usize,
}

impl PreviewPage {
    pub fn counts(&self) -> Vec<(usize, &'static str)> {
        summary(&self.plan.report())
    }
    pub fn group_label(g: &GroupChange) -> (String, String) {
        match g {
            GroupChange::New {
                naam, jaargroep, ..
            } => (
                naam.clone(),
                match jaargroep {
                    Some(j) => format!("Nieuwe groep (jaargroep {j})"),
                    None => "Nieuwe groep".into(),
                },
            ),
            GroupChange::Changed { group, changes } => (
                group.naam.clone(),
                changes
                    .iter()
                    .map(|c| format!("{}: {} → {}", c.field, c.old, c.new))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            GroupChange::Deactivated { group } => (
                group.naam.clone(),
                "Staat niet meer in de export: wordt inactief".into(),
            ),
        }
    }
    pub fn more(&self, n: usize) -> usize {
        n.saturating_sub(self.shown)
    }
    pub fn date(d: &Option<time::Date>) -> String {
        d.map(startblok_domain::format_date).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "import_status.html")]
pub struct StatusPage {
    pub chrome: Chrome,
    pub base: String,
    pub view: ImportView,
    pub kind: StatusKind,
}

pub enum StatusKind {
    Running(Option<Progress>),
    CutOff,
    Applied(Report),
    Failed(String),
    Expired,
}

impl StatusPage {
    pub fn counts(r: &Report) -> Vec<(usize, &'static str)> {
        summary(r)
    }
    pub fn moment(t: &time::OffsetDateTime) -> String {
        startblok_domain::format_moment(*t)
    }
}

/// The counts of a plan or report, in words, leaving out what is zero.
pub fn summary(r: &Report) -> Vec<(usize, &'static str)> {
    r.counts()
}

/// One line of history: "36 nieuwe leerlingen, 2 leerlingen gewijzigd".
pub fn history_line(row: &HistoryRow) -> String {
    match (&row.import.status, &row.report) {
        (Status::Applied, Some(r)) => {
            let parts: Vec<String> = summary(r)
                .into_iter()
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
            if parts.is_empty() {
                "Geen wijzigingen".into()
            } else {
                parts.join(", ")
            }
        }
        (Status::Failed, _) => row.import.message.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
