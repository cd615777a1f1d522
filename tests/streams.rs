//! Auto-pagination and waiters against herohealth-mock: every paged list as a stream (no pinning
//! needed), filters kept on every page, limit, prefetch order, and waiting for delivery, for the
//! record and for a batch, each waiter returning how its wait ended.

mod support;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use herohealth::{
    BatchChannel, BatchMessageStatus, Delivery, DeliveryStatus, EnrichmentStatus, ErrorKind,
    MessageType, PageOptions, Paginate, Recording, WaitOptions,
    types::{BatchRecipient, BatchSend},
};
use herohealth_mock::{CountMode, MockServer};
use wiremock::ResponseTemplate;

#[tokio::test]
async fn sent_messages_stream_in_order_with_filters_and_limits() {
    let mock = MockServer::builder()
        .seed_sent_messages(250)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let ids = |v: Vec<herohealth::types::SentMessage>| -> Vec<u64> {
        v.into_iter()
            .map(|m| m.id.unwrap().parse().unwrap())
            .collect()
    };

    let all = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(30))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(all), (1..=250).collect::<Vec<_>>());
    assert_eq!(
        mock.calls("list_sent_messages"),
        9,
        "ceil(250 / 30) pages, none past the end"
    );

    let prefetched = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(30).concurrency(8))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        ids(prefetched),
        (1..=250).collect::<Vec<_>>(),
        "prefetch keeps the order"
    );

    // The filter is sent with every page: only fatal messages, all of them.
    let fatal: Vec<_> = hero
        .list_sent_messages()
        .status(DeliveryStatus::Fatal)
        .stream_with(PageOptions::default().page_size(7).concurrency(3))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(fatal.len(), 50);
    assert!(fatal.iter().all(|m| m.status == DeliveryStatus::Fatal));

    let limited = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().limit(42))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(limited), (1..=42).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_server_whose_count_is_per_page_still_streams_everything() {
    let mock = MockServer::builder()
        .seed_sent_messages(95)
        .count_mode(CountMode::Page)
        .max_page_size(20)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    // The server caps pages at 20 while we ask for 50, and its count is per page: a short first page
    // must not end the list early.
    let items: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(50))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 95);
    let items: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(50).concurrency(4))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 95);
}

