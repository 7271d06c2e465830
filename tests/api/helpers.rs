//! The test harness: a real PostgreSQL, a database per test cloned from a
//! migrated template, and the real server on a free port.

use std::{path::PathBuf, sync::OnceLock};

use actix_web::web;
use diesel::{sql_query, sql_types::Text, ExpressionMethods, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use meridian::{
    auth::Role,
    config::Settings,
    local_pg::LocalPostgres,
    startup::Application,
    state::AppState,
    users::{self, NewUser},
};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The server every test shares: `MERIDIAN_TEST_DATABASE_URL` (a URL whose
/// user may create databases, ending in `/postgres`) or a private cluster
/// started from the local PostgreSQL binaries.
fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("MERIDIAN_TEST_DATABASE_URL") {
            return url;
        }
        let dir = std::env::temp_dir().join("meridian-test-postgres");
        let pg = LocalPostgres::new(&dir, 54339)
            .expect("test cluster folder")
            .throwaway();
        pg.ensure_running().expect("starting the test PostgreSQL");
        pg.url("postgres")
    })
}

fn url_of(database: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{database}")
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name that changes whenever any migration file changes.
fn template_name() -> String {
    let mut files: Vec<PathBuf> = walk(&manifest_dir().join("migrations"));
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&f).unwrap());
    }
    let digest = hasher.finalize();
    format!(
        "meridian_tpl_{}",
        digest[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Makes the migrated template once per cluster (under an advisory lock, so
/// that test processes running at once agree).
async fn template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            tokio::task::spawn_blocking(admin_url).await.unwrap();
            let name = template_name();
            let mut conn = AsyncPgConnection::establish(admin_url()).await.unwrap();
            sql_query("SELECT pg_advisory_lock(4242)")
                .execute(&mut conn)
                .await
                .unwrap();
            let found: Vec<Name> =
                sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'meridian_tpl_%'")
                    .load(&mut conn)
                    .await
                    .unwrap();
            if !found.iter().any(|n| n.datname == name) {
                let building = format!("{name}_building");
                sql_query(format!("DROP DATABASE IF EXISTS {building}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sql_query(format!("CREATE DATABASE {building}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                meridian::db::migrate(&url_of(&building)).await.unwrap();
                sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            // Databases of earlier runs that nobody uses any more.
            let stale: Vec<Name> = sql_query(
                "SELECT datname FROM pg_database d WHERE datname LIKE 'mt\\_%' \
                 AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname) \
                 AND (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '10 minutes'",
            )
            .load(&mut conn)
            .await
            .unwrap_or_default();
            for db in stale {
                let _ = sql_query(format!("DROP DATABASE IF EXISTS {}", db.datname))
                    .execute(&mut conn)
                    .await;
            }
            sql_query("SELECT pg_advisory_unlock(4242)")
                .execute(&mut conn)
                .await
                .unwrap();
            name
        })
        .await
}

/// A fresh database of this test, migrated.
pub async fn fresh_database() -> String {
    let template = template().await;
    new_database(&format!("TEMPLATE {template}")).await
}

/// An empty database, without migrations.
pub async fn empty_database() -> String {
    tokio::task::spawn_blocking(admin_url).await.unwrap();
    new_database("").await
}

/// Creates a database of a new name with `options`; its URL.
async fn new_database(options: &str) -> String {
    let name = format!("mt_{}", Uuid::now_v7().simple());
    let mut conn = AsyncPgConnection::establish(admin_url()).await.unwrap();
    sql_query(format!("CREATE DATABASE {name} {options}"))
        .execute(&mut conn)
        .await
        .unwrap();
    url_of(&name)
}

/// Settings of the `test` environment.
pub fn test_settings() -> Settings {
    let mut s = Settings::layered(&manifest_dir().join("config"), "test", false).unwrap();
    s.auth.jwt_secret = "meridian-test-secret-of-at-least-32-bytes"
        .to_string()
        .into();
    s
}

/// A running Meridian on its own database.
pub struct TestApp {
    pub base: String,
    pub db_url: String,
    pub client: reqwest::Client,
    pub state: web::Data<AppState>,
}

/// Starts the app on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

/// Starts the app on a fresh database, with an admin of it.
pub async fn spawn_app_with_admin() -> (TestApp, TestUser) {
    let app = spawn_app().await;
    let admin = app.admin().await;
    (app, admin)
}

/// Starts the app on a fresh database, with an admin of it and an
/// institution of (name, country code) the admin made.
pub async fn spawn_app_with_institution(name: &str, country: &str) -> (TestApp, TestUser, Value) {
    let (app, admin) = spawn_app_with_admin().await;
    let institution = app.institution(&admin.token, name, country).await;
    (app, admin, institution)
}

/// Starts the app on a fresh database, with an admin of it and institutions
/// of (name, country code) the admin made.
pub async fn spawn_app_with_institutions<const N: usize>(
    named: [(&str, &str); N],
) -> (TestApp, TestUser, [Value; N]) {
    let app = spawn_app().await;
    let (admin, institutions) = app.admin_with_institutions(named).await;
    (app, admin, institutions)
}

/// Institutions many scenarios bring to Meridian: (name, country code).
pub const GHANA: (&str, &str) = ("University of Ghana", "GH");
pub const NAIROBI: (&str, &str) = ("University of Nairobi", "KE");
pub const TSINGHUA: (&str, &str) = ("Tsinghua University", "CN");
pub const ZHEJIANG: (&str, &str) = ("Zhejiang University", "CN");

/// Starts the app with adjusted settings on a fresh database.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let db_url = fresh_database().await;
    spawn_app_on(settings, db_url).await
}

/// Starts the app on a given database.
pub async fn spawn_app_on(settings: Settings, db_url: String) -> TestApp {
    let app = Application::build(settings, &db_url).expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(app.run());
    TestApp {
        base,
        db_url,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        state,
    }
}

/// A user of the test and its access token.
#[derive(Clone)]
pub struct TestUser {
    pub id: Uuid,
    pub token: String,
}

impl TestApp {
    /// A connection to the test's database.
    pub async fn conn(&self) -> AsyncPgConnection {
        meridian::db::connect(&self.db_url).await.unwrap()
    }

    /// Inserts a user with a role and hands out a token for it.
    pub async fn user(&self, role: Role, institution_id: Option<Uuid>) -> TestUser {
        self.user_with_password(role, institution_id, None).await
    }

    pub async fn user_with_password(
        &self,
        role: Role,
        institution_id: Option<Uuid>,
        password_hash: Option<String>,
    ) -> TestUser {
        let id = Uuid::now_v7();
        let trainee_id = if role == Role::Trainee {
            Some(self.trainee_record(institution_id).await)
        } else {
            None
        };
        self.insert_user(NewUser {
            id,
            email: format!("{}-{}@example.org", <&str>::from(role), id.simple()),
            full_name: "Test User".into(),
            role,
            institution_id,
            trainee_id,
            password_hash,
        })
        .await
    }

    /// Inserts a user and hands out a token for it.
    async fn insert_user(&self, new: NewUser) -> TestUser {
        let user = users::insert(&mut self.conn().await, &new)
            .await
            .map_err(|e| e.to_string())
            .unwrap();
        let token = self
            .state
            .tokens
            .issue(
                user.id,
                new.role,
                new.institution_id,
                user.trainee_id,
                0,
                Uuid::now_v7(),
            )
            .unwrap();
        TestUser { id: user.id, token }
    }

    /// A trainee record (of `institution`, or of a new one), made in SQL.
    pub async fn trainee_record(&self, institution: Option<Uuid>) -> Uuid {
        use meridian::schema::{institutions, trainees};
        let mut conn = self.conn().await;
        let institution = match institution {
            Some(i) => i,
            None => {
                let i = Uuid::now_v7();
                diesel::insert_into(institutions::table)
                    .values((
                        institutions::id.eq(i),
                        institutions::name.eq(format!("Home of trainee {i}")),
                        institutions::kind.eq("university"),
                        institutions::country_code.eq("GH"),
                    ))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                i
            }
        };
        let id = Uuid::now_v7();
        diesel::insert_into(trainees::table)
            .values((
                trainees::id.eq(id),
                trainees::institution_id.eq(institution),
                trainees::given_name.eq("Ama"),
                trainees::family_name.eq("Owusu"),
                trainees::email.eq(format!("trainee-{}@example.org", id.simple())),
                trainees::nationality.eq("GH"),
                trainees::gender.eq("female"),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        id
    }

    /// The email address of a user.
    pub async fn email_of(&self, user: Uuid) -> String {
        use diesel::QueryDsl;
        use meridian::schema::users;
        users::table
            .find(user)
            .select(users::email)
            .first(&mut self.conn().await)
            .await
            .unwrap()
    }

    /// A trainee account for an existing trainee record.
    pub async fn user_for_trainee(&self, trainee_id: Uuid) -> TestUser {
        let id = Uuid::now_v7();
        self.insert_user(NewUser {
            id,
            email: format!("trainee-account-{}@example.org", id.simple()),
            full_name: "Trainee".into(),
            role: Role::Trainee,
            institution_id: None,
            trainee_id: Some(trainee_id),
            password_hash: None,
        })
        .await
    }

    /// A user of a role who belongs to `institution` (a record's JSON).
    pub async fn member(&self, role: Role, institution: &Value) -> TestUser {
        self.user(role, Some(id(institution))).await
    }

    /// The audit log as `token` reads it through the API, with `query`.
    pub async fn audit_log(&self, token: &str, query: &str) -> Vec<Value> {
        let page = self
            .get_json(&format!("/api/v1/audit-events?{query}"), token)
            .await;
        items(&page).clone()
    }

    /// Audit events of an action (counted in the database).
    pub async fn audited(&self, action: &str) -> i64 {
        self.count(&format!("audit_events WHERE action = '{action}'"))
            .await
    }

    pub async fn admin(&self) -> TestUser {
        self.user(Role::Admin, None).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// Sends a request with no body, signed by `token` when there is one.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>) -> Response {
        self.request(method, path, token).send().await.unwrap()
    }

    /// Sends a JSON body, signed by `token` when there is one.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &impl serde::Serialize,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A `GET` without a token.
    pub async fn get_anonymous(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    /// A `POST` of a JSON body without a token (the `/auth` endpoints).
    pub async fn post_anonymous(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, None, body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(Method::GET, path, Some(token)).await
    }

    /// A `GET` with one header more.
    pub async fn get_with_header(
        &self,
        path: &str,
        token: Option<&str>,
        name: &str,
        value: &str,
    ) -> Response {
        self.request(Method::GET, path, token)
            .header(name, value)
            .send()
            .await
            .unwrap()
    }

    /// A `GET` that revalidates a copy: `If-None-Match: etag`.
    pub async fn revalidate(&self, path: &str, token: Option<&str>, etag: &str) -> Response {
        self.get_with_header(path, token, "if-none-match", etag)
            .await
    }

    /// The JSON body of a `GET` that must answer 200.
    pub async fn get_ok(&self, path: &str, token: &str) -> Value {
        let res = self.get(path, token).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.unwrap()
    }

    /// The JSON body of a `GET`.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        self.get(path, token).await.json().await.unwrap()
    }

    /// The text of `/metrics` (no token: tests leave it public).
    pub async fn metrics(&self) -> String {
        self.get_anonymous("/metrics").await.text().await.unwrap()
    }

    /// The OpenAPI document, as anyone reads it.
    pub async fn openapi(&self) -> Value {
        let res = self.get_anonymous("/api/v1/openapi.json").await;
        res.json().await.unwrap()
    }

    /// The CSV answer of a `GET`.
    pub async fn csv(&self, path: &str, token: &str) -> String {
        let res = self
            .request(Method::GET, path, Some(token))
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        res.text().await.unwrap()
    }

    /// Creates a record with a `POST` that must answer 201; its JSON.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> Value {
        let res = self.post(path, token, body).await;
        assert_eq!(res.status(), 201, "POST {path}");
        res.json().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, Some(token), body).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &impl serde::Serialize) -> Response {
        self.send_json(Method::PUT, path, Some(token), body).await
    }

    /// Nominates a trainee (its id) into the cohort at `cohort`; the
    /// enrollment's JSON.
    pub async fn enroll(&self, cohort: &str, token: &str, trainee: impl serde::Serialize) -> Value {
        let body = json!({ "trainee_id": trainee });
        self.create(&format!("{cohort}/enrollments"), token, &body)
            .await
    }

    /// The id of the first notification in the outbox.
    pub async fn first_notification(&self) -> Uuid {
        use diesel::QueryDsl;
        use meridian::schema::notifications;
        notifications::table
            .select(notifications::id)
            .first(&mut self.conn().await)
            .await
            .unwrap()
    }

    /// Changes a record with a `PATCH` that must answer 200; its JSON.
    pub async fn patched(&self, path: &str, token: &str, body: &Value) -> Value {
        let res = self.patch(path, token, body).await;
        assert_eq!(res.status(), 200, "PATCH {path}");
        res.json().await.unwrap()
    }

    /// A `PATCH` on condition that the record is at `etag` (`If-Match`).
    pub async fn patch_if_match(
        &self,
        path: &str,
        token: &str,
        etag: &str,
        body: &Value,
    ) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .header("if-match", etag)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.send_json(Method::PATCH, path, Some(token), body).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.send(Method::DELETE, path, Some(token)).await
    }

    /// Creates institutions of (name, country) as `token`; their JSON.
    pub async fn institutions<const N: usize>(
        &self,
        token: &str,
        named: [(&str, &str); N],
    ) -> [Value; N] {
        let mut made = Vec::with_capacity(N);
        for (name, country) in named {
            made.push(self.institution(token, name, country).await);
        }
        made.try_into().unwrap()
    }

    /// An admin, and institutions of (name, country code) the admin made.
    pub async fn admin_with_institutions<const N: usize>(
        &self,
        named: [(&str, &str); N],
    ) -> (TestUser, [Value; N]) {
        let admin = self.admin().await;
        let institutions = self.institutions(&admin.token, named).await;
        (admin, institutions)
    }

    /// Creates an institution as `token` and returns its JSON.
    pub async fn institution(&self, token: &str, name: &str, country: &str) -> Value {
        let res = self
            .post(
                "/api/v1/institutions",
                token,
                &json!({"name": name, "kind": "university", "country_code": country}),
            )
            .await;
        assert_eq!(res.status(), 201, "creating {name}");
        res.json().await.unwrap()
    }

    /// Asserts a 422 validation problem naming exactly `fields` (sorted),
    /// after which `table` still holds `rows` rows (a refused create added
    /// none). Returns the problem.
    pub async fn assert_invalid_leaving(
        &self,
        res: Response,
        fields: &[&str],
        table: &str,
        rows: i64,
    ) -> Value {
        let problem = assert_invalid(res, fields).await;
        assert_eq!(self.count(table).await, rows, "rows of {table}");
        problem
    }

    /// Runs SQL statements straight on the test database.
    pub async fn run_sql(&self, statements: &str) {
        use diesel_async::SimpleAsyncConnection;
        self.conn()
            .await
            .batch_execute(statements)
            .await
            .unwrap_or_else(|e| panic!("{statements}: {e}"));
    }

    /// Rows in a table of the test's database (`table` may carry a
    /// `WHERE` clause).
    pub async fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn().await;
        let rows: Vec<Count> = sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .load(&mut conn)
            .await
            .unwrap();
        rows[0].n
    }
}

