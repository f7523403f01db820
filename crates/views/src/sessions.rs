//! User sessions and chat sessions (`/user-sessions`, `/chat-sessions`) as JSON.

use palaver_domain::time::format_millis;
use palaver_service::platform::{ChatSessionView, ChatUserRow, UserSessionRow};
use serde_json::{json, Value};

use crate::links::links;
use crate::users::user_properties;
use crate::LinkBase;

/// A user session without `_links`.
fn user_session_properties(ctx: &LinkBase, s: &UserSessionRow, u: &ChatUserRow) -> Value {
    let mut v = json!({
        "id": s.id,
        "created_time": format_millis(s.created),
        "state": s.state,
        "user": user_properties(ctx, u),
    });
    if let Some(t) = s.ended {
        v["end_time"] = json!(format_millis(t));
    }
    if let Some(a) = &s.user_agent {
        v["user_agent"] = json!(a);
    }
    v
}

pub fn user_session(ctx: &LinkBase, s: &UserSessionRow, u: &ChatUserRow) -> Value {
    let mut v = user_session_properties(ctx, s, u);
    v["_links"] = links(
        ctx,
        &[
            ("user", format!("/users/{}", u.id)),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}

pub fn chat_session(ctx: &LinkBase, c: &ChatSessionView) -> Value {
    let mut v = json!({
        "id": c.chat.id,
        "created_time": format_millis(c.chat.created),
        "state": c.chat.state,
        "session": user_session_properties(ctx, &c.session, &c.user),
    });
    if let Some(t) = c.chat.ended {
        v["end_time"] = json!(format_millis(t));
    }
    v["_links"] = links(
        ctx,
        &[
            ("channel", format!("/channels/{}", c.chat.channel_id)),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}
