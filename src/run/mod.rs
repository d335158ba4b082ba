//! Local state and execution: the state directory and stored tokens ([`tokens`]), the journal
//! ([`journal`]) and the rate gates ([`gate`]).

pub mod gate;
pub mod journal;
pub mod tokens;
