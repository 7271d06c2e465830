//! The outbox and its workers, delivering to a real SMTP server over TCP.

use std::collections::HashSet;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use meridian::{
    auth::Role,
    email::{outbox, queue, Outgoing},
    error::{AppError, Conflict},
    schema::notifications,
    types::Email,
};
use serde_json::{json, Value};

use crate::{
    helpers::{
        assert_problem, eventually, fresh_database, id, items, mail_settings, path_of, spawn_app,
        spawn_app_on, spawn_app_with, test_settings, TestApp,
    },
    smtp::{Mode, SmtpServer},
};

fn invitation(to: &str, locale: &str, key: &str) -> Outgoing {
    Outgoing {
        template: "invitation",
        recipient: Email::parse(to).unwrap(),
        locale: locale.into(),
        payload: json!({
            "inviter": "Amina Diallo", "role": "partner",
            "token": "tok-123", "expires_in_days": 7,
        }),
        dedupe_key: key.into(),
    }
}

async fn enqueue(app: &TestApp, emails: &[Outgoing]) {
    let mut conn = app.conn().await;
    conn.transaction(async |conn| {
        for e in emails {
            queue(conn, e).await?;
        }
        Ok::<_, AppError>(())
    })
    .await
    .unwrap();
}

async fn status_of(conn: &mut AsyncPgConnection, key: &str) -> (String, i32, Option<String>) {
    notifications::table
        .filter(notifications::dedupe_key.eq(key))
        .select((
            notifications::status,
            notifications::attempts,
            notifications::last_error,
        ))
        .first(conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_queued_email_arrives_with_subject_parts_and_locale() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    enqueue(
        &app,
        &[
            invitation("kwame@ug.edu.gh", "fr", "inv-fr"),
            invitation("layla@cu.edu.eg", "ar", "inv-ar"),
        ],
    )
    .await;
    let got = smtp.wait_for(2, 10).await;
    assert_eq!(got.len(), 2);
    let french = got.iter().find(|m| m.to[0].contains("kwame")).unwrap();
    let msg = french.parsed();
    assert_eq!(
        msg.subject(),
        Some("Amina Diallo vous invite à rejoindre Meridian")
    );
    let text = msg.body_text(0).unwrap();
    assert!(
        text.contains("https://meridian.test/invitations/accept?token=tok-123"),
        "{text}"
    );
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("lang=\"fr\"") && html.contains("dir=\"ltr\""));
    let arabic = got.iter().find(|m| m.to[0].contains("layla")).unwrap();
    let html = arabic.parsed().body_html(0).unwrap().to_string();
    assert!(html.contains("lang=\"ar\"") && html.contains("dir=\"rtl\""));

    let mut conn = app.conn().await;
    let id: uuid::Uuid = notifications::table
        .filter(notifications::dedupe_key.eq("inv-fr"))
        .select(notifications::id)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        msg.message_id(),
        Some(format!("{id}@meridian.test").as_str())
    );
    assert!(
        eventually(5, || async {
            status_of(&mut app.conn().await, "inv-fr").await.0 == "sent"
        })
        .await
    );
}

/// A new email wakes an idle worker at once: with a poll of a minute, each
/// of two emails queued one after the other arrives in seconds (the insert
/// NOTIFYs when no other email is due).
#[tokio::test]
async fn a_new_email_wakes_an_idle_worker() {
    let smtp = SmtpServer::start().await;
    let mut settings = mail_settings(&smtp.url());
    settings.worker.poll_interval_ms = 60_000;
    let app = spawn_app_with(settings).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    enqueue(&app, &[invitation("kwame@ug.edu.gh", "en", "wake-1")]).await;
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
    enqueue(&app, &[invitation("layla@cu.edu.eg", "en", "wake-2")]).await;
    assert_eq!(smtp.wait_for(2, 10).await.len(), 2);
}

#[tokio::test]
async fn one_dedupe_key_is_one_email() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let e = invitation("kwame@ug.edu.gh", "en", "same-key");
    enqueue(&app, &[e.clone(), e.clone()]).await;
    enqueue(&app, &[e]).await;
    smtp.wait_for(1, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(app.count("notifications").await, 1);
}

