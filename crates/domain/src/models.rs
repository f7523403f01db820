//! The content API's models, with fields in the order the API shows them (the seed's examples).

use crate::model::{Field, Kind::*, Model, Relation, RelationKind::*};

pub static ORGANISATION: Model = Model {
    name: "organisation",
    table: "organisations",
    fields: &[
        Field::w("company_name", Text),
        Field::w("plan", Text),
        Field::w("email", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
        Field::w("username", Text),
    ],
    relations: &[
        Relation {
            name: "users",
            kind: HasMany,
            target: "user",
            key: "organisation_id",
        },
        Relation {
            name: "bots",
            kind: HasMany,
            target: "bot",
            key: "organisation_id",
        },
    ],
};

/// Platform accounts: admins (`superadmin`, `owner`) and bot users (`customer`).
pub static USER: Model = Model {
    name: "user",
    table: "accounts",
    fields: &[
        Field::r("organisation_id", Text),
        Field::w("bot_id", Text),
        Field::w("bot_name", Text),
        Field::w("role", Text),
        Field::w("platform", Text),
        Field::w("phone_no", Text),
        Field::w("username", Text),
        Field::w("email", Text),
        Field::r("emailVerified", Bool),
        Field::secret("password"),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
        Field::w("displayName", Text),
        Field::w("profilePic", Text),
        Field::w("bot", Text),
        Field::w("url", Text),
        Field::w("type", Text),
        Field::w("quiz_sets", Json),
        Field::w("read_stories", Json),
        Field::w("context_session", Json),
        Field::w("level", Int),
        Field::w("user_id", Text),
    ],
    relations: &[Relation {
        name: "organisation",
        kind: BelongsTo,
        target: "organisation",
        key: "organisation_id",
    }],
};

pub static BOT: Model = Model {
    name: "bot",
    table: "bots",
    fields: &[
        Field::w("name", Text),
        Field::w("platform", Text),
        Field::w("domain", Text),
        // The platform application of its organisation that its published flakes go to, and
        // the BOT chat user it posts them as there (see `crate::delivery`).
        Field::w("application_id", Int),
        Field::r("chat_user_id", Int),
        Field::r("organisation_id", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
    ],
    relations: &[
        Relation {
            name: "organisation",
            kind: BelongsTo,
            target: "organisation",
            key: "organisation_id",
        },
        Relation {
            name: "flakes",
            kind: HasMany,
            target: "flakes",
            key: "bot_id",
        },
        Relation {
            name: "tags",
            kind: HasMany,
            target: "tags",
            key: "bot_id",
        },
        Relation {
            name: "categories",
            kind: HasMany,
            target: "categories",
            key: "bot_id",
        },
        Relation {
            name: "channels",
            kind: HasMany,
            target: "channels",
            key: "bot_id",
        },
        Relation {
            name: "users",
            kind: HasMany,
            target: "user",
            key: "bot_id",
        },
    ],
};

pub static FLAKE: Model = Model {
    name: "flakes",
    table: "flakes",
    fields: &[
        Field::w("title", Text),
        Field::w("description", Text),
        Field::w("image_url", Text),
        Field::w("bullet_points", Json),
        Field::w("status", Text),
        Field::w("publish_at", Date),
        Field::w("category", TextArray),
        Field::r("bot_id", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
        Field::w("author_name", Text),
        Field::r("organisation_id", Text),
        Field::w("tags", TextArray),
    ],
    relations: &[Relation {
        name: "bot",
        kind: BelongsTo,
        target: "bot",
        key: "bot_id",
    }],
};

const TAXONOMY_FIELDS: &[Field] = &[
    Field::w("name", Text),
    Field::w("slug", Text),
    Field::w("type", Text),
    Field::r("bot_id", Text),
    Field::r("id", Id),
    Field::r("created", Date),
    Field::r("modified", Date),
];

const BELONGS_TO_BOT: &[Relation] = &[Relation {
    name: "bot",
    kind: BelongsTo,
    target: "bot",
    key: "bot_id",
}];

pub static TAG: Model = Model {
    name: "tags",
    table: "tags",
    fields: TAXONOMY_FIELDS,
    relations: BELONGS_TO_BOT,
};

pub static CATEGORY: Model = Model {
    name: "categories",
    table: "categories",
    fields: TAXONOMY_FIELDS,
    relations: BELONGS_TO_BOT,
};

pub static CHANNEL: Model = Model {
    name: "channels",
    table: "channels",
    fields: &[
        Field::w("name", Text),
        Field::w("keywordSource", Json),
        Field::w("category", TextArray),
        Field::w("cron_time", Json),
        Field::w("status", Text),
        // The status of the flakes the channel's runs create: `draft` (when absent) or
        // `publish`.
        Field::w("flake_status", Text),
        Field::r("bot_id", Text),
        Field::r("id", Id),
        Field::r("created", Date),
        Field::r("modified", Date),
    ],
    relations: BELONGS_TO_BOT,
};

/// Every content model, for lookups by name.
pub static ALL: [&Model; 7] = [
    &ORGANISATION,
    &USER,
    &BOT,
    &FLAKE,
    &TAG,
    &CATEGORY,
    &CHANNEL,
];

/// The model with this LoopBack name.
pub fn by_name(name: &str) -> Option<&'static Model> {
    ALL.iter().copied().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relation_targets_a_model_with_its_key() {
        for m in ALL {
            for r in m.relations {
                let target =
                    by_name(r.target).unwrap_or_else(|| panic!("{} -> {}", m.name, r.target));
                let holder = if r.kind == BelongsTo { m } else { target };
                assert!(
                    holder.any_field(r.key).is_some(),
                    "{}.{} key {}",
                    m.name,
                    r.name,
                    r.key
                );
            }
        }
    }

    #[test]
    fn every_model_has_id_created_modified() {
        for m in ALL {
            for f in ["id", "created", "modified"] {
                assert!(m.field(f).is_some(), "{} lacks {f}", m.name);
            }
        }
    }
}
