//! Sort properties of the pages that hold users (rosters, participants, read receipts and read
//! summaries), as clients name them, and the store orders they stand for.

use palaver_domain::platform::paging::PageRequest;
use palaver_store::platform::{ChannelField, ReceiptOrder, RosterOrder, SummaryOrder, UserField};

/// Pages of users (members, moderators, participants): the user's own fields, bare or under
/// `user.` as ChatKitty's SDK names them (`user.displayName,asc`).
pub const ROSTER_USER_SORTABLE: [&str; 8] = [
    "id",
    "name",
    "display_name",
    "created_time",
    "user.id",
    "user.name",
    "user.display_name",
    "user.created_time",
];

/// Pages of roster entries (memberships, invites): when the user was put on the roster
/// (`created_time`, the entry's own field), or a field of the user under `user.`.
pub const ROSTER_ENTRY_SORTABLE: [&str; 5] = [
    "created_time",
    "user.id",
    "user.name",
    "user.display_name",
    "user.created_time",
];

/// Read receipts: when the reader read (`created_time`), or a field of the reader under `user.`.
pub const RECEIPT_SORTABLE: [&str; 5] = ROSTER_ENTRY_SORTABLE;

/// Read summaries: how many messages were read (`count`), or a field of the channel under
/// `channel.` or of the reader under `user.`.
pub const SUMMARY_SORTABLE: [&str; 9] = [
    "count",
    "channel.id",
    "channel.name",
    "channel.display_name",
    "channel.created_time",
    "user.id",
    "user.name",
    "user.display_name",
    "user.created_time",
];

fn user_field(property: &str) -> Option<UserField> {
    Some(match property {
        "id" => UserField::Id,
        "name" => UserField::Name,
        "display_name" => UserField::DisplayName,
        "created_time" => UserField::Created,
        _ => return None,
    })
}

fn channel_field(property: &str) -> Option<ChannelField> {
    Some(match property {
        "id" => ChannelField::Id,
        "name" => ChannelField::Name,
        "display_name" => ChannelField::DisplayName,
        "created_time" => ChannelField::Created,
        _ => return None,
    })
}

/// The user fields of a page of users, `user.` prefixed or not. Properties the page request
/// let through but that name no user field (none do) are left out.
pub(crate) fn user_order(page: &PageRequest) -> Vec<(UserField, bool)> {
    page.sort
        .iter()
        .filter_map(|s| {
            let p = s.property.as_str();
            user_field(p.strip_prefix("user.").unwrap_or(p)).map(|f| (f, s.descending))
        })
        .collect()
}

/// The order of a roster listed as its users.
pub(crate) fn roster_user_order(page: &PageRequest) -> Vec<(RosterOrder, bool)> {
    user_order(page)
        .into_iter()
        .map(|(f, d)| (RosterOrder::User(f), d))
        .collect()
}

/// The order of a roster listed as its entries: their own `created_time` is when the user was
/// added.
pub(crate) fn roster_entry_order(page: &PageRequest) -> Vec<(RosterOrder, bool)> {
    page.sort
        .iter()
        .filter_map(|s| {
            let o = match s.property.as_str() {
                "created_time" => RosterOrder::Added,
                p => RosterOrder::User(user_field(p.strip_prefix("user.")?)?),
            };
            Some((o, s.descending))
        })
        .collect()
}

pub(crate) fn receipt_order(page: &PageRequest) -> Vec<(ReceiptOrder, bool)> {
    page.sort
        .iter()
        .filter_map(|s| {
            let o = match s.property.as_str() {
                "created_time" => ReceiptOrder::Read,
                p => ReceiptOrder::User(user_field(p.strip_prefix("user.")?)?),
            };
            Some((o, s.descending))
        })
        .collect()
}

pub(crate) fn summary_order(page: &PageRequest) -> Vec<(SummaryOrder, bool)> {
    page.sort
        .iter()
        .filter_map(|s| {
            let p = s.property.as_str();
            let o = if p == "count" {
                SummaryOrder::Count
            } else if let Some(c) = p.strip_prefix("channel.") {
                SummaryOrder::Channel(channel_field(c)?)
            } else {
                SummaryOrder::User(user_field(p.strip_prefix("user.")?)?)
            };
            Some((o, s.descending))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(sorts: &[&str], sortable: &[&str]) -> PageRequest {
        let pairs: Vec<(String, String)> = sorts
            .iter()
            .map(|s| ("sort".to_string(), s.to_string()))
            .collect();
        PageRequest::from_query(&pairs, sortable).unwrap_or_else(|e| panic!("{sorts:?}: {e:?}"))
    }

    #[test]
    fn the_sdks_camel_case_user_prefix_names_the_users_fields() {
        let p = page(
            &["user.displayName,asc", "createdTime,desc", "user.id"],
            &ROSTER_USER_SORTABLE,
        );
        assert_eq!(
            user_order(&p),
            [
                (UserField::DisplayName, false),
                (UserField::Created, true),
                (UserField::Id, false)
            ]
        );
    }

    #[test]
    fn an_entrys_created_time_is_when_it_was_added() {
        let p = page(
            &["createdTime,desc", "user.createdTime"],
            &ROSTER_ENTRY_SORTABLE,
        );
        assert_eq!(
            roster_entry_order(&p),
            [
                (RosterOrder::Added, true),
                (RosterOrder::User(UserField::Created), false)
            ]
        );
        let p = page(&["created_time", "user.name,desc"], &RECEIPT_SORTABLE);
        assert_eq!(
            receipt_order(&p),
            [
                (ReceiptOrder::Read, false),
                (ReceiptOrder::User(UserField::Name), true)
            ]
        );
    }

    #[test]
    fn summaries_sort_by_count_channel_and_user() {
        let p = page(
            &["count,desc", "channel.displayName", "user.name"],
            &SUMMARY_SORTABLE,
        );
        assert_eq!(
            summary_order(&p),
            [
                (SummaryOrder::Count, true),
                (SummaryOrder::Channel(ChannelField::DisplayName), false),
                (SummaryOrder::User(UserField::Name), false)
            ]
        );
    }

    #[test]
    fn entries_and_receipts_take_no_bare_user_fields() {
        for sortable in [&ROSTER_ENTRY_SORTABLE[..], &RECEIPT_SORTABLE[..]] {
            for bad in ["name", "display_name", "id", "user.password"] {
                let pairs = vec![("sort".to_string(), bad.to_string())];
                assert!(PageRequest::from_query(&pairs, sortable).is_err(), "{bad}");
            }
        }
    }
}
