//! A static estimate of what the exported expressions cost the API server.
