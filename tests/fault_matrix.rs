//! The fault matrix around a send: every fault herohealth-mock can inject, on the first call of every
//! operation that changes state, with the default retry policy. Nothing is processed twice, and
//! every case where the mock processed the send ends as success, outcome unknown or accepted:
//! never as a plain failure a caller would retry. On tokio's paused clock: the attempt timeout, the
//! latency fault, the backoffs and the wait for a held request are the test's own time.

mod support;

use std::time::Duration;

use herohealth::{BatchChannel, Error, HeroClient, types};
use herohealth_mock::{Fault, FaultRule, MockServer};

fn faults() -> Vec<Fault> {
    vec![
        Fault::Latency(Duration::from_millis(1500)),
        Fault::RateLimited {
            retry_after: Some(0),
        },
        Fault::RateLimited { retry_after: None },
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::Status(400),
        Fault::ResetBeforeProcessing,
        Fault::ResetAfterProcessing,
        Fault::TruncatedJson,
        Fault::MalformedJson,
        Fault::HtmlError(502),
        Fault::UnknownEnumValue,
        Fault::EmptyBody,
        Fault::WrongContentType,
    ]
}

async fn create_batch(hero: &HeroClient) -> Result<String, Error> {
    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("Flu clinic")
                .channel(BatchChannel::Sms)
                .content("Your flu jab is due")
                .recipients(vec![types::BatchRecipient {
                    nhs_number: "9434765919".parse().unwrap(),
                    dob: None,
                }])
        })
        .send()
        .await?;
    Ok(batch.id.clone())
}

async fn send(hero: &HeroClient, operation: &str, batch: Option<&str>) -> Result<(), Error> {
    match operation {
        "send_message" => support::send_sms(hero, "7").await.map(|_| ()),
        "create_batch_message" => create_batch(hero).await.map(|_| ()),
        "send_batch_message" => hero
            .send_batch_message()
            .id(batch.unwrap())
            .send()
            .await
            .map(|_| ()),
        other => unreachable!("{other}"),
    }
}

#[tokio::test(start_paused = true)]
async fn no_fault_sends_twice_and_no_processed_send_is_a_plain_failure() {
    let mut rows = Vec::new();
    for operation in ["send_message", "create_batch_message", "send_batch_message"] {
        for fault in faults() {
            let mock = MockServer::builder()
                .fault(FaultRule::new(operation, fault.clone()).nth(1))
                .start()
                .await
                .unwrap();
            let hero = mock
                .client_builder()
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap();
            let batch = if operation == "send_batch_message" {
                Some(create_batch(&hero).await.unwrap())
            } else {
                None
            };
            let result = send(&hero, operation, batch.as_deref()).await;
            if matches!(fault, Fault::Latency(_)) {
                // Give a request still held by the latency fault time to be processed.
                tokio::time::sleep(Duration::from_millis(1200)).await;
            }
            let processed = mock.processed(operation);
            let case = format!("{operation} with {fault:?} first: {result:?}");
            assert!(processed <= 1, "{case}: processed {processed} times");
            if processed == 1 {
                match &result {
                    Ok(()) => {}
                    Err(e) => assert!(
                        e.may_have_been_sent() && !e.is_retryable(),
                        "{case}: a processed send came back as a plain failure"
                    ),
                }
            }
            if let Err(e) = &result
                && !e.may_have_been_sent()
            {
                assert_eq!(processed, 0, "{case}");
            }
            rows.push(format!(
                "{operation} {fault:?}: processed {processed}, {}",
                match &result {
                    Ok(()) => "ok".to_owned(),
                    Err(e) if e.accepted() => "accepted".to_owned(),
                    Err(e) if e.outcome_unknown() => "outcome unknown".to_owned(),
                    Err(e) => format!("failed ({:?})", e.kind()),
                }
            ));
        }
    }
    println!("{}", rows.join("\n"));
    assert_eq!(rows.len(), 48);
}
