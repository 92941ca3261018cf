//! Monthly partitions of the event and timeline tables on PostgreSQL (issue 18, migration 0034):
//! a report and its timeline land in the partitions of the month its id was numbered in, the
//! partitions ahead are made when the month comes, and every foreign key to an event still
//! holds. SQLite keeps one table of each.

use serde_json::json;
use shanzhi_store::Db;

use crate::helpers::{Cast, TestApp};

/// One text value of a query on PostgreSQL.
async fn text(pool: &sqlx::PgPool, sql: &str) -> String {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The partition that holds event `id`, and those that hold its timeline lines.
async fn homes(pool: &sqlx::PgPool, id: i64) -> (String, Vec<String>) {
    let event = text(
        pool,
        &format!("SELECT tableoid::regclass::text FROM event WHERE id = {id}"),
    )
    .await;
    let lines: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT DISTINCT tableoid::regclass::text FROM event_log WHERE event_id = {id}"
    ))
    .fetch_all(pool)
    .await
    .unwrap();
    (event, lines)
}

db_test!(
    reports_land_in_their_months_partition_and_the_next_month_is_made_ahead,
    |app| {
        let c = app.seed_loop().await;
        if let Db::Postgres(pool) = &app.state.db {
            partitioned(&app, &c, pool).await;
        } else {
            let tables =
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'event'";
            assert_eq!(app.scalar(tables).await, 1);
            assert_eq!(
                shanzhi_store::partition::ensure(&app.state.db)
                    .await
                    .unwrap(),
                0
            );
        }
    }
);

async fn partitioned(app: &TestApp, c: &Cast, pool: &sqlx::PgPool) {
    for table in ["event", "event_log"] {
        let kind = text(
            pool,
            &format!("SELECT relkind::text FROM pg_class WHERE relname = '{table}'"),
        )
        .await;
        assert_eq!(kind, "p", "{table} is partitioned");
    }
    // This month (China time, by the database's clock): made at migration.
    let month = |days: i64| {
        format!(
                "to_char(now() AT TIME ZONE 'UTC' + interval '8 hours' + interval '{days} days', 'YYYYMM')"
            )
    };
    let this = text(pool, &format!("SELECT {}", month(0))).await;
    let id = app.report(&c.citizen, c.garbage).await;
    assert!(id >= this.parse::<i64>().unwrap() * 100_000_000, "id {id}");
    assert_eq!(
        homes(pool, id).await,
        (format!("event_{this}"), vec![format!("event_log_{this}")])
    );
    // An order stored before the partitioning (a copy of this one with a small id, as an
    // upgraded database holds them) lies in the first partition and moves as ever.
    let mut conn = pool.acquire().await.unwrap();
    for sql in [
        format!("CREATE TEMP TABLE old_one AS SELECT * FROM event WHERE id = {id}"),
        "UPDATE old_one SET id = 7".to_owned(),
        "INSERT INTO event SELECT * FROM old_one".to_owned(),
    ] {
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    assert_eq!(homes(pool, 7).await.0, "event_legacy");
    app.act_ok(&c.dispatcher, 7, "accept", json!({})).await;
    assert_eq!(homes(pool, 7).await.1, vec!["event_log_legacy".to_owned()]);
    // Already made at start, nothing new until a month turns.
    assert_eq!(
        shanzhi_store::partition::ensure(&app.state.db)
            .await
            .unwrap(),
        0
    );

    // Two months on: that month's and the next month's partitions are made, and reports
    // are numbered in the new month.
    let later = text(pool, &format!("SELECT {}", month(62))).await;
    let made: i32 =
        sqlx::query_scalar("SELECT shanzhi_event_partitions(now() + interval '62 days')")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(made >= 2, "made {made}");
    let next = app.report(&c.citizen, c.garbage).await;
    assert!(
        next >= later.parse::<i64>().unwrap() * 100_000_000,
        "id {next}"
    );
    assert_eq!(
        homes(pool, next).await,
        (format!("event_{later}"), vec![format!("event_log_{later}")])
    );
    // The earlier report stays where it was. Merging the later into it: a key from one
    // month's partition to another's; the kept one moves on as ever.
    assert_eq!(homes(pool, id).await.0, format!("event_{this}"));
    app.act_ok(&c.dispatcher, next, "merge", json!({"into": id}))
        .await;
    let merged = format!("SELECT merged_into FROM event WHERE id = {next}");
    assert_eq!(app.scalar(&merged).await, id);
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;

    // Every foreign key to an event still holds: on the partitioned table itself, and from
    // another table.
    let nobody = later.parse::<i64>().unwrap() * 100_000_000 + 99_999_999;
    for sql in [
            format!("UPDATE event SET merged_into = {nobody} WHERE id = {id}"),
            format!(
                "INSERT INTO event_reporter (event_id, user_id) VALUES ({nobody}, {})",
                c.citizen.user_id
            ),
            format!(
                "INSERT INTO event_log (event_id, at, action, to_state) VALUES ({nobody}, 0, 'x', 'reported')"
            ),
        ] {
            let e = sqlx::query(&sql).execute(pool).await.unwrap_err();
            assert!(e.to_string().contains("foreign key"), "{sql}: {e}");
        }
}
