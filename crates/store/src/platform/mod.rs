//! Persistence of the platform API: applications and their OAuth tokens, chat users and their
//! secrets. Every read is scoped by application (and applications by organisation).

mod applications;
mod chat_users;
mod oauth_tokens;

pub use applications::{ApplicationRow, Applications, NewApplication};
pub use chat_users::{ChatUserChanges, ChatUserRow, ChatUsers, NewChatUser, UserFilter};
pub use oauth_tokens::OauthTokens;
