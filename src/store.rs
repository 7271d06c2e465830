//! One way to write a record. A kind of record says how its rows are
//! inserted, locked, changed and removed, and which rules guard each step
//! ([`Record`], [`Moving`]); the functions here do the rest the same way for
//! every kind, in one transaction: lock → version check → rule → write →
//! audit (and history for moves) → whatever the kind queues after (emails).

use std::future::{ready, Future};

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    api::{require_version, Versioned},
    audit::{self, Actor},
    auth::policy::Scope,
    deletions::repo::{self as deletions, Owners},
    error::{AppError, AppResult},
    lifecycle::{self, Lifecycle},
};

/// Changes of a record, as a PATCH body parsed: a struct of `Option`s, one
/// per field a PATCH may change, `None` for a field left alone.
pub trait Changes: Default + PartialEq + Send + Sync {
    /// Whether the PATCH changes nothing.
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl<T: Default + PartialEq + Send + Sync> Changes for T {}

/// A write partner systems may hear of (SPEC §4b).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Created,
    Updated,
    Deleted,
    /// A move, by the state it reached.
    Moved(&'static str),
}

/// A kind of record, by its name in the audit log and the move history.
pub trait Kind {
    /// e.g. `program`.
    const KIND: &'static str;

    /// Writes the events of a write in its transaction (a removal's before
    /// the row goes); most kinds have none.
    fn announce(
        _conn: &mut AsyncPgConnection,
        _write: Write,
        _record: &Self,
    ) -> impl Future<Output = AppResult<()>> + Send
    where
        Self: Sized,
    {
        ready(Ok(()))
    }
}

/// A kind of record created through this module.
pub trait Insert: Kind + Serialize + Send + Sync + Sized + 'static {
    /// A new record, parsed and checked.
    type New: Send + Sync;

    /// Its id.
    fn id(&self) -> Uuid;

    /// Writes a new row and answers the record.
    fn insert(
        conn: &mut AsyncPgConnection,
        new: &Self::New,
    ) -> impl Future<Output = AppResult<Self>> + Send;

    /// Rules a new record must meet beyond its own fields (ids in scope,
    /// unique values named to the caller).
    fn check_new(
        _conn: &mut AsyncPgConnection,
        _scope: Scope,
        _new: &Self::New,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }

    /// What follows a creation in its transaction (the first state of a
    /// lifecycle in its history).
    fn created(
        _conn: &mut AsyncPgConnection,
        _actor: &Actor,
        _record: &Self,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }
}

/// A kind of record read, changed and removed through this module.
pub trait Record: Insert + Versioned {
    /// Changes of a record, parsed and checked.
    type Changes: Changes;

    /// Reads a record; 404 when it is missing or out of scope.
    fn find(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> impl Future<Output = AppResult<Self>> + Send;

    /// Locks a record for a change; 404 when it is missing or out of scope.
    fn lock(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> impl Future<Output = AppResult<Self>> + Send;

    /// Writes changes to a locked record and answers it as it is now.
    fn apply(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &Self::Changes,
    ) -> impl Future<Output = AppResult<Self>> + Send;

    /// Removes a locked record.
    fn remove(conn: &mut AsyncPgConnection, id: Uuid)
        -> impl Future<Output = AppResult<()>> + Send;

    /// Locks what a change of record `id` must hold before the record
    /// itself, in the order every writer of the kind takes its locks (an
    /// exchange's agreements, old and new, as approvals take them).
    fn lock_first(
        _conn: &mut AsyncPgConnection,
        _id: Uuid,
        _changes: &Self::Changes,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }

    /// Whom the record belongs to, for the tombstone its deletion leaves
    /// (`GET /deletions` is scoped by it).
    fn owners(
        _conn: &mut AsyncPgConnection,
        _record: &Self,
    ) -> impl Future<Output = AppResult<Owners>> + Send {
        ready(Ok(Owners::default()))
    }

    /// Rules a removal must meet (records that stay on record).
    fn check_remove(_before: &Self) -> AppResult<()> {
        Ok(())
    }

    /// Rules changes must meet against the record as it is.
    fn check_changes(
        _conn: &mut AsyncPgConnection,
        _scope: Scope,
        _before: &Self,
        _changes: &Self::Changes,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }
}

/// Creates a record: rules, insert, audit and what follows, in one
/// transaction.
pub async fn create<R: Insert>(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    new: R::New,
) -> AppResult<R> {
    conn.transaction(async |conn| {
        R::check_new(conn, scope, &new).await?;
        let created = R::insert(conn, &new).await?;
        let id = created.id();
        audit::record(
            conn,
            actor.clone(),
            R::KIND,
            "create",
            id,
            audit::snapshot(&created),
        )
        .await?;
        R::created(conn, actor, &created).await?;
        R::announce(conn, Write::Created, &created).await?;
        Ok(created)
    })
    .await
}

/// Changes a record in scope, if its version is still `expected` (412
/// otherwise); an empty change writes nothing.
pub async fn update<R: Record>(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    id: Uuid,
    expected: Option<i32>,
    changes: R::Changes,
) -> AppResult<R> {
    conn.transaction(async |conn| {
        R::lock_first(conn, id, &changes).await?;
        let before = R::lock(conn, scope, id).await?;
        require_version(expected, before.version())?;
        if changes.is_empty() {
            return Ok(before);
        }
        R::check_changes(conn, scope, &before, &changes).await?;
        let after = R::apply(conn, id, &changes).await?;
        audit::record(
            conn,
            actor.clone(),
            R::KIND,
            "update",
            id,
            audit::diff(&before, &after),
        )
        .await?;
        R::announce(conn, Write::Updated, &after).await?;
        Ok(after)
    })
    .await
}

/// Removes a record in scope, if its version is still `expected`, and
/// leaves its tombstone for clients that sync; 409 while other records
/// refer to it.
pub async fn delete<R: Record>(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        let before = R::lock(conn, scope, id).await?;
        require_version(expected, before.version())?;
        R::check_remove(&before)?;
        let owners = R::owners(conn, &before).await?;
        R::announce(conn, Write::Deleted, &before).await?;
        R::remove(conn, id).await?;
        deletions::record(conn, R::KIND, id, owners).await?;
        audit::record(
            conn,
            actor.clone(),
            R::KIND,
            "delete",
            id,
            audit::snapshot(&before),
        )
        .await
    })
    .await
}

