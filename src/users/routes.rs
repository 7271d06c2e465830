//! `/me` for every signed-in user, `/users` for the secretariat.

use actix_web::{get, patch, web};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::AsyncConnection;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{User, UserChanges, UserRow};
use crate::{
    api::{
        self,
        input::{Checker, Field, Patch, Unknown},
        list::{self, CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
        Answer,
    },
    audit,
    auth::{password, sessions, throttle, Call, Ctx, Role},
    error::{AppError, AppResult, Problem},
    schema::users,
    store::Changes as _,
    types::{Locale, Name},
};

const ENTITY: &str = "user";

/// The caller's own account.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = User), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(call: Call) -> Answer {
    let mut conn = call.conn().await?;
    api::record(
        &call.req,
        &User::from(super::row(&mut conn, call.ctx.caller.user_id).await?),
    )
}

/// The body of `PATCH /me`. A new password needs the current one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeInput {
    #[serde(default)]
    full_name: Field<Name>,
    #[serde(default)]
    locale: Field<Locale>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    new_password: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// Changes the caller's name, language or password. A password change ends
/// every session of the user, this one included.
#[utoipa::path(
    tag = "users",
    request_body = MeInput,
    params(("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = User), (status = 401, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
async fn update_me(call: Call, body: web::Json<MeInput>) -> Answer {
    let expected = api::if_match(&call.req)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let full_name = c.patch("full_name", body.full_name).into_option();
    let locale = c.patch("locale", body.locale).into_option();
    let current = c.optional("current_password", body.current_password);
    let new = c.optional("new_password", body.new_password);
    if new.is_some() && current.is_none() {
        c.error("current_password", "is required to set a new password");
    }
    let current_user = super::row(&mut *call.conn().await?, call.ctx.caller.user_id).await?;
    if let Some(new) = &new {
        if let Err(msg) =
            password::check_strength(new, &[&current_user.email, &current_user.full_name])
        {
            c.error("new_password", msg);
        }
    }
    c.finish(|| Some(()))?;
    let mut changes = UserChanges {
        full_name: full_name.map(Name::into_inner),
        locale: locale.map(|l| l.as_str().to_string()),
        ..Default::default()
    };
    if let (Some(current), Some(new)) = (current, new) {
        // A wrong current password counts toward the account's lock like a
        // failed login, so a stolen access token cannot guess at leisure. No
        // connection is held while the hashes run.
        let slot = password::slot().await?;
        let attempt = throttle::attempt(&mut *call.conn().await?, &current_user.email).await?;
        let stored = current_user.password_hash.clone();
        if !slot.verify(SecretString::from(current), stored).await? {
            let id = call.ctx.caller.user_id;
            let conn = call.conn().await?;
            audit::record(
                &conn,
                &call.ctx,
                "user",
                "password_check_failed",
                id,
                json!({}),
            )
            .await?;
            return Err(AppError::invalid("current_password", "is wrong"));
        }
        changes.password_hash = Some(slot.hash(SecretString::from(new)).await?);
        drop(slot);
        throttle::succeeded(&mut *call.conn().await?, attempt).await?;
    }
    let mut conn = call.conn().await?;
    let updated = apply(
        &mut conn,
        &call.ctx,
        call.ctx.caller.user_id,
        expected,
        changes,
    )
    .await?;
    api::record(&call.req, &updated)
}

/// Applies a checked change under the row lock, with the audit record; a
/// change of role, password or a disabling ends the user's sessions.
async fn apply(
    conn: &mut diesel_async::AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    expected_version: Option<i32>,
    changes: UserChanges,
) -> AppResult<User> {
    conn.transaction(async |conn| {
        let before = super::lock(conn, id).await?;
        crate::api::require_version(expected_version, before.version)?;
        if changes.is_empty() {
            return Ok(User::from(before));
        }
        check_role_links(
            changes.role.unwrap_or(before.role),
            changes.institution_id.unwrap_or(before.institution_id),
            changes.trainee_id.unwrap_or(before.trainee_id),
        )?;
        let after = super::update(conn, id, &changes).await?;
        let role_changed = after.role != before.role;
        let disabled = after.disabled && !before.disabled;
        let password_changed = changes.password_hash.is_some();
        if role_changed || disabled || password_changed {
            sessions::end_all(conn, id).await?;
        }
        let (before, after) = (User::from(before), User::from(after));
        let diff = audit::diff(&before, &after);
        let action = match (password_changed, role_changed, disabled) {
            (true, _, _) => "password_change",
            (_, true, _) => "role_change",
            (_, _, true) => "disable",
            _ => "update",
        };
        audit::record(conn, ctx, ENTITY, action, id, diff).await?;
        Ok(after)
    })
    .await
}

/// Partner staff belong to an institution, trainees to a trainee record, and
/// nobody else to either.
fn check_role_links(
    role: Role,
    institution_id: Option<Uuid>,
    trainee_id: Option<Uuid>,
) -> AppResult<()> {
    match (role, institution_id, trainee_id) {
        (Role::Partner, None, _) => Err(AppError::invalid(
            "institution_id",
            "is required for partner users",
        )),
        (Role::Trainee, _, None) => Err(AppError::invalid(
            "trainee_id",
            "is required for trainee users",
        )),
        (role, Some(_), _) if role != Role::Partner => Err(AppError::invalid(
            "institution_id",
            "is only for partner users",
        )),
        (role, _, Some(_)) if role != Role::Trainee => {
            Err(AppError::invalid("trainee_id", "is only for trainee users"))
        }
        _ => Ok(()),
    }
}

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("email", "text"),
        SortField::new("full_name", "text"),
    ],
    default_sort: "created_at",
    search: &["full_name", "email"],
    filters: &["role", "institution_id", "disabled"],
    updated_column: Some("updated_at"),
};

