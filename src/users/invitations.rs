//! Accounts are made by invitation: an admin invites anyone, a coordinator
//! partner staff and trainees. The emailed link carries a single-use token
//! that expires after 7 days.

use crate::db::Prepare;
use actix_web::{get, post, web};
use chrono::{DateTime, Duration, Utc};
use diesel::{
    ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{NewUser, User};
use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
        Answer, Versioned,
    },
    audit::{self, Actor},
    auth::{
        password,
        policy::{self, Scope},
        secret, Role,
    },
    email::{self, Outgoing},
    error::{AppError, Conflict},
    schema::{invitations, users},
    telemetry::RequestId,
    types::{Email, Locale, Name},
};

/// How long an invitation link works.
pub const VALID_FOR: Duration = Duration::days(7);

/// An invitation, as the API shows it (never its token).
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub institution_id: Option<Uuid>,
    pub trainee_id: Option<Uuid>,
    pub locale: String,
    pub invited_by: Uuid,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub accepted_at: Option<DateTime<Utc>>,
    pub user_id: Option<Uuid>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for Invitation {
    fn version(&self) -> i32 {
        self.version
    }
}

#[derive(Insertable)]
#[diesel(table_name = invitations)]
struct NewInvitation {
    id: Uuid,
    email: String,
    role: String,
    institution_id: Option<Uuid>,
    trainee_id: Option<Uuid>,
    locale: String,
    invited_by: Uuid,
    token_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
}

/// The body of `POST /invitations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvitationInput {
    #[serde(default)]
    email: Field<Email>,
    #[serde(default)]
    role: Field<Role>,
    /// Required for partner staff.
    #[serde(default)]
    institution_id: Field<Uuid>,
    /// Required for trainees.
    #[serde(default)]
    trainee_id: Field<Uuid>,
    /// Language of the invitation email; defaults to `en`.
    #[serde(default)]
    locale: Field<Locale>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

crate::endpoint! {
/// Invites someone; the invitation email is queued with it.
post "/invitations", tag = "users", body = InvitationInput,
ok((status = 201, body = Invitation, headers(("Location" = String)))), fails[409: "A user with this email exists", 422], may = Invitation Create;
async fn create_invitation(call: Call, body: web::Json<InvitationInput>) -> Answer {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let email = c.required("email", body.email);
    let role = c.required("role", body.role);
    let institution_id = c.optional("institution_id", body.institution_id);
    let trainee_id = c.optional("trainee_id", body.trainee_id);
    let locale = c.defaulted("locale", body.locale, Locale::En);
    match role {
        Some(Role::Partner) => c.ensure(
            institution_id.is_some(),
            "institution_id",
            "is required for partner users",
        ),
        Some(_) => c.ensure(
            institution_id.is_none(),
            "institution_id",
            "is only for partner users",
        ),
        None => {}
    }
    match role {
        Some(Role::Trainee) => c.ensure(
            trainee_id.is_some(),
            "trainee_id",
            "is required for trainee users",
        ),
        Some(_) => c.ensure(
            trainee_id.is_none(),
            "trainee_id",
            "is only for trainee users",
        ),
        None => {}
    }
    let (email, role) = c.finish(|| Some((email?, role?)))?;
    if !policy::may_invite(call.ctx.caller.role, role) {
        return Err(AppError::Forbidden);
    }
    let (token, token_hash) = secret::generate();
    let mut conn = call.conn().await?;
    let invitation = conn
        .transaction(async |conn| {
            let taken: Option<Uuid> = users::table
                .filter(users::email.eq(email.as_str()))
                .select(users::id)
                .first(conn)
                .await
                .optional()?;
            if taken.is_some() {
                return Err(AppError::conflict(
                    Conflict::Duplicate,
                    "A user with this email already exists.",
                ));
            }
            let inviter: String = users::table
                .find(call.ctx.caller.user_id)
                .select(users::full_name)
                .first(conn)
                .await?;
            let invitation: Invitation = diesel::insert_into(invitations::table)
                .values(NewInvitation {
                    id: Uuid::now_v7(),
                    email: email.as_str().to_string(),
                    role: <&str>::from(role).to_string(),
                    institution_id,
                    trainee_id,
                    locale: locale.as_str().to_string(),
                    invited_by: call.ctx.caller.user_id,
                    token_hash,
                    expires_at: Utc::now() + VALID_FOR,
                })
                .returning(Invitation::as_returning())
                .prepared()
                .get_result(conn)
                .await?;
            email::queue(
                conn,
                &Outgoing {
                    template: "invitation",
                    recipient: email.clone(),
                    locale: locale.as_str().to_string(),
                    payload: json!({
                        "inviter": inviter,
                        "role": <&str>::from(role),
                        "token": token,
                        "expires_in_days": VALID_FOR.num_days(),
                    }),
                    dedupe_key: format!("invitation:{}", invitation.id),
                },
            )
            .await?;
            audit::record(
                conn,
                &call.ctx,
                "invitation",
                "create",
                invitation.id,
                audit::snapshot(&invitation),
            )
            .await?;
            Ok(invitation)
        })
        .await?;
    api::created(
        format!("/api/v1/invitations/{}", invitation.id),
        &invitation,
    )
}
}

