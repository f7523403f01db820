//! The platform API's use-cases: OAuth client credentials, applications and their settings,
//! chat users and their secrets, contacts and block lists, channels and their rosters, what users
//! set for themselves in them, messages, threads, reactions, reports, read receipts,
//! notifications, hosted files and chat functions with their runtime. Every operation is bound
//! to the caller's application; every channel and message write commits with its event (see
//! `outbox`).

mod applications;
mod channel_input;
mod channel_rosters;
mod channel_state;
mod channels;
mod cleanup;
mod client_secrets;
mod contacts;
mod exports;
mod files;
mod flake_posts;
mod function_triggers;
mod functions;
mod history;
mod imports;
mod jobs;
mod message_input;
mod messages;
mod moderation;
mod notifications;
mod oauth;
mod outbox;
mod reactions;
mod realtime;
mod receipts;
mod retention;
mod send_queue;
mod sessions;
mod sort_keys;
mod threads;
mod token_memo;
mod user_refs;
mod users;

pub use applications::{CreatedApplication, SettingsInput};
pub use channel_input::{ChannelPatch, ChannelsQuery, NewChannelInput, CHANNEL_TYPES};
pub use channel_rosters::RosterUser;
pub use channel_state::ChannelContext;
pub use channels::{ChannelView, CHANNEL_SORTABLE};
pub use contacts::ContactsQuery;
pub use exports::ExportTarget;
pub use files::{
    content_disposition, file_path, FileAccess, FileMessageInput, MessageTarget, StagedFile,
    UploadMeta, WriteGrant,
};
pub use function_triggers::{triggers_of, InvocationJob};
pub use functions::{
    RuntimeChange, RuntimeRow, TriggeredFunction, FUNCTION_SORTABLE, FUNCTION_VERSION_SORTABLE,
    INVOCATION_SORTABLE,
};
pub use history::{CursorPage, MessageFilter};
pub use imports::{import_job_kind, import_payload, PreparedMessages};
pub use jobs::JOB_SORTABLE;
pub use message_input::{MessagePatch, NewMessageInput};
pub use messages::MessageView;
pub use notifications::NotificationView;
pub use oauth::TokenGrant;
pub use outbox::{Bus, Outlet, Published, BUS_CAPACITY};
pub use palaver_domain::platform::emoji::Emoji;
pub use palaver_domain::platform::event::Event;
pub use palaver_files::{FileError, FileStore, Opened};
pub use palaver_store::platform::{
    ApplicationRow, ChannelRow, ChannelState, ChatSessionRow, ChatUserRow, EventRow, FileRow,
    FunctionRow, FunctionVersionRow, InvocationRow, MessageRow, NotificationRow, Roster,
    ThreadFilter, ThreadRow, UserSessionRow, Viewing,
};
pub use reactions::{ReactionInput, ReactionSummary, ReactionView, ReportInput, ReportView};
pub use realtime::{
    NoSessionFunction, SessionAttempt, SessionDecision, SessionGate, SessionProfile,
};
pub use receipts::ReadReceipt;
pub use sessions::{ChatSessionView, SESSION_SORTABLE};
pub use sort_keys::{
    RECEIPT_SORTABLE, ROSTER_ENTRY_SORTABLE, ROSTER_USER_SORTABLE, SUMMARY_SORTABLE,
};
pub use users::{NewUserInput, UserPatch, UsersQuery, USER_SORTABLE};

use palaver_store::platform::{
    Applications, ChannelStates, Channels, ChatUsers, Consumers, Events, Functions, Invocations,
    Messages, Notifications, OauthTokens, Reactions, ReadCursors, Reports, Rosters, Runtimes,
    Sessions, Threads, UserBlocks,
};
use palaver_store::{Db, Documents};

