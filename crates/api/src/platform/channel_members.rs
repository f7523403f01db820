//! `/channels/{id}/…`: members, memberships, moderators, invites, participants, custom events
//! and keystrokes.

use axum::extract::{Path, State};
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{Roster, RosterUser, ROSTER_ENTRY_SORTABLE, ROSTER_USER_SORTABLE};
use palaver_service::Services;
use serde::Deserialize;
use serde_json::{json, Value};

use super::context::Ctx;
use super::extract::{id, page_request, AppCaller, PJson, QueryPairs};
use super::{hal, respond, Result};
use palaver_views as views;

#[derive(Deserialize)]
pub(super) struct ChannelPath {
    id: String,
}

#[derive(Deserialize)]
pub(super) struct ChannelUserPath {
    id: String,
    user_id: String,
}

async fn add(
    s: &Services,
    p: AppCaller,
    path: &ChannelPath,
    roster: Roster,
    r: &Value,
) -> std::result::Result<(palaver_service::platform::ChannelView, RosterUser), super::ApiError> {
    let channel = id(&path.id, "channel")?;
    Ok(s.platform.add_to_roster(&p.0, channel, roster, r).await?)
}

async fn remove(
    s: &Services,
    p: AppCaller,
    ctx: &Ctx,
    path: &ChannelUserPath,
    roster: Roster,
) -> Result {
    let channel = id(&path.id, "channel")?;
    let user = id(&path.user_id, "user")?;
    let c = s
        .platform
        .remove_from_roster(&p.0, channel, roster, user)
        .await?;
    Ok(respond(ctx, views::channels::channel(ctx, &c)))
}

/// A page of a roster, either as users or as entries (`memberships`, `invites`); each sorts by
/// the fields of what it lists.
async fn list(
    s: &Services,
    p: AppCaller,
    ctx: &Ctx,
    path: &ChannelPath,
    q: &QueryPairs,
    roster: Roster,
    (segment, name): (&str, &str),
) -> Result {
    let users = name == "users";
    let sortable: &[&str] = if users {
        &ROSTER_USER_SORTABLE
    } else {
        &ROSTER_ENTRY_SORTABLE
    };
    let page = page_request(q, sortable)?;
    let channel = id(&path.id, "channel")?;
    let (_, entries, total) = if users {
        s.platform
            .list_roster(&p.0, channel, roster, None, &page)
            .await?
    } else {
        s.platform
            .list_roster_entries(&p.0, channel, roster, &page)
            .await?
    };
    let items: Vec<_> = entries
        .iter()
        .map(|e| {
            if users {
                views::users::user(ctx, &e.user)
            } else {
                views::channels::roster_entry(ctx, channel, e)
            }
        })
        .collect();
    let at = format!("/channels/{channel}/{segment}");
    Ok(respond(
        ctx,
        hal::page(ctx, &at, name, items, &page, total, &hal::carried(&q.0)),
    ))
}

pub(super) async fn add_member(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let (c, _) = add(&s, p, &path, Roster::Members, &body).await?;
    Ok(respond(&ctx, views::channels::channel(&ctx, &c)))
}

pub(super) async fn members(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    list(
        &s,
        p,
        &ctx,
        &path,
        &q,
        Roster::Members,
        ("members", "users"),
    )
    .await
}

pub(super) async fn remove_member(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelUserPath>,
) -> Result {
    remove(&s, p, &ctx, &path, Roster::Members).await
}

pub(super) async fn memberships(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    let at = ("memberships", "memberships");
    list(&s, p, &ctx, &path, &q, Roster::Members, at).await
}

pub(super) async fn add_moderator(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let (_, entry) = add(&s, p, &path, Roster::Moderators, &body).await?;
    Ok(respond(&ctx, views::users::user(&ctx, &entry.user)))
}

pub(super) async fn moderators(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    let at = ("moderators", "users");
    list(&s, p, &ctx, &path, &q, Roster::Moderators, at).await
}

pub(super) async fn remove_moderator(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelUserPath>,
) -> Result {
    remove(&s, p, &ctx, &path, Roster::Moderators).await
}

pub(super) async fn send_invite(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let user = body.get("user").filter(|u| !u.is_null()).ok_or_else(|| {
        DomainError::new(
            ErrorCode::InvalidParameter,
            "user is required: {\"id\": …} or {\"username\": …}",
        )
    })?;
    let (c, entry) = add(&s, p, &path, Roster::Invites, user).await?;
    Ok(respond(
        &ctx,
        views::channels::roster_entry(&ctx, c.channel.id, &entry),
    ))
}

pub(super) async fn invites(
    State(s): State<Services>,
    p: AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    list(
        &s,
        p,
        &ctx,
        &path,
        &q,
        Roster::Invites,
        ("invites", "invites"),
    )
    .await
}

pub(super) async fn participants(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &ROSTER_USER_SORTABLE)?;
    let channel = id(&path.id, "channel")?;
    let (users, total) = s.platform.channel_participants(&p, channel, &page).await?;
    let items: Vec<_> = users.iter().map(|u| views::users::user(&ctx, u)).collect();
    let at = format!("/channels/{channel}/participants");
    Ok(respond(
        &ctx,
        hal::page(&ctx, &at, "users", items, &page, total, &hal::carried(&q.0)),
    ))
}

pub(super) async fn send_event(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let channel = id(&path.id, "channel")?;
    let (kind, properties) = s
        .platform
        .send_channel_event(&p, channel, None, &body)
        .await?;
    Ok(respond(
        &ctx,
        json!({ "type": kind, "properties": properties }),
    ))
}

pub(super) async fn send_keystrokes(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<ChannelPath>,
    PJson(body): PJson,
) -> Result {
    let channel = id(&path.id, "channel")?;
    let (keys, username) = s
        .platform
        .send_channel_keystrokes(&p, channel, &body)
        .await?;
    Ok(respond(&ctx, json!({ "keys": keys, "username": username })))
}
