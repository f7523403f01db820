//! Chat functions wired to this server: their `context.get…Api()` calls go through the platform
//! router in process, as the application that owns the worker, and the pool and runtimes are
//! built from the configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use palaver_api::InProcess;
use palaver_functions::{
    ApiBridge, ApiRequest, ApiResponse, BridgeFuture, NetworkPolicy, Pool, PoolSettings,
    RuntimeSettings, Runtimes,
};
use palaver_jobs::{FunctionHost, FunctionSettings};
use palaver_service::{AppPrincipal, Services};
use serde_json::json;

use crate::config::Config;

/// Handlers' Platform API calls, run by the platform router for the worker's application.
struct PlatformBridge {
    services: Services,
    api: InProcess,
}

impl PlatformBridge {
    async fn answer(&self, app_id: i64, req: ApiRequest) -> ApiResponse {
        // The application's organisation, for the operations that show the application.
        let organisation_id = match self.services.platform.application_row(app_id).await {
            Ok(Some(a)) => a.organisation_id,
            Ok(None) => {
                let gone = json!({"error": "ResourceNotFoundError",
                                  "message": "The application no longer exists"});
                return ApiResponse::json(404, gone);
            }
            Err(e) => {
                tracing::error!(error = %e.into_domain(), "function API call not made");
                let failed = json!({"error": "InternalServerError",
                                    "message": "The server failed to answer"});
                return ApiResponse::json(500, failed);
            }
        };
        let p = AppPrincipal {
            application_id: app_id,
            organisation_id,
        };
        let mut uri = req.path;
        if !req.query.is_empty() {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(req.query.iter())
                .finish();
            uri = format!("{uri}?{query}");
        }
        let answer = self.api.call(p, &req.method, &uri, req.body.as_ref()).await;
        ApiResponse::json(answer.status, answer.body)
    }
}

impl ApiBridge for PlatformBridge {
    fn call(&self, app_id: i64, request: ApiRequest) -> BridgeFuture<'_> {
        Box::pin(self.answer(app_id, request))
    }
}

/// The function host of a server built from `config`: runtimes under `functions_dir`, workers
/// as the `function_*` settings say.
/// Their platform calls count against `limits` (the chat functions' bucket of each application).
pub async fn host(
    config: &Config,
    services: &Services,
    limits: &palaver_api::Limits,
) -> anyhow::Result<FunctionHost> {
    let dir = PathBuf::from(&config.functions_dir);
    let runtimes = Runtimes::open(RuntimeSettings {
        npm_path: PathBuf::from(&config.npm_path),
        allow_local_dependencies: config.function_local_dependencies,
        ..RuntimeSettings::new(dir.join("runtimes"))
    })
    .with_context(|| format!("cannot open the functions folder {}", dir.display()))?;
    let bridge: Arc<dyn ApiBridge> = Arc::new(PlatformBridge {
        services: services.clone(),
        api: InProcess::new(services.clone(), limits),
    });
    let pool = Pool::new(
        PoolSettings {
            node_path: PathBuf::from(&config.node_path),
            heap_mb: config.function_heap_mb,
            max_workers: config.function_workers,
            network: match config.function_network.as_str() {
                "deny" => NetworkPolicy::Deny,
                _ => NetworkPolicy::Allow,
            },
            ..PoolSettings::new(dir.join("work"))
        },
        runtimes.clone(),
        bridge.clone(),
    )
    .await
    .with_context(|| format!("cannot prepare function workers in {}", dir.display()))?;
    Ok(FunctionHost::new(
        services.clone(),
        pool,
        runtimes,
        bridge,
        FunctionSettings {
            timeout: Duration::from_millis(config.function_timeout_millis),
            session_timeout: Duration::from_millis(config.function_session_timeout_millis),
            max_attempts: config.function_max_attempts,
        },
    ))
}
