//! Koppelingen and autorisatiesleutels on SQLite and (when configured) PostgreSQL: issue, the UWLR
//! header check in the contract's order, rotation with a grace period, revocation at once, the
//! audit trail, and the promise that no key is stored in the clear.

use startblok_app::koppelingen::{
    BOOM, DEFAULT_GRACE, DEMO_KEY, KEY_PREFIX, KoppelingError, KoppelingState, NamedSchool,
    UwlrAuthFailure, UwlrFailure,
};
use startblok_app::{Actor, App, Settings, now};
use startblok_db::testing::TestDb;
use startblok_domain::{SchoolCode, SchoolId};
use time::Duration;

async fn school(app: &App, code: &str, schoolkey: Option<&str>) -> SchoolId {
    let code: SchoolCode = code.parse().unwrap();
    app.create_school("Testschool", &code, schoolkey, &Actor::cli())
        .await
        .unwrap()
        .id
}

fn named(brin: &str, dep: Option<&str>) -> NamedSchool {
    NamedSchool {
        brincode: Some(brin.into()),
        dependancecode: dep.map(String::from),
        schoolkey: None,
    }
}

fn refused_as(r: Result<impl std::fmt::Debug, UwlrFailure>) -> UwlrAuthFailure {
    match r {
        Err(UwlrFailure::Refused(f)) => f,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_key_is_issued_once_checked_in_order_and_never_stored() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
        let a = school(&app, "11AA-00", None).await;
        let b = school(&app, "22BB-01", Some("SK-22")).await;
        let issued = app
            .activate_koppeling(a, BOOM, &Actor::cli())
            .await
            .unwrap();
        let key = issued.reveal().to_string();
        assert!(key.starts_with(KEY_PREFIX));
        assert!(key.len() >= KEY_PREFIX.len() + 43, "at least 256 bits");
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "survives copy and paste: {key}"
        );
        assert_eq!(issued.last4, key[key.len() - 4..]);
        assert!(!format!("{issued:?}").contains(&key), "Debug hides the key");

        // Never in the clear, anywhere in the database.
        assert_eq!(t.find_text(&key).await, Vec::<String>::new());
        assert_eq!(
            t.find_text(&key[KEY_PREFIX.len()..]).await,
            Vec::<String>::new()
        );

        let status = app.koppeling_status(a).await.unwrap();
        assert_eq!(status.len(), 1);
        assert_eq!(status[0].state, KoppelingState::SleutelUitgegeven);
        assert_eq!(status[0].valid_keys[0].last4, issued.last4);
        assert_eq!(status[0].applicatie.naam, "Boom testcentrum");

        // A second activation is a rotation, not a second key by accident.
        assert!(matches!(
            app.activate_koppeling(a, BOOM, &Actor::cli()).await,
            Err(KoppelingError::AlreadyActive)
        ));
        assert!(matches!(
            app.activate_koppeling(a, "onbekend", &Actor::cli()).await,
            Err(KoppelingError::NoSuchApplicatie(..))
        ));

        // The header check: klantidentificatie, then the key, then the school.
        let at = now();
        let ok = app
            .authenticate_uwlr(&key, "BOOM", "Boom testcentrum", &named("11AA", None), at)
            .await
            .unwrap();
        assert_eq!(ok.school_id, a);
        let padded = format!("  {key}\n");
        assert!(
            app.authenticate_uwlr(
                &padded,
                " BOOM ",
                "Boom testcentrum",
                &named("11aa", Some("00")),
                at
            )
            .await
            .is_ok(),
            "outer white space and BRIN case do not matter"
        );
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(&key, "BOOM", "Iemand anders", &named("11AA", None), at)
                    .await
            ),
            UwlrAuthFailure::KlantIdentificatie
        );
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(
                    "sbk_geraden",
                    "BOOM",
                    "Boom testcentrum",
                    &named("11AA", None),
                    at
                )
                .await
            ),
            UwlrAuthFailure::Autorisatie
        );
        let wrong_last = format!("{}x", &key[..key.len() - 1]);
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(
                    &wrong_last,
                    "BOOM",
                    "Boom testcentrum",
                    &named("11AA", None),
                    at
                )
                .await
            ),
            UwlrAuthFailure::Autorisatie
        );
        // The key of school A does not open school B, by code or by schoolkey.
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(
                    &key,
                    "BOOM",
                    "Boom testcentrum",
                    &named("22BB", Some("01")),
                    at
                )
                .await
            ),
            UwlrAuthFailure::Autorisatie
        );
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(
                    &key,
                    "BOOM",
                    "Boom testcentrum",
                    &named("11AA", Some("01")),
                    at
                )
                .await
            ),
            UwlrAuthFailure::Autorisatie
        );
        let key_b = app
            .activate_koppeling(b, BOOM, &Actor::cli())
            .await
            .unwrap();
        let by_schoolkey = NamedSchool {
            schoolkey: Some("SK-22".into()),
            ..Default::default()
        };
        assert_eq!(
            app.authenticate_uwlr(
                key_b.reveal(),
                "BOOM",
                "Boom testcentrum",
                &by_schoolkey,
                at
            )
            .await
            .unwrap()
            .school_id,
            b
        );
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(&key, "BOOM", "Boom testcentrum", &by_schoolkey, at)
                    .await
            ),
            UwlrAuthFailure::Autorisatie
        );
        // A message that names two schools (A's code, B's schoolkey) is refused, whichever key
        // it carries (found by a hostile test: it was stored under the key's school).
        let two_schools = NamedSchool {
            schoolkey: Some("SK-22".into()),
            ..named("11AA", None)
        };
        for k in [key.as_str(), key_b.reveal()] {
            assert_eq!(
                refused_as(
                    app.authenticate_uwlr(k, "BOOM", "Boom testcentrum", &two_schools, at)
                        .await
                ),
                UwlrAuthFailure::Autorisatie
            );
        }

        let mut c = app.db.conn().await.unwrap();
        let actions: Vec<String> = startblok_db::audit::recent(&mut c, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.contains(&"koppeling.sleutel.uitgegeven".to_string()));
        assert!(actions.contains(&"koppeling.aangemaakt".to_string()));
    }
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_the_grace_period_and_revocation_stops_all_at_once() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
        let a = school(&app, "11AA-00", None).await;
        let here = named("11AA", None);
        let check = |key: String, at| {
            let app = app.clone();
            let here = here.clone();
            async move {
                app.authenticate_uwlr(&key, "BOOM", "Boom testcentrum", &here, at)
                    .await
                    .is_ok()
            }
        };
        assert!(matches!(
            app.rotate_key(a, BOOM, DEFAULT_GRACE, &Actor::cli()).await,
            Err(KoppelingError::NoKoppeling)
        ));
        let first = app
            .activate_koppeling(a, BOOM, &Actor::cli())
            .await
            .unwrap();
        let second = app
            .rotate_key(a, BOOM, DEFAULT_GRACE, &Actor::cli())
            .await
            .unwrap();
        let until = second.previous_valid_until.expect("a grace period");
        let grace = until - now();
        assert!(grace > Duration::days(13) && grace <= Duration::days(14));
        let (k1, k2) = (first.reveal().to_string(), second.reveal().to_string());
        assert_ne!(k1, k2);

        // Now: both work. Just before the end of the grace period: both. After: only the new.
        assert!(check(k1.clone(), now()).await);
        assert!(check(k2.clone(), now()).await);
        assert!(check(k1.clone(), until - Duration::seconds(1)).await);
        assert!(!check(k1.clone(), until + Duration::seconds(1)).await);
        assert!(check(k2.clone(), until + Duration::days(365)).await);

        let status = &app.koppeling_status(a).await.unwrap()[0];
        assert_eq!(status.valid_keys.len(), 2, "during the grace period");
        assert_eq!(status.valid_keys[0].last4, second.last4, "newest first");
        assert_eq!(status.valid_keys[1].valid_until, Some(until));

        // A second rotation shortens nothing that already ends sooner; the first key still ends
        // at its own time.
        let third = app
            .rotate_key(a, BOOM, Duration::days(30), &Actor::cli())
            .await
            .unwrap();
        assert!(check(k1.clone(), until - Duration::seconds(1)).await);
        assert!(!check(k1.clone(), until + Duration::seconds(1)).await);
        // The second key now ends 30 days from now.
        assert!(check(k2.clone(), now() + Duration::days(29)).await);
        assert!(!check(k2.clone(), now() + Duration::days(31)).await);

        // Revocation: every key stops at once, and the state says so.
        let n = app.revoke_koppeling(a, BOOM, &Actor::cli()).await.unwrap();
        assert_eq!(n, 3);
        for k in [&k1, &k2, &third.reveal().to_string()] {
            assert!(!check(k.clone(), now()).await);
        }
        let status = &app.koppeling_status(a).await.unwrap()[0];
        assert!(matches!(status.state, KoppelingState::Ingetrokken(_)));
        assert!(status.valid_keys.is_empty());
        assert!(matches!(
            app.rotate_key(a, BOOM, DEFAULT_GRACE, &Actor::cli()).await,
            Err(KoppelingError::NotActive)
        ));
        // Activating again after a revocation gives a fresh key; the old ones stay dead.
        let fresh = app
            .activate_koppeling(a, BOOM, &Actor::cli())
            .await
            .unwrap();
        assert!(check(fresh.reveal().to_string(), now()).await);
        assert!(!check(k2.clone(), now()).await);

        let mut c = app.db.conn().await.unwrap();
        let actions: Vec<String> = startblok_db::audit::recent(&mut c, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in ["koppeling.sleutel.geroteerd", "koppeling.ingetrokken"] {
            assert!(actions.contains(&a.to_string()), "{a} audited");
        }
        for k in [
            &k1,
            &k2,
            &third.reveal().to_string(),
            &fresh.reveal().to_string(),
        ] {
            assert_eq!(t.find_text(k).await, Vec::<String>::new());
        }
    }
}

