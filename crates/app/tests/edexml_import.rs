//! The EDEXML import on SQLite and (when configured) PostgreSQL: preview, apply, re-import,
//! changes, owned fields, left pupils, manual matching, teachers, privacy and refusals.
//! Reads the demo's copy of `shared/fixtures/edexml/nieuwkomers-demo.xml` (kept equal to it by
//! `crates/app/tests/demo_data.rs`).

use std::collections::HashMap;

use startblok_app::edexml_import::{ApplyOutcome, GroupChange, ImportState, Plan, StageError};
use startblok_app::pupils::{BasisInput, InSchool};
use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_db::{groups, imports, pupils, users};
use startblok_domain::{Role, SchoolCode, SchoolId, today_nl};

fn demo_file() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/nieuwkomers-demo.xml");
    std::fs::read_to_string(path).expect("the demo's copy of nieuwkomers-demo.xml")
}

struct Fixture {
    app: App,
    school: SchoolId,
    code: SchoolCode,
    who: InSchool,
}

async fn school(t: &TestDb, code: &str) -> Fixture {
    let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
    let code: SchoolCode = code.parse().unwrap();
    app.create_school("Testschool", &code, None, &Actor::cli())
        .await
        .unwrap();
    let s = app.school_by_code(&code).await.unwrap().unwrap();
    let account = app
        .create_school_user(
            &code,
            "beheer@school.test",
            Some("Bea Beheer"),
            Role::Beheerder,
            Some("een-lang-wachtwoord-1"),
            &Actor::cli(),
        )
        .await
        .unwrap();
    Fixture {
        who: InSchool {
            school: s.id,
            actor: Actor::user(account.user.id, "beheer@school.test", "127.0.0.1"),
            roles: vec![Role::Beheerder],
        },
        app,
        school: s.id,
        code,
    }
}

impl Fixture {
    async fn preview(&self, xml: &str) -> (String, Plan, String) {
        let id = self
            .app
            .stage_import(&self.who, &self.code, "export.xml", xml.as_bytes())
            .await
            .unwrap()
            .unwrap();
        let view = self
            .app
            .import_view(self.school, &id)
            .await
            .unwrap()
            .unwrap();
        let ImportState::Preview { plan, fingerprint } = view.state else {
            panic!("not a preview: {:?}", view.state)
        };
        (id, *plan, fingerprint)
    }

    async fn apply(&self, id: &str, fp: &str, matches: &HashMap<String, String>) {
        let claimed = self.app.claim_import(self.school, id, fp).await.unwrap();
        assert!(
            matches!(claimed, Some(ApplyOutcome::Applied(_))),
            "{claimed:?}"
        );
        let out = self
            .app
            .apply_import(&self.who, id, fp, matches)
            .await
            .unwrap();
        assert!(matches!(out, ApplyOutcome::Applied(_)), "{out:?}");
    }

    async fn import(&self, xml: &str) -> Plan {
        let (id, plan, fp) = self.preview(xml).await;
        self.apply(&id, &fp, &HashMap::new()).await;
        plan
    }

    async fn pupils(&self) -> Vec<pupils::Pupil> {
        let mut c = self.app.db.conn().await.unwrap();
        pupils::list(&mut c, self.school).await.unwrap()
    }

    async fn by_key(&self, key: &str) -> pupils::Pupil {
        self.pupils()
            .await
            .into_iter()
            .find(|p| p.las_key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("no pupil {key}"))
    }
}

