//! `migrate`: carry a Twitter/X archive or Mastodon's exports into a fediverse account.
//!
//! The library never prints; the binary (`src/main.rs`, through [`cli`]) renders what it
//! returns. Data flows one way: [`source`] (read inputs) → `plan` (pure transforms) → `run`
//! (journal, pacing) → `net` (HTTP); see `DESIGN.md` for the layers still to come.

pub mod cli;
pub mod net;
pub mod plan;
pub mod redact;
pub mod run;
pub mod source;
