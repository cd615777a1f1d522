//! Sending the pending rows: each row's request written once, with its state journaled before
//! and after, at the pace, one at a time per patient.

use super::*;

impl<J: Journal> Outbox<J> {
    /// Sends the pending rows: up to `concurrency` at once, one at a time per patient, none for a
    /// patient with an unresolved row.
    pub(super) async fn send_round(
        &self,
        pace: &Pace,
        entries: Vec<Entry>,
        retries: &mut u32,
        progress: &mut Progress,
        on_event: &mut impl FnMut(Event),
    ) -> Result<(), OutboxError> {
        // The outbox takes each send's slot itself, before it records the send in flight.
        let sender = self
            .hero
            .with_retry_policy(RetryPolicy::disabled())
            .with_pace(None);
        let mut queue: VecDeque<Entry> = entries
            .into_iter()
            .filter(|e| e.state.status() == Status::Pending)
            .collect();
        let mut patients: BTreeMap<(u64, u64), String> = BTreeMap::new();
        let mut busy: HashSet<String> = HashSet::new();
        let mut blocked: HashSet<String> = HashSet::new();
        let mut running = FuturesUnordered::new();
        let mut failure: Option<OutboxError> = None;
        loop {
            while failure.is_none() && running.len() < self.options.concurrency {
                let Some(pos) = queue.iter().position(|e| {
                    !busy.contains(e.row.patient_id()) && !blocked.contains(e.row.patient_id())
                }) else {
                    break;
                };
                let entry = queue.remove(pos).expect("a queued row");
                busy.insert(entry.row.patient_id().to_owned());
                patients.insert((entry.run, entry.index), entry.row.patient_id().to_owned());
                let span = crate::telemetry::row_span(&entry);
                running.push(self.send_one(pace, &sender, entry).instrument(span));
            }
            let Some((key, line, result)) = running.next().await else {
                break;
            };
            let patient = patients.remove(&key).unwrap_or_default();
            busy.remove(&patient);
            let outcome = match result {
                Ok(outcome) => outcome,
                Err(JournalError::Fenced { .. }) => {
                    // Another worker took the row over (this one was too slow): it is theirs.
                    crate::telemetry::lease_lost();
                    tracing::warn!(
                        row = key.1,
                        "outbox: a row was taken over by another worker"
                    );
                    blocked.insert(patient);
                    continue;
                }
                Err(e) => {
                    failure.get_or_insert(e.into());
                    continue;
                }
            };
            let (run, index) = key;
            let status = match outcome {
                Sent::Final(status) => {
                    *retries = 0;
                    progress.done += 1;
                    status
                }
                Sent::Unknown => {
                    *retries = 0;
                    blocked.insert(patient);
                    Status::Unknown
                }
                Sent::Again(entry) => {
                    *retries += 1;
                    if *retries > self.options.max_retries {
                        failure.get_or_insert(OutboxError::Journal(JournalError::Storage(
                            "a row's in-flight commit outlasted the request's whole timeout, again and again: the journal is too slow for this timeout (raise it)".into(),
                        )));
                    } else {
                        queue.push_front(*entry);
                    }
                    Status::Pending
                }
                Sent::Stop(e) => {
                    failure.get_or_insert(e);
                    Status::Pending
                }
                Sent::Retry(entry, err) => {
                    *retries += 1;
                    if *retries > self.options.max_retries {
                        failure.get_or_insert(err.into());
                    } else {
                        // Nothing was carried out: it goes round again (its patient is free).
                        queue.push_front(*entry);
                    }
                    Status::Pending
                }
            };
            tracing::debug!(row = index, status = status.as_str(), "outbox: sent");
            let _ = run;
            on_event(Event::Row {
                index,
                line,
                status,
            });
            if status.is_final() {
                on_event(Event::Progress {
                    done: progress.done,
                    total: progress.total,
                });
            }
            if let Some(rate) = self.rate_change(pace) {
                on_event(Event::Rate { per_second: rate });
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes one row's request, with its state on disk before and after.
    async fn send_one(
        &self,
        pace: &Pace,
        sender: &HeroClient,
        entry: Entry,
    ) -> ((u64, u64), Option<u64>, Result<Sent, JournalError>) {
        let (run, index, line) = (entry.run, entry.index, entry.row.line());
        let result = self.send_entry(pace, sender, entry).await;
        let status = match &result {
            Ok(Sent::Final(status)) => Some(*status),
            Ok(Sent::Unknown) => Some(Status::Unknown),
            Ok(_) => Some(Status::Pending),
            Err(_) => None,
        };
        crate::telemetry::row_ended(&tracing::Span::current(), status);
        ((run, index), line, result)
    }

    async fn send_entry(
        &self,
        pace: &Pace,
        sender: &HeroClient,
        entry: Entry,
    ) -> Result<Sent, JournalError> {
        let (run, index) = (entry.run, entry.index);
        // The next slot of the pace, taken now and waited for after the in-flight commit: the
        // commit overlaps the wait instead of making the request late for its slot.
        // A pace that fails (the shared one's database) stops the run: nothing is sent without
        // its slot.
        let asked = tokio::time::Instant::now();
        let slot = match pace.reserve().await {
            Ok(slot) => slot,
            Err(e) => return Ok(Sent::Stop(OutboxError::Pace(e))),
        };
        let request = entry
            .row
            .request()
            .map_err(|e| JournalError::Storage(format!("a journal row is no longer valid: {e}")))?;
        // Its window: from now (before the commit) to the slot plus the sender's timeout: until
        // then Hero may be carrying it out, whatever happens to this process.
        let started = chrono::Utc::now();
        let wait = slot.saturating_duration_since(tokio::time::Instant::now());
        let deadline = started
            + chrono::Duration::from_std(wait.saturating_add(sender.timeout()))
                .unwrap_or(chrono::Duration::MAX / 4);
        let attempt = SendAttempt::new(&request, started, deadline).with_clock(sender.hero_clock());
        self.transition(
            run,
            index,
            Status::Pending,
            RowState::InFlight {
                attempt: attempt.clone(),
            },
        )
        .await?;
        // The slot; when the commit outlasted the wait and made it late for it, a fresh one (the
        // row is in flight meanwhile; the time left below shrinks accordingly). The wait is
        // measured with the client's own. A failure here is the pace's: the row, not written,
        // goes back to pending and the run stops.
        if let Err(e) = pace.wait_for(slot, asked, attempt.operation()).await {
            self.transition(run, index, Status::InFlight, RowState::Pending)
                .await?;
            return Ok(Sent::Stop(OutboxError::Pace(e)));
        }
        // The request must be over by the deadline just recorded: the time the commit took comes
        // off its timeout. Past the deadline already (the process was stopped meanwhile), it is
        // not written at all: a resolver may have decided on the recorded deadline.
        let left = (attempt.deadline() - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        if left.is_zero() {
            self.transition(run, index, Status::InFlight, RowState::Pending)
                .await?;
            let again = Entry {
                state: RowState::Pending,
                ..entry
            };
            return Ok(Sent::Again(Box::new(again)));
        }
        let result = sender
            .with_timeout(left)
            .send_message()
            .body(request)
            .send()
            .await;
        let (to, outcome) = match result {
            Ok(sent) => {
                pace.succeeded();
                let message_id = sent.into_inner().message_id;
                (RowState::Sent { message_id }, Sent::Final(Status::Sent))
            }
            Err(e) if e.may_have_been_sent() => {
                let attempt = e.send_attempt().cloned().unwrap_or(attempt);
                (
                    RowState::Unknown {
                        attempt,
                        accepted: e.accepted(),
                    },
                    Sent::Unknown,
                )
            }
            Err(e) if e.is_retryable() => {
                let again = Entry {
                    state: RowState::Pending,
                    ..entry.clone()
                };
                let asked = e.retry_after().unwrap_or_default();
                if e.kind() == ErrorKind::RateLimited && asked > self.options.max_wait {
                    tracing::warn!(
                        asked_s = asked.as_secs(),
                        "outbox: Hero asked to wait longer than allowed, stopping"
                    );
                    let stop = OutboxError::WaitTooLong {
                        asked,
                        allowed: self.options.max_wait,
                    };
                    (RowState::Pending, Sent::Stop(stop))
                } else {
                    if e.kind() == ErrorKind::RateLimited {
                        let rate = pace.rate_limited(e.retry_after()).await;
                        tracing::warn!(
                            per_second = rate,
                            "outbox: Hero answered 429, slowing down"
                        );
                    } else {
                        // Nothing was carried out (the connection could not be made): a short
                        // pause for everyone.
                        pace.pause(e.retry_after().unwrap_or(Duration::from_millis(500)))
                            .await;
                    }
                    (RowState::Pending, Sent::Retry(Box::new(again), e))
                }
            }
            Err(e) => (
                RowState::Failed {
                    reason: e.to_string(),
                },
                Sent::Final(Status::Failed),
            ),
        };
        self.transition(run, index, Status::InFlight, to).await?;
        Ok(outcome)
    }
}
