//! The dashboard at `/dashboard`, in a real browser: Debian's `chromium`
//! driven through `chromedriver` (WebDriver). Outside CI, a machine without
//! them skips the browser tests with a note; in CI (`CI=true`) their absence
//! fails. The first-load size and the 304s of a reload are checked over
//! plain HTTP.

use std::{
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{wd::WebDriverCompatibleCommand, Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use meridian::{auth::Role, schema::users};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    free_port, id, path_of, spawn_app, spawn_app_with_institution, TestApp, GHANA, NAIROBI,
};

const PASSWORD: &str = "a long enough passphrase";

/// A user who can sign in; answers its email.
async fn account(app: &TestApp, role: Role, institution: Option<Uuid>) -> (String, String) {
    let hash = meridian::auth::password::hash(PASSWORD.to_string().into())
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    let user = app.user_with_password(role, institution, Some(hash)).await;
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    let email = users::table
        .find(user.id)
        .select(users::email)
        .first(&mut conn)
        .await
        .unwrap();
    (email, user.token)
}

/// A programme with a cohort, two nominations and an acceptance, so that
/// every chart has something to draw.
async fn programme(app: &TestApp) -> Value {
    let (admin, [ghana, kenya]) = app.admin_with_institutions([GHANA, NAIROBI]).await;
    let programme = app.programme(&admin.token, "AIAG", &ghana).await;
    let (_, cohort) = app
        .open_cohort(&admin.token, &programme, &kenya, "K1", json!({}))
        .await;
    for home in [&ghana, &kenya] {
        let trainee = app.trainee_record(Some(id(home))).await;
        let e = app.enroll(&cohort, &admin.token, &trainee).await;
        let path = path_of("enrollments", &e);
        app.moved(&admin.token, &path, "accepted").await;
    }
    programme
}

/// A chromedriver of this test in a process group of its own, stopped with
/// the browser it started when dropped (a failed test does not close its
/// session).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

/// A headless browser that downloads into `downloads`, or `None` (with a
/// note) where chromium is not installed and this is not CI.
async fn browser(downloads: &Path) -> Option<(Driver, Client)> {
    let port = free_port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("skipping the browser test: chromedriver is not installed ({e})");
            return None;
        }
        Err(e) => panic!("CI needs chromium and chromium-driver: {e}"),
    };
    let driver = Driver(child);
    let capabilities = json!({
        "goog:chromeOptions": {
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,2000"],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": false},
        }
    });
    // chromedriver listens on loopback: plain HTTP, no TLS.
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities.as_object().unwrap().clone());
    for _ in 0..50 {
        if let Ok(client) = builder.connect(&format!("http://127.0.0.1:{port}")).await {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer");
}

/// Runs `script` until it returns true (at most 15 s).
async fn until(client: &Client, script: &str) {
    for _ in 0..150 {
        if client.execute(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page: Value = client
        .execute("return document.body.innerText", vec![])
        .await
        .unwrap();
    panic!("never true: {script}\npage: {page}");
}

/// Clicks the element of a CSS selector.
async fn click(client: &Client, css: &str) {
    let element = client.find(Locator::Css(css)).await.unwrap();
    element.click().await.unwrap();
}

async fn sign_in(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    until(client, "return !document.getElementById('signin').hidden").await;
    for (id, text) in [("email", email), ("password", PASSWORD)] {
        let field = client.find(Locator::Id(id)).await.unwrap();
        field.send_keys(text).await.unwrap();
    }
    click(client, "#signin button").await;
}

async fn message(client: &Client) -> String {
    let m: Value = client
        .execute(
            "const m = document.getElementById('message'); return m.hidden ? '' : m.textContent",
            vec![],
        )
        .await
        .unwrap();
    m.as_str().unwrap().to_string()
}

/// Chromium's own command for network conditions.
#[derive(Debug)]
struct Throttle(Value);

impl WebDriverCompatibleCommand for Throttle {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/chromium/network_conditions",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

fn target() -> PathBuf {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_coordinator_reads_the_dashboard_in_english_and_arabic_and_downloads_csv() {
    let app = spawn_app().await;
    let programme = programme(&app).await;
    let (email, token) = account(&app, Role::Coordinator, None).await;
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    sign_in(&client, &app.base, &email).await;
    until(
        &client,
        "return document.querySelectorAll('#chart-country svg rect').length > 0",
    )
    .await;

    // The tiles say what /stats/overview says.
    let overview = app.get_json("/api/v1/stats/overview", &token).await;
    let shown: Value = client
        .execute(
            "return Object.fromEntries([...document.querySelectorAll('.tile')].map(t => [t.dataset.key, t.dataset.value]))",
            vec![],
        )
        .await
        .unwrap();
    for (key, figure) in [
        ("institutions", &overview["institutions"]),
        ("programs", &overview["programs"]),
        ("trainees", &overview["trainees"]),
        ("enrollments", &overview["enrollments"]["total"]),
        ("certificates", &overview["certificates"]),
        ("exchanges", &overview["exchanges"]["total"]),
    ] {
        assert_eq!(shown[key], json!(figure.to_string()), "{key}");
    }
    assert_eq!(shown["enrollments"], json!("2"));

    // A programme's view, shared as a link, shows its cohorts' fill.
    let link = format!(
        "{}/dashboard?program={}&lang=en",
        app.base,
        programme["id"].as_str().unwrap()
    );
    client.goto(&link).await.unwrap();
    until(
        &client,
        "return document.querySelector('#chart-fill svg text')?.textContent === 'K1'",
    )
    .await;
    let screenshot = client.screenshot().await.unwrap();
    std::fs::write(target().join("dashboard.png"), screenshot).unwrap();

    // Arabic: right to left, in the URL.
    client
        .find(Locator::Id("lang"))
        .await
        .unwrap()
        .select_by_value("ar")
        .await
        .unwrap();
    until(
        &client,
        "return document.documentElement.dir === 'rtl' && location.search.includes('lang=ar')",
    )
    .await;
    until(
        &client,
        "return document.getElementById('h-country').textContent === 'التسجيلات حسب البلد'",
    )
    .await;

    // A CSV beside each chart: the same endpoint asked for text/csv.
    click(&client, "#chart-country button").await;
    let file = downloads.path().join("meridian-country.csv");
    let mut csv = String::new();
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(&file) {
            csv = text;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(csv.starts_with("key,"), "{csv:?}");
    assert!(csv.contains("\nGH,"), "{csv}");

    // A failed request shows the problem's title, not a blank chart.
    let res = app
        .get("/api/v1/stats/exchanges/flows?year=abc", &token)
        .await;
    let title = res.json::<Value>().await.unwrap()["title"].clone();
    client
        .goto(&format!("{}/dashboard?year=abc", app.base))
        .await
        .unwrap();
    until(
        &client,
        &format!("return document.querySelector('#chart-flows .error')?.textContent === {title}"),
    )
    .await;

    // An unknown programme in the URL is "not found".
    client
        .goto(&format!(
            "{}/dashboard?program={}",
            app.base,
            Uuid::now_v7()
        ))
        .await
        .unwrap();
    until(&client, "return !document.getElementById('message').hidden").await;
    assert!(message(&client).await.starts_with("Programme not found"));

    // Slow 3G (Chromium's profile: 400 ms each way, 500 kbit/s): the time
    // from navigation to the first chart, written for the closing note.
    let slow = json!({"network_conditions": {"offline": false, "latency": 2000,
        "download_throughput": 50_000, "upload_throughput": 50_000}});
    client.issue_cmd(Throttle(slow)).await.unwrap();
    client
        .goto(&format!("{}/dashboard", app.base))
        .await
        .unwrap();
    until(&client, "return !!document.body.dataset.firstChart").await;
    let first: Value = client
        .execute("return document.body.dataset.firstChart", vec![])
        .await
        .unwrap();
    std::fs::write(
        target().join("dashboard-slow-3g.json"),
        json!({ "first_chart_ms": first }).to_string(),
    )
    .unwrap();

    // An expired session goes back to sign-in, with a message.
    client
        .execute(
            "sessionStorage.setItem('meridian.access', JSON.stringify({token: 'x', until: Date.now() + 60000})); location.reload()",
            vec![],
        )
        .await
        .unwrap();
    until(&client, "return !document.getElementById('signin').hidden").await;
    assert_eq!(
        message(&client).await,
        "Your session has expired. Please sign in again."
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_partner_is_told_the_dashboard_is_not_theirs() {
    let (app, _, ghana) = spawn_app_with_institution("University of Ghana", "GH").await;
    let (email, _) = account(&app, Role::Partner, Some(id(&ghana))).await;
    let downloads = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = browser(downloads.path()).await else {
        return;
    };
    sign_in(&client, &app.base, &email).await;
    until(&client, "return !document.getElementById('message').hidden").await;
    assert!(message(&client)
        .await
        .starts_with("Your role may not read programme statistics"));
    let board: Value = client
        .execute(
            "return [document.getElementById('board').hidden, document.querySelectorAll('svg').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(board, json!([true, 0]), "no empty chart");
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_first_load_is_under_100_kb_compressed_and_a_reload_moves_only_headers() {
    let app = spawn_app().await;
    programme(&app).await;
    let admin = app.admin().await;
    let mut total = 0;
    let mut tags = Vec::new();
    for path in ["/dashboard", "/dashboard/app.js", "/dashboard/app.css"] {
        let res = app
            .get_with_header(path, None, "accept-encoding", "br, gzip")
            .await;
        assert_eq!(res.status(), 200, "{path}");
        let policy = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        let headers: usize = res
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        tags.push((path, res.headers()["etag"].clone()));
        total += headers + res.bytes().await.unwrap().len();
    }
    eprintln!("dashboard first load: {total} bytes compressed, headers included");
    assert!(total < 100 * 1024, "{total} bytes");

    // A reload: 304s with no body, for the page and for its data.
    for (path, tag) in tags {
        let res = app.revalidate(path, None, tag.to_str().unwrap()).await;
        assert_eq!(res.status(), 304, "{path}");
        assert!(res.bytes().await.unwrap().is_empty());
    }
    for path in [
        "/api/v1/stats/overview",
        "/api/v1/stats/enrollments?group_by=country",
        "/api/v1/programs?limit=200&sort=code",
    ] {
        let res = app.get(path, &admin.token).await;
        assert_eq!(res.status(), 200);
        let tag = res.headers()["etag"].clone();
        assert_eq!(res.headers()["cache-control"], "private, no-cache");
        let again = app
            .revalidate(path, Some(&admin.token), tag.to_str().unwrap())
            .await;
        assert_eq!(again.status(), 304, "{path}");
    }
}
