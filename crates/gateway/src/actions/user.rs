//! The session user's actions on itself (deleting itself, its display picture) and on other
//! users (its block list).

use palaver_domain::platform::naming;
use palaver_domain::{DomainError, ErrorCode};
use serde_json::Value;

use super::{denied, fail};
use crate::connection::{Answer, Session};
use crate::destinations::Owner;
use crate::hub::Key;
use crate::{records, resources, Gateway};

/// `name` on the session user or on user `owner` for the session's user.
pub(super) async fn perform(
    gw: &Gateway,
    s: &Session,
    owner: Owner,
    name: &str,
    body: Value,
) -> Result<Answer, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    match (owner, name) {
        (Owner::Me, "delete") | (Owner::User(_), "delete") => {
            if owner != Owner::Me && owner != Owner::User(me) {
                return Err(denied("A user can delete only itself"));
            }
            let u = platform.get_user(p, me).await.map_err(fail)?;
            platform.delete_user(p, me).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.self.deleted",
                resource: resources::current_user(base, &u),
                topic: Some(Key::User(me, "self")),
            })
        }
        (Owner::Me, "update_display_picture") => {
            // An external file `{url, name, contentType, size}`; uploads go over HTTP.
            let file = naming::read(body);
            let u = platform
                .set_display_picture(p, me, &file)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "user.self.updated",
                resource: resources::current_user(base, &u),
                topic: Some(Key::User(me, "self")),
            })
        }
        (Owner::User(id), "block") => {
            let r = platform.block_user(p, me, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.user_blocklist_item.created",
                resource: records::blocked_item(base, &r),
                topic: Some(Key::User(me, "users")),
            })
        }
        (Owner::User(id), "unblock") => {
            let u = platform.unblock_user(p, me, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "user.user.unblocked",
                resource: resources::user(base, &u),
                topic: Some(Key::User(me, "users")),
            })
        }
        _ => Err(DomainError::new(
            ErrorCode::NotFound,
            format!("No action \"{name}\" for {owner:?}"),
        )),
    }
}
