//! Local state and execution: the state directory and stored tokens ([`tokens`]), the journal
//! ([`journal`]), the rate gates ([`gate`]) and progress [`events`].

pub mod events;
pub mod gate;
pub mod graph;
pub mod journal;
pub mod pacer;
pub mod posts;
pub mod tokens;
