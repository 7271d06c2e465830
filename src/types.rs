//! Domain value types. Input is parsed into these at the edge, so code inside
//! never holds an invalid country, email, name or URL.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use utoipa::{
    openapi::{schema::SchemaType, ObjectBuilder, RefOr, Schema, Type},
    PartialSchema, ToSchema,
};

/// A JSON document written straight from a struct to a `jsonb` column,
/// with no `serde_json::Value` in between.
#[derive(Debug, Clone, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Jsonb)]
pub struct JsonText(String);

impl JsonText {
    /// `{}`.
    pub fn empty() -> Self {
        JsonText("{}".into())
    }

    /// `value` as JSON (`null` if it cannot be: a map with non-text keys).
    pub fn of(value: &impl Serialize) -> Self {
        JsonText(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> Self {
        JsonText(value.to_string())
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Jsonb, diesel::pg::Pg> for JsonText {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        // jsonb's binary form: a version byte, then the text.
        out.write_all(&[1])?;
        out.write_all(self.0.as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

/// An ISO 3166-1 alpha-2 country code, checked against the `keshvar` data.
/// Stored as its upper-case text.
#[derive(Debug, Clone, Copy, PartialEq, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct CountryCode(keshvar::Alpha2);

impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for CountryCode {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        use std::io::Write;
        out.write_all(self.as_str().as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl CountryCode {
    /// Parses a code, in any letter case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let upper = raw.trim().to_ascii_uppercase();
        if upper.len() != 2 {
            return Err("must be an ISO 3166-1 alpha-2 code such as \"KE\"".into());
        }
        keshvar::Alpha2::try_from(upper.as_str())
            .map(CountryCode)
            .map_err(|_| format!("\"{upper}\" is not an ISO 3166-1 alpha-2 country code"))
    }

    /// The upper-case two-letter code.
    pub fn as_str(&self) -> String {
        self.0.to_string().to_ascii_uppercase()
    }

    /// The UN M49 region, e.g. `africa`.
    pub fn region(&self) -> Option<String> {
        self.0.to_country().maybe_region().map(|r| r.to_string())
    }

    /// The UN M49 sub-region, e.g. `eastern-africa`.
    pub fn subregion(&self) -> Option<String> {
        self.0.to_country().maybe_subregion().map(|r| r.to_string())
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        CountryCode::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("ISO 3166-1 alpha-2 country code"), Some(2), Some(2))
    }
}
impl ToSchema for CountryCode {}

/// An email address, stored and compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses and lower-cases an address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let parsed: email_address::EmailAddress = trimmed
            .parse()
            .map_err(|_| "must be an email address such as \"name@example.org\"".to_string())?;
        if parsed.email() != trimmed || !parsed.domain().contains('.') {
            return Err("must be a plain email address such as \"name@example.org\"".into());
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Email::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("email address"), Some(3), Some(254))
    }
}
impl ToSchema for Email {}

/// Trimmed text of 1 to `MAX` characters with no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("may not be empty".into());
        }
        if trimmed.chars().count() > MAX {
            return Err(format!("must be at most {MAX} characters"));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("may not contain control characters".into());
        }
        Ok(Text(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Text::parse(&raw).map_err(de::Error::custom)
    }
}

impl<const MAX: usize> PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        string_schema(None, Some(1), Some(MAX))
    }
}
impl<const MAX: usize> ToSchema for Text<MAX> {}

/// A name or title.
pub type Name = Text<200>;
/// A short label such as an acronym or a city.
pub type ShortText = Text<100>;
/// A free-text description.
pub type LongText = Text<5000>;

/// A short code such as `AI4AG-2027`: letters, digits, `.`, `_`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if ok {
            Ok(Code(raw.to_string()))
        } else {
            Err(
                "must be 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit"
                    .into(),
            )
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Code::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for Code {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("letters, digits, '.', '_', '-'"), Some(1), Some(40))
    }
}
impl ToSchema for Code {}

/// A BCP 47 language tag registered with IANA, e.g. `en`, `fr`, `zh-Hans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = language_tags::LanguageTag::parse(raw.trim())
            .map_err(|_| format!("\"{raw}\" is not a BCP 47 language tag"))?;
        tag.validate()
            .map_err(|_| format!("\"{raw}\" is not a registered language tag"))?;
        Ok(LanguageTag(tag.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for LanguageTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        LanguageTag::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for LanguageTag {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("BCP 47 language tag"), Some(2), Some(35))
    }
}
impl ToSchema for LanguageTag {}

