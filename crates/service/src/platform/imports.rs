//! Bulk imports (`POST /imports/...`): the uploaded JSON array is kept as a file and a job
//! reads it in batches. Each batch is one transaction: the rows it creates, their events, the
//! idempotency keys of its elements, and the job's checkpoint (progress and the elements that
//! failed). A job run again after its worker died carries on after its last checkpoint, and an
//! element whose idempotency key was imported before is skipped, so nothing is made twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use palaver_domain::job::{JobKind, JobProgress};
use palaver_domain::platform::event::{Event, UserRef};
use palaver_domain::platform::imports::{
    key_of, parse_element, ChannelImport, ImportTarget, MembershipImport, MessageImport, UserImport,
};
use palaver_domain::{DomainError, ErrorCode};
use palaver_store::platform::{
    ChannelRow, Channels, ChatUserRow, ChatUsers, ImportKeys, MessageRow, NewChatUser, NewEvent,
    Roster, Rosters,
};
use palaver_store::{JobErrorRow, JobRow, Tx};
use serde_json::{json, Value};

use super::channel_input::NewChannelInput;
use super::channel_rosters::{check_roster, roster_event};
use super::channels::{channel_ref, random_name};
use super::messages::{mention_names, parse_body};
use super::send_queue::{insert_sends_unreturned, NewSend};
use super::users::NewUserInput;
use super::{AppPrincipal, Platform};
use crate::error::Result;
use crate::jobs::JobLease;

/// What a batch wrote, before it commits.
#[derive(Default)]
struct Outcome {
    events: Vec<NewEvent>,
    keys: Vec<(String, i64)>,
    created: u64,
    skipped: u64,
    failures: Vec<JobErrorRow>,
}

impl Outcome {
    fn fail(&mut self, position: i64, key: Option<String>, reason: impl Into<String>) {
        self.failures.push(JobErrorRow {
            position,
            idempotency_key: key,
            reason: reason.into(),
        });
    }
}

/// One element of a batch: its index in the file, its idempotency key, the element.
type Element = (i64, Option<String>, Value);

/// An element read into its kind's shape, or why it could not be.
type Parsed<T> = (i64, Option<String>, std::result::Result<T, String>);

/// Reads every element of a batch with `parse`, keeping its index and key.
fn parse_all<T>(
    items: Vec<Element>,
    parse: impl Fn(Value) -> std::result::Result<T, String>,
) -> Vec<Parsed<T>> {
    items
        .into_iter()
        .map(|(pos, key, v)| (pos, key, parse(v)))
        .collect()
}

/// A batch's elements with their index in the file (the first is `first`) and their key.
fn numbered_elements(first: u64, elements: Vec<Value>) -> Vec<Element> {
    elements
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let position = i64::try_from(first + i as u64).unwrap_or(i64::MAX);
            (position, key_of(&v), v)
        })
        .collect()
}

/// A batch of message elements read into rows (or why each makes none), not written yet.
#[derive(Debug)]
pub struct PreparedMessages {
    app: i64,
    /// How many elements the batch holds.
    n: u64,
    items: Vec<(i64, Option<String>, std::result::Result<MessageRow, String>)>,
}

impl PreparedMessages {
    /// How many elements the batch holds.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
}

/// What the job of an import reads: the stored file and, for members, the channel.
pub fn import_payload(file_key: &str, channel: Option<i64>) -> Value {
    match channel {
        Some(c) => json!({"file_key": file_key, "channel_id": c}),
        None => json!({"file_key": file_key}),
    }
}

/// The kind of job that imports `target`.
pub fn import_job_kind(target: ImportTarget) -> JobKind {
    match target {
        ImportTarget::Users => JobKind::UserImport,
        ImportTarget::Channels => JobKind::ChannelImport,
        ImportTarget::ChannelMembers => JobKind::ChannelMembersImport,
        ImportTarget::Messages => JobKind::MessageImport,
    }
}

/// The tables an import of `target` grows, whose statistics its lookups are planned on.
fn import_tables(target: ImportTarget) -> Vec<&'static str> {
    let mut tables = match target {
        ImportTarget::Users => vec!["chat_users"],
        ImportTarget::Channels => vec!["chat_channels", "chat_channel_members"],
        ImportTarget::ChannelMembers => vec!["chat_channel_members"],
        ImportTarget::Messages => vec!["chat_messages", "chat_threads"],
    };
    tables.extend(["import_keys", "events"]);
    tables
}

