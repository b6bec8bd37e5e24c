//! Results on SQLite and (when configured) PostgreSQL: the demo's results judged exactly as the
//! domain functions judge them, manual entry refused field by field (nothing stored), a parked
//! result judged once its toetsdoel is set, conversion tables all or nothing, removal that keeps
//! the row, and the Groepsoverzicht with its counts, filters and reach.

use startblok_app::pupils::{BasisInput, InSchool, PupilFilter};
use startblok_app::resultaten::{OverviewFilter, ResultInput};
use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_domain::norms::{Dle, Judgement, ResultFout, growth_per_month};
use startblok_domain::{FaseBands, FaseEntry, Role, SchoolId, fase_on, format_date, today_nl};

const CONVERSIE: &str = include_str!("../demo/conversie-voorbeeld.csv");

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

async fn beheerder(app: &App, s: SchoolId) -> InSchool {
    who(app, s, "beheerder@demo.startblok.nl", &[Role::Beheerder]).await
}

async fn leerkracht(app: &App, s: SchoolId) -> InSchool {
    who(app, s, "leerkracht@demo.startblok.nl", &[Role::Leerkracht]).await
}

/// Rows in the table, removed ones included.
async fn stored_rows(app: &App) -> i64 {
    use sqlx::Row;
    let mut c = app.db.conn().await.unwrap();
    sqlx::query("SELECT COUNT(*) AS n FROM resultaten")
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

#[tokio::test]
async fn the_demo_results_are_judged_as_the_domain_functions_judge_them() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        app.seed_demo().await.unwrap();
        let lk = leerkracht(&app, s).await;
        let mut c = app.db.conn().await.unwrap();
        let all = startblok_db::pupils::list(&mut c, s).await.unwrap();
        drop(c);
        let mut checked = 0;
        let mut seen = std::collections::HashSet::new();
        for p in &all {
            let Some(view) = app.pupil_results(&lk, &p.id).await.unwrap() else {
                continue;
            };
            let mut c = app.db.conn().await.unwrap();
            let entries: Vec<FaseEntry> = startblok_db::pupils::fase_entries(&mut c, s, &p.id)
                .await
                .unwrap()
                .iter()
                .map(|e| FaseEntry {
                    from: e.vanaf,
                    fase: e.fase as u8,
                })
                .collect();
            let history = startblok_db::pupils::toetsdoel_history(&mut c, s, &p.id)
                .await
                .unwrap();
            drop(c);
            for vak in &view.per_vak {
                let vak_id = vak.vak.as_ref().unwrap().id.clone();
                let mut prev: Option<(time::Date, Dle)> = None;
                for row in &vak.rows {
                    let on = row.r.afnamedatum;
                    let fase = fase_on(
                        p.start_nieuwkomers.or(p.instroomdatum),
                        &entries,
                        &FaseBands::default(),
                        on,
                    )
                    .unwrap();
                    // The toetsdoel on that date: the newest change from on or before it.
                    let doel = history
                        .iter()
                        .filter(|h| h.valid_from.is_some_and(|f| f <= on))
                        .max_by_key(|h| (h.valid_from, h.changed_at))
                        .and_then(|h| h.value.clone())
                        .unwrap();
                    let norm = app
                        .norm_for(s, &doel, &vak_id, fase)
                        .await
                        .unwrap()
                        .unwrap();
                    let dle = row.dle.unwrap();
                    assert_eq!(row.judgement, Some(norm.judge(dle)), "{on}");
                    assert_eq!(row.norm, Some(norm));
                    assert_eq!(row.r.derived.fase, Some(i64::from(fase)));
                    assert_eq!(row.groei, prev.and_then(|p| growth_per_month(p, (on, dle))));
                    prev = Some((on, dle));
                    seen.insert(row.judgement.unwrap());
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "the demo has results: {checked}");
        assert_eq!(
            seen.len(),
            3,
            "every judgement occurs in the demo: {seen:?}"
        );
    }
}

#[tokio::test]
async fn manual_entry_refuses_each_bad_field_and_stores_nothing_then_stores_a_good_one() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let bh = beheerder(&app, s).await;
        let list = app.pupil_list(&bh, &PupilFilter::default()).await.unwrap();
        let p = &list.rows[0].pupil;
        let vakken = app.vakken(s).await.unwrap();
        let toetsen = app.toetsen(s).await.unwrap();
        let rw = vakken
            .iter()
            .find(|v| v.naam == "Rekenen-Wiskunde")
            .unwrap();
        let sp = vakken.iter().find(|v| v.naam == "Spelling").unwrap();
        let bl_dig = toetsen
            .iter()
            .find(|t| t.naam == "LVS BL digitaal")
            .unwrap();
        let rw_dig = toetsen
            .iter()
            .find(|t| t.naam == "LVS RW digitaal")
            .unwrap();
        let before = stored_rows(&app).await;
        let today = today_nl(startblok_app::now());
        let tomorrow = format_date(today.next_day().unwrap());
        let cases: Vec<(ResultInput, &str, &str)> = vec![
            (ResultInput::default(), "vak", "Kies het vak"),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    ..Default::default()
                },
                "dle",
                "Vul de DLE in",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: tomorrow,
                    dle: "12".into(),
                    ..Default::default()
                },
                "afnamedatum",
                "toekomst",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: "01-10-2026".into(),
                    dle: "61".into(),
                    ..Default::default()
                },
                "dle",
                "geen DLE",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: "01-10-2026".into(),
                    functioneringsniveau: "Q9".into(),
                    ..Default::default()
                },
                "functioneringsniveau",
                "geen functioneringsniveau",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: "01-10-2026".into(),
                    score: "30".into(),
                    ..Default::default()
                },
                "score",
                "kies de toets",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    toets: rw_dig.id.clone(),
                    onderdeel: "G9".into(),
                    afnamedatum: "01-10-2026".into(),
                    dle: "10".into(),
                    ..Default::default()
                },
                "onderdeel",
                "geen onderdeel 'G9'",
            ),
            (
                ResultInput {
                    vak: sp.id.clone(),
                    toets: bl_dig.id.clone(),
                    afnamedatum: "01-10-2026".into(),
                    dle: "10".into(),
                    ..Default::default()
                },
                "toets",
                "hoort bij het vak Begrijpend lezen",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: "01-10-2026".into(),
                    score: "twaalf".into(),
                    ..Default::default()
                },
                "score",
                "geen getal",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: "01-01-0001".into(),
                    dle: "10".into(),
                    ..Default::default()
                },
                "afnamedatum",
                "Afnamedatum",
            ),
            (
                ResultInput {
                    vak: rw.id.clone(),
                    toets: rw_dig.id.clone(),
                    onderdeel: "G5".into(),
                    afnamedatum: "01-10-2026".into(),
                    score: "45".into(),
                    ..Default::default()
                },
                "score",
                "valt buiten de conversietabel van LVS RW digitaal (van 0 tot en met 44)",
            ),
        ];
        for (input, field, says) in cases {
            let errors = app
                .add_result(&bh, &p.id, &input)
                .await
                .unwrap()
                .unwrap()
                .unwrap_err();
            assert!(
                errors.get(field).contains(says),
                "{field}: {:?}",
                errors.items()
            );
        }
        assert_eq!(stored_rows(&app).await, before, "nothing stored");

        // A score through the conversion table: RW digitaal G5, 23 → 22 in the example table.
        let r = app
            .add_result(
                &bh,
                &p.id,
                &ResultInput {
                    vak: rw.id.clone(),
                    toets: rw_dig.id.clone(),
                    onderdeel: "g5".into(),
                    afnamedatum: "01-10-2026".into(),
                    score: "23".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            r.onderdeel.as_deref(),
            Some("G5"),
            "the catalogue's spelling"
        );
        assert_eq!(r.derived.dle.as_deref(), Some("22"));
        assert_eq!(r.derived.dle_bron.as_deref(), Some("conversietabel"));
        assert_eq!(stored_rows(&app).await, before + 1);

        // A leerkracht cannot enter results for a pupil outside their groups.
        let lk = leerkracht(&app, s).await;
        let own = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        let outside = list
            .rows
            .iter()
            .find(|r| !own.rows.iter().any(|o| o.pupil.id == r.pupil.id))
            .unwrap();
        let input = ResultInput {
            vak: rw.id.clone(),
            afnamedatum: "01-10-2026".into(),
            dle: "10".into(),
            ..Default::default()
        };
        assert!(
            app.add_result(&lk, &outside.pupil.id, &input)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            app.pupil_results(&lk, &outside.pupil.id)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_result_without_toetsdoel_is_parked_and_judged_once_the_toetsdoel_is_set() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let bh = beheerder(&app, s).await;
        let without = app
            .pupil_list(
                &bh,
                &PupilFilter {
                    zonder_toetsdoel: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let p = without.rows[0].pupil.clone();
        let rw = app
            .vakken(s)
            .await
            .unwrap()
            .into_iter()
            .find(|v| v.naam == "Rekenen-Wiskunde")
            .unwrap();
        let on = p.instroomdatum.unwrap().next_day().unwrap();
        let r = app
            .add_result(
                &bh,
                &p.id,
                &ResultInput {
                    vak: rw.id.clone(),
                    afnamedatum: format_date(on),
                    dle: "3".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(r.derived.fout.as_deref(), Some("GEEN_TOETSDOEL"));
        assert_eq!(r.derived.dle.as_deref(), Some("3"), "the DLE is kept");
        let view = app.pupil_results(&bh, &p.id).await.unwrap().unwrap();
        assert_eq!(
            view.per_vak[0].rows[0].fout,
            Some(ResultFout::GeenToetsdoel)
        );

        // Set the toetsdoel from the instroomdatum on, on tab BASIS: judged at once.
        let card = app.pupil_card(&bh, &p.id).await.unwrap().unwrap();
        let mut input = BasisInput::from_pupil(&card.pupil, today_nl(startblok_app::now()));
        let doel = card
            .toetsdoelen
            .iter()
            .find(|d| d.code == "DOEL-C")
            .unwrap();
        input.toetsdoel = doel.id.clone();
        input.toetsdoel_vanaf = format_date(p.instroomdatum.unwrap());
        app.save_basis(&bh, &p.id, &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let view = app.pupil_results(&bh, &p.id).await.unwrap().unwrap();
        let row = &view.per_vak[0].rows[0];
        assert_eq!(row.fout, None, "{:?}", row.r.derived);
        // DOEL-C, Rekenen-Wiskunde, fase 1 in the example norms: 2–5, so 3 is op norm.
        assert_eq!(row.judgement, Some(Judgement::OpNorm));
        assert_eq!(row.toetsdoel_code, "DOEL-C");
    }
}

#[tokio::test]
async fn conversion_tables_import_whole_or_not_at_all_and_export_the_same() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        // The demo loaded the example; its export has the same lines.
        let out = app.conversie_csv(s).await.unwrap();
        let sorted = |text: &str| {
            let mut l: Vec<String> = text.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(sorted(&out), sorted(CONVERSIE));
        let n = app
            .import_conversie(s, out.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, CONVERSIE.lines().count() - 1);
        assert_eq!(app.conversie_csv(s).await.unwrap(), out, "a round trip");

        let bad = "toetscode,versie,toetsonderdeelcode,bron,van,tot_en_met,dle\n\
                   BOOM-LVS-SP,1,G3,score,0,4,2\n\
                   BOOM-LVS-SP,1,G3,score,4,9,7\n\
                   BOOM-LVS-SP,1,G4,score,0,4,2\n\
                   BOOM-LVS-SP,1,G4,score,7,9,7\n\
                   BOOM-LVS-SP,1,G5,score,9,4,2\n\
                   ONBEKEND,1,,score,0,4,2\n\
                   BOOM-LVS-SP,1,G9,score,0,4,2\n\
                   BOOM-LVS-SP,1,G6,score,0,4,61\n\
                   BOOM-LVS-SP,1,G6,punten,0,4,6\n";
        let errors = app
            .import_conversie(s, bad.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap_err();
        let said: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        let expect = [
            (3, "overlapt met regel 2"),
            (5, "gat tussen regel 4"),
            (6, "'van' is groter"),
            (7, "toets 'ONBEKEND'"),
            (8, "geen onderdeel 'G9'"),
            (9, "dle:"),
            (10, "bron 'punten'"),
        ];
        for (line, part) in expect {
            assert!(
                said.iter()
                    .any(|s| s.starts_with(&format!("Regel {line}:")) && s.contains(part)),
                "line {line} ({part}): {said:?}"
            );
        }
        assert_eq!(said.len(), expect.len(), "{said:?}");
        assert_eq!(
            app.conversie_csv(s).await.unwrap(),
            out,
            "nothing half-imported"
        );
    }
}

#[tokio::test]
async fn a_removed_result_disappears_from_view_but_stays_stored() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let lk = leerkracht(&app, s).await;
        let own = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        let p = &own
            .rows
            .iter()
            .find(|r| r.pupil.instroomdatum.is_some_and(|d| d.year() < 2026))
            .unwrap()
            .pupil;
        let view = app.pupil_results(&lk, &p.id).await.unwrap().unwrap();
        let before: usize = view.per_vak.iter().map(|v| v.rows.len()).sum();
        let id = view.per_vak[0].rows[0].r.id.clone();
        let rows = stored_rows(&app).await;
        assert_eq!(
            app.remove_result(&lk, &p.id, &id).await.unwrap(),
            Some(true)
        );
        assert_eq!(
            app.remove_result(&lk, &p.id, &id).await.unwrap(),
            Some(false),
            "a second click changes nothing"
        );
        assert_eq!(
            app.remove_result(&lk, &p.id, "onbekend").await.unwrap(),
            None
        );
        let view = app.pupil_results(&lk, &p.id).await.unwrap().unwrap();
        let after: usize = view.per_vak.iter().map(|v| v.rows.len()).sum();
        assert_eq!(after, before - 1);
        assert_eq!(stored_rows(&app).await, rows, "kept, marked removed");
    }
}

#[tokio::test]
async fn the_group_overview_counts_filters_exports_and_keeps_to_the_users_groups() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let lk = leerkracht(&app, s).await;
        let empty = app
            .group_overview(&lk, &OverviewFilter::default(), false)
            .await
            .unwrap();
        assert_eq!(
            empty.groups.len(),
            1,
            "a leerkracht chooses among their own groups"
        );
        assert!(empty.groep.is_none());
        let nk_a = empty.groups[0].0.clone();
        let o = app
            .group_overview(
                &lk,
                &OverviewFilter {
                    groep: nk_a.clone(),
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        assert_eq!(o.rows.len(), 12);
        for (k, n) in o.counts.iter().enumerate() {
            assert_eq!(n.onder + n.op + n.streef + n.geen, o.rows.len());
            let onder = o
                .rows
                .iter()
                .filter(|r| matches!(&r.cells[k], Some(c) if c.judgement == Judgement::OnderNorm))
                .count();
            assert_eq!(n.onder, onder);
        }
        assert!(o.counts[0].onder + o.counts[0].op + o.counts[0].streef > 0);
        // Each cell is the latest processed result of that vak, as on the pupil's tab.
        for row in &o.rows {
            let view = app
                .pupil_results(&lk, &row.pupil.id)
                .await
                .unwrap()
                .unwrap();
            for (k, vak) in o.vakken.iter().enumerate() {
                let latest = view
                    .per_vak
                    .iter()
                    .find(|v| v.vak.as_ref().is_some_and(|x| x.id == vak.id))
                    .and_then(|v| v.rows.iter().rev().find(|r| r.fout.is_none()));
                assert_eq!(
                    row.cells[k].as_ref().map(|c| (c.dle, c.judgement)),
                    latest.map(|r| (r.dle.unwrap(), r.judgement.unwrap()))
                );
            }
        }
        // Filters: by toetsdoel and by fase.
        let doel = o.toetsdoelen.iter().find(|d| d.code == "DOEL-A").unwrap();
        let only_a = app
            .group_overview(
                &lk,
                &OverviewFilter {
                    groep: nk_a.clone(),
                    toetsdoel: doel.id.clone(),
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        assert!(!only_a.rows.is_empty() && only_a.rows.len() < o.rows.len());
        assert!(only_a.rows.iter().all(|r| r.toetsdoel_code == "DOEL-A"));
        let fase = o.rows[0].fase.unwrap();
        let one_fase = app
            .group_overview(
                &lk,
                &OverviewFilter {
                    groep: nk_a.clone(),
                    fase: fase.to_string(),
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        assert!(one_fase.rows.iter().all(|r| r.fase == Some(fase)));
        assert!(!one_fase.rows.is_empty());

        // Another group is not there for this leerkracht, not even by its id.
        let bh = beheerder(&app, s).await;
        let all = app
            .group_overview(&bh, &OverviewFilter::default(), false)
            .await
            .unwrap();
        assert_eq!(all.groups.len(), 3);
        let other = all.groups.iter().find(|g| g.0 != nk_a).unwrap().0.clone();
        let refused = app
            .group_overview(
                &lk,
                &OverviewFilter {
                    groep: other,
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        assert!(refused.groep.is_none() && refused.rows.is_empty());

        // The CSV: a header and a line per pupil, with the DLE as shown.
        let (naam, csv) = app
            .group_overview_csv(
                &lk,
                &OverviewFilter {
                    groep: nk_a,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(naam, o.groep.as_ref().unwrap().naam);
        let csv = csv.strip_prefix('\u{feff}').expect("a byte order mark");
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(csv.as_bytes());
        let head = r.headers().unwrap().clone();
        assert_eq!(&head[0], "leerling");
        assert_eq!(&head[3], "Rekenen-Wiskunde DLE");
        let lines: Vec<csv::StringRecord> = r.records().map(|l| l.unwrap()).collect();
        assert_eq!(lines.len(), o.rows.len());
        for (line, row) in lines.iter().zip(&o.rows) {
            assert_eq!(&line[0], row.pupil.display_name());
            assert_eq!(
                &line[3],
                row.cells[0]
                    .as_ref()
                    .map(|c| c.dle.to_string())
                    .unwrap_or_default()
            );
        }
    }
}

#[tokio::test]
async fn a_later_fase_entry_norm_or_table_rejudges_results_already_judged() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let bh = beheerder(&app, s).await;
        let lk = leerkracht(&app, s).await;
        let own = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        // A pupil whose results are judged in fase 1 (the first months).
        let (p, row) = {
            let mut found = None;
            for r in &own.rows {
                let v = app.pupil_results(&lk, &r.pupil.id).await.unwrap().unwrap();
                if let Some(x) = v
                    .per_vak
                    .iter()
                    .flat_map(|v| &v.rows)
                    .find(|x| x.r.derived.fase == Some(1) && x.fout.is_none())
                {
                    found = Some((r.pupil.clone(), x.clone()));
                    break;
                }
            }
            found.expect("a demo result in fase 1")
        };
        // "Vanaf" the day before that result: fase 5, with a higher norm in the example.
        let vanaf = format_date(row.r.afnamedatum.previous_day().unwrap());
        app.add_fase_entry(&lk, &p.id, "5", &vanaf)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v = app.pupil_results(&lk, &p.id).await.unwrap().unwrap();
        let again = v
            .per_vak
            .iter()
            .flat_map(|v| &v.rows)
            .find(|x| x.r.id == row.r.id)
            .unwrap();
        assert_eq!(
            again.r.derived.fase,
            Some(5),
            "judged on its afnamedatum again"
        );
        assert_ne!(again.norm, row.norm, "the norm of fase 5");
        assert_eq!(
            again.judgement,
            Some(again.norm.unwrap().judge(again.dle.unwrap()))
        );

        // A conversion table that reads the vaardigheidsscore: a score is read as such.
        let csv = "toetscode,versie,toetsonderdeelcode,bron,van,tot_en_met,dle\n\
                   BOOM-LVS-SP,1,,vaardigheidsscore,100,149.9,10\n\
                   BOOM-LVS-SP,1,,vaardigheidsscore,150,200,20\n";
        app.import_conversie(s, csv.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let sp = app
            .toetsen(s)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.naam == "LVS SP")
            .unwrap();
        let spelling = app
            .vakken(s)
            .await
            .unwrap()
            .into_iter()
            .find(|v| v.naam == "Spelling")
            .unwrap();
        let r = app
            .add_result(
                &bh,
                &p.id,
                &ResultInput {
                    vak: spelling.id.clone(),
                    toets: sp.id.clone(),
                    afnamedatum: format_date(row.r.afnamedatum),
                    score: "151,5".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(r.vaardigheidsscore.as_deref(), Some("151,5"));
        assert_eq!(r.score, None);
        assert_eq!(r.derived.dle.as_deref(), Some("20"));
        // The table changes: the result is read with the new one at once.
        let csv = "toetscode,versie,toetsonderdeelcode,bron,van,tot_en_met,dle\n\
                   BOOM-LVS-SP,1,,vaardigheidsscore,100,200,15\n";
        app.import_conversie(s, csv.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let v = app.pupil_results(&bh, &p.id).await.unwrap().unwrap();
        let now = v
            .per_vak
            .iter()
            .flat_map(|v| &v.rows)
            .find(|x| x.r.id == r.id)
            .unwrap();
        assert_eq!(now.dle.map(|d| d.to_string()).as_deref(), Some("15"));
    }
}

#[tokio::test]
async fn school_setup_bands_rejudge_every_result_and_bad_input_changes_nothing() {
    use startblok_app::school_setup::PeriodeInput;
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let lk = leerkracht(&app, s).await;
        let own = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        let fases = |v: &startblok_app::resultaten::PupilResults| -> Vec<Option<i64>> {
            v.per_vak
                .iter()
                .flat_map(|v| &v.rows)
                .map(|r| r.r.derived.fase)
                .collect()
        };
        let p = own.rows[0].pupil.id.clone();
        let before = app.pupil_results(&lk, &p).await.unwrap().unwrap();
        assert!(!fases(&before).is_empty());

        // Bands that do not increase: refused at the field, nothing changes.
        for bad in ["6, 6", "12, 6", "zes", "0"] {
            let e = app
                .save_fase_bands(s, bad, &Actor::cli())
                .await
                .unwrap()
                .unwrap_err();
            assert!(e.get("fasegrenzen").starts_with("Fasegrenzen:"), "{bad}");
        }
        assert_eq!(app.fase_bands(s).await.unwrap(), FaseBands::default());

        // No bounds at all: everyone is in fase 1, and every result is judged so at once.
        app.save_fase_bands(s, "", &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let after = app.pupil_results(&lk, &p).await.unwrap().unwrap();
        assert!(
            fases(&after).iter().all(|f| *f == Some(1)),
            "{:?}",
            fases(&after)
        );
        let card = app.pupil_card(&lk, &p).await.unwrap().unwrap();
        assert_eq!(card.fase_today, Some(1));
        app.save_fase_bands(s, "6, 12, 18, 24", &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let back = app.pupil_results(&lk, &p).await.unwrap().unwrap();
        assert_eq!(fases(&back), fases(&before), "and back again");

        // Test periods: named, dated, not overlapping; a result shows its period.
        let first = &back.per_vak[0].rows[0];
        let on = first.r.afnamedatum;
        let add = |naam: &str, van: time::Date, tot: time::Date| PeriodeInput {
            naam: naam.into(),
            van: format_date(van),
            tot_en_met: format_date(tot),
        };
        let day = time::Duration::days(1);
        app.add_toetsperiode(s, &add("Midden", on - day, on + day), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let e = app
            .add_toetsperiode(s, &add("Eind", on, on + 30 * day), &Actor::cli())
            .await
            .unwrap()
            .unwrap_err();
        assert!(e.get("van").contains("overlapt met 'Midden'"));
        let e = app
            .add_toetsperiode(s, &add("", on + 10 * day, on), &Actor::cli())
            .await
            .unwrap()
            .unwrap_err();
        assert!(!e.get("naam").is_empty() && e.get("tot_en_met").contains("ligt voor"));
        assert_eq!(app.toetsperiodes(s).await.unwrap().len(), 1);
        let shown = app.pupil_results(&lk, &p).await.unwrap().unwrap();
        assert_eq!(shown.per_vak[0].rows[0].periode.as_deref(), Some("Midden"));
    }
}

#[tokio::test]
async fn the_catalogue_is_corrected_from_a_file_whole_or_not_at_all() {
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let before = app.toetsen_csv(s).await.unwrap();
        // The export is the fixture's format: it reads back unchanged.
        assert!(before.starts_with("leverancier,toetscode,versie,naam,vak,toetsonderdelen\n"));
        assert!(
            before.contains("Boom,BOOM-LVS-RW-2019,2019,LVS RW 2019,Rekenen-Wiskunde,G3 G4 G5 G6")
        );
        let n = app
            .import_toetsen(s, before.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 4);
        assert_eq!(app.toetsen_csv(s).await.unwrap(), before);

        let bad = "leverancier,toetscode,versie,naam,vak,toetsonderdelen\n\
                   Boom,BOOM-LVS-SP,1,LVS SP,Gym,G3\n\
                   Boom,,1,Zonder code,Spelling,G3\n\
                   Boom,NIEUW,1,Nieuwe toets,Spelling,G3\n\
                   Boom,NIEUW,1,Nog eens,Spelling,G4\n";
        let errors = app
            .import_toetsen(s, bad.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap_err();
        let said: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            said[0].starts_with("Regel 2: vak 'Gym' bestaat niet"),
            "{said:?}"
        );
        assert!(
            said[1].starts_with("Regel 3: toetscode ontbreekt"),
            "{said:?}"
        );
        assert!(
            said[2].starts_with("Regel 5:") && said[2].contains("staat al eerder"),
            "{said:?}"
        );
        assert_eq!(said.len(), 3);
        assert_eq!(app.toetsen_csv(s).await.unwrap(), before, "nothing changed");

        let good = "leverancier,toetscode,versie,naam,vak,toetsonderdelen\n\
                    Boom,BOOM-LVS-SP,1,LVS Spelling,Spelling,G3 G4 G5 G6 G7\n\
                    Boom,BOOM-LVS-WS,1,LVS Woordenschat,Woordenschat,G4\n";
        app.import_toetsen(s, good.as_bytes(), &Actor::cli())
            .await
            .unwrap()
            .unwrap();
        let list = app.toetsen(s).await.unwrap();
        assert_eq!(list.len(), 5);
        let sp = list.iter().find(|t| t.toetscode == "BOOM-LVS-SP").unwrap();
        assert_eq!(sp.naam, "LVS Spelling");
        assert_eq!(sp.onderdelen, ["G3", "G4", "G5", "G6", "G7"]);
    }
}

#[tokio::test]
async fn dl_achterstand_and_leerrendement_follow_the_start_of_groep_3_and_the_month_table() {
    use startblok_domain::norms::{DoublurePolicy, MonthTable, achterstand, dl_on};
    for t in TestDb::all().await {
        let app = app(&t);
        let s = demo_school(&app).await;
        let lk = leerkracht(&app, s).await;
        let own = app.pupil_list(&lk, &PupilFilter::default()).await.unwrap();
        let p = own
            .rows
            .iter()
            .find(|r| r.pupil.instroomdatum.is_some_and(|d| d.year() < 2026))
            .unwrap()
            .pupil
            .clone();
        let view = app.pupil_results(&lk, &p.id).await.unwrap().unwrap();
        assert!(
            view.per_vak
                .iter()
                .flat_map(|v| &v.rows)
                .all(|r| r.dl.is_none()),
            "no DL without a start of groep 3"
        );
        // As an import would store it (the LAS owns this field).
        let start = time::macros::date!(2021 - 08 - 20);
        let mut c = app.db.conn().await.unwrap();
        sqlx::query("UPDATE pupils SET start_groep3 = '2021-08-20' WHERE id = $1")
            .bind(p.id.clone())
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        for (table, input) in [
            (MonthTable::Started, "gestart"),
            (MonthTable::Completed, "voltooid"),
        ] {
            app.save_month_table(s, input, &Actor::cli())
                .await
                .unwrap()
                .unwrap();
            let view = app.pupil_results(&lk, &p.id).await.unwrap().unwrap();
            for r in view.per_vak.iter().flat_map(|v| &v.rows) {
                let dl = dl_on(start, r.r.afnamedatum, table, DoublurePolicy::CountOn, &[]);
                assert_eq!(r.dl, dl);
                assert_eq!(
                    r.achterstand,
                    Some(achterstand(dl.unwrap(), r.dle.unwrap()))
                );
                assert!(r.leerrendement.is_some());
            }
        }
        assert!(
            app.save_month_table(s, "anders", &Actor::cli())
                .await
                .unwrap()
                .is_err()
        );
    }
}
