//! Platform resources as JSON (snake_case; the response step renames for camelCase callers).

use palaver_domain::time::format_millis;
use palaver_service::platform::{ApplicationRow, ChatUserRow};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};

use crate::links::links;
use crate::LinkBase;

pub fn application(ctx: &LinkBase, a: &ApplicationRow) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "key": a.api_key,
        "created_time": format_millis(a.created),
        "properties": a.properties,
        "_links": links(ctx, &[("self", ctx.application_path().into()), ("settings", "/application/settings".into())]),
    })
}

pub fn settings(ctx: &LinkBase, a: &ApplicationRow) -> Value {
    json!({
        "guest_users": a.guest_users,
        "user_created_channels": a.user_created_channels,
        "_links": links(ctx, &[("self", "/application/settings".into()), ("application", ctx.application_path().into())]),
    })
}

/// Where a user without a picture of its own gets one: Palaver's generated initials avatar. A
/// picture hosted here is kept as a path, shown on the caller's origin.
fn avatar(ctx: &LinkBase, u: &ChatUserRow) -> String {
    if u.display_picture_url.starts_with('/') {
        return crate::links::absolute(ctx, &u.display_picture_url);
    }
    if !u.display_picture_url.is_empty() {
        return u.display_picture_url.clone();
    }
    let name: String = form_urlencoded::byte_serialize(u.name.as_bytes()).collect();
    format!("{}/avatars/{name}.svg", ctx.origin)
}

/// A chat user without `_links` (as embedded in other resources).
pub struct UserJson<'a>(pub &'a LinkBase, pub &'a ChatUserRow);

/// Online means an active user session (a connected real-time client).
struct Presence<'a>(&'a ChatUserRow);

impl Serialize for Presence<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("online", &self.0.online)?;
        m.serialize_entry("status", &self.0.presence_status)?;
        m.end()
    }
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let UserJson(ctx, u) = *self;
        let mut m = s.serialize_map(Some(10))?;
        m.serialize_entry("type", &u.r#type)?;
        m.serialize_entry("id", &u.id)?;
        m.serialize_entry("name", &u.name)?;
        m.serialize_entry("display_name", &u.display_name)?;
        m.serialize_entry("display_picture_url", &avatar(ctx, u))?;
        m.serialize_entry("isGuest", &u.is_guest)?;
        m.serialize_entry("presence", &Presence(u))?;
        m.serialize_entry("call_status", &u.call_status)?;
        m.serialize_entry("properties", &u.properties)?;
        m.serialize_entry("created_time", &format_millis(u.created))?;
        m.end()
    }
}

/// [`UserJson`] as a JSON tree, for the resources still built as trees.
pub fn user_properties(ctx: &LinkBase, u: &ChatUserRow) -> Value {
    json!(UserJson(ctx, u))
}

pub fn user(ctx: &LinkBase, u: &ChatUserRow) -> Value {
    let mut v = user_properties(ctx, u);
    let base = format!("/users/{}", u.id);
    v["_links"] = links(
        ctx,
        &[
            ("self", base.clone()),
            ("channels", format!("{base}/channels")),
            ("messages", format!("{base}/messages")),
            ("notifications", format!("{base}/notifications")),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}
