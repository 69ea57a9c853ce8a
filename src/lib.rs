//! rollsafe keeps Kubernetes rollouts and pod shutdowns free of dropped requests.

pub mod model;
pub mod source;