/// An IANA time zone name, e.g. `Africa/Nairobi`, checked against the tz
/// database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    /// Coordinated Universal Time, the default.
    pub fn utc() -> Self {
        TimeZone("UTC".into())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(|tz| TimeZone(tz.name().to_string()))
            .map_err(|_| format!("\"{raw}\" is not an IANA time zone such as \"Africa/Nairobi\""))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        TimeZone::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("IANA time zone name"), Some(1), Some(64))
    }
}
impl ToSchema for TimeZone {}

/// An amount of US dollars: a decimal string with at most two decimals,
/// never negative, never a float.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Money(bigdecimal::BigDecimal);

impl Money {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value: bigdecimal::BigDecimal = raw
            .trim()
            .parse()
            .map_err(|_| "must be a decimal string such as \"1250.50\"".to_string())?;
        if value < 0 {
            return Err("may not be negative".into());
        }
        if value.fractional_digit_count() > 2 {
            return Err("may have at most 2 decimals".into());
        }
        if value >= 100_000_000_000_000i64 {
            return Err("is too large".into());
        }
        Ok(Money(value.with_scale(2)))
    }

    pub fn into_inner(self) -> bigdecimal::BigDecimal {
        self.0
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Money::parse(&s).map_err(de::Error::custom),
            _ => Err(de::Error::custom(
                "must be a decimal string such as \"1250.50\"",
            )),
        }
    }
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        string_schema(
            Some("US dollars, a decimal string with at most 2 decimals"),
            Some(1),
            Some(20),
        )
    }
}
impl ToSchema for Money {}

/// Languages of emails and of the interface.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Fr,
    Ar,
    Es,
    Pt,
    Zh,
}

impl Locale {
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// An absolute `http` or `https` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() > 500 {
            return Err("must be at most 500 characters".into());
        }
        let url = url::Url::parse(trimmed)
            .map_err(|_| "must be an absolute URL such as \"https://example.org\"".to_string())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http or https URL".into());
        }
        Ok(WebUrl(url.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for WebUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        WebUrl::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for WebUrl {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("http or https URL"), None, Some(500))
    }
}
impl ToSchema for WebUrl {}

/// An absolute `https` URL: what the catalogue links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = WebUrl::parse(raw)?.into_inner();
        if !url.starts_with("https://") {
            return Err("must be an https URL".into());
        }
        Ok(HttpsUrl(url))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for HttpsUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        HttpsUrl::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for HttpsUrl {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("https URL"), None, Some(500))
    }
}
impl ToSchema for HttpsUrl {}

/// An SPDX licence expression such as `CC-BY-4.0` or `MIT OR Apache-2.0`,
/// checked against the SPDX licence list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Licence(String);

impl Licence {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.len() > 200 {
            return Err("must be at most 200 characters".into());
        }
        spdx::Expression::parse(trimmed)
            .map_err(|e| format!("must be an SPDX licence expression: {}", e.reason))?;
        Ok(Licence(trimmed.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for Licence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Licence::parse(&raw).map_err(de::Error::custom)
    }
}

impl PartialSchema for Licence {
    fn schema() -> RefOr<Schema> {
        string_schema(Some("SPDX licence expression"), Some(1), Some(200))
    }
}
impl ToSchema for Licence {}

fn string_schema(
    description: Option<&str>,
    min: Option<usize>,
    max: Option<usize>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(description)
        .min_length(min)
        .max_length(max)
        .into()
}

/// What a checked input value is stored as: the text of a name or code,
/// the sorted distinct names of a list of enums, or the value itself.
pub trait Stored {
    type As;
    fn stored(self) -> Self::As;
}

macro_rules! stored_as_itself {
    ($($t:ty),*) => {
        $(impl Stored for $t {
            type As = $t;
            fn stored(self) -> $t {
                self
            }
        })*
    };
}

stored_as_itself!(
    uuid::Uuid,
    i32,
    bool,
    chrono::NaiveDate,
    chrono::DateTime<chrono::Utc>
);

macro_rules! stored_as_text {
    ($($t:ty),*) => {
        $(impl Stored for $t {
            type As = String;
            fn stored(self) -> String {
                self.into_inner()
            }
        })*
    };
}

stored_as_text!(Email, Code, TimeZone, WebUrl, HttpsUrl, Licence);

impl<const MAX: usize> Stored for Text<MAX> {
    type As = String;
    fn stored(self) -> String {
        self.into_inner()
    }
}

impl Stored for CountryCode {
    type As = String;
    fn stored(self) -> String {
        self.as_str()
    }
}

impl Stored for Locale {
    type As = String;
    fn stored(self) -> String {
        self.as_str().to_string()
    }
}

impl Stored for Money {
    type As = bigdecimal::BigDecimal;
    fn stored(self) -> bigdecimal::BigDecimal {
        self.into_inner()
    }
}

/// Language tags keep the order given: the first is the main one.
impl Stored for Vec<LanguageTag> {
    type As = Vec<String>;
    fn stored(self) -> Vec<String> {
        self.into_iter().map(LanguageTag::into_inner).collect()
    }
}

/// A list of ids is a set: sorted, without repeats.
impl Stored for Vec<uuid::Uuid> {
    type As = Vec<uuid::Uuid>;
    fn stored(mut self) -> Vec<uuid::Uuid> {
        self.sort();
        self.dedup();
        self
    }
}

/// A string enum declared with [`text_enum!`](crate::text_enum).
pub trait TextEnum: Into<&'static str> + Copy {}

impl<E: TextEnum> Stored for Vec<E> {
    type As = Vec<String>;
    fn stored(self) -> Vec<String> {
        let mut out: Vec<String> = self.into_iter().map(|e| e.into().to_string()).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Declares a string enum of the API and the database: `snake_case` in
/// JSON, in query strings and in a `text` column whose CHECK constraint
/// lists the same values; documented in the OpenAPI schema.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),*
        }

