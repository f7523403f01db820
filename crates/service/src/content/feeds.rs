//! Content channels fed from web sources. A run reads every source of every keyword of a
//! channel (`value` is a feed URL; `{keyword}` in it becomes the URL-encoded keyword), keeps
//! the items that mention the keyword, and makes a flake of each item the bot has not taken
//! before (same link or guid), recording what each source gave in a run row. A source that
//! fails is recorded and the run goes on. An active channel runs every `cron_time` through
//! one pending CHANNEL_RUN job, which enqueues the next before it runs; writes of the channel
//! cancel and replace it (see the store's `ChannelSchedules`).

use std::collections::HashSet;

use feed_rs::model::Entry;
use futures_util::StreamExt;
use palaver_domain::channel_runs::{
    interval_millis, is_active, CHANNEL_RUN, FINISHED, FLAKE_STATUSES, RUNNING,
};
use palaver_domain::filter::{Filter, Order};
use palaver_domain::job::JobKind;
use palaver_domain::time::format_millis;
use palaver_domain::{models, DomainError};
use palaver_store::{ChannelItems, ChannelSchedules, Scope, TakenItem, Tx};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::delivery::flake_event;
use super::{present, Content, Doc};
use crate::error::Result;
use crate::principal::Principal;

/// Sources fetched at once in a run: enough to hide one slow source, few enough that a run
/// holds little memory (each body is read whole, up to the fetch cap).
const FETCH_CONCURRENCY: usize = 4;

/// What a keyword's URL encoding leaves as it is: RFC 3986's unreserved characters.
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A CHANNEL_RUN job's payload: the channel it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRunJob {
    pub organisation_id: String,
    pub bot_id: String,
    pub channel_id: String,
}

impl ChannelRunJob {
    /// Reads a job's payload; `None` when it is not one.
    pub fn from_payload(payload: &Value) -> Option<ChannelRunJob> {
        serde_json::from_value(payload.clone()).ok()
    }
}

/// One source of one keyword, as a run reads it.
#[derive(Debug, Clone, PartialEq)]
struct SourcePlan {
    keyword: String,
    source_id: Option<String>,
    name: Option<String>,
    /// The URL to fetch, or why there is none.
    url: std::result::Result<String, String>,
}

/// What one source gave a run.
#[derive(Debug, Clone, Default)]
struct SourceReport {
    fetched: u64,
    matched: u64,
    created: u64,
    skipped: u64,
    error: Option<String>,
}

/// The channel's sources in order: every source of every keyword.
fn plan(channel: &Map<String, Value>) -> Vec<SourcePlan> {
    let mut out = Vec::new();
    let entries = channel
        .get("keywordSource")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for entry in entries {
        let keyword = entry
            .get("keyword")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        let sources = entry
            .get("source")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for s in sources {
            let text = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_string);
            let url = match text("value").map(|v| v.trim().to_string()) {
                Some(v) if !v.is_empty() => Ok(feed_url(&v, &keyword)),
                _ => Err("the source has no URL".to_string()),
            };
            out.push(SourcePlan {
                keyword: keyword.clone(),
                source_id: text("id"),
                name: text("name"),
                url,
            });
        }
    }
    out
}

/// `value` with every `{keyword}` replaced by the URL-encoded keyword.
fn feed_url(value: &str, keyword: &str) -> String {
    if value.contains("{keyword}") {
        let encoded = utf8_percent_encode(keyword, URL_COMPONENT).to_string();
        value.replace("{keyword}", &encoded)
    } else {
        value.to_string()
    }
}

/// True when the item mentions `keyword` (case-insensitively) in its title, summary, content
/// or categories; every item matches an empty keyword.
fn matches(entry: &Entry, keyword: &str) -> bool {
    let keyword = keyword.to_lowercase();
    if keyword.is_empty() {
        return true;
    }
    let has = |s: &str| s.to_lowercase().contains(&keyword);
    entry.title.as_ref().is_some_and(|t| has(&t.content))
        || entry.summary.as_ref().is_some_and(|t| has(&t.content))
        || entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .is_some_and(has)
        || entry
            .categories
            .iter()
            .any(|c| has(&c.term) || c.label.as_deref().is_some_and(has))
}

