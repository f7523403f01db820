//! What the real-time gateway asks of the platform: the application behind an api key, who may
//! start a session (guests, or the application's decision for secured users), which channels a
//! user may read, join or write to, and the counts a chat client shows.

use std::future::Future;
use std::pin::Pin;

use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ApplicationRow, ChannelFilter, ChannelRow, ChatUserRow, History, HistoryScope, Roster,
};
use palaver_store::StoreError;
use serde_json::{Map, Value};

use super::channels::ChannelView;
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// What a secured (non-guest) session start presents: the username and the client's auth
/// parameters (`StompX-Auth-Params`).
#[derive(Debug, Clone)]
pub struct SessionAttempt {
    pub username: String,
    pub auth_params: Value,
}

/// The answer to a secured session start.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionDecision {
    /// The session starts; the user is made (or updated) with what the profile says.
    Allow(SessionProfile),
    Deny(String),
}

/// What a start-session function may say of the user it lets in: fields left `None` keep what
/// the user has (or take their defaults when the user is made now).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionProfile {
    pub display_name: Option<String>,
    pub properties: Option<Value>,
    pub display_picture_url: Option<String>,
}

impl SessionProfile {
    fn is_empty(&self) -> bool {
        self == &SessionProfile::default()
    }
}

/// Decides secured session starts for an application. ChatKitty applications decide with their
/// `user.attempted.start_session` chat function; an implementation that runs those plugs in here.
pub trait SessionGate: Send + Sync + std::fmt::Debug {
    fn decide<'a>(
        &'a self,
        app: &'a ApplicationRow,
        attempt: &'a SessionAttempt,
    ) -> Pin<Box<dyn Future<Output = SessionDecision> + Send + 'a>>;
}

/// The gate of an application without a start-session function: secured starts are refused.
#[derive(Debug, Default)]
pub struct NoSessionFunction;

impl SessionGate for NoSessionFunction {
    fn decide<'a>(
        &'a self,
        _app: &'a ApplicationRow,
        _attempt: &'a SessionAttempt,
    ) -> Pin<Box<dyn Future<Output = SessionDecision> + Send + 'a>> {
        Box::pin(async {
            SessionDecision::Deny(
                "Guest users are disabled for this application, and it has no \
                 user.attempted.start_session function to decide who may start a session"
                    .into(),
            )
        })
    }
}

fn denied(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::AccessDenied, message)
}

impl Platform {
    /// The application whose api key this is, and the principal acting for it.
    pub async fn application_by_key(
        &self,
        key: &str,
    ) -> Result<Option<(AppPrincipal, ApplicationRow)>> {
        Ok(self.apps.by_key(key).await?.map(|a| {
            let p = AppPrincipal {
                application_id: a.id,
                organisation_id: a.organisation_id.clone(),
            };
            (p, a)
        }))
    }

    /// The user a session starts for. With guest users enabled any username starts one (a guest
    /// user is made when none has that name); otherwise the user must exist and `gate` decides.
    pub async fn session_user(
        &self,
        p: &AppPrincipal,
        app: &ApplicationRow,
        attempt: &SessionAttempt,
        gate: &dyn SessionGate,
    ) -> Result<ChatUserRow> {
        let name = attempt.username.trim();
        if name.is_empty() || name.chars().count() > 255 {
            return Err(denied("A username of 1 to 255 characters is required").into());
        }
        if app.guest_users != "ENABLED" {
            let profile = match gate.decide(app, attempt).await {
                SessionDecision::Allow(profile) => profile,
                SessionDecision::Deny(why) => return Err(denied(why).into()),
            };
            return self.admitted_user(p, name, profile).await;
        }
        if let Some(u) = self.users.by_name(p.application_id, name).await? {
            return Ok(u);
        }
        let input = super::NewUserInput {
            name: name.to_string(),
            display_name: name.to_string(),
            display_picture_url: None,
            r#type: "PERSON".into(),
            is_guest: true,
            properties: Value::Object(Map::new()),
        };
        match self.create_user(p, input).await {
            Ok(u) => Ok(u),
            // Two connections raced to make the same guest: the other one made it.
            Err(e) if e.is_conflict() => self
                .users
                .by_name(p.application_id, name)
                .await?
                .ok_or_else(|| StoreError::Decode("guest user".into()).into()),
            Err(e) => Err(e),
        }
    }

