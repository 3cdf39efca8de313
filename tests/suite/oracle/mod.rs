//! Testing the tester: the positive oracle (the reference loop replays any generated cassette
//! conformantly, with exact timings on a virtual clock) and the mutation oracle (one mistake
//! in a correct follow-up makes exactly the matching rules fire, with the provider's own 400).
//!
//! - [`positive`]: the reference loop on generated cassettes of every provider.
//! - [`mutation`]: the mutation oracle's driver (the mistakes, the loop over bundled and
//!   generated follow-ups, the exact rules and answers) and the list of providers' mutators.
//!   Its doc says how to add a provider.
//! - [`openai_chat`], [`anthropic`], [`openai_responses`], [`gemini`]: one mutator each, editing that provider's wire JSON, with
//!   the provider's error texts and the reproducers of bugs found on its wire.
//! - [`messages`]: reads and edits shared by the wires with a `messages` array.
//! - [`sessions`]: session rules on whole replayed conversations.
//! - [`faults`]: the fault rules on scripted loops, on tokio's paused clock.
//! - [`model_faults`]: the model-fault rules (a call the loop cannot run, a result no tool
//!   produced) on scripted loops.
//! - [`rules`]: every rule made to fire, and one report snapshot per rule.

mod anthropic;
mod faults;
mod gemini;
mod messages;
mod model_faults;
mod mutation;
mod openai_chat;
mod openai_responses;
mod positive;
mod rules;
mod sessions;
