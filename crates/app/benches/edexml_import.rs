//! The EDEXML import at scale: a generated export with 50,000 pupils (about 24 MB).
//!
//! - Parse time of `startblok_edexml::parse` next to a floor in the same run: a bare quick-xml
//!   pass over the same bytes (every event read, nothing kept).
//! - Peak memory of the parse (a counting allocator) next to the roster's own size (the bytes the
//!   finished roster holds).
//! - The full import (stage: parse + store the roster; plan; apply in one transaction) into SQLite
//!   and PostgreSQL, next to a floor on the same database: bare batched INSERTs of the same 50,000
//!   pupil rows.
//!
//! Run: `cargo bench -p startblok-app --bench edexml_import` (with `STARTBLOK_TEST_PG` set to
//! include PostgreSQL). Results go into docs/benchmarks.md by hand.

mod common;

use common::{LIVE, PEAK, bare_pass};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use startblok_app::pupils::InSchool;
use startblok_app::{Actor, App, Settings};
use startblok_db::pupils::{self, Pupil};
use startblok_db::testing::TestDb;
use startblok_domain::Role;

const PUPILS: usize = 50_000;
const GROUPS: usize = 200;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// An export of school 12AB-00 with `PUPILS` pupils in `GROUPS` groups, names in several scripts.
fn generate() -> String {
    let names = [
        "García López",
        "Wiśniewska",
        "Haddad",
        "Ковальенко",
        "محمد",
        "Nguyễn",
        "Öztürk",
        "Tesfaye",
    ];
    let mut s = String::with_capacity(PUPILS * 520);
    s.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<EDEX>\n  <school>\n    <schooljaar>2026-2027</schooljaar>\n    <brincode>12AB</brincode>\n    <dependancecode>00</dependancecode>\n    <xsdversie>2.1</xsdversie>\n  </school>\n  <groepen>\n",
    );
    for g in 0..GROUPS {
        s.push_str(&format!(
            "    <groep key=\"G{g:04}\">\n      <naam>Groep {g:04}</naam>\n      <jaargroep>{}</jaargroep>\n    </groep>\n",
            g % 8 + 1
        ));
    }
    s.push_str("  </groepen>\n  <leerlingen>\n");
    for i in 0..PUPILS {
        s.push_str(&format!(
            "    <leerling key=\"{i:07}\" eckid=\"https://ketenid.nl/201703/{:0>128x}\">\n      <achternaam>{}</achternaam>\n      <voornamen>Kind {i}</voornamen>\n      <roepnaam>Kind</roepnaam>\n      <geboortedatum>2015-{:02}-{:02}</geboortedatum>\n      <geslacht>{}</geslacht>\n      <jaargroep>{}</jaargroep>\n      <groep key=\"G{:04}\"/>\n      <land>SY</land>\n      <instroomdatum>2026-08-31</instroomdatum>\n    </leerling>\n",
            i as u128 * 7919,
            names[i % names.len()],
            i % 12 + 1,
            i % 28 + 1,
            i % 2 + 1,
            i % 8 + 1,
            i % GROUPS
        ));
    }
    s.push_str("  </leerlingen>\n  <leerkrachten>\n");
    for t in 0..GROUPS / 2 {
        s.push_str(&format!(
            "    <leerkracht key=\"LK{t:04}\">\n      <achternaam>Leerkracht {t}</achternaam>\n      <roepnaam>Juf</roepnaam>\n      <emailadres>lk{t}@school.example</emailadres>\n      <groepen><groep key=\"G{:04}\"/><groep key=\"G{:04}\"/></groepen>\n    </leerkracht>\n",
            2 * t,
            2 * t + 1
        ));
    }
    s.push_str("  </leerkrachten>\n</EDEX>\n");
    s
}

async fn school(app: &App, code: &str) -> InSchool {
    let cli = Actor::cli();
    let s = app
        .create_school("Grote School", &code.parse().unwrap(), None, &cli)
        .await
        .unwrap();
    InSchool {
        school: s.id,
        actor: cli,
        roles: vec![Role::Beheerder],
    }
}

