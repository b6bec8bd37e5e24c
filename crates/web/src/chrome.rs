//! The frame around every page: title, header with school and user menu, main navigation.

use startblok_domain::Role;

use crate::access::{CurrentUser, SchoolScope};

#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub title: String,
    /// Prefixes the title with "Fout: " (GOV.UK pattern) when a form came back with errors.
    pub has_errors: bool,
    pub user: Option<ChromeUser>,
    pub school: Option<ChromeSchool>,
    pub nav: Vec<NavItem>,
    /// The CSRF token for forms on this page.
    pub csrf: String,
}

#[derive(Debug, Clone)]
pub struct ChromeUser {
    pub naam: String,
    pub email: String,
    pub several_schools: bool,
    pub is_operator: bool,
}

#[derive(Debug, Clone)]
pub struct ChromeSchool {
    pub naam: String,
    pub code: String,
    pub roles: String,
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

impl Chrome {
    /// For pages without a logged-in user: login, one-time links, errors.
    pub fn bare(title: &str) -> Chrome {
        Chrome {
            title: title.to_string(),
            ..Chrome::default()
        }
    }

    /// For account pages and the operator's pages.
    pub fn for_user(title: &str, user: &CurrentUser, current_path: &str) -> Chrome {
        let u = &user.0;
        let mut nav = Vec::new();
        if !u.schools.is_empty() {
            // Back to the school the user works in ("/" goes there).
            nav.push(item("Start", "/".into(), current_path));
        }
        if u.user.is_operator {
            nav.push(item("Scholen", "/beheer".into(), current_path));
            nav.push(item("Aanvragen", "/beheer/aanvragen".into(), current_path));
            nav.push(item(
                "Applicaties",
                "/beheer/applicaties".into(),
                current_path,
            ));
            nav.push(item(
                "Verzonden e-mail",
                "/beheer/e-mail".into(),
                current_path,
            ));
        }
        if nav.len() == 1 {
            // A lone item is no menu.
            nav.clear();
        }
        Chrome {
            title: title.to_string(),
            has_errors: false,
            user: Some(chrome_user(user)),
            school: None,
            nav,
            csrf: u.session.csrf_token.clone(),
        }
    }

    /// For pages of one school: the menu of product.md, as far as it is built and allowed.
    pub fn for_school(
        title: &str,
        user: &CurrentUser,
        scope: &SchoolScope,
        current_path: &str,
    ) -> Chrome {
        let base = format!("/s/{}", scope.code());
        let mut nav = vec![
            item("Start", base.clone(), current_path),
            item("Leerlingen", format!("{base}/leerlingen"), current_path),
            item("Groepsoverzicht", format!("{base}/overzicht"), current_path),
        ];
        if scope.has(Role::Beheerder) || scope.has(Role::Ib) {
            nav.push(item(
                "Groepen & Team",
                format!("{base}/groepen"),
                current_path,
            ));
        }
        if scope.has(Role::Beheerder) {
            nav.push(item(
                "Importeren",
                format!("{base}/importeren"),
                current_path,
            ));
            nav.push(item(
                "Instellingen",
                format!("{base}/instellingen"),
                current_path,
            ));
        }
        if user.0.user.is_operator {
            nav.push(item("Scholen", "/beheer".into(), current_path));
        }
        let roles = scope
            .roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ");
        Chrome {
            title: title.to_string(),
            has_errors: false,
            user: Some(chrome_user(user)),
            school: Some(ChromeSchool {
                naam: scope.school.naam.clone(),
                code: scope.code(),
                roles,
            }),
            nav,
            csrf: user.0.session.csrf_token.clone(),
        }
    }

    pub fn with_errors(mut self, has_errors: bool) -> Chrome {
        self.has_errors = has_errors;
        self
    }
}

fn chrome_user(user: &CurrentUser) -> ChromeUser {
    ChromeUser {
        naam: user.0.user.naam.clone(),
        email: user.0.user.email.clone(),
        several_schools: user.0.schools.len() > 1,
        is_operator: user.0.user.is_operator,
    }
}

/// A menu item is current on its own page and on the pages below it ("Start" only on itself).
fn item(label: &'static str, href: String, current_path: &str) -> NavItem {
    let current = if label == "Start" || href == "/beheer" {
        current_path == href
    } else {
        current_path == href || current_path.starts_with(&format!("{href}/"))
    };
    NavItem {
        label,
        href,
        current,
    }
}