/// Platform API settings.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Bearer token life in seconds (default 12 h).
    pub token_ttl_seconds: i64,
    /// How long a token's resolution is trusted without reading it again (default 1 s); see
    /// `token_memo`.
    pub token_memo_max_age: std::time::Duration,
    /// Where clients reach the server, for links; `None` to build links from each request.
    pub public_url: Option<String>,
    /// What every use-case reads the time from; tests move it forward.
    pub clock: palaver_domain::time::Clock,
    /// The largest upload (a hosted file) accepted, in bytes (default 100 MiB).
    pub max_upload_bytes: u64,
    /// How long a file grant lets chat clients download files, or upload while their session
    /// lasts (default 24 h).
    pub file_grant_ttl: std::time::Duration,
    /// The largest import file accepted, in bytes (default 1 GiB).
    pub max_import_bytes: u64,
    /// bcrypt work factor of new client secret hashes (default 10, as account passwords').
    pub bcrypt_cost: u32,
    /// What the server's outbound calls (webhook deliveries) may reach, and their limits.
    pub outbound: crate::fetch::FetchLimits,
    /// What content channels' feed fetches may reach, and their limits.
    pub feeds: crate::fetch::FetchLimits,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            token_ttl_seconds: 43_200,
            token_memo_max_age: token_memo::DEFAULT_MAX_AGE,
            public_url: None,
            clock: palaver_domain::time::Clock::system(),
            max_upload_bytes: 104_857_600,
            file_grant_ttl: std::time::Duration::from_secs(86_400),
            max_import_bytes: 1 << 30,
            bcrypt_cost: 10,
            outbound: crate::fetch::FetchLimits::webhooks(false),
            feeds: Default::default(),
        }
    }
}

/// A platform API caller: the application its bearer token was issued to.
#[derive(Debug, Clone)]
pub struct AppPrincipal {
    pub application_id: i64,
    pub organisation_id: String,
}

#[derive(Debug, Clone)]
pub struct Platform {
    docs: Documents,
    apps: Applications,
    users: ChatUsers,
    tokens: OauthTokens,
    /// Recent token resolutions, shared by every clone.
    token_memo: std::sync::Arc<token_memo::TokenMemo>,
    channels: Channels,
    rosters: Rosters,
    events: Events,
    messages: Messages,
    threads: Threads,
    read_cursors: ReadCursors,
    reactions: Reactions,
    reports: Reports,
    /// What users set for themselves in their channels.
    channel_states: ChannelStates,
    user_blocks: UserBlocks,
    notifications: Notifications,
    consumers: Consumers,
    sessions: Sessions,
    /// Hosted files: the file storage and the files' rows.
    hosted: files::Hosted,
    /// Chat functions: the application's runtime, its functions and their versions, and the
    /// record of their invocations.
    runtimes: Runtimes,
    functions: Functions,
    invocations: Invocations,
    /// Background work, enqueued in the transactions of the writes that cause it.
    jobs: crate::jobs::JobQueue,
    /// Committed events, published after each write's transaction commits, and signals.
    bus: Bus,
    /// The broker between instances, when there is one.
    relay: std::sync::Arc<outbox::Relay>,
    /// Sends waiting to be written together.
    sends: std::sync::Arc<send_queue::SendQueue>,
    /// Seals users' secrets and runtimes' environment variables (see `crate::secrets`).
    sealer: crate::secrets::Sealer,
    db: Db,
    config: PlatformConfig,
}

impl Platform {
    pub fn new(
        db: Db,
        config: PlatformConfig,
        files: FileStore,
        sealer: crate::secrets::Sealer,
    ) -> Self {
        Self {
            docs: Documents::new(db.clone()),
            apps: Applications::new(db.clone()),
            users: ChatUsers::new(db.clone()),
            tokens: OauthTokens::new(db.clone()),
            token_memo: std::sync::Arc::new(token_memo::TokenMemo::new(config.token_memo_max_age)),
            channels: Channels::new(db.clone()),
            rosters: Rosters::new(db.clone()),
            events: Events::new(db.clone()),
            messages: Messages::new(db.clone()),
            threads: Threads::new(db.clone()),
            read_cursors: ReadCursors::new(db.clone()),
            reactions: Reactions::new(db.clone()),
            reports: Reports::new(db.clone()),
            channel_states: ChannelStates::new(db.clone()),
            user_blocks: UserBlocks::new(db.clone()),
            notifications: Notifications::new(db.clone()),
            consumers: Consumers::new(db.clone()),
            sessions: Sessions::new(db.clone()),
            hosted: files::Hosted::new(files, db.clone()),
            runtimes: Runtimes::new(db.clone()),
            functions: Functions::new(db.clone()),
            invocations: Invocations::new(db.clone()),
            jobs: crate::jobs::JobQueue::new(db.clone(), config.clock.clone()),
            bus: outbox::bus(),
            relay: Default::default(),
            sends: Default::default(),
            sealer,
            db,
            config,
        }
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The job queue this platform enqueues into, for workers.
    pub fn jobs(&self) -> &crate::jobs::JobQueue {
        &self.jobs
    }

    /// Now on the service clock, in epoch milliseconds.
    pub(crate) fn now(&self) -> i64 {
        self.config.clock.now_millis()
    }
}

/// 32 random characters from `[A-Za-z0-9]`: keys, client ids, secrets and tokens.
pub(crate) fn random_token(len: usize) -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
