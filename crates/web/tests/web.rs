//! HTTP behaviour of login, sessions, forms and pages, against the real app.

mod common;

use common::{PASSWORD, SCHOOL_A, Who, extract_csrf, spawn_all, spawn_sqlite};
use startblok_app::Actor;

#[tokio::test]
async fn wrong_password_unknown_email_and_disabled_account_look_the_same() {
    for app in spawn_all().await {
        let acc = app
            .app
            .create_school_user(
                &SCHOOL_A.parse().unwrap(),
                "weg@test.nl",
                None,
                startblok_domain::Role::Leerkracht,
                Some(PASSWORD),
                &Actor::cli(),
            )
            .await
            .unwrap();
        app.app
            .set_user_disabled(acc.user.id, true, &Actor::cli())
            .await
            .unwrap();
        let mut seen = Vec::new();
        for (email, pw) in [
            ("beheerder-a@test.nl", "fout-wachtwoord"),
            ("niemand@test.nl", PASSWORD),
            ("weg@test.nl", PASSWORD),
        ] {
            let res = app
                .client()
                .post(app.url("/inloggen"))
                .form(&[("email", email), ("wachtwoord", pw)])
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert!(
                body.contains("Het e-mailadres of het wachtwoord klopt niet."),
                "{email}"
            );
            assert!(
                body.contains(&format!("value=\"{email}\"")),
                "the e-mail address is kept"
            );
            assert!(body.contains("<title>Fout: Inloggen"), "title says Fout:");
            seen.push(status);
        }
        assert!(seen.iter().all(|s| *s == 401), "{seen:?}");
    }
}

