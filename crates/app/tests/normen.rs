//! A school's vakken and DLE norms on SQLite and (when configured) PostgreSQL: the defaults, the
//! example norms file, refusals with line and reason (nothing half-imported), the export, and the
//! same judgement through the database as through the domain function.

use startblok_app::normen::{DEFAULT_VAKKEN, LineError};
use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_domain::norms::{Dle, Judgement, Norm};
use startblok_domain::{SchoolCode, SchoolId};

const EXAMPLE: &str = include_str!("../demo/dle-normen.csv");

async fn school_with_doelen(app: &App) -> SchoolId {
    let code: SchoolCode = "99ZZ-00".parse().unwrap();
    let s = app
        .create_school("School", &code, None, &Actor::cli())
        .await
        .unwrap();
    for (c, n) in [("DOEL-A", "A"), ("DOEL-B", "B"), ("DOEL-C", "C")] {
        app.add_toetsdoel(s.id, c, n, &Actor::cli())
            .await
            .unwrap()
            .unwrap();
    }
    s.id
}

#[tokio::test]
async fn the_example_norms_import_export_and_judge_as_the_domain_does() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://x"));
        let s = school_with_doelen(&app).await;
        let vakken = app.vakken(s).await.unwrap();
        let names: Vec<&str> = vakken.iter().map(|v| v.naam.as_str()).collect();
        assert_eq!(names, DEFAULT_VAKKEN, "the defaults, in order");
        assert_eq!(app.vakken(s).await.unwrap().len(), 5, "made once");

        let n = app
            .import_normen(s, EXAMPLE.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 60);
        // The export has the same lines (the example's order is the export's order).
        let out = app.normen_csv(s).await.unwrap();
        let sorted = |text: &str| {
            let mut l: Vec<String> = text.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&out), sorted(EXAMPLE));
        // Importing the export changes nothing.
        app.import_normen(s, out.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.normen_csv(s).await.unwrap(), out);

        // The same judgement through the stored norm as through the domain function:
        // DOEL-A, Rekenen-Wiskunde, fase 2 is 10–15 in the example.
        let mut c = app.db.conn().await.unwrap();
        let doel = startblok_db::toetsdoelen::list(&mut c, s)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.code == "DOEL-A")
            .unwrap();
        drop(c);
        let rw = vakken
            .iter()
            .find(|v| v.naam == "Rekenen-Wiskunde")
            .unwrap();
        let stored = app.norm_for(s, &doel.id, &rw.id, 2).await.unwrap().unwrap();
        let domain = Norm::new(Dle::parse("10").unwrap(), Dle::parse("15").unwrap()).unwrap();
        assert_eq!(stored, domain);
        for (d, want) in [
            ("9", Judgement::OnderNorm),
            ("10", Judgement::OpNorm),
            ("15", Judgement::OpStreefniveau),
        ] {
            assert_eq!(stored.judge(Dle::parse(d).unwrap()), want);
        }
        assert_eq!(app.norm_for(s, &doel.id, &rw.id, 9).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_bad_norms_file_is_refused_whole_with_each_line_and_reason() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://x"));
        let s = school_with_doelen(&app).await;
        let file = "toetsdoel;vak;fase;ondergrens;streef\n\
                    DOEL-A;Rekenen-Wiskunde;1;4;9\n\
                    DOEL-A;Rekenen-Wiskunde;2;16;15\n\
                    DOEL-X;Spelling;1;1;2\n\
                    DOEL-A;Sterrenkunde;1;1;2\n\
                    DOEL-A;Spelling;0;1;2\n\
                    DOEL-A;Spelling;1;>60;61\n\
                    DOEL-A;rekenen-wiskunde;1;4;9\n";
        let errors = app
            .import_normen(s, file.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8], "{errors:?}");
        let said = |line: usize| -> String {
            errors
                .iter()
                .find(|e| e.line == line)
                .map(LineError::to_string)
                .unwrap()
        };
        assert!(
            said(3).contains("ondergrens (16) is hoger dan de streefwaarde (15)"),
            "{}",
            said(3)
        );
        assert!(said(4).contains("toetsdoel 'DOEL-X'"));
        assert!(said(5).contains("vak 'Sterrenkunde'"));
        assert!(said(6).contains("fase '0'"));
        assert!(said(7).contains("zonder < of >") && said(7).contains("streef"));
        assert!(said(8).contains("staat al eerder"));
        assert!(said(3).starts_with("Regel 3: "));
        let mut c = app.db.conn().await.unwrap();
        assert!(
            startblok_db::norms::normen(&mut c, s)
                .await
                .unwrap()
                .is_empty(),
            "nothing half-imported"
        );
        drop(c);
        let missing = app
            .import_normen(
                s,
                b"toetsdoel,vak,fase,ondergrens\nDOEL-A,Spelling,1,2\n",
                &Actor::cli(),
            )
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            missing[0].to_string().contains("'streef' ontbreekt"),
            "{missing:?}"
        );
    }
}