#[tokio::test]
async fn a_rolled_back_transaction_queues_nothing() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    let result = conn
        .transaction(async |conn| {
            queue(conn, &invitation("kwame@ug.edu.gh", "en", "rolled-back")).await?;
            Err::<(), _>(AppError::conflict(
                Conflict::CohortFull,
                "the change failed after queueing",
            ))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(app.count("notifications").await, 0);
}

#[tokio::test]
async fn with_the_server_down_the_email_waits_then_arrives_once() {
    let port = SmtpServer::free_port().await;
    let app = spawn_app_with(mail_settings(&format!("smtp://127.0.0.1:{port}"))).await;
    enqueue(&app, &[invitation("kwame@ug.edu.gh", "en", "down")]).await;
    assert!(
        eventually(10, || async {
            let (status, attempts, error) = status_of(&mut app.conn().await, "down").await;
            status == "pending" && attempts >= 2 && error.is_some()
        })
        .await,
        "attempts and last error grow while the server is down"
    );
    let smtp = SmtpServer::start_on(port).await;
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
    assert!(
        eventually(5, || async {
            status_of(&mut app.conn().await, "down").await.0 == "sent"
        })
        .await
    );
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(smtp.messages().len(), 1);
}

/// Whether the email of `key` comes, within 10 s, to a state where `check`
/// holds of its status, attempts and last error.
async fn settles(app: &TestApp, key: &str, check: impl Fn(&str, i32, &str) -> bool) -> bool {
    eventually(10, || async {
        let (status, attempts, error) = status_of(&mut app.conn().await, key).await;
        check(&status, attempts, &error.unwrap_or_default())
    })
    .await
}

/// An SMTP server answering in `mode`, and an app with one invitation
/// queued for it under `key`.
async fn one_invitation_to(mode: Mode, key: &str) -> (SmtpServer, TestApp) {
    let smtp = SmtpServer::start().await;
    smtp.set_mode(mode);
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    enqueue(&app, &[invitation("kwame@ug.edu.gh", "en", key)]).await;
    (smtp, app)
}

#[tokio::test]
async fn a_deferring_server_is_retried_with_back_off() {
    let (smtp, app) = one_invitation_to(Mode::Defer, "deferred").await;
    let retried = |status: &str, attempts: i32, error: &str| {
        status == "pending" && attempts >= 2 && error.contains("451")
    };
    assert!(settles(&app, "deferred", retried).await);
    smtp.set_mode(Mode::Accept);
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
}

#[tokio::test]
async fn a_permanent_rejection_fails_the_email_until_an_admin_retries_it() {
    let (smtp, app) = one_invitation_to(Mode::Reject, "rejected").await;
    let failed = |status: &str, attempts: i32, error: &str| {
        status == "failed" && attempts == 1 && error.contains("550")
    };
    assert!(settles(&app, "rejected", failed).await);

    let admin = app.admin().await;
    let failed: Value = app
        .get_json("/api/v1/notifications?status=failed", &admin.token)
        .await;
    assert_eq!(items(&failed).len(), 1);
    let failed = &failed["items"][0];
    assert_eq!(failed["payload"]["token"], "[hidden]");
    assert_eq!(failed["payload"]["inviter"], "Amina Diallo");
    let retry = format!("{}/retry", path_of("notifications", failed));

    smtp.set_mode(Mode::Accept);
    let res = app.post(&retry, &admin.token, &json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(smtp.wait_for(1, 10).await.len(), 1);
    assert!(
        eventually(5, || async {
            status_of(&mut app.conn().await, "rejected").await.0 == "sent"
        })
        .await
    );
    // Only failed emails can be retried.
    let res = app.post(&retry, &admin.token, &json!({})).await;
    assert_problem(res, 409, "not-failed").await;
    let retries = app
        .audit_log(&admin.token, "action=notification.retry")
        .await;
    assert_eq!(retries.len(), 1);
}

#[tokio::test]
async fn two_instances_racing_send_each_of_100_emails_exactly_once() {
    let smtp = SmtpServer::start().await;
    let db = fresh_database().await;
    let a = spawn_app_on(mail_settings(&smtp.url()), db.clone()).await;
    let _b = spawn_app_on(mail_settings(&smtp.url()), db).await;
    let emails: Vec<Outgoing> = (0..100)
        .map(|i| {
            invitation(
                &format!("trainee{i}@example.org"),
                "en",
                &format!("race-{i}"),
            )
        })
        .collect();
    enqueue(&a, &emails).await;
    assert_eq!(smtp.wait_for(100, 30).await.len(), 100);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let got = smtp.messages();
    assert_eq!(got.len(), 100);
    let recipients: HashSet<String> = got.iter().map(|m| m.to[0].clone()).collect();
    assert_eq!(recipients.len(), 100);
    let ids: HashSet<String> = got
        .iter()
        .map(|m| m.parsed().message_id().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 100);
}

#[tokio::test]
async fn a_worker_that_dies_after_claiming_loses_nothing() {
    let smtp = SmtpServer::start().await;
    let db = fresh_database().await;
    // An instance without a worker queues; a "worker" claims and dies.
    let quiet = spawn_app_on(test_settings(), db.clone()).await;
    enqueue(
        &quiet,
        &[
            invitation("a@example.org", "en", "dead-1"),
            invitation("b@example.org", "en", "dead-2"),
        ],
    )
    .await;
    let mut conn = quiet.conn().await;
    let claimed = outbox::claim(&mut conn, 10, chrono::Duration::seconds(4))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    drop(conn);

    let _live = spawn_app_on(mail_settings(&smtp.url()), db).await;
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert!(smtp.messages().is_empty(), "the lease holds the rows");
    assert_eq!(smtp.wait_for(2, 10).await.len(), 2);
    // Marked sent right after the server accepted it: the second attempt.
    assert!(
        eventually(5, || async {
            let (status, attempts, _) = status_of(&mut quiet.conn().await, "dead-1").await;
            (status.as_str(), attempts) == ("sent", 2)
        })
        .await
    );
}

#[tokio::test]
async fn header_injection_through_the_payload_is_refused() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let mut evil = invitation("kwame@ug.edu.gh", "en", "evil");
    evil.payload["inviter"] = json!("Eve\r\nBcc: everyone@example.org");
    enqueue(&app, &[evil]).await;
    assert!(
        eventually(10, || async {
            let (status, _, error) = status_of(&mut app.conn().await, "evil").await;
            status == "failed" && error.unwrap_or_default().contains("line breaks")
        })
        .await
    );
    assert!(smtp.messages().is_empty());
    assert!(Email::parse("kwame@ug.edu.gh\r\nBcc: everyone@example.org").is_err());
}

#[tokio::test]
async fn the_file_transport_writes_one_message_per_email() {
    let dir = std::env::temp_dir().join(format!("meridian-mail-{}", uuid::Uuid::now_v7()));
    let mut settings = mail_settings("smtp://unused");
    settings.email.transport = meridian::config::EmailTransport::File;
    settings.email.file_dir = dir.clone();
    let app = spawn_app_with(settings).await;
    enqueue(&app, &[invitation("kwame@ug.edu.gh", "en", "file-1")]).await;
    assert!(
        eventually(10, || async {
            std::fs::read_dir(&dir)
                .map(|d| d.count() == 1)
                .unwrap_or(false)
        })
        .await
    );
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let raw = std::fs::read(file).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some("Amina Diallo invites you to Meridian"));
}

