//! Finding a send whose outcome is unknown: [`HeroClient::find_send`] and
//! [`HeroClient::find_attempt`], which answer [`FoundSend::Sent`], [`FoundSend::NotSent`] or
//! [`FoundSend::Ambiguous`], on evidence only.
//!
//! Hero has no idempotency key, so the only way to know whether a send went is to find its
//! message in Hero's list of sent messages and tell it from every other. The answers:
//!
//! - **`Sent` is this attempt's own message, identified.** A candidate agrees with every field
//!   Hero lists (patient, message type, recipient in its canonical form, scheduled time) and was
//!   created in the attempt's window; it is identified when Hero's own copy of it (`getMessage`'s
//!   text, and its SNOMED code when the attempt had one) is the attempt's, byte for byte, and
//!   every other candidate around the window is shown to be another's. A candidate whose text
//!   cannot be compared is `Ambiguous`, unless the caller opts in to the old rule with its bound
//!   ([`FindOptions::sole_candidate_is_sent`]).
//! - **The window spans every clock.** The attempt ran from its start to its deadline by this
//!   machine's clock; Hero stamps `created_at` by its own, whose offset is read from the `Date`
//!   of its answers ([`crate::ClockOffset`]: the one recorded with the attempt, and the looks'
//!   own). The window takes in every reading at once (ours too), so a send the attempt made is
//!   in it whichever reading was right.
//! - **`NotSent` only when the message can no longer appear and every clock agrees.** The
//!   deadline is the latest moment Hero could still create the message: the latest write of the
//!   request plus Hero's longest processing time
//!   ([`crate::HeroClientBuilder::hero_processing_time`]), whatever timeout the request was given.
//!   The looks come [`FindOptions::list_delay`] apart, the first that long after the deadline,
//!   [`FindOptions::looks`] in all, and an answer comes at the last (earlier only when it is
//!   settled `Ambiguous`). `NotSent` needs nothing to the patient on the channel around the
//!   window and every reading to agree within the [`FindOptions::guard_band`]: Hero's `Date` near
//!   this machine's clock, the attempt's reading and the looks' the same, no listed message
//!   stamped after Hero's now, and every `Date` readable (present, well formed, within a day).
//!   Anything else is `Ambiguous`: a person decides.
//! - **Known sends are not candidates.** The ids this client received from its own successful
//!   sends (and found with `find_send`) are excluded without being passed; a program that keeps
//!   its sends elsewhere (a journal) passes them with [`FindOptions::exclude`].
//!
//! The rules are one pure function (`rules::decide`, its table in its docs); this module only
//! sleeps, lists and reads.

mod options;
mod rules;
mod window;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;

pub use options::{Candidate, FindOptions, Finding, FoundSend, Identified, TextCheck};

use crate::{
    HeroClient, PageOptions, Paginate,
    api::types,
    attempt::SendAttempt,
    clock::{self, HeroClock},
    error::{Error, ErrorKind},
};
use rules::{Look, Step};
use window::{CALIBRATED, Clocks};

