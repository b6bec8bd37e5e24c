//! Boom-leerlingnummers from a file: the demo CSV, an XLSX, names + birth dates, and the refusals.

use startblok_app::boom_file::{KeyKind, Mapping, RowStatus};
use startblok_app::pupils::{InSchool, PupilFilter};
use startblok_app::spreadsheet::TableError;
use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_domain::Role;

/// The demo school's numbers file: the copy the demo itself uses (identical to
/// shared/fixtures/boomnummers-demo.csv), so the test runs on a machine without shared/ too.
const DEMO_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/boomnummers-demo.csv");

async fn setup(t: &TestDb) -> (App, InSchool) {
    let app = App::new(t.db.clone(), Settings::new("http://startblok.test"));
    app.seed_demo().await.unwrap();
    let school = app
        .school_by_code(&"99ZZ-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut c = t.db.conn().await.unwrap();
    let u = startblok_db::users::by_email(&mut c, "beheerder@demo.startblok.nl")
        .await
        .unwrap()
        .unwrap();
    let who = InSchool {
        school,
        actor: Actor::user(u.id, &u.email, "127.0.0.1"),
        roles: vec![Role::Beheerder],
    };
    (app, who)
}

/// Clears every pupil's number, so the file has something to do.
async fn clear_numbers(app: &App, who: &InSchool) {
    let rows = app.boom_table(who.school).await.unwrap();
    let entries: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.pupil.id.clone(), String::new()))
        .collect();
    app.save_boom_bulk(who, &entries).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_demo_csv_matches_by_las_key_and_applies_only_confirmed_rows() {
    for t in TestDb::all().await {
        let (app, who) = setup(&t).await;
        clear_numbers(&app, &who).await;
        let bytes = std::fs::read(DEMO_CSV).expect("crates/app/demo/boomnummers-demo.csv");
        let upload = app
            .upload_boom_file(&who, "boomnummers-demo.csv", &bytes)
            .await
            .unwrap()
            .unwrap();
        let (_, table) = app.boom_upload(who.school, &upload).await.unwrap().unwrap();
        let guess = startblok_app::boom_file::guess_mapping(&table.headers);
        assert_eq!(
            guess,
            (Some(1), KeyKind::LasKey, Some(0), None),
            "columns recognised by name"
        );
        let mapping = Mapping {
            boom: 1,
            key: KeyKind::LasKey,
            key_col: 0,
            dob_col: None,
        };
        let preview = app
            .boom_preview(who.school, &upload, &mapping)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(preview.rows.len(), 32);
        assert_eq!(
            preview.count(|s| *s == RowStatus::New),
            32,
            "{:?}",
            t.backend()
        );

        // Confirm all but the first row.
        let lines: Vec<usize> = preview.rows.iter().skip(1).map(|r| r.line).collect();
        let changed = app
            .apply_boom_file(&who, &upload, &mapping, &lines)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(changed, 31);
        let missing = app
            .pupil_list(
                &who,
                &PupilFilter {
                    zonder_boom: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(missing.rows.len(), 36 - 31);
        assert!(
            app.boom_upload(who.school, &upload)
                .await
                .unwrap()
                .is_none(),
            "the upload is gone once applied"
        );
    }
}

#[tokio::test]
async fn an_xlsx_with_names_and_birth_dates_shows_what_would_happen() {
    let t = TestDb::sqlite().await;
    let (app, who) = setup(&t).await;
    let list = app.pupil_list(&who, &PupilFilter::default()).await.unwrap();
    let with_number = list
        .rows
        .iter()
        .find(|r| r.pupil.boom_leerlingnummer.is_some())
        .unwrap();
    let without = list
        .rows
        .iter()
        .find(|r| r.pupil.boom_leerlingnummer.is_none())
        .unwrap();

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Achternaam").unwrap();
    sheet.write_string(0, 1, "Geboortedatum").unwrap();
    sheet.write_string(0, 2, "Boom-leerlingnummer").unwrap();
    let dob = |r: &startblok_app::pupils::PupilRow| {
        startblok_domain::format_date(r.pupil.geboortedatum.unwrap())
    };
    // Row 2: the pupil without a number, surname in capitals, number as a spreadsheet number.
    sheet
        .write_string(1, 0, with_number.pupil.achternaam.to_uppercase().as_str())
        .unwrap();
    sheet.write_string(1, 1, dob(with_number).as_str()).unwrap();
    sheet.write_number(1, 2, 424242.0).unwrap();
    sheet
        .write_string(2, 0, without.pupil.achternaam.as_str())
        .unwrap();
    sheet.write_string(2, 1, dob(without).as_str()).unwrap();
    sheet.write_string(2, 2, "007007").unwrap();
    sheet.write_string(3, 0, "Onbekend").unwrap();
    sheet.write_string(3, 1, "01-01-2015").unwrap();
    sheet.write_string(3, 2, "1").unwrap();
    sheet.write_string(4, 0, "Niemand").unwrap();
    sheet.write_string(4, 1, "geen datum").unwrap();
    sheet.write_string(4, 2, "2").unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let upload = app
        .upload_boom_file(&who, "lijst.xlsx", &bytes)
        .await
        .unwrap()
        .unwrap();
    let (_, table) = app.boom_upload(who.school, &upload).await.unwrap().unwrap();
    let guess = startblok_app::boom_file::guess_mapping(&table.headers);
    assert_eq!(
        guess,
        (Some(2), KeyKind::NameAndBirthDate, Some(0), Some(1))
    );
    let mapping = Mapping {
        boom: 2,
        key: KeyKind::NameAndBirthDate,
        key_col: 0,
        dob_col: Some(1),
    };
    let preview = app
        .boom_preview(who.school, &upload, &mapping)
        .await
        .unwrap()
        .unwrap();
    let statuses: Vec<&RowStatus> = preview.rows.iter().map(|r| &r.status).collect();
    assert!(
        matches!(statuses[0], RowStatus::Overwrite { .. }),
        "{statuses:?}"
    );
    assert_eq!(
        preview.rows[0].boom, "424242",
        "a number cell reads as written"
    );
    assert_eq!(statuses[1], &RowStatus::New);
    assert_eq!(preview.rows[1].boom, "007007");
    assert_eq!(statuses[2], &RowStatus::NotFound);
    assert!(matches!(statuses[3], RowStatus::Invalid { .. }));

    // Only the confirmed overwrite is applied; the new one is left alone.
    let changed = app
        .apply_boom_file(&who, &upload, &mapping, &[2])
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(changed, 1);
    let card = app
        .pupil_card(&who, &with_number.pupil.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.pupil.boom_leerlingnummer.as_deref(), Some("424242"));
    let card = app
        .pupil_card(&who, &without.pupil.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.pupil.boom_leerlingnummer, None);
}

#[tokio::test]
async fn a_number_that_belongs_to_another_pupil_refuses_the_whole_apply() {
    let t = TestDb::sqlite().await;
    let (app, who) = setup(&t).await;
    let list = app.pupil_list(&who, &PupilFilter::default()).await.unwrap();
    let a = list
        .rows
        .iter()
        .find(|r| r.pupil.boom_leerlingnummer.is_none())
        .unwrap();
    let b = list
        .rows
        .iter()
        .find(|r| r.pupil.boom_leerlingnummer.is_some())
        .unwrap();
    let csv = format!(
        "las;boom\n{};{}\n",
        a.pupil.las_key.as_deref().unwrap(),
        b.pupil.boom_leerlingnummer.as_deref().unwrap()
    );
    let upload = app
        .upload_boom_file(&who, "x.csv", csv.as_bytes())
        .await
        .unwrap()
        .unwrap();
    let mapping = Mapping {
        boom: 1,
        key: KeyKind::LasKey,
        key_col: 0,
        dob_col: None,
    };
    let err = app
        .apply_boom_file(&who, &upload, &mapping, &[2])
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(err[0].0, 2);
    assert!(err[0].1.contains(&b.pupil.display_name()), "{err:?}");
    let duplicate = format!(
        "las;boom\n{k};1\n{k};2\n",
        k = a.pupil.las_key.as_deref().unwrap()
    );
    let upload = app
        .upload_boom_file(&who, "y.csv", duplicate.as_bytes())
        .await
        .unwrap()
        .unwrap();
    let p = app
        .boom_preview(who.school, &upload, &mapping)
        .await
        .unwrap()
        .unwrap();
    assert!(
        p.rows
            .iter()
            .all(|r| r.status == RowStatus::DuplicateInFile)
    );
    assert_eq!(
        app.upload_boom_file(&who, "z.txt", b"")
            .await
            .unwrap()
            .unwrap_err(),
        TableError::Empty
    );
}
