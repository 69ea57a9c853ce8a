//! The Kubernetes minor version rules judge against.

use std::fmt;
use std::str::FromStr;

/// A Kubernetes `major.minor` version, e.g. `1.31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        KubeVersion { major, minor }
    }

    /// The oldest minor rollsafe judges: older releases are long out of support.
    pub const OLDEST: KubeVersion = KubeVersion::new(1, 25);
    /// The newest minor the bundled Kubernetes types describe (k8s-openapi `latest`).
    pub const NEWEST: KubeVersion = KubeVersion::new(1, 37);

    /// `lifecycle.preStop.sleep` is on by default (beta) from 1.30.
    pub const SLEEP_ACTION: KubeVersion = KubeVersion::new(1, 30);
    /// `sleep.seconds: 0` is accepted from 1.33.
    pub const SLEEP_ZERO: KubeVersion = KubeVersion::new(1, 33);
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("`{0}` is not a Kubernetes version (expected `MAJOR.MINOR`, e.g. `1.31`)")]
    Malformed(String),
    #[error("Kubernetes {0} is not supported: rollsafe knows {oldest} to {newest}", oldest = KubeVersion::OLDEST, newest = KubeVersion::NEWEST)]
    OutOfRange(KubeVersion),
}

impl FromStr for KubeVersion {
    type Err = VersionError;

    /// Accepts `1.31`, `v1.31` and `1.31.2` (the patch level does not matter).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || VersionError::Malformed(text.to_owned());
        let trimmed = text.trim().trim_start_matches('v');
        let mut parts = trimmed.split('.');
        let major = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(malformed)?;
        let minor = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(malformed)?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().map_err(|_| malformed())?;
        }
        if parts.next().is_some() {
            return Err(malformed());
        }
        let version = KubeVersion::new(major, minor);
        if version < KubeVersion::OLDEST || version > KubeVersion::NEWEST {
            return Err(VersionError::OutOfRange(version));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_bounds() {
        assert_eq!("1.31".parse(), Ok(KubeVersion::new(1, 31)));
        assert_eq!("v1.29.3".parse(), Ok(KubeVersion::new(1, 29)));
        assert!(matches!(
            "1.24".parse::<KubeVersion>(),
            Err(VersionError::OutOfRange(_))
        ));
        assert!(matches!(
            "1.38".parse::<KubeVersion>(),
            Err(VersionError::OutOfRange(_))
        ));
        assert!(matches!(
            "one".parse::<KubeVersion>(),
            Err(VersionError::Malformed(_))
        ));
        assert!(KubeVersion::new(1, 29) < KubeVersion::SLEEP_ACTION);
    }
}
