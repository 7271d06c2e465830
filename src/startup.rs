//! Building the application: state, middleware and routes, bound to a port.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::{
    dev::Server,
    guard,
    http::header,
    middleware::{from_fn, Compress},
    web, App, HttpResponse, HttpServer, Scope,
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::{
    api, audit,
    auth::{self, token::TokenService},
    certificates, cohorts,
    config::Settings,
    dashboard, db, deletions,
    email::{self, worker::Worker},
    enrollments,
    error::{self, AppError},
    exchanges, incubators, institutions,
    jobs::Jobs,
    milestones, openapi, ops, problems, programmes, resources, service_requests, sessions,
    state::{AppState, Replica},
    stats,
    telemetry::{self, Metrics},
    trainees, users, ventures, webhooks,
    webhooks::worker::Deliverer,
};

/// A server bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    /// The workers and the scheduled jobs, when this instance runs them.
    background: Option<Background>,
    pub state: web::Data<AppState>,
}

impl Application {
    /// Builds the state and binds `server.host:server.port` (0 picks a free port).
    pub fn build(settings: Settings, database_url: &str) -> anyhow::Result<Self> {
        let threads = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let (background, per_thread) = split_pool(
            settings.database.pool_size,
            threads,
            settings.worker.enabled,
        )?;
        let pool = db::pool(database_url, background)?;
        let state = web::Data::new(AppState {
            tokens: TokenService::new(&settings.auth),
            latest_migration: db::latest_migration(),
            knowledge: Default::default(),
            replica: None,
            pool,
            settings,
        });
        let replica_url = state
            .settings
            .database
            .configured_replica()
            .map(str::to_string);
        let replica_down = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let metrics = Metrics::new()?;
        let background = if state.settings.worker.enabled {
            let worker = Worker::new(
                &state.settings,
                state.pool.clone(),
                database_url,
                metrics.clone(),
            )?;
            let webhooks = Deliverer::new(
                &state.settings.webhooks,
                state.pool.clone(),
                database_url,
                metrics.clone(),
            )?;
            Some(Background {
                worker,
                webhooks,
                jobs: Jobs::new(state.pool.clone(), state.settings.email.retention_days),
            })
        } else {
            None
        };
        let metrics = web::Data::new(metrics);
        let listener = TcpListener::bind((
            state.settings.server.host.as_str(),
            state.settings.server.port,
        ))?;
        let port = listener.local_addr()?.port();
        let server_settings = state.settings.server.clone();
        let (shared, url) = (state.clone(), database_url.to_string());
        // Assembled and written once; the server threads share the bytes
        // (a document per thread held megabytes each).
        let api_doc = web::Bytes::from(serde_json::to_vec(&openapi::document())?);
        give_back_free_memory();
        let server = HttpServer::new(move || {
            // Each worker thread draws from a pool of its own: a connection's
            // I/O task then runs on the thread whose requests use it, and no
            // query wakes another thread.
            let app_state = web::Data::new(AppState {
                settings: shared.settings.clone(),
                pool: db::pool(&url, per_thread).expect("a pool like the one built at start"),
                tokens: shared.tokens.clone(),
                latest_migration: shared.latest_migration.clone(),
                knowledge: shared.knowledge.clone(),
                replica: replica_url.as_deref().map(|url| {
                    let pool = db::pool(url, per_thread).expect("a pool like the primary's");
                    Replica::new(pool, replica_down.clone())
                }),
            });
            App::new()
                .app_data(app_state.clone())
                .app_data(metrics.clone())
                .configure(|cfg| configure(cfg, &app_state.settings, api_doc.clone()))
                .wrap(cors(&app_state.settings.server.cors_allowed_origins))
                .wrap(from_fn(problems::absolute_types))
                .wrap(Compress::default())
                .wrap(from_fn(telemetry::observe))
        })
        .workers(threads)
        .listen(listener)?
        .shutdown_timeout(server_settings.shutdown_timeout_secs);
        Ok(Application {
            port,
            server: server.run(),
            background,
            state,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves (and delivers email, when enabled) until stopped by a signal;
    /// requests in flight and emails in hand are finished first.
    pub async fn run(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let background = self.background.map(|b| b.spawn(stopped));
        let served = self.server.await;
        let _ = stop.send(true);
        if let Some(running) = background {
            running.await;
        }
        served
    }
}

/// Returns the heap's free pages to the system. Building the API document
/// peaks at some 18 MB, freed at once but kept by the allocator under the
/// few allocations made after it: without this, an idle server held twice
/// the memory it uses.
fn give_back_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory of glibc's allocator,
    // which owns it; no memory of ours is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What an instance runs besides serving: the email and webhook workers
/// and the scheduled jobs.
pub struct Background {
    pub worker: Worker,
    pub webhooks: Deliverer,
    pub jobs: Jobs,
}

impl Background {
    /// Starts all three until `stop` turns true; the answer waits for them
    /// to finish what is in hand.
    pub fn spawn(
        self,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = ()> {
        let jobs = tokio::spawn(self.jobs.run(stop.clone()));
        let webhooks = tokio::spawn(self.webhooks.run(stop.clone()));
        let worker = tokio::spawn(self.worker.run(stop));
        async move {
            let _ = tokio::join!(worker, webhooks, jobs);
        }
    }
}

/// How one instance's `database.pool_size` connections are shared, so that
/// it never opens more: when the workers run, the `LISTEN` connections of
/// the email and webhook workers and one pooled connection for them and the
/// jobs loop; the rest
/// split evenly among the server's threads, a pool each. Answers the
/// background pool's size and each thread's.
fn split_pool(pool_size: usize, threads: usize, worker: bool) -> anyhow::Result<(usize, usize)> {
    let background = if worker { 3 } else { 0 };
    let per_thread = pool_size.saturating_sub(background) / threads.max(1);
    if per_thread == 0 {
        let worker = if worker {
            " and three for the workers"
        } else {
            ""
        };
        anyhow::bail!(
            "configuration error: database.pool_size ({pool_size}) is below what this instance \
             needs: one connection per server thread ({threads}){worker}; raise it or lower \
             server.workers"
        );
    }
    Ok((1, per_thread))
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::ACCEPT,
        ])
        .allowed_header("idempotency-key")
        .allowed_header("x-request-id")
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::LINK,
            header::CONTENT_DISPOSITION,
        ])
        .expose_headers(["x-request-id", "x-next-cursor"])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// The routes of some modules under `/api/v1`, tried only for paths that
/// start with one of `prefixes`. actix tries routes one after another (a
/// regular expression for each route with a parameter), so a flat list of
/// a hundred routes cost the last ones a fifth of their time; grouped, a
/// request is tried against a dozen prefixes and then its own group. The
/// handlers keep their full paths.
fn group(prefixes: &[&str], modules: &[fn(&mut web::ServiceConfig)]) -> Scope {
    let prefixes: Vec<String> = prefixes.iter().map(|p| format!("/api/v1{p}")).collect();
    let mut scope = web::scope("").guard(guard::fn_guard(move |ctx| {
        let path = ctx.head().uri.path();
        prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }));
    for routes in modules {
        scope = scope.configure(routes);
    }
    scope
}

/// Every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig, settings: &Settings, api_doc: web::Bytes) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(settings.server.json_limit_bytes)
            .error_handler(error::json_error),
    )
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .configure(ops::routes)
    .configure(dashboard::routes)
    .service(problems::describe)
    .route(
        "/api/v1/openapi.json",
        web::get().to(move || {
            let body = api_doc.clone();
            async move {
                HttpResponse::Ok()
                    .content_type(header::ContentType::json())
                    .body(body)
            }
        }),
    )
    .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/api/v1/openapi.json")))
    .route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/docs/"))
                .finish()
        }),
    )
    .service(
        web::scope("/api/v1")
            .wrap(from_fn(api::body::json_first))
            .wrap(from_fn(api::idempotency::idempotency))
            .wrap(from_fn(api::csv::negotiate))
            .wrap(from_fn(api::revalidate))
            .wrap(from_fn(auth::throttle::limit_by_ip))
            .service(group(
                &["/auth", "/invitations"],
                &[auth::routes::routes, users::invitations::routes],
            ))
            .service(group(&["/me", "/users"], &[users::routes::routes]))
            .service(group(&["/institutions"], &[institutions::routes]))
            .service(group(&["/programs"], &[programmes::routes]))
            .service(group(
                &["/cohorts", "/enrollments", "/sessions"],
                &[
                    cohorts::routes,
                    enrollments::routes,
                    sessions::routes,
                    resources::cohort_routes,
                ],
            ))
            .service(group(&["/trainees"], &[trainees::routes]))
            .service(group(&["/certificates"], &[certificates::routes]))
            .service(group(&["/incubators"], &[incubators::routes]))
            .service(group(
                &["/ventures", "/service-requests"],
                &[
                    ventures::routes,
                    milestones::routes,
                    service_requests::routes,
                    resources::venture_routes,
                ],
            ))
            .service(group(
                &["/exchange-agreements", "/exchanges"],
                &[exchanges::routes],
            ))
            .service(group(&["/resources", "/public"], &[resources::routes]))
            .service(group(&["/webhooks"], &[webhooks::routes]))
            .service(group(
                &["/stats"],
                &[stats::routes, resources::stats::routes],
            ))
            .service(group(&["/deletions"], &[deletions::routes]))
            .service(group(&["/audit-events"], &[audit::routes::routes]))
            .service(group(&["/notifications"], &[email::routes::routes])),
    )
    .default_service(web::to(|| async {
        Err::<HttpResponse, _>(AppError::NoRoute)
    }));
}
