//! The SQL of institutions.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{
    Institution, InstitutionChanges, InstitutionKind, InstitutionRow, InstitutionStatus,
    NewInstitution,
};
use crate::{
    api::list::{self, ListParams, Page},
    audit,
    auth::Ctx,
    error::AppResult,
    schema::institutions,
};

const ENTITY: &str = "institution";

/// Filters of `GET /institutions`.
#[derive(Debug, Default)]
pub struct Filter {
    pub country_code: Option<String>,
    pub kind: Option<InstitutionKind>,
    pub status: Option<InstitutionStatus>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    filter: &Filter,
) -> AppResult<Page<Institution>> {
    let build = || {
        let mut q = institutions::table
            .select(InstitutionRow::as_select())
            .into_boxed();
        if let Some(v) = &filter.country_code {
            q = q.filter(institutions::country_code.eq(v.clone()));
        }
        if let Some(v) = filter.kind {
            q = q.filter(institutions::kind.eq(v));
        }
        if let Some(v) = filter.status {
            q = q.filter(institutions::status.eq(v));
        }
        q
    };
    list::fetch(conn, params, build, Institution::from).await
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Institution> {
    let row = institutions::table
        .find(id)
        .select(InstitutionRow::as_select())
        .first(conn)
        .await?;
    Ok(row.into())
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    new: NewInstitution,
) -> AppResult<Institution> {
    conn.transaction(async |conn| {
        let row: InstitutionRow = diesel::insert_into(institutions::table)
            .values(&new)
            .returning(InstitutionRow::as_returning())
            .get_result(conn)
            .await?;
        let created = Institution::from(row);
        audit::record(
            conn,
            ctx,
            ENTITY,
            "create",
            created.row.id,
            audit::snapshot(&created),
        )
        .await?;
        Ok(created)
    })
    .await
}

async fn lock(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected_version: Option<i32>,
) -> AppResult<Institution> {
    let row: InstitutionRow = institutions::table
        .find(id)
        .select(InstitutionRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    crate::api::require_version(expected_version, row.version)?;
    Ok(row.into())
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    expected_version: Option<i32>,
    changes: InstitutionChanges,
) -> AppResult<Institution> {
    conn.transaction(async |conn| {
        let before = lock(conn, id, expected_version).await?;
        if changes.is_empty() {
            return Ok(before);
        }
        let row: InstitutionRow = diesel::update(institutions::table.find(id))
            .set(&changes)
            .returning(InstitutionRow::as_returning())
            .get_result(conn)
            .await?;
        let after = Institution::from(row);
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
    expected_version: Option<i32>,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        let before = lock(conn, id, expected_version).await?;
        diesel::delete(institutions::table.find(id))
            .execute(conn)
            .await?;
        audit::record(conn, ctx, ENTITY, "delete", id, audit::snapshot(&before)).await?;
        Ok(())
    })
    .await
}
