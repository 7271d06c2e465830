//! The SQL of trainees, always within the caller's scope.

use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{Gender, NewTrainee, Trainee, TraineeChanges};
use crate::webhooks::events;
use crate::{
    auth::policy::{self, Scope},
    deletions::repo::Owners,
    error::{AppError, AppResult, Conflict},
    schema::trainees,
    types::CountryCode,
};

crate::list_filter! {
    /// Filters of `GET /trainees`.
    pub struct Filter on trainees {
        sorts: [family_name: text],
        search: ["given_name", "family_name", "email"],
        columns: { institution_id: Uuid, nationality: CountryCode, gender: Gender },
    }
}

crate::collection!(
    Trainee: Trainee at "/trainees" in trainees,
    kind = "trainee";
    check_new = new_email_free,
    check_changes = change_allowed,
    owners = owners,
    announce = events::writes("trainee"),
);

/// The institution of a trainee; 404 when there is no such trainee.
pub async fn institution_of(conn: &mut AsyncPgConnection, trainee_id: Uuid) -> AppResult<Uuid> {
    let query = trainees::table.find(trainee_id);
    Ok(query.select(trainees::institution_id).first(conn).await?)
}

/// 409 naming the holder of an email when the caller may see it.
async fn email_free(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    email: &str,
    except: Option<Uuid>,
) -> AppResult<()> {
    let holder: Option<(Uuid, Uuid)> = trainees::table
        .filter(trainees::email.eq(email))
        .select((trainees::id, trainees::institution_id))
        .first(conn)
        .await
        .optional()?;
    match holder {
        Some((id, _)) if Some(id) == except => Ok(()),
        Some((id, institution)) => {
            let extra = scope
                .sees(institution, id)
                .then(|| json!({ "existing_id": id }).as_object().cloned())
                .flatten();
            Err(AppError::Conflict {
                kind: Conflict::Duplicate,
                detail: "A trainee with this email already exists.".into(),
                extra,
            })
        }
        None => Ok(()),
    }
}

/// A new trainee's email is free.
async fn new_email_free(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    new: &NewTrainee,
) -> AppResult<()> {
    email_free(conn, scope, &new.email, None).await
}

/// A change is the caller's to make (a trainee changes only its contact
/// details, partner staff keep a trainee in their institution: 403), and a
/// new email is free.
async fn change_allowed(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    before: &Trainee,
    changes: &TraineeChanges,
) -> AppResult<()> {
    let only_contact = changes.only_contact_details();
    if !policy::may_change_trainee(scope, only_contact, changes.institution_id) {
        return Err(AppError::Forbidden);
    }
    match &changes.email {
        Some(email) => email_free(conn, scope, email, Some(before.id)).await,
        None => Ok(()),
    }
}

/// A trainee belongs to its institution, and to itself.
async fn owners(_: &mut AsyncPgConnection, t: &Trainee) -> AppResult<Owners> {
    Ok(Owners {
        institutions: vec![t.institution_id],
        trainees: vec![t.id],
    })
}

crate::subject!(Trainee, Trainee);