/// True when an import that had handled `before` elements and now `after` passed a power of
/// four from 1,024 on (1,024, 4,096, 16,384 …): the tables it grows were re-analysed each time
/// they grew about fourfold, a logarithmic number of times in all.
fn grew_fourfold(before: u64, after: u64) -> bool {
    let stage = |n: u64| {
        if n < 1_024 {
            0
        } else {
            1 + (n / 1_024).ilog2() / 2
        }
    };
    stage(after) > stage(before)
}

/// The principal a job acts as: the application that started it, with no request behind it.
pub(crate) fn system_principal(application_id: i64) -> AppPrincipal {
    AppPrincipal {
        application_id,
        organisation_id: String::new(),
    }
}

/// Whether a file's first bytes can open a JSON array: its first character other than
/// whitespace (or a byte-order mark) is `[`. `None` while only whitespace came.
#[derive(Debug, Default)]
struct Opening(Option<bool>);

impl Opening {
    fn see(&mut self, chunk: &[u8]) {
        if self.0.is_some() {
            return;
        }
        let text = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
        if let Some(b) = text.iter().find(|b| !b.is_ascii_whitespace()) {
            self.0 = Some(*b == b'[');
        }
    }
}

impl Platform {
    /// The largest import file accepted, in bytes.
    pub fn max_import_bytes(&self) -> u64 {
        self.config.max_import_bytes
    }

