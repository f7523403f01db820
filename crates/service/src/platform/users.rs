//! Chat users of the caller's application: create, look up, page, patch, delete, display
//! picture, and named secrets.

use palaver_domain::platform::event::{Event, UserRef};
use palaver_domain::platform::merge_patch;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ApplicationRow, ChatUserChanges, ChatUserRow, ChatUsers, NewChatUser, NewEvent, UserFilter,
};
use palaver_store::{SecretRow, StoreError};
use serde_json::{Map, Value};

use super::{AppPrincipal, Platform};
use crate::error::{Result, ServiceError};
use crate::secrets;

/// Properties users can be sorted by, as clients name them (snake_case).
pub const USER_SORTABLE: [&str; 4] = ["id", "name", "display_name", "created_time"];

const MAX_NAME_CHARS: usize = 255;

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new(ErrorCode::InvalidParameter, message)
}

fn no_user(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No user with id {id}"))
}

/// A validated `POST /users` body.
#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub name: String,
    pub display_name: String,
    pub is_guest: bool,
    pub r#type: String,
    pub properties: Value,
    pub display_picture_url: Option<String>,
}

fn object(body: &Value) -> std::result::Result<&Map<String, Value>, DomainError> {
    body.as_object()
        .ok_or_else(|| invalid("the request body must be a JSON object"))
}

fn text(obj: &Map<String, Value>, k: &str) -> std::result::Result<Option<String>, DomainError> {
    match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string"))),
    }
}

fn properties(obj: &Map<String, Value>) -> std::result::Result<Option<Value>, DomainError> {
    match obj.get("properties") {
        None | Some(Value::Null) => Ok(None),
        Some(p @ Value::Object(_)) => Ok(Some(p.clone())),
        Some(_) => Err(invalid("properties must be a JSON object")),
    }
}

fn http_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > 8
        && !url.contains(char::is_whitespace)
}

impl NewUserInput {
    /// Reads a snake_case body (`name`, `display_name`, `is_guest`, `type`, `properties`).
    pub fn from_body(body: &Value) -> std::result::Result<Self, DomainError> {
        let obj = object(body)?;
        let name = text(obj, "name")?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| invalid("name is required"))?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(format!(
                "name must be at most {MAX_NAME_CHARS} characters"
            )));
        }
        let display_name = text(obj, "display_name")?
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| name.clone());
        let is_guest = match obj.get("is_guest") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("is_guest must be true or false")),
        };
        let r#type = text(obj, "type")?.unwrap_or_else(|| "PERSON".into());
        if !matches!(r#type.as_str(), "PERSON" | "BOT") {
            return Err(invalid("type must be PERSON or BOT"));
        }
        let display_picture_url = text(obj, "display_picture_url")?;
        if display_picture_url.as_deref().is_some_and(|u| !http_url(u)) {
            return Err(invalid("display_picture_url must be an http or https URL"));
        }
        Ok(NewUserInput {
            name,
            display_name,
            is_guest,
            r#type,
            properties: properties(obj)?.unwrap_or_else(|| Value::Object(Map::new())),
            display_picture_url,
        })
    }
}

/// Filters of `GET /users`.
#[derive(Debug, Clone, Default)]
pub struct UsersQuery {
    pub name: Option<String>,
    /// A JSON object of custom properties every returned user must hold.
    pub properties: Option<String>,
    /// `true`: only users with messages they have not read; `false`: only users without.
    pub unread: Option<String>,
}

/// A validated merge patch of a user.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub is_guest: Option<bool>,
    pub presence_status: Option<String>,
    pub properties: Option<Value>,
}

impl UserPatch {
    pub fn from_body(body: &Value) -> std::result::Result<Self, DomainError> {
        if body.is_null() {
            return Ok(UserPatch::default());
        }
        let obj = object(body)?;
        let display_name = text(obj, "display_name")?;
        if display_name.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err(invalid("display_name cannot be blank"));
        }
        let is_guest = match obj.get("is_guest") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(invalid("is_guest must be true or false")),
        };
        let presence_status = match obj.get("presence") {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => text(p, "status")?,
            Some(_) => return Err(invalid("presence must be an object")),
        };
        let properties = match obj.get("properties") {
            None => None,
            Some(p @ (Value::Object(_) | Value::Null)) => Some(p.clone()),
            Some(_) => return Err(invalid("properties must be a JSON object")),
        };
        Ok(UserPatch {
            display_name,
            is_guest,
            presence_status,
            properties,
        })
    }
}

