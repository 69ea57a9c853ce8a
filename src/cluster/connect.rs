//! A kube client, configured as kubectl would be: `--kubeconfig` or
//! `KUBECONFIG` or `~/.kube/config`, else the pod's service account.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Which cluster to talk to, and as whom.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// A kubeconfig file; otherwise `KUBECONFIG`, `~/.kube/config`, or the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; otherwise its current context.
    pub context: Option<String>,
}

/// Why no client could be made, or a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot read the kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error(
        "no cluster configuration found: {0} (pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account)"
    )]
    Infer(#[source] kube::config::InferConfigError),
    #[error("the kubeconfig cannot be used: {0}")]
    Config(#[source] kube::config::KubeconfigError),
    #[error("cannot build a client: {0}")]
    Client(#[source] kube::Error),
    #[error("cannot list {what}: {source}")]
    List {
        what: String,
        #[source]
        source: kube::Error,
    },
}

/// A client for `target`, and the namespace its context defaults to.
pub async fn client(target: &Target) -> Result<(kube::Client, String), ClusterError> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match (&target.kubeconfig, &target.context) {
        (Some(path), _) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                    path: path.display().to_string(),
                    source,
                })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(ClusterError::Config)?
        }
        (None, Some(_)) => kube::Config::from_kubeconfig(&options)
            .await
            .map_err(ClusterError::Config)?,
        (None, None) => kube::Config::infer().await.map_err(ClusterError::Infer)?,
    };
    // kube retries 429/503/504 up to 15 times with a backoff that sums to
    // minutes: an audit would hang, and the watches have their own backoff.
    let mut config = config;
    config.default_retry = false;
    crate::webhook::tls::install_provider();
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).map_err(ClusterError::Client)?;
    Ok((client, namespace))
}