        impl $crate::types::TextEnum for $name {}

        impl $crate::types::Stored for $name {
            type As = $name;
            fn stored(self) -> $name {
                self
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                use std::io::Write;
                out.write_all(<&'static str>::from(self).as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let s = std::str::from_utf8(bytes.as_bytes())?;
                s.parse().map_err(|_| format!("unexpected value {s:?}").into())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_are_spdx_expressions_and_urls_are_https() {
        assert!(Licence::parse("CC-BY-4.0").is_ok());
        assert!(Licence::parse("MIT OR Apache-2.0").is_ok());
        assert!(Licence::parse("free for all").is_err());
        assert!(Licence::parse("").is_err());
        assert!(HttpsUrl::parse("https://open.example.org/course").is_ok());
        assert!(HttpsUrl::parse("http://open.example.org/course").is_err());
        assert!(HttpsUrl::parse("ftp://open.example.org").is_err());
    }

    #[test]
    fn country_codes_come_with_un_regions() {
        let ke = CountryCode::parse("ke").unwrap();
        assert_eq!(ke.as_str(), "KE");
        assert_eq!(ke.region().as_deref(), Some("africa"));
        assert_eq!(ke.subregion().as_deref(), Some("eastern-africa"));
        assert!(CountryCode::parse("XX").is_err());
        assert!(CountryCode::parse("KEN").is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse(" Amina@Uni.ac.KE ").unwrap().as_str(),
            "amina@uni.ac.ke"
        );
        for bad in ["", "no-at", "a@b", "A <a@b.org>", "a@b.org\r\nBcc: x@y.org"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Text::<5>::parse("  abc ").unwrap().into_inner(), "abc");
        assert!(Text::<5>::parse("   ").is_err());
        assert!(Text::<5>::parse("abcdef").is_err());
        assert!(Text::<5>::parse("a\u{0}b").is_err());
    }

    #[test]
    fn codes_and_language_tags_are_checked() {
        assert!(Code::parse("AI4AG-2027.1").is_ok());
        assert!(
            Code::parse("-x").is_err() && Code::parse("a b").is_err() && Code::parse("").is_err()
        );
        for ok in ["en", "fr", "ar", "zh-Hans", "pt-BR", "sw"] {
            assert!(LanguageTag::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["english", "xx", "en-Latn-Latn", ""] {
            assert!(LanguageTag::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn money_is_exact_and_never_negative() {
        assert_eq!(
            serde_json::to_value(Money::parse("1250.5").unwrap()).unwrap(),
            "1250.50"
        );
        for bad in ["-1", "1.005", "abc", "1e20"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        assert!(
            serde_json::from_str::<Money>("12.5").is_err(),
            "numbers are refused"
        );
    }

    #[test]
    fn urls_must_be_web_urls() {
        assert!(WebUrl::parse("https://www.uonbi.ac.ke").is_ok());
        assert!(WebUrl::parse("javascript:alert(1)").is_err());
        assert!(WebUrl::parse("uonbi.ac.ke").is_err());
    }
}
