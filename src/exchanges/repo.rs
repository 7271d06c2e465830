//! The SQL and rules of agreements and exchanges. Approvals lock the
//! agreement row, so its yearly quota holds under concurrent approvals.

use chrono::Datelike;
use diesel::{
    dsl::sql, sql_types::Integer, BoolExpressionMethods, ExpressionMethods, OptionalExtension,
    QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{
    Agreement, AgreementStatus, Exchange, ExchangeChanges, ExchangeKind, ExchangeStatus,
    NewAgreement, NewExchange, USING_QUOTA,
};
use crate::webhooks::events;
use crate::{
    audit,
    auth::{policy::Scope, scope, Role},
    deletions::repo::Owners,
    email,
    error::{AppError, AppResult, Conflict},
    lifecycle::Lifecycle,
    schema::{exchange_agreements, exchanges, institutions, trainees, users},
    store::{Kind, Moving, Record, Step},
};

/// 422 unless both institutions exist and lie in different countries.
async fn cross_border(
    conn: &mut AsyncPgConnection,
    a: Uuid,
    b: Uuid,
    field_b: &str,
) -> AppResult<()> {
    let countries: Vec<(Uuid, String)> = institutions::table
        .filter(institutions::id.eq_any([a, b]))
        .select((institutions::id, institutions::country_code))
        .load(conn)
        .await?;
    let of = |id: Uuid| {
        countries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, c)| c.clone())
    };
    match (of(a), of(b)) {
        (Some(ca), Some(cb)) if ca == cb => {
            Err(AppError::invalid(field_b, "must be in another country"))
        }
        (Some(_), Some(_)) => Ok(()),
        _ => Err(AppError::invalid(
            field_b,
            "refers to an institution that does not exist",
        )),
    }
}

crate::list_filter! {
    /// Filters of `GET /exchange-agreements`.
    pub struct AgreementFilter on exchange_agreements {
        sorts: [valid_from: date],
        search: ["title"],
        columns: { status: AgreementStatus },
        custom: { institution_id: Uuid },
    }
}

/// The agreements a list reads, before it pages them.
type AgreementQuery = exchange_agreements::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Agreement, diesel::pg::Pg>>,
>;

/// `institution_id` names either party of an agreement.
fn either_party(query: AgreementQuery, f: &AgreementFilter) -> AgreementQuery {
    match f.institution_id {
        Some(v) => query.filter(
            exchange_agreements::institution_a_id
                .eq(v)
                .or(exchange_agreements::institution_b_id.eq(v)),
        ),
        None => query,
    }
}

/// 422 unless the two parties of a new agreement lie in different countries.
async fn parties_cross_border(
    conn: &mut AsyncPgConnection,
    _: Scope,
    new: &NewAgreement,
) -> AppResult<()> {
    cross_border(
        conn,
        new.institution_a_id,
        new.institution_b_id,
        "institution_b_id",
    )
    .await
}

crate::collection!(
    Agreement: Agreement at "/exchange-agreements" in exchange_agreements,
    kind = "exchange_agreement", filter = AgreementFilter, narrow = either_party;
    check_new = parties_cross_border,
    announce = events::writes("agreement"),
);

crate::subject!(Agreement, Agreement);

/// Every recorded change of an agreement, oldest first.
pub async fn agreement_history(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> AppResult<Vec<audit::AuditEvent>> {
    use crate::schema::audit_events;
    Agreement::find(conn, Scope::All, id).await?;
    Ok(audit_events::table
        .filter(audit_events::entity_type.eq(Agreement::KIND))
        .filter(audit_events::entity_id.eq(id))
        .order((audit_events::at, audit_events::id))
        .select(audit::AuditEvent::as_select())
        .load(conn)
        .await?)
}

/// Quota used and left in one year and direction.
#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub year: i32,
    pub from_institution_id: Uuid,
    pub to_institution_id: Uuid,
    pub used: i64,
    pub left: i64,
}

/// Exchanges of an agreement that use its quota in one year and direction,
/// `except` one (the exchange being checked again).
async fn used(
    conn: &mut AsyncPgConnection,
    agreement: Uuid,
    (from, to): (Uuid, Uuid),
    year: i32,
    except: Uuid,
) -> AppResult<i64> {
    Ok(exchanges::table
        .filter(exchanges::agreement_id.eq(agreement))
        .filter(exchanges::id.ne(except))
        .filter(exchanges::sending_institution_id.eq(from))
        .filter(exchanges::receiving_institution_id.eq(to))
        .filter(exchanges::status.eq_any(USING_QUOTA))
        .filter(sql::<Integer>("EXTRACT(YEAR FROM starts_on)::int").eq(year))
        .count()
        .get_result(conn)
        .await?)
}