/// The cast of most scope tests, made by [`TestApp::cast`]: an admin, a
/// coordinator, a viewer, and two institutions with a partner of each
/// one's staff.
pub struct Cast {
    pub admin: TestUser,
    pub coordinator: TestUser,
    pub viewer: TestUser,
    pub own: Value,
    pub other: Value,
    pub own_staff: TestUser,
    pub other_staff: TestUser,
}

impl TestApp {
    /// Makes the [`Cast`], with institutions of (name, country code).
    pub async fn cast(&self, own: (&str, &str), other: (&str, &str)) -> Cast {
        let admin = self.admin().await;
        let own = self.institution(&admin.token, own.0, own.1).await;
        let other = self.institution(&admin.token, other.0, other.1).await;
        Cast {
            coordinator: self.user(Role::Coordinator, None).await,
            own_staff: self.member(Role::Partner, &own).await,
            other_staff: self.member(Role::Partner, &other).await,
            viewer: self.user(Role::Viewer, None).await,
            admin,
            own,
            other,
        }
    }
}

/// Asserts a problem+json answer of a status and kind; returns its body.
pub async fn assert_problem(res: Response, status: u16, kind: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    // An absolute URI under the service's public base URL.
    let kind_uri = body["type"].as_str().unwrap_or_default();
    assert!(
        kind_uri.starts_with("http") && kind_uri.ends_with(&format!("/problems/{kind}")),
        "{body}"
    );
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string());
    body
}

