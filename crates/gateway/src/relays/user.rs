//! Relays of the session user (its channels, messages, contacts, block list, counts) and of
//! other users.

use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{ContactsQuery, MessageFilter};
use serde_json::{json, Value};

use super::{fail, types};
use crate::connection::Session;
use crate::destinations::Owner;
use crate::paging::{cursor_paged, paged, Params};
use crate::{records, resources, Gateway};

/// The contact filters of `ListUsersFilter`, from the relay's parameters.
fn contacts_query(q: &Params) -> ContactsQuery {
    ContactsQuery {
        name: q.get("name").map(str::to_string),
        display_name: q.get("displayName").map(str::to_string),
        online: q.flag("online"),
    }
}

/// Relay `name` of the session user or of user `owner`.
pub(super) async fn answer(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    q: &Params<'_>,
) -> Result<Value, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let kind = q.get("type").map(str::to_string);
    match (owner, name) {
        (Owner::Me, "channels.count") => {
            let count = if q.flag("unread") == Some(true) {
                platform.unread_channels_of_type(p, me, kind).await
            } else {
                let one = palaver_domain::platform::paging::PageRequest {
                    page: 0,
                    size: 1,
                    sort: Vec::new(),
                };
                platform
                    .visible_channels(p, me, (kind, None), &one)
                    .await
                    .map(|(_, n)| n)
            }
            .map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        (Owner::Me, "channels") => {
            let page = q.page();
            let wanted = q.get("name").map(str::to_string);
            let (rows, total) = platform
                .visible_channels(p, me, (kind, wanted), &page)
                .await
                .map_err(fail)?;
            let items = rows
                .iter()
                .map(|c| resources::channel(base, c, true))
                .collect();
            Ok(paged("channels", items, total, &page, q))
        }
        (Owner::Me, "joinable_channels") => {
            let page = q.page();
            let (rows, total) = platform
                .joinable_channels(p, me, &page)
                .await
                .map_err(fail)?;
            let items = rows
                .iter()
                .map(|c| resources::channel(base, c, false))
                .collect();
            Ok(paged("channels", items, total, &page, q))
        }
        (Owner::Me, "unread_channels") => {
            let page = q.page();
            let (rows, total) = platform
                .unread_channels(p, me, kind, &page)
                .await
                .map_err(fail)?;
            let items = rows
                .iter()
                .map(|c| resources::channel(base, c, true))
                .collect();
            Ok(paged("channels", items, total, &page, q))
        }
        (Owner::Me, "unread_channels.count") => {
            let count = platform
                .unread_channels_of_type(p, me, kind)
                .await
                .map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        (Owner::Me, "messages") => {
            let mut filter = MessageFilter::default();
            filter.viewing.viewer = Some(me);
            filter.viewing.types = types(q);
            let page = platform
                .user_messages_as(p, me, false, &filter, &q.cursor()?)
                .await
                .map_err(fail)?;
            let items = page
                .items
                .iter()
                .map(|m| resources::message(base, m))
                .collect();
            Ok(cursor_paged("messages", items, &page, q))
        }
        (Owner::Me, "contacts") => {
            let page = q.page();
            let (rows, total) = platform
                .contacts(p, me, &contacts_query(q), &page)
                .await
                .map_err(fail)?;
            let items = rows.iter().map(|u| resources::user(base, u)).collect();
            Ok(paged("users", items, total, &page, q))
        }
        (Owner::Me, "contacts.count") => {
            let count = platform
                .contacts_count(p, me, &contacts_query(q))
                .await
                .map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        (Owner::Me, "user_block_list_items") => {
            let page = q.page();
            let (rows, total) = platform.blocked_users(p, me, &page).await.map_err(fail)?;
            let items = rows
                .iter()
                .map(|r| records::blocked_item(base, r))
                .collect();
            Ok(paged("items", items, total, &page, q))
        }
        (Owner::User(id), "channel_member") => {
            let channel = q
                .get("channelId")
                .and_then(|c| c.parse::<i64>().ok())
                .ok_or_else(|| {
                    DomainError::new(
                        ErrorCode::InvalidParameter,
                        "channelId is required: the channel's id",
                    )
                })?;
            platform
                .readable_channel(p, channel, me)
                .await
                .map_err(fail)?;
            platform.get_user(p, id).await.map_err(fail)?;
            let exists = platform.is_member(channel, id).await.map_err(fail)?;
            Ok(json!({ "exists": exists }))
        }
        _ => Err(super::unsupported(owner, name)),
    }
}