/// The quota of every year of an agreement, in both directions.
pub async fn usage(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Vec<Usage>> {
    let a = Agreement::find(conn, Scope::All, id).await?;
    let mut out = Vec::new();
    for year in a.valid_from.year()..=a.valid_to.year() {
        for (from, to) in [
            (a.institution_a_id, a.institution_b_id),
            (a.institution_b_id, a.institution_a_id),
        ] {
            let used = used(conn, id, (from, to), year, Uuid::nil()).await?;
            out.push(Usage {
                year,
                from_institution_id: from,
                to_institution_id: to,
                used,
                left: (i64::from(a.annual_quota) - used).max(0),
            });
        }
    }
    Ok(out)
}

crate::list_filter! {
    /// Filters of `GET /exchanges`.
    pub struct ExchangeFilter on exchanges {
        sorts: [starts_on: date],
        search: [],
        columns: { status: ExchangeStatus, kind: ExchangeKind, agreement_id: Uuid },
    }
}

crate::collection!(
    Exchange: Exchange at "/exchanges" in exchanges,
    kind = "exchange", filter = ExchangeFilter;
    check_new = proposable,
    check_changes = changeable,
    created = crate::store::started,
    check_remove = never_approved,
    lock_first = lock_agreements,
    owners = owners,
    announce = events::moves("exchange"),
);

/// 422 unless the agreement exists and binds these two institutions.
async fn agreement_between(
    conn: &mut AsyncPgConnection,
    agreement_id: Uuid,
    parties: [Uuid; 2],
) -> AppResult<Agreement> {
    let a: Option<Agreement> = exchange_agreements::table
        .find(agreement_id)
        .select(Agreement::as_select())
        .first(conn)
        .await
        .optional()?;
    a.filter(|a| parties.contains(&a.institution_a_id) && parties.contains(&a.institution_b_id))
        .ok_or_else(|| {
            AppError::invalid(
                "agreement_id",
                "is not an agreement between these two institutions",
            )
        })
}

/// A proposal crosses a border, under an agreement between the two
/// institutions when one is named. Partner staff propose only where their
/// institution sends or receives (403), and only for their own trainees: one
/// outside the caller's scope answers as one that does not exist.
async fn proposable(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    new: &NewExchange,
) -> AppResult<()> {
    let parties = [new.sending_institution_id, new.receiving_institution_id];
    if let Scope::Institution(own) = scope {
        if !parties.contains(&own) {
            return Err(AppError::Forbidden);
        }
    }
    if !scope::trainee_in_scope(conn, scope, new.trainee_id).await? {
        return Err(AppError::invalid(
            "trainee_id",
            "refers to a record that does not exist",
        ));
    }
    cross_border(conn, parties[0], parties[1], "receiving_institution_id").await?;
    if let Some(agreement_id) = new.agreement_id {
        agreement_between(conn, agreement_id, parties).await?;
    }
    Ok(())
}

/// An exchange is changed while it is not final: by partner staff of either
/// side while it is proposed, by coordinators after that, when the rules of
/// its agreement are checked again under the agreement's lock.
async fn changeable(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    before: &Exchange,
    changes: &ExchangeChanges,
) -> AppResult<()> {
    if before.status.next().is_empty() {
        let status: &str = before.status.into();
        return Err(AppError::Conflict {
            kind: Conflict::IllegalTransition,
            detail: format!("A {status} exchange is final and cannot be changed."),
            extra: json!({ "from": status, "allowed": [] })
                .as_object()
                .cloned(),
        });
    }
    if before.status != ExchangeStatus::Proposed && scope != Scope::All {
        return Err(AppError::Forbidden);
    }
    let after = changes.merged(before);
    let parties = [after.sending_institution_id, after.receiving_institution_id];
    let Some(agreement_id) = after.agreement_id else {
        return Ok(());
    };
    agreement_between(conn, agreement_id, parties).await?;
    if USING_QUOTA.contains(&after.status) {
        let agreement = Agreement::lock(conn, Scope::All, agreement_id).await?;
        check_agreement(conn, &agreement, &after).await?;
    }
    Ok(())
}

/// Approved exchanges stay on record: they are the quota's history.
fn never_approved(e: &Exchange) -> AppResult<()> {
    if USING_QUOTA.contains(&e.status) {
        return Err(AppError::conflict(
            Conflict::HasDependants,
            "An approved exchange stays on record; cancel it instead.",
        ));
    }
    Ok(())
}

/// An exchange belongs to the institutions that send and receive, and to
/// its trainee.
async fn owners(_: &mut AsyncPgConnection, e: &Exchange) -> AppResult<Owners> {
    Ok(Owners {
        institutions: vec![e.sending_institution_id, e.receiving_institution_id],
        trainees: vec![e.trainee_id],
    })
}

/// A change locks the exchange's agreements first, the one it has and the
/// one it moves to, in id order, as approvals lock theirs before the
/// exchange: two writers never wait on each other in opposite orders.
async fn lock_agreements(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &ExchangeChanges,
) -> AppResult<()> {
    let current: Option<Uuid> = exchanges::table
        .find(id)
        .select(exchanges::agreement_id)
        .first(conn)
        .await
        .optional()?
        .flatten();
    let mut agreements: Vec<Uuid> = current
        .into_iter()
        .chain(changes.agreement_id.flatten())
        .collect();
    agreements.sort();
    agreements.dedup();
    for a in agreements {
        match Agreement::lock(conn, Scope::All, a).await {
            // A new agreement that does not exist is the rule's to answer.
            Ok(_) | Err(AppError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

crate::subject!(Exchange, Exchange);

/// 409 unless an agreement allows approving this exchange: active, of a
/// covered kind, within its dates, and with quota left in that year and
/// direction. The agreement row must be locked.
async fn check_agreement(
    conn: &mut AsyncPgConnection,
    a: &Agreement,
    e: &Exchange,
) -> AppResult<()> {
    if a.status != AgreementStatus::Active {
        return Err(AppError::conflict(
            Conflict::AgreementTerminated,
            "The agreement is terminated.",
        ));
    }
    if !a.kinds.iter().any(|k| k == <&str>::from(e.kind)) {
        return Err(AppError::conflict(
            Conflict::KindNotCovered,
            "The agreement does not cover this kind of exchange.",
        ));
    }
    if e.starts_on < a.valid_from || e.ends_on > a.valid_to {
        return Err(AppError::conflict(
            Conflict::OutsideAgreement,
            "The exchange falls outside the agreement's dates.",
        ));
    }
    let year = e.starts_on.year();
    let direction = (e.sending_institution_id, e.receiving_institution_id);
    if used(conn, a.id, direction, year, e.id).await? >= i64::from(a.annual_quota) {
        return Err(AppError::conflict(
            Conflict::QuotaExceeded,
            format!("The agreement's {year} quota in this direction is spent."),
        ));
    }
    Ok(())
}

/// Approving under an agreement checks its kinds, dates and yearly quota
/// under the agreement's row lock; approvals and rejections are told.
impl Moving for Exchange {
    type State = ExchangeStatus;
    type Held = Option<Agreement>;

    fn state(&self) -> ExchangeStatus {
        self.status
    }

    async fn lock_for_move(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> AppResult<(Self, Option<Agreement>)> {
        let agreement_id: Option<Uuid> = exchanges::table
            .find(id)
            .select(exchanges::agreement_id)
            .first(conn)
            .await?;
        let agreement = match agreement_id {
            Some(a) => Some(Agreement::lock(conn, Scope::All, a).await?),
            None => None,
        };
        let current = <Self as Record>::lock(conn, scope, id).await?;
        if current.agreement_id != agreement_id {
            // Its agreement changed while we waited for the old one's lock.
            return Err(AppError::conflict(
                Conflict::ConcurrentUpdate,
                "Another request changed the exchange's agreement; try again.",
            ));
        }
        Ok((current, agreement))
    }

    async fn check_move(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<()> {
        match (step.to, step.held) {
            (ExchangeStatus::Approved, Some(a)) => check_agreement(conn, a, step.before).await,
            _ => Ok(()),
        }
    }

    async fn set_state(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<Self> {
        let status = exchanges::status.eq(step.to);
        crate::write_state!(conn, exchanges, Exchange, step.before.id, status)
    }

    async fn after_move(
        conn: &mut AsyncPgConnection,
        _: &Step<'_, Self>,
        moved: &Self,
    ) -> AppResult<()> {
        match moved.status {
            ExchangeStatus::Approved => tell(conn, moved, "exchange_approved").await,
            ExchangeStatus::Rejected => tell(conn, moved, "exchange_rejected").await,
            _ => Ok(()),
        }
    }
}

async fn tell(conn: &mut AsyncPgConnection, e: &Exchange, template: &'static str) -> AppResult<()> {
    let (given, family, trainee_email, trainee_locale): (String, String, String, String) =
        trainees::table
            .find(e.trainee_id)
            .select((
                trainees::given_name,
                trainees::family_name,
                trainees::email,
                trainees::locale,
            ))
            .first(conn)
            .await?;
    let name_of = |id: Uuid| institutions::table.find(id).select(institutions::name);
    let sending: String = name_of(e.sending_institution_id).first(conn).await?;
    let receiving: String = name_of(e.receiving_institution_id).first(conn).await?;
    let staff: Vec<(String, String)> = users::table
        .filter(users::role.eq(Role::Partner))
        .filter(users::disabled.eq(false))
        .filter(
            users::institution_id.eq_any([e.sending_institution_id, e.receiving_institution_id]),
        )
        .select((users::email, users::locale))
        .load(conn)
        .await?;
    let payload = json!({
        "trainee_name": format!("{given} {family}"), "kind": <&str>::from(e.kind),
        "sending_name": sending, "receiving_name": receiving,
        "starts_on": e.starts_on, "ends_on": e.ends_on,
    });
    for (address, locale) in std::iter::once((trainee_email, trainee_locale)).chain(staff) {
        let key = format!("{template}:{}:{address}", e.id);
        email::queue_to(conn, template, &address, locale, payload.clone(), key).await?;
    }
    Ok(())
}
