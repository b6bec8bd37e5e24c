//! The koppeling's pages over HTTP: the public order form (errors at the field with input kept,
//! the honeypot, the limit per sender), wachtwoord vergeten (the same answer for every address),
//! the operator's Applicaties form, and key pages for the wrong person.

mod common;

use common::{SCHOOL_A, TestApp, Who, spawn_all, spawn_sqlite};

fn order(brin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("soort", "nieuw".into()),
        ("schoolnaam", "Het Kompas <ISK>".into()),
        ("brin", brin.into()),
        ("dependance", "".into()),
        ("contactnaam", "Jan Jansen".into()),
        ("email", "jan@kompas.example".into()),
        ("telefoon", "010 765 43 21".into()),
        ("las", "magister".into()),
        ("opmerking", "".into()),
    ]
}

async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, String)],
) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn the_order_form_keeps_input_says_each_error_and_resists_machines() {
    for app in spawn_all().await {
        let c = app.client();
        let page = c.get(app.url("/koppeling-aanvragen")).send().await.unwrap();
        assert_eq!(page.status(), 200);

        let res = post(&app, &c, "/koppeling-aanvragen", &order("12A4")).await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("<title>Fout: "));
        assert!(body.contains("id=\"brin-fout\""), "the error at the field");
        assert!(body.contains("value=\"12A4\""), "the wrong input kept");
        assert!(
            body.contains("value=\"Het Kompas &lt;ISK&gt;\"")
                || body.contains("value=\"Het Kompas &#60;ISK&#62;\""),
            "other input kept, escaped"
        );
        assert!(body.contains("<option value=\"magister\" selected>"));

        // The honeypot: answered like a success, nothing kept.
        let mut bot = order("12AB");
        bot.push(("website", "http://spam.example".into()));
        let res = post(&app, &c, "/koppeling-aanvragen", &bot).await;
        assert_eq!(res.status(), 303);
        assert!(
            app.app
                .aanvragen("open")
                .await
                .unwrap()
                .iter()
                .all(|a| a.brin != "12AB")
        );

        let res = post(&app, &c, "/koppeling-aanvragen", &order("12ab")).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/koppeling-aanvragen/ontvangen");
        let stored = app.app.aanvragen("open").await.unwrap();
        let mine = stored.iter().find(|a| a.brin == "12AB").expect("stored");
        assert_eq!(mine.schoolnaam, "Het Kompas <ISK>");
        assert_eq!(mine.dependance, "00");

        // The limit per sender (the seeded requests came from elsewhere): 5 an hour.
        for _ in 0..4 {
            assert_eq!(
                post(&app, &c, "/koppeling-aanvragen", &order("12AB"))
                    .await
                    .status(),
                303
            );
        }
        let res = post(&app, &c, "/koppeling-aanvragen", &order("12AB")).await;
        assert_eq!(res.status(), 429);
        let body = res.text().await.unwrap();
        assert!(body.contains("Probeer het over een uur opnieuw"), "{body}");
        assert!(body.contains("value=\"Jan Jansen\""), "input kept");
    }
}

#[tokio::test]
async fn password_reset_answers_the_same_for_every_address() {
    let app = spawn_sqlite().await;
    let c = app.client();
    let mut bodies = Vec::new();
    for email in ["beheerder-a@test.nl", "niemand@test.nl"] {
        let res = post(&app, &c, "/wachtwoord-vergeten", &[("email", email.into())]).await;
        assert_eq!(res.status(), 200);
        bodies.push(res.text().await.unwrap().replace(email, "ADRES"));
    }
    assert_eq!(
        bodies[0], bodies[1],
        "nothing tells which address has an account"
    );
    let sent: Vec<_> = app
        .app
        .mailer
        .sent()
        .unwrap()
        .into_iter()
        .filter(|m| m.mail.subject.contains("wachtwoord"))
        .collect();
    assert_eq!(sent.len(), 1, "one mail, to the account only");
    assert_eq!(sent[0].mail.to, "beheerder-a@test.nl");
    let res = post(&app, &c, "/wachtwoord-vergeten", &[("email", "".into())]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"email-fout\""));
}

#[tokio::test]
async fn the_operator_changes_an_applicatie_with_errors_at_the_field() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::Operator).await;
    let boom = app.object(SCHOOL_A, "applicatie");
    let path = format!("/beheer/applicaties/{boom}");
    let csrf = app.csrf(&c, &path).await;
    let res = post(
        &app,
        &c,
        &path,
        &[
            ("_csrf", csrf.clone()),
            ("klantnaam", "".into()),
            ("klantcode", "MET SPATIE".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("id=\"klantnaam-fout\"") && body.contains("id=\"klantcode-fout\""));
    assert!(body.contains("value=\"MET SPATIE\""));
    let res = post(
        &app,
        &c,
        &path,
        &[
            ("_csrf", csrf),
            ("klantnaam", "Boom testcentrum".into()),
            ("klantcode", "BOOM-2027".into()),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let a = app.app.applicatie_by_id(&boom).await.unwrap().unwrap();
    assert_eq!(a.klantcode, "BOOM-2027");
    let mut conn = app.app.db.conn().await.unwrap();
    let audited = startblok_db::audit::recent(&mut conn, 20).await.unwrap();
    assert!(
        audited.iter().any(
            |e| e.action == "applicatie.gewijzigd" && e.actor == Who::Operator.email().unwrap()
        )
    );
}

#[tokio::test]
async fn a_key_link_for_another_school_and_a_made_up_link_say_what_to_do() {
    let app = spawn_sqlite().await;
    let school_a = app
        .app
        .school_by_code(&SCHOOL_A.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let link = app
        .app
        .prepare_key_link(school_a.id, "boom", &startblok_app::Actor::cli())
        .await
        .unwrap();
    let path = link.trim_start_matches(&app.url(""));
    // Beheerder of School Bravo only: not theirs; the link stays unused.
    let c = app.client_as(Who::BeheerderB).await;
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Alleen een beheerder van School Alfa")
    );
    let csrf = app.csrf(&c, "/account/wachtwoord").await;
    let res = post(&app, &c, path, &[("_csrf", csrf)]).await;
    assert_eq!(res.status(), 403);
    let c = app.client_as(Who::BeheerderA).await;
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "still usable by its own school");
    let res = c.get(app.url("/sleutel/verzonnen")).send().await.unwrap();
    assert_eq!(res.status(), 410);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("Deze link werkt niet") && body.contains("Boom testcentrum"),
        "{body}"
    );
    // Not logged in: to the login page, and back here after it.
    let res = app.client().get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/inloggen")
    );
}

