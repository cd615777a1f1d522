//! The engine on synthetic pages: order, limits, prefetch, short and repeated pages, errors.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, TryStreamExt};

use super::*;

/// A server of `total` numbered items; `count` decides what it reports, `delay` how long page i takes.
fn server(
    total: usize,
    count: impl Fn(usize, usize) -> Option<i64> + Send + Sync + 'static,
    log: Arc<Mutex<Vec<i64>>>,
) -> impl Fn(i64, NonZeroU64) -> BoxFuture<'static, Result<Page<usize>, Error>> + Send + Sync + 'static
{
    move |index, size| {
        log.lock().unwrap().push(index);
        let size = size.get() as usize;
        let start = index as usize * size;
        let items: Vec<usize> = (start..total.min(start + size)).collect();
        let count = count(total, items.len());
        // Later pages answer sooner, so ordering is really tested under concurrency.
        let delay = Duration::from_millis(20u64.saturating_sub(index as u64 * 3));
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(Page { items, count })
        })
    }
}

async fn run(
    total: usize,
    opts: PageOptions,
    count: fn(usize, usize) -> Option<i64>,
) -> (Vec<usize>, Vec<i64>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let items: Vec<usize> = paginate(opts, server(total, count, log.clone()))
        .try_collect()
        .await
        .unwrap();
    let mut requested = log.lock().unwrap().clone();
    requested.sort();
    (items, requested)
}

#[tokio::test]
async fn stops_at_the_total_without_asking_past_it() {
    let total = |t: usize, _| Some(t as i64);
    let (items, pages) = run(50, PageOptions::default().page_size(10), total).await;
    assert_eq!(items, (0..50).collect::<Vec<_>>());
    assert_eq!(pages, vec![0, 1, 2, 3, 4], "page 5 would be past the total");
    let (items, pages) = run(
        50,
        PageOptions::default().page_size(10).concurrency(8),
        total,
    )
    .await;
    assert_eq!(
        items,
        (0..50).collect::<Vec<_>>(),
        "in order under concurrency"
    );
    assert_eq!(pages, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn short_and_empty_pages_end_the_list() {
    // count = items on the page: never trusted as a total.
    let (items, pages) = run(25, PageOptions::default().page_size(10), |_, n| {
        Some(n as i64)
    })
    .await;
    assert_eq!((items.len(), pages), (25, vec![0, 1, 2]));
    // An exact multiple ends on an empty page.
    let (items, pages) = run(20, PageOptions::default().page_size(10), |_, n| {
        Some(n as i64)
    })
    .await;
    assert_eq!((items.len(), pages), (20, vec![0, 1, 2]));
    // No count at all.
    let (items, _) = run(
        7,
        PageOptions::default().page_size(3).concurrency(4),
        |_, _| None,
    )
    .await;
    assert_eq!(items, (0..7).collect::<Vec<_>>());
    let (items, pages) = run(0, PageOptions::default(), |_, _| Some(0)).await;
    assert_eq!((items.len(), pages), (0, vec![0]));
}

/// A server that serves at most `cap` items a page, whatever is asked.
fn capped(
    total: usize,
    cap: usize,
    count_is_total: bool,
) -> impl Fn(i64, NonZeroU64) -> BoxFuture<'static, Result<Page<usize>, Error>> + Send + Sync {
    move |index, size| {
        let size = (size.get() as usize).min(cap);
        let start = index as usize * size;
        let items: Vec<usize> = (start..total.min(start + size)).collect();
        let count = Some(if count_is_total { total } else { items.len() } as i64);
        Box::pin(async move { Ok(Page { items, count }) })
    }
}

#[tokio::test]
async fn a_server_that_caps_the_page_size_is_read_to_the_end() {
    for count_is_total in [true, false] {
        for concurrency in [1, 4] {
            let opts = PageOptions::default()
                .page_size(50)
                .concurrency(concurrency);
            let items: Vec<usize> = paginate(opts, capped(95, 20, count_is_total))
                .try_collect()
                .await
                .unwrap();
            assert_eq!(
                items,
                (0..95).collect::<Vec<_>>(),
                "count_is_total {count_is_total}, concurrency {concurrency}"
            );
        }
    }
    // A list that really is shorter than a page costs one probe and ends.
    let items: Vec<usize> = paginate(PageOptions::default(), capped(7, 100, false))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 7);
}

#[tokio::test]
async fn limit_stops_early_and_asks_for_small_pages() {
    let (items, pages) = run(
        1000,
        PageOptions::default().page_size(100).limit(5),
        |t, _| Some(t as i64),
    )
    .await;
    assert_eq!((items, pages), ((0..5).collect(), vec![0]));
    let (items, pages) = run(
        1000,
        PageOptions::default().page_size(10).limit(25),
        |t, _| Some(t as i64),
    )
    .await;
    assert_eq!((items.len(), pages), (25, vec![0, 1, 2]));
    let (items, pages) = run(1000, PageOptions::default().limit(0), |t, _| Some(t as i64)).await;
    assert!(items.is_empty() && pages.is_empty());
}

#[tokio::test]
async fn a_server_that_ignores_page_index_is_an_error() {
    let fetch =
        |_index: i64, _size: NonZeroU64| -> BoxFuture<'static, Result<Page<usize>, Error>> {
            Box::pin(async {
                Ok(Page {
                    items: (0..10).collect(),
                    count: Some(1000),
                })
            })
        };
    let results: Vec<Result<usize, Error>> =
        paginate(PageOptions::default().page_size(10).concurrency(4), fetch)
            .collect()
            .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 10);
    let err = results.last().unwrap().as_ref().unwrap_err();
    assert!(err.to_string().contains("page 1 repeats page 0"), "{err}");
    assert_eq!(results.len(), 11, "the stream ends after the error");
}

