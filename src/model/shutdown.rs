//! Drain delay and shutdown timeout: placeholder, being written.