    /// The user a start-session function let in: made (not a guest) when it does not exist
    /// yet, updated with what the function said when it does. A function that made the user
    /// itself (through its Platform API client) finds it here.
    async fn admitted_user(
        &self,
        p: &AppPrincipal,
        name: &str,
        profile: SessionProfile,
    ) -> Result<ChatUserRow> {
        let mut user = match self.users.by_name(p.application_id, name).await? {
            Some(u) => u,
            None => {
                let input = super::NewUserInput {
                    name: name.to_string(),
                    display_name: profile
                        .display_name
                        .clone()
                        .unwrap_or_else(|| name.to_string()),
                    display_picture_url: profile.display_picture_url.clone(),
                    r#type: "PERSON".into(),
                    is_guest: false,
                    properties: profile
                        .properties
                        .clone()
                        .unwrap_or_else(|| Value::Object(Map::new())),
                };
                match self.create_user(p, input).await {
                    Ok(u) => return Ok(u),
                    // Made meanwhile (the function, or a racing connection): update it below.
                    Err(e) if e.is_conflict() => self
                        .users
                        .by_name(p.application_id, name)
                        .await?
                        .ok_or_else(|| StoreError::Decode("admitted user".into()))?,
                    Err(e) => return Err(e),
                }
            }
        };
        if profile.is_empty() {
            return Ok(user);
        }
        if profile.display_name.is_some() || profile.properties.is_some() {
            let patch = super::UserPatch {
                display_name: profile.display_name,
                properties: profile.properties,
                ..super::UserPatch::default()
            };
            user = self.update_user(p, user.id, &patch).await?;
        }
        if let Some(url) = profile.display_picture_url {
            if url != user.display_picture_url {
                user = self.point_display_picture(p, user.id, url).await?;
            }
        }
        Ok(user)
    }

    /// The caller's user named `name`, if any.
    pub async fn user_by_name(&self, p: &AppPrincipal, name: &str) -> Result<Option<ChatUserRow>> {
        Ok(self.users.by_name(p.application_id, name).await?)
    }

    /// True when `user` is a member of `channel`.
    pub async fn is_member(&self, channel: i64, user: i64) -> Result<bool> {
        Ok(self
            .rosters
            .contains(Roster::Members, channel, user)
            .await?)
    }

    /// Channel `id` if `user` may read it: a member, or anyone for a PUBLIC channel.
    pub async fn readable_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<ChannelRow> {
        let c = self.channel_row(p, id).await?;
        if c.r#type == "PUBLIC" || c.creator_id == Some(user) || self.is_member(id, user).await? {
            return Ok(c);
        }
        Err(denied(format!("You are not a member of channel {id}")).into())
    }

    /// Channel `id` if `user` may write to it: a member not blocked there (see `moderation`).
    pub async fn writable_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        user: i64,
    ) -> Result<ChannelRow> {
        let c = self.channel_row(p, id).await?;
        if self.is_member(id, user).await? {
            self.check_not_blocked(&c, user).await?;
            return Ok(c);
        }
        let hint = if c.r#type == "PUBLIC" {
            ": join it first"
        } else {
            ""
        };
        Err(denied(format!("You are not a member of channel {id}{hint}")).into())
    }

    /// PUBLIC channels `user` is not a member of: the ones it may join.
    pub async fn joinable_channels(
        &self,
        p: &AppPrincipal,
        user: i64,
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
        let filter = ChannelFilter {
            r#type: Some("PUBLIC".into()),
            not_member: Some(user),
            ..ChannelFilter::default()
        };
        self.page_channels(p, &filter, page).await
    }

    /// How many of `user`'s channels hold messages it has not read.
    pub async fn unread_channels_count(&self, p: &AppPrincipal, user: i64) -> Result<u64> {
        let h = History {
            scope: HistoryScope::UnreadBy(user),
            username: None,
            text: None,
            before: None,
            after: None,
            limit: 0,
        };
        Ok(self.messages.count_channels(p.application_id, &h).await?)
    }
}