/// A record with a lifecycle.
pub trait Moving: Kind + Serialize + Send + Sync + Sized + 'static {
    /// Its states.
    type State: Lifecycle + Send + Sync;
    /// What a move holds locked besides the record (a cohort for seats, an
    /// incubator for its capacity), handed to its rules.
    type Held: Send + Sync;

    /// Its state now.
    fn state(&self) -> Self::State;

    /// The record a nested path names it under (an enrollment's cohort).
    fn parent_id(&self) -> Option<Uuid> {
        None
    }

    /// Locks what the move's rules need, then the record; 404 when it is
    /// missing or out of scope.
    fn lock_for_move(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> impl Future<Output = AppResult<(Self, Self::Held)>> + Send;

    /// Rules of a legal move, before it is written (seats, quotas).
    fn check_move(
        _conn: &mut AsyncPgConnection,
        _step: &Step<'_, Self>,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }

    /// Writes the new state, and what the move sets with it (dates, the
    /// note of a decision): [`write_state!`](crate::write_state).
    fn set_state(
        conn: &mut AsyncPgConnection,
        step: &Step<'_, Self>,
    ) -> impl Future<Output = AppResult<Self>> + Send;

    /// What follows a move in its transaction (`after` is the record moved):
    /// emails, certificates, a promotion from the waitlist.
    fn after_move(
        _conn: &mut AsyncPgConnection,
        _step: &Step<'_, Self>,
        _after: &Self,
    ) -> impl Future<Output = AppResult<()>> + Send {
        ready(Ok(()))
    }
}

/// A move under way, as its rules and writes see it.
pub struct Step<'a, R: Moving> {
    /// Who moves it.
    pub actor: &'a Actor,
    /// The record before the move.
    pub before: &'a R,
    /// What the move holds locked besides it.
    pub held: &'a R::Held,
    /// The state it moves to.
    pub to: R::State,
    /// The note given with the move.
    pub note: Option<&'a str>,
}

/// The body of a [`Moving::set_state`]: writes the record's row in
/// `$table` (its `status`, and whatever else the move sets, as diesel
/// assignments) and reads the record back.
#[macro_export]
macro_rules! write_state {
    ($conn:expr, $table:ident, $record:ty, $id:expr, $($set:expr),+ $(,)?) => {{
        use diesel::{QueryDsl as _, SelectableHelper as _};
        use diesel_async::RunQueryDsl as _;
        use $crate::db::Prepare as _;
        Ok(diesel::update($table::table.find($id))
            .set(($($set,)+))
            .returning(<$record>::as_returning())
            .prepared()
            .get_result($conn)
            .await?)
    }};
}

/// Where a record to move must be found: in the caller's scope and, for a
/// nested path, under its parent. Anything else answers 404.
#[derive(Debug, Clone, Copy)]
pub struct Within {
    pub scope: Scope,
    pub parent_id: Option<Uuid>,
}