async fn import_on(t: &TestDb, xml: &str) -> (Duration, Duration) {
    let app = App::new(t.db.clone(), Settings::new("http://bench"));
    // Floor: the same number of pupil rows, batched, in one transaction, into another school.
    let floor_school = school(&app, "12AB-01").await;
    let rows: Vec<Pupil> = (0..PUPILS)
        .map(|i| Pupil {
            id: uuid::Uuid::now_v7().to_string(),
            las_key: Some(format!("{i:07}")),
            eck_id: Some(format!(
                "https://ketenid.nl/201703/{:0>128x}",
                i as u128 * 7919
            )),
            achternaam: "Achternaam".into(),
            voornamen: Some(format!("Kind {i}")),
            roepnaam: Some("Kind".into()),
            geboortedatum: pupils::parse_date("2015-01-01"),
            imported: true,
            ..Default::default()
        })
        .collect();
    let start = Instant::now();
    let mut tx = app.db.begin().await.unwrap();
    pupils::insert_many(&mut tx, floor_school.school, &rows, startblok_app::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let floor = start.elapsed();

    let who = school(&app, "12AB-00").await;
    let start = Instant::now();
    let (_, report) = app
        .import_file(
            &who,
            &"12AB-00".parse().unwrap(),
            "groot.xml",
            xml.as_bytes(),
        )
        .await
        .unwrap()
        .unwrap();
    let full = start.elapsed();
    assert_eq!(report.new_pupils, PUPILS);
    (floor, full)
}

fn main() {
    let xml = generate();
    let bytes = xml.as_bytes();
    println!(
        "EDEXML with {PUPILS} pupils: {:.1} MB",
        bytes.len() as f64 / 1e6
    );

    // One untimed run of each first: the first parse pays the page faults of growing the heap.
    std::hint::black_box(bare_pass(bytes));
    std::hint::black_box(startblok_edexml::parse(bytes).unwrap());
    let mut bare = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        std::hint::black_box(bare_pass(bytes));
        bare.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(startblok_edexml::parse(bytes).unwrap());
        ours.push(t.elapsed());
    }
    let (bare, ours) = (median(bare), median(ours));
    println!(
        "parse: bare quick-xml pass {:.3} s, startblok_edexml::parse {:.3} s = {:.2}x the floor",
        bare.as_secs_f64(),
        ours.as_secs_f64(),
        ours.as_secs_f64() / bare.as_secs_f64()
    );

    // The same from a file, in chunks: the floor reads the file through the same 64 KB buffer.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("edexml-bench.xml");
    std::fs::write(&path, bytes).unwrap();
    let mut bare = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let file = std::fs::File::open(&path).unwrap();
        std::hint::black_box(bare_pass(std::io::BufReader::with_capacity(
            64 * 1024,
            file,
        )));
        bare.push(t.elapsed());
        let t = Instant::now();
        let file = std::fs::File::open(&path).unwrap();
        std::hint::black_box(startblok_edexml::parse_reader(file).unwrap());
        ours.push(t.elapsed());
    }
    let (bare, ours) = (median(bare), median(ours));
    println!(
        "parse from a file: bare quick-xml pass {:.3} s, startblok_edexml::parse_reader {:.3} s = {:.2}x the floor",
        bare.as_secs_f64(),
        ours.as_secs_f64(),
        ours.as_secs_f64() / bare.as_secs_f64()
    );

    // Peak memory of reading the file (its text is never held whole) next to the roster's size.
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let roster = startblok_edexml::parse_reader(std::fs::File::open(&path).unwrap()).unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let kept = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "memory: file {:.1} MB, roster holds {:.1} MB, parse from the file peaked at {:.1} MB = {:.2}x the roster",
        bytes.len() as f64 / 1e6,
        kept as f64 / 1e6,
        peak as f64 / 1e6,
        peak as f64 / kept as f64
    );
    drop(roster);
    let _ = std::fs::remove_file(&path);
    if std::env::var("BENCH_PARSE_ONLY").is_ok() {
        return;
    }

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for t in TestDb::all().await {
            let (floor, full) = import_on(&t, &xml).await;
            println!(
                "{:?}: bare batched INSERT of {PUPILS} rows {:.2} s, full import {:.2} s = {:.1}x the floor",
                t.backend(),
                floor.as_secs_f64(),
                full.as_secs_f64(),
                full.as_secs_f64() / floor.as_secs_f64()
            );
        }
    });
}