crate::endpoint! {
/// Lists users.
get "/users", tag = "users",
params(CommonListParams, ("role" = Option<Role>, Query), ("institution_id" = Option<Uuid>, Query), ("disabled" = Option<bool>, Query)),
ok((status = 200, body = Page<User>)), fails[422], may = User Read;
async fn list_users(call: Call, query: ListQuery) -> Answer {
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let role: Option<Role> = params.filter("role");
    let institution_id: Option<Uuid> = params.filter("institution_id");
    let disabled: Option<bool> = params.filter("disabled");
    let params = params.finish()?;
    let build = || {
        let mut q = users::table.select(UserRow::as_select()).into_boxed();
        if let Some(r) = role {
            q = q.filter(users::role.eq(r));
        }
        if let Some(i) = institution_id {
            q = q.filter(users::institution_id.eq(i));
        }
        if let Some(d) = disabled {
            q = q.filter(users::disabled.eq(d));
        }
        q
    };
    let mut conn = call.conn().await?;
    api::page(&list::fetch(&mut conn, &params, build, User::from).await?)
}
}

crate::endpoint! {
/// Reads a user.
get "/users/{id}", tag = "users",
params(("id" = Uuid, Path)),
ok((status = 200, body = User)), fails[404], may = User Read;
async fn get_user(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    api::record(&call.req, &User::from(super::row(&mut conn, *id).await?))
}
}

/// The body of `PATCH /users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserInput {
    #[serde(default)]
    role: Field<Role>,
    #[serde(default)]
    institution_id: Field<Uuid>,
    #[serde(default)]
    trainee_id: Field<Uuid>,
    #[serde(default)]
    disabled: Field<bool>,
    #[serde(default)]
    full_name: Field<Name>,
    #[serde(default)]
    locale: Field<Locale>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

crate::endpoint! {
/// Changes a user's role, institution, trainee record, name, language or
/// whether it is disabled. Role changes and disabling end its sessions.
patch "/users/{id}", tag = "users", body = UserInput,
params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
ok((status = 200, body = User)), fails[404, 412, 422], may = User Update;
async fn update_user(call: Call, id: web::Path<Uuid>, body: web::Json<UserInput>) -> Answer {
    let expected = api::if_match(&call.req)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let changes = UserChanges {
        role: c.patch("role", body.role).into_option(),
        institution_id: c
            .patch_nullable("institution_id", body.institution_id)
            .into_option(),
        trainee_id: c
            .patch_nullable("trainee_id", body.trainee_id)
            .into_option(),
        disabled: c.patch("disabled", body.disabled).into_option(),
        full_name: c
            .patch("full_name", body.full_name)
            .into_option()
            .map(Name::into_inner),
        locale: match c.patch("locale", body.locale) {
            Patch::Set(l) => Some(l.as_str().to_string()),
            Patch::Keep => None,
        },
        password_hash: None,
    };
    // An admin never locks itself out: another admin must do it.
    if *id == call.ctx.caller.user_id {
        if changes.disabled == Some(true) {
            c.error("disabled", "cannot disable your own account");
        }
        if changes.role.is_some_and(|r| r != call.ctx.caller.role) {
            c.error("role", "cannot change your own role");
        }
    }
    let changes = c.finish(|| Some(changes))?;
    let mut conn = call.conn().await?;
    let updated = apply(&mut conn, &call.ctx, *id, expected, changes).await?;
    api::record(&call.req, &updated)
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(me)
        .service(update_me)
        .service(list_users)
        .service(get_user)
        .service(update_user);
}
