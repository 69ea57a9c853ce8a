//! rollsafe keeps Kubernetes rollouts and pod shutdowns free of dropped requests.
//!
//! Data flows one way: [`source`] turns bytes into documents with source
//! positions; [`model`] computes their facts once (workloads, a pod's
//! shutdown budget, a resolved rollout); [`schema`] checks documents as the
//! API server would; [`rules`] phrase those facts as violations; the
//! [`policy`] says which rules run and how severely; the [`engine`] places
//! and ranks violations as findings. Front ends sit on top: [`apply`] fixes
//! until nothing is left to fix, [`baseline`] sets known findings aside,
//! [`timeline`] draws the facts, [`report`] renders, [`webhook`] answers admission reviews, [`lsp`] serves editors, [`commands`] runs the CLI.
//! [`severity`], [`suggest`], [`deadline`], [`parallel`] and [`fix`] are
//! vocabulary every layer may use. No module imports one above it.

#[macro_use]
pub mod rules;

pub mod apply;
pub mod baseline;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod deadline;
pub mod engine;
pub mod export;
pub mod finding;
pub mod fix;
pub mod lsp;
pub mod model;
pub mod parallel;
pub mod policy;
pub mod report;
pub mod schema;
pub mod severity;
pub mod source;
pub mod suggest;
pub mod timeline;
pub mod webhook;
