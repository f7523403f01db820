//! The platform API of a spawned Palaver, called as its bootstrap application (client
//! credentials grant): what the suites that set up functions or channels over REST share.

use anyhow::Context;
use serde_json::Value;

use crate::messages::{CLIENT_ID, CLIENT_SECRET};

/// The platform API as the bootstrap application.
pub(crate) struct PlatformApi {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl PlatformApi {
    pub(crate) async fn new(base: &str) -> anyhow::Result<PlatformApi> {
        let client = reqwest::Client::new();
        let grant: Value = client
            .post(format!("{base}/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await?
            .json()
            .await?;
        let token = grant["access_token"]
            .as_str()
            .context("no access token")?
            .to_string();
        Ok(PlatformApi {
            client,
            base: base.to_string(),
            token,
        })
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {v}");
        Ok(v)
    }
}
