//! Step 1 of the manual on SQLite and (when configured) PostgreSQL, with mail through a real SMTP
//! server: the order form, the operator processing it, the key link that shows the key once,
//! password reset, and that no key is ever in the database or a mail.

use startblok_app::aanvragen::{AanvraagError, AanvraagInput, MAX_PER_HOUR};
use startblok_app::koppelingen::{BOOM, KeyLinkError, KeyLinkState, NamedSchool};
use startblok_app::mail::Mailer;
use startblok_app::{Actor, App, Settings, now};
use startblok_db::testing::TestDb;
use startblok_testsmtp::{Received, TestSmtp};

fn form() -> AanvraagInput {
    AanvraagInput {
        soort: "nieuw".into(),
        schoolnaam: "De Regenboog (nieuwkomers)".into(),
        brin: "12ab".into(),
        dependance: "".into(),
        contactnaam: "Ayşe Yılmaz".into(),
        email: "Ayse@Regenboog.example".into(),
        telefoon: "030 123 45 67".into(),
        las: "parnassys".into(),
        opmerking: "Graag voor de toetsweek.".into(),
    }
}

/// The first link in a mail's plain text.
fn link_in(m: &Received) -> String {
    m.text()
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http://") || l.starts_with("https://"))
        .unwrap_or_else(|| panic!("no link in {}", m.text()))
        .to_string()
}

fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_request_is_confirmed_processed_and_its_key_fetched_once() {
    for t in TestDb::all().await {
        let smtp = TestSmtp::start().await;
        let app = App::new(t.db.clone(), Settings::new("https://startblok.test"))
            .with_mailer(Mailer::smtp(&smtp.url(), "Startblok <noreply@startblok.test>").unwrap());

        // Bad input: every error at its field, nothing stored.
        let mut bad = form();
        bad.brin = "1234".into();
        bad.email = "geen-adres".into();
        bad.telefoon = "12".into();
        bad.las = "".into();
        match app.submit_aanvraag(&bad, "10.0.0.1").await {
            Err(AanvraagError::Invalid(e)) => {
                for field in ["brin", "email", "telefoon", "las"] {
                    assert!(!e.get(field).is_empty(), "{field}: {e:?}");
                }
                assert!(e.get("schoolnaam").is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(app.aanvragen("open").await.unwrap().is_empty());

        let a = app.submit_aanvraag(&form(), "10.0.0.1").await.unwrap();
        assert_eq!((a.brin.as_str(), a.dependance.as_str()), ("12AB", "00"));
        let confirm = smtp.wait_for("ayse@regenboog.example", "Uw aanvraag").await;
        assert!(confirm.text().contains("Beste Ayşe Yılmaz"));
        assert!(confirm.text().contains("12AB-00"));
        assert_eq!(app.aanvragen("open").await.unwrap().len(), 1);

        // The operator sees it is a new school, and processes it.
        let view = app.aanvraag(&a.id).await.unwrap();
        assert!(view.school.is_none() && !view.active_koppeling);
        let operator = Actor::cli();
        let done = app.process_aanvraag(&a.id, &operator).await.unwrap();
        assert!(done.school_created && done.invited);
        assert!(matches!(
            app.process_aanvraag(&a.id, &operator).await,
            Err(AanvraagError::AlreadyDecided)
        ));
        assert!(app.aanvragen("open").await.unwrap().is_empty());
        assert_eq!(app.aanvragen("verwerkt").await.unwrap().len(), 1);

        // Two mails: the invitation to set a password, and the key link (never the key).
        let welcome = smtp.wait_for("ayse@regenboog.example", "Welkom").await;
        let session = app
            .complete_link(
                &token_of(&link_in(&welcome)),
                "een-lang-wachtwoord-1",
                "10.0.0.1",
            )
            .await
            .unwrap();
        let keymail = smtp.wait_for("ayse@regenboog.example", "staat klaar").await;
        let link = link_in(&keymail);
        assert!(
            link.starts_with("https://startblok.test/sleutel/"),
            "{link}"
        );
        let token = token_of(&link);
        assert!(matches!(
            app.key_link(&token).await.unwrap(),
            KeyLinkState::Ready { .. }
        ));

        // Another school's Beheerder cannot use it; this school's Beheerder can, once.
        let user = Actor::user(session.user.id, &session.user.email, "10.0.0.1");
        assert!(matches!(
            app.redeem_key_link(&token, &[], &user).await,
            Err(KeyLinkError::NotYours)
        ));
        let key = app
            .redeem_key_link(&token, &[done.school.id], &user)
            .await
            .unwrap();
        assert!(matches!(
            app.redeem_key_link(&token, &[done.school.id], &user).await,
            Err(KeyLinkError::Used)
        ));
        assert!(matches!(
            app.key_link(&token).await.unwrap(),
            KeyLinkState::Used
        ));
        assert!(matches!(
            app.key_link("onbekend").await.unwrap(),
            KeyLinkState::Unknown
        ));
        let here = NamedSchool {
            brincode: Some("12AB".into()),
            ..Default::default()
        };
        assert!(
            app.authenticate_uwlr(key.reveal(), "BOOM", "Boom testcentrum", &here, now())
                .await
                .is_ok()
        );

        // The key is in no mail and nowhere in the database.
        for m in smtp.messages() {
            assert!(!m.everything().contains(key.reveal()), "key in a mail");
        }
        assert_eq!(t.find_text(key.reveal()).await, Vec::<String>::new());

        // A second request for the same school: the operator sees the koppeling is active.
        let mut again = form();
        again.soort = "bestaand".into();
        let b = app.submit_aanvraag(&again, "10.0.0.2").await.unwrap();
        let view = app.aanvraag(&b.id).await.unwrap();
        assert_eq!(view.school.as_ref().map(|s| s.id), Some(done.school.id));
        assert!(view.active_koppeling);
        app.reject_aanvraag(&b.id, &operator).await.unwrap();
        assert_eq!(app.aanvragen("afgewezen").await.unwrap().len(), 1);

        let mut c = app.db.conn().await.unwrap();
        let actions: Vec<String> = startblok_db::audit::recent(&mut c, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "aanvraag.ontvangen",
            "aanvraag.verwerkt",
            "aanvraag.afgewezen",
            "koppeling.sleutellink.gemaakt",
            "koppeling.sleutel.bekeken",
        ] {
            assert!(actions.contains(&a.to_string()), "{a} audited");
        }
    }
}

#[tokio::test]
async fn the_form_is_limited_per_sender() {
    let t = TestDb::sqlite().await;
    let app = App::new(t.db.clone(), Settings::new("https://startblok.test"));
    for _ in 0..MAX_PER_HOUR {
        app.submit_aanvraag(&form(), "10.9.9.9").await.unwrap();
    }
    assert!(matches!(
        app.submit_aanvraag(&form(), "10.9.9.9").await,
        Err(AanvraagError::TooMany)
    ));
    app.submit_aanvraag(&form(), "10.9.9.8").await.unwrap();
}

#[tokio::test]
async fn a_key_link_expires_after_a_day_and_a_later_key_replaces_with_grace() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("https://startblok.test"));
        let school = app
            .create_school("School", &"33CC-00".parse().unwrap(), None, &Actor::cli())
            .await
            .unwrap();
        let first = app
            .activate_koppeling(school.id, BOOM, &Actor::cli())
            .await
            .unwrap();
        let link = app
            .prepare_key_link(school.id, BOOM, &Actor::cli())
            .await
            .unwrap();
        let token = token_of(&link);
        // Make the link a day old.
        let mut c = app.db.conn().await.unwrap();
        sqlx::query("UPDATE key_links SET expires_at = $1")
            .bind(startblok_db::format_ts(now() - time::Duration::seconds(1)))
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        assert!(matches!(
            app.key_link(&token).await.unwrap(),
            KeyLinkState::Expired
        ));
        assert!(matches!(
            app.redeem_key_link(&token, &[school.id], &Actor::cli())
                .await,
            Err(KeyLinkError::Expired)
        ));
        // A fresh link: the new key works, the first keeps working for the grace period.
        let link = app
            .prepare_key_link(school.id, BOOM, &Actor::cli())
            .await
            .unwrap();
        let second = app
            .redeem_key_link(&token_of(&link), &[school.id], &Actor::cli())
            .await
            .unwrap();
        assert!(second.previous_valid_until.is_some());
        let status = &app.koppeling_status(school.id).await.unwrap()[0];
        assert_eq!(status.valid_keys.len(), 2);
        assert_ne!(first.last4, "");
    }
}