    /// `POST /imports/...`: stores the uploaded JSON array `body` as it streams in (refused
    /// past [`Platform::max_import_bytes`], or when it does not open a JSON array), and
    /// enqueues the job that imports it; for members, into channel `channel`, which must exist.
    pub async fn start_import<S, E>(
        &self,
        p: &AppPrincipal,
        target: ImportTarget,
        channel: Option<i64>,
        body: S,
    ) -> Result<JobRow>
    where
        S: futures_util::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt;
        if let Some(c) = channel {
            let row = self.channel_row(p, c).await?;
            check_roster(&row, Roster::Members, true)?;
        }
        let key = format!(
            "imports/{}/{}.json",
            p.application_id,
            super::random_token(24)
        );
        let opening = std::sync::Arc::new(std::sync::Mutex::new(Opening::default()));
        let watch = opening.clone();
        let body = body.map(move |chunk| {
            if let Ok(bytes) = &chunk {
                watch
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .see(bytes);
            }
            chunk
        });
        self.file_store()
            .put_stream(&key, body, self.max_import_bytes())
            .await
            .map_err(super::files::stored)?;
        let array = opening
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0;
        if array != Some(true) {
            if let Err(e) = self.file_store().delete(&key).await {
                tracing::warn!(error = %e, "refused import file not deleted");
            }
            return Err(DomainError::new(
                ErrorCode::InvalidParameter,
                "The \"file\" part must hold a JSON array of elements",
            )
            .into());
        }
        self.enqueue_import(p, target, channel, &key).await
    }

    /// Enqueues the import of the file stored at `file_key` (an upload already written to the
    /// file store); for members, into channel `channel`, which must exist.
    pub async fn enqueue_import(
        &self,
        p: &AppPrincipal,
        target: ImportTarget,
        channel: Option<i64>,
        file_key: &str,
    ) -> Result<JobRow> {
        if let Some(c) = channel {
            let row = self.channel_row(p, c).await?;
            check_roster(&row, Roster::Members, true)?;
        }
        let mut tx = self.db.begin().await?;
        let job = self
            .jobs
            .enqueue(
                &mut tx,
                Some(p.application_id),
                import_job_kind(target),
                import_payload(file_key, channel),
                None,
            )
            .await?;
        tx.commit().await?;
        self.jobs.wake();
        Ok(job)
    }

    /// Imports one batch of `job`'s elements (`first` is the index of the first in the
    /// file) and records `progress` with it; answers the progress after the batch, or `None`
    /// when the lease was lost (nothing was written).
    pub async fn import_batch(
        &self,
        job: &JobRow,
        held: &JobLease,
        target: ImportTarget,
        first: u64,
        elements: Vec<Value>,
        progress: JobProgress,
    ) -> Result<Option<JobProgress>> {
        if target == ImportTarget::Messages {
            let prepared = self.prepare_messages(job, first, elements).await?;
            return self.import_messages(job, held, prepared, progress).await;
        }
        let app = job.application_id.ok_or_else(DomainError::internal)?;
        let n = elements.len() as u64;
        let items = numbered_elements(first, elements);
        let mut tx = self.db.begin().await?;
        let mut out = Outcome::default();
        match target {
            ImportTarget::Users => self.import_users(&mut tx, app, items, &mut out).await?,
            ImportTarget::Channels => self.import_channels(&mut tx, app, items, &mut out).await?,
            ImportTarget::ChannelMembers => {
                let channel = job.payload["channel_id"]
                    .as_i64()
                    .ok_or_else(DomainError::internal)?;
                self.import_members(&mut tx, app, channel, items, &mut out)
                    .await?
            }
            ImportTarget::Messages => return Err(DomainError::internal().into()),
        }
        ImportKeys::insert_all(&mut tx, app, target.key_kind(), &out.keys).await?;
        self.end_batch(tx, held, target, n, out, progress).await
    }

    /// Records what a batch of `n` elements wrote in `tx` (its progress, failures and events)
    /// and commits it; `None` when the lease was lost (nothing was written).
    async fn end_batch(
        &self,
        mut tx: Tx,
        held: &JobLease,
        target: ImportTarget,
        n: u64,
        out: Outcome,
        mut progress: JobProgress,
    ) -> Result<Option<JobProgress>> {
        progress.processed += n;
        progress.created += out.created;
        progress.skipped += out.skipped;
        progress.failed += out.failures.len() as u64;
        if !self
            .jobs
            .checkpoint(&mut tx, held, &progress, &out.failures)
            .await?
        {
            return Ok(None);
        }
        self.commit_all(tx, out.events).await?;
        let before = progress.processed - n;
        if grew_fourfold(before, progress.processed) {
            // PostgreSQL plans the next batches' lookups on fresh statistics.
            self.db.analyze_tables(&import_tables(target)).await?;
        }
        Ok(Some(progress))
    }

    /// Which of `items`' keys were imported before (as `kind`), by key.
    async fn known_keys(
        tx: &mut Tx,
        app: i64,
        target: ImportTarget,
        items: &[Element],
    ) -> Result<HashSet<String>> {
        let keys: Vec<&str> = items.iter().filter_map(|(_, k, _)| k.as_deref()).collect();
        Ok(ImportKeys::known(tx, app, target.key_kind(), &keys)
            .await?
            .into_keys()
            .collect())
    }

    fn event(&self, app: i64, event: Event) -> NewEvent {
        NewEvent {
            application_id: app,
            event,
            created: self.now(),
        }
    }

    async fn import_users(
        &self,
        tx: &mut Tx,
        app: i64,
        items: Vec<Element>,
        out: &mut Outcome,
    ) -> Result<()> {
        let mut seen = Self::known_keys(tx, app, ImportTarget::Users, &items).await?;
        let parsed: Vec<Parsed<NewUserInput>> = parse_all(items, parse_user);
        let names: Vec<&str> = parsed
            .iter()
            .filter_map(|(_, _, u)| u.as_ref().ok().map(|u| u.name.as_str()))
            .collect();
        let mut taken: HashSet<String> = self
            .users
            .by_names(app, &names)
            .await?
            .into_iter()
            .map(|u| u.name)
            .collect();
        for (pos, key, user) in parsed {
            if key.as_ref().is_some_and(|k| seen.contains(k)) {
                out.skipped += 1;
                continue;
            }
            let user = match user {
                Ok(u) => u,
                Err(reason) => {
                    out.fail(pos, key, reason);
                    continue;
                }
            };
            if !taken.insert(user.name.clone()) {
                out.fail(
                    pos,
                    key,
                    format!("A user named \"{}\" already exists", user.name),
                );
                continue;
            }
            let new = NewChatUser {
                application_id: app,
                name: user.name.clone(),
                display_name: user.display_name,
                display_picture_url: user.display_picture_url.unwrap_or_default(),
                r#type: user.r#type,
                is_guest: user.is_guest,
                properties: user.properties,
                created: self.now(),
            };
            let id = ChatUsers::insert_in(tx, &new).await?;
            out.created += 1;
            out.events.push(self.event(
                app,
                Event::UserCreated(UserRef {
                    id,
                    name: user.name,
                }),
            ));
            if let Some(k) = key {
                seen.insert(k.clone());
                out.keys.push((k, id));
            }
        }
        Ok(())
    }

    async fn import_channels(
        &self,
        tx: &mut Tx,
        app: i64,
        items: Vec<Element>,
        out: &mut Outcome,
    ) -> Result<()> {
        let mut seen = Self::known_keys(tx, app, ImportTarget::Channels, &items).await?;
        let parsed: Vec<Parsed<ChannelImport>> = parse_all(items, parse_element::<ChannelImport>);
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for c in parsed.iter().filter_map(|(_, _, c)| c.as_ref().ok()) {
            names.extend(c.fields().members.iter().map(String::as_str));
            names.extend(c.fields().creator.as_deref());
        }
        let names: Vec<&str> = names.into_iter().collect();
        let users = self.users_named(&system_principal(app), &names).await?;
        // Channels this batch made, by name and by DIRECT member set.
        let mut made: HashMap<String, ChannelRow> = HashMap::new();
        let now = self.now();
        for (pos, key, channel) in parsed {
            if key.as_ref().is_some_and(|k| seen.contains(k)) {
                out.skipped += 1;
                continue;
            }
            let channel = match channel.and_then(|c| checked_channel(c, &users)) {
                Ok(c) => c,
                Err(reason) => {
                    out.fail(pos, key, reason);
                    continue;
                }
            };
            let (input, creator, members) = channel;
            let direct = input.r#type == "DIRECT";
            let direct_key = direct.then(|| {
                members
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            });
            // An equal channel already there (the same DIRECT member set, or a group channel
            // of the same name, type and creator) is that element's channel: skipped.
            let existing = match (&direct_key, &input.name) {
                (Some(k), _) => match made.get(&format!("direct:{k}")) {
                    Some(c) => Some(c.clone()),
                    None => self.channels.direct(app, k).await?,
                },
                (None, Some(name)) => match made.get(&format!("name:{name}")) {
                    Some(c) => Some(c.clone()),
                    None => self.channels.by_name(app, name).await?,
                },
                (None, None) => None,
            };
            if let Some(c) = existing {
                if direct || (c.r#type == input.r#type && c.creator_id == creator) {
                    out.skipped += 1;
                    if let Some(k) = key {
                        seen.insert(k.clone());
                        out.keys.push((k, c.id));
                    }
                } else {
                    let name = c.name.unwrap_or_default();
                    out.fail(
                        pos,
                        key,
                        format!("A channel named \"{name}\" already exists"),
                    );
                }
                continue;
            }
            let name = (!direct).then(|| input.name.clone().unwrap_or_else(random_name));
            let new = ChannelRow {
                id: 0,
                application_id: app,
                r#type: input.r#type.clone(),
                display_name: if direct {
                    None
                } else {
                    input.display_name.clone().or_else(|| name.clone())
                },
                name,
                creator_id: creator,
                direct_key: direct_key.clone(),
                properties: input.properties.clone(),
                created: now,
            };
            let row = Channels::insert(tx, &new).await?;
            for id in &members {
                Rosters::add(tx, Roster::Members, row.id, *id, now).await?;
            }
            let mut created = channel_ref(&row);
            created.member_ids = members.into_iter().collect();
            out.events
                .push(self.event(app, Event::ChannelCreated(created)));
            out.created += 1;
            if let Some(k) = &direct_key {
                made.insert(format!("direct:{k}"), row.clone());
            }
            if let Some(n) = &row.name {
                made.insert(format!("name:{n}"), row.clone());
            }
            if let Some(k) = key {
                seen.insert(k.clone());
                out.keys.push((k, row.id));
            }
        }
        Ok(())
    }

    async fn import_members(
        &self,
        tx: &mut Tx,
        app: i64,
        channel: i64,
        items: Vec<Element>,
        out: &mut Outcome,
    ) -> Result<()> {
        let c = self.channels.get(app, channel).await?.ok_or_else(|| {
            DomainError::new(ErrorCode::NotFound, format!("No channel with id {channel}"))
        })?;
        check_roster(&c, Roster::Members, true)?;
        let mut seen = Self::known_keys(tx, app, ImportTarget::ChannelMembers, &items).await?;
        let parsed: Vec<Parsed<MembershipImport>> =
            parse_all(items, parse_element::<MembershipImport>);
        let names: Vec<&str> = parsed
            .iter()
            .filter_map(|(_, _, m)| m.as_ref().ok().map(|m| m.username.as_str()))
            .collect();
        let users = self.users_named(&system_principal(app), &names).await?;
        let now = self.now();
        for (pos, key, member) in parsed {
            if key.as_ref().is_some_and(|k| seen.contains(k)) {
                out.skipped += 1;
                continue;
            }
            let user = match member.and_then(|m| known_user(&users, &m.username)) {
                Ok(u) => u,
                Err(reason) => {
                    out.fail(pos, key, reason);
                    continue;
                }
            };
            if Rosters::add(tx, Roster::Members, channel, user.id, now).await? {
                out.created += 1;
                out.events
                    .push(self.event(app, roster_event(Roster::Members, true, channel, user)));
            } else {
                // Already a member.
                out.skipped += 1;
            }
            if let Some(k) = key {
                seen.insert(k.clone());
                out.keys.push((k, user.id));
            }
        }
        Ok(())
    }

    /// Reads a batch of message elements of `job` (`first` is the index of the first in the
    /// file) into the rows they make, writing nothing: the job reads the next batch while the
    /// one before is being written. Which elements were imported before is known only when
    /// the batch is written ([`Platform::import_messages`]).
    pub async fn prepare_messages(
        &self,
        job: &JobRow,
        first: u64,
        elements: Vec<Value>,
    ) -> Result<PreparedMessages> {
        let app = job.application_id.ok_or_else(DomainError::internal)?;
        let n = elements.len() as u64;
        let parsed: Vec<Parsed<MessageImport>> = parse_all(
            numbered_elements(first, elements),
            parse_element::<MessageImport>,
        );
        let mut channel_ids: BTreeSet<i64> = BTreeSet::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        for m in parsed.iter().filter_map(|(_, _, m)| m.as_ref().ok()) {
            channel_ids.insert(m.channel_id());
            let body = match m {
                MessageImport::Text { user, body, .. } => {
                    names.insert(user.clone());
                    body
                }
                MessageImport::SystemText { body, .. } => body,
            };
            names.extend(mention_names(body));
        }
        let channel_ids: Vec<i64> = channel_ids.into_iter().collect();
        let channels: HashSet<i64> = self
            .channels
            .by_ids(app, &channel_ids)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let users = self.users_named(&system_principal(app), &names).await?;
        let items = parsed
            .into_iter()
            .map(|(pos, key, message)| {
                let row = message.and_then(|m| self.imported_message(app, m, &channels, &users));
                (pos, key, row)
            })
            .collect();
        Ok(PreparedMessages { app, n, items })
    }

    /// Writes a batch read by [`Platform::prepare_messages`] in one transaction with its
    /// checkpoint; answers the progress after it, or `None` when the lease was lost.
    pub async fn import_messages(
        &self,
        job: &JobRow,
        held: &JobLease,
        batch: PreparedMessages,
        progress: JobProgress,
    ) -> Result<Option<JobProgress>> {
        let PreparedMessages { app, n, items } = batch;
        if job.application_id != Some(app) {
            return Err(DomainError::internal().into());
        }
        let mut tx = self.db.begin().await?;
        let keys: Vec<&str> = items.iter().filter_map(|(_, k, _)| k.as_deref()).collect();
        let mut seen: HashSet<String> =
            ImportKeys::known(&mut tx, app, ImportTarget::Messages.key_kind(), &keys)
                .await?
                .into_keys()
                .collect();
        let mut out = Outcome::default();
        let mut sends = Vec::new();
        let mut keys = Vec::new();
        for (pos, key, row) in items {
            if key.as_ref().is_some_and(|k| seen.contains(k)) {
                out.skipped += 1;
                continue;
            }
            match row {
                Ok(message) => {
                    if let Some(k) = &key {
                        seen.insert(k.clone());
                    }
                    keys.push(key);
                    sends.push(NewSend {
                        message,
                        thread: None,
                    });
                }
                Err(reason) => out.fail(pos, key, reason),
            }
        }
        if !sends.is_empty() {
            // Nothing of the new rows is read back: keys find their messages by number.
            let rows = insert_sends_unreturned(&mut tx, &sends, self.now()).await?;
            let mut per_channel: BTreeMap<i64, u64> = BTreeMap::new();
            let mut numbered_keys = Vec::new();
            for (row, key) in rows.iter().zip(keys) {
                *per_channel.entry(row.channel_id).or_default() += 1;
                if let Some(k) = key {
                    numbered_keys.push((k, row.app_seq));
                }
            }
            let kind = ImportTarget::Messages.key_kind();
            ImportKeys::insert_all_numbered(&mut tx, app, kind, &numbered_keys).await?;
            out.created += rows.len() as u64;
            for (channel_id, count) in per_channel {
                out.events
                    .push(self.event(app, Event::MessagesImported { channel_id, count }));
            }
        }
        self.end_batch(tx, held, ImportTarget::Messages, n, out, progress)
            .await
    }

    /// The message an element makes, or why it makes none.
    fn imported_message(
        &self,
        app: i64,
        m: MessageImport,
        channels: &HashSet<i64>,
        users: &HashMap<String, ChatUserRow>,
    ) -> std::result::Result<MessageRow, String> {
        let (kind, channel_id, body, user, group_tag, properties) = match m {
            MessageImport::Text {
                channel_id,
                body,
                user,
                group_tag,
                properties,
                ..
            } => {
                let u = known_user(users, &user)?;
                ("TEXT", channel_id, body, Some(u.id), group_tag, properties)
            }
            MessageImport::SystemText {
                channel_id,
                body,
                group_tag,
                properties,
                ..
            } => ("SYSTEM_TEXT", channel_id, body, None, group_tag, properties),
        };
        if !channels.contains(&channel_id) {
            return Err(format!("No channel with id {channel_id}"));
        }
        if body.is_empty() {
            return Err("body must not be empty".into());
        }
        let parsed = parse_body(&body, users);
        Ok(MessageRow {
            id: 0,
            application_id: app,
            channel_id,
            // Thread, numbers and nesting are given when the message is written.
            thread_id: 0,
            seq: 0,
            app_seq: 0,
            r#type: kind.into(),
            user_id: user,
            body: Some(body),
            file: None,
            group_tag,
            properties: Value::Object(properties.unwrap_or_default()),
            mentions: parsed.mentions,
            links: parsed.links,
            nested_level: 0,
            created: self.now(),
            last_edited: None,
        })
    }
}

