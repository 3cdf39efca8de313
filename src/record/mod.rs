//! Record and import: provider traffic people already have, or record once, into cassettes.
//!
//! A recording is read by the reader of its [`format`] (told from the content) into
//! [`Exchange`]s; [`conversation`] keeps the calls to a provider tooltape reads (found by the
//! URL's route through [`crate::provider::Provider::route`], else by the bodies, so a new
//! provider is covered without changing this module) and splits them into conversations;
//! [`import`] makes one cassette per conversation, completed with marked synthetic turns where
//! the recording stops early ([`complete`]), with secrets scrubbed and a last scan for keys
//! ([`redact`]); [`write`] writes it atomically. [`proxy`] records new traffic through the same
//! path.
//!
//! ```
//! let bytes = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}"#;
//! let recording = tooltape::record::format::read(bytes)?;
//! let origin = tooltape::record::Origin { path: "hi.json".into(), stem: "hi".into(), format: recording.format.clone() };
//! let cassettes = tooltape::record::import_exchanges(&recording.exchanges, &origin, &Default::default())?;
//! assert_eq!(cassettes[0].file.interactions.len(), 1);
//! # Ok::<(), tooltape::record::ImportErrorKind>(())
//! ```

mod bare;
pub mod complete;
pub mod conversation;
mod error;
pub mod exchange;
pub mod format;
mod govcr;
mod har;
mod import;
mod json_list;
pub mod proxy;
pub mod redact;
mod ruby_vcr;
mod vcrpy;
pub mod write;
mod yaml;

pub use error::{ImportError, ImportErrorKind};
pub use exchange::{Exchange, Payload, Timing};
pub use import::{ImportOptions, Imported, Origin, import_exchanges, import_file};
pub use proxy::{RecordOptions, Recorder};
