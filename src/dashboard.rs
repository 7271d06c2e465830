//! `/dashboard`: the statistics page for secretariats and funders, served
//! by the binary with its three files embedded (no CDN, no build step). It
//! reads only the public REST API with the user's own login, so it shows
//! what that role may read. Each file carries an ETag of its content and is
//! revalidated on every visit: a reload moves only headers.

use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use crate::{
    api::{digest_tag, none_match},
    error::AppError,
};

#[derive(RustEmbed)]
#[folder = "dashboard/"]
struct Files;

/// What the page may load and call: itself, nothing else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, AppError> {
    let file = Files::get(name).ok_or(AppError::NotFound)?;
    // The digest is taken when the binary is built, not per request.
    let tag = digest_tag(&file.metadata.sha256_hash());
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    let unchanged = none_match(req.headers(), &tag);
    let mut res = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    Ok(if unchanged {
        res.finish()
    } else {
        let body = match file.data {
            std::borrow::Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
            std::borrow::Cow::Owned(bytes) => web::Bytes::from(bytes),
        };
        res.content_type(kind).body(body)
    })
}

/// The page.
#[get("/dashboard")]
async fn page(req: HttpRequest) -> Result<HttpResponse, AppError> {
    serve(&req, "index.html")
}

/// Its script and style sheet.
#[get("/dashboard/{file}")]
async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    serve(&req, &name)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(asset);
}
