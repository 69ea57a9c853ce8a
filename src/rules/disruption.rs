//! Rules of this family: declarations only so far; their checks are being written.
use super::Rule;

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PdbMissing {
        id: "pdb-missing",
        fix: None,
        settings: [],
    }
}

impl Rule for PdbMissing {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct PdbBlocksEviction {
        id: "pdb-blocks-eviction",
        fix: None,
        settings: [],
    }
}

impl Rule for PdbBlocksEviction {}

declare_rule! {
    /// ## What it does
    /// Not yet implemented.
    pub struct HpaReplicasConflict {
        id: "hpa-replicas-conflict",
        fix: None,
        settings: [],
    }
}

impl Rule for HpaReplicasConflict {}
