//! Who is calling: roles, the token extractor and the request context.

pub mod password;
pub mod policy;
pub mod routes;
pub mod scope;
pub mod secret;
pub mod sessions;
pub mod throttle;
pub mod token;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use self::token::Claims;
use crate::{
    audit::Actor,
    db::PooledConn,
    error::{AppError, AppResult},
    schema::{refresh_tokens, users},
    state::AppState,
    telemetry::RequestId,
};

crate::text_enum! {
    /// What a user may do, see SPEC §1.
    pub enum Role {
        Admin,
        Coordinator,
        Partner,
        Trainee,
        Viewer,
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
    /// Set for partner staff: their institution.
    pub institution_id: Option<Uuid>,
    /// Set for trainees: their trainee record.
    pub trainee_id: Option<Uuid>,
}

/// The caller and the request id, which every write records in the audit log.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Principal,
    pub request_id: String,
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any case).
pub(crate) fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// What decides whether a user's tokens still count.
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Standing {
    role: Role,
    disabled: bool,
    token_version: i32,
    institution_id: Option<Uuid>,
    trainee_id: Option<Uuid>,
}

/// The application state of a request.
fn state_of(req: &HttpRequest) -> AppResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state missing")))
}

/// What a request's caller is known by: checked already in this request,
/// or only its token's claims so far.
enum Known {
    Caller(Principal),
    Claims(Claims),
}

/// The caller if this request checked it already, else the bearer token's
/// claims (401 without a valid token): no connection is taken for a token
/// that is no good.
fn known(state: &AppState, req: &HttpRequest) -> AppResult<Known> {
    if let Some(caller) = req.extensions().get::<Principal>() {
        return Ok(Known::Caller(caller.clone()));
    }
    let token = bearer(req).ok_or(AppError::Unauthorized("Send a bearer access token."))?;
    let claims = state.tokens.verify(token).ok_or(AppError::Unauthorized(
        "The access token is invalid or expired.",
    ))?;
    Ok(Known::Claims(claims))
}

/// The user's current state behind valid claims: a disabled user or a
/// raised token version stops every token at once.
async fn standing(conn: &mut AsyncPgConnection, claims: &Claims) -> AppResult<Principal> {
    // One read: the user's standing, and whether the token's login ended
    // (logout, a refresh token used twice).
    let ended = diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(claims.sid))
            .filter(refresh_tokens::revoked_at.is_not_null()),
    );
    let standing: Option<(Standing, bool)> = users::table
        .find(claims.sub)
        .select((Standing::as_select(), ended))
        .first(conn)
        .await
        .optional()?;
    match standing {
        Some((s, false)) if !s.disabled && s.token_version == claims.tv => Ok(Principal {
            user_id: claims.sub,
            role: s.role,
            institution_id: s.institution_id,
            trainee_id: s.trainee_id,
        }),
        _ => Err(AppError::Unauthorized(
            "The access token is no longer valid.",
        )),
    }
}

/// What an authenticated handler is called with: the application, the
/// caller with the request id its writes record, the request, for its
/// conditional headers, and the pooled connection the caller was checked
/// on, which the handler's first [`Call::conn`] takes: one connection per
/// request.
pub struct Call {
    pub state: web::Data<AppState>,
    pub ctx: Ctx,
    pub req: HttpRequest,
    held: Cell<Option<PooledConn>>,
}

impl Call {
    /// A connection to the primary: the one the caller was checked on, the
    /// first time.
    pub async fn conn(&self) -> AppResult<PooledConn> {
        match self.held.take() {
            Some(conn) => Ok(conn),
            None => Ok(self.state.pool.get().await?),
        }
    }

    /// A connection for reads that may lag a little (dashboards, exports):
    /// the replica's when it answers ([`AppState::replica`], and the held
    /// one goes back to the pool), else the primary's.
    pub async fn reader(&self) -> AppResult<PooledConn> {
        match self.state.replica().await {
            Some(conn) => {
                self.held.take();
                Ok(conn)
            }
            None => self.conn().await,
        }
    }

    /// A connection for a list: a whole-list CSV export reads like a
    /// dashboard ([`Self::reader`]), a page reads the primary.
    pub async fn lister(&self) -> AppResult<PooledConn> {
        if crate::api::csv::export_sink().is_some() {
            self.reader().await
        } else {
            self.conn().await
        }
    }
}

impl FromRequest for Call {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = AppResult<Self>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            let known = known(&state, &req)?;
            let mut conn = state.pool.get().await?;
            // Checked once per request, then kept in it.
            let caller = match known {
                Known::Caller(caller) => caller,
                Known::Claims(claims) => {
                    let caller = standing(&mut conn, &claims).await?;
                    req.extensions_mut().insert(caller.clone());
                    caller
                }
            };
            // Kept for the handler unless the body is still arriving.
            let held = (!crate::api::body::pending(&req)).then_some(conn);
            Ok(Call {
                ctx: Ctx {
                    caller,
                    request_id: RequestId::of(&req),
                },
                state,
                req,
                held: Cell::new(held),
            })
        })
    }
}

impl From<&Ctx> for Actor {
    fn from(ctx: &Ctx) -> Self {
        Actor {
            id: Some(ctx.caller.user_id),
            request_id: ctx.request_id.clone(),
        }
    }
}