#[tokio::test]
async fn an_incomplete_login_form_comes_back_with_each_error_at_its_field() {
    let app = spawn_sqlite().await;
    let res = app
        .client()
        .post(app.url("/inloggen"))
        .form(&[("email", "  juf@school.nl"), ("wachtwoord", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("href=\"#wachtwoord\">Vul je wachtwoord in.</a>"),
        "summary links to the field"
    );
    assert!(
        body.contains("id=\"wachtwoord-fout\""),
        "message at the field"
    );
    assert!(body.contains("aria-describedby=\"wachtwoord-fout\""));
    assert!(
        body.contains("value=\"  juf@school.nl\""),
        "input kept as typed"
    );
    let res = app
        .client()
        .post(app.url("/inloggen"))
        .form(&[("email", ""), ("wachtwoord", "")])
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.contains("Vul je e-mailadres in.") && body.contains("Vul je wachtwoord in."));
}

#[tokio::test]
async fn login_sets_a_safe_cookie_goes_back_where_you_were_and_logout_ends_it() {
    for app in spawn_all().await {
        let c = app.client();
        let res = c
            .get(app.url("/s/11AA-00/instellingen"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["location"],
            "/inloggen?terug=%2Fs%2F11AA-00%2Finstellingen"
        );
        let res = c
            .post(app.url("/inloggen"))
            .form(&[
                ("email", "Beheerder-A@test.nl"),
                ("wachtwoord", PASSWORD),
                ("terug", "/s/11AA-00/instellingen"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/s/11AA-00/instellingen");
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert_eq!(
            c.get(app.url("/s/11AA-00/instellingen"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );

        let csrf = app.csrf(&c, "/s/11AA-00").await;
        let res = c
            .post(app.url("/uitloggen"))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = c.get(app.url("/s/11AA-00")).send().await.unwrap();
        assert_eq!(res.status(), 303, "the session is gone after logout");
    }
}

#[tokio::test]
async fn login_never_redirects_to_another_site() {
    let app = spawn_sqlite().await;
    for terug in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let res = app
            .client()
            .post(app.url("/inloggen"))
            .form(&[
                ("email", "ib-a@test.nl"),
                ("wachtwoord", PASSWORD),
                ("terug", terug),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/", "{terug}");
    }
}

#[tokio::test]
async fn state_changes_need_the_session_token_and_our_own_origin() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::IbA).await;
    let form = [
        ("huidig", PASSWORD),
        ("nieuw", "een-nieuw-wachtwoord"),
        ("herhaling", "een-nieuw-wachtwoord"),
    ];
    let res = c
        .post(app.url("/account/wachtwoord"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no token");
    let mut with_bad = form.to_vec();
    with_bad.push(("_csrf", "vervalst"));
    assert_eq!(
        c.post(app.url("/account/wachtwoord"))
            .form(&with_bad)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let csrf = app.csrf(&c, "/account/wachtwoord").await;
    let mut with_good = form.to_vec();
    with_good.push(("_csrf", csrf.as_str()));
    let res = c
        .post(app.url("/account/wachtwoord"))
        .header("Origin", "https://evil.example")
        .form(&with_good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "another site's origin");
    let res = c
        .post(app.url("/account/wachtwoord"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&with_good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "cross-site fetch metadata");
    // What Chromium sends for its own form under Referrer-Policy: no-referrer.
    let res = c
        .post(app.url("/account/wachtwoord"))
        .header("Origin", "null")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&with_good)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "a same-origin post with Origin: null is ours"
    );
    assert!(
        app.app
            .login("ib-a@test.nl", "een-nieuw-wachtwoord", "127.0.0.9")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn changing_the_password_explains_every_error_and_logs_out_other_browsers() {
    for app in spawn_all().await {
        let c = app.client_as(Who::LeerkrachtA).await;
        let other = app.client_as(Who::LeerkrachtA).await;
        let csrf = app.csrf(&c, "/account/wachtwoord").await;
        let res = c
            .post(app.url("/account/wachtwoord"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("huidig", "fout"),
                ("nieuw", "kort"),
                ("herhaling", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(
            body.contains("Kies een wachtwoord van minstens 8 tekens."),
            "policy at the field"
        );
        let res = c
            .post(app.url("/account/wachtwoord"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("huidig", "fout"),
                ("nieuw", "goed-genoeg-nu"),
                ("herhaling", "goed-genoeg-nu"),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Het huidige wachtwoord klopt niet.")
        );
        let res = c
            .post(app.url("/account/wachtwoord"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("huidig", PASSWORD),
                ("nieuw", "goed-genoeg-nu"),
                ("herhaling", "goed-genoeg-nu"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/account/wachtwoord?gewijzigd=1");
        let page = c
            .get(app.url("/account/wachtwoord?gewijzigd=1"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Je wachtwoord is gewijzigd."),
            "this browser stays logged in"
        );
        assert_eq!(
            other
                .get(app.url("/account/wachtwoord"))
                .send()
                .await
                .unwrap()
                .status(),
            303,
            "the other is logged out"
        );
    }
}

#[tokio::test]
async fn an_invitation_link_lets_a_new_user_choose_a_password_once() {
    for app in spawn_all().await {
        let acc = app
            .app
            .create_school_user(
                &SCHOOL_A.parse().unwrap(),
                "nieuw@test.nl",
                Some("Nieuwe Juf"),
                startblok_domain::Role::Leerkracht,
                None,
                &Actor::cli(),
            )
            .await
            .unwrap();
        let link = acc.link.unwrap();
        let path = link.strip_prefix(&app.url("")).unwrap().to_string();
        let c = app.client();
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Hallo Nieuwe Juf"));
        let res = c
            .post(app.url(&path))
            .form(&[("wachtwoord", "mijn-wachtwoord-9"), ("herhaling", "anders")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("De twee wachtwoorden zijn niet gelijk.")
        );
        let res = c
            .post(app.url(&path))
            .form(&[
                ("wachtwoord", "mijn-wachtwoord-9"),
                ("herhaling", "mijn-wachtwoord-9"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            c.get(app.url("/")).send().await.unwrap().headers()["location"],
            "/s/11AA-00"
        );
        assert_eq!(
            app.client()
                .get(app.url(&path))
                .send()
                .await
                .unwrap()
                .status(),
            410,
            "used once"
        );
    }
}

#[tokio::test]
async fn a_user_of_two_schools_switches_between_them() {
    let app = spawn_sqlite().await;
    app.app
        .create_school_user(
            &"22BB-00".parse().unwrap(),
            "beheerder-a@test.nl",
            None,
            startblok_domain::Role::Ib,
            None,
            &Actor::cli(),
        )
        .await
        .unwrap();
    let c = app.client_as(Who::BeheerderA).await;
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().headers()["location"],
        "/s/11AA-00"
    );
    let page = c
        .get(app.url("/account/scholen"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("School Alfa") && page.contains("School Bravo"));
    let csrf = extract_csrf(&page).unwrap();
    let res = c
        .post(app.url("/account/scholen"))
        .form(&[("_csrf", csrf.as_str()), ("school", "22BB-00")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/s/22BB-00");
    assert_eq!(
        c.get(app.url("/")).send().await.unwrap().headers()["location"],
        "/s/22BB-00"
    );
    let page = c
        .get(app.url("/s/22BB-00"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("School Bravo") && page.contains("IB&#39;er"),
        "school and role shown: {page}"
    );
    // A school the user does not belong to cannot be chosen.
    let res = c
        .post(app.url("/account/scholen"))
        .form(&[("_csrf", csrf.as_str()), ("school", "33CC-00")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn pages_carry_security_headers_and_are_not_cached() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    let res = c
        .get(app.url("/s/11AA-00/instellingen/gebruikers"))
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
    );
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "no inline script or style"
    );
    let css = c
        .get(app.url("/static/startblok.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn names_are_escaped_and_survive_in_any_script() {
    let app = spawn_sqlite().await;
    app.app
        .create_school_user(
            &SCHOOL_A.parse().unwrap(),
            "x@test.nl",
            Some("<script>alert(1)</script> Łukasz محمد"),
            startblok_domain::Role::Ib,
            None,
            &Actor::cli(),
        )
        .await
        .unwrap();
    let c = app.client_as(Who::BeheerderA).await;
    let body = c
        .get(app.url("/s/11AA-00/instellingen/gebruikers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("&#60;script&#62;alert(1)&#60;/script&#62; Łukasz محمد"),
        "{body}"
    );
    assert!(!body.contains("<script>alert(1)"));
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_dutch_404() {
    let app = spawn_sqlite().await;
    let res = app
        .client()
        .get(app.url("/bestaat-niet"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"nl\"")
            && body.contains("Pagina niet gevonden")
            && body.contains("Naar de startpagina")
    );
}

#[tokio::test]
async fn the_health_check_answers() {
    let app = spawn_sqlite().await;
    let res = app
        .client()
        .get(app.url("/gezondheid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_leerkracht_cannot_reach_pupils_of_other_groups_and_an_ib_er_cannot_save() {
    use startblok_app::pupils::{BasisInput, InSchool};
    for app in spawn_all().await {
        // A second group at School Alfa, without leerkracht A, with a pupil.
        let school = app
            .app
            .school_by_code(&SCHOOL_A.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let team = app.app.team(school.id).await.unwrap();
        let b = team
            .iter()
            .find(|m| m.user.email == "beheerder-a@test.nl")
            .unwrap();
        let who = InSchool {
            school: school.id,
            actor: Actor::user(b.user.id, &b.user.email, "127.0.0.1"),
            roles: vec![startblok_domain::Role::Beheerder],
        };
        let input = startblok_app::groups::GroupInput {
            naam: "Groep 2".into(),
            ..Default::default()
        };
        let other_group = app
            .app
            .save_group(school.id, None, &input, &who.actor)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let pupil = BasisInput {
            achternaam: "Anders".into(),
            groep: other_group,
            ..Default::default()
        };
        let other = app.app.create_pupil(&who, &pupil).await.unwrap().unwrap();
        let own = app.object(SCHOOL_A, "leerling");

        let lk = app.client_as(Who::LeerkrachtA).await;
        let list = lk
            .get(app.url("/s/11AA-00/leerlingen"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            list.contains("Leerling van 11AA-00") && !list.contains("Anders"),
            "only their own group"
        );
        let res = lk
            .get(app.url(&format!("/s/11AA-00/leerlingen/{other}/basis")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let csrf = app
            .csrf(&lk, &format!("/s/11AA-00/leerlingen/{own}/basis"))
            .await;
        let res = lk
            .post(app.url(&format!("/s/11AA-00/leerlingen/{other}/basis")))
            .form(&[("_csrf", csrf.as_str()), ("boom_leerlingnummer", "123")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "no saving another group's pupil");
        // Their own pupil they can change, and the change is kept.
        let res = lk
            .post(app.url(&format!("/s/11AA-00/leerlingen/{own}/basis")))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("achternaam", "Leerling van 11AA-00"),
                ("boom_leerlingnummer", "00123"),
                ("thuistalen", "Pools"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let page = lk
            .get(app.url(&format!("/s/11AA-00/leerlingen/{own}/basis")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("value=\"00123\"") && page.contains("value=\"Pools\""));

        let ib = app.client_as(Who::IbA).await;
        let page = ib
            .get(app.url(&format!("/s/11AA-00/leerlingen/{other}/basis")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "an ib'er reads every pupil");
        let body = page.text().await.unwrap();
        assert!(
            !body.contains("<form method=\"post\" action=\"/s/11AA-00/leerlingen/"),
            "but gets no form"
        );
    }
}

#[tokio::test]
async fn an_oversized_upload_is_answered_in_dutch_at_the_field() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    let csrf = app
        .csrf(&c, "/s/11AA-00/instellingen/boomnummers/bestand")
        .await;
    for size in [2 * 1024 * 1024 + 10, 5 * 1024 * 1024] {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .part(
                "bestand",
                reqwest::multipart::Part::bytes(vec![b'a'; size]).file_name("groot.csv"),
            );
        let res = c
            .post(app.url("/s/11AA-00/instellingen/boomnummers/bestand"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = res.text().await.unwrap();
        match location {
            Some(to) => {
                assert_eq!(status, 303);
                let page = c
                    .get(app.url(&to))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                assert!(
                    page.contains("Het bestand is groter dan 2 MB"),
                    "{size}: {page}"
                );
            }
            None => {
                assert_eq!(status, 413, "{size}");
                assert!(
                    body.contains("<html lang=\"nl\"") && body.contains("Te veel gegevens"),
                    "{size}: {body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_bulk_save_with_an_unknown_pupil_says_why_nothing_was_saved() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    let csrf = app.csrf(&c, "/s/11AA-00/instellingen/boomnummers").await;
    let other = format!("n_{}", app.object(common::SCHOOL_B, "leerling"));
    let res = c
        .post(app.url("/s/11AA-00/instellingen/boomnummers"))
        .form(&[("_csrf", csrf.as_str()), (other.as_str(), "42")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("staan niet (meer) in deze lijst"), "{body}");
}

/// Found by a hostile test: a connection that sends part of a request line and then nothing held
/// its socket for ever, and 20,000 of them ran the server out of file descriptors for every
/// user. A connection that does not finish its headers in time is now closed; a complete
/// request on another connection is served meanwhile.
#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = startblok_db::testing::TestDb::sqlite().await;
    let app = startblok_app::App::new(
        db.db.clone(),
        startblok_app::Settings::new("http://127.0.0.1"),
    );
    let server = startblok_web::Server::bind(app, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_header_timeout(std::time::Duration::from_secs(1));
    let addr = server.spawn();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"POST /uwlr/v2/leerresultaten HTTP/1.1\r\n")
        .await
        .unwrap();
    let res = reqwest::get(format!("http://{addr}/gezondheid"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "others are served meanwhile");
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        slow.read_to_end(&mut buf),
    )
    .await;
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the unfinished request is cut off after the header timeout"
    );
}
