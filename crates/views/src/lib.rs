//! Platform resources (applications, users, channels, messages, threads, receipts,
//! notifications, jobs, chat functions and their runtime) as JSON, in one place for every face:
//! the REST API adds HAL `_links` under its link base; the real-time gateway adds its
//! `_relays`/`_topics`/`_actions`/`_streams`.
//! Resources are written in snake_case; each face renames for its callers.

pub mod channels;
pub mod functions;
pub mod jobs;
pub mod links;
pub mod messages;
pub mod sessions;
pub mod streams;
pub mod users;

/// Where a resource's links point: no request needed, so any face can render.
#[derive(Debug, Clone)]
pub struct LinkBase {
    /// `http://host:port` + `""`, `"/v1"` or `"/v1/applications/{id}"`.
    pub base: String,
    /// `http://host:port`, for links outside the API (avatars).
    pub origin: String,
    /// Links go through `/v1/applications/{id}`, where that path is the application.
    pub app_scoped: bool,
}

impl LinkBase {
    /// The base of links at the API's root on `origin`.
    pub fn root(origin: &str) -> Self {
        let origin = origin.trim_end_matches('/').to_string();
        LinkBase {
            base: origin.clone(),
            origin,
            app_scoped: false,
        }
    }

    /// An absolute link to `path` (which starts with `/`) under this prefix.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The path of the caller's application resource under this prefix.
    pub fn application_path(&self) -> &'static str {
        if self.app_scoped {
            ""
        } else {
            "/application"
        }
    }
}
