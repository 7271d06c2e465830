//! The SQL and rules of ventures. Admissions lock the incubator row, so its
//! capacity holds under concurrent admissions.

use crate::db::Prepare;
use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use diesel::{ExpressionMethods, QueryDsl, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{NewVenture, Venture, VentureChanges, VentureStatus};
use crate::webhooks::events;
use crate::{
    auth::policy::Scope,
    deletions::repo::Owners,
    email,
    error::{AppError, AppResult, Conflict},
    incubators::{model::Incubator, repo as incubators},
    programmes::model::Theme,
    schema::{trainees, ventures},
    store::{Moving, Record, Step},
    types::CountryCode,
};

crate::list_filter! {
    /// Filters of `GET /ventures`.
    pub struct Filter on ventures {
        sorts: [name: text],
        search: ["name"],
        columns: { incubator_id: Uuid, status: VentureStatus, theme: Theme, country_code: CountryCode },
    }
}

/// The founders a reader in `scope` may see: partner staff their
/// institution's trainees, a trainee itself.
async fn founders_in_scope(
    conn: &mut AsyncPgConnection,
    scope: Scope,
) -> AppResult<Option<HashSet<Uuid>>> {
    #[derive(QueryableByName)]
    struct Founder {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let institution = match scope {
        Scope::All => return Ok(None),
        Scope::Trainee(t) => return Ok(Some(HashSet::from([t]))),
        Scope::Author(_) | Scope::Published(_) | Scope::Nobody => return Ok(Some(HashSet::new())),
        Scope::Institution(i) => i,
    };
    let founders: Vec<Founder> = diesel::sql_query(
        "SELECT t.id FROM trainees t WHERE t.institution_id = $1 \
         AND t.id IN (SELECT unnest(founder_trainee_ids) FROM ventures)",
    )
    .bind::<diesel::sql_types::Uuid, _>(institution)
    .prepared()
    .load(conn)
    .await?;
    Ok(Some(founders.into_iter().map(|f| f.id).collect()))
}

/// A venture without the founders its reader may not see.
fn keep_founders(mut venture: Venture, people: &HashSet<Uuid>) -> Venture {
    venture.founder_trainee_ids.retain(|f| people.contains(f));
    venture
}

crate::collection!(
    Venture: Venture at "/ventures" in ventures,
    kind = "venture", people = founders_in_scope, trim = keep_founders;
    check_new = founders_exist,
    check_changes = new_founders_exist,
    owners = owners,
    announce = events::moves("venture"),
);

async fn check_founders(conn: &mut AsyncPgConnection, founders: &[Uuid]) -> AppResult<()> {
    let found: i64 = trainees::table
        .filter(trainees::id.eq_any(founders))
        .count()
        .get_result(conn)
        .await?;
    if found != founders.len() as i64 {
        return Err(AppError::invalid(
            "founder_trainee_ids",
            "names a trainee that does not exist",
        ));
    }
    Ok(())
}

/// 422 unless every founder of a new venture exists.
async fn founders_exist(conn: &mut AsyncPgConnection, _: Scope, new: &NewVenture) -> AppResult<()> {
    check_founders(conn, &new.founder_trainee_ids).await
}

/// 422 unless every founder named by a change exists.
async fn new_founders_exist(
    conn: &mut AsyncPgConnection,
    _: Scope,
    _: &Venture,
    changes: &VentureChanges,
) -> AppResult<()> {
    match &changes.founder_trainee_ids {
        Some(founders) => check_founders(conn, founders).await,
        None => Ok(()),
    }
}

/// A venture belongs to its founders and their institutions.
async fn owners(conn: &mut AsyncPgConnection, v: &Venture) -> AppResult<Owners> {
    let institutions: Vec<Uuid> = trainees::table
        .filter(trainees::id.eq_any(&v.founder_trainee_ids))
        .select(trainees::institution_id)
        .distinct()
        .load(conn)
        .await?;
    Ok(Owners {
        institutions,
        trainees: v.founder_trainee_ids.clone(),
    })
}

crate::subject!(Venture, Venture);

/// Admitting checks the incubator's capacity (admitted plus incubating)
/// under its row lock; admissions and graduations email the founders.
impl Moving for Venture {
    type State = VentureStatus;
    type Held = Incubator;

    fn state(&self) -> VentureStatus {
        self.status
    }

    async fn lock_for_move(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> AppResult<(Self, Incubator)> {
        let incubator_id: Uuid = ventures::table
            .find(id)
            .select(ventures::incubator_id)
            .first(conn)
            .await?;
        let incubator = incubators::lock(conn, incubator_id).await?;
        Ok((<Self as Record>::lock(conn, scope, id).await?, incubator))
    }

    async fn check_move(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<()> {
        let (incubator, to) = (step.held, step.to);
        if to != VentureStatus::Admitted {
            return Ok(());
        }
        let holding: i64 = ventures::table
            .filter(ventures::incubator_id.eq(incubator.id))
            .filter(ventures::status.eq_any(VentureStatus::HOLDING))
            .count()
            .get_result(conn)
            .await?;
        if holding >= i64::from(incubator.capacity) {
            return Err(AppError::conflict(
                Conflict::IncubatorFull,
                "The incubator holds as many ventures as it can.",
            ));
        }
        Ok(())
    }

    async fn set_state(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<Self> {
        let (before, to) = (step.before, step.to);
        let today = Utc::now().date_naive();
        let on = |state: VentureStatus, kept: Option<NaiveDate>| {
            if to == state {
                Some(today)
            } else {
                kept
            }
        };
        crate::write_state!(
            conn,
            ventures,
            Venture,
            before.id,
            ventures::status.eq(to),
            ventures::admitted_on.eq(on(VentureStatus::Admitted, before.admitted_on)),
            ventures::graduated_on.eq(on(VentureStatus::Graduated, before.graduated_on)),
        )
    }

    async fn after_move(
        conn: &mut AsyncPgConnection,
        step: &Step<'_, Self>,
        moved: &Self,
    ) -> AppResult<()> {
        let incubator = step.held;
        let template = match moved.status {
            VentureStatus::Admitted => "venture_admitted",
            VentureStatus::Graduated => "venture_graduated",
            _ => return Ok(()),
        };
        let founders: Vec<(Uuid, String, String, String)> = trainees::table
            .filter(trainees::id.eq_any(&moved.founder_trainee_ids))
            .select((
                trainees::id,
                trainees::email,
                trainees::given_name,
                trainees::locale,
            ))
            .load(conn)
            .await?;
        for (trainee_id, address, given_name, locale) in founders {
            let payload = json!({
                "given_name": given_name, "venture_name": moved.name, "incubator_name": incubator.name,
            });
            let key = format!("{template}:{}:{trainee_id}", moved.id);
            email::queue_to(conn, template, &address, locale, payload, key).await?;
        }
        Ok(())
    }
}
