//! One pagination engine for every paged list: [`Paginate::stream`] turns a list request (with its
//! filters) into a `Stream` of items that fetches pages as they are consumed.
//!
//! Hero does not document its pagination, so the engine trusts as little as it can:
//! - `page_index` counts from 0 and each page asks for `page_size` items;
//! - a short or empty page ends the list, except a short first page: a server may serve fewer items
//!   than asked for (a maximum page size), so that page's length becomes the page size and the next
//!   page is asked for too (one extra request for a list that really was that short);
//! - `count` is taken as the total across pages only when it exceeds the items of the page it came
//!   with (a page can never hold more than the total) and is not negative; then the number of pages is known, later
//!   pages are prefetched up to the configured concurrency, and no page past the total is asked for;
//!   a `count` that changes while iterating moves the end;
//! - a page that repeats the previous one item for item (a server that ignores `page_index`) is an
//!   error, not an endless loop.
//!
//! Items come out in order. At most `concurrency` pages are in flight or waiting to be consumed, so
//! memory is bounded by the page size, not the list. Errors come out of the stream as items and end
//! it; dropping the stream cancels the requests in flight.

use std::{collections::VecDeque, num::NonZeroU64};

use futures::{
    Stream, StreamExt,
    future::BoxFuture,
    stream::{self, FuturesOrdered},
};

use crate::{
    api::types,
    error::{Error, ErrorKind},
};

/// How [`Paginate::stream_with`] pages.
///
/// **Defaults** ([`PageOptions::default`], what [`Paginate::stream`] uses): 100 items a page, no
/// limit, one page at a time.
///
/// ```
/// use herohealth::PageOptions;
/// let defaults = PageOptions::default();
/// assert_eq!((defaults.get_page_size(), defaults.get_limit(), defaults.get_concurrency()), (100, None, 1));
/// let opts = PageOptions::default().page_size(200).limit(1_000).concurrency(8);
/// assert_eq!(opts.get_limit(), Some(1_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    page_size: u64,
    limit: Option<usize>,
    concurrency: usize,
}

impl Default for PageOptions {
    /// 100 items a page, no limit, one page at a time.
    fn default() -> Self {
        Self {
            page_size: 100,
            limit: None,
            concurrency: 1,
        }
    }
}

impl PageOptions {
    /// Items asked for per page (at least 1).
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Stop after this many items.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Pages fetched ahead of the consumer once the number of pages is known (at least 1).
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// Items asked for per page (default 100).
    pub fn get_page_size(&self) -> u64 {
        self.page_size
    }

    /// The most items streamed (default: no limit).
    pub fn get_limit(&self) -> Option<usize> {
        self.limit
    }

    /// Pages fetched ahead (default 1).
    pub fn get_concurrency(&self) -> usize {
        self.concurrency
    }
}

/// One page as the engine sees it.
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) count: Option<i64>,
}

/// Streams of items for the paged list operations.
///
/// ```no_run
/// use futures::TryStreamExt;
/// use herohealth::{DeliveryStatus, HeroClient, PageOptions, Paginate};
///
/// # async fn run(hero: HeroClient) -> herohealth::Result<()> {
/// let failed: Vec<_> = hero
///     .list_sent_messages()
///     .status(DeliveryStatus::Fatal)
///     .stream_with(PageOptions::default().concurrency(4))
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Paginate<'a>: Sized {
    /// One list item.
    type Item: 'a;

    /// Every item, with [`PageOptions::default`].
    fn stream(self) -> impl Stream<Item = Result<Self::Item, Error>> + Send + Unpin + 'a {
        self.stream_with(PageOptions::default())
    }

    /// Every item (up to the limit), paged as `options` says.
    fn stream_with(
        self,
        options: PageOptions,
    ) -> impl Stream<Item = Result<Self::Item, Error>> + Send + Unpin + 'a;
}

/// A page request in flight, with its index.
type PageFuture<'a, T> = BoxFuture<'a, (i64, Result<Page<T>, Error>)>;

struct State<'a, T> {
    fetch: Box<dyn Fn(i64, NonZeroU64) -> PageFuture<'a, T> + Send + Sync + 'a>,
    options: PageOptions,
    size: NonZeroU64,
    /// Items per page as the server serves them (less than `size` when it caps the page size).
    effective: u64,
    next_index: i64,
    in_flight: FuturesOrdered<PageFuture<'a, T>>,
    /// Pages answered (in order) while the consumer read the one before.
    ready: VecDeque<(i64, Result<Page<T>, Error>)>,
    total: Option<i64>,
    requesting: bool,
    finished: bool,
    buffer: VecDeque<T>,
    emitted: usize,
    /// The last page's items, to tell a server that ignores `page_index`.
    previous: Option<Vec<T>>,
}

