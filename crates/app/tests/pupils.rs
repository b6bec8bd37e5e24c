//! Pupils, Boom-leerlingnummers and toetsdoelen, on SQLite and (when configured) PostgreSQL.

use startblok_app::pupils::{BasisInput, InSchool, PupilFilter};
use startblok_app::{Actor, App, Settings, demo};
use startblok_db::testing::TestDb;
use startblok_domain::{Role, SchoolId};

fn app(t: &TestDb) -> App {
    App::new(t.db.clone(), Settings::new("http://startblok.test"))
}

async fn demo_school(app: &App) -> SchoolId {
    app.seed_demo().await.unwrap();
    app.school_by_code(&"99ZZ-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn who(app: &App, school: SchoolId, email: &str, roles: &[Role]) -> InSchool {
    let mut c = app.db.conn().await.unwrap();
    let u = startblok_db::users::by_email(&mut c, email)
        .await
        .unwrap()
        .unwrap();
    InSchool {
        school,
        actor: Actor::user(u.id, &u.email, "127.0.0.1"),
        roles: roles.to_vec(),
    }
}

#[tokio::test]
async fn the_demo_has_36_pupils_3_groups_4_teachers_and_leaves_some_without_number_or_toetsdoel() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        app.seed_demo().await.unwrap();
        let beheerder = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let list = app
            .pupil_list(&beheerder, &PupilFilter::default())
            .await
            .unwrap();
        assert_eq!(list.rows.len(), 36, "{:?}", t.backend());
        assert_eq!(list.groups.len(), 3);
        let no_number = app
            .pupil_list(
                &beheerder,
                &PupilFilter {
                    zonder_boom: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(no_number.rows.len(), 4);
        let no_doel = app
            .pupil_list(
                &beheerder,
                &PupilFilter {
                    zonder_toetsdoel: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            !no_doel.rows.is_empty() && no_doel.rows.len() < 6,
            "{}",
            no_doel.rows.len()
        );
        let team = app.team_overview(school).await.unwrap();
        let teachers = team
            .members
            .iter()
            .filter(|m| m.roles.contains(&Role::Leerkracht))
            .count();
        assert_eq!(teachers, 5, "4 from the roster and the demo leerkracht");
        // Names in every script survive.
        let search = app
            .pupil_list(
                &beheerder,
                &PupilFilter {
                    zoek: "wiśniewska".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(!search.rows.is_empty());
    }
}

#[tokio::test]
async fn a_leerkracht_sees_only_their_own_groups_and_an_ib_er_reads_all() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        let lk = who(
            &app,
            school,
            demo::DEMO_ACCOUNTS[2].email,
            &[Role::Leerkracht],
        )
        .await;
        let mine = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        assert!(!mine.rows.is_empty() && mine.rows.len() < 36);
        assert!(mine.rows.iter().all(|r| r.groep == "Nieuwkomers A"));
        let beheerder = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let all = app
            .pupil_list(&beheerder, &PupilFilter::default())
            .await
            .unwrap();
        let other = all
            .rows
            .iter()
            .find(|r| r.groep != "Nieuwkomers A")
            .unwrap();
        assert!(
            app.pupil_card(&lk, &other.pupil.id)
                .await
                .unwrap()
                .is_none(),
            "another group's pupil is invisible"
        );
        let own = &mine.rows[0].pupil;
        let card = app.pupil_card(&lk, &own.id).await.unwrap().unwrap();
        assert!(card.can_edit && !card.can_change_group);

        let ib = who(&app, school, demo::DEMO_ACCOUNTS[3].email, &[Role::Ib]).await;
        let card = app.pupil_card(&ib, &other.pupil.id).await.unwrap().unwrap();
        assert!(!card.can_edit, "an ib'er reads");
        let input = BasisInput::from_pupil(
            &card.pupil,
            startblok_domain::today_nl(startblok_app::now()),
        );
        assert!(
            app.save_basis(&ib, &other.pupil.id, &input)
                .await
                .unwrap()
                .is_none(),
            "and cannot save"
        );
    }
}

#[tokio::test]
async fn boom_numbers_are_unique_among_active_pupils_and_keep_history() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        let b = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let list = app.pupil_list(&b, &PupilFilter::default()).await.unwrap();
        let (p1, p2) = (&list.rows[0].pupil, &list.rows[1].pupil);
        let today = startblok_domain::today_nl(startblok_app::now());
        let taken = p2.boom_leerlingnummer.clone().unwrap();

        let mut input = BasisInput::from_pupil(p1, today);
        input.boom_leerlingnummer = format!("  {taken} ");
        input.thuistalen = "Arabisch, Tigrinya".into();
        let errors = app
            .save_basis(&b, &p1.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        let msg = errors.get("boom_leerlingnummer");
        assert!(
            msg.contains(&p2.display_name()),
            "names the other pupil: {msg}"
        );
        let again = app.pupil_card(&b, &p1.id).await.unwrap().unwrap();
        assert_eq!(again.pupil.thuistalen, None, "nothing saved half");

        input.boom_leerlingnummer = "007100".into();
        app.save_basis(&b, &p1.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let card = app.pupil_card(&b, &p1.id).await.unwrap().unwrap();
        assert_eq!(
            card.pupil.boom_leerlingnummer.as_deref(),
            Some("007100"),
            "leading zeros kept"
        );
        assert_eq!(card.pupil.thuistalen.as_deref(), Some("Arabisch, Tigrinya"));
        assert_eq!(card.boom_history[0].value.as_deref(), Some("007100"));
        assert_eq!(
            card.boom_history[0].changed_by,
            "beheerder@demo.startblok.nl"
        );

        input.boom_leerlingnummer = String::new();
        app.save_basis(&b, &p1.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            app.pupil_card(&b, &p1.id)
                .await
                .unwrap()
                .unwrap()
                .pupil
                .boom_leerlingnummer,
            None,
            "clearing is allowed"
        );

        // A left pupil's number may be reused.
        app.uitschrijven(&b, &p2.id, "")
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        input.boom_leerlingnummer = taken.clone();
        app.save_basis(&b, &p1.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

#[tokio::test]
async fn the_bulk_table_saves_all_or_nothing_and_can_swap_numbers() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        let b = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let rows = app.boom_table(school).await.unwrap();
        assert_eq!(rows.len(), 36);
        let mut entries: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.pupil.id.clone(),
                    r.pupil.boom_leerlingnummer.clone().unwrap_or_default(),
                )
            })
            .collect();
        // Fill the empty ones, swap the first two, and make one row wrong.
        let mut n = 500000;
        for e in entries.iter_mut().filter(|e| e.1.is_empty()) {
            n += 1;
            e.1 = n.to_string();
        }
        let (a, bb) = (entries[0].1.clone(), entries[1].1.clone());
        entries[0].1 = bb.clone();
        entries[1].1 = a.clone();
        entries[5].1 = entries[6].1.clone();
        let errors = app.save_boom_bulk(&b, &entries).await.unwrap().unwrap_err();
        assert_eq!(
            errors.len(),
            2,
            "both rows with the same number are marked: {errors:?}"
        );
        let unchanged = app.boom_table(school).await.unwrap();
        assert_eq!(
            unchanged[0].pupil.boom_leerlingnummer.as_deref(),
            Some(a.as_str()),
            "nothing half-saved"
        );

        entries[5].1 = "999999".into();
        let changed = app.save_boom_bulk(&b, &entries).await.unwrap().unwrap();
        assert_eq!(changed, 4 + 2 + 1);
        let after = app.boom_table(school).await.unwrap();
        assert!(
            after.iter().all(|r| r.pupil.boom_leerlingnummer.is_some()),
            "every pupil has a number"
        );
        assert_eq!(
            after[0].pupil.boom_leerlingnummer.as_deref(),
            Some(bb.as_str()),
            "swapped"
        );
    }
}

