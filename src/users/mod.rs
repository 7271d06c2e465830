//! Users: accounts of the secretariat, coordinators, partner staff, trainees
//! and viewers, created by invitation (or `meridian create-admin`).

pub mod invitations;
pub mod routes;

use crate::db::Prepare;
use chrono::{DateTime, Utc};
use diesel::{
    AsChangeset, ExpressionMethods, Insertable, OptionalExtension, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{api::Versioned, auth::Role, error::AppResult, schema::users};

/// A user: a row of `users`, shown by the API without its password hash
/// and token version, which never leave the server.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = users)]
#[schema(as = User)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub institution_id: Option<Uuid>,
    pub trainee_id: Option<Uuid>,
    pub locale: String,
    pub disabled: bool,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub last_login_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    #[schema(ignore)]
    pub password_hash: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub token_version: i32,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A user as the API shows it.
pub type User = UserRow;

impl Versioned for User {
    fn version(&self) -> i32 {
        self.version
    }
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub institution_id: Option<Uuid>,
    pub trainee_id: Option<Uuid>,
    pub password_hash: Option<String>,
}

/// A checked change to a user.
#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub locale: Option<String>,
    pub role: Option<Role>,
    pub institution_id: Option<Option<Uuid>>,
    pub trainee_id: Option<Option<Uuid>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> AppResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::email.eq(email.to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn row(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<UserRow> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .await?)
}

/// Locks a user's row for a change.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<UserRow> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .await?)
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUser) -> AppResult<User> {
    let row = diesel::insert_into(users::table)
        .values(new)
        .returning(UserRow::as_returning())
        .prepared()
        .get_result(conn)
        .await?;
    Ok(User::from(row))
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    changes: &UserChanges,
) -> AppResult<UserRow> {
    Ok(diesel::update(users::table.find(id))
        .set(changes)
        .returning(UserRow::as_returning())
        .prepared()
        .get_result(conn)
        .await?)
}

pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    hash: &str,
) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(hash))
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn touch_login(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(Utc::now()))
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}