impl HeroClient {
    /// Resolves a send whose outcome is unknown (or that Hero accepted without a readable
    /// answer): looks for it in the sent-messages list (the rules and their bounds:
    /// [finding a send](crate::guide::finding_a_send)). The answer comes no earlier than the
    /// attempt's deadline plus `looks × list_delay`, unless it is settled `Ambiguous` before.
    ///
    /// Fails with [`ErrorKind::InvalidRequest`] when `err` has no [`SendAttempt`] (it is not a
    /// `send_message` that may have gone), and with the list's error when looking fails.
    ///
    /// ```no_run
    /// use herohealth::{FindOptions, FoundSend, MessageType};
    /// # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {
    /// let sent = hero
    ///     .send_message()
    ///     .body_map(|b| b.patient_id("98765").message_type(MessageType::Sms).message_string("Hello"))
    ///     .send()
    ///     .await;
    /// match sent {
    ///     Ok(sent) => println!("sent {}", sent.message_id),
    ///     Err(e) if e.may_have_been_sent() => match hero.find_send(&e, FindOptions::default()).await? {
    ///         FoundSend::Sent { message_id } => println!("it went: {message_id}"),
    ///         FoundSend::NotSent => println!("it did not go: safe to send again"),
    ///         FoundSend::Ambiguous { message_ids } => println!("a person decides: {message_ids:?}"),
    ///         _ => unreachable!(),
    ///     },
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_send(&self, err: &Error, options: FindOptions) -> crate::Result<FoundSend> {
        let attempt = err.send_attempt().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                "find_send: the error is not a send_message that may have gone",
            )
        })?;
        self.find_attempt(attempt, options).await
    }

    /// [`find_send`](Self::find_send) for a [`SendAttempt`] kept apart from its error (e.g. in a
    /// journal, after a crash).
    pub async fn find_attempt(
        &self,
        attempt: &SendAttempt,
        options: FindOptions,
    ) -> crate::Result<FoundSend> {
        Ok(self
            .find_attempt_with_evidence(attempt, options)
            .await?
            .answer)
    }

    /// [`find_attempt`](Self::find_attempt), with every message the answer weighed
    /// ([`Finding::candidates`]): what a person deciding an `Ambiguous` answer is shown, without
    /// patient data.
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient, attempt: herohealth::SendAttempt) -> herohealth::Result<()> {
    /// let finding = hero.find_attempt_with_evidence(&attempt, Default::default()).await?;
    /// for c in &finding.candidates {
    ///     println!("{} {:?}s after the start, {:?}, text {:?}", c.message_id, c.after_start_s, c.status, c.text);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find_attempt_with_evidence(
        &self,
        attempt: &SendAttempt,
        options: FindOptions,
    ) -> crate::Result<Finding> {
        let patient_id = attempt.patient_id().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidRequest,
                "find_send: the attempt has no patient_id",
            )
        })?;
        // The looks read Hero's clock afresh: what they read is weighed apart from what this
        // client read before.
        let looker = self.with_own_clock();
        if options.sole_candidate {
            looker.calibrate(patient_id).await?;
        }
        let own = self.inner.own_sends.others_than(attempt.started());
        let known = |id: &str| options.exclude.contains(id) || own.contains(id);
        let mut compared = HashMap::new();
        let last = options.looks.max(1);
        let due = |look: u32| {
            clock::add(
                attempt.deadline(),
                clock::duration(options.list_delay.saturating_mul(look)),
            )
        };
        let mut look = 0;
        loop {
            look += 1;
            // A look whose time has passed is skipped, but the last one is always made.
            if look < last && due(last) <= clock::now() {
                look = last;
            }
            let wait = (due(look) - clock::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let listed = looker.listed(patient_id, attempt).await?;
            let clocks = Clocks {
                attempt: attempt.clock(),
                looking: looker.inner.clock.reading(),
                now: clock::now(),
            };
            loop {
                let step = rules::decide(&Look {
                    attempt,
                    listed: &listed,
                    known: &known,
                    compared: &compared,
                    clocks,
                    last: look >= last,
                    options: &options,
                });
                match step {
                    Step::Compare(ids) => {
                        for id in ids {
                            let copy = looker.get_message().id(id.clone()).send().await?;
                            compared.insert(id, rules::check(attempt, &copy));
                        }
                    }
                    Step::LookAgain => break,
                    Step::Found(finding) => {
                        if let FoundSend::Sent { message_id } = &finding.answer {
                            self.inner
                                .own_sends
                                .remember_found(message_id, attempt.started());
                        }
                        return Ok(finding);
                    }
                }
            }
        }
    }

    /// Whether message `message_id` is a send of `body`, on Hero's own records: Hero's copy of
    /// it (`getMessage`) is for `body`'s patient with its text (and SNOMED code) byte for byte,
    /// and Hero lists it for that patient on `body`'s channel, to its recipient, at its
    /// schedule. For a person who found a message and says it is a send's: anything but
    /// [`Identified::Same`] is no evidence. Fails with Hero's error when the message cannot be
    /// read (not found, or not the practice group's).
    ///
    /// ```no_run
    /// # async fn run(hero: herohealth::HeroClient, body: herohealth::types::SendMessageRequest) -> herohealth::Result<()> {
    /// match hero.identify_message(&body, "251").await? {
    ///     herohealth::Identified::Same => println!("it went, as message 251"),
    ///     other => println!("not shown to be this send's: {other}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn identify_message(
        &self,
        body: &types::SendMessageRequest,
        message_id: &str,
    ) -> crate::Result<Identified> {
        let now = clock::now();
        let attempt = SendAttempt::new(body, now, now);
        let patient_id = body.patient_id.as_str();
        let copy = self.get_message().id(message_id.to_owned()).send().await?;
        if copy.patient.as_ref().map(|p| p.id.as_str()) != Some(patient_id) {
            return Ok(Identified::Different {
                field: "patient_id",
            });
        }
        match rules::check(&attempt, &copy) {
            TextCheck::Same => {}
            TextCheck::Different => return Ok(Identified::Different { field: "content" }),
            _ => return Ok(Identified::Unknown { field: "content" }),
        }
        let listed = self.listed(patient_id, &attempt).await?;
        let Some(m) = listed.iter().find(|m| m.id.as_deref() == Some(message_id)) else {
            return Ok(Identified::Unknown {
                field: "message_type",
            });
        };
        Ok(match rules::differing_field(&attempt, m) {
            Some(field) => Identified::Different { field },
            None => Identified::Same,
        })
    }

    /// A [`SendAttempt`] for `body` starting now, as this client would make it: its request
    /// written now, or by a retry up to the retry policy's total deadline later, and Hero able to
    /// create the message up to [`hero_processing_time`](Self::hero_processing_time) after that,
    /// with Hero's clock as last read. For a durable sender that records an attempt before it
    /// writes the request (so a crash leaves something to look for); one that writes it later
    /// (after its journal's commit) says by when with [`SendAttempt::written_by`].
    ///
    /// ```
    /// # fn run(hero: herohealth::HeroClient, body: herohealth::types::SendMessageRequest) {
    /// let attempt = hero.start_attempt(&body);
    /// // store `attempt` durably, then send `body` ...
    /// # let _ = attempt; }
    /// ```
    pub fn start_attempt(&self, body: &types::SendMessageRequest) -> SendAttempt {
        let started = clock::now();
        let policy = self.retry_policy();
        let retries = if policy.get_max_attempts() > 1 {
            policy.get_total_deadline()
        } else {
            std::time::Duration::ZERO
        };
        let processing = clock::duration(self.hero_processing_time());
        SendAttempt::new(body, started, clock::add(started, processing))
            .written_by(clock::add(started, clock::duration(retries)))
            .with_clock(self.hero_clock())
    }

    /// This client with a clock of its own, read afresh by its requests.
    fn with_own_clock(&self) -> HeroClient {
        let mut state = self.inner.clone();
        state.clock = HeroClock::default();
        HeroClient::new_with_client(&self.baseurl, self.client.clone(), state)
    }

    /// Narrows this client's reading of Hero's clock to [`CALIBRATED`] with a few one-item reads
    /// of the patient's list, each timed to reach Hero just as its `Date` changes second (as
    /// `htpdate` does): each answer halves what is not known. At most [`PROBES`] reads; a Hero
    /// that sends no `Date` leaves the reading open. Only for
    /// [`FindOptions::sole_candidate_is_sent`], whose "certainly inside" needs it.
    async fn calibrate(&self, patient_id: &str) -> crate::Result<()> {
        for probe in 0..PROBES {
            if let Some(offset) = self.hero_clock() {
                if offset.hi() - offset.lo() <= CALIBRATED {
                    break;
                }
                // Send so that, by the middle of what is known of the offset, the request reaches
                // Hero at a second's boundary: the `Date` it gets tells which side it was on.
                let mid = offset.lo() + (offset.hi() - offset.lo()) / 2;
                let hero_now = clock::now() + mid;
                let boundary = DateTime::<Utc>::from_timestamp(hero_now.timestamp() + 1, 0)
                    .unwrap_or(hero_now);
                let wait = (boundary - mid - clock::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
            } else if probe > 0 {
                break;
            }
            self.list_sent_messages()
                .patient_id(patient_id)
                .page_index(0)
                .page_size(1)
                .send()
                .await?;
        }
        Ok(())
    }

    /// Every message Hero lists for the patient on the attempt's channel.
    async fn listed(
        &self,
        patient_id: &str,
        attempt: &SendAttempt,
    ) -> crate::Result<Vec<types::SentMessage>> {
        let mut request = self.list_sent_messages().patient_id(patient_id);
        if let Some(t) = attempt.message_type() {
            request = request.message_type(t.clone());
        }
        request
            .stream_with(PageOptions::default().page_size(100))
            .try_collect()
            .await
    }
}

/// The most reads [`HeroClient::calibrate`] makes.
const PROBES: usize = 6;
