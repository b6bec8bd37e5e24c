//! The UWLR intake's processing on SQLite and (when configured) PostgreSQL, where the HTTP
//! contract tests cannot steer the timing: a worker that claimed a result, a newer delivery that
//! changes it in the meantime, and another worker that processes the new version first.

use startblok_app::demo::DEMO_LEVERING;
use startblok_app::{App, Settings};
use startblok_db::leveringen::{self, Scope};
use startblok_db::testing::TestDb;

fn app(t: &TestDb) -> App {
    App::new(t.db.clone(), Settings::new("http://startblok.test"))
}

async fn count(app: &App, sql: &str) -> i64 {
    use sqlx::Row;
    let mut c = app.db.conn().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

/// R00001 of the demo delivery (127700, 10-11-2026) with its DLE 7 changed to `dle`.
fn changed_delivery(dle: &str) -> String {
    let first = &DEMO_LEVERING[DEMO_LEVERING.find("key=\"R00001\"").unwrap()..];
    let old = &first[..first.find("</lr:resultaat>").unwrap()];
    let new = old.replace(
        "<oso:waarde>7</oso:waarde>",
        &format!("<oso:waarde>{dle}</oso:waarde>"),
    );
    assert_ne!(old, new);
    DEMO_LEVERING.replacen(old, &new, 1)
}

const R00001: &str = "SELECT COUNT(*) FROM resultaten r JOIN pupils p ON p.id = r.pupil_id \
     WHERE r.herkomst = 'boom' AND p.boom_leerlingnummer = '127700' \
     AND r.afnamedatum = '2026-11-10' AND r.verwijderd_op IS NULL";

#[tokio::test]
async fn a_result_changed_after_a_workers_claim_is_shown_once_in_its_newest_version() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.seed_demo().await.unwrap();
        app.receive_uwlr(DEMO_LEVERING.as_bytes()).await.unwrap();
        // Worker A claims the whole delivery and is slow.
        let at = startblok_app::now();
        let claimed_by_a = {
            let mut tx = app.db.begin().await.unwrap();
            let c = leveringen::claim(
                &mut tx,
                &Scope::Due,
                1000,
                at,
                at + time::Duration::seconds(30),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            c
        };
        assert_eq!(claimed_by_a.len(), 114, "{:?}", t.backend());
        // Meanwhile Boom sends R00001 again with another DLE; worker B processes that version.
        app.receive_uwlr(changed_delivery("9").as_bytes())
            .await
            .unwrap();
        let b = app.process_received(&Scope::Due).await.unwrap();
        assert_eq!(b.verwerkt, 1, "only the new version was free to take");
        // Now A gets to its batch: the old version of R00001 is no longer A's to process.
        let a = app.process_claimed(&claimed_by_a).await.unwrap();
        assert_eq!(a.verwerkt + a.fouten, 113, "{a:?}");
        // One result on the pupil, in its newest version, and no result without its received
        // result pointing at it.
        assert_eq!(count(&app, R00001).await, 1, "{:?}", t.backend());
        assert_eq!(
            count(&app, &format!("{R00001} AND r.referentie_dle = '9'")).await,
            1
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM resultaten WHERE herkomst = 'boom'"
            )
            .await,
            count(
                &app,
                "SELECT COUNT(*) FROM ontvangen_resultaten WHERE resultaat_id IS NOT NULL"
            )
            .await,
            "{:?}",
            t.backend()
        );
        let mut c = app.db.conn().await.unwrap();
        assert_eq!(leveringen::due_count(&mut c).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn a_koppeling_that_sends_too_often_is_told_to_wait_and_other_schools_are_not() {
    for t in TestDb::all().await {
        let mut settings = Settings::new("http://startblok.test");
        settings.uwlr_per_minuut = 3;
        let app = App::new(t.db.clone(), settings);
        app.seed_demo().await.unwrap();
        for _ in 0..3 {
            app.receive_uwlr(DEMO_LEVERING.as_bytes()).await.unwrap();
        }
        let fault = app
            .receive_uwlr(changed_delivery("9").as_bytes())
            .await
            .expect_err("the fourth message within a minute");
        assert_eq!(fault.code, "Server.TijdelijkNietBeschikbaar");
        assert!(fault.text.contains("Wacht een minuut"), "{}", fault.text);
        // Nothing of it is stored, and the refusal is logged for the koppeling.
        assert_eq!(count(&app, "SELECT COUNT(*) FROM leveringen").await, 3);
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM ontvangen_resultaten WHERE versie_nr > 1"
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &app,
                "SELECT COUNT(*) FROM uwlr_weigeringen WHERE koppeling_id IS NOT NULL \
                 AND foutcode = 'Server.TijdelijkNietBeschikbaar'"
            )
            .await,
            1
        );
        // Another school's koppeling has its own quota.
        let other = app
            .create_school(
                "De Brug",
                &"12AB-00".parse().unwrap(),
                None,
                &startblok_app::Actor::cli(),
            )
            .await
            .unwrap();
        let key = app
            .activate_koppeling(other.id, "boom", &startblok_app::Actor::cli())
            .await
            .unwrap();
        let theirs = DEMO_LEVERING
            .replace(
                "<lr:brincode>99ZZ</lr:brincode>",
                "<lr:brincode>12AB</lr:brincode>",
            )
            .replace(
                "khasgdkj76&amp;g7dA%$gjhsdd",
                &key.reveal().replace('&', "&amp;"),
            );
        app.receive_uwlr(theirs.as_bytes()).await.unwrap();
    }
}

