//! The SQL of programmes.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{NewProgram, Program, ProgramChanges, ProgramStatus, Theme};
use crate::{
    api::list::{self, ListParams, Page},
    audit,
    auth::Ctx,
    error::AppResult,
    schema::programs,
};

const ENTITY: &str = "program";

/// Filters of `GET /programs`.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<ProgramStatus>,
    pub theme: Option<Theme>,
    pub lead_institution_id: Option<Uuid>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    f: &Filter,
) -> AppResult<Page<Program>> {
    let build = || {
        let mut q = programs::table.select(Program::as_select()).into_boxed();
        if let Some(v) = f.status {
            q = q.filter(programs::status.eq(v));
        }
        if let Some(v) = f.theme {
            q = q.filter(programs::theme.eq(v));
        }
        if let Some(v) = f.lead_institution_id {
            q = q.filter(programs::lead_institution_id.eq(v));
        }
        q
    };
    list::fetch(conn, params, build, |p: Program| p).await
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Program> {
    Ok(programs::table
        .find(id)
        .select(Program::as_select())
        .first(conn)
        .await?)
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    new: NewProgram,
) -> AppResult<Program> {
    conn.transaction(async |conn| {
        let created: Program = diesel::insert_into(programs::table)
            .values(&new)
            .returning(Program::as_returning())
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

async fn lock(conn: &mut AsyncPgConnection, id: Uuid, expected: Option<i32>) -> AppResult<Program> {
    let row: Program = programs::table
        .find(id)
        .select(Program::as_select())
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
    changes: ProgramChanges,
) -> AppResult<Program> {
    conn.transaction(async |conn| {
        let before = lock(conn, id, expected).await?;
        if changes.is_empty() {
            return Ok(before);
        }
        let after: Program = diesel::update(programs::table.find(id))
            .set(&changes)
            .returning(Program::as_returning())
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
        let before = lock(conn, id, expected).await?;
        diesel::delete(programs::table.find(id))
            .execute(conn)
            .await?;
        audit::record(conn, ctx, ENTITY, "delete", id, audit::snapshot(&before)).await
    })
    .await
}