#[tokio::test]
async fn toetsdoel_changes_are_dated_and_a_toetsdoel_in_use_cannot_be_deleted() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        let b = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let doelen = app.toetsdoelen(school).await.unwrap();
        assert_eq!(doelen.len(), 3);
        assert!(
            !app.delete_toetsdoel(school, &doelen[0].id, &b.actor)
                .await
                .unwrap()
                .unwrap(),
            "in use"
        );
        let dup = app
            .add_toetsdoel(school, "doel-a", "Dubbel", &b.actor)
            .await
            .unwrap()
            .unwrap_err();
        assert!(dup.get("code").contains("DOEL-A"));
        let new = app
            .add_toetsdoel(school, "DOEL-X", "Nieuw doel", &b.actor)
            .await
            .unwrap()
            .unwrap();

        let list = app.pupil_list(&b, &PupilFilter::default()).await.unwrap();
        let p = &list.rows[0].pupil;
        let today = startblok_domain::today_nl(startblok_app::now());
        let mut input = BasisInput::from_pupil(p, today);
        input.toetsdoel = new.clone();
        input.toetsdoel_vanaf = "01-09-2026".into();
        app.save_basis(&b, &p.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let card = app.pupil_card(&b, &p.id).await.unwrap().unwrap();
        assert_eq!(
            card.toetsdoel_history[0].value.as_deref(),
            Some(new.as_str())
        );
        assert_eq!(
            card.toetsdoel_history[0].valid_from,
            Some(time::macros::date!(2026 - 09 - 01))
        );
        assert!(
            !app.delete_toetsdoel(school, &new, &b.actor)
                .await
                .unwrap()
                .unwrap()
        );

        app.update_toetsdoel(school, &doelen[2].id, "Hernoemd", false, &b.actor)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        input.toetsdoel = doelen[2].id.clone();
        let e = app
            .save_basis(&b, &p.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e.get("toetsdoel"),
            "Kies een toetsdoel uit de lijst.",
            "an inactive toetsdoel cannot be chosen"
        );
    }
}

