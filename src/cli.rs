//! The `meridian` command line: `serve`, `worker`, `migrate`, `create-admin`,
//! `seed-demo`, `seed-bench`.

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use uuid::Uuid;

use crate::{
    auth::{password, Role},
    config::{Environment, Settings},
    db,
    email::worker::Worker,
    jobs::Jobs,
    local_pg,
    startup::{Application, Background},
    telemetry::{self, Metrics},
    types::{Email, Name},
    users,
    webhooks::worker::Deliverer,
};

/// Meridian: programmes, cohorts, incubators and exchanges over REST.
#[derive(Debug, Parser)]
#[command(name = "meridian", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Deliver queued emails only, until SIGINT or SIGTERM.
    Worker,
    /// Load a demo data set (idempotent).
    SeedDemo,
    /// Fill an empty database at benchmark scale (1 = a million enrollments).
    SeedBench {
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Stop the private local PostgreSQL that a run without
    /// `database.url` started (it keeps running between runs otherwise).
    StopLocalDb,
    /// Create an admin account; the password is read from standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    telemetry::init(&settings.log);
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::StopLocalDb = command {
        // Before a database is chosen: choosing one starts the cluster.
        let pg = local_pg::LocalPostgres::new(
            &settings.database.local_dir,
            settings.database.local_port,
        )?;
        let stopped = tokio::task::spawn_blocking(move || pg.stop()).await??;
        println!("{}", if stopped { "stopped" } else { "not running" });
        return Ok(());
    }
    let url = database_url(&settings).await?;
    match command {
        Command::StopLocalDb => {}
        Command::Serve => {
            if settings.database.migrate_on_start {
                db::migrate(&url).await?;
            }
            if let Some(replica) = settings.database.configured_replica() {
                if let Err(e) = db::pool(replica, 1)?.get().await {
                    tracing::warn!(
                        "database.replica_url: the replica does not answer ({e}); dashboards \
                         and exports read the primary until it does"
                    );
                }
            }
            let app = Application::build(settings, &url)?;
            tracing::info!(port = app.port(), "Meridian is serving");
            app.run().await?;
        }
        Command::Worker => {
            // The workers' LISTEN connections count in the instance's cap.
            let pool = db::pool(&url, settings.database.pool_size.saturating_sub(2).max(1))?;
            let metrics = Metrics::new()?;
            let background = Background {
                worker: Worker::new(&settings, pool.clone(), &url, metrics.clone())?,
                webhooks: Deliverer::new(&settings.webhooks, pool.clone(), &url, metrics)?,
                jobs: Jobs::new(pool, settings.email.retention_days),
            };
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let running = background.spawn(stopped);
            shutdown_signal().await;
            let _ = stop.send(true);
            running.await;
        }
        Command::SeedDemo => {
            db::migrate(&url).await?;
            if crate::demo::seed(&url).await? {
                println!("demo data created");
            } else {
                println!("demo data already present");
            }
        }
        Command::SeedBench { scale } => {
            db::migrate(&url).await?;
            let started = std::time::Instant::now();
            for (table, count) in crate::bench_data::seed(&url, scale).await? {
                println!("{table}: {count}");
            }
            println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
        }
        Command::Migrate => {
            let ran = db::migrate(&url).await?;
            println!("{ran} migration(s) applied");
        }
        Command::CreateAdmin { email, name } => {
            db::migrate(&url).await?;
            let mut raw = String::new();
            std::io::stdin()
                .read_to_string(&mut raw)
                .context("reading the password from standard input")?;
            let id = create_admin(&url, &email, &name, raw.trim_end_matches(['\r', '\n'])).await?;
            println!("admin {id} created");
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The configured database, or the private local one when none is set.
pub async fn database_url(settings: &Settings) -> anyhow::Result<String> {
    if let Some(url) = settings.database.configured_url() {
        return Ok(url.to_string());
    }
    if settings.environment == Environment::Production {
        anyhow::bail!("database.url is required in production");
    }
    let dir = settings.database.local_dir.clone();
    let port = settings.database.local_port;
    let pg = tokio::task::spawn_blocking(move || -> anyhow::Result<local_pg::LocalPostgres> {
        let pg = local_pg::LocalPostgres::new(&dir, port)?;
        pg.ensure_running()?;
        Ok(pg)
    })
    .await??;
    local_pg::ensure_database(&pg.url("postgres"), "meridian").await?;
    tracing::info!(port, "using the private local PostgreSQL");
    Ok(pg.url("meridian"))
}

/// Creates an admin account with a checked email, name and password.
pub async fn create_admin(url: &str, email: &str, name: &str, pass: &str) -> anyhow::Result<Uuid> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("email {e}"))?;
    let name = Name::parse(name).map_err(|e| anyhow::anyhow!("name {e}"))?;
    password::check_strength(pass, &[email.as_str(), name.as_str()])
        .map_err(|e| anyhow::anyhow!("password {e}"))?;
    let hash = password::hash(SecretString::from(pass.to_string()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut conn =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(url).await?;
    let user = users::insert(
        &mut conn,
        &users::NewUser {
            id: Uuid::now_v7(),
            email: email.into_inner(),
            full_name: name.into_inner(),
            role: Role::Admin,
            institution_id: None,
            trainee_id: None,
            password_hash: Some(hash),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(user.id)
}
