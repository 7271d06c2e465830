//! A private PostgreSQL cluster started from the local binaries, for a run
//! with no database configured and for the test suite.
//!
//! PostgreSQL refuses to run as root, so when Meridian runs as root the
//! cluster's folder is handed to the `postgres` user and every PostgreSQL
//! command runs through `runuser -u postgres`. When that user cannot reach
//! the folder asked for (a project in root's private home), the cluster
//! lives under `/var/tmp` instead, in a folder named after the one asked
//! for, so that each project keeps its own.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

/// A cluster in a folder, listening on 127.0.0.1 at a port.
#[derive(Debug, Clone)]
pub struct LocalPostgres {
    data_dir: PathBuf,
    port: u16,
    /// Extra `postgres -c` settings, e.g. `fsync=off` for throw-away test data.
    settings: Vec<String>,
}

impl LocalPostgres {
    pub fn new(dir: &Path, port: u16) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut dir = dir.canonicalize()?;
        if is_root() && !reachable_by_postgres(&dir) {
            dir = relocated(&dir);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(LocalPostgres {
            data_dir: dir.join("data"),
            port,
            settings: Vec::new(),
        })
    }

    /// The folder of the cluster's data.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the cluster if it runs (`meridian stop-local-db`).
    pub fn stop(&self) -> anyhow::Result<bool> {
        let bin = bin_dir()?;
        let root = is_root();
        let mut status = pg_command(&bin.join("pg_ctl"), root);
        status.arg("status").arg("-D").arg(&self.data_dir);
        if !status.output().map(|o| o.status.success()).unwrap_or(false) {
            return Ok(false);
        }
        let mut stop = pg_command(&bin.join("pg_ctl"), root);
        stop.arg("stop")
            .args(["-m", "fast", "-w"])
            .arg("-D")
            .arg(&self.data_dir);
        run(&mut stop).context("stopping PostgreSQL failed")?;
        Ok(true)
    }

    /// Trades durability for speed; only for data that may be lost.
    pub fn throwaway(mut self) -> Self {
        self.settings = [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
        ]
        .map(String::from)
        .to_vec();
        self
    }

    /// Adds a `postgres -c` setting, e.g. `ssl=on`.
    pub fn with_setting(mut self, setting: &str) -> Self {
        self.settings.push(setting.to_string());
        self
    }

    /// The folder holding the cluster's data folder, its log and socket:
    /// files the cluster reads (certificates) go here.
    pub fn base_dir(&self) -> &Path {
        self.data_dir.parent().unwrap_or(Path::new("/"))
    }

    /// URL of a database in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Makes this cluster a streaming replica of `primary` (a base backup
    /// that keeps following it), unless it holds data already; start it
    /// with [`Self::ensure_running`].
    pub fn follow(&self, primary: &LocalPostgres) -> anyhow::Result<()> {
        if self.data_dir.join("PG_VERSION").exists() {
            return Ok(());
        }
        let bin = bin_dir()?;
        let root = is_root();
        let base = self.data_dir.parent().unwrap_or(Path::new("/"));
        if root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(base))?;
        }
        let mut backup = pg_command(&bin.join("pg_basebackup"), root);
        backup
            .args(["-h", "127.0.0.1", "-U", "postgres", "-X", "stream", "-R"])
            .args([
                "-p",
                &primary.port.to_string(),
                "--checkpoint=fast",
                "--no-sync",
                "-D",
            ])
            .arg(&self.data_dir);
        run(&mut backup).context("pg_basebackup failed")
    }

    /// Initialises the cluster if needed and starts it unless it runs already.
    pub fn ensure_running(&self) -> anyhow::Result<()> {
        let bin = bin_dir()?;
        let root = is_root();
        let base = self.data_dir.parent().unwrap_or(Path::new("/"));
        if root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(base))?;
        }
        if !self.data_dir.join("PG_VERSION").exists() {
            let mut initdb = pg_command(&bin.join("initdb"), root);
            initdb
                .arg("-D")
                .arg(&self.data_dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .arg("--no-sync");
            run(&mut initdb).context("initdb failed")?;
        }
        let mut status = pg_command(&bin.join("pg_ctl"), root);
        status.arg("status").arg("-D").arg(&self.data_dir);
        if status.output().map(|o| o.status.success()).unwrap_or(false) {
            return Ok(());
        }
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            base.display()
        );
        for s in &self.settings {
            options.push_str(" -c ");
            options.push_str(s);
        }
        let mut start = pg_command(&bin.join("pg_ctl"), root);
        start
            .arg("start")
            .arg("-w")
            .args(["-t", "60"])
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(base.join("postgres.log"))
            .arg("-o")
            .arg(options);
        run(&mut start).with_context(|| {
            format!(
                "starting PostgreSQL failed; see {}",
                base.join("postgres.log").display()
            )
        })
    }
}

/// Where `initdb` and `pg_ctl` live: `MERIDIAN_PG_BIN`, `pg_config --bindir`,
/// or the newest `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MERIDIAN_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(dir) = candidates.pop() {
        return Ok(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    bail!(
        "no PostgreSQL server binaries found (initdb, pg_ctl); install them \
         (Debian: apt-get install postgresql) or set DATABASE_URL"
    )
}

/// Whether the `postgres` user can reach `dir` (every folder above it
/// included).
fn reachable_by_postgres(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Where a cluster asked for in an unreachable `dir` lives instead.
fn relocated(dir: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let name: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    PathBuf::from("/var/tmp").join(format!("meridian-postgres-{name}"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_command(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} exited with {}: {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Creates `database` in the cluster at `admin_url` unless it exists.
pub async fn ensure_database(admin_url: &str, database: &str) -> anyhow::Result<()> {
    use diesel::{sql_query, sql_types::Text, QueryableByName};
    use diesel_async::RunQueryDsl;

    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    let mut conn = crate::db::connect(admin_url).await?;
    let found: Vec<Found> = sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(database)
        .load(&mut conn)
        .await?;
    if found.is_empty() {
        if !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            bail!("unsafe database name {database:?}");
        }
        sql_query(format!("CREATE DATABASE {database}"))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A project in a folder only its owner may enter (as root's home is):
    /// the cluster still starts, answers and stops.
    #[test]
    fn a_private_project_folder_gets_a_cluster_that_starts_and_stops() {
        if bin_dir().is_err() {
            panic!("the PostgreSQL server binaries are needed (apt-get install postgresql)");
        }
        let home =
            std::env::temp_dir().join(format!("meridian-private-home-{}", std::process::id()));
        let project = home.join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = LocalPostgres::new(&project.join(".meridian/postgres"), port)
            .unwrap()
            .throwaway();
        if is_root() {
            assert!(!pg.data_dir().starts_with(&home), "{:?}", pg.data_dir());
        }
        pg.ensure_running().unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert!(pg.stop().unwrap());
        assert!(!pg.stop().unwrap(), "stopping twice is a no-op");
        if let Some(base) = pg.data_dir().parent() {
            let _ = std::fs::remove_dir_all(base);
        }
        let _ = std::fs::remove_dir_all(&home);
    }
}
