//! Shared test support: the real app on a free port over a fresh database, with two schools
//! and a user for every role, and HTTP clients logged in as each of them.
#![allow(dead_code)]

use std::net::SocketAddr;

use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_domain::Role;

pub const PASSWORD: &str = "test-wachtwoord-1";
pub const SCHOOL_A: &str = "11AA-00";
pub const SCHOOL_B: &str = "22BB-00";

/// The identities a test can act as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Anonymous,
    Operator,
    BeheerderA,
    LeerkrachtA,
    IbA,
    BeheerderB,
}

impl Who {
    pub const ALL: [Who; 6] = [
        Who::Anonymous,
        Who::Operator,
        Who::BeheerderA,
        Who::LeerkrachtA,
        Who::IbA,
        Who::BeheerderB,
    ];

    pub fn email(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Operator => Some("operator@test.nl"),
            Who::BeheerderA => Some("beheerder-a@test.nl"),
            Who::LeerkrachtA => Some("leerkracht-a@test.nl"),
            Who::IbA => Some("ib-a@test.nl"),
            Who::BeheerderB => Some("beheerder-b@test.nl"),
        }
    }

    /// The user's roles at a school code.
    pub fn roles_at(self, school: &str) -> Vec<Role> {
        match (self, school) {
            (Who::BeheerderA, SCHOOL_A) => vec![Role::Beheerder],
            (Who::LeerkrachtA, SCHOOL_A) => vec![Role::Leerkracht],
            (Who::IbA, SCHOOL_A) => vec![Role::Ib],
            (Who::BeheerderB, SCHOOL_B) => vec![Role::Beheerder],
            _ => vec![],
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub db: TestDb,
    /// Per school code: one object of each kind, for path parameters (`leerling`, `groep`, `toetsdoel`).
    pub objects: std::collections::HashMap<(String, &'static str), String>,
}

impl TestApp {
    /// The id of the seeded object of `kind` at `school`.
    pub fn object(&self, school: &str, kind: &'static str) -> String {
        self.objects
            .get(&(school.to_string(), kind))
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} at {school}"))
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A client that keeps cookies and does not follow redirects (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client logged in as `who` (anonymous: just a client).
    pub async fn client_as(&self, who: Who) -> reqwest::Client {
        let c = self.client();
        if let Some(email) = who.email() {
            let res = c
                .post(self.url("/inloggen"))
                .form(&[("email", email), ("wachtwoord", PASSWORD)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303, "login as {who:?}");
        }
        c
    }

    /// The CSRF token on a page the client can see (read from a form on it).
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        extract_csrf(&html).unwrap_or_else(|| panic!("no CSRF token on {path}"))
    }
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Starts the app on SQLite, and again on PostgreSQL when configured.
pub async fn spawn_all() -> Vec<TestApp> {
    let mut out = Vec::new();
    for db in TestDb::all().await {
        out.push(spawn_on(db).await);
    }
    out
}

pub async fn spawn_sqlite() -> TestApp {
    spawn_on(TestDb::sqlite().await).await
}

pub async fn spawn_on(db: TestDb) -> TestApp {
    spawn_with(db, startblok_app::mail::Mailer::memory()).await
}

/// The app with its mail going through `mailer` (for example to a test SMTP server).
pub async fn spawn_with(db: TestDb, mailer: startblok_app::mail::Mailer) -> TestApp {
    let listener_addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    // The public URL is only known after binding; links in tests use the bound port.
    let probe = std::net::TcpListener::bind(listener_addr).unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let app = App::new(db.db.clone(), Settings::new(format!("http://{addr}"))).with_mailer(mailer);
    seed(&app).await;
    let objects = seed_objects(&app).await;
    let server = startblok_web::Server::bind(app.clone(), addr)
        .await
        .unwrap();
    let addr = server.spawn();
    TestApp {
        addr,
        app,
        db,
        objects,
    }
}

async fn seed(app: &App) {
    let cli = Actor::cli();
    app.create_school("School Alfa", &SCHOOL_A.parse().unwrap(), None, &cli)
        .await
        .unwrap();
    app.create_school("School Bravo", &SCHOOL_B.parse().unwrap(), None, &cli)
        .await
        .unwrap();
    app.create_operator(
        Who::Operator.email().unwrap(),
        Some("Olga Operator"),
        Some(PASSWORD),
        &cli,
    )
    .await
    .unwrap();
    for who in Who::ALL {
        for school in [SCHOOL_A, SCHOOL_B] {
            for role in who.roles_at(school) {
                app.create_school_user(
                    &school.parse().unwrap(),
                    who.email().unwrap(),
                    Some(&format!("{who:?}")),
                    role,
                    Some(PASSWORD),
                    &cli,
                )
                .await
                .unwrap();
            }
        }
    }
}

/// Per school: a toetsdoel, a group (with leerkracht A linked at School Alfa) and a pupil in it.
async fn seed_objects(app: &App) -> std::collections::HashMap<(String, &'static str), String> {
    use startblok_app::groups::GroupInput;
    use startblok_app::pupils::{BasisInput, InSchool};
    let mut out = std::collections::HashMap::new();
    for (school, beheerder) in [(SCHOOL_A, Who::BeheerderA), (SCHOOL_B, Who::BeheerderB)] {
        let s = app
            .school_by_code(&school.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let team = app.team(s.id).await.unwrap();
        let b = team
            .iter()
            .find(|m| Some(m.user.email.as_str()) == beheerder.email())
            .unwrap();
        let who = InSchool {
            school: s.id,
            actor: Actor::user(b.user.id, &b.user.email, "127.0.0.1"),
            roles: vec![Role::Beheerder],
        };
        let doel = app
            .add_toetsdoel(s.id, "DOEL-T", "Testdoel", &who.actor)
            .await
            .unwrap()
            .unwrap();
        let leerkrachten = team
            .iter()
            .filter(|m| Some(m.user.email.as_str()) == Who::LeerkrachtA.email())
            .map(|m| m.user.id.to_string())
            .collect();
        let input = GroupInput {
            naam: "Groep 1".into(),
            leerkrachten,
            ..Default::default()
        };
        let groep = app
            .save_group(s.id, None, &input, &who.actor)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let pupil = BasisInput {
            achternaam: format!("Leerling van {school}"),
            roepnaam: "Test".into(),
            groep: groep.clone(),
            toetsdoel: doel.clone(),
            ..Default::default()
        };
        let leerling = app.create_pupil(&who, &pupil).await.unwrap().unwrap();
        let upload = app
            .upload_boom_file(
                &who,
                "nummers.csv",
                b"achternaam;geboortedatum;boom\nX;01-01-2015;1\n",
            )
            .await
            .unwrap()
            .unwrap();
        let (brin, dep) = school.split_once('-').unwrap();
        let edexml = format!(
            "<EDEX><school><brincode>{brin}</brincode><dependancecode>{dep}</dependancecode></school>\
             <groepen><groep key=\"G-T\"><naam>Groep T</naam></groep></groepen><leerlingen>\
             <leerling key=\"T1\"><achternaam>Test</achternaam><groep key=\"G-T\"/></leerling>\
             </leerlingen></EDEX>"
        );
        let import = app
            .stage_import(
                &who,
                &school.parse().unwrap(),
                "test.xml",
                edexml.as_bytes(),
            )
            .await
            .unwrap()
            .unwrap();
        let vak = app.vakken(s.id).await.unwrap()[0].id.clone();
        let resultaat = app
            .add_result(
                &who,
                &leerling,
                &startblok_app::resultaten::ResultInput {
                    vak,
                    afnamedatum: "01-10-2026".into(),
                    dle: "12".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        out.insert((school.to_string(), "resultaat"), resultaat.id);
        let input = startblok_app::school_setup::PeriodeInput {
            naam: "Midden".into(),
            van: "12-01-2026".into(),
            tot_en_met: "13-02-2026".into(),
        };
        app.add_toetsperiode(s.id, &input, &who.actor)
            .await
            .unwrap()
            .unwrap();
        let periode = app.toetsperiodes(s.id).await.unwrap()[0].id.clone();
        out.insert((school.to_string(), "periode"), periode);
        out.insert((school.to_string(), "import"), import);
        out.insert((school.to_string(), "upload"), upload);
        out.insert((school.to_string(), "toetsdoel"), doel);
        out.insert((school.to_string(), "groep"), groep);
        out.insert((school.to_string(), "leerling"), leerling);
        // Operator objects (not of a school): a request for a koppeling and an application.
        let mut form = startblok_app::aanvragen::AanvraagInput {
            soort: "bestaand".into(),
            schoolnaam: s.naam.clone(),
            brin: brin.into(),
            dependance: dep.into(),
            contactnaam: "Contact".into(),
            email: "contact@school.test".into(),
            telefoon: "030 123 45 67".into(),
            las: "esis".into(),
            opmerking: String::new(),
        };
        form.schoolnaam = s.naam.clone();
        let aanvraag = app.submit_aanvraag(&form, "127.0.0.9").await.unwrap();
        out.insert((school.to_string(), "aanvraag"), aanvraag.id);
        let boom = app
            .applicaties()
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.slug == "boom")
            .unwrap();
        out.insert((school.to_string(), "applicatie"), boom.id);
    }
    out
}

/// Everything the app logs in this test process (info and up, as in production), so that a test
/// can show a secret never reaches a log. Installed once; later calls return the same buffer.
pub fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    })
    .clone()
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