/// Asserts a 422 validation problem naming exactly `fields` (sorted);
/// returns its body.
pub async fn assert_invalid(res: Response, fields: &[&str]) -> Value {
    let problem = assert_problem(res, 422, "validation").await;
    assert_eq!(error_fields(&problem), fields);
    problem
}

/// The id of a record's JSON.
pub fn id(record: &Value) -> Uuid {
    record["id"].as_str().unwrap().parse().unwrap()
}

/// The path of a record of a collection: `/api/v1/{collection}/{id}`.
pub fn path_of(collection: &str, record: &Value) -> String {
    format!("/api/v1/{collection}/{}", record["id"].as_str().unwrap())
}

/// The items of a list page.
pub fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

/// A text member of every item of a list page.
pub fn item_texts<'a>(page: &'a Value, member: &str) -> Vec<&'a str> {
    items(page)
        .iter()
        .map(|item| item[member].as_str().unwrap())
        .collect()
}

/// The body of an open course of `owner`, to create as a resource.
pub fn course_body(owner: &Value) -> Value {
    json!({"title": "Crop vision", "kind": "course", "url": "https://open.example.org/c",
           "licence": "CC-BY-4.0", "ip_terms": "open", "owner_institution_id": owner["id"]})
}

/// A JSON body with the members of `extra` put over those of `base`.
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

