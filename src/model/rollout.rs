//! Rollout arithmetic: placeholder, being written.