/// What a handmade request gets (found by review): a form field sent twice gets a Dutch page, not
/// English text, and a request id that is no id gets 404, not a crash.
#[tokio::test]
async fn unreadable_requests_get_a_dutch_answer() {
    let app = spawn_sqlite().await;
    let c = app.client();
    let res = c
        .post(app.url("/koppeling-aanvragen"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("soort=nieuw&soort=bestaand")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("Formulier niet te lezen"), "{body}");
    let op = app.client_as(Who::Operator).await;
    let csrf = app.csrf(&op, "/beheer/aanvragen").await;
    let res = post(
        &app,
        &op,
        "/beheer/aanvragen/x%0d%0aSet-Cookie:%20a=b",
        &[("_csrf", csrf), ("actie", "iets".into())],
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = op
        .get(app.url("/beheer/aanvragen/geen-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// The demo school's koppeling is active with the manual's example key, marked as a demo key, and
/// only its last 4 characters are shown.
#[tokio::test]
async fn the_demo_koppeling_shows_its_example_key_as_such() {
    let app = spawn_sqlite().await;
    app.app.seed_demo().await.unwrap();
    let c = app.client();
    let res = c
        .post(app.url("/inloggen"))
        .form(&[
            ("email", "beheerder@demo.startblok.nl"),
            ("wachtwoord", startblok_app::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = c
        .get(app.url("/s/99ZZ-00/instellingen/boom-testcentrum"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sleutel uitgegeven"), "{page}");
    assert!(page.contains("…hsdd") && page.contains("demosleutel uit de handleiding"));
    assert!(!page.contains(startblok_app::koppelingen::DEMO_KEY));
}

/// Instellingen > Toetsdoelen & normen: the grid shows norms and gaps; a bad file is refused whole
/// with every line at the file field; a good file is read; the export gives the CSV back.
#[tokio::test]
async fn normen_are_shown_imported_with_line_errors_and_exported() {
    for app in spawn_all().await {
        let c = app.client_as(Who::BeheerderA).await;
        let path = format!("/s/{SCHOOL_A}/instellingen/normen");
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("DOEL-T") && page.contains("ontbreekt"),
            "gaps shown"
        );
        let csrf = app.csrf(&c, &path).await;
        let send = |body: &'static str| {
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf.clone())
                .part(
                    "bestand",
                    reqwest::multipart::Part::bytes(body.as_bytes().to_vec())
                        .file_name("normen.csv"),
                );
            c.post(app.url(&path)).multipart(form).send()
        };
        let res = send("toetsdoel,vak,fase,ondergrens,streef\nDOEL-T,Spelling,1,4,9\nDOEL-T,Spelling,2,12,10\n")
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("id=\"bestand-fout\"") && body.contains("Regel 3: "),
            "{body}"
        );
        assert!(body.contains("ontbreekt"), "nothing was stored");
        let res = send("toetsdoel,vak,fase,ondergrens,streef\nDOEL-T,Spelling,1,4,9\nDOEL-T,Spelling,2,10,\"15,5\"\n")
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let page = c
            .get(app.url(res.headers()["location"].to_str().unwrap()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("2 normen ingelezen") && page.contains("10 – 15,5"),
            "{page}"
        );
        let csv = c
            .get(app.url(&format!("{path}.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            csv,
            "toetsdoel,vak,fase,ondergrens,streef\nDOEL-T,Spelling,1,4,9\nDOEL-T,Spelling,2,10,\"15,5\"\n"
        );
    }
}

/// Reloading the page that showed a new key sends its form again: no second key is made, and the
/// page says why.
#[tokio::test]
async fn a_repeated_new_key_form_makes_no_second_key() {
    let app = spawn_sqlite().await;
    app.app.seed_demo().await.unwrap();
    let c = app.client();
    c.post(app.url("/inloggen"))
        .form(&[
            ("email", "beheerder@demo.startblok.nl"),
            ("wachtwoord", startblok_app::demo::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let path = "/s/99ZZ-00/instellingen/boom-testcentrum";
    let page = c
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::extract_csrf(&page).unwrap();
    let huidige = page
        .split("name=\"huidige\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("actie", "nieuwe-sleutel"),
        ("huidige", huidige.as_str()),
    ];
    let first = c.post(app.url(path)).form(&form).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.text().await.unwrap().contains("Je nieuwe sleutel"));
    let keys = || async {
        let s = app
            .app
            .school_by_code(&"99ZZ-00".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        app.app.koppeling_status(s.id).await.unwrap()[0]
            .valid_keys
            .len()
    };
    let after_first = keys().await;
    // The same form again, as a reload sends it.
    let again = c.post(app.url(path)).form(&form).send().await.unwrap();
    assert_eq!(again.status(), 303);
    let to = again.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?verouderd=1"), "{to}");
    assert_eq!(keys().await, after_first, "no second key");
    let page = c
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Er is geen nieuwe sleutel gemaakt"), "{page}");
}
