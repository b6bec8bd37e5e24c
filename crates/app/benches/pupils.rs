//! How Instellingen > Boom nummers and the pupil list scale to a large school (500 pupils), as
//! ratios against saving one pupil's tab BASIS in the same process (machines here are noisy, so
//! absolute times mean little). Run: `cargo bench -p startblok-app --bench pupils`.
//! Results go into docs/benchmarks.md by hand.

use std::time::{Duration, Instant};

use startblok_app::pupils::{BasisInput, InSchool, PupilFilter};
use startblok_app::{Actor, App, Settings};
use startblok_db::testing::TestDb;
use startblok_domain::Role;

const PUPILS: usize = 500;
const RUNS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run_on(t: &TestDb) {
    let app = App::new(t.db.clone(), Settings::new("http://bench"));
    let cli = Actor::cli();
    let school = app
        .create_school("Grote School", &"12AB-00".parse().unwrap(), None, &cli)
        .await
        .unwrap();
    let acc = app
        .create_school_user(
            &"12AB-00".parse().unwrap(),
            "b@bench.nl",
            None,
            Role::Beheerder,
            Some("bench-wachtwoord"),
            &cli,
        )
        .await
        .unwrap();
    let who = InSchool {
        school: school.id,
        actor: Actor::user(acc.user.id, &acc.user.email, "127.0.0.1"),
        roles: vec![Role::Beheerder],
    };
    let mut ids = Vec::new();
    for i in 0..PUPILS {
        let input = BasisInput {
            achternaam: format!("Achternaam {i:03}"),
            roepnaam: "Kind".into(),
            geboortedatum: "01-01-2016".into(),
            ..Default::default()
        };
        ids.push(app.create_pupil(&who, &input).await.unwrap().unwrap());
    }

    let today = startblok_domain::today_nl(startblok_app::now());
    let card = app.pupil_card(&who, &ids[0]).await.unwrap().unwrap();
    let mut base = Vec::new();
    let mut table = Vec::new();
    let mut bulk = Vec::new();
    let mut list = Vec::new();
    for run in 0..RUNS {
        let mut input = BasisInput::from_pupil(&card.pupil, today);
        input.thuistalen = format!("taal {run}");
        let t0 = Instant::now();
        app.save_basis(&who, &ids[0], &input)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        base.push(t0.elapsed());

        let t0 = Instant::now();
        let rows = app.boom_table(school.id).await.unwrap();
        table.push(t0.elapsed());
        assert_eq!(rows.len(), PUPILS);

        // Every pupil gets a new number: the worst case of one save.
        let entries: Vec<(String, String)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), format!("{}", run * 10_000 + i)))
            .collect();
        let t0 = Instant::now();
        let changed = app.save_boom_bulk(&who, &entries).await.unwrap().unwrap();
        bulk.push(t0.elapsed());
        assert_eq!(changed, PUPILS);

        let t0 = Instant::now();
        let l = app.pupil_list(&who, &PupilFilter::default()).await.unwrap();
        list.push(t0.elapsed());
        assert_eq!(l.rows.len(), PUPILS);
    }
    let (b, tb, bk, ls) = (median(base), median(table), median(bulk), median(list));
    let ratio = |d: Duration| d.as_secs_f64() / b.as_secs_f64();
    println!(
        "{:?}: baseline (save one pupil's BASIS) median {:.1} ms",
        t.backend(),
        b.as_secs_f64() * 1e3
    );
    println!(
        "  Boom nummers table, {PUPILS} pupils:        {:>6.1}× baseline ({:.1} ms)",
        ratio(tb),
        tb.as_secs_f64() * 1e3
    );
    println!(
        "  Boom nummers save, {PUPILS} numbers changed: {:>6.1}× baseline ({:.1} ms)",
        ratio(bk),
        bk.as_secs_f64() * 1e3
    );
    println!(
        "  Leerlingen list, {PUPILS} pupils:           {:>6.1}× baseline ({:.1} ms)",
        ratio(ls),
        ls.as_secs_f64() * 1e3
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
