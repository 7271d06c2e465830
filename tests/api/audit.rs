//! Every write to an institution lands in the audit log.

use serde_json::json;

use crate::helpers::spawn_app_with_institution;

#[tokio::test]
async fn create_update_and_delete_are_recorded_with_changes_and_request_id() {
    let (app, admin, inst) = spawn_app_with_institution("University of Lagos", "NG").await;
    let id = inst["id"].as_str().unwrap();
    let path = format!("/api/v1/institutions/{id}");
    let res = app
        .request(reqwest::Method::PATCH, &path, Some(&admin.token))
        .header("x-request-id", "audit-test-1")
        .json(&json!({"city": "Lagos", "name": "University of Lagos"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.delete(&path, &admin.token).await.status(), 204);
    // Another institution's events stay out of the filtered list.
    app.institution(&admin.token, "Obafemi Awolowo University", "NG")
        .await;

    let query = format!("entity_id={id}");
    let events = app.audit_log(&admin.token, &query).await;
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "institution.delete",
            "institution.update",
            "institution.create"
        ]
    );
    for e in &events {
        assert_eq!(e["actor_id"], admin.id.to_string());
        assert_eq!(e["entity_type"], "institution");
    }
    let update = &events[1];
    assert_eq!(update["request_id"], "audit-test-1");
    assert_eq!(
        update["changes"],
        json!({"city": {"from": null, "to": "Lagos"}})
    );
    assert_eq!(events[2]["changes"]["name"], "University of Lagos");
    assert_eq!(events[0]["changes"]["city"], "Lagos");

    let created = app
        .audit_log(&admin.token, "action=institution.create")
        .await;
    assert_eq!(created.len(), 2);
}