#[tokio::test]
async fn first_import_brings_pupils_groups_and_teachers_and_a_second_changes_nothing() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = demo_file();
        let (id, plan, fp) = f.preview(&xml).await;
        assert_eq!(plan.new_pupils.len(), 36, "{:?}", t.backend());
        assert_eq!(plan.changed_pupils.len() + plan.left_pupils.len(), 0);
        assert_eq!(
            plan.groups
                .iter()
                .filter(|g| matches!(g, GroupChange::New { .. }))
                .count(),
            3
        );
        assert_eq!(plan.new_teachers.len(), 4);
        // Nothing is written before the Beheerder confirms.
        assert!(f.pupils().await.is_empty());
        f.apply(&id, &fp, &HashMap::new()).await;

        let stored = f.pupils().await;
        assert_eq!(stored.len(), 36);
        assert!(stored.iter().all(|p| p.imported && p.group_id.is_some()));
        let fatima = f.by_key("001000").await;
        assert_eq!(fatima.achternaam, "García López");
        assert_eq!(fatima.geboortedatum.unwrap().to_string(), "2016-08-22");
        assert_eq!(fatima.land_herkomst.as_deref(), Some("TR"));
        assert!(
            fatima
                .eck_id
                .as_deref()
                .unwrap()
                .starts_with("https://ketenid.nl/")
        );

        // Teachers: team members without a login, linked to their groups.
        let mut c = f.app.db.conn().await.unwrap();
        let members = users::members_of(&mut c, f.school).await.unwrap();
        let vos = members
            .iter()
            .find(|m| m.user.email == "p.vos@voorbeeldschool.example")
            .expect("Petra Vos is in the team");
        assert!(vos.user.password_hash.is_none());
        assert_eq!(vos.roles, vec![Role::Leerkracht]);
        assert_eq!(
            groups::groups_of_teacher(&mut c, f.school, vos.user.id)
                .await
                .unwrap()
                .len(),
            3
        );
        let history = f.app.import_history(f.school).await.unwrap();
        assert_eq!(history.len(), 1);
        let report = history[0].report.clone().unwrap();
        assert_eq!(report.new_pupils, 36);
        assert_eq!(
            history[0].import.file_hash,
            startblok_app::edexml_import::sha256_hex(xml.as_bytes())
        );
        drop(c);

        // The same file again: nothing to do, and nothing changes.
        let (id2, again, fp2) = f.preview(&xml).await;
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(again.unchanged, 36);
        f.apply(&id2, &fp2, &HashMap::new()).await;
        assert_eq!(f.pupils().await, stored);
    }
}