#[tokio::test]
async fn pupils_added_by_hand_are_validated_and_future_dates_refused() {
    for t in TestDb::all().await {
        let app = app(&t);
        let school = demo_school(&app).await;
        let b = who(
            &app,
            school,
            "beheerder@demo.startblok.nl",
            &[Role::Beheerder],
        )
        .await;
        let bad = BasisInput {
            achternaam: " ".into(),
            geboortedatum: "01-01-2099".into(),
            aankomst_nl: "31-02-2025".into(),
            land_herkomst: "Syrië".into(),
            jaren_onderwijs: "veel".into(),
            ..Default::default()
        };
        let e = app.create_pupil(&b, &bad).await.unwrap().unwrap_err();
        assert_eq!(e.get("achternaam"), "Vul de achternaam in.");
        assert!(e.get("geboortedatum").contains("toekomst"));
        assert!(e.get("aankomst_nl").contains("bestaat niet"));
        assert!(!e.get("land_herkomst").is_empty() && !e.get("jaren_onderwijs").is_empty());
        let good = BasisInput {
            achternaam: "Al-Hassan".into(),
            roepnaam: "Yara".into(),
            geboortedatum: "12-03-2015".into(),
            land_herkomst: "sy".into(),
            ..Default::default()
        };
        let id = app.create_pupil(&b, &good).await.unwrap().unwrap();
        let card = app.pupil_card(&b, &id).await.unwrap().unwrap();
        assert!(!card.pupil.imported && card.can_edit_identity);
        assert_eq!(card.pupil.land_herkomst.as_deref(), Some("SY"));
        let mut c = t.db.conn().await.unwrap();
        let log = startblok_db::audit::recent_for_school(&mut c, school, 20)
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "leerling.bekeken"
                    && e.object_id.as_deref() == Some(id.as_str()))
        );
        assert!(log.iter().all(
            |e| !e.action.contains("Al-Hassan") && e.object_id.as_deref() != Some("Al-Hassan")
        ));
    }
}
