//! Results over HTTP: a wrong manual entry comes back with each error at its field and the input
//! kept, a good one is judged and shown with its chart; conversion tables refused line by line;
//! the Groepsoverzicht as CSV, safe to open in a spreadsheet.

mod common;

use common::{SCHOOL_A, TestApp, Who, spawn_all};

async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = app.csrf(c, path).await;
    let mut form: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(path)).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_leerkracht_enters_a_paper_result_wrong_then_right_and_sees_it_judged() {
    for app in spawn_all().await {
        let c = app.client_as(Who::LeerkrachtA).await;
        let pupil = app.object(SCHOOL_A, "leerling");
        let path = format!("/s/{SCHOOL_A}/leerlingen/{pupil}/resultaten");
        let vak = app
            .app
            .vakken(
                app.app
                    .school_by_code(&SCHOOL_A.parse().unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap()[0]
            .id
            .clone();

        let res = post_form(
            &app,
            &c,
            &path,
            &[
                ("vak", &vak),
                ("afnamedatum", "31-02-2026"),
                ("dle", "12<script>"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("<title>Fout:"), "the title says so");
        assert!(
            body.contains("id=\"afnamedatum-fout\""),
            "error at the date field"
        );
        assert!(body.contains("id=\"dle-fout\""), "error at the DLE field");
        assert!(body.contains("value=\"31-02-2026\""), "input kept");
        assert!(
            body.contains("value=\"12&lt;script&gt;\"")
                || body.contains("value=\"12&#60;script&#62;\""),
            "kept and escaped"
        );
        assert!(!body.contains("12<script>"));

        let res = c
            .post(app.url(&path))
            .form(&[
                ("_csrf", app.csrf(&c, &path).await.as_str()),
                ("vak", vak.as_str()),
                ("afnamedatum", "02-10-2026"),
                ("dle", "25,5"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.contains("?ingevoerd="), "{to}");
        let body = c
            .get(app.url(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(body.contains("Het resultaat is opgeslagen"), "{body}");
        assert!(body.contains("<svg class=\"sb-chart\""), "a chart");
        assert!(body.contains("<desc id="), "with a description");
        assert!(body.contains(">25,5<"), "the DLE as Dutch people write it");

        // An ib'er reads the tab but has no form and cannot post.
        let ib = app.client_as(Who::IbA).await;
        let page = ib
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("25,5") && !page.contains("Resultaat opslaan"));
    }
}

#[tokio::test]
async fn conversion_tables_are_refused_line_by_line_over_http() {
    for app in spawn_all().await {
        let c = app.client_as(Who::BeheerderA).await;
        let path = format!("/s/{SCHOOL_A}/instellingen/toetsen");
        let csrf = app.csrf(&c, &path).await;
        let bad = "toetscode,versie,toetsonderdeelcode,bron,van,tot_en_met,dle\n\
                   BOOM-LVS-SP,1,G3,score,0,4,2\nBOOM-LVS-SP,1,G3,score,3,9,7\n";
        let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
            "bestand",
            reqwest::multipart::Part::bytes(bad.as_bytes().to_vec()).file_name("tabel.csv"),
        );
        let res = c.post(app.url(&path)).multipart(form).send().await.unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("Regel 3: overlapt met regel 2"), "{body}");
        assert!(body.contains("er is niets veranderd"));
        let csv = c
            .get(app.url(&format!("{path}/conversie.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            csv.trim(),
            "toetscode,versie,toetsonderdeelcode,bron,van,tot_en_met,dle",
            "nothing stored"
        );
    }
}

#[tokio::test]
async fn the_group_overview_downloads_as_csv_that_a_spreadsheet_cannot_run() {
    for app in spawn_all().await {
        let c = app.client_as(Who::LeerkrachtA).await;
        let groep = app.object(SCHOOL_A, "groep");
        let page = c
            .get(app.url(&format!("/s/{SCHOOL_A}/overzicht")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("Groepsoverzicht: Groep 1"),
            "one group: shown at once"
        );
        assert!(
            page.contains("Toetsdoelen: DOEL-T: Testdoel."),
            "codes explained"
        );
        // A name that a spreadsheet would read as a formula.
        let school = app
            .app
            .school_by_code(&SCHOOL_A.parse().unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        let team = app.app.team(school).await.unwrap();
        let b = team
            .iter()
            .find(|m| Some(m.user.email.as_str()) == Who::BeheerderA.email())
            .unwrap();
        let who = startblok_app::pupils::InSchool {
            school,
            actor: startblok_app::Actor::user(b.user.id, &b.user.email, "127.0.0.1"),
            roles: vec![startblok_domain::Role::Beheerder],
        };
        let input = startblok_app::pupils::BasisInput {
            achternaam: "Formule".into(),
            roepnaam: "=HYPERLINK(\"x\")".into(),
            groep: groep.clone(),
            ..Default::default()
        };
        app.app.create_pupil(&who, &input).await.unwrap().unwrap();
        let res = c
            .get(app.url(&format!("/s/{SCHOOL_A}/overzicht.csv?groep={groep}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("groepsoverzicht-")
        );
        let text = res.text().await.unwrap();
        assert!(
            text.starts_with("\u{feff}leerling;fase;toetsdoel;"),
            "a byte order mark and semicolons, for Dutch Excel: {text}"
        );
        assert!(
            !text
                .lines()
                .skip(1)
                .any(|l| l.starts_with('=') || l.starts_with("\"=")),
            "{text}"
        );
        assert!(text.contains("'=HYPERLINK"), "{text}");
    }
}
