//! Date strings read as JavaScript's `Date.parse` reads them (V8's date parser: the ES5 ISO
//! form first, then the legacy forms such as `2020-06-15 10:20`, `December 1, 2020` or
//! `Tue, 01 Dec 2020 10:00:00 GMT`), because LoopBack coerces date filter values with
//! `new Date(value)`. A date-time without a zone, which JavaScript reads in the server's local
//! zone, is read as UTC here. Strings JavaScript refuses are refused.

/// Epoch milliseconds of `s` as `Date.parse(s)` gives them with the local zone UTC, or `None`
/// where it gives `NaN`.
pub fn parse(s: &str) -> Option<i64> {
    let mut scanner = Scanner::new(s);
    let mut day = DayComposer::default();
    let mut time = TimeComposer::default();
    let mut tz = TimeZoneComposer::default();
    let next = parse_es5(&mut scanner, &mut day, &mut time, &mut tz);
    if next == Token::Invalid {
        return None;
    }
    legacy(&mut scanner, next, &mut day, &mut time, &mut tz)?;
    let (year, month, mday) = day.write()?;
    let (h, m, sec, ms) = time.write()?;
    let offset_seconds = tz.write()?;
    let days = make_day(year, month, mday)?;
    let t = days * 86_400_000.0
        + f64::from(h) * 3_600_000.0
        + f64::from(m) * 60_000.0
        + f64::from(sec) * 1000.0
        + f64::from(ms);
    let t = t - offset_seconds.map_or(0.0, |o| f64::from(o) * 1000.0);
    // ECMAScript's TimeClip: ±100,000,000 days around the epoch.
    if !t.is_finite() || t.abs() > 8.64e15 {
        return None;
    }
    Some(t as i64)
}

/// How many significant digits a numeral keeps (V8 reads no more).
const MAX_SIGNIFICANT_DIGITS: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    /// A word that is none of the others.
    Other,
    Month(i32),
    /// A zone name, with its offset in hours.
    Zone(i32),
    TimeSeparator,
    /// `am` (0) or `pm` (12).
    AmPm(i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Invalid,
    Unknown,
    WhiteSpace,
    /// A numeral: its value (leading zeros and digits past the ninth dropped) and its length.
    Number(i32, usize),
    Symbol(char),
    /// A word: what it is, and its length.
    Word(Keyword, usize),
    End,
}

impl Token {
    fn is_number(self) -> bool {
        matches!(self, Token::Number(..))
    }
    fn number(self) -> i32 {
        match self {
            Token::Number(n, _) => n,
            _ => 0,
        }
    }
    fn is_fixed_number(self, len: usize) -> bool {
        matches!(self, Token::Number(_, l) if l == len)
    }
    fn is_sign(self) -> bool {
        matches!(self, Token::Symbol('+' | '-'))
    }
    fn sign(self) -> i32 {
        if self == Token::Symbol('-') {
            -1
        } else {
            1
        }
    }
    fn is_z(self) -> bool {
        self == Token::Word(Keyword::Zone(0), 1)
    }
}

/// JavaScript's white space and line terminators.
fn js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// The word table: a word matches an entry by its first three letters (lower-cased); only month
/// names may be longer than their entry.
fn keyword(prefix: &[char; 3], len: usize) -> Keyword {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const OTHERS: [(&str, Keyword); 16] = [
        ("am", Keyword::AmPm(0)),
        ("pm", Keyword::AmPm(12)),
        ("ut", Keyword::Zone(0)),
        ("utc", Keyword::Zone(0)),
        ("z", Keyword::Zone(0)),
        ("gmt", Keyword::Zone(0)),
        ("cdt", Keyword::Zone(-5)),
        ("cst", Keyword::Zone(-6)),
        ("edt", Keyword::Zone(-4)),
        ("est", Keyword::Zone(-5)),
        ("mdt", Keyword::Zone(-6)),
        ("mst", Keyword::Zone(-7)),
        ("pdt", Keyword::Zone(-7)),
        ("pst", Keyword::Zone(-8)),
        ("t", Keyword::TimeSeparator),
        ("", Keyword::Other),
    ];
    let same = |entry: &str| {
        let mut e = entry.chars();
        prefix.iter().all(|p| match e.next() {
            Some(c) => *p == c,
            None => *p == '\0',
        })
    };
    if let Some(i) = MONTHS.iter().position(|m| same(m)) {
        return Keyword::Month(i as i32 + 1);
    }
    if len <= 3 {
        if let Some((_, k)) = OTHERS.iter().find(|(e, _)| !e.is_empty() && same(e)) {
            return *k;
        }
    }
    Keyword::Other
}

