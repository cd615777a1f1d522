//! The `herohealth-mock` binary (feature `cli`): `cargo test -p herohealth-mock --features cli`.

#[test]
fn the_binary_documents_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_herohealth-mock"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--host",
        "--port",
        "--api-key",
        "--seed-sent-messages",
        "--time-scale",
        "--default-page-size",
        "--max-page-size",
        "--count",
        "--fault",
        "--rate-limit",
        "--list-delay",
        "--webhook-signature",
        "--webhook-timestamp",
        "--webhook-attempts",
        "--webhook-backoff",
        "--batch-outcome",
        "--write-approval",
    ] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
}

/// The binary on the wire: its `--fault validation:…`, `--rate-limit` and `--list-delay` options
/// do what the builder's do. `--time-scale 0` holds the clock still, so nothing depends on timing.
#[test]
fn the_binary_serves_faults_the_rate_limit_and_the_list_delay() {
    use std::io::{BufRead, BufReader};

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herohealth-mock"))
        .args(["--port", "0", "--time-scale", "0", "--rate-limit", "3"])
        .args([
            "--list-delay",
            "60000",
            "--fault",
            "send_message=validation:message_string@1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("listening on ").nth(1).map(str::to_owned))
        .expect("the mock says where it listens");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let answers = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let http = reqwest::Client::new();
        let call = |method: reqwest::Method, path: &str| {
            http.request(method, format!("{url}{path}"))
                .header("x-api-key", herohealth_mock::DEMO_API_KEY)
                .header(
                    "x-practice-group-id",
                    herohealth_mock::DEMO_PRACTICE_GROUP_ID,
                )
        };
        let send =
            serde_json::json!({"patient_id": "42", "message_type": "sms", "message_string": "Hi"});
        let mut answers = Vec::new();
        for req in [
            call(reqwest::Method::POST, "/v1/messages/send").json(&send),
            call(reqwest::Method::POST, "/v1/messages/send").json(&send),
            call(reqwest::Method::GET, "/v2/sent_messages"),
            call(reqwest::Method::GET, "/v2/sent_messages"),
        ] {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = resp.json().await.unwrap();
            answers.push((status, retry_after, body));
        }
        answers
    });
    child.kill().unwrap();
    child.wait().unwrap();

    let issues =
        serde_json::json!([{"code": "custom", "expected": "string", "path": ["message_string"]}]);
    assert_eq!(answers[0].0, 400);
    assert_eq!(answers[0].2["message"], issues);
    assert_eq!(answers[1].0, 200, "the rule was for the first send only");
    assert_eq!(
        (answers[2].0, &answers[2].2["count"]),
        (200, &serde_json::json!(0)),
        "not listed yet"
    );
    assert_eq!((answers[3].0, answers[3].1.as_deref()), (429, Some("1")));
    assert_eq!(answers[3].2["statusCode"], 429);
}

/// `--batch-outcome NHS=STATUS` and `--write-approval` on the wire: the recipient set to ERROR is
/// the one failed send `batch_failures` traces, the one set to ENRICHMENT_ERROR gets no send, and a
/// write into the record waits until its `confirm_write_to_record_url` is POSTed. A fast clock
/// (`--time-scale 1000`) and the client's waiters: nothing is timed.
#[test]
fn the_binary_sets_batch_outcomes_and_holds_writes_for_approval() {
    use std::io::{BufRead, BufReader};
    use std::time::Duration;

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herohealth-mock"))
        .args(["--port", "0", "--time-scale", "1000", "--write-approval"])
        .args(["--batch-outcome", "943 476 5919=error"])
        .args(["--batch-outcome", "9434765870=ENRICHMENT_ERROR"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("listening on ").nth(1).map(str::to_owned))
        .expect("the mock says where it listens");
    let result = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let hero = herohealth::HeroClient::builder()
            .api_key(herohealth_mock::DEMO_API_KEY)
            .practice_group_id(herohealth_mock::DEMO_PRACTICE_GROUP_ID)
            .base_url(&url)
            .build()?;
        let polling = herohealth::WaitOptions::default()
            .initial_interval(Duration::from_millis(10))
            .deadline(Duration::from_secs(30));
        let dob = chrono::NaiveDate::from_ymd_opt(1970, 3, 1).unwrap();
        let recipients = ["9434765919", "9434765870", "9434765862"]
            .map(|n| herohealth::types::BatchRecipient::new(n.parse().unwrap(), dob));
        let batch = hero
            .create_batch_message()
            .body_map(|b| {
                b.name("Flu")
                    .channel(herohealth::BatchChannel::Sms)
                    .content("Book your flu jab")
                    .recipients(recipients.to_vec())
            })
            .send()
            .await?;
        hero.send_batch_message().id(&batch.id).send().await?;
        let outcome = hero.wait_for_batch(&batch.id, polling).await?;
        assert_eq!(outcome.failed_sends, 1);
        let failures = hero.batch_failures(&batch.id).await?;

        let sent = hero
            .send_message()
            .body_map(|b| {
                b.patient_id("42")
                    .message_type(herohealth::MessageType::Sms)
                    .message_string("Hi")
                    .write_to_record(true)
            })
            .send()
            .await?;
        let held = hero
            .wait_for_record(
                &sent.message_id,
                polling.deadline(Duration::from_millis(300)),
            )
            .await
            .map(|_| ());
        let url = sent.confirm_write_to_record_url.clone().unwrap();
        let approved = reqwest::Client::new()
            .post(url.expose())
            .send()
            .await
            .unwrap();
        let recording = hero.wait_for_record(&sent.message_id, polling).await?;
        Ok::<_, herohealth::Error>((failures, held, approved.status(), recording))
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let (failures, held, approved, recording) = result.unwrap();
    assert_eq!((failures.sends, failures.failed.len()), (2, 1));
    assert_eq!(
        failures.failed[0].traced.nhs_numbers()[0].expose(),
        "9434765919"
    );
    assert_eq!(failures.not_enriched.len(), 1);
    assert_eq!(
        held.unwrap_err().kind(),
        herohealth::ErrorKind::WaitDeadline,
        "held until approved"
    );
    assert_eq!(approved, 204);
    assert!(recording.is_written());
}