#[tokio::test]
async fn the_demo_school_has_the_example_norms_once() {
    let t = TestDb::sqlite().await;
    let app = App::new(t.db.clone(), Settings::new("http://x"));
    app.seed_demo().await.unwrap();
    app.seed_demo().await.unwrap();
    let demo = app
        .school_by_code(&"99ZZ-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut c = app.db.conn().await.unwrap();
    assert_eq!(
        startblok_db::norms::normen(&mut c, demo.id)
            .await
            .unwrap()
            .len(),
        60
    );
}

#[tokio::test]
async fn the_grid_edited_in_place_is_saved_whole_or_not_at_all() {
    use startblok_app::normen::GridCell;
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://x"));
        let s = school_with_doelen(&app).await;
        app.import_normen(s, EXAMPLE.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let before = app.normen_csv(s).await.unwrap();
        let vakken = app.vakken(s).await.unwrap();
        let rw = vakken[0].id.clone();
        let mut c = app.db.conn().await.unwrap();
        let doel = startblok_db::toetsdoelen::list(&mut c, s)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.code == "DOEL-A")
            .unwrap();
        drop(c);
        let cell = |fase: i64, o: &str, st: &str| GridCell {
            vak: rw.clone(),
            fase,
            ondergrens: o.into(),
            streef: st.into(),
        };
        // Every wrong cell is named at its own field; nothing is stored.
        let errors = app
            .save_norm_grid(
                s,
                &doel.id,
                &[
                    cell(1, "5", "11"),
                    cell(2, "15", "10"),
                    cell(3, "", "20"),
                    cell(4, "2x", "30"),
                    cell(5, ">40", "50"),
                ],
                &Actor::cli(),
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap_err();
        let o = |f: i64| format!("o-{rw}-{f}");
        assert!(
            errors.get(&o(2)).contains("hoger dan de streefwaarde"),
            "{:?}",
            errors.items()
        );
        assert!(errors.get(&o(3)).contains("vul ook de ondergrens in"));
        assert!(errors.get(&o(4)).contains("geen DLE"));
        assert!(errors.get(&o(5)).contains("zonder < of >"));
        assert_eq!(errors.items().len(), 4);
        assert_eq!(app.normen_csv(s).await.unwrap(), before, "nothing stored");

        // A right grid: one cell changed, one cleared (a gap), the rest as they were.
        let n = app
            .save_norm_grid(
                s,
                &doel.id,
                &[cell(1, "5", "11"), cell(2, "", "")],
                &Actor::cli(),
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(n, 1);
        let stored = app.norm_for(s, &doel.id, &rw, 1).await.unwrap().unwrap();
        assert_eq!(
            stored,
            Norm::new(Dle::parse("5").unwrap(), Dle::parse("11").unwrap()).unwrap()
        );
        assert_eq!(
            app.norm_for(s, &doel.id, &rw, 2).await.unwrap(),
            None,
            "cleared"
        );
        assert!(
            app.norm_for(s, &doel.id, &rw, 3).await.unwrap().is_some(),
            "untouched"
        );
        // Another school's toetsdoel (or none) is not there.
        assert!(
            app.save_norm_grid(s, "onbekend", &[], &Actor::cli())
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_vak_is_added_once_with_a_reason_when_not() {
    for t in TestDb::all().await {
        let app = App::new(t.db.clone(), Settings::new("http://x"));
        let s = school_with_doelen(&app).await;
        app.add_vak(s, "  NT2 mondeling ", &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let names: Vec<String> = app
            .vakken(s)
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.naam)
            .collect();
        assert_eq!(names.len(), 6);
        assert_eq!(names[5], "NT2 mondeling", "trimmed, after the defaults");
        for (input, says) in [
            ("nt2 MONDELING", "bestaat al"),
            ("", "Vul de naam"),
            (&"x".repeat(41)[..], "hoogstens 40"),
        ] {
            let e = app
                .add_vak(s, input, &Actor::cli())
                .await
                .unwrap()
                .unwrap_err();
            assert!(e.get("vak_naam").contains(says), "{input}");
        }
        assert_eq!(app.vakken(s).await.unwrap().len(), 6);
    }
}