#[tokio::test]
async fn batch_lists_stream() {
    let mock = MockServer::builder().time_scale(1.0).start().await.unwrap();
    let hero = mock.client();
    let nhs = [
        "943 476 5919",
        "9434765870",
        "401 023 2137",
        "1000000060",
        "9000000009",
    ];
    let recipients: Vec<BatchRecipient> = nhs
        .iter()
        .filter_map(|n| n.parse().ok())
        .map(|nhs_number| BatchRecipient {
            nhs_number,
            dob: None,
        })
        .collect();
    let count = recipients.len();
    let mut batch_ids = Vec::new();
    for n in 0..3 {
        let b = hero
            .create_batch_message()
            .body_map(|b| {
                b.name(format!("batch {n}"))
                    .channel(BatchChannel::Sms)
                    .content("c")
                    .recipients(recipients.clone())
            })
            .send()
            .await
            .unwrap();
        batch_ids.push(b.into_inner().id);
    }
    let batches: Vec<_> = hero
        .list_batch_messages()
        .stream_with(PageOptions::default().page_size(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        batches.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
        batch_ids
    );

    let id = &batch_ids[0];
    let rows: Vec<_> = hero
        .list_batch_message_recipients()
        .id(id)
        .status(EnrichmentStatus::Enriched)
        .stream_with(PageOptions::default().page_size(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), count);
    // Every recipient here is ENRICHED, so the filter above cannot fail on its own: the rows that
    // failed enrichment are none (a filter dropped from the request would list them all).
    let failed: Vec<_> = hero
        .list_batch_message_recipients()
        .id(id)
        .status(EnrichmentStatus::EnrichmentError)
        .stream_with(PageOptions::default().page_size(2))
        .try_collect()
        .await
        .unwrap();
    assert!(failed.is_empty(), "{} rows", failed.len());

    hero.send_batch_message().id(id).send().await.unwrap();
    mock.advance(Duration::from_secs(5));
    let sends: Vec<BatchSend> = hero
        .list_batch_message_sends()
        .id(id)
        .stream_with(PageOptions::default().page_size(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sends.len(), count);
}

#[tokio::test]
async fn waiting_for_delivery_and_for_a_batch() {
    let mock = MockServer::builder()
        .time_scale(50.0)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("5")
                .message_type(MessageType::Sms)
                .message_string("hi")
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let states: Vec<DeliveryStatus> = hero
        .watch_delivery(&sent.message_id, support::fast_wait())
        .map(|s| s.unwrap().status.response)
        .collect()
        .await;
    assert_eq!(states.first(), Some(&DeliveryStatus::Pending));
    assert_eq!(states.last(), Some(&DeliveryStatus::Delivered));
    let mut deduped = states.clone();
    deduped.dedup();
    assert_eq!(deduped, states, "only changes are reported");
    let done = hero
        .wait_for_delivery(&sent.message_id, support::fast_wait())
        .await
        .unwrap();
    assert!(done.is_delivered());
    assert_eq!(done.status().status.response, DeliveryStatus::Delivered);

    let batch = hero
        .create_batch_message()
        .body_map(|b| {
            b.name("b")
                .channel(BatchChannel::Sms)
                .content("c")
                .recipients(vec![BatchRecipient {
                    nhs_number: "9434765919".parse().unwrap(),
                    dob: None,
                }])
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    // Waiting for a batch nobody has sent ends at the deadline saying so, not "not final yet"
    // (found by a new-user trial: the CLI's hint was "wait longer", which never helps).
    let unsent = hero
        .wait_for_batch(
            &batch.id,
            support::fast_wait().deadline(Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert_eq!(unsent.kind(), ErrorKind::WaitDeadline);
    assert!(
        unsent.to_string().contains("CREATED: it has not been sent"),
        "{unsent}"
    );
    hero.send_batch_message()
        .id(&batch.id)
        .send()
        .await
        .unwrap();
    let done = hero
        .wait_for_batch(&batch.id, support::fast_wait())
        .await
        .unwrap();
    assert_eq!(done.batch.status, BatchMessageStatus::Completed);
    assert_eq!((done.sends, done.failed_sends), (1, 0));
    assert!(done.all_sent());
}

#[tokio::test]
async fn a_wait_past_its_deadline_is_a_wait_deadline_not_a_timeout() {
    let mock = MockServer::start().await;
    let hero = mock.client();
    let later = mock.now() + chrono::Duration::hours(1);
    let sent = hero
        .send_message()
        .body_map(|b| {
            b.patient_id("5")
                .message_type(MessageType::Sms)
                .message_string("hi")
                .send_at(Some(later))
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let err = hero
        .wait_for_delivery(
            &sent.message_id,
            support::fast_wait().deadline(Duration::from_millis(60)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitDeadline);
    assert!(!err.is_retryable() && !err.may_have_been_sent(), "{err:?}");
    assert!(err.to_string().contains("(last: pending)"), "{err}");
    let err = hero
        .wait_for_delivery("404", support::fast_wait())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

/// A wiremock server answering `GET /v2/sent_messages` page by page (`page_index`).
async fn paged_server(
    pages: Vec<serde_json::Value>,
) -> (wiremock::MockServer, herohealth::HeroClient) {
    use wiremock::{Mock, ResponseTemplate, matchers};
    let server = wiremock::MockServer::start().await;
    for (i, page) in pages.into_iter().enumerate() {
        Mock::given(matchers::query_param("page_index", i.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .mount(&server)
            .await;
    }
    let hero = herohealth::HeroClient::builder()
        .api_key("hero-stream-test-key")
        .practice_group_id("practice-stream")
        .base_url(server.uri())
        .build()
        .unwrap();
    (server, hero)
}

fn sent_row(id: u64) -> serde_json::Value {
    serde_json::json!({
        "id": id.to_string(), "content": "Hello", "sent_at": null, "created_at": null,
        "scheduled_at": null, "status": "delivered", "sent_by": "Integration", "message_type": "sms",
        "recipient_contact_detail": "+447700900123",
        "patient": {"id": "1", "title": null, "first_name": "Ada", "last_name": "Lovelace"},
        "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
        "short_link": null, "campaign": null
    })
}

#[tokio::test]
async fn a_negative_count_does_not_end_the_list_early() {
    let page = |ids: &[u64]| serde_json::json!({"data": ids.iter().map(|i| sent_row(*i)).collect::<Vec<_>>(), "count": -1});
    let (server, hero) = paged_server(vec![page(&[1, 2]), page(&[3, 4]), page(&[5])]).await;
    let all: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(2))
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = all.iter().map(|m| m.id.clone().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn pages_that_share_their_first_and_last_rows_are_not_a_repeated_page() {
    // Rows without an id can be equal at a page's edges; only a page repeated whole is an error.
    let page = |middle: u64| serde_json::json!({"data": [sent_row(7), sent_row(middle), sent_row(7)], "count": 7});
    let last = serde_json::json!({"data": [sent_row(9)], "count": 7});
    let (_server, hero) = paged_server(vec![page(1), page(2), last]).await;
    let all: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(3))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 7);

    let (_server, hero) = paged_server(vec![page(1), page(1), page(1)]).await;
    let err = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(3))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("ignores page_index"), "{err}");
}

#[test]
fn poll_intervals_grow_by_the_multiplier_up_to_the_maximum() {
    let ms = |o: WaitOptions, n: usize| -> Vec<u128> {
        o.intervals().take(n).map(|d| d.as_millis()).collect()
    };
    assert_eq!(
        ms(WaitOptions::default(), 12),
        [
            1000, 1500, 2250, 3375, 5062, 7593, 11390, 17085, 25628, 30000, 30000, 30000
        ]
    );
    let custom = WaitOptions::default()
        .initial_interval(Duration::from_millis(100))
        .max_interval(Duration::from_millis(1000))
        .multiplier(2.0);
    assert_eq!(ms(custom, 6), [100, 200, 400, 800, 1000, 1000]);
    // A multiplier below 1 would shrink the waits into a busy loop: it is raised to 1.
    let flat = WaitOptions::default()
        .initial_interval(Duration::from_millis(100))
        .multiplier(0.1);
    assert_eq!(ms(flat, 3), [100, 100, 100]);
}

/// Promise 73: a count that grows moves the end too. Page 1 says 4 rows, page 2 says 8: the
/// stream goes on to rows 5 to 8 (stopping at the first count fails it).
#[tokio::test]
async fn a_count_that_grows_moves_the_end_of_the_list() {
    let page = |ids: [u64; 2], count: i64| serde_json::json!({"data": [sent_row(ids[0]), sent_row(ids[1])], "count": count});
    let (server, hero) = paged_server(vec![
        page([1, 2], 4),
        page([3, 4], 8),
        page([5, 6], 8),
        page([7, 8], 8),
    ])
    .await;
    let ids: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(2).concurrency(1))
        .map_ok(|m| m.id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

/// A server of `pages` pages of two sent messages (count `2 * pages`) for the paged-stream wire
/// tests: page 0 is answered at once; every other page is held until the test adds a permit to
/// the returned semaphore. Also returns the pages in flight now and the most ever in flight.
async fn held_pages(
    pages: usize,
) -> (
    support::RawServer,
    std::sync::Arc<tokio::sync::Semaphore>,
    std::sync::Arc<std::sync::Mutex<(usize, usize)>>,
) {
    use std::sync::{Arc, Mutex};
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let flight = Arc::new(Mutex::new((0usize, 0usize)));
    let (gate, counts) = (release.clone(), flight.clone());
    let server = support::RawServer::answering(move |head| {
        let (gate, counts) = (gate.clone(), counts.clone());
        async move {
            let index = support::page_index(&head);
            let body = serde_json::json!({
                "data": [sent_row(2 * index as u64 + 1), sent_row(2 * index as u64 + 2)],
                "count": 2 * pages,
            })
            .to_string();
            if index > 0 {
                {
                    let mut c = counts.lock().unwrap();
                    c.0 += 1;
                    c.1 = c.1.max(c.0);
                }
                // Counted out again whether answered or dropped (the client gave up on it).
                struct Out(std::sync::Arc<std::sync::Mutex<(usize, usize)>>);
                impl Drop for Out {
                    fn drop(&mut self) {
                        self.0.lock().unwrap_or_else(|e| e.into_inner()).0 -= 1;
                    }
                }
                let _out = Out(counts);
                gate.acquire().await.unwrap().forget();
            }
            support::response("200 OK", "", &body)
        }
    })
    .await;
    (server, release, flight)
}

/// Waits until the runtime has nothing left to do: on the paused clock, a sleep ends only when
/// every task (client and server) is waiting.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Settles until `done` holds (at most 50 times: 0.5 s of the paused clock), then once more, so
/// that anything still on its way (a request too many) has arrived too.
async fn settle_until(done: impl Fn() -> bool) {
    for _ in 0..50 {
        if done() {
            break;
        }
        settle().await;
    }
    settle().await;
}

/// Promise 74: at most `concurrency` pages are in flight, on the wire. With every page after the
/// first held by the server, exactly 3 requests are outstanding at each step while more remain,
/// never 4; each page released lets exactly one more go; all 20 rows arrive in order. A
/// prefetch that ignores the limit, or one that does not prefetch at all, fails it.
#[tokio::test(start_paused = true)]
async fn at_most_concurrency_pages_are_in_flight_on_the_wire() {
    let (server, release, flight) = held_pages(10).await;
    let hero = support::client_for(
        server.url(),
        "hero-stream-test-key",
        "practice-stream",
        herohealth::RetryPolicy::disabled(),
    );
    let reader = tokio::spawn(async move {
        hero.list_sent_messages()
            .stream_with(PageOptions::default().page_size(2).concurrency(3))
            .map_ok(|m| m.id.unwrap().parse::<u64>().unwrap())
            .try_collect::<Vec<_>>()
            .await
    });
    for remaining in (1..=9usize).rev() {
        settle_until(|| flight.lock().unwrap().0 >= remaining.min(3)).await;
        assert_eq!(
            flight.lock().unwrap().0,
            remaining.min(3),
            "pages in flight with {remaining} still to come"
        );
        release.add_permits(1);
    }
    let ids = reader.await.unwrap().unwrap();
    assert_eq!(ids, (1..=20).collect::<Vec<_>>());
    assert_eq!(flight.lock().unwrap().1, 3, "the most pages ever in flight");
}

/// Promise 73: dropping the stream cancels its pages in flight, on the wire. After the first
/// page's rows are read, the next read sends 3 page requests that the server holds; dropping the
/// stream closes all 3 connections (the server sees each request abandoned) and nothing more
/// is asked for. A stream that leaves its requests running after the drop fails it.
#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_its_pages_in_flight() {
    let (server, _release, flight) = held_pages(10).await;
    let hero = support::client_for(
        server.url(),
        "hero-stream-test-key",
        "practice-stream",
        herohealth::RetryPolicy::disabled(),
    );
    let mut stream = Box::pin(
        hero.list_sent_messages()
            .stream_with(PageOptions::default().page_size(2).concurrency(3)),
    );
    for _ in 0..2 {
        stream.next().await.unwrap().unwrap();
    }
    let third = tokio::time::timeout(Duration::from_millis(10), stream.next()).await;
    assert!(third.is_err(), "row 3 waits for its held page");
    settle_until(|| flight.lock().unwrap().0 >= 3).await;
    assert_eq!(flight.lock().unwrap().0, 3, "pages 1 to 3 in flight");
    drop(stream);
    settle_until(|| server.cancelled() >= 3).await;
    assert_eq!(server.cancelled(), 3, "every page in flight was abandoned");
    assert_eq!(*flight.lock().unwrap(), (0, 3));
}

/// Answers a sent-messages page with one row whose id is the page's index, of 3 in all.
struct OneRowPages;

impl wiremock::Respond for OneRowPages {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let page = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "page_index")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [{"id": page,
            "patient": {"id": "2", "title": null, "first_name": "A", "last_name": "B"},
            "write_to_record": {"write_to_record_at": null, "status": null, "failure_reason": null},
            "short_link": null, "campaign": null, "created_at": null, "sent_at": null,
            "scheduled_at": null, "status": "sent", "sent_by": "x",
            "recipient_contact_detail": "+447700900123", "message_type": "sms"}], "count": 3}))
    }
}

/// Promise 75: `page_size` and `concurrency` are at least 1. Breaking it asks Hero for pages of 0
/// (a list that never advances, or an error) or prefetches nothing and never ends.
#[tokio::test]
async fn p75_a_page_size_and_concurrency_of_zero_are_read_as_one() {
    let (server, hero) = support::serve(OneRowPages).await;
    use futures::TryStreamExt;
    use herohealth::{PageOptions, Paginate};
    let rows: Vec<_> = hero
        .list_sent_messages()
        .stream_with(PageOptions::default().page_size(0).concurrency(0))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for (i, r) in requests.iter().enumerate() {
        let q: std::collections::HashMap<_, _> = r.url.query_pairs().collect();
        assert_eq!(q["page_size"], "1", "{:?}", r.url);
        assert_eq!(q["page_index"], i.to_string(), "{:?}", r.url);
    }
}

/// Promise 73 (in part): an error ends the stream, and a count that changes moves the end. A
/// stream that went on after an error, or kept the first count, yields rows past them.
#[tokio::test]
async fn p73_an_error_ends_the_stream_and_a_smaller_count_moves_the_end() {
    use futures::StreamExt;
    use herohealth::{PageOptions, Paginate};
    struct Pages(Vec<ResponseTemplate>);
    impl wiremock::Respond for Pages {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let page: usize = request
                .url
                .query_pairs()
                .find(|(k, _)| k == "page_index")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            self.0[page.min(self.0.len() - 1)].clone()
        }
    }
    let row = |id: usize| {
        serde_json::json!({"id": id.to_string(), "patient": {"id": "2", "title": null,
            "first_name": "A", "last_name": "B"}, "write_to_record": {"write_to_record_at": null,
            "status": null, "failure_reason": null}, "short_link": null, "campaign": null,
            "created_at": null, "sent_at": null, "scheduled_at": null, "status": "sent",
            "sent_by": "x", "recipient_contact_detail": "+447700900123", "message_type": "sms"})
    };
    let page = |ids: [usize; 2], count: usize| {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"data": [row(ids[0]), row(ids[1])], "count": count}))
    };
    let options = PageOptions::default().page_size(2).concurrency(1);

    let (_server, hero) = support::serve(Pages(vec![
        page([1, 2], 8),
        ResponseTemplate::new(500),
        page([5, 6], 8),
    ]))
    .await;
    let items: Vec<_> = hero
        .list_sent_messages()
        .stream_with(options)
        .collect()
        .await;
    assert_eq!(items.len(), 3, "two rows, the error, then the end");
    assert!(items[0].is_ok() && items[1].is_ok());
    assert_eq!(items[2].as_ref().unwrap_err().kind(), ErrorKind::Server);

    let (_server, hero) = support::serve(Pages(vec![
        page([1, 2], 8),
        page([3, 4], 4),
        page([5, 6], 8),
    ]))
    .await;
    let ids: Vec<String> = hero
        .list_sent_messages()
        .stream_with(options)
        .map(|m| m.unwrap().id.unwrap())
        .collect()
        .await;
    assert_eq!(
        ids,
        ["1", "2", "3", "4"],
        "the count of 4 on page 1 ends the list there"
    );
}

