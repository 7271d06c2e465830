//! The SQL of trainees, always within the caller's scope.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{Gender, NewTrainee, Trainee, TraineeChanges};
use crate::{
    api::list::{self, ListParams, Page},
    audit,
    auth::{policy::Scope, scope::Scoped, Ctx},
    error::{AppError, AppResult},
    schema::trainees,
};

pub const ENTITY: &str = "trainee";

/// Filters of `GET /trainees`.
#[derive(Debug, Default)]
pub struct Filter {
    pub institution_id: Option<Uuid>,
    pub nationality: Option<String>,
    pub gender: Option<Gender>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    params: &ListParams,
    f: &Filter,
) -> AppResult<Page<Trainee>> {
    let build = || {
        let mut q = trainees::table.select(Trainee::as_select()).into_boxed();
        if let Some(cond) = trainees::table::condition(scope) {
            q = q.filter(cond);
        }
        if let Some(v) = f.institution_id {
            q = q.filter(trainees::institution_id.eq(v));
        }
        if let Some(v) = &f.nationality {
            q = q.filter(trainees::nationality.eq(v.clone()));
        }
        if let Some(v) = f.gender {
            q = q.filter(trainees::gender.eq(v));
        }
        q
    };
    list::fetch(conn, params, build, |t: Trainee| t).await
}

/// A trainee in scope, or 404.
pub async fn get(conn: &mut AsyncPgConnection, scope: Scope, id: Uuid) -> AppResult<Trainee> {
    let t: Trainee = trainees::table
        .find(id)
        .select(Trainee::as_select())
        .first(conn)
        .await?;
    scope.require(t.institution_id, t.id)?;
    Ok(t)
}

/// 409 naming the holder of an email when the caller may see it.
async fn email_free(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    email: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let holder: Option<(Uuid, Uuid)> = trainees::table
        .filter(trainees::email.eq(email))
        .select((trainees::id, trainees::institution_id))
        .first(conn)
        .await
        .optional()?;
    match holder {
        Some((id, _)) if Some(id) == except => Ok(()),
        Some((id, institution)) => {
            let extra = scope
                .sees(institution, id)
                .then(|| json!({ "existing_id": id }).as_object().cloned())
                .flatten();
            Err(AppError::Conflict {
                kind: "duplicate",
                detail: "A trainee with this email already exists.".into(),
                extra,
            })
        }
        None => Ok(()),
    }
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    scope: Scope,
    new: NewTrainee,
) -> AppResult<Trainee> {
    conn.transaction(async |conn| {
        email_free(conn, scope, &new.email, None).await?;
        let created: Trainee = diesel::insert_into(trainees::table)
            .values(&new)
            .returning(Trainee::as_returning())
            .get_result(conn)
            .await?;
        audit::record(
            conn,
            ctx,
            ENTITY,
            "create",
            created.id,
            audit::snapshot(&created),
        )
        .await?;
        Ok(created)
    })
    .await
}

async fn lock(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<Trainee> {
    let row: Trainee = trainees::table
        .find(id)
        .select(Trainee::as_select())
        .for_update()
        .first(conn)
        .await?;
    scope.require(row.institution_id, row.id)?;
    crate::api::require_version(expected, row.version)?;
    Ok(row)
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    scope: Scope,
    id: Uuid,
    expected: Option<i32>,
    changes: TraineeChanges,
) -> AppResult<Trainee> {
    conn.transaction(async |conn| {
        let before = lock(conn, scope, id, expected).await?;
        if changes.is_empty() {
            return Ok(before);
        }
        if let Some(email) = &changes.email {
            email_free(conn, scope, email, Some(id)).await?;
        }
        let after: Trainee = diesel::update(trainees::table.find(id))
            .set(&changes)
            .returning(Trainee::as_returning())
            .get_result(conn)
            .await?;
        audit::record(
            conn,
            ctx,
            ENTITY,
            "update",
            id,
            audit::diff(&before, &after),
        )
        .await?;
        Ok(after)
    })
    .await
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    scope: Scope,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        let before = lock(conn, scope, id, expected).await?;
        diesel::delete(trainees::table.find(id))
            .execute(conn)
            .await?;
        audit::record(conn, ctx, ENTITY, "delete", id, audit::snapshot(&before)).await
    })
    .await
}
