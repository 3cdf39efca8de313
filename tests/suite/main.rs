//! The one integration test binary: a module per area.

mod bad_input;
mod cli;
mod discovery;
mod e2e;
mod fixtures;
mod fuzz;
mod generators;
mod hostile;
mod import;
mod layout;
mod load;
mod nonconformant;
mod oracle;
mod props;
mod python;
mod record;
mod report;
mod roundtrip;
mod serve;
mod signals;
mod snapshots;
mod stderr;
mod support;
mod threads;
mod tools;
mod transport;
