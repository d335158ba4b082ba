//! Pure transforms, no I/O: inputs become the operations to carry out.

pub mod choices;
pub mod graph;
pub mod posts;
pub mod preview;
pub mod select;
pub mod text;
