//! Readers of the user's inputs. No network here: a source turns files into typed records and
//! reports what it could not read.

pub mod discover;
pub mod handle;
pub mod mastodon_csv;
pub mod twitter;
