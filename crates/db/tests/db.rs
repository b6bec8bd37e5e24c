//! Storage tests, run on SQLite and (when configured) PostgreSQL.

use startblok_db::testing::TestDb;
use startblok_db::{DbError, audit, schools, sessions, user_tokens, users};
use startblok_domain::{Role, SchoolCode, SchoolId, UserId};
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    // Whole microseconds: what the database keeps.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap()
}

fn school(naam: &str, code: &str) -> schools::School {
    schools::School {
        id: SchoolId::new(),
        naam: naam.into(),
        code: code.parse::<SchoolCode>().unwrap(),
        schoolkey: None,
        created_at: now(),
    }
}

fn user(email: &str) -> users::User {
    users::User {
        id: UserId::new(),
        email: email.into(),
        naam: "Test".into(),
        password_hash: None,
        is_operator: false,
        disabled: false,
        created_at: now(),
        password_changed_at: None,
    }
}

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let a = sqlite.db.schema_outline().await.unwrap();
    let b = pg.db.schema_outline().await.unwrap();
    assert!(
        a.iter().any(|(t, _)| t == "schools"),
        "outline reads the schema: {a:?}"
    );
    assert_eq!(a, b, "SQLite and PostgreSQL migrations have drifted apart");
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    use sqlx::Row;
    let t = TestDb::sqlite().await;
    let mut c = t.db.conn().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode.to_lowercase(), "wal");
    let sync: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(sync, 2, "synchronous=FULL");
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get(0);
    assert_eq!(fk, 1);
    let busy: i64 = sqlx::query("PRAGMA busy_timeout")
        .fetch_one(&mut *c)
        .await
        .unwrap()
        .get(0);
    assert!(busy >= 5000, "busy_timeout {busy}");
}

#[tokio::test]
async fn schools_are_unique_by_brin_and_dependance() {
    for t in TestDb::all().await {
        let mut tx = t.db.begin().await.unwrap();
        let a = school("Een", "99ZZ-00");
        schools::insert(&mut tx, &a).await.unwrap();
        let dup = school("Twee", "99ZZ-00");
        assert!(
            matches!(
                schools::insert(&mut tx, &dup).await,
                Err(DbError::Duplicate)
            ),
            "{:?}",
            t.backend()
        );
        tx.rollback().await.unwrap();

        let mut c = t.db.conn().await.unwrap();
        schools::insert(&mut c, &a).await.unwrap();
        schools::insert(&mut c, &school("Drie", "99ZZ-01"))
            .await
            .unwrap();
        let found = schools::by_code(&mut c, &"99zz00".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, a);
        assert_eq!(schools::list_all(&mut c).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn users_memberships_and_flags_round_trip() {
    for t in TestDb::all().await {
        let mut c = t.db.conn().await.unwrap();
        let s1 = school("Alpha", "11AA-00");
        let s2 = school("Beta", "22BB-00");
        schools::insert(&mut c, &s1).await.unwrap();
        schools::insert(&mut c, &s2).await.unwrap();
        let mut u = user("Ayşe@School.nl");
        u.naam = "Ayşe Öztürk".into();
        u.is_operator = true;
        users::insert(&mut c, &u, "ayşe@school.nl").await.unwrap();
        assert!(matches!(
            users::insert(&mut c, &user("x@y.nl"), "ayşe@school.nl").await,
            Err(DbError::Duplicate)
        ));
        let back = users::by_email(&mut c, "ayşe@school.nl")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back, u, "{:?}", t.backend());

        users::add_membership(&mut c, s1.id, u.id, Role::Leerkracht, now())
            .await
            .unwrap();
        users::add_membership(&mut c, s1.id, u.id, Role::Ib, now())
            .await
            .unwrap();
        users::add_membership(&mut c, s1.id, u.id, Role::Ib, now())
            .await
            .unwrap();
        users::add_membership(&mut c, s2.id, u.id, Role::Beheerder, now())
            .await
            .unwrap();
        let of = users::schools_of(&mut c, u.id).await.unwrap();
        assert_eq!(of.len(), 2);
        assert_eq!(of[0].0.id, s1.id);
        assert_eq!(of[0].1, vec![Role::Ib, Role::Leerkracht]);
        assert_eq!(of[1].1, vec![Role::Beheerder]);
        assert_eq!(
            users::roles_at(&mut c, s2.id, u.id).await.unwrap(),
            vec![Role::Beheerder]
        );
        assert_eq!(
            users::members_of(&mut c, s1.id).await.unwrap()[0]
                .roles
                .len(),
            2
        );

        users::set_disabled(&mut c, u.id, true).await.unwrap();
        assert!(users::by_id(&mut c, u.id).await.unwrap().unwrap().disabled);
    }
}

#[tokio::test]
async fn one_time_links_work_once_and_expire() {
    for t in TestDb::all().await {
        let mut c = t.db.conn().await.unwrap();
        let u = user("a@b.nl");
        users::insert(&mut c, &u, "a@b.nl").await.unwrap();
        let n = now();
        user_tokens::insert(
            &mut c,
            "h1",
            u.id,
            user_tokens::Purpose::Invite,
            n,
            n + Duration::hours(1),
        )
        .await
        .unwrap();
        user_tokens::insert(
            &mut c,
            "h2",
            u.id,
            user_tokens::Purpose::Invite,
            n,
            n + Duration::hours(1),
        )
        .await
        .unwrap();
        assert_eq!(
            user_tokens::peek(&mut c, "h1", n).await.unwrap(),
            Some(u.id)
        );
        assert_eq!(
            user_tokens::consume(&mut c, "h1", n).await.unwrap(),
            Some(u.id)
        );
        assert_eq!(
            user_tokens::consume(&mut c, "h1", n).await.unwrap(),
            None,
            "used twice"
        );
        assert_eq!(
            user_tokens::consume(&mut c, "h2", n + Duration::hours(2))
                .await
                .unwrap(),
            None,
            "expired"
        );
    }
}

#[tokio::test]
async fn sessions_die_with_their_user_sessions_and_audit_keeps_ids() {
    for t in TestDb::all().await {
        let mut c = t.db.conn().await.unwrap();
        let u = user("s@b.nl");
        users::insert(&mut c, &u, "s@b.nl").await.unwrap();
        let n = now();
        for h in ["t1", "t2"] {
            sessions::insert(
                &mut c,
                &sessions::Session {
                    token_hash: h.into(),
                    user_id: u.id,
                    csrf_token: "c".into(),
                    current_school_id: None,
                    created_at: n,
                    last_seen_at: n,
                    expires_at: n + Duration::hours(8),
                },
            )
            .await
            .unwrap();
        }
        assert_eq!(
            sessions::by_token_hash(&mut c, "t1")
                .await
                .unwrap()
                .unwrap()
                .user_id,
            u.id
        );
        assert_eq!(
            sessions::delete_all_for_user(&mut c, u.id).await.unwrap(),
            2
        );
        assert!(
            sessions::by_token_hash(&mut c, "t1")
                .await
                .unwrap()
                .is_none()
        );

        audit::record(
            &mut c,
            &audit::Entry {
                at: n,
                actor_id: Some(u.id),
                actor: "s@b.nl".into(),
                action: "login.ok".into(),
                object_type: Some("user".into()),
                object_id: Some(u.id.to_string()),
                school_id: None,
                source: "127.0.0.1".into(),
            },
        )
        .await
        .unwrap();
        let log = audit::recent(&mut c, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].action, "login.ok");
        assert_eq!(log[0].at, n);
    }
}
