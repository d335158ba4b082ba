//! Pure transforms, no I/O: inputs become the operations to carry out.

pub mod graph;
pub mod posts;
pub mod select;
pub mod text;
