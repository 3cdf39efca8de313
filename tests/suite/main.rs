//! The one integration test binary: a module per area.

mod bad_input;
mod cli;
mod e2e;
mod fixtures;
mod generators;
mod import;
mod layout;
mod nonconformant;
mod oracle;
mod props;
mod python;
mod record;
mod report;
mod roundtrip;
mod serve;
mod snapshots;
mod stderr;
mod support;
mod tools;
