//! `hero sent list` with each filter of the v2 endpoint, on a seeded mock: every filter narrows the
//! list to rows that match it (and no filter returns an empty list by accident); repeatable
//! filters take comma lists and time filters a time ago; an export without patient data holds
//! none, in every format.

mod support;

use std::process::Output;

use herohealth_mock::MockServer;
use serde_json::Value;
use support::{code, json, stderr, stdout};

const KEY: &str = "hero-mock-test-key-filters";
const PRACTICE: &str = "practice-cli-filters";

/// A mock with 60 sent messages seeded, its clock 200 times faster than real time.
async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(60)
        .time_scale(200.0)
        .start()
        .await
        .unwrap()
}

/// Runs `hero` configured for `mock` (through the environment, as a user would).
async fn hero(mock: &MockServer, args: &[&str]) -> Output {
    support::hero_at(mock.base_url(), KEY, PRACTICE, args).await
}

async fn list(mock: &MockServer, filter: &[&str]) -> Vec<Value> {
    let mut args = vec!["--format", "json", "sent", "list", "--all"];
    args.extend_from_slice(filter);
    let out = support::hero_at(mock.base_url(), KEY, PRACTICE, &args).await;
    assert!(
        out.status.success(),
        "{filter:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_narrows_the_list_to_matching_rows() {
    let mock = MockServer::builder()
        .api_key(KEY, PRACTICE)
        .seed_sent_messages(120)
        .start()
        .await
        .unwrap();
    let all = list(&mock, &[]).await;
    assert_eq!(all.len(), 120);
    // hero prints no patient data: the names and contact details to filter by, and to check the
    // rows against (by their message id), come from the library.
    use futures::TryStreamExt as _;
    use herohealth::Paginate as _;
    let hero = herohealth::HeroClient::builder()
        .base_url(mock.base_url())
        .api_key(KEY)
        .practice_group_id(PRACTICE)
        .build()
        .unwrap();
    let raw: std::collections::HashMap<String, herohealth::types::SentMessage> = hero
        .list_sent_messages()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.id.clone().unwrap_or_default(), m))
        .collect();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let of = |r: &Value| &raw[&text(&r["id"])];
    let first = of(&all[0]);
    let (first_name, last_name) = (
        first.patient.first_name.expose().to_owned(),
        first.patient.last_name.expose().to_owned(),
    );
    let full_name = format!("{first_name} {last_name}");
    let patient_id = text(&all[0]["patient"]["id"]);
    let to = first.recipient_contact_detail.expose().to_owned();
    assert_eq!(all[0]["patient"]["first_name"], herohealth::REDACTED);

    type Check<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(Vec<&str>, Check)> = vec![
        (
            vec!["--first-name", &first_name],
            Box::new(|r| {
                of(r)
                    .patient
                    .first_name
                    .expose()
                    .eq_ignore_ascii_case(&first_name)
            }),
        ),
        (
            vec!["--last-name", &last_name],
            Box::new(|r| {
                of(r)
                    .patient
                    .last_name
                    .expose()
                    .eq_ignore_ascii_case(&last_name)
            }),
        ),
        (
            vec!["--full-name", &full_name],
            Box::new(|r| {
                format!(
                    "{} {}",
                    of(r).patient.first_name.expose(),
                    of(r).patient.last_name.expose()
                )
                .eq_ignore_ascii_case(&full_name)
            }),
        ),
        (
            vec!["--patient-id", &patient_id],
            Box::new(|r| text(&r["patient"]["id"]) == patient_id),
        ),
        (
            vec!["--to", &to],
            Box::new(|r| of(r).recipient_contact_detail.expose() == to),
        ),
        (
            vec!["--status", "declined"],
            Box::new(|r| r["status"] == "declined"),
        ),
        (
            vec!["--type", "email"],
            Box::new(|r| r["message_type"] == "email"),
        ),
        (
            vec!["--write-to-record", "failed"],
            Box::new(|r| r["write_to_record"]["status"] == "failed"),
        ),
        (
            vec!["--campaign-id", "1"],
            Box::new(|r| r["campaign"]["id"] == "1"),
        ),
        (
            vec!["--short-link-id", "17"],
            Box::new(|r| r["short_link"]["id"] == "17"),
        ),
        (
            vec!["--short-link-type", "booking"],
            Box::new(|r| {
                of(r).short_link.as_ref().and_then(|l| l.type_.as_deref()) == Some("booking")
            }),
        ),
        (
            vec!["--sent-by", "Seed"],
            Box::new(|r| of(r).sent_by == "Seed"),
        ),
        (
            vec!["--scheduled", "false"],
            Box::new(|r| r["scheduled_at"].is_null()),
        ),
        (
            vec![
                "--sent-from",
                "2024-01-01T08:10:00Z",
                "--sent-to",
                "2024-01-01T08:20:00Z",
            ],
            Box::new(|r| {
                let t = r["sent_at"].as_str().unwrap_or_default();
                ("2024-01-01T08:10:00Z".."2024-01-01T08:20:01Z").contains(&t)
            }),
        ),
    ];
    for (filter, matches) in &cases {
        let rows = list(&mock, filter).await;
        assert!(!rows.is_empty(), "{filter:?} found nothing");
        assert!(
            rows.len() < all.len() || filter[0] == "--sent-by" || filter[0] == "--scheduled",
            "{filter:?} did not narrow"
        );
        for r in &rows {
            assert!(matches(r), "{filter:?} let through {r}");
        }
    }
    // Order: newest first by creation.
    let ordered = list(&mock, &["--order-by", "created_at", "--descending"]).await;
    let created: Vec<_> = ordered.iter().map(|r| text(&r["created_at"])).collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_configuration_is_a_usage_error() {
    let out = support::hero_offline(&["sent", "list"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HERO_API_KEY"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_take_comma_lists_and_a_time_ago() {
    let mock = mock().await;
    let ids = |out: &Output| -> Vec<String> {
        json(out)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let base = ["--format", "json", "sent", "list", "--all"];
    let with = |extra: &[&'static str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    };
    let repeated = ids(&hero(&mock, &with(&["--status", "fatal", "--status", "declined"])).await);
    let listed = ids(&hero(&mock, &with(&["--status", "fatal,DECLINED"])).await);
    assert!(!repeated.is_empty());
    assert_eq!(listed, repeated);
    let types = ids(&hero(&mock, &with(&["--type", "sms,email"])).await);
    let sms = ids(&hero(&mock, &with(&["--type", "sms"])).await);
    assert!(types.len() > sms.len() && !sms.is_empty());

    // The seeded messages are from long ago: "sent in the last day" lists only the new one.
    let sent = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "messages",
                "send",
                "--patient-id",
                "42",
                "--type",
                "sms",
                "--text",
                "Hello",
                "--wait",
            ],
        )
        .await,
    );
    assert_eq!(sent["status"]["response"], "delivered");
    let recent = ids(&hero(&mock, &with(&["--sent-from", "1d"])).await);
    assert_eq!(recent, [sent["id"].as_str().unwrap()]);
    let out = hero(&mock, &with(&["--sent-from", "2w", "--sent-to", "1w"])).await;
    assert!(ids(&out).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_without_patient_data_holds_no_names_or_contacts_in_any_format() {
    let mock = mock().await;
    // What the seeded rows hold: names and contact details.
    let full = json(
        &hero(
            &mock,
            &["--format", "json", "sent", "list", "--limit", "30"],
        )
        .await,
    );
    let mut secrets = Vec::new();
    for row in full.as_array().unwrap() {
        for pointer in [
            "/patient/first_name",
            "/patient/last_name",
            "/recipient_contact_detail",
        ] {
            secrets.push(row.pointer(pointer).unwrap().as_str().unwrap().to_owned());
        }
    }
    assert!(secrets.len() >= 90);
    for format in ["table", "json", "ndjson", "csv"] {
        let out = hero(
            &mock,
            &[
                "--format",
                format,
                "sent",
                "list",
                "--limit",
                "30",
                "--no-patient-data",
            ],
        )
        .await;
        assert_eq!(code(&out), 0, "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("1001"), "{format}: patient ids stay: {text}");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{format}: {s} in {text}");
        }
    }
    let chosen = json(
        &hero(
            &mock,
            &[
                "--format",
                "json",
                "sent",
                "list",
                "--limit",
                "5",
                "--columns",
                "status,id",
            ],
        )
        .await,
    );
    for row in chosen.as_array().unwrap() {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 2, "{row}");
        assert!(row["id"].is_string() && row["status"].is_string(), "{row}");
    }
    let csv = stdout(
        &hero(
            &mock,
            &[
                "--format",
                "csv",
                "sent",
                "list",
                "--limit",
                "2",
                "--columns",
                "status,id",
            ],
        )
        .await,
    );
    assert!(csv.starts_with("status,id\n"), "{csv}");
    // A column that does not exist is a usage error listing the columns.
    let out = support::hero_offline(&["--mock", "sent", "list", "--columns", "id,nhs"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("first_name"), "{}", stderr(&out));
}
