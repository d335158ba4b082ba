//! Posting an archive's tweets, exactly once: each tweet is a journal item whose payload holds
//! its [`Draft`] and what has been done so far (media ids, status ids), so a resumed run picks
//! up where the last one stopped, mid-chain included.
//!
//! Every status is sent with a deterministic `Idempotency-Key` (account, tweet, part): the
//! move to `sending` is committed first, and if the answer is lost, sending again with the
//! same key within the server's hour returns the status already created instead of a second
//! one. Past that hour (a run resumed the next day, or a retry held back by a rate window) the
//! key no longer protects: the account's own statuses are searched for the one that may have
//! been created — same reply target, same media count, created since the first attempt (or at
//! the backdated time), same source text — and it is adopted if found; only then is it sent
//! again. When the search cannot tell, the tweet fails with a reason rather than risk a double.
//!
//! Media ids are journalled as soon as the upload answers, so a resumed run does not upload a
//! file twice. Replies are posted after their parent, with its status id from the journal; a
//! reply whose parent did not become a status is posted on its own, and says so. On servers
//! that can backdate (GoToSocial 0.18+), each status carries its tweet's time as a past
//! `scheduled_at`.

use std::io::Read;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::net::http::HttpError;
use crate::net::mastodon::{InstanceInfo, Mastodon, NewStatus, Posted, Status};
use crate::plan::posts::Draft;
use crate::source::twitter::Archive;

use super::events::{Event, Sink};
use super::gate::Family;
use super::journal::{ItemState, Journal, JournalError};
use super::pacer::{PaceError, Pacer, Waits};

/// A tweet's journal payload: its draft and its progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostState {
    pub draft: Draft,
    /// Uploaded media ids, per group.
    #[serde(default)]
    pub media_ids: Vec<Vec<Option<String>>>,
    /// Created statuses (id, url), per status of the chain: text parts, then media follow-ups.
    #[serde(default)]
    pub statuses: Vec<Option<(String, Option<String>)>>,
    /// Notes for the report (media skipped, posted on its own).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl PostState {
    pub fn new(draft: Draft) -> PostState {
        let n = draft.status_count();
        PostState {
            media_ids: draft.media.iter().map(|g| vec![None; g.len()]).collect(),
            statuses: vec![None; n],
            notes: Vec::new(),
            draft,
        }
    }

    /// The last status of the chain: what a reply to this tweet answers.
    pub fn last_status(&self) -> Option<&str> {
        self.statuses
            .iter()
            .rev()
            .flatten()
            .next()
            .map(|(id, _)| id.as_str())
    }
}

/// The journal key of a tweet.
pub fn item_key(draft: &Draft) -> String {
    format!("tweet:{}", draft.tweet)
}

/// How long a sent key is trusted to replay safely: Mastodon keeps keys for an hour; ten
/// minutes are left for clocks and slow answers.
pub const KEY_TRUSTED: std::time::Duration = std::time::Duration::from_secs(50 * 60);

/// Pages of the account's statuses searched when reconciling (40 each).
const RECONCILE_PAGES: usize = 25;

