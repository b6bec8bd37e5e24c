//! Importeren over HTTP, on SQLite and (when configured) PostgreSQL: upload, preview, apply in
//! the background with a progress page, the report, the history, and refusals at the field.
//! Reads the demo's copy of `shared/fixtures/edexml/nieuwkomers-demo.xml` (kept equal to it by
//! `crates/app/tests/demo_data.rs`).

mod common;

use common::{TestApp, Who, spawn_all, spawn_sqlite};

/// The demo export, as if it came from School Alfa (11AA-00).
fn school_a_file() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../app/demo/nieuwkomers-demo.xml"
    );
    std::fs::read_to_string(path)
        .expect("the demo's copy of nieuwkomers-demo.xml")
        .replace("<brincode>99ZZ</brincode>", "<brincode>11AA</brincode>")
        .into_bytes()
}

async fn upload(app: &TestApp, c: &reqwest::Client, bytes: Vec<u8>) -> reqwest::Response {
    let csrf = app.csrf(c, "/s/11AA-00/importeren").await;
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "bestand",
        reqwest::multipart::Part::bytes(bytes).file_name("export.xml"),
    );
    c.post(app.url("/s/11AA-00/importeren"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    c.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_beheerder_uploads_checks_and_applies_an_export_and_sees_it_in_the_history() {
    for app in spawn_all().await {
        let c = app.client_as(Who::BeheerderA).await;
        let start = get(&app, &c, "/s/11AA-00/importeren").await;
        assert!(start.contains("EDEXML-bestand"));

        let res = upload(&app, &c, school_a_file()).await;
        assert_eq!(res.status(), 303, "{:?}", app.db.backend());
        let preview_path = res.headers()["location"].to_str().unwrap().to_string();
        let preview = get(&app, &c, &preview_path).await;
        assert!(preview.contains("Controleren en toepassen"));
        assert!(preview.contains("Nieuwe leerlingen (36)"), "{preview}");
        assert!(preview.contains("García López"));
        assert!(preview.contains("Petra Vos"));
        // The seeded manual pupil can be chosen as "the same as".
        assert!(preview.contains("Is dezelfde als"));
        // Nothing is written yet.
        let list = get(&app, &c, "/s/11AA-00/leerlingen").await;
        assert!(!list.contains("García López"));

        // Only a click on Toepassen applies: a post without it (or with another value) does not.
        for actie in [None, Some(""), Some("verwijderen")] {
            let mut form = vec![
                ("_csrf", field(&preview, "_csrf")),
                ("vingerafdruk", field(&preview, "vingerafdruk")),
            ];
            if let Some(a) = actie {
                form.push(("actie", a.to_string()));
            }
            let res = c
                .post(app.url(&preview_path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303, "{actie:?}");
            let page = get(&app, &c, &preview_path).await;
            assert!(
                page.contains("Controleren en toepassen"),
                "{actie:?} applied the import"
            );
        }
        let res = c
            .post(app.url(&preview_path))
            .form(&[
                ("_csrf", field(&preview, "_csrf").as_str()),
                ("vingerafdruk", field(&preview, "vingerafdruk").as_str()),
                ("actie", "toepassen"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let mut page = String::new();
        for _ in 0..100 {
            page = get(&app, &c, &preview_path).await;
            if !page.contains("Bezig met inlezen") {
                break;
            }
            assert!(
                page.contains("http-equiv=\"refresh\""),
                "the progress page refreshes"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(page.contains("Ingelezen"), "{page}");
        assert!(
            page.contains("<strong>36</strong> nieuwe leerlingen"),
            "{page}"
        );

        let list = get(&app, &c, "/s/11AA-00/leerlingen").await;
        assert!(list.contains("García López"));
        // The teachers are in the team, without a login and not (yet) invited.
        let users = get(&app, &c, "/s/11AA-00/instellingen/gebruikers").await;
        let vos = &users[users.find("Petra Vos").expect("Petra Vos in the team")..];
        let row = &vos[..vos.find("</tr>").unwrap()];
        assert!(row.contains("Nog geen toegang"), "{row}");
        let history = get(&app, &c, "/s/11AA-00/importeren").await;
        assert!(history.contains("export.xml"));
        assert!(history.contains("36 nieuwe leerlingen"));

        // Applying twice does nothing more: the import is no longer a preview.
        let again = c
            .post(app.url(&preview_path))
            .form(&[
                ("_csrf", field(&preview, "_csrf").as_str()),
                ("vingerafdruk", field(&preview, "vingerafdruk").as_str()),
                ("actie", "toepassen"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 303);

        // The same file again: nothing to change.
        let res = upload(&app, &c, school_a_file()).await;
        let second = get(&app, &c, res.headers()["location"].to_str().unwrap()).await;
        assert!(
            second.contains("Dit bestand brengt geen wijzigingen"),
            "{second}"
        );
        assert!(second.contains("<strong>36</strong> leerlingen ongewijzigd"));
    }
}

#[tokio::test]
async fn wrong_files_come_back_at_the_field_in_dutch() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    let other_school = school_a_file();
    let other_school = String::from_utf8(other_school)
        .unwrap()
        .replace("<brincode>11AA</brincode>", "<brincode>99ZZ</brincode>");
    for (bytes, says) in [
        (
            other_school.into_bytes(),
            "Dit bestand is van school 99ZZ-00",
        ),
        (b"001000;Garcia;Fatima\n".to_vec(), "EDEX-tekstbestand"),
        (
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><EDEX/>".to_vec(),
            "DOCTYPE",
        ),
        (Vec::new(), "Kies een bestand"),
    ] {
        let res = if bytes.is_empty() {
            let csrf = app.csrf(&c, "/s/11AA-00/importeren").await;
            let form = reqwest::multipart::Form::new().text("_csrf", csrf);
            c.post(app.url("/s/11AA-00/importeren"))
                .multipart(form)
                .send()
                .await
                .unwrap()
        } else {
            upload(&app, &c, bytes).await
        };
        assert_eq!(res.status(), 422, "{says}");
        let body = res.text().await.unwrap();
        assert!(body.contains(says), "{says}: {body}");
        assert!(
            body.contains("id=\"bestand-fout\""),
            "the message is at the field"
        );
    }
    // A file above the limit: the message at the field, whether the file itself or the whole
    // request is what is too large.
    let max = startblok_app::edexml_import::MAX_IMPORT_BYTES;
    for size in [max + 10, max + 200 * 1024] {
        let res = upload(&app, &c, vec![b' '; size]).await;
        let page = match res.status().as_u16() {
            303 => {
                let to = res.headers()["location"].to_str().unwrap().to_string();
                get(&app, &c, &to).await
            }
            422 => res.text().await.unwrap(),
            other => panic!("{size}: {other}"),
        };
        assert!(page.contains("groter dan 64 MB"), "{size}: {page}");
        assert!(page.contains("id=\"bestand-fout\""));
    }
    // Far above the limit (a 200 MB file): answered from the announced length, before a byte of
    // the body is read, with the same way back to the field message (not the general page).
    // The same for a length above a route's own limit but below the server's (the Boom list).
    let boom = "/s/11AA-00/instellingen/boomnummers/bestand";
    for (path, length) in [
        ("/s/11AA-00/importeren", 200 * 1024 * 1024),
        (boom, 200 * 1024 * 1024),
        (boom, 10 * 1024 * 1024),
    ] {
        let head = too_large_head(&app, path, length).await;
        assert!(head.starts_with("HTTP/1.1 303"), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("location: {path}?fout=te-groot").to_ascii_lowercase()),
            "{path}: {head}"
        );
    }
}

/// Sends only the headers of a multipart upload announcing `length` bytes and returns the head of
/// the answer: the server must answer without waiting for the body.
/// Logs in on a connection of its own (the session cookie is sent by hand).
async fn too_large_head(app: &TestApp, path: &str, length: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/inloggen"))
        .form(&[
            ("email", Who::BeheerderA.email().unwrap()),
            ("wachtwoord", common::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie: Vec<&str> = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .collect();
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n",
        app.addr,
        cookie.join("; ")
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_preview_can_be_cancelled_and_then_holds_no_pupil_data() {
    let app = spawn_sqlite().await;
    let c = app.client_as(Who::BeheerderA).await;
    let res = upload(&app, &c, school_a_file()).await;
    let path = res.headers()["location"].to_str().unwrap().to_string();
    let preview = get(&app, &c, &path).await;
    let res = c
        .post(app.url(&path))
        .form(&[
            ("_csrf", field(&preview, "_csrf").as_str()),
            ("vingerafdruk", field(&preview, "vingerafdruk").as_str()),
            ("actie", "annuleren"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = get(&app, &c, &path).await;
    assert!(page.contains("Voorvertoning vervallen"), "{page}");
    let id = path.rsplit('/').next().unwrap();
    let s = app
        .app
        .school_by_code(&"11AA-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.app.db.conn().await.unwrap();
    let stored = startblok_db::imports::get(&mut conn, s.id, id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.roster.is_none());
    let list = get(&app, &c, "/s/11AA-00/leerlingen").await;
    assert!(!list.contains("García López"));
}
