//! Per-model rules that need no database: required fields, allowed values and document shapes.
//! Rules that look at other rows (ids that must exist, uniqueness) live with their resource.

use palaver_domain::id::new_object_id;
use palaver_domain::time::format_millis;
use palaver_domain::validation::Validation;
use serde_json::{Map, Value};

pub(crate) const FLAKE_STATUSES: &[&str] = &["draft", "publish", "schedule"];
const BULLET_TYPES: &[&str] = &["text", "image", "video"];
pub(crate) const ROLES: &[&str] = &["superadmin", "owner", "customer"];

fn text<'a>(doc: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    doc.get(k).and_then(Value::as_str)
}

fn one_of(doc: &Map<String, Value>, k: &str, allowed: &[&str], v: &mut Validation) {
    if let Some(x) = doc.get(k).filter(|x| !x.is_null()) {
        if !x.as_str().is_some_and(|s| allowed.contains(&s)) {
            v.fail(k, "inclusion", "is not included in the list", Some(x));
        }
    }
}

/// A URL-friendly form of a name: lowercase ASCII letters and digits joined by single dashes.
pub(crate) fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

pub(crate) fn bot(doc: &Map<String, Value>, v: &mut Validation) {
    v.require(doc, "name");
}

pub(crate) fn flake(doc: &Map<String, Value>, v: &mut Validation) {
    v.require(doc, "title");
    one_of(doc, "status", FLAKE_STATUSES, v);
    if text(doc, "status") == Some("schedule") {
        v.require(doc, "publish_at");
    }
    if let Some(bullets) = doc.get("bullet_points").filter(|b| !b.is_null()) {
        if !bullet_points_ok(bullets) {
            v.fail(
                "bullet_points",
                "format",
                "must be a list of {type: text|image|video, text, button: [{name, action}], file_url}",
                Some(bullets),
            );
        }
    }
}

fn bullet_points_ok(bullets: &Value) -> bool {
    let Some(list) = bullets.as_array() else {
        return false;
    };
    list.iter().all(|b| {
        let Some(b) = b.as_object() else { return false };
        let type_ok = b
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| BULLET_TYPES.contains(&t));
        let text_ok = b.get("text").is_none_or(|t| t.is_null() || t.is_string());
        let file_ok = b
            .get("file_url")
            .is_none_or(|t| t.is_null() || t.is_string());
        let buttons_ok = match b.get("button") {
            None | Some(Value::Null) => true,
            Some(Value::Array(buttons)) => buttons.iter().all(|x| {
                x.as_object().is_some_and(|x| {
                    ["name", "action"]
                        .iter()
                        .all(|k| x.get(*k).is_none_or(Value::is_string))
                })
            }),
            Some(_) => false,
        };
        type_ok && text_ok && file_ok && buttons_ok
    })
}

/// Tags and categories: a name; the slug is derived from it when absent.
pub(crate) fn taxonomy(doc: &mut Map<String, Value>, v: &mut Validation) {
    v.require(doc, "name");
    let needs_slug = doc
        .get("slug")
        .is_none_or(|s| s.as_str().is_none_or(|s| s.trim().is_empty()));
    if needs_slug {
        if let Some(name) = text(doc, "name") {
            let slug = slugify(name);
            doc.insert("slug".into(), Value::String(slug));
        }
    }
    if text(doc, "slug").is_some_and(str::is_empty) {
        v.fail("slug", "presence", "can't be blank", doc.get("slug"));
    }
}

