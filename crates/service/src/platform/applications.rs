//! Applications: creation with fresh credentials (operator), the caller's own application, its
//! settings, and secret rotation.

use palaver_domain::platform::event::Event;
use palaver_domain::{models, DomainError, ErrorCode};
use palaver_store::platform::{ApplicationRow, Applications, NewApplication};
use palaver_store::Scope;
use serde_json::Value;

use super::{client_secrets, random_token, AppPrincipal, Platform};
use crate::error::Result;

/// A new application with its client secret, which is shown once and stored only as a bcrypt
/// hash.
#[derive(Debug, Clone)]
pub struct CreatedApplication {
    pub app: ApplicationRow,
    pub client_secret: String,
}

/// `PUT /application/settings`: either field may be absent (one client sends only
/// `guestUsers`); an absent one keeps its value.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub guest_users: Option<String>,
    pub user_created_channels: Option<String>,
}

const SETTING_VALUES: [&str; 2] = ["ENABLED", "DISABLED"];

impl SettingsInput {
    /// Reads a snake_case body, checking each value is `ENABLED` or `DISABLED`.
    pub fn from_body(body: &Value) -> std::result::Result<Self, DomainError> {
        let obj = body.as_object().ok_or_else(|| {
            DomainError::new(
                ErrorCode::InvalidParameter,
                "settings must be a JSON object",
            )
        })?;
        // The published samples wrap the two fields in `features`; accept that form too.
        let src = obj
            .get("features")
            .and_then(Value::as_object)
            .unwrap_or(obj);
        let read = |k: &str| -> std::result::Result<Option<String>, DomainError> {
            match src.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if SETTING_VALUES.contains(&s.as_str()) => {
                    Ok(Some(s.clone()))
                }
                Some(other) => Err(DomainError::new(
                    ErrorCode::InvalidParameter,
                    format!("{k} must be ENABLED or DISABLED, not {other}"),
                )),
            }
        };
        let input = SettingsInput {
            guest_users: read("guest_users")?,
            user_created_channels: read("user_created_channels")?,
        };
        if input.guest_users.is_none() && input.user_created_channels.is_none() {
            return Err(DomainError::new(
                ErrorCode::InvalidParameter,
                "settings need guest_users or user_created_channels",
            ));
        }
        Ok(input)
    }
}

impl Platform {
    /// Creates an application in `org` with a new API key and client credentials, or with the
    /// given client id and secret (bootstrap automation).
    pub async fn create_application(
        &self,
        org: &str,
        name: &str,
        credentials: Option<(String, String)>,
    ) -> Result<CreatedApplication> {
        if name.trim().is_empty() {
            return Err(DomainError::new(
                ErrorCode::InvalidParameter,
                "an application needs a name",
            )
            .into());
        }
        if self
            .docs
            .get(&models::ORGANISATION, &Scope::org(org), org)
            .await?
            .is_none()
        {
            return Err(DomainError::unknown_id("organisation", org).into());
        }
        let (client_id, client_secret) =
            credentials.unwrap_or_else(|| (random_token(24), random_token(40)));
        if client_id.is_empty() {
            return Err(
                DomainError::new(ErrorCode::InvalidParameter, "a client id is needed").into(),
            );
        }
        let hash = client_secrets::hash(&client_secret, self.config.bcrypt_cost).await?;
        let app = self
            .apps
            .insert(&NewApplication {
                organisation_id: org.to_string(),
                name: name.to_string(),
                api_key: random_token(32),
                client_id,
                client_secret_digest: hash,
                created: self.now(),
            })
            .await?;
        Ok(CreatedApplication { app, client_secret })
    }

    /// Applications of one organisation, or of all.
    pub async fn list_applications(&self, org: Option<&str>) -> Result<Vec<ApplicationRow>> {
        Ok(self.apps.list(org).await?)
    }

    /// Issues a new client secret; every token of the application stops working.
    pub async fn rotate_secret(&self, app_id: i64) -> Result<String> {
        let secret = random_token(40);
        let hash = client_secrets::hash(&secret, self.config.bcrypt_cost).await?;
        if !self.apps.rotate_secret(app_id, &hash).await? {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                format!("No application with id {app_id}"),
            )
            .into());
        }
        self.token_memo.forget(app_id);
        Ok(secret)
    }

    /// Application `id`, for work done on its behalf with no request behind it (chat
    /// functions' Platform API calls).
    pub async fn application_row(&self, id: i64) -> Result<Option<ApplicationRow>> {
        Ok(self.apps.get(id).await?)
    }

    /// The caller's application.
    pub async fn application(&self, p: &AppPrincipal) -> Result<ApplicationRow> {
        self.apps
            .get_in_org(&p.organisation_id, p.application_id)
            .await?
            .ok_or_else(|| {
                DomainError::new(ErrorCode::NotFound, "The application no longer exists").into()
            })
    }

    pub async fn update_settings(
        &self,
        p: &AppPrincipal,
        input: &SettingsInput,
    ) -> Result<ApplicationRow> {
        let current = self.application(p).await?;
        let guest = input.guest_users.as_deref().unwrap_or(&current.guest_users);
        let channels = input
            .user_created_channels
            .as_deref()
            .unwrap_or(&current.user_created_channels);
        let mut tx = self.db.begin().await?;
        Applications::set_settings(&mut tx, &p.organisation_id, current.id, guest, channels)
            .await?;
        let updated = Event::SettingsUpdated {
            guest_users: guest.to_string(),
            user_created_channels: channels.to_string(),
        };
        self.commit(tx, p, updated).await?;
        self.application(p).await
    }
}