#[tokio::test]
async fn password_reset_mails_a_link_only_for_an_account_and_says_the_same_either_way() {
    for t in TestDb::all().await {
        let smtp = TestSmtp::start().await;
        let app = App::new(t.db.clone(), Settings::new("https://startblok.test"))
            .with_mailer(Mailer::smtp(&smtp.url(), "noreply@startblok.test").unwrap());
        app.create_operator(
            "op@startblok.test",
            Some("Op"),
            Some("een-lang-wachtwoord-1"),
            &Actor::cli(),
        )
        .await
        .unwrap();
        app.request_password_reset("niemand@startblok.test", "10.0.0.1")
            .await
            .unwrap();
        app.request_password_reset("OP@startblok.test", "10.0.0.1")
            .await
            .unwrap();
        let m = smtp.wait_for("op@startblok.test", "Nieuw wachtwoord").await;
        assert_eq!(smtp.messages().len(), 1, "nothing to an unknown address");
        let s = app
            .complete_link(
                &token_of(&link_in(&m)),
                "een-ander-wachtwoord-2",
                "10.0.0.1",
            )
            .await
            .unwrap();
        assert_eq!(s.user.email, "op@startblok.test");
        // At most three an hour.
        for _ in 0..5 {
            app.request_password_reset("op@startblok.test", "10.0.0.1")
                .await
                .unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().len(), 3);
    }
}

/// A mail server that is down loses nothing: processing says the mail did not go out, and the
/// operator sends a fresh key link once it is back.
#[tokio::test]
async fn a_failed_mail_is_reported_and_the_key_link_can_be_sent_again() {
    for t in TestDb::all().await {
        // Nothing listens on port 9 of this machine (discard is not running): sending fails.
        let down = App::new(t.db.clone(), Settings::new("https://startblok.test"))
            .with_mailer(Mailer::smtp("smtp://127.0.0.1:9", "noreply@startblok.test").unwrap());
        let a = down.submit_aanvraag(&form(), "10.0.0.1").await.unwrap();
        let done = down.process_aanvraag(&a.id, &Actor::cli()).await.unwrap();
        assert!(!done.mailed, "the failed mail is reported");
        assert_eq!(
            down.aanvragen("verwerkt").await.unwrap().len(),
            1,
            "the rest is done"
        );

        let smtp = TestSmtp::start().await;
        let up = App::new(t.db.clone(), Settings::new("https://startblok.test"))
            .with_mailer(Mailer::smtp(&smtp.url(), "noreply@startblok.test").unwrap());
        assert!(up.resend_key_link(&a.id, &Actor::cli()).await.unwrap());
        let m = smtp.wait_for("ayse@regenboog.example", "staat klaar").await;
        let key = up
            .redeem_key_link(&token_of(&link_in(&m)), &[done.school.id], &Actor::cli())
            .await
            .unwrap();
        assert!(key.reveal().starts_with("sbk_"));
        // Only a processed request can get a new link.
        let open = up.submit_aanvraag(&form(), "10.0.0.3").await.unwrap();
        assert!(matches!(
            up.resend_key_link(&open.id, &Actor::cli()).await,
            Err(AanvraagError::NotFound)
        ));
    }
}

