//! Input bodies that report every bad field at once.
//!
//! A body struct declares each member as [`Field<T>`]: its deserialisation never
//! fails, it keeps "absent", "null", a parsed value, or the reason the value was
//! refused. Unknown members are caught by a flattened [`Unknown`]. A
//! [`Checker`] then turns the struct into domain values, collecting one
//! [`FieldError`] per problem, and answers 422 with all of them.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use serde_json::Value;
use utoipa::{
    openapi::{RefOr, Schema},
    PartialSchema, ToSchema,
};

use crate::error::{AppError, FieldError};

/// One member of an input body.
#[derive(Debug, Clone, Default)]
pub enum Field<T> {
    /// Not sent.
    #[default]
    Absent,
    /// Sent as `null`.
    Null,
    /// Sent and valid.
    Value(T),
    /// Sent but refused, with the reason.
    Invalid(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        if raw.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(raw) {
            Ok(value) => Field::Value(value),
            Err(e) => Field::Invalid(clean_message(&e.to_string())),
        })
    }
}

/// serde's messages name Rust types; keep what a client can act on.
fn clean_message(message: &str) -> String {
    message
        .replace("invalid type: ", "")
        .replace(", expected a borrowed string", ", expected a string")
}

// Documented as the value it carries.
impl<T: PartialSchema> utoipa::__dev::ComposeSchema for Field<T> {
    fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        T::schema()
    }
}

impl<T: ToSchema> ToSchema for Field<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        T::name()
    }
}

/// Members of a body that the struct does not declare.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Unknown(BTreeMap<String, Value>);

impl Unknown {
    /// The names of the undeclared members.
    pub fn keys(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// A change to one member in a `PATCH`.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch<T> {
    Keep,
    Set(T),
}

impl<T> Patch<T> {
    /// The new value, if any.
    pub fn into_option(self) -> Option<T> {
        match self {
            Patch::Keep => None,
            Patch::Set(v) => Some(v),
        }
    }
}

/// Collects field errors while a body is turned into domain values.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// Starts checking a body; its unknown members are errors.
    pub fn new(unknown: &Unknown) -> Self {
        let errors = unknown
            .0
            .keys()
            .map(|k| FieldError::new(k.clone(), "unknown field"))
            .collect();
        Checker { errors }
    }

    /// Records a rule that spans fields or needs more than parsing.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Checks a rule on a parsed value.
    pub fn ensure(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.error(field, message);
        }
    }

    /// A member that must be present and not null.
    pub fn required<T>(&mut self, name: &str, field: Field<T>) -> Option<T> {
        match field {
            Field::Value(v) => Some(v),
            Field::Absent | Field::Null => {
                self.error(name, "is required");
                None
            }
            Field::Invalid(msg) => {
                self.error(name, msg);
                None
            }
        }
    }

    /// A member that may be absent or null.
    pub fn optional<T>(&mut self, name: &str, field: Field<T>) -> Option<T> {
        match field {
            Field::Value(v) => Some(v),
            Field::Absent | Field::Null => None,
            Field::Invalid(msg) => {
                self.error(name, msg);
                None
            }
        }
    }

    /// A member with a default when absent.
    pub fn defaulted<T>(&mut self, name: &str, field: Field<T>, default: T) -> T {
        match field {
            Field::Absent => default,
            other => self.required(name, other).unwrap_or(default),
        }
    }

    /// A `PATCH` member that may not be cleared.
    pub fn patch<T>(&mut self, name: &str, field: Field<T>) -> Patch<T> {
        match field {
            Field::Absent => Patch::Keep,
            Field::Null => {
                self.error(name, "may not be null");
                Patch::Keep
            }
            Field::Value(v) => Patch::Set(v),
            Field::Invalid(msg) => {
                self.error(name, msg);
                Patch::Keep
            }
        }
    }

    /// A `PATCH` member that `null` clears.
    pub fn patch_nullable<T>(&mut self, name: &str, field: Field<T>) -> Patch<Option<T>> {
        match field {
            Field::Absent => Patch::Keep,
            Field::Null => Patch::Set(None),
            Field::Value(v) => Patch::Set(Some(v)),
            Field::Invalid(msg) => {
                self.error(name, msg);
                Patch::Keep
            }
        }
    }

    /// Ends the check: every error at once, or the value built by `build`.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
        if !self.errors.is_empty() {
            return Err(AppError::Validation(self.errors));
        }
        build().ok_or_else(|| AppError::Internal(anyhow::anyhow!("checked input incomplete")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        a: Field<u8>,
        #[serde(default)]
        b: Field<String>,
        #[serde(flatten)]
        unknown: Unknown,
    }

    #[test]
    fn reports_every_bad_field_and_unknown_members() {
        let body: Body = serde_json::from_str(r#"{"a": 300, "c": 1, "d": 2}"#).unwrap();
        let mut c = Checker::new(&body.unknown);
        let a = c.required("a", body.a);
        let b = c.required("b", body.b);
        let err = c.finish(|| Some((a?, b?))).unwrap_err();
        let AppError::Validation(errors) = err else {
            panic!("expected a validation error")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["c", "d", "a", "b"]);
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let body: Body = serde_json::from_str(r#"{"b": null}"#).unwrap();
        let mut c = Checker::new(&body.unknown);
        assert_eq!(c.patch("a", body.a), Patch::Keep);
        assert_eq!(c.patch_nullable("b", body.b), Patch::Set(None));
        assert!(c.finish(|| Some(())).is_ok());
    }
}