/// Links that are files (JSON Feed attachments carry their type), not the item's page.
fn is_file(l: &feed_rs::model::Link) -> bool {
    l.media_type
        .as_deref()
        .is_some_and(|t| !t.starts_with("text/html"))
}

/// The item's page: its alternate link, else its first.
fn link(entry: &Entry) -> Option<String> {
    entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate") && !is_file(l))
        .or_else(|| entry.links.first())
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// The item's picture: a thumbnail, else an image among its media (RSS enclosures) or its
/// links (JSON Feed attachments).
fn image(entry: &Entry) -> Option<String> {
    let thumb = entry
        .media
        .iter()
        .flat_map(|m| &m.thumbnails)
        .map(|t| t.image.uri.clone())
        .next();
    thumb
        .or_else(|| {
            entry
                .media
                .iter()
                .flat_map(|m| &m.content)
                .find(|c| {
                    c.content_type
                        .as_ref()
                        .is_some_and(|t| t.ty().as_str() == "image")
                })
                .and_then(|c| c.url.as_ref().map(|u| u.to_string()))
        })
        .or_else(|| {
            entry
                .links
                .iter()
                .find(|l| {
                    l.media_type
                        .as_deref()
                        .is_some_and(|t| t.starts_with("image/"))
                })
                .map(|l| l.href.clone())
        })
}

/// The digests that name an item in its bot: of its link and of its guid.
fn item_keys(entry: &Entry, link: Option<&str>) -> Vec<String> {
    let digest = |kind: &str, v: &str| {
        let mut h = Sha256::new();
        h.update(kind.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        hex::encode(h.finalize())
    };
    let mut keys = Vec::with_capacity(2);
    if let Some(l) = link {
        keys.push(digest("link", l));
    }
    let guid = entry.id.trim();
    if !guid.is_empty() {
        keys.push(digest("guid", guid));
    }
    keys
}

/// The flake an item makes (without its id and timestamps).
fn flake_of(
    entry: &Entry,
    link: Option<&str>,
    source_name: Option<&str>,
    categories: &[String],
    status: &str,
) -> Map<String, Value> {
    let text = |t: Option<&feed_rs::model::Text>| {
        t.map(|t| t.content.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let title = text(entry.title.as_ref())
        .or_else(|| link.map(str::to_string))
        .unwrap_or_else(|| "Untitled".to_string());
    let description = text(entry.summary.as_ref()).or_else(|| {
        entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(|b| b.trim().to_string())
            .filter(|s| !s.is_empty())
    });
    let mut doc = Map::new();
    doc.insert("title".into(), json!(title));
    if let Some(d) = description {
        doc.insert("description".into(), json!(d));
    }
    if let Some(i) = image(entry) {
        doc.insert("image_url".into(), json!(i));
    }
    if let Some(l) = link {
        doc.insert(
            "bullet_points".into(),
            json!([{
                "type": "text",
                "text": title,
                "button": [{"name": "Read more", "action": l}],
            }]),
        );
    }
    doc.insert("status".into(), json!(status));
    if !categories.is_empty() {
        doc.insert("category".into(), json!(categories));
    }
    if let Some(n) = source_name.filter(|n| !n.trim().is_empty()) {
        doc.insert("author_name".into(), json!(n));
    }
    doc
}

fn text_of<'a>(doc: &'a Map<String, Value>, k: &str) -> &'a str {
    doc.get(k).and_then(Value::as_str).unwrap_or_default()
}

impl Content {
    /// Puts channel `channel` (as just written inside `tx`) on its schedule: the pending job
    /// of an earlier schedule is cancelled, and an active channel with an interval gets one
    /// due an interval from now. Call [`Content::wake_workers`] after `tx` commits.
    pub(crate) async fn schedule_channel(
        &self,
        tx: &mut Tx,
        organisation_id: &str,
        bot_id: &str,
        channel: &Map<String, Value>,
    ) -> Result<()> {
        let channel_id = text_of(channel, "id");
        if let Some(old) = ChannelSchedules::lock(tx, organisation_id, bot_id, channel_id).await? {
            ChannelSchedules::cancel_job(tx, old).await?;
        }
        let next = self
            .enqueue_next_run(tx, organisation_id, bot_id, channel)
            .await?;
        ChannelSchedules::set(tx, channel_id, next).await?;
        Ok(())
    }

    /// The next scheduled run of an active channel with an interval, enqueued inside `tx`.
    async fn enqueue_next_run(
        &self,
        tx: &mut Tx,
        organisation_id: &str,
        bot_id: &str,
        channel: &Map<String, Value>,
    ) -> Result<Option<i64>> {
        let Some(interval) = interval_millis(channel.get("cron_time")) else {
            return Ok(None);
        };
        if !is_active(channel) {
            return Ok(None);
        }
        let payload = serde_json::to_value(ChannelRunJob {
            organisation_id: organisation_id.to_string(),
            bot_id: bot_id.to_string(),
            channel_id: text_of(channel, "id").to_string(),
        })
        .map_err(|e| {
            tracing::error!(error = %e, "channel run job not serialisable");
            DomainError::internal()
        })?;
        let at = self.now().saturating_add(interval);
        let job = self
            .jobs
            .enqueue(tx, None, JobKind::ChannelRun, payload, Some(at))
            .await?;
        Ok(Some(job.id))
    }

    /// Takes the bot's channels (one when `channel_id` is given) off their schedule: before
    /// they are deleted.
    pub(crate) async fn unschedule_channels(
        &self,
        organisation_id: &str,
        bot_id: &str,
        channel_id: Option<&str>,
    ) -> Result<()> {
        ChannelSchedules::remove(self.docs.db(), organisation_id, bot_id, channel_id).await?;
        Ok(())
    }

    /// Runs a CHANNEL_RUN job (`job_id`): when the channel's schedule still names it, enqueues
    /// the next run and then runs the channel. `None` when the job was stale (the channel was
    /// rescheduled, stopped or deleted since) and did nothing.
    pub async fn run_scheduled_channel(
        &self,
        job_id: i64,
        job: &ChannelRunJob,
    ) -> Result<Option<Doc>> {
        let scope = Scope::child(&job.organisation_id, "bot_id", &job.bot_id);
        let Some(channel) = self
            .docs
            .get(&models::CHANNEL, &scope, &job.channel_id)
            .await?
        else {
            return Ok(None);
        };
        let mut tx = self.docs.db().begin().await?;
        let named =
            ChannelSchedules::lock(&mut tx, &job.organisation_id, &job.bot_id, &job.channel_id)
                .await?;
        if named != Some(job_id) {
            // Dropping the transaction undoes the schedule row `lock` may have made.
            return Ok(None);
        }
        let next = self
            .enqueue_next_run(&mut tx, &job.organisation_id, &job.bot_id, &channel)
            .await?;
        ChannelSchedules::set(&mut tx, &job.channel_id, next).await?;
        tx.commit().await?;
        if next.is_none() {
            return Ok(None);
        }
        let run = self
            .run_channel(&job.organisation_id, &job.bot_id, &channel, "schedule")
            .await?;
        Ok(Some(run))
    }

    /// `POST /bots/{id}/channels/{fk}/run`: runs the channel now, whatever its status, and
    /// answers the run.
    pub async fn run_channel_now(
        &self,
        p: &Principal,
        bot_id: &str,
        channel_id: &str,
    ) -> Result<Doc> {
        self.require_bot(p, bot_id).await?;
        let scope = Scope::child(&p.organisation_id, "bot_id", bot_id);
        let channel = self
            .docs
            .get(&models::CHANNEL, &scope, channel_id)
            .await?
            .ok_or_else(|| DomainError::child_not_found(channel_id, models::CHANNEL.name))?;
        self.run_channel(&p.organisation_id, bot_id, &channel, "manual")
            .await
    }

    /// `GET /bots/{id}/channels/{fk}/runs`: the channel's runs matching `filter`, newest first
    /// unless it orders them.
    pub async fn list_channel_runs(
        &self,
        p: &Principal,
        bot_id: &str,
        channel_id: &str,
        filter: &Filter,
    ) -> Result<Vec<Doc>> {
        self.require_bot(p, bot_id).await?;
        let bot_scope = Scope::child(&p.organisation_id, "bot_id", bot_id);
        let found = self
            .docs
            .existing_ids(&models::CHANNEL, &bot_scope, &[channel_id.to_string()])
            .await?;
        if found.is_empty() {
            return Err(DomainError::child_not_found(channel_id, models::CHANNEL.name).into());
        }
        let mut filter = filter.clone();
        if filter.order.is_empty() {
            for name in ["started", "id"] {
                let field = CHANNEL_RUN.field(name).ok_or_else(DomainError::internal)?;
                filter.order.push(Order {
                    field,
                    descending: true,
                });
            }
        }
        let scope = Scope::child(&p.organisation_id, "channel_id", channel_id);
        let rows = self.docs.find_shared(&CHANNEL_RUN, &scope, &filter).await?;
        Ok(rows
            .iter()
            .map(|r| present(&CHANNEL_RUN, r, filter.fields.as_ref()))
            .collect())
    }

    /// The bot's category ids the channel's `category` names: by id, slug or name (the seed
    /// shows names there; flakes hold ids). Names of no category are left out.
    async fn channel_categories(
        &self,
        organisation_id: &str,
        bot_id: &str,
        channel: &Map<String, Value>,
    ) -> Result<Vec<String>> {
        let wanted: Vec<&str> = channel
            .get("category")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let scope = Scope::child(organisation_id, "bot_id", bot_id);
        let all = self
            .docs
            .find_shared(&models::CATEGORY, &scope, &Filter::default())
            .await?;
        let mut out: Vec<String> = Vec::new();
        for w in wanted {
            let hit = all.iter().find(|c| {
                ["id", "slug", "name"]
                    .iter()
                    .any(|k| c.get(*k).and_then(Value::as_str) == Some(w))
            });
            if let Some(id) = hit.and_then(|c| c.get("id")).and_then(Value::as_str) {
                if !out.iter().any(|o| o == id) {
                    out.push(id.to_string());
                }
            }
        }
        Ok(out)
    }

    /// One run of `channel`: recorded as running, every source fetched (a few at a time) and
    /// turned into flakes, then recorded as finished with its counts. Errors of single sources
    /// are part of the record; only the store failing fails the run.
    async fn run_channel(
        &self,
        organisation_id: &str,
        bot_id: &str,
        channel: &Map<String, Value>,
        trigger: &str,
    ) -> Result<Doc> {
        let channel_id = text_of(channel, "id");
        let run_scope = Scope::child(organisation_id, "channel_id", channel_id);
        let mut run = Map::new();
        run.insert("bot_id".into(), json!(bot_id));
        run.insert("trigger".into(), json!(trigger));
        run.insert("status".into(), json!(RUNNING));
        run.insert("started".into(), json!(format_millis(self.now())));
        for k in ["fetched", "matched", "flakes_created", "skipped", "errors"] {
            run.insert(k.into(), json!(0));
        }
        run.insert("sources".into(), json!([]));
        let run_id = self.stamp_new(&mut run);
        self.docs.insert(&CHANNEL_RUN, &run_scope, &run).await?;

        let sources = plan(channel);
        let categories = self
            .channel_categories(organisation_id, bot_id, channel)
            .await?;
        let status = channel
            .get("flake_status")
            .and_then(Value::as_str)
            .filter(|s| FLAKE_STATUSES.contains(s))
            .unwrap_or(FLAKE_STATUSES[0]);
        let target = RunTarget {
            organisation_id,
            bot_id,
            channel_id,
            categories: &categories,
            status,
        };
        // Fetched a few at a time, handled in order as they arrive. Each fetch owns what it
        // uses, so the stream borrows nothing from this call.
        let fetches: Vec<_> = sources
            .iter()
            .map(|s| {
                let fetcher = self.fetcher.clone();
                let url = s.url.clone();
                async move {
                    match url {
                        Ok(url) => fetcher.get(&url).await.map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    }
                }
            })
            .collect();
        let mut fetched = futures_util::stream::iter(fetches)
            .buffered(FETCH_CONCURRENCY)
            .zip(futures_util::stream::iter(sources.iter()));
        let mut records = Vec::with_capacity(sources.len());
        let mut totals = SourceReport::default();
        let mut failed = 0u64;
        while let Some((body, source)) = fetched.next().await {
            let report = match body {
                Ok(bytes) => self.take_items(&target, source, &bytes).await,
                Err(e) => SourceReport {
                    error: Some(e),
                    ..Default::default()
                },
            };
            totals.fetched += report.fetched;
            totals.matched += report.matched;
            totals.created += report.created;
            totals.skipped += report.skipped;
            failed += u64::from(report.error.is_some());
            records.push(json!({
                "keyword": source.keyword,
                "source_id": source.source_id,
                "name": source.name,
                "url": source.url.as_ref().ok(),
                "fetched": report.fetched,
                "matched": report.matched,
                "created": report.created,
                "skipped": report.skipped,
                "error": report.error,
            }));
        }
        drop(fetched);
        let mut ended = Map::new();
        ended.insert("status".into(), json!(FINISHED));
        ended.insert("ended".into(), json!(format_millis(self.now())));
        ended.insert("fetched".into(), json!(totals.fetched));
        ended.insert("matched".into(), json!(totals.matched));
        ended.insert("flakes_created".into(), json!(totals.created));
        ended.insert("skipped".into(), json!(totals.skipped));
        ended.insert("errors".into(), json!(failed));
        ended.insert("sources".into(), Value::Array(records));
        self.touch(&mut ended);
        self.docs
            .update(&CHANNEL_RUN, &run_scope, &run_id, &ended)
            .await?;
        let row = self
            .docs
            .get(&CHANNEL_RUN, &run_scope, &run_id)
            .await?
            .ok_or_else(DomainError::internal)?;
        if totals.created > 0 {
            tracing::info!(channel = %channel_id, created = totals.created, "channel run made flakes");
        }
        Ok(present(&CHANNEL_RUN, &row, None))
    }

    /// Parses one source's body and makes flakes of the matching items the bot has not taken.
    async fn take_items(
        &self,
        target: &RunTarget<'_>,
        source: &SourcePlan,
        body: &[u8],
    ) -> SourceReport {
        let mut report = SourceReport::default();
        let base = source.url.as_ref().ok();
        let feed = match feed_rs::parser::Builder::new()
            .base_uri(base)
            .build()
            .parse(body)
        {
            Ok(f) => f,
            Err(e) => {
                report.error = Some(format!("not a readable feed: {e}"));
                return report;
            }
        };
        report.fetched = feed.entries.len() as u64;
        let items: Vec<(&Entry, Option<String>, Vec<String>)> = feed
            .entries
            .iter()
            .filter(|e| matches(e, &source.keyword))
            .map(|e| {
                let l = link(e);
                let keys = item_keys(e, l.as_deref());
                (e, l, keys)
            })
            .collect();
        report.matched = items.len() as u64;
        let all_keys: Vec<String> = items.iter().flat_map(|(_, _, k)| k.clone()).collect();
        let mut taken: HashSet<String> = match ChannelItems::taken(
            self.docs.db(),
            target.organisation_id,
            target.bot_id,
            &all_keys,
        )
        .await
        {
            Ok(t) => t.into_iter().collect(),
            Err(e) => {
                tracing::error!(error = %e, "channel items not read");
                report.error = Some("the items could not be stored".into());
                return report;
            }
        };
        for (entry, l, keys) in items {
            if keys.is_empty() || keys.iter().any(|k| taken.contains(k)) {
                report.skipped += 1;
                continue;
            }
            let doc = flake_of(
                entry,
                l.as_deref(),
                source.name.as_deref(),
                target.categories,
                target.status,
            );
            match self.create_feed_flake(target, doc, &keys).await {
                Ok(true) => report.created += 1,
                Ok(false) => report.skipped += 1,
                Err(e) => {
                    tracing::error!(error = ?e, "feed flake not stored");
                    report.error = Some("the items could not be stored".into());
                    return report;
                }
            }
            taken.extend(keys);
        }
        report
    }

    /// Creates the flake of one item with its item keys, in one transaction. False when
    /// another run took the item meanwhile.
    async fn create_feed_flake(
        &self,
        target: &RunTarget<'_>,
        mut doc: Map<String, Value>,
        keys: &[String],
    ) -> Result<bool> {
        let flake_id = self.stamp_new(&mut doc);
        let scope = Scope::child(target.organisation_id, "bot_id", target.bot_id);
        let mut write = self.docs.begin_write().await?;
        let item = TakenItem {
            organisation_id: target.organisation_id,
            bot_id: target.bot_id,
            channel_id: target.channel_id,
            flake_id: &flake_id,
            keys,
            now: self.now(),
        };
        if !ChannelItems::take(write.tx(), &item).await? {
            // Dropped, not committed: the keys another run holds stay its own.
            return Ok(false);
        }
        write.insert(&models::FLAKE, &scope, &doc).await?;
        // A flake created `publish` raises its events as a by-hand create does, in the same
        // transaction: delivery into chat and webhooks sees no difference.
        let mut delivering = 0;
        if let Some(event) = flake_event(None, &doc) {
            delivering = self
                .enqueue_flake_events(
                    write.tx(),
                    target.organisation_id,
                    target.bot_id,
                    &doc,
                    event,
                )
                .await?;
        }
        write.commit().await?;
        if delivering > 0 {
            self.wake_workers();
        }
        Ok(true)
    }
}

/// Where a run's flakes go and how they are made.
struct RunTarget<'a> {
    organisation_id: &'a str,
    bot_id: &'a str,
    channel_id: &'a str,
    categories: &'a [String],
    status: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(feed: &str) -> Vec<Entry> {
        feed_rs::parser::parse(feed.as_bytes()).unwrap().entries
    }

    const RSS: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><title>Rust 2.0 released</title><link>https://e.com/rust</link>
          <description>All about Rust</description><guid>g-1</guid>
          <enclosure url="https://e.com/r.png" type="image/png" length="1"/></item>
        <item><title>Gardening</title><link>https://e.com/garden</link>
          <category>rust removal</category></item>
        <item><title>Other</title><link>https://e.com/other</link></item>
        </channel></rss>"#;

    #[test]
    fn keyword_urls_are_encoded() {
        assert_eq!(
            feed_url("http://h/s?q={keyword}&x=1", "rust & go/ü"),
            "http://h/s?q=rust%20%26%20go%2F%C3%BC&x=1"
        );
        assert_eq!(feed_url("http://h/feed.xml", "rust"), "http://h/feed.xml");
    }

    #[test]
    fn items_match_their_keyword_anywhere() {
        let e = entries(RSS);
        let hits: Vec<bool> = e.iter().map(|x| matches(x, "RUST")).collect();
        assert_eq!(hits, [true, true, false]);
        assert!(e.iter().all(|x| matches(x, "")));
    }

    #[test]
    fn an_item_makes_a_flake() {
        let e = &entries(RSS)[0];
        let l = link(e);
        assert_eq!(l.as_deref(), Some("https://e.com/rust"));
        let doc = flake_of(e, l.as_deref(), Some("Example"), &["c1".into()], "draft");
        assert_eq!(
            Value::Object(doc),
            json!({
                "title": "Rust 2.0 released",
                "description": "All about Rust",
                "image_url": "https://e.com/r.png",
                "bullet_points": [{"type": "text", "text": "Rust 2.0 released",
                    "button": [{"name": "Read more", "action": "https://e.com/rust"}]}],
                "status": "draft",
                "category": ["c1"],
                "author_name": "Example",
            })
        );
        let keys = item_keys(e, l.as_deref());
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0], keys[1]);
        assert!(keys.iter().all(|k| k.len() == 64));
    }

    #[test]
    fn sources_are_planned_per_keyword() {
        let channel = json!({"keywordSource": [
            {"keyword": "rust", "source": [
                {"name": "A", "value": "http://a/?q={keyword}", "id": "s1"},
                {"name": "B"}]},
            {"keyword": "go", "source": [{"name": "A", "value": "http://a/?q={keyword}"}]},
        ]});
        let p = plan(channel.as_object().unwrap());
        let urls: Vec<_> = p.iter().map(|s| s.url.clone()).collect();
        assert_eq!(
            urls,
            [
                Ok("http://a/?q=rust".to_string()),
                Err("the source has no URL".to_string()),
                Ok("http://a/?q=go".to_string()),
            ]
        );
        assert_eq!(p[0].source_id.as_deref(), Some("s1"));
    }
}
