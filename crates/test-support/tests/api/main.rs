//! The API test binary: every test spawns its own Palaver through `TestApp` and talks HTTP to it.

mod content_auth;
mod content_orgs;
mod content_users;
