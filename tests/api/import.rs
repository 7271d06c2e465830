//! `POST /trainees/import`: a report per row, dry runs, all or nothing.

use meridian::auth::Role;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{assert_invalid, assert_problem, spawn_app_with_institution, TestApp};

const HEADER: &str = "given_name,family_name,email,nationality,gender,birth_year,field,locale\n";

async fn send(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/v1/trainees/import{query}"),
        Some(token),
    )
    .header("content-type", "text/csv; charset=utf-8")
    .body(body)
    .send()
    .await
    .unwrap()
}

/// Imports `csv` (a dry run or a real one), which must succeed with
/// `status`; the report.
async fn imported(app: &TestApp, token: &str, dry_run: bool, csv: &str, status: u16) -> Value {
    let query = if dry_run { "?dry_run=true" } else { "" };
    let res = send(app, token, query, csv.as_bytes().to_vec()).await;
    assert_eq!(res.status(), status);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_a_real_run_writes_every_row() {
    let (app, _, inst) = spawn_app_with_institution("Universidad de Costa Rica", "CR").await;
    let partner = app.member(Role::Partner, &inst).await;
    let csv = format!(
        "{HEADER}Valeria,Mora,valeria@ucr.ac.cr,CR,female,1999,Computer vision,es\n\
         Diego,Solano,diego@ucr.ac.cr,cr,male,,,\n\
         \"Ana, Maria\",Jimenez,ana@ucr.ac.cr,CR,undisclosed,2001,\"Soil, water\",en\n"
    );
    let report = imported(&app, &partner.token, true, &csv, 200).await;
    assert_eq!(
        (report["rows"].as_u64(), report["created"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(app.count("trainees").await, 0);
    let report = imported(&app, &partner.token, false, &csv, 201).await;
    assert_eq!(report["created"], 3);
    let listed: Value = app
        .get_json("/api/v1/trainees?q=ana&count=true", &partner.token)
        .await;
    assert_eq!(listed["items"][0]["given_name"], "Ana, Maria");
    assert_eq!(listed["items"][0]["institution_id"], inst["id"]);
    // The same file again: every row's email is taken, nothing is written.
    let res = send(&app, &partner.token, "", csv.into_bytes()).await;
    app.assert_invalid_leaving(
        res,
        &["line 2: email", "line 3: email", "line 4: email"],
        "trainees",
        3,
    )
    .await;
}

#[tokio::test]
async fn every_bad_row_is_reported_by_line_and_nothing_is_written() {
    let (app, admin, inst) = spawn_app_with_institution("Makerere University", "UG").await;
    let q = format!("?institution_id={}", inst["id"].as_str().unwrap());
    let csv = format!(
        "{HEADER}Okello,Peter,peter@mak.ac.ug,UG,male,1997,,en\n\
         Nakato,Grace,not-an-email,UG,female,1998,,en\n\
         Mugisha,Ivan,ivan@mak.ac.ug,UG,robot,1890,,xx\n\
         Peter,Again,PETER@mak.ac.ug,UG,male,,,\n"
    );
    let res = send(&app, &admin.token, &q, csv.into_bytes()).await;
    app.assert_invalid_leaving(
        res,
        &[
            "line 3: email",
            "line 4: birth_year",
            "line 4: gender",
            "line 4: locale",
            "line 5: email",
        ],
        "trainees",
        0,
    )
    .await;

    // Structural problems: the header, the encoding, the column count.
    let bad_header = "name,email\nA,a@b.org\n".as_bytes().to_vec();
    let res = send(&app, &admin.token, &q, bad_header).await;
    assert_invalid(res, &["line 1: header"]).await;
    let mut latin1 = format!("{HEADER}Jos").into_bytes();
    latin1.extend_from_slice(&[0xe9, b',']);
    latin1.extend_from_slice(b"Okot,jose@mak.ac.ug,UG,male,,,\n");
    let res = send(&app, &admin.token, &q, latin1).await;
    assert_invalid(res, &["line 2: row"]).await;
    let too_many = format!("{HEADER}A,B,a@mak.ac.ug,UG,male,,,en,extra\n").into_bytes();
    let res = send(&app, &admin.token, &q, too_many).await;
    app.assert_invalid_leaving(res, &["line 2: row"], "trainees", 0)
        .await;

    // Not CSV, or no institution named by an admin.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/trainees/import{q}"),
            Some(&admin.token),
        )
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 415, "unsupported-media-type").await;
    let res = send(&app, &admin.token, "", HEADER.as_bytes().to_vec()).await;
    assert_invalid(res, &["institution_id"]).await;
}

#[tokio::test]
async fn the_report_has_a_row_per_data_row_with_the_same_lines_for_crlf_and_lf() {
    let (app, _, inst) = spawn_app_with_institution("Universidade de São Paulo", "BR").await;
    let partner = app.member(Role::Partner, &inst).await;
    let lf = format!(
        "{HEADER}Joana,Silva,joana@usp.br,BR,female,1998,,pt\n\
         Pedro,Souza,not-an-email,BR,male,,,pt\n\
         Lúcia,Costa,lucia@usp.br,BR,female,,,pt\n"
    );
    let crlf = lf.replace('\n', "\r\n");
    let statuses = |report: &Value| -> Vec<(u64, String)> {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().unwrap(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let mut seen = Vec::new();
    for file in [lf.clone(), crlf] {
        let res = send(&app, &partner.token, "?dry_run=true", file.into_bytes()).await;
        let p = assert_invalid(res, &["line 3: email"]).await;
        let rows = statuses(&p);
        assert_eq!(
            rows,
            [
                (2, "would_create".to_string()),
                (3, "error".to_string()),
                (4, "would_create".to_string())
            ]
        );
        assert_eq!(p["results"][1]["errors"][0]["field"], "email");
        seen.push(rows);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(app.count("trainees").await, 0);
    // Without the bad row: a dry run reports what would be created, a real
    // run what was, row by row.
    let good: String = lf
        .lines()
        .filter(|l| !l.contains("not-an-email"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let report = imported(&app, &partner.token, true, &good, 200).await;
    assert_eq!(
        statuses(&report),
        [
            (2, "would_create".to_string()),
            (3, "would_create".to_string())
        ]
    );
    assert_eq!(
        (report["would_create"].as_u64(), report["errors"].as_u64()),
        (Some(2), Some(0))
    );
    let report = imported(&app, &partner.token, false, &good, 201).await;
    assert_eq!(
        statuses(&report),
        [(2, "created".to_string()), (3, "created".to_string())]
    );
    assert_eq!(app.count("trainees").await, 2);
}
