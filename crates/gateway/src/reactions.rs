//! A message's reactions and reports over StompX: the `react` / `removeReaction` (body `{emoji}`)
//! and `report` (body `{reason, properties?}`) / `removeReport` actions, and the `reactions`,
//! `reports` and `reports.count` relays the message resources advertise. The caller must be able
//! to read the message's channel; the service checks it.

use palaver_domain::platform::naming;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_service::platform::{ReactionInput, ReportInput};
use palaver_service::ServiceError;
use serde_json::{json, Value};

use crate::connection::{Answer, Session};
use crate::destinations::{relay as relay_of, Owner};
use crate::hub::Key;
use crate::resources;
use crate::Gateway;

fn fail(e: ServiceError) -> DomainError {
    e.into_domain()
}

/// Performs action `name` on message `id` for the session's user. Each answers on the user's
/// own topics: `reactions` for reactions (the result is a `Reaction`, as `reactToMessage` and
/// `removeReaction` resolve with), `messages` for reports (a `MessageReport`).
pub(crate) async fn act(
    gw: &Gateway,
    s: &Session,
    id: i64,
    name: &str,
    body: Value,
) -> Result<Answer, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let body = naming::read(body);
    match name {
        "react" | "remove_reaction" => {
            let input = ReactionInput::from_body(&body)?;
            let (kind, r) = if name == "react" {
                let r = platform.react(p, me, id, &input.emoji).await;
                ("message.reaction.created", r)
            } else {
                let r = platform.remove_reaction(p, me, id, &input.emoji).await;
                ("message.reaction.removed", r)
            };
            Ok(Answer {
                kind,
                resource: resources::reaction(base, &r.map_err(fail)?),
                topic: Some(Key::User(me, "reactions")),
            })
        }
        "report" => {
            let input = ReportInput::from_body(&body)?;
            let r = platform
                .report_message(p, me, id, &input)
                .await
                .map_err(fail)?;
            Ok(Answer {
                kind: "message.report.created",
                resource: resources::report(base, &r),
                topic: Some(Key::User(me, "messages")),
            })
        }
        "remove_report" => {
            let r = platform.remove_report(p, me, id).await.map_err(fail)?;
            Ok(Answer {
                kind: "message.report.removed",
                resource: resources::report(base, &r),
                topic: Some(Key::User(me, "messages")),
            })
        }
        _ => Err(DomainError::new(
            ErrorCode::NotFound,
            format!("No action \"{name}\" for message {id}"),
        )),
    }
}

/// Answers relay `name` of message `id`: its reactions (a page, `reactions`), the session's
/// own report of it (a page, `reports`: who else reported a message is not told to users), or
/// how many reported it (`{count}`).
pub(crate) async fn relay(
    gw: &Gateway,
    s: &Session,
    id: i64,
    name: &str,
    page: &PageRequest,
) -> Result<Value, DomainError> {
    let platform = &gw.services.platform;
    let (p, me, base) = (&s.p, s.user.id, &s.base);
    let owner = Owner::Message(id);
    match name {
        "reactions" => {
            let (rows, total) = platform
                .message_reactions(p, me, id, page)
                .await
                .map_err(fail)?;
            let items = rows.iter().map(|r| resources::reaction(base, r)).collect();
            Ok(resources::page(
                "reactions",
                items,
                total,
                relay_of(owner, name),
            ))
        }
        "reports" => {
            let mine = platform.own_report(p, me, id).await.map_err(fail)?;
            let items: Vec<Value> = mine.iter().map(|r| resources::report(base, r)).collect();
            let total = items.len() as u64;
            Ok(resources::page(
                "reports",
                items,
                total,
                relay_of(owner, name),
            ))
        }
        "reports.count" => {
            let count = platform.report_count(p, me, id).await.map_err(fail)?;
            Ok(json!({ "count": count }))
        }
        _ => Err(DomainError::new(
            ErrorCode::NotFound,
            format!("No relay \"{name}\" for message {id}"),
        )),
    }
}
