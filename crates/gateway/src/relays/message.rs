//! Relays of a message (its replies, their count, its read receipts) and of a thread.

use palaver_domain::DomainError;
use serde_json::{json, Value};

use super::fail;
use crate::connection::Session;
use crate::destinations::Owner;
use crate::paging::{cursor_paged, paged, Params};
use crate::{records, resources, Gateway};

/// Relay `name` of message or thread `owner`.
pub(super) async fn answer(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    q: &Params<'_>,
) -> Result<Value, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    match (owner, name) {
        (Owner::Message(id), "replies") => {
            let page = platform
                .message_replies(p, id, me, &q.cursor()?)
                .await
                .map_err(fail)?;
            let items = page
                .items
                .iter()
                .map(|m| resources::message(base, m))
                .collect();
            Ok(cursor_paged("messages", items, &page, q))
        }
        (Owner::Message(id), "replies.count") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform
                .readable_channel(p, m.message.channel_id, me)
                .await
                .map_err(fail)?;
            let count = platform.replies_count(p, id).await.map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        (Owner::Message(id), "read_receipts") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform
                .readable_channel(p, m.message.channel_id, me)
                .await
                .map_err(fail)?;
            let page = q.page();
            let (rows, total) = platform.read_receipts(p, id, &page).await.map_err(fail)?;
            let items = rows
                .iter()
                .map(|r| records::read_receipt(base, id, r))
                .collect();
            Ok(paged("receipts", items, total, &page, q))
        }
        (Owner::Thread(id), "") => {
            let t = platform.get_thread(p, id).await.map_err(fail)?;
            platform
                .readable_channel(p, t.channel_id, me)
                .await
                .map_err(fail)?;
            Ok(records::thread(base, &t))
        }
        _ => Err(super::unsupported(owner, name)),
    }
}
