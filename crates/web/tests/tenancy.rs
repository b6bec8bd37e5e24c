//! The route × role × school matrix (security.md, "Access"): every route of the route table is
//! requested by every kind of user for two schools, and the answer must match the route's rule.
//! The router is built from the same table, so a route cannot exist without a rule; a new route
//! is checked here without anyone having to remember to add it.

mod common;

use common::{SCHOOL_A, SCHOOL_B, TestApp, Who, spawn_all};
use reqwest::StatusCode;
use startblok_web::access::Access;
use startblok_web::routes::rules;

#[derive(Debug, PartialEq)]
enum Outcome {
    LoginRedirect,
    NotFound,
    Forbidden,
    Allowed,
}

fn classify(status: StatusCode, location: Option<&str>) -> Outcome {
    if status == StatusCode::SEE_OTHER && location.is_some_and(|l| l.starts_with("/inloggen")) {
        return Outcome::LoginRedirect;
    }
    match status {
        StatusCode::NOT_FOUND => Outcome::NotFound,
        StatusCode::FORBIDDEN => Outcome::Forbidden,
        s if s.is_server_error() => panic!("server error {s}"),
        _ => Outcome::Allowed,
    }
}

fn expected(access: Access, who: Who, school: &str) -> Outcome {
    match access {
        Access::Public | Access::Machine => Outcome::Allowed,
        _ if who == Who::Anonymous => Outcome::LoginRedirect,
        Access::LoggedIn => Outcome::Allowed,
        Access::Operator if who == Who::Operator => Outcome::Allowed,
        Access::Operator => Outcome::NotFound,
        Access::School(allowed) => {
            let roles = who.roles_at(school);
            if roles.is_empty() {
                Outcome::NotFound
            } else if roles.iter().any(|r| allowed.contains(r)) {
                Outcome::Allowed
            } else {
                Outcome::Forbidden
            }
        }
    }
}

/// A path with its parameters filled in: the school, and objects that belong to `owner`.
fn concrete(app: &TestApp, path: &str, school: &str, owner: &str) -> String {
    let mut out = path
        .replace("{school}", school)
        .replace("{token}", "onbekend-token-0000000000000000000000000000")
        .replace("{*path}", "startblok.css");
    for kind in [
        "leerling",
        "groep",
        "toetsdoel",
        "upload",
        "import",
        "aanvraag",
        "applicatie",
        "resultaat",
        "periode",
    ] {
        let param = format!("{{{kind}}}");
        if out.contains(&param) {
            out = out.replace(&param, &app.object(owner, kind));
        }
    }
    assert!(
        !out.contains('{'),
        "the matrix does not know how to fill in {path}: add the parameter here"
    );
    out
}

fn has_object(path: &str) -> bool {
    [
        "{leerling}",
        "{groep}",
        "{toetsdoel}",
        "{upload}",
        "{import}",
        "{resultaat}",
        "{periode}",
    ]
    .iter()
    .any(|p| path.contains(p))
}

async fn check(app: &TestApp) {
    let mut clients = Vec::new();
    for who in Who::ALL {
        let client = app.client_as(who).await;
        let csrf = match who {
            Who::Anonymous => String::new(),
            _ => app.csrf(&client, "/account/wachtwoord").await,
        };
        clients.push((who, client, csrf));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, path, access) in rules() {
        if matches!(access, Access::School(_)) {
            assert!(
                path.starts_with("/s/{school}"),
                "{path}: school routes live under /s/{{school}}"
            );
        }
        if path.starts_with("/s/") {
            assert!(
                matches!(access, Access::School(_)),
                "{path}: a route under /s/ needs a School rule"
            );
        }
        if access == Access::Machine {
            // Machine interfaces answer in their own protocol; tests/uwlr.rs covers them.
            assert!(
                path.starts_with("/uwlr/"),
                "{path}: machine routes live under /uwlr/"
            );
            continue;
        }
        if path.starts_with("/beheer") {
            assert_eq!(access, Access::Operator, "{path}: /beheer is for operators");
        }
        let schools: &[&str] = if path.contains("{school}") {
            &[SCHOOL_A, SCHOOL_B]
        } else {
            &[SCHOOL_A]
        };
        for school in schools {
            let url = app.url(&concrete(app, path, school, school));
            for (who, client, csrf) in &clients {
                // Logout would end the session the rest of the matrix needs.
                if path == "/uitloggen" && *who != Who::Anonymous {
                    continue;
                }
                let res = match method.as_str() {
                    "GET" => client.get(&url).send().await.unwrap(),
                    "POST" => client
                        .post(&url)
                        .form(&[("_csrf", csrf.as_str())])
                        .send()
                        .await
                        .unwrap(),
                    m => panic!("method {m} not covered by this test"),
                };
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from);
                let got = classify(res.status(), location.as_deref());
                let want = expected(access, *who, school);
                if got != want {
                    failures.push(format!(
                        "{method} {path} as {who:?} at {school}: got {got:?} ({}), want {want:?}",
                        res.status()
                    ));
                }
                checked += 1;
            }
        }
    }
    // Another school's object through your own school's address: always 404.
    for (method, path, _) in rules().into_iter().filter(|(_, p, _)| has_object(p)) {
        let url = app.url(&concrete(app, path, SCHOOL_A, SCHOOL_B));
        for (who, client, csrf) in &clients {
            if *who == Who::Anonymous {
                continue;
            }
            let res = match method.as_str() {
                "GET" => client.get(&url).send().await.unwrap(),
                _ => client
                    .post(&url)
                    .form(&[("_csrf", csrf.as_str())])
                    .send()
                    .await
                    .unwrap(),
            };
            let status = res.status();
            // A role without access at School Alfa is stopped by the guard first (403/404).
            if status != StatusCode::NOT_FOUND && status != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{method} {path} as {who:?} with School Bravo's object: got {status}, want 404"
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{:?}: {} of {checked} checks failed:\n{}",
        app.db.backend(),
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 50, "the matrix ran ({checked} checks)");
}

#[tokio::test]
async fn every_route_answers_each_role_at_each_school_as_its_rule_says() {
    for app in spawn_all().await {
        check(&app).await;
    }
}

#[tokio::test]
async fn a_school_code_that_does_not_exist_answers_404_like_another_schools_page() {
    let app = common::spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    for path in [
        "/s/99XX-00",
        "/s/onzin",
        "/s/22BB-00/instellingen/gebruikers",
        "/s/99XX-00/instellingen",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Pagina niet gevonden"), "{path}");
    }
}