impl From<Scope> for Within {
    fn from(scope: Scope) -> Self {
        Within {
            scope,
            parent_id: None,
        }
    }
}

/// Moves a record along its lifecycle: lock, legal move (409 naming the
/// allowed ones), rules, write, history and audit, then what follows, in one
/// transaction.
pub async fn transition<R: Moving>(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    within: impl Into<Within>,
    id: Uuid,
    to: R::State,
    note: Option<String>,
) -> AppResult<R> {
    let within = within.into();
    conn.transaction(async |conn| {
        let (before, held) = R::lock_for_move(conn, within.scope, id).await?;
        if within
            .parent_id
            .is_some_and(|p| before.parent_id() != Some(p))
        {
            return Err(AppError::NotFound);
        }
        let from = before.state();
        from.check(to)?;
        let step = Step {
            actor,
            before: &before,
            held: &held,
            to,
            note: note.as_deref(),
        };
        R::check_move(conn, &step).await?;
        let after = R::set_state(conn, &step).await?;
        lifecycle::record(
            conn,
            actor.clone(),
            R::KIND,
            id,
            from.into(),
            to.into(),
            note.as_deref(),
        )
        .await?;
        R::after_move(conn, &step, &after).await?;
        R::announce(conn, Write::Moved(to.into()), &after).await?;
        Ok(after)
    })
    .await
}

/// The `created` hook of a record with a lifecycle: its first state, in its
/// history, coming from `new`.
pub async fn started<R: Insert + Moving>(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    record: &R,
) -> AppResult<()> {
    let to: &'static str = record.state().into();
    lifecycle::record(conn, actor.clone(), R::KIND, record.id(), "new", to, None).await
}

/// Implements [`Kind`] and [`Insert`] for a record created in one table:
/// rows of `$table` are returned as `$row` and converted into `$record`;
/// `check_new` and `created`, when given, are the kind's hooks; `announce =
/// events::moves("noun")` (or `writes`, or a function of the same shape)
/// tells partner systems of its writes (see [`crate::webhooks::events`]).
#[macro_export]
macro_rules! table_insert {
    (
        $record:ty [$($at:ident)?], $table:ident, $row:ty, kind = $kind:literal, new = $new:ty
        $(, check_new = $check_new:path)?
        $(, created = $created:path)?
        $(, announce = $($events:ident)::+($noun:literal))? $(,)?
    ) => {
        impl $crate::store::Kind for $record {
            const KIND: &'static str = $kind;

            $(fn announce(
                conn: &mut diesel_async::AsyncPgConnection,
                write: $crate::store::Write,
                record: &Self,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $($events)::+(conn, $noun, write, record)
            })?
        }

        impl $crate::store::Insert for $record {
            type New = $new;

            fn id(&self) -> uuid::Uuid {
                self.$($at.)?id
            }

            async fn insert(
                conn: &mut diesel_async::AsyncPgConnection,
                new: &$new,
            ) -> $crate::error::AppResult<Self> {
                use diesel::SelectableHelper;
                use diesel_async::RunQueryDsl;
                use $crate::db::Prepare;
                let row: $row = diesel::insert_into($table::table)
                    .values(new)
                    .returning(<$row>::as_returning())
                    .prepared()
                    .get_result(conn)
                    .await?;
                Ok(row.into())
            }

            $(fn check_new(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
                new: &$new,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $check_new(conn, scope, new)
            })?

            $(fn created(
                conn: &mut diesel_async::AsyncPgConnection,
                actor: &$crate::audit::Actor,
                record: &Self,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $created(conn, actor, record)
            })?
        }
    };
}

