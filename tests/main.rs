//! One integration-test binary: each module would otherwise link the whole
//! dependency graph on its own.

mod catalog;
mod cli;
mod cli_controls;
mod cluster;
mod corpus;
mod export;
mod fixes;
mod formats;
mod fuzz;
mod fuzz_checks;
mod hardening;
mod hooks;
mod install;
mod lsp;
mod rules;
mod schema;
mod timeline;
mod util;
mod webhook;
