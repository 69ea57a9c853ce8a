//! rollsafe keeps Kubernetes rollouts and pod shutdowns free of dropped requests.
//!
//! Data flows one way: [`source`] turns bytes into documents with source
//! positions, [`model`] gives them a typed view, [`rules`] turn workloads into
//! violations, the [`engine`] places and ranks them as findings, and
//! [`report`] renders them.

#[macro_use]
pub mod rules;

pub mod apply;
pub mod cli;
pub mod commands;
pub mod deadline;
pub mod engine;
pub mod finding;
pub mod fix;
pub mod model;
pub mod policy;
pub mod report;
pub mod schema;
pub mod severity;
pub mod source;
pub mod suggest;
pub mod timeline;
pub mod webhook;
