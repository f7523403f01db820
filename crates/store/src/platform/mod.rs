//! Persistence of the platform API: applications and their OAuth tokens, chat users and their
//! secrets, channels and their rosters, and the event outbox. Every read is scoped by
//! application (and applications by organisation).

mod applications;
mod channels;
mod chat_users;
mod events;
mod json_match;
mod oauth_tokens;
mod rosters;

pub use applications::{ApplicationRow, Applications, NewApplication};
pub use channels::{ChannelFilter, ChannelRow, Channels, NewChannel, SORTABLE as CHANNEL_SORTABLE};
pub use chat_users::{ChatUserChanges, ChatUserRow, ChatUsers, NewChatUser, UserFilter};
pub use events::{EventRow, Events, NewEvent};
pub use oauth_tokens::OauthTokens;
pub use rosters::{Roster, RosterEntry, Rosters};
