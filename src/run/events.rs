//! Events: how long-running work tells the CLI what it is doing. The library never prints;
//! it sends [`Event`]s to a [`Sink`], which the CLI renders as progress bars on a terminal,
//! plain lines otherwise, or one JSON object per line with `--json`.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A phase starts (`resolve`, `apply`, `confirm`), with how many items it has.
    Phase { phase: String, total: u64 },
    /// Progress within the current phase.
    Progress {
        phase: String,
        done: u64,
        total: u64,
    },
    /// One item reached an outcome.
    Item {
        key: String,
        outcome: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Waiting for a rate window.
    Waiting {
        family: String,
        until: DateTime<Utc>,
        description: String,
    },
    /// A note for the user (a plan line, a warning).
    Note { level: Level, text: String },
    /// The last event: counts by outcome and by reason.
    Summary(serde_json::Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warning,
}

/// Where events go.
pub trait Sink: Send {
    fn emit(&mut self, event: Event);
}

/// Collects events (for tests and for callers that render at the end).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<Event>);

impl Sink for Collect {
    fn emit(&mut self, event: Event) {
        self.0.push(event);
    }
}
