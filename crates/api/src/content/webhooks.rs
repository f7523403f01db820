//! `/api/bots/{id}/webhooks`: a bot's webhook endpoints as LoopBack hasMany relation routes
//! (list, count, create, read, update, delete), and `…/webhooks/{fk}/deliveries`, each
//! endpoint's delivery log (list and count, with LoopBack filters).

use axum::extract::{Path, State};
use palaver_domain::delivery::{WEBHOOK, WEBHOOK_DELIVERY};
use palaver_service::content::count_body;
use palaver_service::Services;

use super::extract::{Body, Caller, FilterParam, WhereParam};
use super::{list as list_body, no_content, ok, Result};

pub(super) async fn list(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(bot): Path<String>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&WEBHOOK)?;
    Ok(list_body(s.content.list_webhooks(&p, &bot, &filter).await?))
}

pub(super) async fn count(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(bot): Path<String>,
    w: WhereParam,
) -> Result {
    let w = w.parse(&WEBHOOK)?;
    Ok(ok(count_body(
        s.content.count_webhooks(&p, &bot, &w).await?,
    )))
}

pub(super) async fn create(
    State(s): State<Services>,
    Caller(p): Caller,
    Path(bot): Path<String>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.create_webhook(&p, &bot, &body).await?))
}

pub(super) async fn get(
    State(s): State<Services>,
    Caller(p): Caller,
    Path((bot, fk)): Path<(String, String)>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&WEBHOOK)?;
    Ok(ok(s.content.get_webhook(&p, &bot, &fk, &filter).await?))
}

pub(super) async fn update(
    State(s): State<Services>,
    Caller(p): Caller,
    Path((bot, fk)): Path<(String, String)>,
    Body(body): Body,
) -> Result {
    Ok(ok(s.content.update_webhook(&p, &bot, &fk, &body).await?))
}

pub(super) async fn delete(
    State(s): State<Services>,
    Caller(p): Caller,
    Path((bot, fk)): Path<(String, String)>,
) -> Result {
    s.content.delete_webhook(&p, &bot, &fk).await?;
    Ok(no_content())
}

pub(super) async fn deliveries(
    State(s): State<Services>,
    Caller(p): Caller,
    Path((bot, fk)): Path<(String, String)>,
    filter: FilterParam,
) -> Result {
    let filter = filter.parse(&WEBHOOK_DELIVERY)?;
    Ok(list_body(
        s.content.list_deliveries(&p, &bot, &fk, &filter).await?,
    ))
}

pub(super) async fn count_deliveries(
    State(s): State<Services>,
    Caller(p): Caller,
    Path((bot, fk)): Path<(String, String)>,
    w: WhereParam,
) -> Result {
    let w = w.parse(&WEBHOOK_DELIVERY)?;
    Ok(ok(count_body(
        s.content.count_deliveries(&p, &bot, &fk, &w).await?,
    )))
}
