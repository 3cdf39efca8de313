//! The one integration test binary: a module per area.

mod bad_input;
mod cli;
mod e2e;
mod fixtures;
mod frameworks;
mod generators;
mod nonconformant;
mod oracle;
mod props;
mod python;
mod report;
mod roundtrip;
mod serve;
mod snapshots;
mod stderr;
mod support;
mod tools;
