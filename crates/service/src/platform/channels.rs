//! Channels of the caller's application: create (DIRECT channels are found again by member
//! set, group channels by type, name and creator), look up, page with filters, merge-patch,
//! delete. Every write commits with its event.

use std::collections::{BTreeSet, HashMap};

use palaver_domain::platform::event::{ChannelRef, Event};
use palaver_domain::platform::merge_patch;
use palaver_domain::platform::paging::PageRequest;
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::Channels;
use palaver_store::platform::{
    ApplicationRow, ChannelFilter, ChannelRow, ChatUserRow, NewChannel, Roster, Rosters,
};
use palaver_store::StoreError;
use serde_json::{Map, Value};

use super::channel_input::{invalid, ChannelPatch, ChannelsQuery, NewChannelInput};
use super::{AppPrincipal, Platform};
use crate::error::Result;

/// Properties channels can be sorted by, as clients name them (snake_case).
pub const CHANNEL_SORTABLE: [&str; 4] = ["id", "name", "display_name", "created_time"];

/// A channel with the users its resource shows: the creator, and a DIRECT channel's members.
#[derive(Debug, Clone)]
pub struct ChannelView {
    pub channel: ChannelRow,
    pub creator: Option<ChatUserRow>,
    /// Filled for DIRECT channels only.
    pub members: Vec<ChatUserRow>,
}

pub(crate) fn no_channel(id: i64) -> DomainError {
    DomainError::new(ErrorCode::NotFound, format!("No channel with id {id}"))
}

/// What an event says about a channel.
pub(crate) fn channel_ref(c: &ChannelRow) -> ChannelRef {
    ChannelRef {
        id: c.id,
        r#type: c.r#type.clone(),
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        creator_id: c.creator_id,
        properties: c.properties.clone(),
        created: c.created,
        member_ids: Vec::new(),
    }
}

/// A random name in the shape of a UUID, for group channels created without one.
pub(crate) fn random_name() -> String {
    use rand::Rng;
    let b: [u8; 16] = rand::thread_rng().gen();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[16..20],
        &h[20..32]
    )
}

