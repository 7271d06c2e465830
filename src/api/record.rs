//! A record declared once: [`record!`](crate::record) writes its row, its
//! request body, its checked new record and its checked changes from one
//! list of columns, and reads a body into either.

use super::input::{Checker, Field};
use crate::types::Stored;

/// A column given at creation, not cleared by a `PATCH`.
pub struct Required;

/// A column that may be absent or `null`; `null` clears it.
pub struct Optional;

/// A column that takes this value when absent at creation.
pub struct Defaulted<T>(pub T);

/// How a column of a body is read: `None` when it is missing at creation
/// (an error is recorded), or kept by a `PATCH`.
pub trait Presence<T: Stored, S> {
    fn read(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S>;
    fn change(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S>;
}

impl<T: Stored, S: From<T::As>> Presence<T, S> for Required {
    fn read(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S> {
        c.required(name, field).map(|v| S::from(v.stored()))
    }

    fn change(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S> {
        c.patch(name, field)
            .into_option()
            .map(|v| S::from(v.stored()))
    }
}

impl<T: Stored> Presence<T, Option<T::As>> for Optional {
    fn read(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<Option<T::As>> {
        Some(c.optional(name, field).map(T::stored))
    }

    fn change(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<Option<T::As>> {
        c.patch_nullable(name, field)
            .into_option()
            .map(|v| v.map(T::stored))
    }
}

impl<T: Stored, S: From<T::As>> Presence<T, S> for Defaulted<T> {
    fn read(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S> {
        Some(S::from(c.defaulted(name, field, self.0).stored()))
    }

    fn change(self, c: &mut Checker, name: &str, field: Field<T>) -> Option<S> {
        Required.change(c, name, field)
    }
}

/// The body, new record and changes of a record declared with
/// [`record!`](crate::record), for the store and the collection routes.
pub trait Forms {
    type Input;
    type New;
    type Changes;
}

/// The first type given, or the default after `;`: optional types of the
/// declaring macros.
#[doc(hidden)]
#[macro_export]
macro_rules! __or {
    ($given:ty; $default:ty) => {
        $given
    };
    (; $default:ty) => {
        $default
    };
}

/// Declares a record: its row (`Queryable`, `Selectable`, serialized as
/// the API shows it), its body (every member optional, unknown members
/// refused), its checked new record (`Insertable`) and its checked changes
/// (`AsChangeset`), from one list of columns, in the row's order:
///
/// - `id` (a UUIDv7 made at creation) comes first, and `created_at`,
///   `updated_at` and `version` (kept by the database) last;
/// - `set { name: Type = expr }`: set by the server at creation, from
///   what `given` names (the parent of the path, the caller);
/// - `fixed { name: Type => Input }`: given at creation, never changed;
/// - `fields { name: Type => Input [required | optional | default(expr)] }`:
///   given at creation and changed by a `PATCH` (an optional one cleared
///   by `null`);
/// - `kept { name: Type }`: kept by the server (status, timestamps).
///
/// `Input::read_new` and `Input::read_changes` read a body into the new
/// record or the changes, every error at once; `check` adds the rules that
/// span columns (`creating` tells which of the two it checks). With
/// `impl Input;`, the body is the [`Input`](crate::api::collection::Input)
/// of a collection as it stands. The calling module imports
/// [`Field`](crate::api::input::Field): the body's OpenAPI derive names it.
#[macro_export]
macro_rules! record {
    (
        $(#[$row_meta:meta])*
        pub struct $row:ident in $table:ident;
        $(#[$input_meta:meta])*
        pub struct $input:ident => $new:ident, $changes:ident
            $(, check = $check:path)? $(, given $arg:ident: $arg_ty:ty)?;
        $(impl $collection:ident;)?
        $(set { $($(#[$set_meta:meta])* $set:ident: $set_ty:ty = $init:expr,)* })?
        $(fixed { $($(#[$fixed_meta:meta])* $fixed:ident: $fixed_ty:ty => $fixed_in:ty,)* })?
        fields { $($(#[$meta:meta])* $field:ident: $ty:ty => $in:ty [$($presence:tt)*],)* }
        $(kept { $($(#[$kept_meta:meta])* $kept:ident: $kept_ty:ty,)* })?
    ) => {
        $(#[$row_meta])*
        #[derive(Debug, Clone, serde::Serialize, diesel::Queryable, diesel::Selectable, utoipa::ToSchema)]
        #[diesel(table_name = $crate::schema::$table)]
        pub struct $row {
            pub id: uuid::Uuid,
            $($($(#[$set_meta])* pub $set: $set_ty,)*)?
            $($($(#[$fixed_meta])* pub $fixed: $fixed_ty,)*)?
            $($(#[$meta])* pub $field: $ty,)*
            $($($(#[$kept_meta])* pub $kept: $kept_ty,)*)?
            #[serde(serialize_with = "crate::api::stamp::utc")]
            pub created_at: chrono::DateTime<chrono::Utc>,
            #[serde(serialize_with = "crate::api::stamp::utc")]
            pub updated_at: chrono::DateTime<chrono::Utc>,
            /// Grows on every change; the ETag.
            pub version: i32,
        }

        $(#[$input_meta])*
        #[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
        pub struct $input {
            $($($(#[$fixed_meta])* #[serde(default)] pub(crate) $fixed: $crate::api::input::Field<$fixed_in>,)*)?
            $($(#[$meta])* #[serde(default)] pub(crate) $field: $crate::api::input::Field<$in>,)*
            #[serde(flatten)]
            #[schema(ignore)]
            pub(crate) unknown: $crate::api::input::Unknown,
        }

        /// A checked new record.
        #[derive(Debug, Clone, diesel::Insertable)]
        #[diesel(table_name = $crate::schema::$table)]
        pub struct $new {
            pub id: uuid::Uuid,
            $($(pub $set: $set_ty,)*)?
            $($(pub $fixed: $fixed_ty,)*)?
            $(pub $field: $ty,)*
        }

        /// A checked change: `None` keeps a column.
        #[derive(Debug, Default, PartialEq, diesel::AsChangeset)]
        #[diesel(table_name = $crate::schema::$table)]
        pub struct $changes {
            $(pub $field: Option<$ty>,)*
        }

        impl $crate::api::record::Forms for $row {
            type Input = $input;
            type New = $new;
            type Changes = $changes;
        }

        impl $input {
            /// Reads a body into a new record.
            pub fn read_new(self $(, $arg: $arg_ty)?) -> $crate::error::AppResult<$new> {
                use $crate::api::record::Presence;
                let mut c = $crate::api::input::Checker::new(&self.unknown);
                $($(let $fixed = c.required(stringify!($fixed), self.$fixed).map($crate::types::Stored::stored);)*)?
                let draft = $changes {
                    $($field: $crate::record!(@presence $($presence)*).read(&mut c, stringify!($field), self.$field),)*
                };
                $($check(&mut c, &draft, true);)?
                c.finish(|| {
                    Some($new {
                        id: uuid::Uuid::now_v7(),
                        $($($set: $init,)*)?
                        $($($fixed: $fixed?,)*)?
                        $($field: draft.$field?,)*
                    })
                })
            }

            /// Reads a `PATCH` body into changes.
            pub fn read_changes(self) -> $crate::error::AppResult<$changes> {
                use $crate::api::record::Presence;
                let mut c = $crate::api::input::Checker::new(&self.unknown);
                $($(if !matches!(self.$fixed, $crate::api::input::Field::Absent) {
                    c.error(stringify!($fixed), "cannot be changed");
                })*)?
                let changes = $changes {
                    $($field: $crate::record!(@presence $($presence)*).change(&mut c, stringify!($field), self.$field),)*
                };
                $($check(&mut c, &changes, false);)?
                c.finish(|| Some(changes))
            }
        }

        $($crate::record!(@$collection $input, $new, $changes);)?
    };
    (@presence required) => { $crate::api::record::Required };
    (@presence optional) => { $crate::api::record::Optional };
    (@presence default($value:expr)) => { $crate::api::record::Defaulted($value) };
    (@Input $input:ident, $new:ident, $changes:ident) => {
        impl $crate::api::collection::Input for $input {
            type New = $new;
            type Changes = $changes;

            fn into_new(
                self,
                _: &$crate::auth::Principal,
                _: $crate::auth::policy::Scope,
            ) -> $crate::error::AppResult<$new> {
                self.read_new()
            }

            fn into_changes(self) -> $crate::error::AppResult<$changes> {
                self.read_changes()
            }
        }
    };
}