/// The fields named in a 422 problem.
pub fn error_fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    fields.sort();
    fields
}

/// Settings whose worker delivers to an SMTP server, with short waits.
pub fn mail_settings(smtp_url: &str) -> Settings {
    let mut s = test_settings();
    s.worker.enabled = true;
    s.worker.poll_interval_ms = 200;
    s.worker.lease_secs = 3;
    s.worker.backoff_base_ms = 100;
    s.worker.max_attempts = 6;
    s.worker.batch_size = 20;
    s.email.transport = meridian::config::EmailTransport::Smtp;
    s.email.smtp_url = smtp_url.to_string().into();
    s.email.smtp_timeout_secs = 2;
    s.email.from = "Meridian <no-reply@meridian.test>".into();
    s.public_base_url = "https://meridian.test".into();
    s
}

/// Polls `check` until it holds (at most `secs` seconds).
pub async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

impl TestApp {
    /// Creates a programme led by `lead` and returns its JSON.
    pub async fn programme(&self, token: &str, code: &str, lead: &Value) -> Value {
        let res = self
            .post(
                "/api/v1/programs",
                token,
                &json!({
                    "code": code, "title": format!("AI for agriculture {code}"), "theme": "agriculture",
                    "lead_institution_id": lead["id"], "starts_on": "2027-01-01", "ends_on": "2027-12-31",
                }),
            )
            .await;
        assert_eq!(res.status(), 201, "creating programme {code}");
        res.json().await.unwrap()
    }