impl Platform {
    pub async fn create_user(&self, p: &AppPrincipal, input: NewUserInput) -> Result<ChatUserRow> {
        let new = NewChatUser {
            application_id: p.application_id,
            name: input.name.clone(),
            display_name: input.display_name,
            display_picture_url: input.display_picture_url.unwrap_or_default(),
            r#type: input.r#type,
            is_guest: input.is_guest,
            properties: input.properties,
            created: self.now(),
        };
        let mut tx = self.db.begin().await?;
        let id = match ChatUsers::insert_in(&mut tx, &new).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    format!("A user named \"{}\" already exists", input.name),
                )
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        let created = UserRef {
            id,
            name: new.name.clone(),
        };
        self.commit(tx, p, Event::UserCreated(created)).await?;
        self.get_user(p, id).await
    }

    pub async fn user_exists(&self, p: &AppPrincipal, name: &str) -> Result<bool> {
        Ok(self.users.by_name(p.application_id, name).await?.is_some())
    }

    /// One page of users and the total matching.
    pub async fn list_users(
        &self,
        p: &AppPrincipal,
        q: &UsersQuery,
        page: &PageRequest,
    ) -> Result<(Vec<ChatUserRow>, u64)> {
        let properties = match &q.properties {
            None => Map::new(),
            Some(s) if s.trim().is_empty() => Map::new(),
            Some(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(m)) => m,
                _ => {
                    return Err(
                        invalid("properties must be a JSON object, e.g. {\"team\":\"a\"}").into(),
                    )
                }
            },
        };
        let unread = match q.unread.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
            Some(v) => {
                return Err(invalid(format!("unread must be true or false, not \"{v}\"")).into())
            }
        };
        let filter = UserFilter {
            name: q.name.clone(),
            properties,
            unread,
            ..UserFilter::default()
        };
        let sort: Vec<(&str, bool)> = page
            .sort
            .iter()
            .map(|s| {
                (
                    if s.property == "created_time" {
                        "created"
                    } else {
                        s.property.as_str()
                    },
                    s.descending,
                )
            })
            .collect();
        let rows = self
            .users
            .page(p.application_id, &filter, &sort, page.offset(), page.size)
            .await?;
        let total = self.users.count(p.application_id, &filter).await?;
        Ok((rows, total))
    }

    pub async fn get_user(&self, p: &AppPrincipal, id: i64) -> Result<ChatUserRow> {
        self.users
            .get(p.application_id, id)
            .await?
            .ok_or_else(|| no_user(id).into())
    }

    pub async fn update_user(
        &self,
        p: &AppPrincipal,
        id: i64,
        patch: &UserPatch,
    ) -> Result<ChatUserRow> {
        let current = self.get_user(p, id).await?;
        let properties = patch.properties.as_ref().map(|props| {
            let mut merged = current.properties.clone();
            merge_patch::apply(&mut merged, props);
            if merged.is_object() {
                merged
            } else {
                Value::Object(Map::new())
            }
        });
        let changes = ChatUserChanges {
            display_name: patch.display_name.clone(),
            is_guest: patch.is_guest,
            presence_status: patch.presence_status.clone(),
            properties,
            display_picture_url: None,
        };
        let mut tx = self.db.begin().await?;
        if !ChatUsers::update(&mut tx, p.application_id, id, &changes).await? {
            return Err(no_user(id).into());
        }
        self.commit(tx, p, Event::UserUpdated(user_ref(&current)))
            .await?;
        self.get_user(p, id).await
    }

    /// Deletes a user and the messages it sent; answers with the application, as the platform
    /// API does. The user's event says that its messages went with it.
    pub async fn delete_user(&self, p: &AppPrincipal, id: i64) -> Result<ApplicationRow> {
        let user = self.get_user(p, id).await?;
        // The messages that go with the user are announced on their channels one by one, so
        // that clients showing them drop them as they would a deleted message.
        let mut gone = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .messages
                .sent_after(p.application_id, id, after, 1_000)
                .await?;
            let Some(last) = page.last().map(|m| m.id) else {
                break;
            };
            after = last;
            gone.extend(page.iter().map(|m| NewEvent {
                application_id: p.application_id,
                event: Event::MessageDeleted(super::messages::message_ref(m)),
                created: self.now(),
            }));
        }
        let mut tx = self.db.begin().await?;
        if !ChatUsers::delete(&mut tx, p.application_id, id).await? {
            return Err(no_user(id).into());
        }
        self.enqueue_file_cleanup(&mut tx, p.application_id).await?;
        gone.push(NewEvent {
            application_id: p.application_id,
            event: Event::UserDeleted(user_ref(&user)),
            created: self.now(),
        });
        self.commit_all(tx, gone).await?;
        self.jobs.wake();
        self.application(p).await
    }

    /// Points the user's picture at an external file `{url, name, content_type, size}`.
    pub async fn set_display_picture(
        &self,
        p: &AppPrincipal,
        id: i64,
        body: &Value,
    ) -> Result<ChatUserRow> {
        let obj = object(body)?;
        let url = text(obj, "url")?.ok_or_else(|| invalid("url is required"))?;
        if !http_url(&url) {
            return Err(invalid("url must be an http or https URL").into());
        }
        for k in ["name", "content_type"] {
            text(obj, k)?.ok_or_else(|| invalid(format!("{k} is required")))?;
        }
        if obj
            .get("size")
            .and_then(Value::as_i64)
            .is_none_or(|n| n < 0)
        {
            return Err(invalid("size must be a whole number of bytes").into());
        }
        let user = self.point_display_picture(p, id, url).await?;
        // A picture hosted here before is no longer shown: it goes.
        self.forget_display_pictures(p, id, None).await;
        Ok(user)
    }

    pub async fn user_secret(&self, p: &AppPrincipal, id: i64, name: &str) -> Result<Value> {
        self.get_user(p, id).await?;
        let stored = self
            .users
            .secret(p.application_id, id, name)
            .await?
            .ok_or_else(|| {
                ServiceError::from(DomainError::new(
                    ErrorCode::NotFound,
                    format!("User {id} has no secret named \"{name}\""),
                ))
            })?;
        let row = secret_row(p, id, name);
        let text = self
            .sealer
            .open_text(&stored, &secrets::place(&row))
            .map_err(|e| secrets::unopened(&row, e))?;
        Ok(serde_json::from_str(&text).map_err(|_| DomainError::internal())?)
    }

    /// Sets a secret from `{"secret": <any JSON>}`; answers with the user.
    pub async fn set_user_secret(
        &self,
        p: &AppPrincipal,
        id: i64,
        name: &str,
        body: &Value,
    ) -> Result<ChatUserRow> {
        let secret = object(body)?
            .get("secret")
            .filter(|s| !s.is_null())
            .ok_or_else(|| invalid("secret is required"))?;
        if name.is_empty() || name.len() > MAX_NAME_CHARS {
            return Err(invalid("a secret name is 1 to 255 characters").into());
        }
        let user = self.get_user(p, id).await?;
        let sealed = self
            .sealer
            .seal_text(
                &secret.to_string(),
                &secrets::place(&secret_row(p, id, name)),
            )
            .map_err(|_| DomainError::internal())?;
        let mut tx = self.db.begin().await?;
        ChatUsers::put_secret(&mut tx, p.application_id, id, name, &sealed).await?;
        let set = Event::SecretSet {
            user_id: id,
            name: name.to_string(),
        };
        self.commit(tx, p, set).await?;
        Ok(user)
    }

    pub async fn delete_user_secret(
        &self,
        p: &AppPrincipal,
        id: i64,
        name: &str,
    ) -> Result<ChatUserRow> {
        let user = self.get_user(p, id).await?;
        let mut tx = self.db.begin().await?;
        if !ChatUsers::delete_secret(&mut tx, p.application_id, id, name).await? {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                format!("User {id} has no secret named \"{name}\""),
            )
            .into());
        }
        let deleted = Event::SecretDeleted {
            user_id: id,
            name: name.to_string(),
        };
        self.commit(tx, p, deleted).await?;
        Ok(user)
    }
}

/// Where a user's secret is kept: what its sealed value is bound to.
fn secret_row(p: &AppPrincipal, user: i64, name: &str) -> SecretRow {
    SecretRow::UserSecret {
        application_id: p.application_id,
        user_id: user,
        name: name.to_string(),
    }
}

fn user_ref(u: &ChatUserRow) -> UserRef {
    UserRef {
        id: u.id,
        name: u.name.clone(),
    }
}
