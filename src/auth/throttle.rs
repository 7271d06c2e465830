//! Throttling kept in PostgreSQL, so that it holds across instances: five
//! failed logins for an address within 15 minutes lock it until the window
//! ends, and `/auth/*` and `/public/*` (each on its own) take at most
//! `auth.ip_limit_per_minute` requests per client IP and minute.

use crate::db::Prepare;
use std::net::IpAddr;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::HeaderMap,
    middleware::Next,
    web,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::{
    config::ProxyRange,
    error::{AppError, AppResult},
    schema::{login_attempts, rate_limits},
    state::AppState,
};

/// Failed logins that lock an address.
pub const MAX_FAILURES: i64 = 5;
/// How long failures count.
pub const WINDOW: Duration = Duration::minutes(15);

/// A password check at an address, counted before the password is
/// checked.
#[derive(Debug)]
pub struct Attempt {
    email: String,
}

/// Counts an attempt at `email`'s password before it is checked: 429 when
/// [`MAX_FAILURES`] attempts already count in the address's window, which
/// starts at its first attempt and lasts [`WINDOW`]. One statement counts
/// and answers, so however many attempts arrive at once, at most
/// [`MAX_FAILURES`] per window get to a password check.
pub async fn attempt(conn: &mut AsyncPgConnection, email: &str) -> AppResult<Attempt> {
    #[derive(diesel::QueryableByName)]
    struct Counted {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        n: i32,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        window_start: DateTime<Utc>,
    }
    let counted: Counted = diesel::sql_query(
        "INSERT INTO login_attempts AS a (email, window_start, n) VALUES ($1, now(), 1) \
         ON CONFLICT (email) DO UPDATE SET \
           window_start = CASE WHEN a.window_start <= now() - $2 THEN now() ELSE a.window_start END, \
           n = CASE WHEN a.window_start <= now() - $2 THEN 1 ELSE a.n + 1 END \
         RETURNING n, window_start",
    )
    .bind::<diesel::sql_types::Text, _>(email)
    .bind::<diesel::sql_types::Interval, _>(
        diesel::data_types::PgInterval::from_microseconds(WINDOW.num_microseconds().unwrap_or(0)),
    )
    .prepared()
    .get_result(conn)
    .await?;
    if i64::from(counted.n) > MAX_FAILURES {
        let left = (counted.window_start + WINDOW - Utc::now())
            .num_seconds()
            .max(1) as u64;
        return Err(AppError::TooManyRequests {
            retry_after_secs: left,
        });
    }
    Ok(Attempt {
        email: email.to_string(),
    })
}

/// The password was right: the attempt, and the failures before it, are
/// forgotten.
pub async fn succeeded(conn: &mut AsyncPgConnection, attempt: Attempt) -> AppResult<()> {
    clear(conn, &attempt.email).await
}

/// Forgets the failures of an address (a right password, a reset).
pub async fn clear(conn: &mut AsyncPgConnection, email: &str) -> AppResult<()> {
    diesel::delete(login_attempts::table.find(email))
        .execute(conn)
        .await?;
    Ok(())
}

/// The client's address: the peer, or, when the peer is a trusted proxy,
/// the right-most address of `X-Forwarded-For` that is not a trusted proxy.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[ProxyRange],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|range| range.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

/// Middleware: the per-IP limits of `/api/v1/auth/*` and `/api/v1/public/*`,
/// counted apart, so that browsing the catalogue never locks anyone out of
/// logging in.
pub async fn limit_by_ip(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let bucket = match req.path() {
        p if p.starts_with("/api/v1/auth/") => "auth",
        p if p.starts_with("/api/v1/public/") => "public",
        _ => return next.call(req).await,
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state missing")))?;
    let ip = client_ip(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        &state.settings.server.trusted_proxies,
    );
    if let Some(ip) = ip {
        let now = Utc::now();
        let window = now
            .duration_trunc(Duration::minutes(1))
            .map_err(|e| AppError::Internal(e.into()))?;
        let mut conn = state.pool.get().await.map_err(AppError::from)?;
        let hits: i32 = diesel::insert_into(rate_limits::table)
            .values((
                rate_limits::key.eq(format!("{bucket}:{ip}")),
                rate_limits::window_start.eq(window),
                rate_limits::hits.eq(1),
            ))
            .on_conflict((rate_limits::key, rate_limits::window_start))
            .do_update()
            .set(rate_limits::hits.eq(rate_limits::hits + 1))
            .returning(rate_limits::hits)
            .prepared()
            .get_result(&mut conn)
            .await
            .map_err(AppError::from)?;
        if hits == 1 {
            diesel::delete(rate_limits::table)
                .filter(rate_limits::window_start.lt(window - Duration::minutes(1)))
                .execute(&mut conn)
                .await
                .map_err(AppError::from)?;
        }
        if hits as u32 > state.settings.auth.ip_limit_per_minute {
            let retry_after_secs =
                (window + Duration::minutes(1) - now).num_seconds().max(1) as u64;
            return Err(AppError::TooManyRequests { retry_after_secs }.into());
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted: ProxyRange = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("6.6.6.6, 41.89.1.2, 10.0.0.1"),
        );
        let client = client_ip(Some(proxy), &headers, &[trusted]);
        assert_eq!(client, Some("41.89.1.2".parse().unwrap()));
        let stranger: IpAddr = "196.200.1.1".parse().unwrap();
        assert_eq!(
            client_ip(Some(stranger), &headers, &[trusted]),
            Some(stranger)
        );
    }

    #[test]
    fn a_range_of_proxies_is_skipped_whole() {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-forwarded-for"),
            HeaderValue::from_static("6.6.6.6, 41.89.1.2, 10.2.0.9, 10.0.0.3"),
        );
        let ranges: Vec<ProxyRange> = ["10.0.0.0/8", "fd00::/8"]
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let peer = Some("10.9.9.9".parse().unwrap());
        assert_eq!(
            client_ip(peer, &headers, &ranges),
            Some("41.89.1.2".parse().unwrap())
        );
        // A peer outside every range is the client, whatever it forwards.
        let outside = Some("11.0.0.1".parse().unwrap());
        assert_eq!(client_ip(outside, &headers, &ranges), outside);
        assert!("10.0.0.0/33".parse::<ProxyRange>().is_err());
        assert!("proxy.local".parse::<ProxyRange>().is_err());
    }
}