/// A list of `real` items whose server reports `first` as the count on page 0 and `later` after.
fn shifting_count(
    real: usize,
    first: i64,
    later: i64,
) -> impl Fn(i64, NonZeroU64) -> BoxFuture<'static, Result<Page<usize>, Error>> + Send + Sync {
    move |index, size| {
        let size = size.get() as usize;
        let start = index as usize * size;
        let items: Vec<usize> = (start..real.min(start + size)).collect();
        let count = if index == 0 { first } else { later };
        Box::pin(async move {
            Ok(Page {
                items,
                count: Some(count),
            })
        })
    }
}

#[tokio::test]
async fn a_count_that_changes_moves_the_end() {
    // The total grows from 30 to 45 while iterating, and the list really has 45 items.
    let items: Vec<usize> = paginate(
        PageOptions::default().page_size(10),
        shifting_count(45, 30, 45),
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(items, (0..45).collect::<Vec<_>>());
    // It shrinks from 50 to 15: the end comes sooner.
    let items: Vec<usize> = paginate(
        PageOptions::default().page_size(10),
        shifting_count(15, 50, 15),
    )
    .try_collect()
    .await
    .unwrap();
    assert_eq!(items, (0..15).collect::<Vec<_>>());
}

#[tokio::test]
async fn errors_end_the_stream() {
    let fetch = |index: i64, _size: NonZeroU64| -> BoxFuture<'static, Result<Page<usize>, Error>> {
        Box::pin(async move {
            if index == 1 {
                Err(Error::new(ErrorKind::Server, "boom"))
            } else {
                Ok(Page {
                    items: vec![index as usize; 2],
                    count: Some(10),
                })
            }
        })
    };
    let results: Vec<Result<usize, Error>> = paginate(PageOptions::default().page_size(2), fetch)
        .collect()
        .await;
    assert_eq!(results.len(), 3);
    assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::Server);
}

#[tokio::test]
async fn dropping_the_stream_cancels_pages_in_flight() {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (started, dropped, finished) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let (s, d, f) = (started.clone(), dropped.clone(), finished.clone());
    let fetch =
        move |index: i64, _size: NonZeroU64| -> BoxFuture<'static, Result<Page<usize>, Error>> {
            s.fetch_add(1, Ordering::SeqCst);
            let (d, f) = (d.clone(), f.clone());
            Box::pin(async move {
                let guard = Guard(d);
                if index > 0 {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                f.fetch_add(1, Ordering::SeqCst);
                std::mem::forget(guard);
                Ok(Page {
                    items: vec![index as usize; 10],
                    count: Some(1000),
                })
            })
        };
    let mut stream = Box::pin(paginate(
        PageOptions::default().page_size(10).concurrency(4),
        fetch,
    ));
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    // Page 0 is consumed item by item; draining it starts the prefetch of pages 1-4.
    for _ in 0..9 {
        stream.next().await.unwrap().unwrap();
    }
    let pending = tokio::time::timeout(Duration::from_millis(50), stream.next()).await;
    assert!(pending.is_err(), "page 1 never answers");
    assert_eq!(
        started.load(Ordering::SeqCst),
        5,
        "bounded prefetch: page 0 and four more"
    );
    drop(stream);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        4,
        "the four pages in flight were cancelled"
    );
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

/// Pages in flight move on while the consumer reads the page before: the next pages' requests
/// are written (their futures first polled) before the first item of page 0 is handed out, and
/// a page answered meanwhile waits, in order, without counting twice against the window.
#[tokio::test]
async fn the_next_pages_are_sent_while_the_consumer_reads_this_one() {
    let started = Arc::new(Mutex::new(Vec::new()));
    let fetch = {
        let started = started.clone();
        move |index: i64, size: NonZeroU64| -> BoxFuture<'static, Result<Page<usize>, Error>> {
            let started = started.clone();
            Box::pin(async move {
                // Written when first polled, as a request is.
                started.lock().unwrap().push(index);
                let size = size.get() as usize;
                let start = index as usize * size;
                Ok(Page {
                    items: (start..30.min(start + size)).collect(),
                    count: Some(30),
                })
            })
        }
    };
    let mut stream = paginate(PageOptions::default().page_size(10).concurrency(2), fetch);
    assert_eq!(stream.next().await.unwrap().unwrap(), 0);
    assert_eq!(
        *started.lock().unwrap(),
        vec![0, 1, 2],
        "pages 1 and 2 are asked for while page 0 is being read"
    );
    let rest: Vec<usize> = stream.try_collect().await.unwrap();
    assert_eq!(rest, (1..30).collect::<Vec<_>>());
    assert_eq!(*started.lock().unwrap(), vec![0, 1, 2]);
}

/// A limit of exactly one asked-for page, on a server that serves half pages: the limit is
/// reached with a second page, which is asked for once the first shows the server's page size.
#[tokio::test]
async fn a_limit_is_filled_when_the_server_serves_smaller_pages() {
    let fetch = |index: i64, _size: NonZeroU64| -> BoxFuture<'static, Result<Page<usize>, Error>> {
        // At most 5 a page, whatever was asked.
        let start = index as usize * 5;
        Box::pin(async move {
            Ok(Page {
                items: (start..start + 5).collect(),
                count: Some(100),
            })
        })
    };
    let items: Vec<usize> = paginate(PageOptions::default().page_size(10).limit(10), fetch)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items, (0..10).collect::<Vec<_>>());
}
