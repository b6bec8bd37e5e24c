//! The operator's pages: the schools of this instance, requests for a koppeling, the registered
//! applications, and the e-mail that stayed in the outbox.

pub mod get;
pub mod post;

use askama::Template;

use crate::chrome::Chrome;

#[derive(Template)]
#[template(path = "operator_schools.html")]
pub struct SchoolsPage {
    pub chrome: Chrome,
    pub rows: Vec<SchoolRow>,
}

pub struct SchoolRow {
    pub naam: String,
    pub code: String,
    pub aangemaakt: String,
    /// The operator is also a member here, so the school's pages can be opened.
    pub member: bool,
}

#[derive(Template)]
#[template(path = "operator_aanvragen.html")]
pub struct AanvragenPage {
    pub chrome: Chrome,
    pub status: String,
    pub tabs: Vec<(&'static str, String)>,
    pub rows: Vec<AanvraagRow>,
}

pub struct AanvraagRow {
    pub id: String,
    pub ontvangen: String,
    pub schoolnaam: String,
    pub code: String,
    pub contact: String,
    pub soort: &'static str,
}

#[derive(Template)]
#[template(path = "operator_aanvraag.html")]
pub struct AanvraagPage {
    pub chrome: Chrome,
    pub a: startblok_db::aanvragen::Aanvraag,
    pub status_label: String,
    pub ontvangen: String,
    pub soort: String,
    pub code: String,
    pub las: String,
    pub behandeld: String,
    /// The school that already exists with this BRIN (name and code), or empty.
    pub existing: String,
    pub active_koppeling: bool,
    /// Who gets the key link (e-mail addresses, comma-separated).
    pub recipients: String,
    /// The requester becomes beheerder (only of a school the request creates).
    pub grants_beheerder: bool,
    pub confirm_reject: bool,
    pub notice: String,
    /// Something the operator must act on (a mail that did not go out).
    pub warning: String,
}

#[derive(Template)]
#[template(path = "operator_applicaties.html")]
pub struct ApplicatiesPage {
    pub chrome: Chrome,
    pub rows: Vec<ApplicatieRow>,
    pub notice: &'static str,
}

pub struct ApplicatieRow {
    pub id: String,
    pub naam: String,
    pub klantnaam: String,
    pub klantcode: String,
    pub gewijzigd: String,
}

#[derive(Template)]
#[template(path = "operator_applicatie.html")]
pub struct ApplicatiePage {
    pub chrome: Chrome,
    pub id: String,
    pub naam: String,
    pub klantnaam: String,
    pub klantcode: String,
    pub errors: crate::forms::FormErrors,
}

#[derive(Template)]
#[template(path = "operator_mail.html")]
pub struct MailPage {
    pub chrome: Chrome,
    /// `None` when mail goes out over SMTP (nothing is kept).
    pub mails: Option<Vec<MailRow>>,
}

pub struct MailRow {
    pub to: String,
    pub subject: String,
    pub at: String,
    pub text: String,
    /// The web addresses in the text, as links (a mail client would make them clickable too).
    pub links: Vec<String>,
}

/// The http(s) addresses in a mail's text, in order, without trailing punctuation.
pub fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_start_matches(['<', '('])
                .trim_end_matches(['.', ',', ')', '>', ';', ':'])
        })
        .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(String::from)
        .collect()
}

pub fn soort_label(soort: &str) -> &'static str {
    if soort == "bestaand" {
        "Bestaand account"
    } else {
        "Nieuwe school"
    }
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "verwerkt" => "Verwerkt",
        "afgewezen" => "Afgewezen",
        _ => "Open",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_found_in_a_mail_text_without_their_punctuation() {
        let text = "Haal de sleutel op:\nhttps://startblok.test/sleutel/abc123.\n(of <http://x.test/a>) en niet ftp://y";
        assert_eq!(
            super::links_in(text),
            ["https://startblok.test/sleutel/abc123", "http://x.test/a"]
        );
    }
}
