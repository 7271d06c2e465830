//! Dashboards and exports read a streaming replica, made here with
//! `pg_basebackup`, and fall back to the primary when it stops.

use meridian::local_pg::{ensure_database, LocalPostgres};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{
    eventually, free_port, on_cluster, path_of, spawn_app_on, test_settings, Clusters,
};

#[tokio::test]
async fn dashboards_read_the_replica_and_fall_back_to_the_primary_when_it_stops() {
    let dir = std::env::temp_dir().join(format!("meridian-replica-{}", Uuid::now_v7().simple()));
    let primary = LocalPostgres::new(&dir.join("primary"), free_port())
        .unwrap()
        .throwaway();
    let replica = LocalPostgres::new(&dir.join("replica"), free_port())
        .unwrap()
        .throwaway();
    let clusters = Clusters(vec![replica.clone(), primary.clone()]);
    on_cluster(&primary, LocalPostgres::ensure_running).await;
    ensure_database(&primary.url("postgres"), "meridian")
        .await
        .unwrap();
    meridian::db::migrate(&primary.url("meridian"))
        .await
        .unwrap();
    tokio::task::spawn_blocking({
        let (primary, replica) = (primary.clone(), replica.clone());
        move || {
            replica.follow(&primary)?;
            replica.ensure_running()
        }
    })
    .await
    .unwrap()
    .unwrap();

    let mut settings = test_settings();
    settings.database.replica_url = replica.url("meridian").into();
    let app = spawn_app_on(settings, primary.url("meridian")).await;
    let ready: Value = app.get_json("/readyz", "").await;
    assert_eq!(ready["replica"], "replica");
    let admin = app.admin().await;
    let institutions = || async {
        let o: Value = app.get_json("/api/v1/stats/overview", &admin.token).await;
        o["institutions"].as_i64().unwrap()
    };
    app.institution(&admin.token, "University of Lagos", "NG")
        .await;
    assert!(eventually(10, || async { institutions().await == 1 }).await);

    // Replay paused: the dashboards lag, reads of records do not.
    let paused = replica.url("meridian");
    let mut conn = {
        use diesel_async::AsyncConnection;
        diesel_async::AsyncPgConnection::establish(&paused)
            .await
            .unwrap()
    };
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let second = app
        .institution(&admin.token, "University of Ibadan", "NG")
        .await;
    let path = path_of("institutions", &second);
    assert_eq!(app.get(&path, &admin.token).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(institutions().await, 1, "the replica is paused");

    // The replica stops: dashboards read the primary, and say so.
    drop(conn);
    on_cluster(&replica, LocalPostgres::stop).await;
    assert_eq!(institutions().await, 2);
    let ready: Value = app.get_json("/readyz", "").await;
    assert_eq!(ready["replica"], "primary");
    drop(clusters);
    let _ = std::fs::remove_dir_all(&dir);
}
