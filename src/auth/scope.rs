//! Scope → SQL, one function per table that holds people or what is theirs.
//! Every list, count, CSV export, `updated_since`, lookup and nested read of
//! such a table filters through here, so a partner's view of trainees,
//! enrollments, attendance, exchanges and ventures is written once.

use diesel::{
    dsl::sql,
    pg::Pg,
    sql_types::{Array, Bool, Uuid as SqlUuid},
    BoolExpressionMethods, BoxableExpression, ExpressionMethods, NullableExpressionMethods,
    QueryDsl,
};
use uuid::Uuid;

use super::policy::Scope;
use crate::schema::{
    attendance, enrollments, exchanges, resources, trainees, users, ventures, webhook_subscriptions,
};

/// A condition on the rows of table `T`.
pub type Condition<T> = Box<dyn BoxableExpression<T, Pg, SqlType = Bool>>;

/// A table whose rows belong to an institution's people.
pub trait Scoped: Sized {
    /// The rows the scope may reach; `None` for every row.
    fn condition(scope: Scope) -> Option<Condition<Self>>;
}

/// The condition of `scope` on table `T`; `None` for every row.
pub fn condition<T: Scoped>(scope: Scope) -> Option<Condition<T>> {
    T::condition(scope)
}

/// Tables of records that are not anybody's people: the scope of a caller
/// does not narrow them (who may touch them at all is the role table's).
macro_rules! unscoped {
    ($($table:ident),*) => {
        $(impl Scoped for crate::schema::$table::table {
            fn condition(_: Scope) -> Option<Condition<Self>> {
                None
            }
        })*
    };
}

unscoped!(
    institutions,
    programs,
    cohorts,
    incubators,
    exchange_agreements,
    service_requests,
    webhook_deliveries
);

fn nothing<T>() -> Condition<T> {
    Box::new(sql::<Bool>("false"))
}

impl Scoped for trainees::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(trainees::institution_id.eq(i))),
            Scope::Trainee(t) => Some(Box::new(trainees::id.eq(t))),
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

impl Scoped for enrollments::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(enrollments::institution_id.eq(i))),
            Scope::Trainee(t) => Some(Box::new(enrollments::trainee_id.eq(t))),
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

/// Attendance marks follow their enrollment.
impl Scoped for attendance::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        let of = enrollments::table.select(enrollments::id);
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(
                attendance::enrollment_id.eq_any(of.filter(enrollments::institution_id.eq(i))),
            )),
            Scope::Trainee(t) => Some(Box::new(
                attendance::enrollment_id.eq_any(of.filter(enrollments::trainee_id.eq(t))),
            )),
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

/// Partner staff see the exchanges their institution sends or receives.
impl Scoped for exchanges::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(
                exchanges::sending_institution_id
                    .eq(i)
                    .or(exchanges::receiving_institution_id.eq(i)),
            )),
            Scope::Trainee(t) => Some(Box::new(exchanges::trainee_id.eq(t))),
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

/// Partner staff see the ventures founded by their institution's trainees,
/// trainees the ventures they founded.
impl Scoped for ventures::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(
                sql::<Bool>(
                    "founder_trainee_ids && ARRAY(SELECT id FROM trainees WHERE institution_id = ",
                )
                .bind::<SqlUuid, _>(i)
                .sql(")"),
            )),
            Scope::Trainee(t) => Some(Box::new(
                sql::<Bool>("founder_trainee_ids @> ").bind::<Array<SqlUuid>, _>(vec![t]),
            )),
            Scope::Author(_) | Scope::Published(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

/// Readers see published resources and their own institution's; partner
/// staff change only their own institution's.
impl Scoped for resources::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        let published = resources::status.eq("published");
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(resources::owner_institution_id.eq(i))),
            Scope::Published(Some(i)) => Some(Box::new(
                published.or(resources::owner_institution_id.eq(i)),
            )),
            Scope::Published(None) => Some(Box::new(published)),
            Scope::Trainee(_) | Scope::Author(_) | Scope::Nobody => Some(nothing()),
        }
    }
}

/// Partner staff manage their institution's subscriptions.
impl Scoped for webhook_subscriptions::table {
    fn condition(scope: Scope) -> Option<Condition<Self>> {
        match scope {
            Scope::All => None,
            Scope::Institution(i) => Some(Box::new(
                webhook_subscriptions::institution_id
                    .assume_not_null()
                    .eq(i),
            )),
            Scope::Trainee(_) | Scope::Author(_) | Scope::Published(_) | Scope::Nobody => {
                Some(nothing())
            }
        }
    }
}

/// Whether a trainee id in a request body is in scope: one out of scope
/// answers exactly as one that does not exist.
pub async fn trainee_in_scope(
    conn: &mut diesel_async::AsyncPgConnection,
    scope: Scope,
    id: Uuid,
) -> crate::error::AppResult<bool> {
    use diesel_async::RunQueryDsl;
    let mut q = trainees::table
        .filter(trainees::id.eq(id))
        .select(trainees::id)
        .into_boxed();
    if let Some(cond) = <trainees::table as Scoped>::condition(scope) {
        q = q.filter(cond);
    }
    Ok(diesel::select(diesel::dsl::exists(q))
        .get_result(conn)
        .await?)
}

/// 422 on `field` unless `id` names programme staff a caller of `scope` may
/// name (an assignee, a cohort's coordinator): anyone else, or anyone at
/// all for a caller who is not staff, answers as a user that does not exist.
pub async fn require_staff(
    conn: &mut diesel_async::AsyncPgConnection,
    scope: Scope,
    field: &str,
    id: Uuid,
) -> crate::error::AppResult<()> {
    if assignee_in_scope(conn, scope, id).await? {
        Ok(())
    } else {
        Err(crate::error::AppError::invalid(
            field,
            "refers to a record that does not exist",
        ))
    }
}

/// Whether a user id in a request body names someone a caller of this
/// scope may assign work to: programme staff (admins and coordinators), for
/// callers whose scope is every record (staff). Anyone else answers as a
/// user that does not exist.
pub async fn assignee_in_scope(
    conn: &mut diesel_async::AsyncPgConnection,
    scope: Scope,
    id: Uuid,
) -> crate::error::AppResult<bool> {
    use diesel_async::RunQueryDsl;
    if scope != Scope::All {
        return Ok(false);
    }
    let staff = [super::Role::Admin, super::Role::Coordinator];
    let q = users::table
        .filter(users::id.eq(id))
        .filter(users::role.eq_any(staff))
        .select(users::id);
    Ok(diesel::select(diesel::dsl::exists(q))
        .get_result(conn)
        .await?)
}
