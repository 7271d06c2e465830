//! TLS to PostgreSQL, against a cluster of this test that serves
//! certificates of a certificate authority made here, and accepts only TLS.

use std::process::Command;

use meridian::{db, local_pg::LocalPostgres};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use uuid::Uuid;

use crate::helpers::{free_port, on_cluster, spawn_app_on, test_settings, Clusters};

/// A certificate authority: its certificate (PEM) and what signs with it.
struct Authority {
    pem: String,
    params: CertificateParams,
    key: KeyPair,
}

fn authority(name: &str) -> Authority {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let pem = params.clone().self_signed(&key).unwrap().pem();
    Authority { pem, params, key }
}

/// Writes a file the `postgres` user owns and alone may read.
fn private_file(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    Command::new("chmod").arg("600").arg(path).status().unwrap();
    Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .unwrap();
}

#[tokio::test]
async fn tls_to_postgres_checks_the_authority_and_the_host_name() {
    let dir = std::env::temp_dir().join(format!("meridian-tls-{}", Uuid::now_v7().simple()));
    let port = free_port();
    let ca = authority("Meridian test CA");
    let stranger = authority("Some other CA");
    let server_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let issuer = ca.params.clone().self_signed(&ca.key).unwrap();
    let server = params.signed_by(&server_key, &issuer, &ca.key).unwrap();

    let cluster = LocalPostgres::new(&dir, port).unwrap().throwaway();
    let base = cluster.base_dir().to_path_buf();
    std::fs::create_dir_all(&base).unwrap();
    private_file(&base.join("server.crt"), &server.pem());
    private_file(&base.join("server.key"), &server_key.serialize_pem());
    let ca_file = base.join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).unwrap();
    let stranger_file = base.join("stranger.pem");
    std::fs::write(&stranger_file, &stranger.pem).unwrap();
    let cluster = cluster
        .with_setting("ssl=on")
        .with_setting(&format!(
            "ssl_cert_file={}",
            base.join("server.crt").display()
        ))
        .with_setting(&format!(
            "ssl_key_file={}",
            base.join("server.key").display()
        ));
    let guard = Clusters(vec![cluster.clone()]);
    on_cluster(&cluster, LocalPostgres::ensure_running).await;
    // Only TLS from now on (the socket stays for pg_ctl).
    let hba = cluster.data_dir().join("pg_hba.conf");
    private_file(
        &hba,
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    );
    let plain = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    {
        use diesel_async::RunQueryDsl;
        let mut conn = db::connect(&format!(
            "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=require"
        ))
        .await
        .unwrap();
        diesel::sql_query("SELECT pg_reload_conf()")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let url =
        |host: &str, query: String| format!("postgres://postgres@{host}:{port}/postgres?{query}");
    let full =
        |file: &std::path::Path| format!("sslmode=verify-full&sslrootcert={}", file.display());
    let ca_only = format!("sslmode=verify-ca&sslrootcert={}", ca_file.display());
    // The right authority and host name.
    assert!(db::connect(&url("localhost", full(&ca_file))).await.is_ok());
    // Another authority.
    assert!(db::connect(&url("localhost", full(&stranger_file)))
        .await
        .is_err());
    // Another name than the certificate's: verify-full refuses, verify-ca
    // (the chain only) accepts.
    assert!(db::connect(&url("127.0.0.1", full(&ca_file)))
        .await
        .is_err());
    assert!(db::connect(&url("127.0.0.1", ca_only)).await.is_ok());
    // The server demands TLS: disable is refused.
    assert!(db::connect(&plain).await.is_err());

    // The whole service over verify-full: migrations, the pool, the worker.
    meridian::local_pg::ensure_database(&url("localhost", full(&ca_file)), "meridian")
        .await
        .unwrap();
    let meridian_url = format!(
        "postgres://postgres@localhost:{port}/meridian?{}",
        full(&ca_file)
    );
    db::migrate(&meridian_url).await.unwrap();
    let mut settings = test_settings();
    settings.worker.enabled = true;
    let app = spawn_app_on(settings, meridian_url).await;
    let ready = app.get_anonymous("/readyz").await;
    assert_eq!(ready.status(), 200);
    let admin = app.admin().await;
    app.institution(&admin.token, "Makerere University", "UG")
        .await;
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}
