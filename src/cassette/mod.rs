//! The cassette: one recorded conversation on disk, format version 1.
//!
//! A cassette keeps each recorded response verbatim (the JSON body as text, or the SSE frames
//! with their boundaries), each recorded request as JSON, the per-tool simulation settings and
//! the provenance. [`Cassette::load`] parses and decodes it; [`Cassette::lint`] checks what a
//! replay relies on. `tooltape schema` prints [`schema`].

mod error;
mod files;
mod format;
mod loaded;

pub use error::*;
pub use files::*;
pub use format::*;
pub use loaded::*;