/// A user element, checked as `POST /users` checks its body.
fn parse_user(v: Value) -> std::result::Result<NewUserInput, String> {
    let u: UserImport = parse_element(v)?;
    let mut body = json!({
        "name": u.name,
        "is_guest": u.guest,
        "properties": u.properties.unwrap_or_default(),
    });
    if let Some(d) = u.display_name {
        body["display_name"] = json!(d);
    }
    if let Some(f) = u.display_picture {
        body["display_picture_url"] = json!(f.url);
    }
    NewUserInput::from_body(&body).map_err(|e| e.message)
}

/// A channel element checked as `POST /channels` checks its body, with its creator and its
/// members (the creator among them) by id.
fn checked_channel(
    c: ChannelImport,
    users: &HashMap<String, ChatUserRow>,
) -> std::result::Result<(NewChannelInput, Option<i64>, BTreeSet<i64>), String> {
    let f = c.fields();
    let mut body = json!({
        "type": c.type_name(),
        "properties": f.properties.clone().unwrap_or_default(),
    });
    if let Some(n) = &f.name {
        body["name"] = json!(n);
    }
    if let Some(d) = &f.display_name {
        body["display_name"] = json!(d);
    }
    let input = NewChannelInput::from_body(&body).map_err(|e| e.message)?;
    let creator = f
        .creator
        .as_deref()
        .map(|n| known_user(users, n).map(|u| u.id))
        .transpose()?;
    let mut members = BTreeSet::new();
    for n in &f.members {
        members.insert(known_user(users, n)?.id);
    }
    members.extend(creator);
    if input.r#type == "DIRECT" && members.len() < 2 {
        return Err("a DIRECT channel needs at least 2 distinct members".into());
    }
    Ok((input, creator, members))
}

fn known_user<'a>(
    users: &'a HashMap<String, ChatUserRow>,
    name: &str,
) -> std::result::Result<&'a ChatUserRow, String> {
    users
        .get(name)
        .ok_or_else(|| format!("No user named \"{name}\""))
}

#[cfg(test)]
mod tests {
    use super::grew_fourfold;

    #[test]
    fn statistics_are_refreshed_as_an_import_grows_fourfold() {
        let refreshes: Vec<u64> = (0..2_000u64)
            .map(|b| b * 500)
            .filter(|&before| grew_fourfold(before, before + 500))
            .map(|before| before + 500)
            .collect();
        // The first batch ends at or past each of 1,024, 4,096, 16,384, 65,536 and 262,144.
        assert_eq!(refreshes, [1_500, 4_500, 16_500, 66_000, 262_500]);
        assert!(!grew_fourfold(0, 1_000));
    }
}