/// Implements [`Record`] (and [`Versioned`]) for a record read from one
/// table: rows of `$table` are selected as `$row` and converted into
/// `$record` with `From` (the same type when nothing is computed), `$new` is
/// insertable and `$changes` a changeset (those of [`Forms`](crate::api::record::Forms) of the row when
/// not named); `[$at]` names the member that holds
/// `id` and `version`, if they are not the record's own. `check_new`,
/// `check_changes`, `created`, `check_remove`, `lock_first`, `owners` and
/// `announce`, when given, are the kind's hooks, in that order.
#[macro_export]
macro_rules! table_record {
    (
        $record:ty [$($at:ident)?], $table:ident, $row:ty,
        kind = $kind:literal, new = $new:ty, changes = $changes:ty
        $(, check_new = $check_new:path)?
        $(, check_changes = $check_changes:path)?
        $(, created = $created:path)?
        $(, check_remove = $check_remove:path)?
        $(, lock_first = $lock_first:path)?
        $(, owners = $owners:path)?
        $(, announce = $($events:ident)::+($noun:literal))? $(,)?
    ) => {
        impl $crate::api::Versioned for $record {
            fn version(&self) -> i32 {
                self.$($at.)?version
            }
        }

        $crate::table_insert!(
            $record [$($at)?], $table, $row, kind = $kind, new = $new
            $(, check_new = $check_new)?
            $(, created = $created)?
            $(, announce = $($events)::+($noun))?
        );

        impl $crate::store::Record for $record {
            type Changes = $changes;

            async fn find(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
                id: uuid::Uuid,
            ) -> $crate::error::AppResult<Self> {
                use diesel::{QueryDsl, SelectableHelper};
                use diesel_async::RunQueryDsl;
                let mut q = $table::table.find(id).select(<$row>::as_select()).into_boxed();
                if let Some(cond) = $crate::auth::scope::condition::<$table::table>(scope) {
                    q = q.filter(cond);
                }
                let row: $row = q.first(conn).await?;
                Ok(row.into())
            }

            async fn lock(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
                id: uuid::Uuid,
            ) -> $crate::error::AppResult<Self> {
                use diesel::{QueryDsl, SelectableHelper};
                use diesel_async::RunQueryDsl;
                let q = $table::table.find(id).select(<$row>::as_select());
                let row: $row = match $crate::auth::scope::condition::<$table::table>(scope) {
                    Some(cond) => q.filter(cond).for_update().first(conn).await?,
                    None => q.for_update().first(conn).await?,
                };
                Ok(row.into())
            }

            async fn apply(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
                changes: &$changes,
            ) -> $crate::error::AppResult<Self> {
                use diesel::{QueryDsl, SelectableHelper};
                use diesel_async::RunQueryDsl;
                use $crate::db::Prepare;
                let row: $row = diesel::update($table::table.find(id))
                    .set(changes)
                    .returning(<$row>::as_returning())
                    .prepared()
                    .get_result(conn)
                    .await?;
                Ok(row.into())
            }

            async fn remove(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
            ) -> $crate::error::AppResult<()> {
                use diesel::QueryDsl;
                use diesel_async::RunQueryDsl;
                diesel::delete($table::table.find(id)).execute(conn).await?;
                Ok(())
            }

            $(fn check_changes(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
                before: &Self,
                changes: &$changes,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $check_changes(conn, scope, before, changes)
            })?

            $(fn check_remove(before: &Self) -> $crate::error::AppResult<()> {
                $check_remove(before)
            })?

            $(fn lock_first(
                conn: &mut diesel_async::AsyncPgConnection,
                id: uuid::Uuid,
                changes: &$changes,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $lock_first(conn, id, changes)
            })?

            $(fn owners(
                conn: &mut diesel_async::AsyncPgConnection,
                record: &Self,
            ) -> impl std::future::Future<
                Output = $crate::error::AppResult<$crate::deletions::repo::Owners>,
            > + Send {
                $owners(conn, record)
            })?
        }
    };
    (
        $record:ty [$($at:ident)?], $table:ident, $row:ty, kind = $kind:literal
        $(, $hook:ident = $($value:tt)::+ $(($noun:literal))?)* $(,)?
    ) => {
        $crate::table_record!(
            $record [$($at)?], $table, $row, kind = $kind,
            new = <$row as $crate::api::record::Forms>::New,
            changes = <$row as $crate::api::record::Forms>::Changes
            $(, $hook = $($value)::+ $(($noun))?)*
        );
    };
}

/// Implements [`Moving`] for a record whose move is one write of its
/// `status` column, holding nothing else locked; `after`, when given, is
/// what follows a move (`after(conn, actor, before, after)`).
#[macro_export]
macro_rules! status_moving {
    ($record:ty, $table:ident, $state:ty $(, after = $after:path)? $(,)?) => {
        impl $crate::store::Moving for $record {
            type State = $state;
            type Held = ();

            fn state(&self) -> $state {
                self.status
            }

            async fn lock_for_move(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
                id: uuid::Uuid,
            ) -> $crate::error::AppResult<(Self, ())> {
                Ok((<Self as $crate::store::Record>::lock(conn, scope, id).await?, ()))
            }

            async fn set_state(
                conn: &mut diesel_async::AsyncPgConnection,
                step: &$crate::store::Step<'_, Self>,
            ) -> $crate::error::AppResult<Self> {
                $crate::write_state!(conn, $table, $record, step.before.id, $table::status.eq(step.to))
            }

            $(fn after_move(
                conn: &mut diesel_async::AsyncPgConnection,
                step: &$crate::store::Step<'_, Self>,
                after: &Self,
            ) -> impl std::future::Future<Output = $crate::error::AppResult<()>> + Send {
                $after(conn, step.actor, step.before, after)
            })?
        }
    };
}
