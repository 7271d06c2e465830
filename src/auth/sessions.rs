//! Refresh tokens: rotated on every use, dead 24 hours after issue and 7
//! days after the login; a rotated-out token presented again revokes its
//! whole family (the login it came from).

use crate::db::Prepare;
use chrono::{DateTime, Duration, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods, OptionalExtension,
    QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::secret;
use crate::{error::AppResult, schema::refresh_tokens, schema::users};

/// How long a refresh token lives unused.
pub const IDLE: Duration = Duration::hours(24);
/// How long a login lives, however often it is refreshed.
pub const ABSOLUTE: Duration = Duration::days(7);

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct Stored {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
    family_expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// What presenting a refresh token led to.
pub enum Refreshed {
    /// A new token of the same family (login), for this user.
    Rotated {
        user_id: Uuid,
        family_id: Uuid,
        token: String,
    },
    /// A rotated-out token came back: the family is now revoked.
    Reused { user_id: Uuid, family_id: Uuid },
    /// Unknown, expired or revoked.
    Invalid,
}

async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    family_id: Uuid,
    family_expires_at: DateTime<Utc>,
) -> AppResult<String> {
    let (token, hash) = secret::generate();
    let expires_at = (Utc::now() + IDLE).min(family_expires_at);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::token_hash.eq(hash),
            refresh_tokens::expires_at.eq(expires_at),
            refresh_tokens::family_expires_at.eq(family_expires_at),
        ))
        .prepared()
        .execute(conn)
        .await?;
    Ok(token)
}

/// Starts a login: a new family and its first token, and the family's id
/// (the login's, which its access tokens carry).
pub async fn start(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<(String, Uuid)> {
    let family_id = Uuid::now_v7();
    let token = insert(conn, user_id, family_id, Utc::now() + ABSOLUTE).await?;
    Ok((token, family_id))
}

/// Rotates a presented token. The row lock makes two concurrent refreshes
/// with one token queue up: the second sees it rotated and counts as reuse.
pub async fn refresh(conn: &mut AsyncPgConnection, token: &str) -> AppResult<Refreshed> {
    let hash = secret::digest(token);
    conn.transaction(async |conn| {
        let stored: Option<Stored> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(Stored::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(stored) = stored else {
            return Ok(Refreshed::Invalid);
        };
        let now = Utc::now();
        if stored.rotated_at.is_some() && stored.revoked_at.is_none() {
            revoke_family(conn, stored.family_id).await?;
            return Ok(Refreshed::Reused {
                user_id: stored.user_id,
                family_id: stored.family_id,
            });
        }
        let enabled: bool = users::table
            .find(stored.user_id)
            .select(diesel::dsl::not(users::disabled))
            .first(conn)
            .await?;
        if stored.revoked_at.is_some()
            || stored.expires_at <= now
            || stored.family_expires_at <= now
            || !enabled
        {
            return Ok(Refreshed::Invalid);
        }
        diesel::update(refresh_tokens::table.find(stored.id))
            .set(refresh_tokens::rotated_at.eq(now))
            .prepared()
            .execute(conn)
            .await?;
        let token = insert(
            conn,
            stored.user_id,
            stored.family_id,
            stored.family_expires_at,
        )
        .await?;
        Ok(Refreshed::Rotated {
            user_id: stored.user_id,
            family_id: stored.family_id,
            token,
        })
    })
    .await
}

/// Revokes the live tokens of one login (`family`), or of every login of a
/// user.
async fn revoke(
    conn: &mut AsyncPgConnection,
    family: Option<Uuid>,
    user: Option<Uuid>,
) -> AppResult<()> {
    let (by_family, by_user) = (
        refresh_tokens::family_id.nullable().eq(family),
        refresh_tokens::user_id.nullable().eq(user),
    );
    diesel::update(refresh_tokens::table.filter(by_family.or(by_user)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(Utc::now()))
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every token of one login.
pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> AppResult<()> {
    revoke(conn, Some(family_id), None).await
}

/// Logs out the login a token belongs to; unknown tokens are ignored.
pub async fn logout(conn: &mut AsyncPgConnection, token: &str) -> AppResult<Option<Uuid>> {
    let found: Option<(Uuid, Uuid)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(secret::digest(token)))
        .select((refresh_tokens::family_id, refresh_tokens::user_id))
        .first(conn)
        .await
        .optional()?;
    if let Some((family, _)) = found {
        revoke_family(conn, family).await?;
    }
    Ok(found.map(|(_, user)| user))
}

/// Ends every session of a user at once: refresh tokens are revoked and the
/// token version raised, so access tokens stop working on their next use.
pub async fn end_all(conn: &mut AsyncPgConnection, user_id: Uuid) -> AppResult<()> {
    revoke(conn, None, Some(user_id)).await?;
    diesel::update(users::table.find(user_id))
        .set(users::token_version.eq(users::token_version + 1))
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}