/// The engine: items of the pages `fetch` returns, in order.
pub(crate) fn paginate<'a, T, F>(
    options: PageOptions,
    fetch: F,
) -> impl Stream<Item = Result<T, Error>> + Send + Unpin + 'a
where
    T: PartialEq + Clone + Send + 'a,
    F: Fn(i64, NonZeroU64) -> BoxFuture<'a, Result<Page<T>, Error>> + Send + Sync + 'a,
{
    let size = options.limit.map_or(options.page_size, |l| {
        options.page_size.min(l.max(1) as u64)
    });
    let size = NonZeroU64::new(size).unwrap_or(NonZeroU64::MIN);
    let state = State {
        fetch: Box::new(move |index, size| {
            let fut = fetch(index, size);
            Box::pin(async move { (index, fut.await) })
        }),
        options,
        size,
        effective: size.get(),
        next_index: 0,
        in_flight: FuturesOrdered::new(),
        ready: VecDeque::new(),
        total: None,
        requesting: options.limit != Some(0),
        finished: options.limit == Some(0),
        buffer: VecDeque::new(),
        emitted: 0,
        previous: None,
    };
    // Boxed so that callers can `while let Some(x) = stream.try_next().await` without pinning.
    Box::pin(stream::unfold(state, |mut s| async move {
        loop {
            if s.options.limit.is_some_and(|l| s.emitted >= l) {
                return None;
            }
            // Keep the pages in flight moving while the consumer reads this one: send the
            // requests the window allows now, and take any page already answered, without
            // waiting (a page in flight is only polled here, in the consumer's task).
            if !s.finished {
                s.refill();
                while !s.in_flight.is_empty() {
                    match futures::poll!(s.in_flight.next()) {
                        std::task::Poll::Ready(Some(done)) => s.ready.push_back(done),
                        _ => break,
                    }
                }
            }
            if let Some(item) = s.buffer.pop_front() {
                s.emitted += 1;
                return Some((Ok(item), s));
            }
            if s.finished {
                return None;
            }
            let (index, result) = match s.ready.pop_front() {
                Some(done) => done,
                None => s.in_flight.next().await?,
            };
            let page = match result {
                Ok(page) => page,
                Err(e) => {
                    s.finished = true;
                    return Some((Err(e), s));
                }
            };
            let len = page.items.len() as u64;
            if !page.items.is_empty() {
                // The whole page, not its first and last rows: rows without an id (batch
                // recipients) can repeat at a page's edges while the pages differ.
                if index > 0 && s.previous.as_ref() == Some(&page.items) {
                    s.finished = true;
                    let err = Error::new(
                        ErrorKind::Decode,
                        format!(
                            "page {index} repeats page {}: the server ignores page_index",
                            index - 1
                        ),
                    );
                    return Some((Err(err), s));
                }
                s.previous = Some(page.items.clone());
            }
            match page.count {
                // A negative count is no total at all: the list ends at its first short page.
                Some(c) if c >= 0 && (s.total.is_some() || c as u64 > len) => s.total = Some(c),
                _ => {}
            }
            if index == 0 && len > 0 && len < s.effective {
                // Fewer than asked for on the first page: the server's page size (or the whole list).
                s.effective = len;
                s.buffer.extend(page.items);
                continue;
            }
            if len < s.effective {
                // A short or empty page ends the list; later pages in flight are dropped.
                s.finished = true;
                s.requesting = false;
                s.in_flight = FuturesOrdered::new();
                s.ready.clear();
            } else if s
                .total
                .is_some_and(|t| s.next_index.saturating_mul(s.effective as i64) < t)
            {
                // The total grew past what was requested: keep going.
                s.requesting = true;
            }
            s.buffer.extend(page.items);
        }
    }))
}

impl<T> State<'_, T> {
    /// Requests pages until the window is full: `concurrency` pages in flight or answered and
    /// waiting, once the total is trusted; until then one.
    fn refill(&mut self) {
        let window = if self.total.is_some() {
            self.options.concurrency
        } else {
            1
        };
        while self.requesting && self.in_flight.len() + self.ready.len() < window {
            let asked = self.next_index.saturating_mul(self.effective as i64);
            if self.total.is_some_and(|t| asked >= t) {
                self.requesting = false;
                break;
            }
            // Enough asked for the limit, as pages are sized now (a short first page can make
            // them smaller, and then more are needed).
            if self
                .options
                .limit
                .is_some_and(|l| asked >= i64::try_from(l).unwrap_or(i64::MAX))
            {
                break;
            }
            let fut = (self.fetch)(self.next_index, self.size);
            self.in_flight.push_back(fut);
            self.next_index += 1;
        }
    }
}

/// How a list's response becomes a page. build.rs implements it for every list whose spec says
/// `x-herohealth-paged: {items, count}`; the lists whose answer needs reading by hand implement it here.
pub(crate) trait IntoPage {
    /// One list item.
    type Item;
    /// The page's items and, when the response says, the total across pages.
    fn into_page(self) -> Page<Self::Item>;
}

/// The engine over a generated list builder: `fetch(index, size)` sends one page request. Every
/// `Paginate` impl (generated by build.rs from `x-herohealth-paged`) is this one call.
pub(crate) fn pages<'a, R, F, Fut>(
    options: PageOptions,
    fetch: F,
) -> impl Stream<Item = Result<R::Item, Error>> + Send + Unpin + 'a
where
    R: IntoPage + 'a,
    R::Item: PartialEq + Clone + Send + 'a,
    F: Fn(i64, NonZeroU64) -> Fut + Send + Sync + 'a,
    Fut: std::future::Future<Output = Result<crate::Response<R>, Error>> + Send + 'a,
{
    paginate(options, move |index, size| {
        let request = fetch(index, size);
        Box::pin(async move { Ok(request.await?.into_inner().into_page()) })
    })
}

/// The list of batch messages is read in each of the three forms the server may send
/// (see `BatchMessageListResponse` in `openapi.yaml`).
impl IntoPage for types::BatchMessageListResponse {
    type Item = types::BatchMessage;
    fn into_page(self) -> Page<types::BatchMessage> {
        match self {
            Self::BatchMessageList(l) => Page {
                items: l.data,
                count: Some(l.count),
            },
            Self::Array(items) => Page { items, count: None },
            Self::BatchMessage(one) => Page {
                items: vec![one],
                count: None,
            },
        }
    }
}

#[cfg(test)]
mod tests;