/// A request for a school that exists makes nobody beheerder: the key link goes to the school's
/// own beheerders (found by the review: the form was a way into a school).
#[tokio::test]
async fn a_request_for_an_existing_school_makes_nobody_beheerder() {
    use startblok_domain::Role;
    for t in TestDb::all().await {
        let smtp = TestSmtp::start().await;
        let app = App::new(t.db.clone(), Settings::new("https://startblok.test"))
            .with_mailer(Mailer::smtp(&smtp.url(), "noreply@startblok.test").unwrap());
        let code = "12AB-00".parse().unwrap();
        let school = app
            .create_school("De Regenboog", &code, None, &Actor::cli())
            .await
            .unwrap();
        // Without any beheerder nobody could fetch the key: the operator is told so.
        let mut evil = form();
        evil.soort = "bestaand".into();
        evil.email = "mallory@evil.example".into();
        let a = app.submit_aanvraag(&evil, "10.6.6.6").await.unwrap();
        assert!(matches!(
            app.process_aanvraag(&a.id, &Actor::cli()).await,
            Err(AanvraagError::NoBeheerder)
        ));
        app.create_school_user(
            &code,
            "bea@regenboog.example",
            Some("Bea"),
            Role::Beheerder,
            Some("een-lang-wachtwoord-1"),
            &Actor::cli(),
        )
        .await
        .unwrap();
        app.create_school_user(
            &code,
            "lk@regenboog.example",
            Some("Leo"),
            Role::Leerkracht,
            Some("een-lang-wachtwoord-1"),
            &Actor::cli(),
        )
        .await
        .unwrap();
        let view = app.aanvraag(&a.id).await.unwrap();
        assert!(!view.grants_beheerder);
        assert_eq!(view.recipients, vec!["bea@regenboog.example".to_string()]);
        let done = app.process_aanvraag(&a.id, &Actor::cli()).await.unwrap();
        assert!(!done.invited);
        let team = app.team(school.id).await.unwrap();
        assert!(
            team.iter().all(|m| m.user.email != "mallory@evil.example"),
            "the requester got no account or role"
        );
        smtp.wait_for("bea@regenboog.example", "staat klaar").await;
        assert!(
            smtp.messages()
                .iter()
                .all(|m| !m.rcpt_to.contains(&"mallory@evil.example".to_string())
                    || m.header("Subject").unwrap().contains("Uw aanvraag")),
            "the requester gets only the confirmation"
        );
        // A leerkracht of the school asking gets no beheerder role either.
        let mut lk = form();
        lk.soort = "bestaand".into();
        lk.email = "LK@regenboog.example".into();
        let b = app.submit_aanvraag(&lk, "10.6.6.7").await.unwrap();
        assert_eq!(
            app.aanvraag(&b.id).await.unwrap().recipients,
            vec!["bea@regenboog.example".to_string()]
        );
        app.process_aanvraag(&b.id, &Actor::cli()).await.unwrap();
        let roles: Vec<_> = app
            .team(school.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.user.email == "lk@regenboog.example")
            .flat_map(|m| m.roles)
            .collect();
        assert_eq!(roles, vec![Role::Leerkracht]);
        // A beheerder asking gets the link themselves.
        let mut own = form();
        own.soort = "bestaand".into();
        own.email = "Bea@Regenboog.example".into();
        let c = app.submit_aanvraag(&own, "10.6.6.8").await.unwrap();
        assert_eq!(
            app.aanvraag(&c.id).await.unwrap().recipients,
            vec!["bea@regenboog.example".to_string()]
        );
        // No mail has lines that start with stray spaces.
        for m in smtp.messages() {
            assert!(
                m.text().lines().all(|l| !l.starts_with(' ')),
                "{}",
                m.text()
            );
        }
    }
}

/// Names are checked on the form by the same rules the account uses, so processing never fails
/// halfway; too long is said, never cut.
#[tokio::test]
async fn names_are_refused_on_the_form_not_halfway_through_processing() {
    let t = TestDb::sqlite().await;
    let app = App::new(t.db.clone(), Settings::new("https://startblok.test"));
    let cases: [(&str, String); 4] = [
        ("contactnaam", "\u{1} \u{1}".into()),
        ("contactnaam", "\u{0958}".repeat(200)),
        ("schoolnaam", "\u{200b}\u{200b}".into()),
        ("schoolnaam", "a".repeat(10_000)),
    ];
    for (field, value) in cases {
        let mut f = form();
        match field {
            "contactnaam" => f.contactnaam = value,
            _ => f.schoolnaam = value,
        }
        match app.submit_aanvraag(&f, "10.0.0.1").await {
            Err(AanvraagError::Invalid(e)) => assert!(!e.get(field).is_empty(), "{field}: {e:?}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Direction marks are removed from names (they could make an address read backwards).
    let mut f = form();
    f.contactnaam = "Ayşe \u{202e}Yılmaz".into();
    let a = app.submit_aanvraag(&f, "10.0.0.1").await.unwrap();
    assert_eq!(a.contactnaam, "Ayşe Yılmaz");
    assert!(app.aanvragen("open").await.unwrap().len() == 1);
}
