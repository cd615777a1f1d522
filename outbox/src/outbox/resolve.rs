//! Resolving rows left in flight or unknown (after a crash, or a send whose answer was lost),
//! before anything new is sent: each is looked for with `find_attempt`.

#[allow(unused_imports)]
use super::*;
use tracing::Instrument;

impl<J: Journal> Outbox<J> {
    /// Resolves every row in flight or unknown. One patient's unresolved rows (only a journal
    /// written by several workers, or edited, has more than one) are resolved together: if any
    /// candidate shows, they all end ambiguous.
    /// Returns whether there was anything to resolve.
    pub(super) async fn resolve(
        &self,
        hero: &HeroClient,
        entries: Vec<Entry>,
        progress: &mut Progress,
        on_event: &mut impl FnMut(Event),
    ) -> Result<bool, OutboxError> {
        let known = self.journal.known_ids().await?;
        // A crash (or a worker that stopped): the request was written just after the row went in
        // flight, and Hero may carry it out until the attempt's deadline, which the attempt
        // recorded; the lookup waits that out. (A row goes back to pending only from unknown, so
        // its send stays counted.)
        let mut mine = Vec::with_capacity(entries.len());
        for mut e in entries {
            if let RowState::InFlight { attempt } = &e.state {
                let to = RowState::Unknown {
                    attempt: attempt.clone(),
                    accepted: false,
                };
                match self
                    .transition(e.run, e.index, Status::InFlight, to.clone())
                    .await
                {
                    Ok(()) => {}
                    // Taken over meanwhile: the other worker resolves it.
                    Err(JournalError::Fenced { .. }) => {
                        crate::telemetry::lease_lost();
                        continue;
                    }
                    Err(err) => return Err(err.into()),
                }
                e.state = to;
            }
            mine.push(e);
        }
        let entries = mine;
        let mut by_patient: BTreeMap<String, Vec<(Entry, SendAttempt, bool)>> = BTreeMap::new();
        for e in entries {
            let (attempt, accepted) = match &e.state {
                RowState::Unknown { attempt, accepted } => (attempt.clone(), *accepted),
                _ => continue,
            };
            by_patient
                .entry(e.row.patient_id().to_owned())
                .or_default()
                .push((e, attempt, accepted));
        }
        if by_patient.is_empty() {
            return Ok(false);
        }
        let find = self.options.find.clone().exclude(known);
        // One worker never leaves two of a patient's rows unresolved at once (rows to one patient
        // go one at a time, none while one is unresolved); if a journal has some anyway, they are
        // looked at together.
        // Owned clusters and a plain method: the run's future stays `Send`.
        let clusters: Vec<Vec<(Entry, SendAttempt, bool)>> = by_patient.into_values().collect();
        let mut looks = futures::stream::iter(clusters)
            .map(|cluster| look(hero, cluster, find.clone()))
            .buffer_unordered(self.options.concurrency);
        let mut failure = None;
        while let Some(result) = looks.next().await {
            let found = match result {
                Ok(found) => found,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            let several = found.len() > 1;
            let candidates: Vec<String> = found
                .iter()
                .flat_map(|(_, _, f)| match f {
                    FoundSend::Sent { message_id } => vec![message_id.clone()],
                    FoundSend::Ambiguous { message_ids } => message_ids.clone(),
                    _ => Vec::new(),
                })
                .collect();
            for (e, accepted, answer) in &found {
                let to = match answer {
                    _ if several && !candidates.is_empty() => RowState::Ambiguous {
                        message_ids: candidates.clone(),
                        reason: "several of this patient's sends were unresolved at once".into(),
                    },
                    FoundSend::Sent { message_id } => RowState::Sent {
                        message_id: message_id.clone(),
                    },
                    // The reason says only what the lookup showed (FoundSend::Ambiguous lists
                    // the candidates, then the others around the window): a listed message is
                    // never called this send's unless it was identified.
                    FoundSend::Ambiguous { message_ids } => RowState::Ambiguous {
                        message_ids: message_ids.clone(),
                        reason: match message_ids.len() {
                            0 => "nothing is listed for it, but the clocks disagree: whether it went cannot be proven",
                            1 => "one listed message to this patient is near the attempt, but it is not shown to be this send's (its text may differ): check it in Hero before deciding",
                            _ => "several listed messages to this patient are near the attempt, and none is shown to be this send's: check them in Hero before deciding",
                        }
                        .into(),
                    },
                    _ if *accepted => RowState::Ambiguous {
                        message_ids: Vec::new(),
                        reason: "Hero accepted it but does not list it".into(),
                    },
                    _ if e.sends >= self.options.max_sends => RowState::Failed {
                        reason: format!(
                            "not sent: Hero did not carry out any of {} attempts",
                            e.sends
                        ),
                    },
                    _ => RowState::Pending,
                };
                let status = to.status();
                tracing::debug!(row = e.index, status = status.as_str(), "outbox: resolved");
                match self.transition(e.run, e.index, e.state.status(), to).await {
                    Ok(()) => {}
                    Err(JournalError::Fenced { .. }) => {
                        crate::telemetry::lease_lost();
                        tracing::warn!(
                            row = e.index,
                            "outbox: a row was taken over by another worker"
                        );
                        continue;
                    }
                    Err(err) => return Err(err.into()),
                }
                if status.is_final() {
                    progress.done += 1;
                }
                on_event(Event::Row {
                    index: e.index,
                    line: e.row.line(),
                    status,
                });
            }
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(true),
        }
    }
}

/// Looks for each send of one patient's unresolved rows.
async fn look(
    hero: &HeroClient,
    cluster: Vec<(Entry, SendAttempt, bool)>,
    find: FindOptions,
) -> Result<Vec<(Entry, bool, FoundSend)>, herohealth::Error> {
    let mut found = Vec::new();
    for (e, attempt, accepted) in cluster {
        let span = crate::telemetry::resolve_span(&e);
        let answer = hero
            .find_attempt(&attempt, find.clone())
            .instrument(span.clone())
            .await?;
        crate::telemetry::found(&span, &answer);
        found.push((e, accepted, answer));
    }
    Ok(found)
}