    /// A cohort body of a programme and host, open for nominations now;
    /// `extra` overrides members.
    pub fn cohort_body(programme: &Value, host: &Value, code: &str, extra: Value) -> Value {
        let now = chrono::Utc::now();
        let body = json!({
            "program_id": programme["id"], "code": code, "title": format!("Cohort {code}"),
            "host_institution_id": host["id"], "delivery": "hybrid", "country_code": "KE",
            "city": "Nairobi", "languages": ["en", "sw"],
            "starts_on": (now + chrono::Duration::days(30)).date_naive(),
            "ends_on": (now + chrono::Duration::days(60)).date_naive(),
            "nominations_open_at": now - chrono::Duration::days(1),
            "nominations_close_at": now + chrono::Duration::days(10),
            "capacity": 3,
        });
        merged(body, extra)
    }

    /// Creates a cohort and opens it; returns its JSON and its path.
    pub async fn open_cohort(
        &self,
        token: &str,
        programme: &Value,
        host: &Value,
        code: &str,
        extra: Value,
    ) -> (Value, String) {
        let cohort = self
            .cohort(token, &TestApp::cohort_body(programme, host, code, extra))
            .await;
        let path = format!("/api/v1/cohorts/{}", cohort["id"].as_str().unwrap());
        assert_eq!(self.move_to(token, &path, "open").await.status(), 200);
        (cohort, path)
    }