#[tokio::test]
async fn the_demo_accepts_the_manuals_example_key_for_the_demo_school_only() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
        app.seed_demo().await.unwrap();
        app.seed_demo().await.unwrap();
        let demo = app
            .school_by_code(&"99ZZ-00".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let at = now();
        let k = app
            .authenticate_uwlr(
                DEMO_KEY,
                "BOOM-DEMO",
                "Boom testcentrum",
                &named("99ZZ", Some("00")),
                at,
            )
            .await
            .unwrap();
        assert_eq!(k.school_id, demo.id);
        assert_eq!(
            refused_as(
                app.authenticate_uwlr(
                    DEMO_KEY,
                    "BOOM-DEMO",
                    "Boom testcentrum",
                    &named("99ZZ", Some("01")),
                    at
                )
                .await
            ),
            UwlrAuthFailure::Autorisatie,
            "not the second demo school"
        );
        let status = &app.koppeling_status(demo.id).await.unwrap()[0];
        assert_eq!(status.valid_keys.len(), 1, "seeded once");
        assert_eq!(
            status.valid_keys[0].origin,
            startblok_db::koppelingen::KeyOrigin::Demo
        );
        assert_eq!(status.valid_keys[0].last4, "hsdd");
        assert_eq!(t.find_text(DEMO_KEY).await, Vec::<String>::new());
    }
}

/// Revoking ends links still in someone's mailbox: none can bring a key back (found by review).
#[tokio::test]
async fn revocation_ends_open_key_links() {
    use startblok_app::koppelingen::{KeyLinkError, KeyLinkState};
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
        let a = school(&app, "11AA-00", None).await;
        app.activate_koppeling(a, BOOM, &Actor::cli())
            .await
            .unwrap();
        let link = app.prepare_key_link(a, BOOM, &Actor::cli()).await.unwrap();
        let token = link.rsplit('/').next().unwrap().to_string();
        app.revoke_koppeling(a, BOOM, &Actor::cli()).await.unwrap();
        assert!(matches!(
            app.key_link(&token).await.unwrap(),
            KeyLinkState::Revoked
        ));
        assert!(matches!(
            app.redeem_key_link(&token, &[a], &Actor::cli()).await,
            Err(KeyLinkError::Revoked)
        ));
        let status = &app.koppeling_status(a).await.unwrap()[0];
        assert!(matches!(status.state, KoppelingState::Ingetrokken(_)));
    }
}