#[tokio::test]
async fn streams_need_no_pinning() {
    let mock = MockServer::builder()
        .seed_sent_messages(45)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    let mut stream = hero.list_sent_messages().stream();
    let mut n = 0;
    while let Some(_message) = stream.try_next().await.unwrap() {
        n += 1;
    }
    assert_eq!(n, 45);
    // A watch is a stream too: its first update is the message's status as it stands.
    let mut updates = hero.watch_delivery("1", support::fast_wait());
    let first = updates
        .try_next()
        .await
        .unwrap()
        .expect("message 1's status");
    assert_eq!(first.id, "1");
}

#[tokio::test]
async fn waiters_return_how_a_message_ended() {
    let mock = MockServer::builder()
        .time_scale(50.0)
        .start()
        .await
        .unwrap();
    let hero = mock.client();
    for (to, expected) in [
        ("+447700900123", DeliveryStatus::Delivered),
        ("+447700900444", DeliveryStatus::Declined),
        ("declined@example.com", DeliveryStatus::Declined),
        ("+447700900666", DeliveryStatus::Fatal),
        ("fatal@example.com", DeliveryStatus::Fatal),
    ] {
        let id = support::send_to(&hero, "7", to, false).await.unwrap();
        let delivery = hero
            .wait_for_delivery(&id, support::fast_wait().deadline(Duration::from_secs(30)))
            .await
            .unwrap();
        assert_eq!(delivery.status().status.response, expected, "{to}");
        match (&delivery, &expected) {
            (Delivery::Delivered(_), DeliveryStatus::Delivered)
            | (Delivery::Declined(_), DeliveryStatus::Declined)
            | (Delivery::Fatal(_), DeliveryStatus::Fatal) => {}
            other => panic!("{other:?}"),
        }
        let delivered = delivery.delivered();
        if expected == DeliveryStatus::Delivered {
            delivered.unwrap();
        } else {
            assert_eq!(delivered.unwrap_err().kind(), ErrorKind::DeliveryFailed);
        }
    }

    let written = support::send_to(&hero, "7", "+447700900123", true)
        .await
        .unwrap();
    let recording = hero
        .wait_for_record(
            &written,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(matches!(recording, Recording::Written(_)), "{recording:?}");
    let not_asked = support::send_to(&hero, "7", "+447700900123", false)
        .await
        .unwrap();
    let recording = hero
        .wait_for_record(
            &not_asked,
            support::fast_wait().deadline(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert!(
        matches!(recording, Recording::NotRequested(_)),
        "{recording:?}"
    );
}
