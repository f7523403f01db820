//! Unit tests of the read cache: which writes hide which results, and the memory bounds.

use super::*;

fn key(s: &str) -> CacheKey {
    CacheKey::Owner(s.to_string())
}

/// Reads `regions` now and keeps `n` under `key`.
fn read(c: &ReadCache, k: &str, regions: &[Region], n: u64) {
    let at = c.read_start();
    c.put(key(k), at, regions, Cached::Count(n));
}

fn served(c: &ReadCache, k: &str) -> Option<u64> {
    match c.get(&key(k)) {
        Some(Cached::Count(n)) => Some(n),
        _ => None,
    }
}

const A: Region = Region {
    table: "flakes",
    org: Some("o1"),
    part: Some("bot-a"),
};
const B: Region = Region {
    table: "flakes",
    org: Some("o1"),
    part: Some("bot-b"),
};
const ORG: Region = Region {
    table: "flakes",
    org: Some("o1"),
    part: None,
};

#[test]
fn a_write_to_any_read_region_hides_the_result() {
    let c = ReadCache::new();
    read(&c, "k", &[Region::table("a"), Region::table("b")], 7);
    assert_eq!(served(&c, "k"), Some(7));
    assert_eq!(served(&c, "other"), None);
    drop(c.writing(&[Region::table("c")]));
    assert_eq!(served(&c, "k"), Some(7), "other tables do not matter");
    drop(c.writing(&[Region::table("b")]));
    assert_eq!(served(&c, "k"), None);
}

#[test]
fn a_write_to_one_bot_keeps_another_bots_results() {
    let c = ReadCache::new();
    read(&c, "a", &[A], 1);
    read(&c, "b", &[B], 2);
    drop(c.writing(&[B]));
    assert_eq!(
        served(&c, "a"),
        Some(1),
        "bot A's result survives a write to B"
    );
    assert_eq!(served(&c, "b"), None, "bot B's result is gone");
    drop(c.writing(&[A]));
    assert_eq!(served(&c, "a"), None, "a write to A hides A's result");
}

#[test]
fn other_organisations_and_tables_are_apart() {
    let c = ReadCache::new();
    read(&c, "a", &[A], 1);
    drop(c.writing(&[Region::part("flakes", "o2", "bot-a")]));
    drop(c.writing(&[Region::org("flakes", "o2")]));
    drop(c.writing(&[Region::part("tags", "o1", "bot-a")]));
    assert_eq!(served(&c, "a"), Some(1));
}

#[test]
fn a_table_wide_write_hides_every_result_of_the_table() {
    let c = ReadCache::new();
    read(&c, "a", &[A], 1);
    read(&c, "b", &[B], 2);
    read(&c, "org", &[ORG], 3);
    read(&c, "other-org", &[Region::org("flakes", "o2")], 4);
    read(&c, "tags", &[Region::part("tags", "o1", "bot-a")], 5);
    drop(c.writing(&[Region::table("flakes")]));
    for k in ["a", "b", "org", "other-org"] {
        assert_eq!(served(&c, k), None, "{k} served after a table-wide write");
    }
    assert_eq!(served(&c, "tags"), Some(5));
}

#[test]
fn an_organisation_wide_write_hides_every_bot_of_it_only() {
    let c = ReadCache::new();
    read(&c, "a", &[A], 1);
    read(&c, "b", &[B], 2);
    read(&c, "o2", &[Region::part("flakes", "o2", "bot-a")], 3);
    drop(c.writing(&[ORG]));
    assert_eq!(served(&c, "a"), None);
    assert_eq!(served(&c, "b"), None);
    assert_eq!(served(&c, "o2"), Some(3));
}

#[test]
fn a_write_to_one_bot_hides_results_read_across_the_organisation() {
    let c = ReadCache::new();
    read(&c, "org", &[ORG], 1);
    read(&c, "table", &[Region::table("flakes")], 2);
    drop(c.writing(&[B]));
    assert_eq!(
        served(&c, "org"),
        None,
        "the organisation's rows include B's"
    );
    assert_eq!(served(&c, "table"), None, "the table's rows include B's");
}

#[test]
fn a_result_read_before_a_write_is_never_served_after_it() {
    let c = ReadCache::new();
    let at = c.read_start(); // taken before the read
    drop(c.writing(&[A])); // a write runs and commits while the read runs
    c.put(key("k"), at, &[A], Cached::Count(1));
    assert_eq!(served(&c, "k"), None);
    // Nor is it kept when the write was to the whole organisation.
    let at = c.read_start();
    drop(c.writing(&[ORG]));
    c.put(key("k"), at, &[A], Cached::Count(1));
    assert_eq!(served(&c, "k"), None);
}

