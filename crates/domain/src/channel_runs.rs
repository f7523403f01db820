//! Content channels fed from web sources: the run record's model, when an active channel runs
//! (its `cron_time` read as an interval), and the statuses a channel and its flakes take.

use serde_json::Value;

use crate::model::{Field, Kind::*, Model};

/// The channel status that runs on the schedule; any other status (`inactive`, `stopped`…)
/// runs only on demand.
pub const ACTIVE: &str = "active";

/// What `flake_status` may say: the status of the flakes a channel creates (`draft` when
/// absent).
pub const FLAKE_STATUSES: &[&str] = &["draft", "publish"];

/// One run of a channel: when it started and ended, what started it (`schedule` or
/// `manual`), its totals, and per source (`sources`) what it fetched, created, skipped and
/// which error it met. Runs belong to their channel (`channel_id`) and are listed under it.
pub static CHANNEL_RUN: Model = Model {
    name: "channel_runs",
    table: "channel_runs",
    fields: &[
        Field::r("channel_id", Text),
        Field::r("bot_id", Text),
        Field::r("trigger", Text),
        Field::r("status", Text),
        Field::r("started", Date),
        Field::r("ended", Date),
        Field::r("fetched", Int),
        Field::r("matched", Int),
        Field::r("flakes_created", Int),
        Field::r("skipped", Int),
        Field::r("errors", Int),
        Field::r("sources", Json),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
    ],
    relations: &[],
};

/// A run's `status` while it works, and once it has ended (whatever its sources did: their
/// errors are in `sources`).
pub const RUNNING: &str = "running";
pub const FINISHED: &str = "finished";

/// The time between two scheduled runs of a channel, in milliseconds: `cron_time`
/// `{hour, minute}` read as an interval of that many hours and minutes (the seed names the
/// hour `<CHANNEL_INTERVAL_TIME>`), `minute` 0 when absent. `None` when it is missing, not of
/// that shape, or zero: such a channel runs only on demand.
pub fn interval_millis(cron_time: Option<&Value>) -> Option<i64> {
    let cron = cron_time?.as_object()?;
    let hour = cron.get("hour")?.as_i64()?;
    let minute = match cron.get("minute") {
        None | Some(Value::Null) => 0,
        Some(m) => m.as_i64()?,
    };
    if !(0..=23).contains(&hour) || !(0..=59).contains(&minute) {
        return None;
    }
    let ms = (hour * 60 + minute) * 60_000;
    (ms > 0).then_some(ms)
}

/// True when a channel document says it runs on its schedule.
pub fn is_active(channel: &serde_json::Map<String, Value>) -> bool {
    channel.get("status").and_then(Value::as_str) == Some(ACTIVE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cron_time_is_an_interval() {
        let ms = |v: Value| interval_millis(Some(&v));
        assert_eq!(ms(json!({"hour": 2, "minute": 30})), Some(9_000_000));
        assert_eq!(ms(json!({"hour": 1})), Some(3_600_000));
        assert_eq!(ms(json!({"hour": 0, "minute": 15})), Some(900_000));
        assert_eq!(ms(json!({"hour": 0, "minute": 0})), None);
        assert_eq!(ms(json!({"hour": 24})), None);
        assert_eq!(ms(json!({"minute": 5})), None);
        assert_eq!(ms(json!("hourly")), None);
        assert_eq!(interval_millis(None), None);
    }

    #[test]
    fn only_active_channels_run_on_schedule() {
        let doc = |v: Value| v.as_object().cloned().unwrap_or_default();
        assert!(is_active(&doc(json!({"status": "active"}))));
        assert!(!is_active(&doc(json!({"status": "inactive"}))));
        assert!(!is_active(&doc(json!({}))));
    }
}
