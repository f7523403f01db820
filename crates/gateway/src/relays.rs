//! Relays: one-shot reads a client makes by subscribing to a destination, answered with one
//! MESSAGE `{resource}`. Headers of the SUBSCRIBE are the relay's parameters (see `paging`);
//! the relays of channels, messages, threads and users are in the modules below.

use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use serde_json::{json, Value};

use crate::connection::Session;
use crate::destinations::Owner;
use crate::frame::Frame;
use crate::paging::Params;
use crate::resources;
use crate::Gateway;

mod channel;
mod message;
mod user;

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
    let fail = |e: palaver_service::ServiceError| e.into_domain();
    match (owner, name) {
        (Owner::Me, "") => {
            let u = platform.get_user(p, me).await.map_err(fail)?;
            Ok(resources::current_user(base, &u))
        }
        // The read grant lets the client download the application's hosted files (appended to
        // their URLs as `?grant=`).
        (Owner::Me, "read_file_access_grant") => {
            let grant = platform.file_read_grant(p, me).await.map_err(fail)?;
            Ok(json!({ "grant": grant }))
        }
        // The write grant authorises the uploads to the resources' `_streams`, as this user, for
        // as long as this session lasts.
        (Owner::Me, "write_file_access_grant") => {
            let grant = platform
                .file_write_grant(p, me, s.row.id)
                .await
                .map_err(fail)?;
            Ok(json!({ "grant": grant }))
        }
        (Owner::Me, "unread_messages.count") => {
            let count = platform.unread_count(p, me).await.map_err(fail)?;
            Ok(json!({"count": count}))
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
        (Owner::Message(id), "") => {
            let m = platform.get_message(p, id).await.map_err(fail)?;
            platform
                .readable_channel(p, m.message.channel_id, me)
                .await
                .map_err(fail)?;
            Ok(resources::message(base, &m))
        }
        (Owner::Message(id), "reactions" | "reports" | "reports.count") => {
            crate::reactions::relay(gw, s, id, name, &page_of(f)).await
        }
        (Owner::Channel(id), _) => channel::answer(gw, s, id, name, &Params::of(f)).await,
        (Owner::Message(_) | Owner::Thread(_), _) => {
            message::answer(gw, s, owner, name, &Params::of(f)).await
        }
        (Owner::Me | Owner::User(_), _) => user::answer(gw, s, owner, name, &Params::of(f)).await,
    }
}

fn fail(e: palaver_service::ServiceError) -> DomainError {
    e.into_domain()
}

/// The message types a `type` parameter asks for: a user's and the system's of that kind.
fn types(q: &Params) -> Vec<String> {
    match q.get("type") {
        Some(t) if t == "TEXT" || t == "FILE" => vec![t.to_string(), format!("SYSTEM_{t}")],
        Some(t) => vec![t.to_string()],
        None => Vec::new(),
    }
}
