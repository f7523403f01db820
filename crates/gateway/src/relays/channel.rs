//! Relays of a channel: its history (MAIN thread or all, by type, without what the session user
//! cleared or deleted for itself), rosters, counts, last messages, context, threads and block
//! records.

use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{MessageFilter, Roster, ThreadFilter};
use serde_json::{json, Map, Value};

use super::{fail, types};
use crate::connection::Session;
use crate::destinations::Owner;
use crate::paging::{cursor_paged, paged, Params};
use crate::{records, resources, Gateway};

/// Relay `name` of channel `id`.
pub(super) async fn answer(
    gw: &Gateway,
    s: &Session,
    id: i64,
    name: &str,
    q: &Params<'_>,
) -> Result<Value, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    match name {
        "messages" => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let mut filter = MessageFilter::default();
            filter.viewing.viewer = Some(me);
            filter.viewing.main_thread = q.flag("mainThread") == Some(true);
            filter.viewing.types = types(q);
            let page = platform
                .channel_messages(p, id, &filter, &q.cursor()?)
                .await
                .map_err(fail)?;
            let items = page
                .items
                .iter()
                .map(|m| resources::message(base, m))
                .collect();
            Ok(cursor_paged("messages", items, &page, q))
        }
        "members" | "moderators" => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let roster = if name == "members" {
                Roster::Members
            } else {
                Roster::Moderators
            };
            let page = q.page();
            // The SDK's `ListChannelMembersFilter` / `ListChannelModeratorsFilter`.
            let (_, entries, total) = platform
                .list_roster(p, id, roster, q.get("displayName"), &page)
                .await
                .map_err(fail)?;
            let items = entries
                .iter()
                .map(|e| resources::user(base, &e.user))
                .collect();
            Ok(paged("users", items, total, &page, q))
        }
        "messages.count" => {
            let unread = q.flag("unread") == Some(true);
            let count = platform
                .channel_message_count(p, id, me, unread)
                .await
                .map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        "unread" => {
            let exists = platform.channel_unread(p, id, me).await.map_err(fail)?;
            Ok(json!({ "exists": exists }))
        }
        "last_received_message" => {
            let m = platform
                .last_channel_message(p, id, me)
                .await
                .map_err(fail)?;
            Ok(resources::message(base, &m))
        }
        "last_read_message" => {
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let reader = match q.get("username") {
                Some(n) if n != s.user.name => {
                    platform
                        .user_by_name(p, n)
                        .await
                        .map_err(fail)?
                        .ok_or_else(|| {
                            DomainError::new(ErrorCode::NotFound, format!("No user named \"{n}\""))
                        })?
                        .id
                }
                _ => me,
            };
            let m = platform
                .last_read_message(p, id, reader)
                .await
                .map_err(fail)?;
            Ok(resources::message(base, &m))
        }
        "context" => {
            let cursor = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
            let c = platform
                .channel_context(p, id, me, cursor("startCursor"), cursor("endCursor"))
                .await
                .map_err(fail)?;
            let read_by: Map<String, Value> = c
                .read_by
                .iter()
                .map(|(m, users)| (m.to_string(), json!(users)))
                .collect();
            Ok(json!({
                "startCursor": c.start.map(|v| v.to_string()),
                "endCursor": c.end.map(|v| v.to_string()),
                "readBy": read_by,
                "channel": resources::channel(base, &c.channel, c.member),
                "member": c.member,
                "muted": c.state.muted,
            }))
        }
        "threads" => {
            let filter = ThreadFilter {
                without_main: q.flag("includeMainThread") == Some(false),
                standalone_only: q.flag("standalone") == Some(true),
            };
            let page = q.page();
            let (rows, total) = platform
                .channel_threads(p, id, me, filter, &page)
                .await
                .map_err(fail)?;
            let items = rows.iter().map(|t| records::thread(base, t)).collect();
            Ok(paged("threads", items, total, &page, q))
        }
        "block_records" => {
            let page = q.page();
            let (rows, total) = platform
                .channel_block_records(p, id, me, &page)
                .await
                .map_err(fail)?;
            let items = rows
                .iter()
                .map(|r| records::block_record(base, id, r))
                .collect();
            Ok(paged("records", items, total, &page, q))
        }
        "calls" => {
            // Calls are not served: an empty list, so that the client's listing ends.
            platform.readable_channel(p, id, me).await.map_err(fail)?;
            let page = q.page();
            Ok(paged("calls", Vec::new(), 0, &page, q))
        }
        _ => Err(super::unsupported(Owner::Channel(id), name)),
    }
}
