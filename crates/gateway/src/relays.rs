//! Relays: one-shot reads a client makes by subscribing to a destination, answered with one
//! MESSAGE `{resource}`. Headers of the SUBSCRIBE are the relay's parameters.

use palaver_domain::platform::cursor::CursorRequest;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{MessageFilter, Roster};
use serde_json::{json, Value};

use crate::connection::Session;
use crate::destinations::{relay, Owner};
use crate::frame::Frame;
use crate::resources;
use crate::Gateway;

/// Largest list one relay answers: the client asks for no pages of its own.
const LIST_SIZE: u64 = 100;

fn page_of(f: &Frame) -> PageRequest {
    let size = f
        .get("size")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(LIST_SIZE)
        .clamp(1, LIST_SIZE);
    PageRequest {
        page: 0,
        size,
        sort: Vec::new(),
    }
}

fn unsupported(owner: Owner, name: &str) -> DomainError {
    DomainError::new(
        ErrorCode::NotFound,
        format!("No relay \"{name}\" for {owner:?}"),
    )
}

/// The resource a relay answers.
pub(crate) async fn answer(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    f: &Frame,
) -> Result<Value, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let unread = f.get("unread") == Some("true");
    let fail = |e: palaver_service::ServiceError| e.into_domain();
    match (owner, name) {
        (Owner::Me, "") => {
            let u = platform.get_user(p, me).await.map_err(fail)?;
            Ok(resources::current_user(base, &u))
        }
        (Owner::Me, "read_file_access_grant" | "write_file_access_grant") => {
            Ok(json!({"grant": crate::random_id()}))
        }
        (Owner::Me, "channels.count") => {
            let count = if unread {
                platform.unread_channels_count(p, me).await.map_err(fail)?
            } else {
                let one = PageRequest {
                    page: 0,
                    size: 1,
                    sort: Vec::new(),
                };
                platform.user_channels(p, me, &one).await.map_err(fail)?.1
            };
            Ok(json!({"count": count}))
        }
        (Owner::Me, "unread_messages.count") => {
            let count = platform.unread_count(p, me).await.map_err(fail)?;
            Ok(json!({"count": count}))
        }
        (Owner::Me, "channels") => {
            let (rows, total) = platform
                .user_channels(p, me, &page_of(f))
                .await
                .map_err(fail)?;
            let wanted = f.get("name");
            let items = rows
                .iter()
                .filter(|c| wanted.is_none() || c.channel.name.as_deref() == wanted)
                .map(|c| resources::channel(base, c, true))
                .collect();
            Ok(resources::page(
                "channels",
                items,
                total,
                relay(owner, name),
            ))
        }
        (Owner::Me, "joinable_channels") => {
            let (rows, total) = platform
                .joinable_channels(p, me, &page_of(f))
                .await
                .map_err(fail)?;
            let items = rows
                .iter()
                .map(|c| resources::channel(base, c, false))
                .collect();
            Ok(resources::page(
                "channels",
                items,
                total,
                relay(owner, name),
            ))
        }
        (Owner::User(id), "") => {
            let u = platform.get_user(p, id).await.map_err(fail)?;
            Ok(resources::user(base, &u))
        }
        (Owner::Channel(id), "") => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let c = platform.get_channel(p, id).await.map_err(fail)?;
            let member = platform.is_member(id, me).await.map_err(fail)?;
            Ok(resources::channel(base, &c, member))
        }
        (Owner::Channel(id), "messages") => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let req = CursorRequest {
                size: page_of(f).size,
                ..CursorRequest::default()
            };
            let page = platform
                .channel_messages(p, id, &MessageFilter::default(), &req)
                .await
                .map_err(fail)?;
            let items = page
                .items
                .iter()
                .map(|m| resources::message(base, m))
                .collect();
            let total = page.items.len() as u64;
            Ok(resources::page(
                "messages",
                items,
                total,
                relay(owner, name),
            ))
        }
        (Owner::Channel(id), "members" | "moderators") => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let roster = if name == "members" {
                Roster::Members
            } else {
                Roster::Moderators
            };
            let (_, entries, total) = platform
                .list_roster(p, id, roster, &page_of(f))
                .await
                .map_err(fail)?;
            let items = entries
                .iter()
                .map(|e| resources::user(base, &e.user))
                .collect();
            Ok(resources::page("users", items, total, relay(owner, name)))
        }
        (Owner::Message(id), "") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform
                .readable_channel(p, m.message.channel_id, me)
                .await
                .map_err(fail)?;
            Ok(resources::message(base, &m))
        }
        _ => Err(unsupported(owner, name)),
    }
}