/// The tokenizer, with one token of look-ahead.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
    next: Token,
}

impl Scanner {
    fn new(s: &str) -> Self {
        let mut sc = Scanner {
            chars: s.chars().collect(),
            pos: 0,
            next: Token::End,
        };
        sc.next = sc.scan();
        sc
    }

    fn ch(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn scan(&mut self) -> Token {
        let Some(c) = self.ch() else {
            return Token::End;
        };
        if c.is_ascii_digit() {
            let start = self.pos;
            while self.ch() == Some('0') {
                self.pos += 1;
            }
            let (mut n, mut i) = (0i32, 0usize);
            while let Some(d) = self
                .ch()
                .and_then(|c| c.to_digit(10).filter(|_| c.is_ascii()))
            {
                if i < MAX_SIGNIFICANT_DIGITS {
                    n = n * 10 + d as i32;
                }
                i += 1;
                self.pos += 1;
            }
            return Token::Number(n, self.pos - start);
        }
        if matches!(c, ':' | '-' | '+' | '.' | ')') {
            self.pos += 1;
            return Token::Symbol(c);
        }
        // V8 takes every character from 'A' up, white space aside, as a letter of a word.
        if c >= 'A' && !js_space(c) {
            let mut prefix = ['\0'; 3];
            let mut len = 0;
            while let Some(c) = self.ch().filter(|c| *c >= 'A' && !js_space(*c)) {
                if len < 3 {
                    prefix[len] = if c.is_ascii() {
                        ((c as u8) | 0x20) as char
                    } else {
                        c
                    };
                }
                len += 1;
                self.pos += 1;
            }
            return Token::Word(keyword(&prefix, len), len);
        }
        if js_space(c) {
            self.pos += 1;
            return Token::WhiteSpace;
        }
        if c == '(' {
            // Parenthesised text (nested, perhaps unclosed) is a comment.
            let mut depth = 0;
            while let Some(c) = self.ch() {
                self.pos += 1;
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            return Token::Unknown;
        }
        self.pos += 1;
        Token::Unknown
    }

    fn next(&mut self) -> Token {
        let t = self.next;
        self.next = self.scan();
        t
    }

    fn peek(&self) -> Token {
        self.next
    }

    fn skip_symbol(&mut self, c: char) -> bool {
        if self.next == Token::Symbol(c) {
            self.next = self.scan();
            true
        } else {
            false
        }
    }
}

const NONE: i32 = i32::MIN;

fn between(n: i32, lo: i32, hi: i32) -> bool {
    (lo..=hi).contains(&n)
}
fn is_month(n: i32) -> bool {
    between(n, 1, 12)
}
fn is_day(n: i32) -> bool {
    between(n, 1, 31)
}
fn is_hour(n: i32) -> bool {
    between(n, 0, 23)
}
fn is_minute(n: i32) -> bool {
    between(n, 0, 59)
}
fn is_second(n: i32) -> bool {
    between(n, 0, 59)
}
fn is_hour12(n: i32) -> bool {
    between(n, 0, 12)
}
fn is_millisecond(n: i32) -> bool {
    between(n, 0, 999)
}

struct DayComposer {
    comp: [i32; 3],
    index: usize,
    named_month: i32,
    iso: bool,
}

impl Default for DayComposer {
    fn default() -> Self {
        Self {
            comp: [0; 3],
            index: 0,
            named_month: NONE,
            iso: false,
        }
    }
}

impl DayComposer {
    fn add(&mut self, n: i32) -> bool {
        if self.index == 3 {
            return false;
        }
        self.comp[self.index] = n;
        self.index += 1;
        true
    }

    /// (year, month 0–11, day); which component is which follows V8's rules.
    fn write(&mut self) -> Option<(i32, i32, i32)> {
        if self.index < 1 {
            return None;
        }
        while self.index < 3 {
            self.comp[self.index] = 1;
            self.index += 1;
        }
        let c = self.comp;
        let (mut year, month, day);
        if self.named_month == NONE {
            if self.iso || !is_day(c[0]) {
                (year, month, day) = (c[0], c[1], c[2]);
            } else {
                (month, day, year) = (c[0], c[1], c[2]);
            }
        } else {
            month = self.named_month;
            if !is_day(c[0]) {
                (year, day) = (c[0], c[1]);
            } else {
                (day, year) = (c[0], c[1]);
            }
        }
        if !self.iso {
            if between(year, 0, 49) {
                year += 2000;
            } else if between(year, 50, 99) {
                year += 1900;
            }
        }
        if !is_month(month) || !is_day(day) {
            return None;
        }
        Some((year, month - 1, day))
    }
}

#[derive(Default)]
struct TimeComposer {
    comp: [i32; 4],
    index: usize,
    hour_offset: Option<i32>,
}

impl TimeComposer {
    fn is_empty(&self) -> bool {
        self.index == 0
    }
    fn is_expecting(&self, n: i32) -> bool {
        (self.index == 1 && is_minute(n))
            || (self.index == 2 && is_second(n))
            || (self.index == 3 && is_millisecond(n))
    }
    fn add(&mut self, n: i32) -> bool {
        if self.index < 4 {
            self.comp[self.index] = n;
            self.index += 1;
            true
        } else {
            false
        }
    }
    fn add_final(&mut self, n: i32) -> bool {
        if !self.add(n) {
            return false;
        }
        while self.index < 4 {
            self.comp[self.index] = 0;
            self.index += 1;
        }
        true
    }

    fn write(&mut self) -> Option<(i32, i32, i32, i32)> {
        while self.index < 4 {
            self.comp[self.index] = 0;
            self.index += 1;
        }
        let [mut hour, minute, second, ms] = self.comp;
        if let Some(offset) = self.hour_offset {
            if !is_hour12(hour) {
                return None;
            }
            hour = hour % 12 + offset;
        }
        let valid = is_hour(hour) && is_minute(minute) && is_second(second) && is_millisecond(ms);
        // 24:00:00.000 is the end of the day.
        let end_of_day = hour == 24 && minute == 0 && second == 0 && ms == 0;
        if !(valid || end_of_day) {
            return None;
        }
        Some((hour, minute, second, ms))
    }
}

struct TimeZoneComposer {
    sign: i32,
    hour: i32,
    minute: i32,
}

impl Default for TimeZoneComposer {
    fn default() -> Self {
        Self {
            sign: NONE,
            hour: NONE,
            minute: NONE,
        }
    }
}

impl TimeZoneComposer {
    fn set(&mut self, offset_hours: i32) {
        self.sign = if offset_hours < 0 { -1 } else { 1 };
        self.hour = offset_hours.abs();
        self.minute = 0;
    }
    fn is_expecting(&self, n: i32) -> bool {
        self.hour != NONE && self.minute == NONE && is_minute(n)
    }
    fn is_utc(&self) -> bool {
        self.hour == 0 && self.minute == 0
    }
    fn is_empty(&self) -> bool {
        self.hour == NONE
    }

    /// The offset from UTC in seconds; `Some(None)` for local time (read as UTC here).
    fn write(&mut self) -> Option<Option<i32>> {
        if self.sign == NONE {
            return Some(None);
        }
        let hour = if self.hour == NONE { 0 } else { self.hour };
        let minute = if self.minute == NONE { 0 } else { self.minute };
        let total = i64::from(hour) * 3600 + i64::from(minute) * 60;
        if total > i64::from(i32::MAX >> 1) {
            return None;
        }
        let total = total as i32;
        Some(Some(if self.sign < 0 { -total } else { total }))
    }
}

/// Three significant digits of a fraction of a second, from the numeral's value and length.
fn read_milliseconds(t: Token) -> i32 {
    let Token::Number(mut n, mut len) = t else {
        return 0;
    };
    match len {
        1 => n *= 100,
        2 => n *= 10,
        3 => {}
        _ => {
            len = len.min(MAX_SIGNIFICANT_DIGITS);
            let mut factor = 1;
            while len > 3 {
                factor *= 10;
                len -= 1;
            }
            n /= factor;
        }
    }
    n
}

/// The ES5 form `[+-YY]YYYY[-MM[-DD]][THH:mm[:ss[.sss]][Z|±HH:mm]]`. Returns the first token it
/// did not take (for the legacy parser), `End` when it took everything, or `Invalid`.
fn parse_es5(
    sc: &mut Scanner,
    day: &mut DayComposer,
    time: &mut TimeComposer,
    tz: &mut TimeZoneComposer,
) -> Token {
    if sc.peek().is_sign() {
        let sign = sc.next();
        if !sc.peek().is_fixed_number(6) {
            return sign;
        }
        let year = sc.next().number();
        if sign.sign() < 0 && year == 0 {
            return sign;
        }
        day.add(sign.sign() * year);
    } else if sc.peek().is_fixed_number(4) {
        day.add(sc.next().number());
    } else {
        return sc.next();
    }
    if sc.skip_symbol('-') {
        if !sc.peek().is_fixed_number(2) || !is_month(sc.peek().number()) {
            return sc.next();
        }
        day.add(sc.next().number());
        if sc.skip_symbol('-') {
            if !sc.peek().is_fixed_number(2) || !is_day(sc.peek().number()) {
                return sc.next();
            }
            day.add(sc.next().number());
        }
    }
    if sc.peek() != Token::Word(Keyword::TimeSeparator, 1) {
        if sc.peek() != Token::End {
            return sc.next();
        }
    } else {
        sc.next();
        if !sc.peek().is_fixed_number(2) || !between(sc.peek().number(), 0, 24) {
            return Token::Invalid;
        }
        let hour_is_24 = sc.peek().number() == 24;
        time.add(sc.next().number());
        if !sc.skip_symbol(':') {
            return Token::Invalid;
        }
        if !sc.peek().is_fixed_number(2)
            || !is_minute(sc.peek().number())
            || (hour_is_24 && sc.peek().number() > 0)
        {
            return Token::Invalid;
        }
        time.add(sc.next().number());
        if sc.skip_symbol(':') {
            if !sc.peek().is_fixed_number(2)
                || !is_second(sc.peek().number())
                || (hour_is_24 && sc.peek().number() > 0)
            {
                return Token::Invalid;
            }
            time.add(sc.next().number());
            if sc.skip_symbol('.') {
                if !sc.peek().is_number() || (hour_is_24 && sc.peek().number() > 0) {
                    return Token::Invalid;
                }
                time.add(read_milliseconds(sc.next()));
            }
        }
        if sc.peek().is_z() {
            sc.next();
            tz.set(0);
        } else if sc.peek().is_sign() {
            tz.sign = sc.next().sign();
            if sc.peek().is_fixed_number(4) {
                let hm = sc.next().number();
                let (h, m) = (hm / 100, hm % 100);
                if !is_hour(h) || !is_minute(m) {
                    return Token::Invalid;
                }
                tz.hour = h;
                tz.minute = m;
            } else {
                if !sc.peek().is_fixed_number(2) || !is_hour(sc.peek().number()) {
                    return Token::Invalid;
                }
                tz.hour = sc.next().number();
                if !sc.skip_symbol(':') {
                    return Token::Invalid;
                }
                if !sc.peek().is_fixed_number(2) || !is_minute(sc.peek().number()) {
                    return Token::Invalid;
                }
                tz.minute = sc.next().number();
            }
        }
        if sc.peek() != Token::End {
            return Token::Invalid;
        }
    }
    // A date alone is UTC; a date-time without a zone is local time (UTC here too).
    if tz.is_empty() && time.is_empty() {
        tz.set(0);
    }
    day.iso = true;
    Token::End
}

/// The legacy forms, from the token the ES5 parser left.
fn legacy(
    sc: &mut Scanner,
    first: Token,
    day: &mut DayComposer,
    time: &mut TimeComposer,
    tz: &mut TimeZoneComposer,
) -> Option<()> {
    let mut has_read_number = day.index > 0;
    let mut token = first;
    while token != Token::End {
        match token {
            Token::Number(n, _) => {
                has_read_number = true;
                if sc.skip_symbol(':') {
                    if sc.skip_symbol(':') {
                        if !time.is_empty() {
                            return None;
                        }
                        time.add(n);
                        time.add(0);
                    } else {
                        if !time.add(n) {
                            return None;
                        }
                        if sc.peek() == Token::Symbol('.') {
                            sc.next();
                        }
                    }
                } else if sc.skip_symbol('.') && time.is_expecting(n) {
                    time.add(n);
                    if !sc.peek().is_number() {
                        return None;
                    }
                    let ms = read_milliseconds(sc.next());
                    if ms < 0 {
                        return None;
                    }
                    time.add_final(ms);
                } else if tz.is_expecting(n) {
                    tz.minute = n;
                } else if time.is_expecting(n) {
                    time.add_final(n);
                    // The time must end here: end, white space, Z or a sign.
                    let p = sc.peek();
                    if !(p == Token::End || p == Token::WhiteSpace || p.is_z() || p.is_sign()) {
                        return None;
                    }
                } else {
                    if !day.add(n) {
                        return None;
                    }
                    sc.skip_symbol('-');
                }
            }
            Token::Word(k, _) => match k {
                Keyword::AmPm(offset) if !time.is_empty() => time.hour_offset = Some(offset),
                Keyword::Month(m) => {
                    day.named_month = m;
                    sc.skip_symbol('-');
                }
                Keyword::Zone(offset) if has_read_number => tz.set(offset),
                _ => {
                    // Words are garbage, allowed only before the first number and apart from it.
                    if has_read_number || sc.peek().is_number() {
                        return None;
                    }
                }
            },
            t if t.is_sign() && (tz.is_utc() || !time.is_empty()) => {
                // A zone offset, after a zone name or a time: GMT+1, +0100, +01:00.
                tz.sign = t.sign();
                let (mut n, mut len) = (0, 0);
                if let Token::Number(v, l) = sc.peek() {
                    sc.next();
                    (n, len) = (v, l);
                }
                has_read_number = true;
                if sc.peek() == Token::Symbol(':') {
                    tz.hour = n;
                    tz.minute = NONE;
                } else if len == 1 || len == 2 {
                    tz.hour = n;
                    tz.minute = 0;
                } else if len == 3 || len == 4 {
                    tz.hour = n / 100;
                    tz.minute = n % 100;
                } else {
                    return None;
                }
            }
            t if (t.is_sign() || t == Token::Symbol(')')) && has_read_number => return None,
            _ => {}
        }
        token = sc.next();
    }
    Some(())
}

/// ECMAScript's MakeDay: days since the epoch of (year, month 0-based, day), months past
/// December or days past the month's end carrying over.
fn make_day(year: i32, month: i32, day: i32) -> Option<f64> {
    let ym = i64::from(year) + i64::from(month).div_euclid(12);
    let mn = i64::from(month.rem_euclid(12)) + 1;
    Some((days_from_civil(ym, mn) + i64::from(day) - 1) as f64)
}

/// Days from 1970-01-01 to the first of month `m` (1–12) of year `y`, proleptic Gregorian
/// (Howard Hinnant's algorithm; any year, where chrono stops at ±262,143).
fn days_from_civil(y: i64, m: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// Each string with what `Date.parse` answers for it in Node 20 with `TZ=UTC` (`None` for
    /// `NaN`).
    const NODE: &[(&str, Option<i64>)] = &[
        ("2020", Some(1577836800000)),
        ("2020-06", Some(1590969600000)),
        ("2020-06-15", Some(1592179200000)),
        ("2020-06-15T10:20", Some(1592216400000)),
        ("2020-06-15T10:20:30", Some(1592216430000)),
        ("2020-06-15T10:20:30.123", Some(1592216430123)),
        ("2020-06-15T10:20:30.123Z", Some(1592216430123)),
        ("2020-06-15T10:20:30Z", Some(1592216430000)),
        ("2020-06-15T10:20:30+02:00", Some(1592209230000)),
        ("2020-06-15T10:20:30.1Z", Some(1592216430100)),
        ("2020-06-15T10:20:30.123456Z", Some(1592216430123)),
        ("2020-06-15 10:20:30", Some(1592216430000)),
        ("2020-06-15 10:20", Some(1592216400000)),
        ("2020-06-15 10:20:30Z", Some(1592216430000)),
        ("2020-06-15T10:20Z", Some(1592216400000)),
        ("Tue, 01 Dec 2020 10:00:00 GMT", Some(1606816800000)),
        ("December 1, 2020", Some(1606780800000)),
        ("Dec 1, 2020 10:00:00", Some(1606816800000)),
        ("1 December 2020", Some(1606780800000)),
        ("2020/12/01", Some(1606780800000)),
        ("12/01/2020", Some(1606780800000)),
        ("garbage", None),
        ("", None),
        ("1600000000000", None),
        ("20200", Some(575283254400000)),
        ("-000001-01-01T00:00:00Z", Some(-62198755200000)),
        ("+002020-01-01T00:00:00Z", Some(1577836800000)),
        ("2020-13-01", None),
        ("2020-02-30", Some(1583020800000)),
        ("2020-06-15T24:00:00Z", Some(1592265600000)),
        ("2020-06-15T25:00:00Z", None),
        ("0", Some(946684800000)),
        ("1", Some(978307200000)),
        ("99", Some(915148800000)),
        ("12", Some(1007164800000)),
        ("2020-1-5", Some(1578182400000)),
        ("  2020-06-15  ", Some(1592179200000)),
        ("2020-06-15T10:20:30.123+0200", Some(1592209230123)),
        ("Tue Dec 01 2020 10:00:00 GMT+0100", Some(1606813200000)),
        ("2020-06-15t10:20:30z", Some(1592216430000)),
        ("Mon, 15 Jun 2020 10:20:30 +0200", Some(1592209230000)),
        ("June 2020", Some(1590969600000)),
        ("2020 June 15", Some(1592179200000)),
        ("15 Jun 2020 10:20 UTC", Some(1592216400000)),
        ("2020-06-15T10:20:30.123-05:30", Some(1592236230123)),
        ("2020-6-15", Some(1592179200000)),
        ("2020-06-15Z", Some(1592179200000)),
        ("abc 2020", Some(1577836800000)),
        ("2020-06-15T10:20:30 GMT", None),
        ("1e3", None),
        ("null", None),
        ("true", None),
        ("2020-06-15T10:60:00Z", None),
        ("2020-06-15 10:20:30 UTC", Some(1592216430000)),
        ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
        ("1970", Some(0)),
        ("275760-09-13", Some(8640000000000000)),
        ("+275760-09-13T00:00:00.000Z", Some(8640000000000000)),
        ("+275760-09-13T00:00:00.001Z", None),
        ("December 17, 1995 03:24:00", Some(819170640000)),
        ("1995-12-17T03:24:00", Some(819170640000)),
        (
            "Sun Feb 01 1998 00:00:00 GMT+0000 (GMT)",
            Some(886291200000),
        ),
    ];

    #[test]
    fn reads_date_strings_as_node_does() {
        let wrong: Vec<String> = NODE
            .iter()
            .filter(|(s, want)| parse(s) != *want)
            .map(|(s, want)| format!("{s:?}: want {want:?}, got {:?}", parse(s)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
