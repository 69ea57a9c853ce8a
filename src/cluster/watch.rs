//! One list/watch loop per kind, as the API's own clients do it: list (in
//! pages), then watch from the list's `resourceVersion` with bookmarks,
//! resume from the last version seen when a watch ends or breaks, and list
//! again when the version has expired (410 Gone).
//!
//! Written on kube's client rather than kube-runtime's watcher because the
//! view must know when it last heard from the API server: the watcher
//! swallows bookmarks, so a quiet, healthy watch and a dead one would look
//! the same.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, WatchEvent, WatchParams};

use super::view::{ClusterView, Watched};

/// How long one watch request lasts before the API server ends it and the
/// loop resumes: the view hears from the server at least this often even in
/// a cluster where nothing changes (bookmarks come more often).
pub const WATCH_SECONDS: u32 = 240;
/// A watch that lasted less than this is followed by a backoff.
const MIN_WATCH: Duration = Duration::from_secs(1);
/// Backoff after a failure: doubled up to the maximum, reset by success.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);

/// Keeps the view's objects of kind `K` in step with the cluster, forever.
pub async fn run<K: Watched>(api: Api<K>, view: Arc<ClusterView>) {
    let kind = K::WATCHED.as_str();
    let Some(state) = view.state(K::WATCHED) else {
        return;
    };
    let mut retry = FIRST_RETRY;
    let mut version: Option<String> = None;
    loop {
        let from = match version.take() {
            Some(from) => from,
            None => match list(&api).await {
                Ok((objects, listed_at)) => {
                    tracing::info!(kind, objects = objects.len(), "cluster view: listed");
                    view.replace_all(objects);
                    retry = FIRST_RETRY;
                    listed_at
                }
                Err(error) => {
                    state.failed();
                    tracing::warn!(kind, %error, retry_ms = millis(retry), "cluster view: list failed");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(MAX_RETRY);
                    continue;
                }
            },
        };
        // Bookmarks are asked for by default.
        let params = WatchParams::default().timeout(WATCH_SECONDS);
        let started = std::time::Instant::now();
        let stream = match api.watch(&params, &from).await {
            Ok(stream) => {
                state.heard();
                stream
            }
            Err(kube::Error::Api(status)) if status.code == 410 => {
                tracing::info!(kind, "cluster view: resourceVersion expired, listing again");
                continue;
            }
            Err(error) => {
                state.failed();
                tracing::warn!(kind, %error, retry_ms = millis(retry), "cluster view: watch failed");
                version = Some(from);
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        let mut stream = std::pin::pin!(stream);
        let mut last = from;
        let ended = loop {
            match stream.next().await {
                None => break Ended::OnTime,
                Some(Ok(WatchEvent::Added(object) | WatchEvent::Modified(object))) => {
                    state.heard();
                    if let Some(at) = object.metadata().resource_version.clone() {
                        last = at;
                    }
                    view.apply(object);
                    retry = FIRST_RETRY;
                }
                Some(Ok(WatchEvent::Deleted(object))) => {
                    state.heard();
                    if let Some(at) = object.metadata().resource_version.clone() {
                        last = at;
                    }
                    view.delete(&object);
                    retry = FIRST_RETRY;
                }
                Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                    state.heard();
                    last = bookmark.metadata.resource_version;
                }
                Some(Ok(WatchEvent::Error(status))) if status.code == 410 => break Ended::Expired,
                Some(Ok(WatchEvent::Error(status))) => {
                    tracing::warn!(kind, code = status.code, message = %status.message, "cluster view: watch error");
                    break Ended::Broken;
                }
                Some(Err(error)) => {
                    tracing::warn!(kind, %error, "cluster view: watch broke");
                    break Ended::Broken;
                }
            }
        };
        let hasty = started.elapsed() < MIN_WATCH;
        match ended {
            Ended::OnTime => {
                state.heard();
                version = Some(last);
            }
            Ended::Expired => {
                state.heard();
                tracing::info!(kind, "cluster view: resourceVersion expired, listing again");
            }
            Ended::Broken => {
                state.failed();
                version = Some(last);
            }
        }
        // A watch that ends at once, however it ends, must not turn into a
        // loop of requests against the API server.
        if hasty || matches!(ended, Ended::Broken) {
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(MAX_RETRY);
        }
    }
}

/// How one watch request ended.
#[derive(Debug, Clone, Copy)]
enum Ended {
    /// The server's timeout: resume from the last version seen.
    OnTime,
    /// 410 Gone: the version is too old to resume from; list again.
    Expired,
    /// An error or a cut connection: resume after a backoff.
    Broken,
}

/// Every object of the kind, projected, and the version to watch from.
async fn list<K: Watched>(api: &Api<K>) -> Result<(Vec<K>, String), kube::Error> {
    let mut objects = Vec::new();
    let version = super::list_pages(api, |object: K| objects.push(object.project())).await?;
    Ok((objects, version))
}

/// Starts one loop per kind the view watches, on the current runtime.
pub fn start(client: &kube::Client, view: &Arc<ClusterView>) -> Vec<tokio::task::JoinHandle<()>> {
    use super::view::WatchedKind;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::{ConfigMap, Service};
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    view.kinds()
        .iter()
        .map(|state| {
            let client = client.clone();
            let view = Arc::clone(view);
            match state.kind {
                WatchedKind::Service => tokio::spawn(run(Api::<Service>::all(client), view)),
                WatchedKind::PodDisruptionBudget => {
                    tokio::spawn(run(Api::<PodDisruptionBudget>::all(client), view))
                }
                WatchedKind::HorizontalPodAutoscaler => {
                    tokio::spawn(run(Api::<HorizontalPodAutoscaler>::all(client), view))
                }
                WatchedKind::ConfigMap => tokio::spawn(run(Api::<ConfigMap>::all(client), view)),
            }
        })
        .collect()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