/// Found by a hostile test of the endpoint: two different results for one afname in one
/// message lost one of them silently, and control characters were stored and shown raw.
#[tokio::test]
async fn a_message_with_two_outcomes_of_one_afname_or_control_characters_is_refused_whole() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.seed_demo().await.unwrap();
        // R00001 sent twice with another key: the same content is stored once...
        let first = &DEMO_LEVERING[DEMO_LEVERING.find("<lr:resultaat key=\"R00001\"").unwrap()..];
        let r1 = &first[..first.find("</lr:resultaat>").unwrap() + "</lr:resultaat>".len()];
        let twice =
            DEMO_LEVERING.replacen(r1, &format!("{r1}{}", r1.replace("R00001", "X00001")), 1);
        let receipt = app.receive_uwlr(twice.as_bytes()).await.unwrap();
        assert_eq!((receipt.aantal, receipt.nieuw), (115, 114));
        // ...and with another DLE it is refused, naming both keys, and nothing is stored.
        let other = r1
            .replace("R00001", "X00002")
            .replace("<oso:waarde>7</oso:waarde>", "<oso:waarde>9</oso:waarde>");
        let differ = DEMO_LEVERING.replacen(r1, &format!("{r1}{other}"), 1);
        let fault = app.receive_uwlr(differ.as_bytes()).await.unwrap_err();
        assert_eq!(fault.code, "Client.OngeldigBericht");
        assert!(
            fault.text.contains("'X00002'") && fault.text.contains("'R00001'"),
            "{}",
            fault.text
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM leveringen").await, 1);
        let control = DEMO_LEVERING.replacen("127700", "1277\u{1}00", 1);
        let fault = app.receive_uwlr(control.as_bytes()).await.unwrap_err();
        assert_eq!(fault.code, "Client.OngeldigBericht");
        assert!(fault.text.contains("stuurteken"), "{}", fault.text);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM leveringen").await, 1);
    }
}

