//! What rollsafe reads from a cluster: the cluster view of `rollsafe serve
//! --cluster-view` (the objects around the one under review, kept fresh by
//! watches) and the objects `rollsafe audit` lints.
//!
//! - [`view`]: the projections of the watched objects, by namespace, and
//!   whether they can be trusted (synced, fresh).
//! - [`watch`]: one list/watch loop per kind, feeding the view.
//! - [`connect`]: a client from the kubeconfig or the pod's service account.

pub mod audit;
pub mod connect;
pub mod view;
pub mod watch;

pub use connect::{ClusterError, Target, client};
pub use view::{Blind, ClusterView, WatchedKind};
