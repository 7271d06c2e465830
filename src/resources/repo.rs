//! The SQL and rules of knowledge resources and of their links to cohorts
//! and ventures.

use crate::db::Prepare;
use diesel::{ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{IpTerms, KnowledgeResource, ResourceKind, ResourceStatus, Visibility};
use crate::store::Write;
use crate::webhooks::events;
use crate::{
    audit::{self, Actor},
    auth::{policy::Scope, scope::Scoped},
    email,
    error::{AppError, AppResult, Conflict},
    programmes::model::Theme,
    schema::{cohort_resources, cohorts, resources, users, venture_resources},
    store::Record,
    types::LanguageTag,
};

crate::list_filter! {
    /// Filters of `GET /resources`.
    pub struct Filter on resources {
        sorts: [title: text],
        search: ["title", "description"],
        columns: {
            kind: ResourceKind, status: ResourceStatus, visibility: Visibility,
            ip_terms: IpTerms, licence: String, owner_institution_id: Uuid,
        },
        contains: { theme in themes: Theme, language in languages: LanguageTag },
    }
}

crate::collection!(
    KnowledgeResource: Knowledge at "/resources" in resources,
    kind = "resource";
    created = crate::store::started,
    announce = published("resource"),
);

crate::subject!(KnowledgeResource, Knowledge);

/// Partner systems hear of a resource when it is published:
/// `<noun>.published`.
async fn published(
    conn: &mut AsyncPgConnection,
    noun: &str,
    write: Write,
    r: &KnowledgeResource,
) -> AppResult<()> {
    let reached = matches!(write, Write::Created | Write::Moved(_));
    if reached && r.status == ResourceStatus::Published {
        events::emit(conn, &format!("{noun}.published"), r).await?;
    }
    Ok(())
}

// Withdrawing a resource tells the coordinators of the cohorts that use it.
crate::status_moving!(
    KnowledgeResource,
    resources,
    ResourceStatus,
    after = withdrawn
);

/// Emails the coordinators of the cohorts that use a withdrawn resource.
async fn withdrawn(
    conn: &mut AsyncPgConnection,
    _: &Actor,
    _: &KnowledgeResource,
    moved: &KnowledgeResource,
) -> AppResult<()> {
    if moved.status != ResourceStatus::Withdrawn {
        return Ok(());
    }
    let coordinators: Vec<(Uuid, String, String, String, String)> = cohort_resources::table
        .inner_join(cohorts::table)
        .inner_join(users::table.on(users::id.nullable().eq(cohorts::coordinator_id)))
        .filter(cohort_resources::resource_id.eq(moved.id))
        .filter(users::disabled.eq(false))
        .select((
            cohorts::id,
            cohorts::title,
            users::email,
            users::full_name,
            users::locale,
        ))
        .load(conn)
        .await?;
    for (cohort_id, cohort_title, address, full_name, locale) in coordinators {
        let template = "resource_withdrawn";
        let payload = json!({
            "full_name": full_name, "resource_title": moved.title, "cohort_title": cohort_title,
        });
        let key = format!("{template}:{}:{}:{cohort_id}", moved.id, moved.version);
        email::queue_to(conn, template, &address, locale, payload, key).await?;
    }
    Ok(())
}

/// What a resource is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Cohort,
    Venture,
}

impl Holder {
    fn kind(self) -> &'static str {
        match self {
            Holder::Cohort => "cohort",
            Holder::Venture => "venture",
        }
    }

    /// The table of its links and the column naming it.
    fn links(self) -> (&'static str, &'static str) {
        match self {
            Holder::Cohort => ("cohort_resources", "cohort_id"),
            Holder::Venture => ("venture_resources", "venture_id"),
        }
    }
}

/// Links (`on`) a published resource to a cohort or a venture the caller
/// may change, or unlinks it; linking twice is linking once, unlinking
/// what is not linked changes nothing. 404 when the resource is missing,
/// 409 when a resource to link is not published.
pub async fn set_link(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    (holder, holder_id): (Holder, Uuid),
    resource_id: Uuid,
    on: bool,
) -> AppResult<()> {
    use diesel_async::AsyncConnection;
    let (table, column) = holder.links();
    conn.transaction(async |conn| {
        let sql = if on {
            let resource = <KnowledgeResource as Record>::find(conn, Scope::All, resource_id).await?;
            if resource.status != ResourceStatus::Published {
                return Err(AppError::conflict(
                    Conflict::ResourceNotPublished,
                    "Only a published resource can be linked.",
                ));
            }
            format!("INSERT INTO {table} ({column}, resource_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        } else {
            format!("DELETE FROM {table} WHERE {column} = $1 AND resource_id = $2")
        };
        let changed = diesel::sql_query(sql)
            .bind::<diesel::sql_types::Uuid, _>(holder_id)
            .bind::<diesel::sql_types::Uuid, _>(resource_id)
            .prepared()
            .execute(conn)
            .await?;
        if changed > 0 {
            let action = if on { "link" } else { "unlink" };
            let detail = json!({ holder.kind(): holder_id });
            audit::record(conn, actor.clone(), "resource", action, resource_id, detail).await?;
        }
        Ok(())
    })
    .await
}

/// The resources linked to a cohort or venture that a reader of `scope`
/// may read, oldest first.
pub async fn linked(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    holder: Holder,
    holder_id: Uuid,
) -> AppResult<Vec<KnowledgeResource>> {
    let mut q = resources::table
        .select(KnowledgeResource::as_select())
        .order((resources::created_at, resources::id))
        .into_boxed();
    if let Some(cond) = <resources::table as Scoped>::condition(scope) {
        q = q.filter(cond);
    }
    q = match holder {
        Holder::Cohort => q.filter(
            resources::id.eq_any(
                cohort_resources::table
                    .filter(cohort_resources::cohort_id.eq(holder_id))
                    .select(cohort_resources::resource_id),
            ),
        ),
        Holder::Venture => q.filter(
            resources::id.eq_any(
                venture_resources::table
                    .filter(venture_resources::venture_id.eq(holder_id))
                    .select(venture_resources::resource_id),
            ),
        ),
    };
    Ok(q.load(conn).await?)
}

/// The resources linked to any of `cohort_ids` that a reader of `scope` may
/// read, with the cohort each is linked to, oldest link first.
pub async fn of_cohorts(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    cohort_ids: &[Uuid],
) -> AppResult<Vec<(Uuid, KnowledgeResource)>> {
    let links: Vec<(Uuid, Uuid)> = cohort_resources::table
        .filter(cohort_resources::cohort_id.eq_any(cohort_ids))
        .select((cohort_resources::cohort_id, cohort_resources::resource_id))
        .order((cohort_resources::linked_at, cohort_resources::resource_id))
        .load(conn)
        .await?;
    let mut q = resources::table
        .filter(resources::id.eq_any(links.iter().map(|(_, r)| *r).collect::<Vec<_>>()))
        .select(KnowledgeResource::as_select())
        .into_boxed();
    if let Some(cond) = <resources::table as Scoped>::condition(scope) {
        q = q.filter(cond);
    }
    let readable: Vec<KnowledgeResource> = q.load(conn).await?;
    Ok(links
        .into_iter()
        .filter_map(|(cohort, id)| {
            let r = readable.iter().find(|r| r.id == id)?;
            Some((cohort, r.clone()))
        })
        .collect())
}