#[tokio::test]
async fn a_changed_file_shows_exactly_its_changes_and_never_touches_owned_fields() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = demo_file();
        f.import(&xml).await;

        // What Startblok owns for pupil 001000: Boom number, toetsdoel, newcomer data.
        let fatima = f.by_key("001000").await;
        let mut input = BasisInput::from_pupil(&fatima, today_nl(startblok_app::now()));
        input.boom_leerlingnummer = "B-778".into();
        input.thuistalen = "Arabisch".into();
        input.aankomst_nl = "01-03-2026".into();
        f.app
            .save_basis(&f.who, &fatima.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let owned_before = f.by_key("001000").await;

        // The next export: Fatima's surname corrected and moved to NK-B, Omar gone, a new
        // pupil, and group NK-C renamed.
        let changed = xml
            .replacen(
                "<achternaam>García López</achternaam>",
                "<achternaam>García-López</achternaam>",
                1,
            )
            .replacen(
                "<groep key=\"NK-A\"/>\n      <land>TR</land>",
                "<groep key=\"NK-B\"/>\n      <land>TR</land>",
                1,
            )
            .replace(
                "<naam>Nieuwkomers C</naam>",
                "<naam>Nieuwkomers C (ochtend)</naam>",
            );
        let omar_start = changed.find("<leerling key=\"001014\"").unwrap();
        let omar_end =
            omar_start + changed[omar_start..].find("</leerling>").unwrap() + "</leerling>".len();
        let changed = format!(
            "{}<leerling key=\"009999\"><achternaam>Nieuw</achternaam><roepnaam>Noor</roepnaam><geboortedatum>2017-01-02</geboortedatum><groep key=\"NK-A\"/></leerling>{}",
            &changed[..omar_start],
            &changed[omar_end..]
        );

        let (id, plan, fp) = f.preview(&changed).await;
        assert_eq!(plan.new_pupils.len(), 1, "{:?}", t.backend());
        assert_eq!(plan.new_pupils[0].pupil.achternaam, "Nieuw");
        assert_eq!(plan.left_pupils.len(), 1);
        assert!(plan.left_pupils[0].naam.starts_with("Haddad"));
        assert_eq!(plan.changed_pupils.len(), 1);
        let fields: Vec<(&str, &str, &str)> = plan.changed_pupils[0]
            .changes
            .iter()
            .map(|c| (c.field, c.old.as_str(), c.new.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("Achternaam", "García López", "García-López"),
                ("Groep", "Nieuwkomers A", "Nieuwkomers B")
            ]
        );
        assert_eq!(plan.unchanged, 34);
        assert_eq!(plan.groups.len(), 1);
        assert!(
            matches!(&plan.groups[0], GroupChange::Changed { group, .. } if group.naam == "Nieuwkomers C (ochtend)")
        );
        f.apply(&id, &fp, &HashMap::new()).await;

        let after = f.by_key("001000").await;
        assert_eq!(after.achternaam, "García-López");
        for (a, b) in [
            (
                &after.boom_leerlingnummer,
                &owned_before.boom_leerlingnummer,
            ),
            (&after.thuistalen, &owned_before.thuistalen),
            (&after.toetsdoel_id, &owned_before.toetsdoel_id),
        ] {
            assert_eq!(a, b);
        }
        assert_eq!(after.aankomst_nl, owned_before.aankomst_nl);
        assert_eq!(after.boom_leerlingnummer.as_deref(), Some("B-778"));
        // Left, never deleted.
        let omar = f.by_key("001014").await;
        assert_eq!(omar.uitgeschreven_op, Some(today_nl(startblok_app::now())));
        assert_eq!(f.pupils().await.len(), 37);
    }
}

#[tokio::test]
async fn a_manually_added_pupil_can_be_matched_instead_of_doubled() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        // Enrolled by hand before the LAS had her, with a Boom number already.
        let mut c = f.app.db.conn().await.unwrap();
        let manual = pupils::Pupil {
            id: "handmatig-1".into(),
            achternaam: "Haddad".into(),
            roepnaam: Some("Omar".into()),
            geboortedatum: pupils::parse_date("2019-07-13"),
            boom_leerlingnummer: Some("77001".into()),
            ..Default::default()
        };
        pupils::insert(&mut c, f.school, &manual, startblok_app::now())
            .await
            .unwrap();
        drop(c);
        let (id, plan, fp) = f.preview(&demo_file()).await;
        let omar = plan
            .new_pupils
            .iter()
            .find(|n| n.file_key == "001014")
            .unwrap();
        assert_eq!(
            omar.suggestion.as_deref(),
            Some("handmatig-1"),
            "{:?}",
            t.backend()
        );
        assert_eq!(
            plan.new_pupils[0].file_key, "001014",
            "suggestions come first"
        );
        assert_eq!(plan.manual.len(), 1);
        let matches = HashMap::from([("001014".to_string(), "handmatig-1".to_string())]);
        f.apply(&id, &fp, &matches).await;
        let all = f.pupils().await;
        assert_eq!(all.len(), 36);
        let omar = all.iter().find(|p| p.id == "handmatig-1").unwrap();
        assert!(omar.imported);
        assert_eq!(omar.las_key.as_deref(), Some("001014"));
        assert_eq!(omar.boom_leerlingnummer.as_deref(), Some("77001"));
        assert_eq!(omar.land_herkomst.as_deref(), Some("ER"));
    }
}

