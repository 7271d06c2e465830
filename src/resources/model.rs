//! Knowledge resources: the record, its lifecycle and its input rules.

use uuid::Uuid;

use crate::{
    api::input::Field,
    auth::{policy::Scope, Principal},
    error::AppResult,
    lifecycle::Lifecycle,
    programmes::model::Theme,
    types::{HttpsUrl, LanguageTag, Licence, LongText, Name},
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

crate::record! {
    /// A course, curriculum, dataset, model, toolkit or paper an institution
    /// shares.
    pub struct KnowledgeResource in resources;
    /// The body of `POST` and `PATCH /resources`.
    pub struct ResourceInput => NewResource, ResourceChanges;
    fixed {
        /// Partner staff may leave it out: their own institution. Fixed once
        /// shared.
        owner_institution_id: Uuid => Uuid,
    }
    fields {
        title: String => Name [required],
        kind: ResourceKind => ResourceKind [required],
        description: Option<String> => LongText [optional],
        url: String => HttpsUrl [required],
        /// BCP 47 tags, e.g. `["en", "fr"]`.
        #[schema(value_type = Vec<String>)]
        languages: Vec<String> => Vec<LanguageTag> [default(Vec::new())],
        themes: Vec<String> => Vec<Theme> [default(Vec::new())],
        /// An SPDX licence expression.
        licence: String => Licence [required],
        ip_terms: IpTerms => IpTerms [required],
        visibility: Visibility => Visibility [default(Visibility::Partners)],
    }
    kept {
        status: ResourceStatus,
    }
}

impl crate::api::collection::Input for ResourceInput {
    type New = NewResource;
    type Changes = ResourceChanges;

    /// Partner staff share for their own institution: another one is
    /// answered as an institution that does not exist.
    fn into_new(mut self, _: &Principal, scope: Scope) -> AppResult<NewResource> {
        if let Scope::Institution(own) = scope {
            self.owner_institution_id = match self.owner_institution_id {
                Field::Value(asked) if asked != own => {
                    Field::Invalid("refers to a record that does not exist".into())
                }
                Field::Invalid(why) => Field::Invalid(why),
                _ => Field::Value(own),
            };
        }
        self.read_new()
    }

    fn into_changes(self) -> AppResult<ResourceChanges> {
        self.read_changes()
    }
}