crate::endpoint! {
/// Reads an invitation, to see whether it was accepted.
get "/invitations/{id}", tag = "users",
params(("id" = Uuid, Path)),
ok((status = 200, body = Invitation)), fails[404], may = Invitation Read as scope;
async fn get_invitation(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    let mut query = invitations::table
        .find(*id)
        .select(Invitation::as_select())
        .into_boxed();
    match scope {
        Scope::All => {}
        Scope::Author(sender) => query = query.filter(invitations::invited_by.eq(sender)),
        _ => return Err(AppError::NotFound),
    }
    api::record(&call.req, &query.first::<Invitation>(&mut conn).await?)
}
}

/// The body of `POST /auth/invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptInput {
    #[serde(default)]
    token: Field<String>,
    #[serde(default)]
    full_name: Field<Name>,
    #[serde(default)]
    #[schema(value_type = String, format = Password)]
    password: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

crate::endpoint! {
/// Accepts an invitation: creates the account with the chosen password.
public post "/auth/invitations/accept", tag = "auth", body = AcceptInput,
ok((status = 201, body = User, headers(("Location" = String)))), fails[401: "Unknown, used or expired invitation", 409, 422, 429];
async fn accept_invitation(state, req, body) {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let token = c.required("token", body.token);
    let full_name = c.required("full_name", body.full_name);
    let pass = c.required("password", body.password);
    let hash = secret::digest(token.as_deref().unwrap_or_default());
    let mut conn = state.pool.get().await?;
    let pending: Option<Invitation> = invitations::table
        .filter(invitations::token_hash.eq(&hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Utc::now()))
        .select(Invitation::as_select())
        .first(&mut conn)
        .await
        .optional()?;
    if let (Some(p), Some(inv), Some(name)) = (&pass, &pending, &full_name) {
        if let Err(msg) = password::check_strength(p, &[&inv.email, name.as_str()]) {
            c.error("password", msg);
        }
    }
    let (full_name, pass) = c.finish(|| Some((full_name?, pass?)))?;
    let Some(_) = pending else {
        return Err(AppError::Unauthorized(
            "The invitation is unknown, used or expired.",
        ));
    };
    // No connection is held while the hash runs.
    drop(conn);
    let password_hash = password::hash(SecretString::from(pass)).await?;
    let mut conn = state.pool.get().await?;
    let actor = Actor {
        id: None,
        request_id: RequestId::of(&req),
    };
    let user = conn
        .transaction(async |conn| {
            // Taking the invitation and creating the user is one step: of two
            // concurrent accepts, one wins.
            let taken: Option<Invitation> = diesel::update(invitations::table)
                .filter(invitations::token_hash.eq(&hash))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::expires_at.gt(Utc::now()))
                .set(invitations::accepted_at.eq(Utc::now()))
                .returning(Invitation::as_returning())
                .prepared()
                .get_result(conn)
                .await
                .optional()?;
            let Some(inv) = taken else {
                return Err(AppError::Unauthorized(
                    "The invitation is unknown, used or expired.",
                ));
            };
            let role: Role = inv
                .role
                .parse()
                .map_err(|_| AppError::Internal(anyhow::anyhow!("stored role")))?;
            let user = super::insert(
                conn,
                &NewUser {
                    id: Uuid::now_v7(),
                    email: inv.email.clone(),
                    full_name: full_name.into_inner(),
                    role,
                    institution_id: inv.institution_id,
                    trainee_id: inv.trainee_id,
                    password_hash: Some(password_hash),
                },
            )
            .await?;
            diesel::update(users::table.find(user.id))
                .set(users::locale.eq(&inv.locale))
                .prepared()
                .execute(conn)
                .await?;
            diesel::update(invitations::table.find(inv.id))
                .set(invitations::user_id.eq(user.id))
                .prepared()
                .execute(conn)
                .await?;
            let actor = Actor {
                id: Some(user.id),
                ..actor.clone()
            };
            audit::record(
                conn,
                actor,
                "user",
                "create",
                user.id,
                audit::snapshot(&user),
            )
            .await?;
            super::row(conn, user.id).await
        })
        .await?;
    api::created(format!("/api/v1/users/{}", user.id), &User::from(user))
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create_invitation)
        .service(get_invitation)
        .service(accept_invitation);
}
