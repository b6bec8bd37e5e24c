//! Use-case tests on SQLite and (when configured) PostgreSQL.

use startblok_app::auth::{LinkError, LoginError, MAX_FAILURES_PER_ACCOUNT, PasswordChangeError};
use startblok_app::provisioning::ProvisionError;
use startblok_app::{Actor, App, Settings, demo};
use startblok_db::testing::TestDb;
use startblok_db::{audit, schools, sessions, users};
use startblok_domain::{Role, SchoolCode};

fn app(t: &TestDb) -> App {
    App::new(t.db.clone(), Settings::new("http://startblok.test"))
}

fn code(s: &str) -> SchoolCode {
    s.parse().unwrap()
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_school("School", &code("11AA-00"), None, &Actor::cli())
            .await
            .unwrap();
        let ok = app
            .create_school_user(
                &code("11AA-00"),
                "juf@school.nl",
                Some("Juf"),
                Role::Leerkracht,
                Some("lang-genoeg-1"),
                &Actor::cli(),
            )
            .await
            .unwrap();
        let off = app
            .create_school_user(
                &code("11AA-00"),
                "weg@school.nl",
                None,
                Role::Leerkracht,
                Some("lang-genoeg-1"),
                &Actor::cli(),
            )
            .await
            .unwrap();
        app.set_user_disabled(off.user.id, true, &Actor::cli())
            .await
            .unwrap();

        let session = app
            .login("JUF@school.nl", "lang-genoeg-1", "10.0.0.1")
            .await
            .unwrap();
        assert_eq!(session.user.id, ok.user.id);
        let who = app.session_user(&session.token).await.unwrap().unwrap();
        assert_eq!(who.roles_at(who.schools[0].0.id), &[Role::Leerkracht]);

        let answers: Vec<String> = [
            app.login("juf@school.nl", "fout-wachtwoord", "10.0.0.2")
                .await,
            app.login("niemand@school.nl", "lang-genoeg-1", "10.0.0.3")
                .await,
            app.login("weg@school.nl", "lang-genoeg-1", "10.0.0.4")
                .await,
        ]
        .into_iter()
        .map(|r| match r {
            Err(e @ LoginError::Rejected) => e.to_string(),
            other => panic!("expected a rejection, got {other:?}"),
        })
        .collect();
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        assert_eq!(answers[0], "Het e-mailadres of het wachtwoord klopt niet.");

        // The audit log names the account by id, never shows the password.
        let mut c = t.db.conn().await.unwrap();
        let log = audit::recent(&mut c, 50).await.unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "login" && e.object_id == Some(ok.user.id.to_string()))
        );
        assert_eq!(
            log.iter().filter(|e| e.action == "login.mislukt").count(),
            3
        );
    }
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_with_the_right_password() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_operator("op@x.nl", None, Some("heel-geheim-1"), &Actor::cli())
            .await
            .unwrap();
        for i in 0..MAX_FAILURES_PER_ACCOUNT {
            let r = app.login("op@x.nl", "fout", &format!("10.1.0.{i}")).await;
            assert!(matches!(r, Err(LoginError::Rejected)));
        }
        let r = app.login("op@x.nl", "heel-geheim-1", "10.1.1.1").await;
        assert!(matches!(r, Err(LoginError::Throttled)), "{r:?}");
        // Another account is not affected.
        app.create_operator("op2@x.nl", None, Some("heel-geheim-2"), &Actor::cli())
            .await
            .unwrap();
        assert!(
            app.login("op2@x.nl", "heel-geheim-2", "10.1.1.1")
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_operator("op@x.nl", None, Some("heel-geheim-1"), &Actor::cli())
            .await
            .unwrap();
        let a = app
            .login("op@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        let b = app
            .login("op@x.nl", "heel-geheim-1", "1.1.1.2")
            .await
            .unwrap();
        assert_ne!(a.token, b.token, "a new token at every login");
        let who = app.session_user(&a.token).await.unwrap().unwrap();
        let actor = Actor::user(who.user.id, &who.user.email, "1.1.1.1");

        let wrong = app
            .change_password(&who, "niet-goed", "nieuw-geheim-9", &actor)
            .await;
        assert!(matches!(wrong, Err(PasswordChangeError::WrongCurrent)));
        let weak = app
            .change_password(&who, "heel-geheim-1", "welkom123", &actor)
            .await;
        assert!(matches!(weak, Err(PasswordChangeError::Policy(_))));

        let fresh = app
            .change_password(&who, "heel-geheim-1", "nieuw-geheim-9", &actor)
            .await
            .unwrap();
        assert!(app.session_user(&a.token).await.unwrap().is_none());
        assert!(app.session_user(&b.token).await.unwrap().is_none());
        assert!(app.session_user(&fresh).await.unwrap().is_some());
        assert!(
            app.login("op@x.nl", "heel-geheim-1", "1.1.1.3")
                .await
                .is_err()
        );
        assert!(
            app.login("op@x.nl", "nieuw-geheim-9", "1.1.1.3")
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_logout_ends_one() {
    for t in TestDb::all().await {
        let app = app(&t);
        let acc = app
            .create_operator("op@x.nl", None, Some("heel-geheim-1"), &Actor::cli())
            .await
            .unwrap();
        let a = app
            .login("op@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        let b = app
            .login("op@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        app.logout(&a.token, &Actor::anonymous("1.1.1.1"))
            .await
            .unwrap();
        assert!(app.session_user(&a.token).await.unwrap().is_none());
        assert!(app.session_user(&b.token).await.unwrap().is_some());
        app.set_user_disabled(acc.user.id, true, &Actor::cli())
            .await
            .unwrap();
        assert!(app.session_user(&b.token).await.unwrap().is_none());
        let mut c = t.db.conn().await.unwrap();
        assert_eq!(
            sessions::count_for_user(&mut c, acc.user.id).await.unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    for t in TestDb::all().await {
        let mut settings = Settings::new("http://startblok.test");
        settings.session_idle = time::Duration::milliseconds(200);
        let app = App::new(t.db.clone(), settings);
        app.create_operator("op@x.nl", None, Some("heel-geheim-1"), &Actor::cli())
            .await
            .unwrap();
        let s = app
            .login("op@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        assert!(app.session_user(&s.token).await.unwrap().is_some());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(app.session_user(&s.token).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn an_invitation_link_sets_the_password_once() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_school("School", &code("11AA-00"), None, &Actor::cli())
            .await
            .unwrap();
        let acc = app
            .create_school_user(
                &code("11AA-00"),
                "nieuw@school.nl",
                None,
                Role::Ib,
                None,
                &Actor::cli(),
            )
            .await
            .unwrap();
        let link = acc.link.expect("no password given, so a link");
        let token = link
            .strip_prefix("http://startblok.test/welkom/")
            .expect(&link);
        assert!(
            app.login("nieuw@school.nl", "", "1.1.1.1").await.is_err(),
            "no password yet"
        );
        assert_eq!(app.link_user(token).await.unwrap().unwrap().id, acc.user.id);
        assert!(matches!(
            app.complete_link(token, "kort", "1.1.1.1").await,
            Err(LinkError::Policy(_))
        ));
        let s = app
            .complete_link(token, "mijn-eigen-wachtwoord", "1.1.1.1")
            .await
            .unwrap();
        assert_eq!(s.user.id, acc.user.id);
        assert!(matches!(
            app.complete_link(token, "nog-een-wachtwoord", "1.1.1.1")
                .await,
            Err(LinkError::Invalid)
        ));
        assert!(app.link_user(token).await.unwrap().is_none());
        assert!(
            app.login("nieuw@school.nl", "mijn-eigen-wachtwoord", "1.1.1.1")
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn an_existing_school_code_is_a_clear_error_and_unknown_schools_too() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_school("Een", &code("11AA-00"), None, &Actor::cli())
            .await
            .unwrap();
        let dup = app
            .create_school("Twee", &code("11aa-00"), None, &Actor::cli())
            .await
            .unwrap_err();
        assert_eq!(
            dup.to_string(),
            "Er bestaat al een school met BRIN 11AA-00."
        );
        let none = app
            .create_school_user(
                &code("22BB-00"),
                "a@b.nl",
                None,
                Role::Ib,
                None,
                &Actor::cli(),
            )
            .await
            .unwrap_err();
        assert!(matches!(none, ProvisionError::NoSuchSchool(_)));
    }
}

#[tokio::test]
async fn the_demo_seeds_once() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.seed_demo().await.unwrap();
        let mut c = t.db.conn().await.unwrap();
        let log_after_first = audit::recent(&mut c, 10_000).await.unwrap().len();
        drop(c);
        app.seed_demo().await.unwrap();
        let mut c = t.db.conn().await.unwrap();
        let log_after_second = audit::recent(&mut c, 10_000).await.unwrap().len();
        assert_eq!(
            log_after_first, log_after_second,
            "a second start records nothing: nothing changed"
        );
        let all = schools::list_all(&mut c).await.unwrap();
        assert_eq!(all.len(), 2);
        let main = all.iter().find(|s| s.naam == demo::DEMO_SCHOOL).unwrap();
        assert_eq!(main.code.to_string(), "99ZZ-00");
        let members = users::members_of(&mut c, main.id).await.unwrap();
        assert_eq!(
            members.len(),
            7,
            "beheerder, leerkracht, ib'er and the 4 teachers of the roster"
        );
        for acc in &demo::DEMO_ACCOUNTS {
            assert!(
                app.login(acc.email, demo::DEMO_PASSWORD, "1.1.1.1")
                    .await
                    .is_ok(),
                "{}",
                acc.email
            );
        }
    }
}

#[tokio::test]
async fn a_new_login_opens_in_the_school_last_worked_in() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.create_school("Alfa", &code("11AA-00"), None, &Actor::cli())
            .await
            .unwrap();
        app.create_school("Zulu", &code("22BB-00"), None, &Actor::cli())
            .await
            .unwrap();
        for c in ["11AA-00", "22BB-00"] {
            app.create_school_user(
                &code(c),
                "ib@x.nl",
                None,
                Role::Ib,
                Some("heel-geheim-1"),
                &Actor::cli(),
            )
            .await
            .unwrap();
        }
        let s = app
            .login("ib@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        let who = app.session_user(&s.token).await.unwrap().unwrap();
        assert_eq!(
            who.session.current_school_id,
            Some(who.schools[0].0.id),
            "first school at first"
        );
        let zulu = who.schools[1].0.id;
        assert!(app.switch_school(&who, zulu).await.unwrap());
        let again = app
            .login("ib@x.nl", "heel-geheim-1", "1.1.1.1")
            .await
            .unwrap();
        let who = app.session_user(&again.token).await.unwrap().unwrap();
        assert_eq!(
            who.session.current_school_id,
            Some(zulu),
            "{:?}",
            t.backend()
        );
    }
}
