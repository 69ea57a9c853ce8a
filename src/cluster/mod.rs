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

use kube::api::{Api, ListParams};

/// Objects per page of a list.
const PAGE: u32 = 500;

/// Lists every object of `api` page by page, handing each to `each` as its
/// page arrives (so that a caller keeping less than the object never holds
/// more than a page whole), and returns the list's `resourceVersion`.
async fn list_pages<K>(api: &Api<K>, mut each: impl FnMut(K)) -> Result<String, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default().limit(PAGE);
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let page = api.list(&params).await?;
        let version = page.metadata.resource_version.clone().unwrap_or_default();
        page.items.into_iter().for_each(&mut each);
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(version),
        }
    }
}
