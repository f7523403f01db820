//! Operator use-cases behind the CLI and the first start: organisations, accounts, bootstrap.
//! The operator acts with full rights on the database it is pointed at.

use palaver_domain::time::Clock;
use palaver_domain::{models, DomainError};
use palaver_store::{Documents, Scope, Tokens};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::content::{present, Content, Doc};
use crate::error::Result;
use crate::jobs::JobQueue;
use crate::principal::{Principal, Role};

/// Who the first start creates, when given; generated otherwise.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    pub email: Option<String>,
    /// The superadmin's username; the email's local part when absent.
    pub username: Option<String>,
    pub password: Option<String>,
}

/// What the first start created.
#[derive(Debug, Clone)]
pub struct BootstrapOutcome {
    pub organisation_id: String,
    pub account_id: String,
    pub email: String,
    /// The password, when it was generated (to be shown once).
    pub generated_password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Operator {
    docs: Documents,
    content: Content,
}

/// The organisation's superadmin, as which the operator acts inside one organisation.
fn acting_in(org_id: &str) -> Principal {
    Principal {
        account_id: String::new(),
        organisation_id: org_id.to_string(),
        role: Role::Superadmin,
        username: None,
        token_digest: String::new(),
    }
}

impl Operator {
    /// An operator on the system clock, with content use-cases of its own.
    pub fn new(docs: Documents, tokens: Tokens, bcrypt_cost: u32) -> Self {
        let jobs = JobQueue::new(docs.db().clone(), Clock::system());
        // Organisations and accounts hold no sealed secrets: a key of its own never seals one.
        let sealer = crate::secrets::Sealer::random();
        let content = Content::new(docs.clone(), tokens, bcrypt_cost, jobs, sealer);
        Self { docs, content }
    }

    /// An operator acting through `content` (and so on its clock and job queue).
    pub fn with_content(docs: Documents, content: Content) -> Self {
        Self { docs, content }
    }

    pub async fn create_org(&self, name: &str) -> Result<Doc> {
        if name.trim().is_empty() {
            return Err(DomainError::bad_request("an organisation needs a name").into());
        }
        let mut doc = Map::new();
        doc.insert("company_name".into(), Value::String(name.to_string()));
        let id = self.content.stamp_new(&mut doc);
        self.docs
            .insert(&models::ORGANISATION, &Scope::org(&id), &doc)
            .await?;
        Ok(present(&models::ORGANISATION, &doc, None))
    }

    pub async fn list_orgs(&self) -> Result<Vec<Doc>> {
        let rows = self.docs.all_organisations().await?;
        Ok(rows
            .into_iter()
            .map(|r| present(&models::ORGANISATION, &r, None))
            .collect())
    }

    /// Creates an account with any role in `org_id`; its email counts as verified.
    pub async fn create_account(
        &self,
        org_id: &str,
        email: &str,
        password: &str,
        role: &str,
        bot_id: Option<&str>,
    ) -> Result<Doc> {
        let org = self
            .docs
            .get(&models::ORGANISATION, &Scope::org(org_id), org_id)
            .await?;
        if org.is_none() {
            return Err(DomainError::unknown_id("organisation", org_id).into());
        }
        let mut body = json!({ "email": email, "password": password, "role": role });
        if let Some(b) = bot_id {
            body["bot_id"] = Value::String(b.to_string());
        }
        self.content
            .create_account(&acting_in(org_id), &body, true)
            .await
    }

    /// On an empty database: creates organisation `default` and its superadmin. Does nothing
    /// (returns `None`) when any organisation exists.
    pub async fn bootstrap(&self, b: &Bootstrap) -> Result<Option<BootstrapOutcome>> {
        if !self.docs.all_organisations().await?.is_empty() {
            return Ok(None);
        }
        let org = self.create_org("default").await?;
        let org_id = org
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let email = b
            .email
            .clone()
            .unwrap_or_else(|| "admin@palaver.local".to_string());
        let (password, generated) = match &b.password {
            Some(p) => (p.clone(), None),
            None => {
                let p: String = rand::thread_rng()
                    .sample_iter(&Alphanumeric)
                    .take(20)
                    .map(char::from)
                    .collect();
                (p.clone(), Some(p))
            }
        };
        // A username, so that the login answer's account carries one as LoopBack's users do.
        let username = b.username.clone().unwrap_or_else(|| {
            let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
            local.to_string()
        });
        let body = json!({
            "email": email,
            "username": username,
            "password": password,
            "role": "superadmin",
        });
        let account = self
            .content
            .create_account(&acting_in(&org_id), &body, true)
            .await?;
        Ok(Some(BootstrapOutcome {
            organisation_id: org_id,
            account_id: account
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            email,
            generated_password: generated,
        }))
    }
}
