//! The webhook's repairs as a MutatingAdmissionPolicy.

use serde_json::Value;

use crate::policy::Policy;

/// The MutatingAdmissionPolicy documents and what the header says of them.
pub fn documents(
    _api_version: &str,
    _policy: &Policy,
    _mutate_all: bool,
) -> (Vec<Value>, Vec<String>) {
    (Vec::new(), Vec::new())
}
