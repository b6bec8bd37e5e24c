//! The UWLR intake at scale: one delivery of 10,000 results for the demo school's pupils (the
//! `uwlr send --generate` generator), on SQLite and PostgreSQL.
//!
//! - **Intake** (the time to the bevestiging): `App::receive_uwlr` on the message's bytes (parse,
//!   authenticate, store the levering and all its results in one transaction), without the HTTP
//!   layer. Next to a floor in the same run: a bare quick-xml pass over the same bytes plus bare
//!   batched INSERTs of 10,000 rows of the same width into the same database.
//! - **Processing**: `App::process_received(Scope::Due)` over those 10,000 received results
//!   (pupil, test, the norms steps, the pupil's result written), as results per second.
//! - **Memory**: the peak heap of the intake and of the processing, next to the message's size.
//!
//! Run: `cargo bench -p startblok-app --bench uwlr_intake` (with `STARTBLOK_TEST_PG` set to
//! include PostgreSQL). Results go into docs/benchmarks.md by hand.

mod common;

use common::{LIVE, PEAK, bare_pass};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use startblok_app::koppelingen::{DEMO_KEY, DEMO_KLANTCODE};
use startblok_app::{App, Settings};
use startblok_db::leveringen::Scope;
use startblok_db::testing::TestDb;
use startblok_uwlr::client::{Generate, generate};

/// 10,000 results by default; `BENCH_RESULTS` sets another number (to see what grows with the
/// message).
fn results() -> usize {
    std::env::var("BENCH_RESULTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// Peak heap above what was live when `f` started, and its result.
async fn peak_of<T>(f: impl std::future::Future<Output = T>) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f.await;
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

/// The floor for storing: 10,000 rows of the received results' width (eight text columns, one
/// of them the result's JSON), `rows` per INSERT, in one transaction.
async fn bare_inserts(app: &App, gegevens: &str, rows: usize) -> Duration {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query("DROP TABLE IF EXISTS bench_floor")
        .execute(&mut *c)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE bench_floor (id TEXT PRIMARY KEY, school_id TEXT NOT NULL, \
         leerlingid TEXT NOT NULL, toetscode TEXT NOT NULL, versie TEXT NOT NULL, \
         onderdeel TEXT NOT NULL, afnamedatum TEXT NOT NULL, gegevens TEXT NOT NULL)",
    )
    .execute(&mut *c)
    .await
    .unwrap();
    drop(c);
    const COLS: usize = 8;
    let start = Instant::now();
    let mut tx = app.db.begin().await.unwrap();
    for chunk in (0..results()).collect::<Vec<_>>().chunks(rows) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=COLS).map(|c| format!("${}", i * COLS + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!("INSERT INTO bench_floor VALUES {}", values.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(format!("{}", 127700 + i % 32))
                .bind("BLVS-RW".to_string())
                .bind("2019".to_string())
                .bind("G3".to_string())
                .bind(format!("2026-{:02}-{:02}", i % 12 + 1, i % 28 + 1))
                .bind(gegevens.to_string());
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    start.elapsed()
}

async fn run_on(t: &TestDb) {
    let app = App::new(t.db.clone(), Settings::new("http://bench"));
    app.seed_demo().await.unwrap();
    let school = app
        .school_by_code(&"99ZZ-00".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let leerlingids: Vec<String> = app
        .boom_table(school.id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r.pupil.boom_leerlingnummer)
        .collect();
    let req = generate(&Generate {
        autorisatie: startblok_uwlr::Autorisatie {
            autorisatiesleutel: DEMO_KEY.into(),
            klantcode: DEMO_KLANTCODE.into(),
            klantnaam: "Boom testcentrum".into(),
        },
        brincode: "99ZZ".into(),
        dependancecode: "00".into(),
        leerlingids: leerlingids.clone(),
        resultaten: results(),
        onbekende_leerlingen: 0,
        onbekende_toets: false,
        tot: time::macros::date!(2026 - 11 - 27),
        seed: 1,
    });
    let xml = startblok_uwlr::write_request(&req);
    let bytes = xml.as_bytes();
    drop(req);

    // Floor: a bare quick-xml pass (median of 5 after a warm-up) plus bare batched INSERTs.
    std::hint::black_box(bare_pass(bytes));
    let mut passes: Vec<Duration> = (0..5)
        .map(|_| {
            let s = Instant::now();
            std::hint::black_box(bare_pass(bytes));
            s.elapsed()
        })
        .collect();
    passes.sort();
    let pass = passes[2];
    let one = &xml[xml.find("<lr:resultaat ").unwrap()..];
    let one = &one[..one.find("</lr:resultaat>").unwrap()];
    // The fastest of a few statement sizes (on SQLite small statements win, on PostgreSQL big
    // ones), so the floor is the best this database does with bare INSERTs.
    let mut inserts = Duration::MAX;
    for rows in [10, 50, 200] {
        inserts = inserts.min(bare_inserts(&app, &"x".repeat(one.len()), rows).await);
    }
    let floor = pass + inserts;

    // Intake: the time to the bevestiging, and its peak heap.
    let start = Instant::now();
    let (receipt, intake_peak) = peak_of(app.receive_uwlr(bytes)).await;
    let intake = start.elapsed();
    let receipt = receipt.unwrap();
    assert_eq!(receipt.nieuw, results());

    // Processing: every received result onto a pupil (or an error kind).
    let start = Instant::now();
    let (run, processing_peak) = peak_of(app.process_received(&Scope::Due)).await;
    let processing = start.elapsed();
    let run = run.unwrap();
    assert_eq!(run.verwerkt + run.fouten, results(), "{run:?}");

    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "{:?}: message {:.1} MB with {} results for {} pupils",
        t.backend(),
        mb(bytes.len()),
        results(),
        leerlingids.len()
    );
    println!(
        "  floor: quick-xml pass {:.3} s + bare batched INSERT of {} rows {:.3} s = {:.3} s",
        pass.as_secs_f64(),
        results(),
        inserts.as_secs_f64(),
        floor.as_secs_f64()
    );
    println!(
        "  intake (to the bevestiging): {:.3} s = {:.1}x the floor; peak heap {:.1} MB = {:.1}x the message",
        intake.as_secs_f64(),
        intake.as_secs_f64() / floor.as_secs_f64(),
        mb(intake_peak),
        intake_peak as f64 / bytes.len() as f64
    );
    println!(
        "  processing: {:.2} s = {:.0} results/s ({} verwerkt, {} fouten) = {:.1}x the floor; peak heap {:.1} MB = {:.2}x the message",
        processing.as_secs_f64(),
        results() as f64 / processing.as_secs_f64(),
        run.verwerkt,
        run.fouten,
        processing.as_secs_f64() / floor.as_secs_f64(),
        mb(processing_peak),
        processing_peak as f64 / bytes.len() as f64
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        for t in TestDb::all().await {
            run_on(&t).await;
        }
    });
}