impl Platform {
    pub async fn create_channel(
        &self,
        p: &AppPrincipal,
        input: NewChannelInput,
    ) -> Result<ChannelView> {
        let creator = match &input.creator {
            Some(r) => Some(self.resolve_user(p, r, "creator").await?),
            None => None,
        };
        let mut member_ids = BTreeSet::new();
        for r in &input.members {
            member_ids.insert(self.resolve_user(p, r, "members").await?.id);
        }
        // The creator is a member of what it creates.
        if let Some(c) = &creator {
            member_ids.insert(c.id);
        }
        let direct = input.r#type == "DIRECT";
        let direct_key = if direct {
            if member_ids.len() < 2 {
                return Err(invalid("a DIRECT channel needs at least 2 distinct members").into());
            }
            let key = member_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            // One member set, one DIRECT channel: creating it again answers the same one.
            if let Some(existing) = self.channels.direct(p.application_id, &key).await? {
                return self.view(existing).await;
            }
            Some(key)
        } else {
            None
        };
        let name = if direct {
            None
        } else {
            Some(input.name.clone().unwrap_or_else(random_name))
        };
        let creator_id = creator.as_ref().map(|c| c.id);
        // Only a name the caller chose can be taken already.
        let named = name.as_deref().filter(|_| input.name.is_some());
        if let Some(existing) = self.equivalent(p, &input.r#type, named, creator_id).await? {
            return self.view(existing).await;
        }
        let now = self.now();
        let new = NewChannel {
            id: 0,
            application_id: p.application_id,
            r#type: input.r#type.clone(),
            display_name: if direct {
                None
            } else {
                input.display_name.clone().or_else(|| name.clone())
            },
            name,
            creator_id,
            direct_key: direct_key.clone(),
            properties: input.properties.clone(),
            created: now,
        };
        let mut tx = self.db.begin().await?;
        let row = match Channels::insert(&mut tx, &new).await {
            Ok(row) => row,
            Err(StoreError::Conflict(_)) => {
                drop(tx);
                // Another request created the same channel first.
                if let Some(key) = &direct_key {
                    if let Some(existing) = self.channels.direct(p.application_id, key).await? {
                        return self.view(existing).await;
                    }
                }
                let equivalent = self
                    .equivalent(p, &new.r#type, new.name.as_deref(), creator_id)
                    .await?;
                if let Some(existing) = equivalent {
                    return self.view(existing).await;
                }
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    format!(
                        "A channel named \"{}\" already exists",
                        new.name.unwrap_or_default()
                    ),
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        for id in &member_ids {
            Rosters::add(&mut tx, Roster::Members, row.id, *id, now).await?;
        }
        let mut created = channel_ref(&row);
        created.member_ids = member_ids.into_iter().collect();
        self.commit(tx, p, Event::ChannelCreated(created)).await?;
        self.view(row).await
    }

    /// The group channel a create request of this type, name and creator answers instead of
    /// making a new one ("creates a new channel or returns an equivalent existing channel"):
    /// the one of that name, when its type and creator are the same too. A name taken by any
    /// other channel is a conflict; members and properties of the request play no part, and
    /// the existing channel is answered as it is.
    async fn equivalent(
        &self,
        p: &AppPrincipal,
        r#type: &str,
        name: Option<&str>,
        creator: Option<i64>,
    ) -> Result<Option<ChannelRow>> {
        let Some(name) = name else {
            return Ok(None);
        };
        Ok(self
            .channels
            .by_name(p.application_id, name)
            .await?
            .filter(|c| c.r#type == r#type && c.creator_id == creator))
    }

    /// The caller's channel `id`, or NotFound.
    pub(crate) async fn channel_row(&self, p: &AppPrincipal, id: i64) -> Result<ChannelRow> {
        self.channels
            .get(p.application_id, id)
            .await?
            .ok_or_else(|| no_channel(id).into())
    }

    pub async fn get_channel(&self, p: &AppPrincipal, id: i64) -> Result<ChannelView> {
        let row = self.channel_row(p, id).await?;
        self.view(row).await
    }

    pub(crate) async fn view(&self, row: ChannelRow) -> Result<ChannelView> {
        Ok(self
            .views(vec![row])
            .await?
            .pop()
            .ok_or_else(|| no_channel(0))?)
    }

    /// Loads the creators and DIRECT members of `rows` with one user query.
    async fn views(&self, rows: Vec<ChannelRow>) -> Result<Vec<ChannelView>> {
        let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
        let mut ids: Vec<i64> = rows.iter().filter_map(|c| c.creator_id).collect();
        let direct: Vec<i64> = rows
            .iter()
            .filter(|c| c.r#type == "DIRECT")
            .map(|c| c.id)
            .collect();
        for (channel, entry) in self.rosters.of_channels(Roster::Members, &direct).await? {
            ids.push(entry.user_id);
            members.entry(channel).or_default().push(entry.user_id);
        }
        ids.sort_unstable();
        ids.dedup();
        let app = rows.first().map(|c| c.application_id).unwrap_or_default();
        let users: HashMap<i64, ChatUserRow> = self
            .users
            .by_ids(app, &ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(rows
            .into_iter()
            .map(|c| ChannelView {
                creator: c.creator_id.and_then(|id| users.get(&id).cloned()),
                members: members
                    .get(&c.id)
                    .map(|m| m.iter().filter_map(|id| users.get(id).cloned()).collect())
                    .unwrap_or_default(),
                channel: c,
            })
            .collect())
    }

    pub(crate) async fn page_channels(
        &self,
        p: &AppPrincipal,
        filter: &ChannelFilter,
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
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
            .channels
            .page(p.application_id, filter, &sort, page.offset(), page.size)
            .await?;
        let total = self.channels.count(p.application_id, filter).await?;
        Ok((self.views(rows).await?, total))
    }

    /// One page of channels matching `q`, and the total matching.
    pub async fn list_channels(
        &self,
        p: &AppPrincipal,
        q: &ChannelsQuery,
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
        let parsed = q.parse()?;
        let filter = ChannelFilter {
            r#type: parsed.r#type,
            member_names: q
                .members
                .iter()
                .filter(|m| !m.is_empty())
                .cloned()
                .collect(),
            start: parsed.start,
            end: parsed.end,
            properties: parsed.properties,
            user: None,
            not_member: None,
            ..ChannelFilter::default()
        };
        self.page_channels(p, &filter, page).await
    }

    /// The channels user `id` created or joined.
    pub async fn user_channels(
        &self,
        p: &AppPrincipal,
        id: i64,
        page: &PageRequest,
    ) -> Result<(Vec<ChannelView>, u64)> {
        self.get_user(p, id).await?;
        let filter = ChannelFilter {
            user: Some(id),
            ..ChannelFilter::default()
        };
        self.page_channels(p, &filter, page).await
    }

    pub async fn update_channel(
        &self,
        p: &AppPrincipal,
        id: i64,
        patch: &ChannelPatch,
    ) -> Result<ChannelView> {
        let mut row = self.channel_row(p, id).await?;
        if let Some(props) = &patch.properties {
            merge_patch::apply(&mut row.properties, props);
            if !row.properties.is_object() {
                row.properties = Value::Object(Map::new());
            }
        }
        if patch.display_name.is_some() {
            if row.r#type == "DIRECT" {
                return Err(invalid("a DIRECT channel has no display_name").into());
            }
            row.display_name = patch.display_name.clone();
        }
        let mut tx = self.db.begin().await?;
        if !Channels::update(&mut tx, &row).await? {
            return Err(no_channel(id).into());
        }
        self.commit(tx, p, Event::ChannelUpdated(channel_ref(&row)))
            .await?;
        self.view(row).await
    }

    /// Deletes a channel; answers with the application, as the platform API does. Its event
    /// names the members it had, who are told.
    pub async fn delete_channel(&self, p: &AppPrincipal, id: i64) -> Result<ApplicationRow> {
        let row = self.channel_row(p, id).await?;
        let mut deleted = channel_ref(&row);
        deleted.member_ids = self
            .rosters
            .of_channels(Roster::Members, &[id])
            .await?
            .into_iter()
            .map(|(_, e)| e.user_id)
            .collect();
        let mut tx = self.db.begin().await?;
        if !Channels::delete(&mut tx, p.application_id, id).await? {
            return Err(no_channel(id).into());
        }
        self.commit(tx, p, Event::ChannelDeleted(deleted)).await?;
        self.application(p).await
    }
}