#[tokio::test]
async fn only_allow_listed_data_reaches_the_database() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = demo_file().replacen(
            "<roepnaam>Fatima</roepnaam>",
            "<roepnaam>Fatima</roepnaam><bsn>123456782</bsn><onderwijsnummer>987654321</onderwijsnummer><gewicht>1.2</gewicht><postcode>9999XX</postcode><etniciteit>XYZETN</etniciteit><emailadres>fatima@leerling.example</emailadres>",
            1,
        );
        let (id, _, fp) = f.preview(&xml).await;
        let secrets = [
            "123456782",
            "987654321",
            "9999XX",
            "XYZETN",
            "fatima@leerling.example",
        ];
        let mut c = f.app.db.conn().await.unwrap();
        let stored = imports::get(&mut c, f.school, &id).await.unwrap().unwrap();
        for s in secrets {
            assert!(
                !stored.roster.as_deref().unwrap().contains(s),
                "{s} in the stored roster"
            );
        }
        drop(c);
        f.apply(&id, &fp, &HashMap::new()).await;
        let mut c = f.app.db.conn().await.unwrap();
        let stored = imports::get(&mut c, f.school, &id).await.unwrap().unwrap();
        assert!(
            stored.roster.is_none(),
            "the roster is removed once applied"
        );
        let all = format!("{:?}", pupils::list(&mut c, f.school).await.unwrap());
        for s in secrets {
            assert!(!all.contains(s), "{s} stored with a pupil");
        }
    }
}

#[tokio::test]
async fn files_of_another_school_or_not_edexml_are_refused_with_a_reason() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-01").await;
        let refused = f
            .app
            .stage_import(&f.who, &f.code, "x.xml", demo_file().as_bytes())
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(refused, StageError::OtherSchool { .. }));
        assert!(refused.to_string().contains("99ZZ-00"), "{refused}");
        let refused = f
            .app
            .stage_import(
                &f.who,
                &f.code,
                "x.txt",
                b"001000;Garcia;Fatima;22-08-2016\n",
            )
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(refused, StageError::Parse(_)), "{refused:?}");
        assert!(f.app.import_history(f.school).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_preview_that_no_longer_fits_is_not_applied() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let (id, _, fp) = f.preview(&demo_file()).await;
        // Meanwhile, someone else imports the same file.
        f.import(&demo_file()).await;
        let out = f.app.claim_import(f.school, &id, &fp).await.unwrap();
        assert_eq!(out, Some(ApplyOutcome::Stale), "{:?}", t.backend());
        assert_eq!(f.pupils().await.len(), 36);
    }
}

#[tokio::test]
async fn manual_group_links_survive_a_re_import() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        f.import(&demo_file()).await;
        let mut c = f.app.db.conn().await.unwrap();
        let nka = groups::list(&mut c, f.school)
            .await
            .unwrap()
            .into_iter()
            .find(|g| g.las_key.as_deref() == Some("NK-A"))
            .unwrap();
        let beheerder = f.who.actor.user_id.unwrap();
        let mut links: Vec<_> = groups::teacher_links(&mut c, f.school)
            .await
            .unwrap()
            .into_iter()
            .filter(|(g, _)| *g == nka.id)
            .map(|(_, u)| u)
            .collect();
        links.push(beheerder);
        groups::set_teachers(&mut c, f.school, &nka.id, &links)
            .await
            .unwrap();
        drop(c);
        let plan = f.import(&demo_file()).await;
        assert!(plan.links.is_empty(), "{:?}", plan.links);
        let mut c = f.app.db.conn().await.unwrap();
        assert!(
            groups::groups_of_teacher(&mut c, f.school, beheerder)
                .await
                .unwrap()
                .contains(&nka.id),
            "{:?}",
            t.backend()
        );
    }
}

/// A small export of school 99ZZ-00 with the given `<leerling>` elements.
fn small_file(pupils: &str) -> String {
    format!(
        "<EDEX><school><brincode>99ZZ</brincode><dependancecode>00</dependancecode></school>\
         <groepen><groep key=\"G1\"><naam>Groep 1</naam></groep></groepen>\
         <leerlingen>{pupils}</leerlingen></EDEX>"
    )
}