/// Channels: a name, a valid `cron_time`, and `keywordSource` entries whose sources get ids
/// and timestamps (`now`, epoch ms) when they have none.
pub(crate) fn channel(doc: &mut Map<String, Value>, now: i64, v: &mut Validation) {
    v.require(doc, "name");
    one_of(
        doc,
        "flake_status",
        palaver_domain::channel_runs::FLAKE_STATUSES,
        v,
    );
    if let Some(cron) = doc.get("cron_time").filter(|c| !c.is_null()) {
        let field = |k: &str, max: i64| {
            cron.get(k)
                .and_then(Value::as_i64)
                .is_some_and(|n| (0..=max).contains(&n))
        };
        let minute_ok = cron.get("minute").is_none() || field("minute", 59);
        if !(cron.is_object() && field("hour", 23) && minute_ok) {
            v.fail(
                "cron_time",
                "range",
                "must be {hour: 0-23, minute: 0-59}",
                Some(cron),
            );
        }
    }
    let Some(ks) = doc.get_mut("keywordSource").filter(|k| !k.is_null()) else {
        return;
    };
    let Some(entries) = ks.as_array_mut() else {
        let bad = ks.clone();
        v.fail(
            "keywordSource",
            "format",
            "must be a list of {keyword, source}",
            Some(&bad),
        );
        return;
    };
    let now = format_millis(now);
    let mut shape_ok = true;
    for entry in entries.iter_mut() {
        let Some(e) = entry.as_object_mut() else {
            shape_ok = false;
            continue;
        };
        shape_ok &= e.get("keyword").is_some_and(Value::is_string);
        match e.get_mut("source") {
            None | Some(Value::Null) => {}
            Some(Value::Array(sources)) => {
                for s in sources.iter_mut() {
                    let Some(s) = s.as_object_mut() else {
                        shape_ok = false;
                        continue;
                    };
                    shape_ok &= ["name", "value"]
                        .iter()
                        .all(|k| s.get(*k).is_none_or(Value::is_string));
                    s.entry("id")
                        .or_insert_with(|| Value::String(new_object_id()));
                    s.entry("created")
                        .or_insert_with(|| Value::String(now.clone()));
                    s.entry("modified")
                        .or_insert_with(|| Value::String(now.clone()));
                }
            }
            Some(_) => shape_ok = false,
        }
    }
    if !shape_ok {
        let bad = doc.get("keywordSource").cloned();
        v.fail(
            "keywordSource",
            "format",
            "must be a list of {keyword, source: [{name, value}]}",
            bad.as_ref(),
        );
    }
}

/// Accounts: an email of a plausible form, a known role.
pub(crate) fn user(doc: &Map<String, Value>, v: &mut Validation) {
    v.require(doc, "email");
    if let Some(email) = doc.get("email").filter(|e| !e.is_null()) {
        if !email.as_str().is_some_and(email_ok) {
            v.fail("email", "custom.email", "is invalid", Some(email));
        }
    }
    v.require(doc, "role");
    one_of(doc, "role", ROLES, v);
    if text(doc, "role") == Some("customer") {
        v.require(doc, "bot_id");
    }
}

fn email_ok(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failures(f: impl FnOnce(&mut Validation)) -> Option<Value> {
        let mut v = Validation::new("x");
        f(&mut v);
        v.finish()
            .err()
            .and_then(|e| e.details)
            .map(|d| d["codes"].clone())
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("  Tech & AI 2017 "), "tech-ai-2017");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn flake_rules() {
        let ok = json!({"title": "t", "status": "draft", "bullet_points": [{"type": "text", "text": "a", "button": [{"name": "n", "action": "a"}]}]});
        assert_eq!(failures(|v| flake(ok.as_object().unwrap(), v)), None);
        let bad = json!({"status": "live", "bullet_points": [{"type": "gif"}]});
        assert_eq!(
            failures(|v| flake(bad.as_object().unwrap(), v)),
            Some(
                json!({"title": ["presence"], "status": ["inclusion"], "bullet_points": ["format"]})
            )
        );
        let sched = json!({"title": "t", "status": "schedule"});
        assert_eq!(
            failures(|v| flake(sched.as_object().unwrap(), v)),
            Some(json!({"publish_at": ["presence"]}))
        );
    }

    #[test]
    fn channel_rules_fill_source_ids() {
        let mut doc = json!({"name": "c", "cron_time": {"hour": 9, "minute": 30}, "keywordSource": [{"keyword": "k", "source": [{"name": "n", "value": "v"}]}]});
        let doc = doc.as_object_mut().unwrap();
        assert_eq!(failures(|v| channel(doc, 0, v)), None);
        let src = &doc["keywordSource"][0]["source"][0];
        assert!(palaver_domain::id::is_object_id(
            src["id"].as_str().unwrap()
        ));
        assert!(src["created"].is_string());
        let mut bad = json!({"name": "c", "cron_time": {"hour": 24, "minute": 0}});
        assert_eq!(
            failures(|v| channel(bad.as_object_mut().unwrap(), 0, v)),
            Some(json!({"cron_time": ["range"]}))
        );
    }

    #[test]
    fn user_rules() {
        let bad = json!({"email": "not-an-email", "role": "king"});
        assert_eq!(
            failures(|v| user(bad.as_object().unwrap(), v)),
            Some(json!({"email": ["custom.email"], "role": ["inclusion"]}))
        );
        let customer = json!({"email": "a@b.c", "role": "customer"});
        assert_eq!(
            failures(|v| user(customer.as_object().unwrap(), v)),
            Some(json!({"bot_id": ["presence"]}))
        );
    }
}
