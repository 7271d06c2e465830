//! The SQL of incubators.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Incubator, IncubatorChanges, IncubatorStatus, NewIncubator};
use crate::{
    api::list::{self, ListParams, Page},
    audit,
    auth::Ctx,
    error::AppResult,
    schema::incubators,
};

const ENTITY: &str = "incubator";

/// Filters of `GET /incubators`.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<IncubatorStatus>,
    pub country_code: Option<String>,
    pub host_institution_id: Option<Uuid>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    f: &Filter,
) -> AppResult<Page<Incubator>> {
    let build = || {
        let mut q = incubators::table
            .select(Incubator::as_select())
            .into_boxed();
        if let Some(v) = f.status {
            q = q.filter(incubators::status.eq(v));
        }
        if let Some(v) = &f.country_code {
            q = q.filter(incubators::country_code.eq(v.clone()));
        }
        if let Some(v) = f.host_institution_id {
            q = q.filter(incubators::host_institution_id.eq(v));
        }
        q
    };
    list::fetch(conn, params, build, |p: Incubator| p).await
}

/// Locks an incubator: admissions are decided under this lock.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Incubator> {
    lock_versioned(conn, id, None).await
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Incubator> {
    Ok(incubators::table
        .find(id)
        .select(Incubator::as_select())
        .first(conn)
        .await?)
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    new: NewIncubator,
) -> AppResult<Incubator> {
    conn.transaction(async |conn| {
        let created: Incubator = diesel::insert_into(incubators::table)
            .values(&new)
            .returning(Incubator::as_returning())
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

async fn lock_versioned(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<Incubator> {
    let row: Incubator = incubators::table
        .find(id)
        .select(Incubator::as_select())
        .for_update()
        .first(conn)
        .await?;
    crate::api::require_version(expected, row.version)?;
    Ok(row)
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    expected: Option<i32>,
    changes: IncubatorChanges,
) -> AppResult<Incubator> {
    conn.transaction(async |conn| {
        let before = lock_versioned(conn, id, expected).await?;
        if changes.is_empty() {
            return Ok(before);
        }
        let after: Incubator = diesel::update(incubators::table.find(id))
            .set(&changes)
            .returning(Incubator::as_returning())
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
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        let before = lock_versioned(conn, id, expected).await?;
        diesel::delete(incubators::table.find(id))
            .execute(conn)
            .await?;
        audit::record(conn, ctx, ENTITY, "delete", id, audit::snapshot(&before)).await
    })
    .await
}