/// Found by a hostile test: with thousands of errors of one kind, the page's single capped list
/// held only that kind, and the other kinds (with their fixes) disappeared.
#[tokio::test]
async fn thousands_of_errors_of_one_kind_never_hide_another_kind() {
    let t = TestDb::sqlite().await;
    let app = app(&t);
    app.seed_demo().await.unwrap();
    let school = app
        .school_by_code(&"99ZZ-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    app.receive_uwlr(DEMO_LEVERING.as_bytes()).await.unwrap();
    let many = startblok_uwlr::client::generate(&startblok_uwlr::client::Generate {
        autorisatie: startblok_uwlr::Autorisatie {
            autorisatiesleutel: startblok_app::koppelingen::DEMO_KEY.into(),
            klantcode: startblok_app::koppelingen::DEMO_KLANTCODE.into(),
            klantnaam: "Boom testcentrum".into(),
        },
        brincode: "99ZZ".into(),
        dependancecode: "00".into(),
        leerlingids: vec![],
        resultaten: 0,
        onbekende_leerlingen: 2500,
        onbekende_toets: false,
        tot: time::macros::date!(2026 - 11 - 20),
        seed: 3,
    });
    app.receive_uwlr(startblok_uwlr::write_request(&many).as_bytes())
        .await
        .unwrap();
    app.process_received(&Scope::Due).await.unwrap();
    let o = app.intake_overview(school, 0, 10).await.unwrap();
    let lng = o
        .counts
        .iter()
        .find(|(f, _)| f == "LEERLING_NIET_GEVONDEN")
        .unwrap()
        .1;
    assert!(lng > 2500, "{lng}");
    assert_eq!(o.unknown_pupils.len(), 200, "capped, and the page says so");
    assert_eq!(o.unknown_tests.len(), 1, "the unknown test is still listed");
    assert_eq!(o.unknown_tests[0].aantal, 1);
    assert_eq!(o.open as i64, o.counts.iter().map(|(_, n)| n).sum::<i64>());
}

/// Found by a hostile test: a leerlingid with a zero-width character was stored, but no pupil
/// could ever be given it (the Boom nummers rule refuses it), so its error could not be fixed.
/// The intake now holds leerlingids to the same rule, exactly as sent.
#[tokio::test]
async fn a_leerlingid_no_pupil_could_be_given_is_refused_with_the_reason() {
    let t = TestDb::sqlite().await;
    let app = app(&t);
    app.seed_demo().await.unwrap();
    for (leerlingid, says) in [
        ("1277\u{200B}00", "onzichtbare tekens"),
        ("1277 00", "spaties"),
        (
            "\u{FF11}\u{FF12}\u{FF17}\u{FF17}\u{FF10}\u{FF10}",
            "brede cijfers",
        ),
        (&"9".repeat(65), "64 tekens"),
    ] {
        let msg = DEMO_LEVERING.replacen(
            "<lr:leerlingid>127700</lr:leerlingid>",
            &format!("<lr:leerlingid>{leerlingid}</lr:leerlingid>"),
            1,
        );
        assert_ne!(msg, DEMO_LEVERING);
        let fault = app.receive_uwlr(msg.as_bytes()).await.unwrap_err();
        assert_eq!(fault.code, "Client.OngeldigBericht");
        assert!(fault.text.contains(says), "{says}: {}", fault.text);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM leveringen").await, 0);
    app.receive_uwlr(DEMO_LEVERING.as_bytes()).await.unwrap();
}

/// The raw message is kept (in pieces, so a large one is never one statement) exactly as
/// received, shown as kept on its levering, and forgotten when its retention ends.
#[tokio::test]
async fn the_raw_message_is_kept_whole_in_pieces_until_its_retention_ends() {
    for t in TestDb::all().await {
        let app = app(&t);
        app.seed_demo().await.unwrap();
        let big = startblok_uwlr::client::generate(&startblok_uwlr::client::Generate {
            autorisatie: startblok_uwlr::Autorisatie {
                autorisatiesleutel: startblok_app::koppelingen::DEMO_KEY.into(),
                klantcode: startblok_app::koppelingen::DEMO_KLANTCODE.into(),
                klantnaam: "Boom testcentrum".into(),
            },
            brincode: "99ZZ".into(),
            dependancecode: "00".into(),
            leerlingids: vec!["127700".into(), "127713".into()],
            resultaten: 2000,
            onbekende_leerlingen: 0,
            onbekende_toets: false,
            tot: time::macros::date!(2026 - 11 - 20),
            seed: 5,
        });
        // Non-ASCII near the piece boundaries must survive the cuts.
        let xml = startblok_uwlr::write_request(&big)
            .replace("<lr:auteur>", "<!-- één ünïcödé-opmerking --><lr:auteur>");
        assert!(xml.len() > 3 * 256 * 1024, "{}", xml.len());
        let receipt = app.receive_uwlr(xml.as_bytes()).await.unwrap();
        let mut c = app.db.conn().await.unwrap();
        assert!(
            count(&app, "SELECT COUNT(*) FROM levering_berichtdelen").await > 3,
            "in pieces"
        );
        assert_eq!(
            leveringen::raw_body(&mut c, &receipt.levering)
                .await
                .unwrap()
                .as_deref(),
            Some(xml.as_str())
        );
        let l = leveringen::get(&mut c, receipt.school, &receipt.levering)
            .await
            .unwrap()
            .unwrap();
        assert!(l.body_bewaard);
        // Past the retention: the pieces go, the levering and its results stay.
        let later = startblok_app::now() + time::Duration::days(91);
        assert!(leveringen::drop_old_bodies(&mut c, later).await.unwrap() > 0);
        assert_eq!(
            leveringen::raw_body(&mut c, &receipt.levering)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM levering_berichtdelen").await,
            0
        );
        let l = leveringen::get(&mut c, receipt.school, &receipt.levering)
            .await
            .unwrap()
            .unwrap();
        assert!(!l.body_bewaard);
        assert_eq!(l.aantal, 2000);
        // A character across a piece boundary is never cut in two.
        let tricky = format!("{}𝄞{}", "a".repeat(256 * 1024 - 1), "é".repeat(300_000));
        leveringen::insert_body(&mut c, &receipt.levering, &tricky)
            .await
            .unwrap();
        assert_eq!(
            leveringen::raw_body(&mut c, &receipt.levering)
                .await
                .unwrap()
                .as_deref(),
            Some(tricky.as_str())
        );
    }
}