/// The `Idempotency-Key` of a status: the same for the same account, tweet and part, always.
pub fn idempotency_key(account: &str, tweet: &str, index: usize) -> String {
    let digest = Sha256::digest(format!("migrate:{account}:{tweet}:{index}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("stopped: the {family} rate window is exhausted until {until}")]
    RateWindow {
        family: String,
        until: chrono::DateTime<Utc>,
    },
    #[error(transparent)]
    Unauthorized(HttpError),
    #[error("stopped by Ctrl-C")]
    Interrupted,
    /// The server kept failing (5xx, network) after the retries: the run stops rather than
    /// post later tweets first, or a reply before its parent.
    #[error("the server kept failing: {0}")]
    Unavailable(HttpError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

pub struct PostRun<'a> {
    pub client: &'a Mastodon,
    pub journal: &'a mut Journal,
    pub pacer: Pacer<'a>,
    pub sink: &'a mut dyn Sink,
    pub archive: &'a mut Archive,
    pub run_id: i64,
    pub account: String,
    /// The account's id on the server, for reconciliation.
    pub account_id: String,
    pub visibility: String,
    pub instance: InstanceInfo,
    /// Create each status at its tweet's time (a past `scheduled_at`; GoToSocial).
    pub backdate: bool,
}

enum Step {
    Http(HttpError),
    Journal(JournalError),
    Stop(PostError),
    /// Whether a status was created cannot be told: the tweet fails with this reason.
    Unsure(String),
    /// A status's retries were held back past its key's hour (see [`Pacer::call_until`]).
    Expired(HttpError),
}

impl From<JournalError> for Step {
    fn from(e: JournalError) -> Self {
        Step::Journal(e)
    }
}

impl From<HttpError> for Step {
    fn from(e: HttpError) -> Self {
        Step::Http(e)
    }
}

fn pace_step(e: PaceError) -> Step {
    match e {
        PaceError::Http(e) | PaceError::Expired(e) => Step::Http(e),
        PaceError::Journal(e) => Step::Journal(e),
        PaceError::Window { family, until } => Step::Stop(PostError::RateWindow {
            family: family.name().into(),
            until,
        }),
    }
}

fn mime_of(file: &str) -> &'static str {
    let ext = file.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        _ => "application/octet-stream",
    }
}

impl PostRun<'_> {
    /// Sends one request at the server's pace (see [`Pacer::call`]).
    async fn call<T, F, Fut>(&mut self, families: &[Family], f: F) -> Result<T, Step>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, HttpError>>,
    {
        let mut waits = Waits {
            journal: self.journal,
            sink: &mut *self.sink,
            run_id: self.run_id,
            account: &self.account,
        };
        self.pacer
            .call(families, &mut waits, f)
            .await
            .map_err(pace_step)
    }

    /// Posts every open tweet in order.
    pub async fn run(&mut self) -> Result<(), PostError> {
        let items: Vec<_> = self
            .journal
            .items(self.run_id, None)?
            .into_iter()
            .filter(|i| matches!(i.state, ItemState::Pending | ItemState::Sending))
            .collect();
        let total = items.len() as u64;
        self.sink.emit(Event::Phase {
            phase: "post".into(),
            total,
        });
        for (n, item) in items.into_iter().enumerate() {
            let Ok(mut state) = serde_json::from_str::<PostState>(&item.payload) else {
                self.journal
                    .mark_failed(self.run_id, &item.key, "unreadable journal entry")?;
                continue;
            };
            let uncertain = (item.state == ItemState::Sending)
                .then_some(item.sent_at)
                .flatten();
            match self.post_one(&item.key, &mut state, uncertain).await {
                Ok(()) => {}
                Err(Step::Unsure(reason)) => {
                    self.save(&item.key, &state)?;
                    self.journal.mark_failed(self.run_id, &item.key, &reason)?;
                }
                Err(Step::Journal(e)) => return Err(e.into()),
                Err(Step::Stop(e)) => return Err(e),
                Err(Step::Http(e @ HttpError::Unauthorized { .. })) => {
                    return Err(PostError::Unauthorized(e));
                }
                Err(Step::Http(e) | Step::Expired(e)) if e.is_transient() => {
                    // A status whose answer was lost stays `sending`, so that the next run
                    // knows to look for it once its key has expired.
                    let current = self.journal.item(self.run_id, &item.key)?;
                    if !(e.maybe_processed()
                        && current.is_some_and(|i| i.state == ItemState::Sending))
                    {
                        self.journal
                            .mark_pending(self.run_id, &item.key, &e.to_string())?;
                    }
                    return Err(PostError::Unavailable(e));
                }
                Err(Step::Http(e) | Step::Expired(e)) => {
                    let reason = match e.server_message() {
                        Some(m) => format!("refused by the server: {m}"),
                        None => e.to_string(),
                    };
                    self.journal.mark_failed(self.run_id, &item.key, &reason)?;
                }
            }
            self.sink.emit(Event::Progress {
                phase: "post".into(),
                done: n as u64 + 1,
                total,
            });
        }
        Ok(())
    }

    fn save(&mut self, key: &str, state: &PostState) -> Result<(), JournalError> {
        self.journal.set_payload(
            self.run_id,
            key,
            &serde_json::to_string(state).expect("serializable"),
        )
    }

    /// The status id a reply to `tweet` answers, when that tweet was posted.
    fn parent_status(
        &self,
        tweet: crate::source::twitter::Id,
    ) -> Result<Option<String>, JournalError> {
        Ok(self
            .journal
            .item(self.run_id, &format!("tweet:{tweet}"))?
            .filter(|i| i.state == ItemState::Done)
            .and_then(|i| serde_json::from_str::<PostState>(&i.payload).ok())
            .and_then(|s| s.last_status().map(str::to_string)))
    }

    /// Posts a tweet's remaining statuses. `uncertain` is when the last run sent a status of
    /// this tweet without learning the outcome (the item was left `sending`).
    async fn post_one(
        &mut self,
        key: &str,
        state: &mut PostState,
        mut uncertain: Option<chrono::DateTime<Utc>>,
    ) -> Result<(), Step> {
        let parent = match state.draft.reply_to {
            Some(p) => {
                let found = self.parent_status(p)?;
                if found.is_none() && !state.notes.iter().any(|n| n.contains("on its own")) {
                    state.notes.push(format!(
                        "posted on its own: the tweet it replies to ({p}) was not posted"
                    ));
                }
                found
            }
            None => None,
        };
        if let Some(o) = &state.draft.orphan
            && !state.notes.contains(o)
        {
            state.notes.push(o.clone());
        }
        for index in 0..state.statuses.len() {
            if state.statuses[index].is_some() {
                continue;
            }
            let mut media_ids = Vec::new();
            if let Some(g) = state.draft.status_media(index) {
                for m in 0..state.draft.media[g].len() {
                    if let Some(id) = &state.media_ids[g][m] {
                        media_ids.push(id.clone());
                        continue;
                    }
                    let file = state.draft.media[g][m].file.clone();
                    let description = state.draft.media[g][m].description.clone();
                    match self.upload(&file, description.as_deref()).await {
                        Ok(Some(id)) => {
                            state.media_ids[g][m] = Some(id.clone());
                            self.save(key, state)?;
                            media_ids.push(id);
                        }
                        Ok(None) => {
                            state
                                .notes
                                .push(format!("`{file}` skipped: over the server's size limit"));
                        }
                        Err(Step::Http(HttpError::Unprocessable { message, .. })) => {
                            state
                                .notes
                                .push(format!("`{file}` refused by the server: {message}"));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            let reply = if index == 0 {
                parent.clone()
            } else {
                state.statuses[index - 1].as_ref().map(|(id, _)| id.clone())
            };
            // Each status of a chain a second after the one before, so they keep their order.
            let scheduled_at = if self.backdate {
                state
                    .draft
                    .created_at
                    .map(|at| at + chrono::Duration::seconds(index as i64))
            } else {
                None
            };
            let status = NewStatus {
                status: state.draft.status_text(index),
                media_ids,
                in_reply_to_id: reply,
                visibility: Some(self.visibility.clone()),
                language: state.draft.language.clone(),
                scheduled_at,
                ..NewStatus::default()
            };
            // The last run sent this status and never learned the outcome: past the key's
            // hour, look for it before sending it again.
            if let Some(sent) = uncertain.take()
                && (Utc::now() - sent).to_std().unwrap_or_default() > KEY_TRUSTED
            {
                if let Some(found) = self.reconcile(&status, sent).await? {
                    state.statuses[index] = Some(found);
                    self.save(key, state)?;
                    continue;
                }
            }
            let idem = idempotency_key(&self.account, &state.draft.tweet.to_string(), index);
            self.journal.mark_sending(self.run_id, key, Some(&idem))?;
            let sent = Utc::now();
            let deadline = std::time::Instant::now() + KEY_TRUSTED;
            let posted = match self.post_status(&status, &idem, deadline).await {
                Err(Step::Expired(_)) => {
                    // Retries were held back past the key's hour: the first may have landed.
                    match self.reconcile(&status, sent).await? {
                        Some(found) => {
                            state.statuses[index] = Some(found);
                            self.save(key, state)?;
                            continue;
                        }
                        None => {
                            self.post_status(
                                &status,
                                &idem,
                                std::time::Instant::now() + KEY_TRUSTED,
                            )
                            .await?
                        }
                    }
                }
                Err(Step::Http(HttpError::NotFound { .. })) if status.in_reply_to_id.is_some() => {
                    // The status it answers is gone from the server (deleted since it was
                    // posted): post it on its own, under a key of its own, and say so.
                    let alone = NewStatus {
                        in_reply_to_id: None,
                        ..status.clone()
                    };
                    state.notes.push(
                        "the status it replies to is gone from the server: posted on its own"
                            .into(),
                    );
                    self.post_status(
                        &alone,
                        &format!("{idem}-alone"),
                        std::time::Instant::now() + KEY_TRUSTED,
                    )
                    .await?
                }
                other => other?,
            };
            let (id, url) = match posted {
                Posted::Status(s) => (s.id.clone(), s.url.clone().or(Some(s.uri.clone()))),
                Posted::Scheduled(s) => (s.id, None),
            };
            state.statuses[index] = Some((id, url));
            self.save(key, state)?;
        }
        let urls: Vec<String> = state
            .statuses
            .iter()
            .flatten()
            .filter_map(|(_, u)| u.clone())
            .collect();
        let mut note = urls.join(" ");
        if !state.notes.is_empty() {
            note = format!("{note} ({})", state.notes.join("; "));
        }
        self.save(key, state)?;
        self.journal.mark_done(
            self.run_id,
            key,
            state
                .statuses
                .first()
                .and_then(|s| s.as_ref())
                .map(|(id, _)| id.as_str()),
            Some(&note),
        )?;
        self.sink.emit(Event::Item {
            key: key.to_string(),
            outcome: "done".into(),
            reason: Some(note),
        });
        Ok(())
    }

    /// Sends a status with its key, retrying transient failures until `deadline`.
    async fn post_status(
        &mut self,
        status: &NewStatus,
        idem: &str,
        deadline: std::time::Instant,
    ) -> Result<Posted, Step> {
        let client = self.client.clone();
        let mut waits = Waits {
            journal: self.journal,
            sink: &mut *self.sink,
            run_id: self.run_id,
            account: &self.account,
        };
        self.pacer
            .call_until(
                &[Family::Api, Family::Statuses],
                &mut waits,
                Some(deadline),
                || {
                    let client = client.clone();
                    let status = status.clone();
                    let idem = idem.to_string();
                    async move { client.post_status(&status, &idem).await }
                },
            )
            .await
            .map_err(|e| match e {
                PaceError::Expired(e) => Step::Expired(e),
                other => pace_step(other),
            })
    }

    /// Looks for `status` among the account's own statuses, created since `sent` (less a
    /// margin for clocks) or, when backdated, at its backdated time: same reply target, same
    /// number of media, and the same source text. `Ok(None)` when it is certainly not there.
    async fn reconcile(
        &mut self,
        status: &NewStatus,
        sent: chrono::DateTime<Utc>,
    ) -> Result<Option<(String, Option<String>)>, Step> {
        let since = sent - chrono::Duration::minutes(10);
        let client = self.client.clone();
        let account_id = self.account_id.clone();
        let mut next = None;
        for _ in 0..RECONCILE_PAGES {
            let page = self
                .call(&[Family::Api], || {
                    let client = client.clone();
                    let account_id = account_id.clone();
                    let next = next.clone();
                    async move { client.account_statuses_page(&account_id, next).await }
                })
                .await?;
            let mut past = page.items.is_empty();
            for candidate in &page.items {
                let Some(at) = candidate.created_at else {
                    continue;
                };
                let fits = match status.scheduled_at {
                    Some(when) => (at - when).num_seconds().abs() <= 1,
                    None => at >= since,
                };
                if !fits {
                    // Newest first: once older than what is looked for, it is not further on.
                    let older = match status.scheduled_at {
                        Some(when) => at < when - chrono::Duration::seconds(1),
                        None => at < since,
                    };
                    past |= older;
                    continue;
                }
                if self.same_status(candidate, status).await? {
                    return Ok(Some((
                        candidate.id.clone(),
                        candidate.url.clone().or(Some(candidate.uri.clone())),
                    )));
                }
            }
            if past {
                return Ok(None);
            }
            match page.next {
                Some(n) => next = Some(n),
                None => return Ok(None),
            }
        }
        Err(Step::Unsure(format!(
            "a status of this tweet may have been created in an earlier run (its answer was lost over an hour ago) and more than {} of the account's statuses would have to be searched to tell; check the account, then use --exclude-ids or run again",
            RECONCILE_PAGES * 40
        )))
    }

    /// Whether a status of the account is the one `status` asked for.
    async fn same_status(&mut self, candidate: &Status, status: &NewStatus) -> Result<bool, Step> {
        if candidate.in_reply_to_id != status.in_reply_to_id
            || candidate.media_attachments.len() != status.media_ids.len()
        {
            return Ok(false);
        }
        let client = self.client.clone();
        let id = candidate.id.clone();
        let source = self
            .call(&[Family::Api], || {
                let client = client.clone();
                let id = id.clone();
                async move { client.status_source(&id).await }
            })
            .await
            .map_err(|e| match e {
                // Listed, then denied: it may be this tweet's status, so it must not be posted
                // again, nor taken for it.
                Step::Http(e @ HttpError::NotFound { .. }) => Step::Unsure(format!(
                    "status {id} of the account may be this tweet's, but the server would not show its text ({e}); check the account, then use --exclude-ids or run again"
                )),
                other => other,
            })?;
        let norm = |s: &str| s.replace("\r\n", "\n").trim().to_string();
        Ok(norm(&source.text) == norm(&status.status))
    }

    /// Uploads a file of the archive and waits until it is processed. `Ok(None)` when it is
    /// over the server's size limit.
    async fn upload(
        &mut self,
        file: &str,
        description: Option<&str>,
    ) -> Result<Option<String>, Step> {
        let mime = mime_of(file);
        let limit = if mime.starts_with("video/") {
            self.instance.video_size_limit
        } else {
            self.instance.image_size_limit
        }
        .unwrap_or(u64::MAX);
        let bytes = {
            let mut reader = match self.archive.container_mut().open_file(file) {
                Ok(r) => r,
                Err(e) => {
                    return Err(Step::Http(HttpError::Invalid {
                        url: file.to_string(),
                        message: e.to_string(),
                    }));
                }
            };
            let mut bytes = Vec::new();
            let read = (&mut reader)
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes);
            if read.is_err() {
                return Err(Step::Http(HttpError::Invalid {
                    url: file.to_string(),
                    message: "the file could not be read from the archive".into(),
                }));
            }
            bytes
        };
        if bytes.len() as u64 > limit {
            return Ok(None);
        }
        let client = self.client.clone();
        let name = file.rsplit('/').next().unwrap_or(file).to_string();
        let media = self
            .call(&[Family::Api, Family::Media], || {
                let client = client.clone();
                let bytes = bytes.clone();
                let name = name.clone();
                let description = description.map(str::to_string);
                async move {
                    client
                        .upload_media(&name, mime, bytes, description.as_deref())
                        .await
                }
            })
            .await?;
        if media.url.is_none() {
            self.wait_for_media(&media.id, file).await?;
        }
        Ok(Some(media.id))
    }

    /// Polls an upload the server processes asynchronously (video, GIF) until it is ready,
    /// waiting longer between polls (0.5 s doubling to 8 s), at most [`MEDIA_WAIT`]. Each poll
    /// is paced and retried like any request: it counts against the API's budget.
    ///
    /// [`MEDIA_WAIT`]: crate::net::mastodon::MEDIA_WAIT
    async fn wait_for_media(&mut self, id: &str, file: &str) -> Result<(), Step> {
        let started = std::time::Instant::now();
        let mut delay = std::time::Duration::from_millis(500);
        let client = self.client.clone();
        loop {
            let (ready, _) = self
                .call(&[Family::Api], || {
                    let client = client.clone();
                    let id = id.to_string();
                    async move { client.media(&id).await }
                })
                .await?;
            if ready {
                return Ok(());
            }
            if started.elapsed() + delay > crate::net::mastodon::MEDIA_WAIT {
                return Err(Step::Http(HttpError::Invalid {
                    url: file.to_string(),
                    message: format!(
                        "the server had not processed the upload after {} s",
                        started.elapsed().as_secs()
                    ),
                }));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let a = idempotency_key("me@s.example", "123", 0);
        assert_eq!(a, idempotency_key("me@s.example", "123", 0));
        assert_ne!(a, idempotency_key("me@s.example", "123", 1));
        assert_ne!(a, idempotency_key("you@s.example", "123", 0));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_of("tweets_media/1-a.JPG"), "image/jpeg");
        assert_eq!(mime_of("tweets_media/1-a.mp4"), "video/mp4");
        assert_eq!(mime_of("x"), "application/octet-stream");
    }
}
