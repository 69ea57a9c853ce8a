//! TLS: the rustls server configuration (ring provider only) and certificate
//! reload.
//!
//! cert-manager's Secret reaches the pod as a projected volume: the kubelet
//! writes new files into a fresh folder and swaps a `..data` symlink, never
//! rewriting the files in place, so a watch on the file paths would miss the
//! change. The files are polled instead and their bytes compared; a new pair
//! is parsed aside and swapped in only when the certificate and key parse and
//! belong together. A bad pair (or a half-written one: new certificate, old
//! key) keeps the old certificate serving and logs an error.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::metrics::{Metrics, Reload};

/// How often the certificate files are read when nothing else is said. The
/// kubelet refreshes projected Secrets within a minute or so; cert-manager
/// renews weeks before expiry.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Environment variable overriding the poll interval (a Go duration, `500ms`),
/// for tests.
pub const POLL_INTERVAL_ENV: &str = "ROLLSAFE_TLS_POLL_INTERVAL";

/// Why a certificate pair cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("`{path}` is not a PEM certificate chain: {message}")]
    BadCertificate { path: PathBuf, message: String },
    #[error("`{path}` holds no usable PEM private key: {message}")]
    BadKey { path: PathBuf, message: String },
    #[error("the key in `{key}` does not belong to the certificate in `{cert}`: {message}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
    #[error("cannot build the TLS configuration: {0}")]
    Config(String),
}

/// The provider every TLS object here is built with.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as the process-wide provider, so that nothing that asks for
/// "the default" (a dependency built with another provider) can panic.
pub fn install_provider() {
    // An error means a provider is already installed: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where the pair lives, and what was last read from there.
#[derive(Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Parses a certificate chain and key from PEM bytes.
pub fn parse_pair(
    files: &CertFiles,
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            path: files.cert.clone(),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::BadKey {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        message: e.to_string(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Serves whichever certificate was last loaded successfully.
#[derive(Debug)]
pub struct Reloading {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|key| Arc::clone(&key))
    }
}

/// The TLS side of the server: its configuration and the reload loop's state.
#[derive(Debug)]
pub struct Tls {
    files: CertFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Reloading>,
    /// Bytes of the pair in service, and of the last pair that failed (so a
    /// bad pair is reported once, not on every poll).
    seen: RwLock<(Vec<u8>, Vec<u8>)>,
    failed: RwLock<Option<(Vec<u8>, Vec<u8>)>>,
}

impl Tls {
    /// Loads the pair; the server does not start without a good one.
    pub fn load(files: CertFiles) -> Result<Tls, TlsError> {
        let provider = provider();
        let cert_pem = read(&files.cert)?;
        let key_pem = read(&files.key)?;
        let key = parse_pair(&files, &cert_pem, &key_pem, &provider)?;
        Ok(Tls {
            files,
            provider,
            resolver: Arc::new(Reloading {
                current: RwLock::new(Arc::new(key)),
            }),
            seen: RwLock::new((cert_pem, key_pem)),
            failed: RwLock::new(None),
        })
    }

    /// A server configuration offering HTTP/2 and HTTP/1.1 (ALPN) that always
    /// presents the current certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&self.resolver) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Reads the files once; swaps the certificate when they changed and the
    /// new pair is good. `Some(result)` when something changed.
    pub fn reload_if_changed(&self) -> Option<Result<(), TlsError>> {
        let (cert_pem, key_pem) = match (read(&self.files.cert), read(&self.files.key)) {
            (Ok(cert), Ok(key)) => (cert, key),
            // Files briefly missing mid-swap: try again next time, quietly.
            _ => return None,
        };
        let unchanged = self
            .seen
            .read()
            .map(|seen| seen.0 == cert_pem && seen.1 == key_pem)
            .unwrap_or(true);
        let known_bad = self
            .failed
            .read()
            .map(|failed| {
                failed
                    .as_ref()
                    .is_some_and(|f| f.0 == cert_pem && f.1 == key_pem)
            })
            .unwrap_or(false);
        if unchanged || known_bad {
            return None;
        }
        match parse_pair(&self.files, &cert_pem, &key_pem, &self.provider) {
            Ok(key) => {
                if let Ok(mut current) = self.resolver.current.write() {
                    *current = Arc::new(key);
                }
                if let Ok(mut seen) = self.seen.write() {
                    *seen = (cert_pem, key_pem);
                }
                Some(Ok(()))
            }
            Err(error) => {
                if let Ok(mut failed) = self.failed.write() {
                    *failed = Some((cert_pem, key_pem));
                }
                Some(Err(error))
            }
        }
    }

    /// Polls the files until the task is dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration, metrics: Arc<Metrics>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let tls = Arc::clone(&self);
            let Ok(outcome) = tokio::task::spawn_blocking(move || tls.reload_if_changed()).await
            else {
                continue;
            };
            match outcome {
                None => {}
                Some(Ok(())) => {
                    metrics.certificate_reload(Reload::Success);
                    tracing::info!(
                        cert = %self.files.cert.display(),
                        "reloaded the TLS certificate"
                    );
                }
                Some(Err(error)) => {
                    metrics.certificate_reload(Reload::Failure);
                    tracing::error!(
                        %error,
                        "the new TLS certificate pair cannot be used; still serving the previous one"
                    );
                }
            }
        }
    }
}

/// The poll interval: [`POLL_INTERVAL_ENV`] when set and valid, else the default.
pub fn poll_interval() -> Duration {
    std::env::var(POLL_INTERVAL_ENV)
        .ok()
        .and_then(|text| crate::model::parse_duration(&text).ok())
        .map(Duration::from)
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_POLL_INTERVAL)
}
