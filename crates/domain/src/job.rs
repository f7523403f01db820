//! Background jobs: what kinds there are, the states a job goes through, and what a job reports
//! while it runs. Jobs themselves are rows (see the store's `Jobs`); this is their vocabulary.

use serde::{Deserialize, Serialize};

/// What a job does. The name is what the jobs table stores and the platform API shows as `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobKind {
    UserImport,
    ChannelImport,
    ChannelMembersImport,
    MessageImport,
    MessageAnalyticsExport,
    /// ChatKitty has no name for the users export; this is Palaver's.
    UserAnalyticsExport,
    /// Deletes the stored objects of deleted messages and users.
    FileCleanup,
    /// Installs a version of an application's Node.js runtime (its npm dependencies and
    /// initialization script); payload `{"version": "v0.0.2"}`.
    RuntimeInstall,
    /// Runs a chat function on an event of its trigger; payload as the service's
    /// `InvocationJob`.
    FunctionInvocation,
    /// Publishes a scheduled flake when its `publish_at` comes; payload as the content
    /// service's `PublishJob`.
    FlakePublish,
    /// Posts a published flake into the subscribed chat channels of its bot's application;
    /// payload as the content service's `ChatPostJob`.
    FlakeChatPost,
    /// Sends one flake event to one webhook endpoint; payload as the content service's
    /// `WebhookJob`.
    WebhookDelivery,
    /// Runs an active content channel on its schedule and enqueues its next run; payload as
    /// the content service's `ChannelRunJob`.
    ChannelRun,
}

impl JobKind {
    pub const ALL: [JobKind; 13] = [
        JobKind::UserImport,
        JobKind::ChannelImport,
        JobKind::ChannelMembersImport,
        JobKind::MessageImport,
        JobKind::MessageAnalyticsExport,
        JobKind::UserAnalyticsExport,
        JobKind::FileCleanup,
        JobKind::RuntimeInstall,
        JobKind::FunctionInvocation,
        JobKind::FlakePublish,
        JobKind::FlakeChatPost,
        JobKind::WebhookDelivery,
        JobKind::ChannelRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::UserImport => "USER_IMPORT",
            JobKind::ChannelImport => "CHANNEL_IMPORT",
            JobKind::ChannelMembersImport => "CHANNEL_MEMBERS_IMPORT",
            JobKind::MessageImport => "MESSAGE_IMPORT",
            JobKind::MessageAnalyticsExport => "MESSAGE_ANALYTICS_EXPORT",
            JobKind::UserAnalyticsExport => "USER_ANALYTICS_EXPORT",
            JobKind::FileCleanup => "FILE_CLEANUP",
            JobKind::RuntimeInstall => "RUNTIME_INSTALL",
            JobKind::FunctionInvocation => "FUNCTION_INVOCATION",
            JobKind::FlakePublish => "FLAKE_PUBLISH",
            JobKind::ChannelRun => "CHANNEL_RUN",
            JobKind::FlakeChatPost => "FLAKE_CHAT_POST",
            JobKind::WebhookDelivery => "WEBHOOK_DELIVERY",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether an application sees jobs of this kind (`GET /jobs`): the ones it started.
    /// Housekeeping the server does for itself is not listed.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            JobKind::FileCleanup
                | JobKind::RuntimeInstall
                | JobKind::FunctionInvocation
                | JobKind::FlakePublish
                | JobKind::FlakeChatPost
                | JobKind::WebhookDelivery
                | JobKind::ChannelRun
        )
    }

    /// The kinds an application sees, by name.
    pub fn public_names() -> Vec<&'static str> {
        JobKind::ALL
            .into_iter()
            .filter(|k| k.is_public())
            .map(JobKind::as_str)
            .collect()
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at`, or for a worker (also between attempts).
    Pending,
    /// Held by a worker whose lease has not run out.
    Running,
    Finished,
    /// Failed for good: `error` says why, in words a user can act on.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Finished => "FINISHED",
            JobState::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Pending,
            JobState::Running,
            JobState::Finished,
            JobState::Failed,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn is_ended(self) -> bool {
        matches!(self, JobState::Finished | JobState::Failed)
    }
}

/// Counts a job reports as it goes, and where it stands in its input, so that a job run again
/// after its worker died carries on from its last checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Input elements looked at (created, skipped or failed).
    pub processed: u64,
    pub created: u64,
    /// Already there (an idempotency key seen before).
    pub skipped: u64,
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip_their_names() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_value(k).unwrap_or_default();
            assert_eq!(json, k.as_str());
        }
        for s in ["PENDING", "RUNNING", "FINISHED", "FAILED"] {
            assert_eq!(JobState::parse(s).map(JobState::as_str), Some(s));
        }
        assert_eq!(JobKind::parse("NOPE"), None);
        assert!(!JobKind::public_names().contains(&"FILE_CLEANUP"));
        assert!(!JobKind::public_names().contains(&"RUNTIME_INSTALL"));
        assert!(!JobKind::public_names().contains(&"FLAKE_PUBLISH"));
        assert!(!JobKind::public_names().contains(&"CHANNEL_RUN"));
        assert!(JobKind::public_names().contains(&"MESSAGE_IMPORT"));
    }
}
