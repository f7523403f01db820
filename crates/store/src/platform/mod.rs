//! Persistence of the platform API: applications and their OAuth tokens, chat users and their
//! secrets, channels and their rosters, messages and their threads, read cursors, reactions,
//! reports, notifications, users' own channel settings and block lists, hosted files' rows, chat
//! functions (the runtime, functions, versions and invocations), and the event outbox with its
//! consumers' offsets. Every read is scoped by application (and applications by organisation).

mod applications;
mod channel_states;
mod channels;
mod chat_users;
mod consumers;
mod events;
mod files;
mod function_invocations;
mod functions;
mod history_page;
mod import_keys;
mod json_match;
mod message_totals;
mod messages;
mod notifications;
mod oauth_tokens;
mod reactions;
mod read_cursors;
mod reports;
mod rosters;
mod runtimes;
mod sessions;
mod threads;
mod user_blocks;

pub use applications::{ApplicationRow, Applications, NewApplication};
pub use channel_states::{ChannelState, ChannelStates};
pub use channels::{
    ChannelField, ChannelFilter, ChannelRow, Channels, NewChannel, SORTABLE as CHANNEL_SORTABLE,
};
pub use chat_users::{ChatUserChanges, ChatUserRow, ChatUsers, NewChatUser, UserField, UserFilter};
pub use consumers::Consumers;
pub use events::{EventRow, Events, NewEvent};
pub use files::{FileRow, Files, NewFile, DISPLAY_PICTURE, EXPORT_FILE, MESSAGE_FILE};
pub use function_invocations::{InvocationEnd, InvocationRow, Invocations, NewInvocation};
pub use functions::{FunctionRow, FunctionVersionRow, Functions, NewFunctionRow};
pub use history_page::{Beside, HistoryPage};
pub use import_keys::ImportKeys;
pub use messages::{History, MessageRow, Messages, Scope as HistoryScope, Viewing};
pub use notifications::{NotificationRow, Notifications};
pub use oauth_tokens::{OauthTokens, TokenApplication};
pub use reactions::{ReactionRow, Reactions};
pub use read_cursors::{ReadCursor, ReadCursors, ReadSummary, ReceiptOrder, SummaryOrder};
pub use reports::{ReportRow, Reports};
pub use rosters::{Roster, RosterEntry, RosterOrder, Rosters};
pub use runtimes::{RuntimeRow, Runtimes, NODEJS};
pub use sessions::{ChatSessionRow, Sessions, UserSessionRow};
pub use threads::{ThreadFilter, ThreadRow, Threads};
pub use user_blocks::UserBlocks;