#[test]
fn a_read_straddling_another_bots_write_is_kept() {
    let c = ReadCache::new();
    let at = c.read_start();
    drop(c.writing(&[B]));
    c.put(key("k"), at, &[A], Cached::Count(1));
    assert_eq!(served(&c, "k"), Some(1));
}

#[test]
fn nothing_is_served_or_kept_while_a_region_is_being_written() {
    let c = ReadCache::new();
    read(&c, "k", &[A], 1);
    read(&c, "b", &[B], 2);
    let w = c.writing(&[A]);
    assert_eq!(served(&c, "k"), None, "served during a write");
    assert_eq!(served(&c, "b"), Some(2), "another bot is not being written");
    read(&c, "during", &[A], 3);
    assert_eq!(served(&c, "during"), None, "a read during a write was kept");
    read(&c, "org-during", &[ORG], 3);
    assert_eq!(
        served(&c, "org-during"),
        None,
        "the organisation's rows are being written"
    );
    drop(w);
    assert_eq!(served(&c, "k"), None, "served after the write");
    read(&c, "k", &[A], 4);
    assert_eq!(served(&c, "k"), Some(4));
}

#[test]
fn a_write_across_the_organisation_under_way_hides_every_bot() {
    let c = ReadCache::new();
    let w = c.writing(&[ORG]);
    read(&c, "a", &[A], 1);
    assert_eq!(served(&c, "a"), None);
    drop(w);
    read(&c, "a", &[A], 2);
    assert_eq!(served(&c, "a"), Some(2));
}

#[test]
fn a_guard_counts_a_region_once_and_ends_all_it_holds() {
    let c = ReadCache::new();
    read(&c, "b", &[B], 2);
    let mut w = c.writing(&[A]);
    w.add(A);
    w.add(B);
    assert_eq!(served(&c, "b"), None);
    drop(w);
    // Both regions are idle again: new reads are kept.
    read(&c, "a", &[A], 1);
    read(&c, "b", &[B], 2);
    assert_eq!(served(&c, "a"), Some(1));
    assert_eq!(served(&c, "b"), Some(2));
}

#[test]
fn different_filters_are_different_keys() {
    use palaver_domain::filter::parse_where;
    use palaver_domain::models::FLAKE;
    let rows = |w: serde_json::Value| CacheKey::Count {
        table: "flakes",
        org: "o".into(),
        parent: None,
        r#where: parse_where(&FLAKE, &w).unwrap(),
    };
    let c = ReadCache::new();
    let region = [Region::org("flakes", "o")];
    c.put(
        rows(serde_json::json!({"status": "draft"})),
        c.read_start(),
        &region,
        Cached::Count(1),
    );
    assert!(c
        .get(&rows(serde_json::json!({"status": "draft"})))
        .is_some());
    assert!(c
        .get(&rows(serde_json::json!({"status": "publish"})))
        .is_none());
    assert!(c
        .get(&rows(serde_json::json!({"status": {"neq": "draft"}})))
        .is_none());
}

#[test]
fn the_cache_is_bounded() {
    let c = ReadCache::new();
    for i in 0..(MAX_ENTRIES + 10) {
        read(&c, &format!("k{i}"), &[], i as u64);
    }
    assert!(c.lock().entries.len() <= MAX_ENTRIES);
}

#[test]
fn the_regions_remembered_are_bounded_and_forgetting_them_serves_nothing_stale() {
    let c = ReadCache::new();
    read(&c, "a", &[A], 1);
    // A write under way while the regions are forgotten stays counted.
    let long = c.writing(&[B]);
    let at = c.read_start();
    for i in 0..(MAX_REGIONS + 10) {
        drop(c.writing(&[Region::part("tags", "o1", &format!("bot-{i}"))]));
    }
    assert!(c.lock().regions <= MAX_REGIONS + 3);
    assert_eq!(
        served(&c, "a"),
        None,
        "results are forgotten with the regions"
    );
    c.put(key("late"), at, &[A], Cached::Count(9));
    assert_eq!(
        served(&c, "late"),
        None,
        "a read begun before forgetting is not kept"
    );
    read(&c, "b", &[B], 2);
    assert_eq!(served(&c, "b"), None, "B is still being written");
    drop(long);
    read(&c, "b", &[B], 3);
    assert_eq!(served(&c, "b"), Some(3));
    read(&c, "a", &[A], 4);
    assert_eq!(served(&c, "a"), Some(4));
}
