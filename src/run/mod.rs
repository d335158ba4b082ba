//! Local state and execution: the state directory and stored tokens ([`tokens`]); the journal,
//! rate gates and executor come with the importers.

pub mod tokens;