    /// Creates a cohort and returns its JSON.
    pub async fn cohort(&self, token: &str, body: &Value) -> Value {
        let res = self.post("/api/v1/cohorts", token, body).await;
        assert_eq!(res.status(), 201, "creating a cohort");
        res.json().await.unwrap()
    }

    /// Moves a record through `POST {path}/transitions`, which must answer 200.
    pub async fn moved(&self, token: &str, path: &str, to: &str) {
        let status = self.move_to(token, path, to).await.status();
        assert_eq!(status, 200, "moving {path} to {to}");
    }

    /// Asserts that moving a record to `to` is refused with a 409 of `kind`;
    /// returns the problem.
    pub async fn move_refused(&self, token: &str, path: &str, to: &str, kind: &str) -> Value {
        assert_problem(self.move_to(token, path, to).await, 409, kind).await
    }

    /// Moves a record through `POST {path}/transitions`.
    pub async fn move_to(&self, token: &str, path: &str, to: &str) -> reqwest::Response {
        self.post(&format!("{path}/transitions"), token, &json!({ "to": to }))
            .await
    }
}

/// A port nobody listens on now, for a cluster of a test.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a blocking chore of a cluster (start, stop) off the async threads;
/// it must succeed.
pub async fn on_cluster<T: Send + 'static>(
    cluster: &meridian::local_pg::LocalPostgres,
    chore: fn(&meridian::local_pg::LocalPostgres) -> anyhow::Result<T>,
) -> T {
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || chore(&cluster))
        .await
        .unwrap()
        .unwrap()
}

/// Clusters of a test, stopped however it ends.
pub struct Clusters(pub Vec<meridian::local_pg::LocalPostgres>);

impl Drop for Clusters {
    fn drop(&mut self) {
        for cluster in &self.0 {
            let _ = cluster.stop();
        }
    }
}
