//! The lease on the timed jobs (issue 18): with several servers on one database, the sweeps,
//! rules, briefings and session purges run on the one holding `job_lease`; a holder that dies
//! loses it once it runs out, a holder that stops gives it up at once.

use std::time::Duration;

use shanzhi_store::lease;

use crate::helpers::{fresh_database, spawn_with, TestApp};

const MS: i64 = 1_795_000_000_000;

db_test!(
    a_lease_goes_to_one_holder_until_it_runs_out_or_is_given_up,
    |app| {
        let db = &app.state.db;
        let job = "test-job";
        assert!(lease::take(db, job, "a", MS, MS + 30_000).await.unwrap());
        assert!(!lease::take(db, job, "b", MS + 1_000, MS + 31_000)
            .await
            .unwrap());
        // The holder renews; the other still waits, also at the old lease's last moment.
        assert!(lease::take(db, job, "a", MS + 5_000, MS + 35_000)
            .await
            .unwrap());
        assert!(!lease::take(db, job, "b", MS + 35_000, MS + 65_000)
            .await
            .unwrap());
        // "a" died: nothing renews it, and after it runs out "b" takes it; "a" is refused if it
        // wakes up again.
        assert!(lease::take(db, job, "b", MS + 35_001, MS + 65_001)
            .await
            .unwrap());
        assert!(!lease::take(db, job, "a", MS + 36_000, MS + 66_000)
            .await
            .unwrap());
        assert_eq!(
            lease::holder(db, job).await.unwrap(),
            Some(("b".to_owned(), MS + 65_001))
        );
        // Given up by someone else: nothing happens. By its holder: free at once.
        lease::release(db, job, "a").await.unwrap();
        assert!(!lease::take(db, job, "a", MS + 37_000, MS + 67_000)
            .await
            .unwrap());
        lease::release(db, job, "b").await.unwrap();
        assert!(lease::take(db, job, "a", MS + 37_000, MS + 67_000)
            .await
            .unwrap());
        // Many servers asking at the same moment for a free lease: exactly one gets it.
        let mut asks = Vec::new();
        for k in 0..8 {
            let db = db.clone();
            asks.push(tokio::spawn(async move {
                lease::take(&db, "race", &format!("s{k}"), MS, MS + 30_000)
                    .await
                    .unwrap()
            }));
        }
        let mut won = 0;
        for a in asks {
            won += usize::from(a.await.unwrap());
        }
        assert_eq!(won, 1);
    }
);

/// Waits until `job_lease` names a holder of the timed jobs (at most 10 s); answers it.
async fn jobs_holder(app: &TestApp, not: Option<&str>) -> String {
    for _ in 0..200 {
        if let Some((h, _)) = lease::holder(&app.state.db, "timed-jobs").await.unwrap() {
            if Some(h.as_str()) != not {
                return h;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no server took the timed jobs' lease");
}

db_test!(
    two_servers_on_one_database_run_the_timed_jobs_on_one_and_hand_them_over_at_a_stop,
    |app| {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(app.engine, dir.path()).await;
        let keys = app.dir().join("test.pii-keys");
        let fast = |c: &mut shanzhi::config::Config| {
            c.tree_poll_seconds = 1;
            c.pii_key_file = Some(keys.clone());
        };
        let one = spawn_with(app.engine, url.clone(), tempfile::tempdir().unwrap(), fast).await;
        let two = spawn_with(app.engine, url.clone(), dir, fast).await;
        let ids = [
            one.state.lease.holder().to_owned(),
            two.state.lease.holder().to_owned(),
        ];
        let first = jobs_holder(&one, None).await;
        assert!(ids.contains(&first), "{first} is one of the servers");
        // Held, not passed back and forth: the holder stays over several ticks.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(jobs_holder(&one, None).await, first);
        // The holder stops: the other server has the jobs within a tick or two, not after
        // the 30 s a dead holder's lease takes to run out.
        let (mut holder, rest) = if first == ids[0] {
            (one, two)
        } else {
            (two, one)
        };
        holder.stop().await;
        let next = jobs_holder(&rest, Some(&first)).await;
        assert_eq!(next, rest.state.lease.holder());
        let mut rest = rest;
        rest.stop().await;
        // Both stopped: nobody holds the jobs.
        let db = shanzhi_store::Db::connect(&url, 2).await.unwrap();
        assert_eq!(lease::holder(&db, "timed-jobs").await.unwrap(), None);
        db.close().await;
    }
);
