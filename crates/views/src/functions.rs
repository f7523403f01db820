//! Chat functions as JSON: the Node.js runtime (`ChatRuntimeResource`, with Palaver's
//! `installation`), functions (`ChatFunctionResource`), their versions
//! (`ChatFunctionVersionResource`) and invocations (`ChatFunctionInvocationResource`, with
//! Palaver's `error`, `output` and `ended_time`).

use palaver_domain::platform::functions::InvocationStatus;
use palaver_domain::time::format_millis;
use palaver_service::platform::{FunctionRow, FunctionVersionRow, InvocationRow, RuntimeRow};
use serde_json::{json, Value};

use crate::links::links;
use crate::LinkBase;

/// The only runtime type.
const NODEJS: &str = "NODEJS";

/// The runtime: ChatKitty's `type`, `id`, `dependencies`, `environment_variables`,
/// `initialization_script` (once one was set) and `version`; and Palaver's `installation`:
/// the `state` of the current `version`'s install (PENDING, INSTALLING, INSTALLED or FAILED),
/// the newest `installed_version`, and the install's `output` and `finished_time` once it
/// ended.
pub fn runtime(ctx: &LinkBase, r: &RuntimeRow) -> Value {
    let i = &r.installation;
    let mut installation = json!({
        "state": i.state.as_str(),
        "version": i.version.to_string(),
    });
    if let Some(v) = i.installed_version {
        installation["installed_version"] = json!(v.to_string());
    }
    if let Some(o) = &i.output {
        installation["output"] = json!(o);
    }
    if let Some(t) = i.finished {
        installation["finished_time"] = json!(format_millis(t));
    }
    let mut v = json!({
        "type": NODEJS,
        "id": r.id,
        "dependencies": r.dependencies,
        "environment_variables": r.environment_variables,
        "version": r.version.to_string(),
        "installation": installation,
    });
    if let Some(s) = &r.initialization_script {
        v["initialization_script"] = json!({ "script": s });
    }
    v["_links"] = links(
        ctx,
        &[
            ("self", "/runtimes/nodejs".into()),
            ("functions", "/runtimes/nodejs/functions".into()),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}

/// A function, with the runtime it runs on (`runtime: {type, id, version}`), and Palaver's
/// `initialize_asynchronously` and `created_time`.
pub fn function(ctx: &LinkBase, f: &FunctionRow, r: &RuntimeRow) -> Value {
    let mut v = json!({
        "type": f.trigger.as_str(),
        "id": f.id,
        "current_version_number": f.current_version_number,
        "enabled": f.enabled,
        "name": f.name,
        "initialize_asynchronously": f.initialize_asynchronously,
        "runtime": {
            "type": NODEJS,
            "id": r.id,
            "version": r.version.to_string(),
        },
        "created_time": format_millis(f.created),
    });
    if let Some(d) = &f.description {
        v["description"] = json!(d);
    }
    let path = format!("/functions/{}", f.id);
    v["_links"] = links(
        ctx,
        &[
            ("self", path.clone()),
            ("versions", format!("{path}/versions")),
            ("invocations", format!("{path}/invocations")),
            ("current_version", format!("{path}/current-version")),
            ("runtime", "/runtimes/nodejs".into()),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}

/// A function version, and Palaver's `created_time`.
pub fn version(ctx: &LinkBase, fv: &FunctionVersionRow) -> Value {
    json!({
        "id": fv.id,
        "handler_script": fv.handler_script,
        "version_number": fv.version_number,
        "created_time": format_millis(fv.created),
        "_links": links(
            ctx,
            &[
                ("self", format!("/function-versions/{}", fv.id)),
                ("function", format!("/functions/{}", fv.function_id)),
                ("application", ctx.application_path().into()),
            ],
        ),
    })
}

/// An invocation: ChatKitty's `id`, `args`, `result`, `status`, `version_number` and
/// `created_time`; and Palaver's `output` (what the handler printed), `error` (why a FAILED
/// one failed) and `ended_time`.
pub fn invocation(ctx: &LinkBase, i: &InvocationRow) -> Value {
    let mut v = json!({
        "id": i.id,
        "args": i.args,
        "result": i.result,
        "status": i.status.as_str(),
        "version_number": i.version_number,
        "created_time": format_millis(i.created),
    });
    if let Some(o) = &i.output {
        v["output"] = json!(o);
    }
    if let (InvocationStatus::Failed, Some(e)) = (i.status, &i.error) {
        v["error"] = json!(e);
    }
    if let Some(t) = i.ended {
        v["ended_time"] = json!(format_millis(t));
    }
    v["_links"] = links(
        ctx,
        &[
            ("function", format!("/functions/{}", i.function_id)),
            ("application", ctx.application_path().into()),
        ],
    );
    v
}