#[tokio::test]
async fn what_the_parser_noticed_reaches_the_preview_and_the_report() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = small_file(
            "<leerling key=\"1\"><achternaam>Eerste</achternaam><groep key=\"G1\"/></leerling>\
             <leerling key=\"1\"><achternaam>Dubbel</achternaam><groep key=\"G1\"/></leerling>\
             <leerling><achternaam>Zonder sleutel</achternaam></leerling>\
             <leerling key=\"2\"><achternaam>Verdwaald</achternaam><groep key=\"NOPE\"/></leerling>",
        );
        let (id, plan, fp) = f.preview(&xml).await;
        let all = plan.warnings.join("\n");
        assert!(
            all.contains("sleutel 1 staat meer dan eens"),
            "{:?}: {all}",
            t.backend()
        );
        assert!(all.contains("zonder sleutel"), "{all}");
        assert!(all.contains("groep NOPE"), "{all}");
        f.apply(&id, &fp, &HashMap::new()).await;
        let history = f.app.import_history(f.school).await.unwrap();
        let report = history[0].report.clone().unwrap();
        assert_eq!(report.warnings, plan.warnings);
        assert_eq!(report.new_pupils, 2);
    }
}

#[tokio::test]
async fn a_file_without_a_school_is_refused() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = small_file("<leerling key=\"1\"><achternaam>A</achternaam></leerling>")
            .replace("<brincode>99ZZ</brincode>", "");
        let refused = f
            .app
            .stage_import(&f.who, &f.code, "x.xml", xml.as_bytes())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(refused, StageError::NoSchool, "{:?}", t.backend());
        assert!(refused.to_string().contains("brincode"));
    }
}

#[tokio::test]
async fn names_lose_control_and_direction_characters_and_are_capped_but_keep_their_script() {
    let t = TestDb::sqlite().await;
    let f = school(&t, "99ZZ-00").await;
    let long = "x".repeat(5000);
    let xml = small_file(&format!(
        "<leerling key=\"1\"><achternaam>Ev\u{202E}il\tNaam</achternaam><voornamen>{long}</voornamen></leerling>\
         <leerling key=\"2\"><achternaam>محمد Ковальенко Nguyễn</achternaam></leerling>"
    ));
    let (id, plan, fp) = f.preview(&xml).await;
    assert!(
        plan.warnings.iter().any(|w| w.contains("ingekort")),
        "{:?}",
        plan.warnings
    );
    f.apply(&id, &fp, &HashMap::new()).await;
    let one = f.by_key("1").await;
    assert_eq!(one.achternaam, "Evil Naam");
    assert_eq!(one.voornamen.unwrap().chars().count(), 200);
    assert_eq!(f.by_key("2").await.achternaam, "محمد Ковальенко Nguyễn");
}

#[tokio::test]
async fn the_start_of_groep_3_is_taken_from_the_export_and_shown_as_a_change() {
    for t in TestDb::all().await {
        let f = school(&t, "99ZZ-00").await;
        let xml = demo_file();
        f.import(&xml).await;
        assert_eq!(f.by_key("001000").await.start_groep3, None);
        let with = xml.replacen(
            "<achternaam>García López</achternaam>",
            "<achternaam>García López</achternaam>\n      <start_ondw_jgr3>2021-08-20</start_ondw_jgr3>",
            1,
        );
        let plan = f.import(&with).await;
        let change = plan
            .changed_pupils
            .iter()
            .flat_map(|c| &c.changes)
            .find(|c| c.field == "Start groep 3")
            .expect("shown in the preview");
        assert_eq!(change.new, "20-08-2021");
        assert_eq!(
            f.by_key("001000").await.start_groep3,
            Some(time::macros::date!(2021 - 08 - 20))
        );
    }
}
