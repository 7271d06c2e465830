//! Lifecycles: each record kind with states declares, in one function,
//! which moves it allows; every move is kept as history and audited.

use crate::db::Prepare;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::{future::try_join, TryFutureExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
        list::Items,
    },
    audit::{self, Actor},
    auth::Principal,
    error::{AppError, AppResult, Conflict},
    schema::transitions,
    types::{JsonText, LongText},
};

/// A state machine over an enum of states.
pub trait Lifecycle:
    Copy + PartialEq + std::str::FromStr + Into<&'static str> + strum::VariantArray + 'static
{
    /// The states this one may move to.
    fn next(self) -> &'static [Self];

    /// 409 `illegal-transition`, naming the allowed moves, unless `self → to`
    /// is a move of the lifecycle.
    fn check(self, to: Self) -> AppResult<()> {
        if self.next().contains(&to) {
            return Ok(());
        }
        let (from, to): (&str, &str) = (self.into(), to.into());
        let allowed: Vec<&str> = self.next().iter().map(|s| (*s).into()).collect();
        let extra = json!({ "from": from, "to": to, "allowed": allowed });
        Err(AppError::Conflict {
            kind: Conflict::IllegalTransition,
            detail: format!("A move from {from} to {to} is not allowed."),
            extra: extra.as_object().cloned(),
        })
    }

    /// Parses a state name, or 422 listing the states there are.
    fn parse_state(field: &str, raw: &str) -> AppResult<Self> {
        raw.parse().map_err(|_| {
            let names: Vec<&str> = Self::VARIANTS.iter().map(|s| (*s).into()).collect();
            AppError::invalid(field, format!("must be one of {}", names.join(", ")))
        })
    }
}

/// One recorded move.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = transitions)]
pub struct Move {
    #[serde(rename = "from")]
    pub from_status: String,
    #[serde(rename = "to")]
    pub to_status: String,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub at: DateTime<Utc>,
    #[serde(rename = "by")]
    pub by_user: Option<Uuid>,
    pub note: Option<String>,
}

/// The body of `POST .../transitions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveInput {
    /// The state to move to.
    #[serde(default)]
    to: Field<String>,
    #[serde(default)]
    note: Field<LongText>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl MoveInput {
    /// The target state and the note.
    pub fn parse<S: Lifecycle>(self) -> AppResult<(S, Option<String>)> {
        let mut c = Checker::new(&self.unknown);
        let to = c.required("to", self.to);
        let note = c.optional("note", self.note).map(LongText::into_inner);
        let to = c.finish(|| to)?;
        Ok((S::parse_state("to", &to)?, note))
    }
}

/// Keeps a move in the history and the audit log, both sent at once; call
/// in its transaction.
pub async fn record(
    conn: &AsyncPgConnection,
    actor: impl Into<Actor>,
    entity_type: &str,
    entity_id: Uuid,
    from: &'static str,
    to: &'static str,
    note: Option<&str>,
) -> AppResult<()> {
    let actor = actor.into();
    let mut history_conn = conn;
    let history = diesel::insert_into(transitions::table)
        .values((
            transitions::id.eq(Uuid::now_v7()),
            transitions::entity_type.eq(entity_type),
            transitions::entity_id.eq(entity_id),
            transitions::from_status.eq(from),
            transitions::to_status.eq(to),
            transitions::by_user.eq(actor.id),
            transitions::note.eq(note),
        ))
        .prepared()
        .execute(&mut history_conn);
    #[derive(Serialize)]
    struct FromTo<'a> {
        from: &'a str,
        to: &'a str,
    }
    #[derive(Serialize)]
    struct Moved<'a> {
        status: FromTo<'a>,
        note: Option<&'a str>,
    }
    let changes = JsonText::of(&Moved {
        status: FromTo { from, to },
        note,
    });
    let audit = audit::record(conn, actor, entity_type, "transition", entity_id, changes);
    try_join(history.map_err(AppError::from), audit).await?;
    Ok(())
}

/// The history of a record, oldest first. Who made each move is shown to
/// programme staff only: partner staff and trainees may not read users.
pub async fn history(
    conn: &mut AsyncPgConnection,
    reader: &Principal,
    entity_type: &str,
    entity_id: Uuid,
) -> AppResult<HttpResponse> {
    let mut moves: Vec<Move> = transitions::table
        .filter(transitions::entity_type.eq(entity_type))
        .filter(transitions::entity_id.eq(entity_id))
        .order((transitions::at, transitions::id))
        .select(Move::as_select())
        .load(conn)
        .await?;
    if !reader.is_staff() {
        moves.iter_mut().for_each(|m| m.by_user = None);
    }
    api::ok(&Items { items: moves })
}