#[tokio::test]
async fn only_admins_read_the_outbox() {
    let app = spawn_app().await;
    enqueue(&app, &[invitation("kwame@ug.edu.gh", "en", "private")]).await;
    let admin = app.admin().await;
    let page: Value = app
        .get_json("/api/v1/notifications?template=invitation", &admin.token)
        .await;
    let notification = path_of("notifications", &page["items"][0]);
    let one = app.get(&notification, &admin.token).await;
    assert_eq!(one.status(), 200);
    for role in [
        Role::Coordinator,
        Role::Partner,
        Role::Trainee,
        Role::Viewer,
    ] {
        let inst = if role == Role::Partner {
            let i = app
                .institution(&admin.token, &format!("Inst {role:?}"), "KE")
                .await;
            Some(id(&i))
        } else {
            None
        };
        let user = app.user(role, inst).await;
        for path in ["/api/v1/notifications".to_string(), notification.clone()] {
            assert_problem(app.get(&path, &user.token).await, 403, "forbidden").await;
        }
        let res = app
            .post(&format!("{notification}/retry"), &user.token, &json!({}))
            .await;
        assert_problem(res, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn sent_emails_are_removed_after_their_retention_and_others_stay() {
    let app = spawn_app().await;
    enqueue(
        &app,
        &[
            invitation("old@example.org", "en", "old"),
            invitation("recent@example.org", "en", "recent"),
            invitation("pending@example.org", "en", "pending"),
        ],
    )
    .await;
    app.run_sql(
        "UPDATE notifications SET status = 'sent', sent_at = now() - interval '31 days' \
         WHERE dedupe_key = 'old'; \
         UPDATE notifications SET status = 'sent', sent_at = now() - interval '29 days' \
         WHERE dedupe_key = 'recent'; \
         UPDATE notifications SET created_at = now() - interval '40 days' \
         WHERE dedupe_key = 'pending'",
    )
    .await;
    let removed = outbox::purge_sent(&mut app.conn().await, 30).await.unwrap();
    assert_eq!(removed, 1);
    let mut left: Vec<String> = notifications::table
        .select(notifications::dedupe_key)
        .load(&mut app.conn().await)
        .await
        .unwrap();
    left.sort();
    assert_eq!(left, ["pending", "recent"]);
}
