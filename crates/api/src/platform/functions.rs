//! `/runtimes/nodejs`, `/functions` and `/function-versions`: the application's Node.js runtime
//! (its dependencies, environment variables and initialization script), its chat functions,
//! their versions and the record of their invocations.

use axum::extract::{Path, State};
use palaver_domain::platform::functions::{
    Dependencies, EnvironmentVariables, HandlerScript, InitializationScript, NewFunction,
};
use palaver_service::platform::{
    RuntimeChange, FUNCTION_SORTABLE, FUNCTION_VERSION_SORTABLE, INVOCATION_SORTABLE,
};
use palaver_service::Services;
use palaver_views as views;

use super::context::Ctx;
use super::extract::{id, page_request, AppCaller, PJson, PJsonVerbatim, QueryPairs};
use super::messages::IdPath;
use super::{hal, respond, Result};

pub(super) async fn runtime(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
) -> Result {
    let r = s.platform.nodejs_runtime(&p).await?;
    Ok(respond(&ctx, views::functions::runtime(&ctx, &r)))
}

async fn change(
    s: &Services,
    p: &palaver_service::AppPrincipal,
    ctx: &Ctx,
    c: RuntimeChange,
) -> Result {
    let r = s.platform.update_nodejs_runtime(p, c).await?;
    Ok(respond(ctx, views::functions::runtime(ctx, &r)))
}

pub(super) async fn dependencies(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let d = Dependencies::from_body(&body)?;
    change(&s, &p, &ctx, RuntimeChange::Dependencies(d)).await
}

/// The body's keys are variable names: read as sent, never renamed from camelCase.
pub(super) async fn environment_variables(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJsonVerbatim(body): PJsonVerbatim,
) -> Result {
    let e = EnvironmentVariables::from_body(&body)?;
    change(&s, &p, &ctx, RuntimeChange::EnvironmentVariables(e)).await
}

pub(super) async fn initialization_script(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let script = InitializationScript::from_body(&body)?;
    change(&s, &p, &ctx, RuntimeChange::InitializationScript(script)).await
}

pub(super) async fn list(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &FUNCTION_SORTABLE)?;
    let (runtime, rows, total) = s.platform.list_functions(&p, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|f| views::functions::function(&ctx, f, &runtime))
        .collect();
    let page = hal::page(
        &ctx,
        "/runtimes/nodejs/functions",
        "functions",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}

pub(super) async fn create(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    PJson(body): PJson,
) -> Result {
    let input = NewFunction::from_body(&body)?;
    let (f, runtime) = s.platform.create_function(&p, input).await?;
    Ok(respond(
        &ctx,
        views::functions::function(&ctx, &f, &runtime),
    ))
}

pub(super) async fn get(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let (f, runtime) = s.platform.function(&p, id(&path.id, "function")?).await?;
    Ok(respond(
        &ctx,
        views::functions::function(&ctx, &f, &runtime),
    ))
}

pub(super) async fn current_version(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let id = id(&path.id, "function")?;
    let v = s.platform.function_current_version(&p, id).await?;
    Ok(respond(&ctx, views::functions::version(&ctx, &v)))
}

pub(super) async fn versions(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &FUNCTION_VERSION_SORTABLE)?;
    let id = id(&path.id, "function")?;
    let (rows, total) = s.platform.list_function_versions(&p, id, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|v| views::functions::version(&ctx, v))
        .collect();
    let path = format!("/functions/{id}/versions");
    let page = hal::page(
        &ctx,
        &path,
        "versions",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}

pub(super) async fn create_version(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    PJson(body): PJson,
) -> Result {
    let id = id(&path.id, "function")?;
    let script = HandlerScript::from_body(&body)?;
    let v = s.platform.create_function_version(&p, id, script).await?;
    Ok(respond(&ctx, views::functions::version(&ctx, &v)))
}

pub(super) async fn version(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
) -> Result {
    let id = id(&path.id, "function version")?;
    let v = s.platform.function_version(&p, id).await?;
    Ok(respond(&ctx, views::functions::version(&ctx, &v)))
}

pub(super) async fn invocations(
    State(s): State<Services>,
    AppCaller(p): AppCaller,
    ctx: Ctx,
    Path(path): Path<IdPath>,
    q: QueryPairs,
) -> Result {
    let page = page_request(&q, &INVOCATION_SORTABLE)?;
    let id = id(&path.id, "function")?;
    let (rows, total) = s.platform.list_function_invocations(&p, id, &page).await?;
    let items: Vec<_> = rows
        .iter()
        .map(|i| views::functions::invocation(&ctx, i))
        .collect();
    let path = format!("/functions/{id}/invocations");
    let page = hal::page(
        &ctx,
        &path,
        "invocations",
        items,
        &page,
        total,
        &hal::carried(&q.0),
    );
    Ok(respond(&ctx, page))
}
