//! The emoji of a message reaction: a validated value, kept as its Unicode character (so that
//! `👍`, `thumbsup` and `:+1:` are one reaction), and shown as ChatKitty's `EmojiProperties`
//! (`character`, `description`, `aliases`, `tags`), from the Unicode names and gemoji shortcodes
//! of the `emojis` crate (ChatKitty's own table was emoji-java's, gemoji-based too).

use crate::{DomainError, ErrorCode};

/// An emoji that Unicode knows, by its fully-qualified character sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Emoji(String);

/// The longest emoji text looked up: the longest sequences (families, flags of regions) are a
/// few dozen bytes, shortcodes shorter still.
const MAX_INPUT: usize = 64;

fn known(s: &str) -> Option<&'static emojis::Emoji> {
    emojis::get(s)
}

impl Emoji {
    /// Reads what a client sends: the emoji itself (a missing variation selector is forgiven),
    /// or one of its shortcodes, with or without colons (`thumbsup`, `:+1:`).
    pub fn parse(input: &str) -> Result<Emoji, DomainError> {
        let s = input.trim();
        let bad = || {
            DomainError::new(
                ErrorCode::InvalidParameter,
                format!("emoji: \"{input}\" is no emoji nor emoji shortcode"),
            )
        };
        if s.is_empty() || s.len() > MAX_INPUT {
            return Err(bad());
        }
        let code = s
            .strip_prefix(':')
            .and_then(|c| c.strip_suffix(':'))
            .unwrap_or(s);
        known(s)
            .or_else(|| emojis::get_by_shortcode(code))
            .map(|e| Emoji(e.as_str().to_string()))
            .ok_or_else(bad)
    }

    /// An emoji as stored (written by [`Emoji::parse`]); shown as it is even if a later emoji
    /// table no longer knew it.
    pub fn stored(s: impl Into<String>) -> Emoji {
        Emoji(s.into())
    }

    /// The Unicode character sequence: what is stored and compared.
    pub fn character(&self) -> &str {
        &self.0
    }

    /// Its Unicode name (`thumbs up`), empty for one the table does not know.
    pub fn description(&self) -> &'static str {
        known(&self.0).map_or("", |e| e.name())
    }

    /// Its gemoji shortcodes (`+1`, `thumbsup`); a skin-tone variant has those of its base.
    pub fn aliases(&self) -> Vec<&'static str> {
        let Some(e) = known(&self.0) else {
            return Vec::new();
        };
        let base = e
            .shortcode()
            .is_none()
            .then(|| e.with_skin_tone(emojis::SkinTone::Default))
            .flatten()
            .unwrap_or(e);
        base.shortcodes().collect()
    }

    /// Keywords describing it. The table has none beyond names and shortcodes: always empty
    /// (the field is required, so it is shown as an empty list).
    pub fn tags(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_and_shortcodes_are_the_same_emoji() {
        let thumbs = Emoji::parse("👍").unwrap();
        assert_eq!(thumbs.character(), "👍");
        for alias in ["thumbsup", ":thumbsup:", "+1", " :+1: "] {
            assert_eq!(Emoji::parse(alias).unwrap(), thumbs, "{alias}");
        }
        assert_eq!(thumbs.description(), "thumbs up");
        assert_eq!(thumbs.aliases(), ["+1", "thumbsup"]);
        assert!(thumbs.tags().is_empty());
    }

    #[test]
    fn a_missing_variation_selector_is_forgiven() {
        let heart = Emoji::parse("\u{2764}").unwrap();
        assert_eq!(heart.character(), "\u{2764}\u{fe0f}");
        assert_eq!(heart, Emoji::parse("heart").unwrap());
    }

    #[test]
    fn skin_tones_are_their_own_emoji_with_the_base_aliases() {
        let medium = Emoji::parse("👍🏽").unwrap();
        assert_ne!(medium, Emoji::parse("👍").unwrap());
        assert_eq!(medium.aliases(), ["+1", "thumbsup"]);
    }

    #[test]
    fn text_that_is_no_emoji_is_refused() {
        for bad in ["", "  ", "hello", "::", ":nope:", "👍👍", &"x".repeat(100)] {
            let e = Emoji::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn a_stored_emoji_the_table_does_not_know_still_shows() {
        let odd = Emoji::stored("?");
        assert_eq!(odd.character(), "?");
        assert_eq!(odd.description(), "");
        assert!(odd.aliases().is_empty());
    }
}
