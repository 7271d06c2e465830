//! Knowledge resources: the record, its lifecycle and its input rules.

use chrono::{DateTime, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field, Unknown},
    auth::{policy::Scope, Principal},
    cohorts::model::tags,
    error::AppResult,
    lifecycle::Lifecycle,
    programmes::model::Theme,
    schema::resources,
    types::{HttpsUrl, LanguageTag, Licence, LongText, Name, Stored},
};

crate::text_enum! {
    /// What a shared resource is.
    pub enum ResourceKind {
        Course,
        Curriculum,
        Dataset,
        Model,
        Toolkit,
        Paper,
    }
}

crate::text_enum! {
    /// The intellectual-property terms a resource is shared under, beside
    /// its licence.
    pub enum IpTerms {
        Open,
        Attribution,
        NonCommercial,
        Restricted,
    }
}

crate::text_enum! {
    /// Who may read a published resource: anyone, or signed-in users.
    pub enum Visibility {
        Public,
        Partners,
    }
}

crate::text_enum! {
    /// Where a resource stands: draft → published → withdrawn; withdrawn →
    /// published.
    pub enum ResourceStatus {
        Draft,
        Published,
        Withdrawn,
    }
}

impl Lifecycle for ResourceStatus {
    fn next(self) -> &'static [Self] {
        use ResourceStatus::*;
        match self {
            Draft => &[Published],
            Published => &[Withdrawn],
            Withdrawn => &[Published],
        }
    }
}

/// A course, curriculum, dataset, model, toolkit or paper an institution
/// shares.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = resources)]
pub struct KnowledgeResource {
    pub id: Uuid,
    pub title: String,
    pub kind: ResourceKind,
    pub description: Option<String>,
    pub url: String,
    /// BCP 47 tags.
    pub languages: Vec<String>,
    pub themes: Vec<String>,
    /// An SPDX licence expression.
    pub licence: String,
    pub ip_terms: IpTerms,
    pub owner_institution_id: Uuid,
    pub visibility: Visibility,
    pub status: ResourceStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The body of `POST` and `PATCH /resources`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResourceInput {
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    kind: Field<ResourceKind>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    url: Field<HttpsUrl>,
    /// BCP 47 tags, e.g. `["en", "fr"]`.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    languages: Field<Vec<LanguageTag>>,
    #[serde(default)]
    themes: Field<Vec<Theme>>,
    #[serde(default)]
    licence: Field<Licence>,
    #[serde(default)]
    ip_terms: Field<IpTerms>,
    /// Partner staff may leave it out: their own institution.
    #[serde(default)]
    owner_institution_id: Field<Uuid>,
    #[serde(default)]
    visibility: Field<Visibility>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = resources)]
pub struct NewResource {
    pub id: Uuid,
    pub title: String,
    pub kind: ResourceKind,
    pub description: Option<String>,
    pub url: String,
    pub languages: Vec<String>,
    pub themes: Vec<String>,
    pub licence: String,
    pub ip_terms: IpTerms,
    pub owner_institution_id: Uuid,
    pub visibility: Visibility,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = resources)]
pub struct ResourceChanges {
    pub title: Option<String>,
    pub kind: Option<ResourceKind>,
    pub description: Option<Option<String>>,
    pub url: Option<String>,
    pub languages: Option<Vec<String>>,
    pub themes: Option<Vec<String>>,
    pub licence: Option<String>,
    pub ip_terms: Option<IpTerms>,
    pub visibility: Option<Visibility>,
}

impl crate::api::collection::Input for ResourceInput {
    type New = NewResource;
    type Changes = ResourceChanges;

    /// Partner staff share for their own institution: another one is
    /// answered as an institution that does not exist.
    fn into_new(self, _: &Principal, scope: Scope) -> AppResult<NewResource> {
        let mut c = Checker::new(&self.unknown);
        let title = c.required("title", self.title);
        let kind = c.required("kind", self.kind);
        let description = c.optional("description", self.description);
        let url = c.required("url", self.url);
        let languages = c.defaulted("languages", self.languages, Vec::new());
        let themes = c.defaulted("themes", self.themes, Vec::new());
        let licence = c.required("licence", self.licence);
        let ip_terms = c.required("ip_terms", self.ip_terms);
        let owner = match scope {
            Scope::Institution(own) => {
                let asked = c.optional("owner_institution_id", self.owner_institution_id);
                c.ensure(
                    asked.is_none_or(|i| i == own),
                    "owner_institution_id",
                    "refers to a record that does not exist",
                );
                Some(own)
            }
            _ => c.required("owner_institution_id", self.owner_institution_id),
        };
        let visibility = c.defaulted("visibility", self.visibility, Visibility::Partners);
        c.finish(|| {
            Some(NewResource {
                id: Uuid::now_v7(),
                title: title?.into_inner(),
                kind: kind?,
                description: description.map(LongText::into_inner),
                url: url?.into_inner(),
                languages: tags(languages),
                themes: Stored::stored(themes),
                licence: licence?.into_inner(),
                ip_terms: ip_terms?,
                owner_institution_id: owner?,
                visibility,
            })
        })
    }

    /// The owner is fixed once shared.
    fn into_changes(self) -> AppResult<ResourceChanges> {
        let mut c = Checker::new(&self.unknown);
        c.ensure(
            matches!(self.owner_institution_id, Field::Absent),
            "owner_institution_id",
            "cannot be changed",
        );
        let changes = ResourceChanges {
            title: c
                .patch("title", self.title)
                .into_option()
                .map(Name::into_inner),
            kind: c.patch("kind", self.kind).into_option(),
            description: c
                .patch_nullable("description", self.description)
                .into_option()
                .map(|d| d.map(LongText::into_inner)),
            url: c
                .patch("url", self.url)
                .into_option()
                .map(HttpsUrl::into_inner),
            languages: c.patch("languages", self.languages).into_option().map(tags),
            themes: c.patch("themes", self.themes).into_option().map(Stored::stored),
            licence: c
                .patch("licence", self.licence)
                .into_option()
                .map(Licence::into_inner),
            ip_terms: c.patch("ip_terms", self.ip_terms).into_option(),
            visibility: c.patch("visibility", self.visibility).into_option(),
        };
        c.finish(|| Some(changes))
    }
}
