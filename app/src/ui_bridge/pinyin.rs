//! Pinyin to characters for the on-screen keyboard: the table in `resources/pinyin/` (the 6763
//! hanzi of GB2312 by toneless syllable, most frequent first), and the input buffer that turns
//! typed letters into candidates one syllable at a time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const TABLE: &str = include_str!("../../../resources/pinyin/pinyin.txt");

/// Syllable → characters, most frequent first.
pub struct PinyinTable {
    syllables: BTreeMap<&'static str, Vec<char>>,
    longest: usize,
}

impl PinyinTable {
    /// The table embedded in the binary, parsed on first use (about 30 KB, under a millisecond).
    pub fn embedded() -> &'static PinyinTable {
        static TABLE_ONCE: OnceLock<PinyinTable> = OnceLock::new();
        TABLE_ONCE.get_or_init(|| PinyinTable::parse(TABLE))
    }

    fn parse(text: &'static str) -> PinyinTable {
        let mut syllables = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((syllable, chars)) = line.split_once(' ') {
                syllables.insert(syllable, chars.chars().collect());
            }
        }
        let longest = syllables.keys().map(|s| s.len()).max().unwrap_or(0);
        PinyinTable { syllables, longest }
    }

    pub fn is_syllable(&self, s: &str) -> bool {
        self.syllables.contains_key(s)
    }

    fn is_prefix(&self, s: &str) -> bool {
        self.syllables
            .range(s..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(s))
    }

    /// The first syllable of `input`: the longest complete syllable it starts with, or, when
    /// it starts with only part of one ("zh"), that part.
    pub fn first_syllable<'a>(&self, input: &'a str) -> &'a str {
        let max = self.longest.min(input.len());
        for end in (1..=max).rev() {
            let Some(head) = input.get(..end) else {
                continue;
            };
            // Greedy: "xian" is one syllable, as people type it; "xi'an" needs two choices.
            if self.is_syllable(head) {
                return head;
            }
        }
        // No complete syllable: the longest prefix of one.
        for end in (1..=max).rev() {
            if let Some(head) = input.get(..end)
                && self.is_prefix(head)
            {
                return head;
            }
        }
        input.get(..1).unwrap_or("")
    }

    /// Characters for the first syllable of `input`. A complete syllable gives its own
    /// characters; a partial one ("zh") gives the most frequent characters of every syllable
    /// it begins, taken in turn.
    pub fn candidates(&self, input: &str) -> Vec<char> {
        let head = self.first_syllable(input);
        if head.is_empty() {
            return Vec::new();
        }
        if let Some(chars) = self.syllables.get(head) {
            return chars.clone();
        }
        let lists: Vec<&Vec<char>> = self
            .syllables
            .range(head..)
            .take_while(|(k, _)| k.starts_with(head))
            .map(|(_, v)| v)
            .collect();
        let mut out = Vec::new();
        let longest = lists.iter().map(|l| l.len()).max().unwrap_or(0);
        for rank in 0..longest {
            for list in &lists {
                if let Some(c) = list.get(rank)
                    && !out.contains(c)
                {
                    out.push(*c);
                }
            }
        }
        out
    }
}

/// What the keyboard has typed but not yet committed, and the page of candidates shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinyinInput {
    buffer: String,
    page: usize,
    per_page: usize,
}

/// Candidates shown at a time in the candidate bar (fewer, larger ones in elder mode).
pub const PAGE: usize = 8;
pub const ELDER_PAGE: usize = 6;

impl Default for PinyinInput {
    fn default() -> Self {
        PinyinInput {
            buffer: String::new(),
            page: 0,
            per_page: PAGE,
        }
    }
}

impl PinyinInput {
    pub fn buffer(&self) -> &str {
        &self.buffer
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// How many candidates fit the bar.
    pub fn set_per_page(&mut self, per_page: usize) {
        if per_page > 0 && per_page != self.per_page {
            self.per_page = per_page;
            self.page = 0;
        }
    }

    pub fn clear(&mut self) {
        self.buffer.clear();
        self.page = 0;
    }

    /// Adds a typed letter (a–z; `v` stands for ü). Other characters are refused.
    pub fn push(&mut self, c: char) -> bool {
        let c = c.to_ascii_lowercase();
        if !c.is_ascii_lowercase() || self.buffer.len() >= 24 {
            return false;
        }
        self.buffer.push(c);
        self.page = 0;
        true
    }

    /// Removes the last letter; false when there was none.
    pub fn pop(&mut self) -> bool {
        self.page = 0;
        self.buffer.pop().is_some()
    }

    /// The candidates on the current page, and whether there are more after / before it.
    pub fn page(&self, table: &PinyinTable) -> (Vec<char>, bool, bool) {
        let all = table.candidates(&self.buffer);
        let start = (self.page * self.per_page).min(all.len());
        let end = (start + self.per_page).min(all.len());
        let shown = all
            .get(start..end)
            .map(<[char]>::to_vec)
            .unwrap_or_default();
        (shown, end < all.len(), self.page > 0)
    }

    pub fn next_page(&mut self, table: &PinyinTable) {
        let count = table.candidates(&self.buffer).len();
        if (self.page + 1) * self.per_page < count {
            self.page += 1;
        }
    }

    pub fn previous_page(&mut self) {
        self.page = self.page.saturating_sub(1);
    }

    /// Takes candidate `index` of the current page: returns the character and consumes the
    /// syllable it stands for, leaving the rest of the pinyin for the next character.
    pub fn choose(&mut self, index: usize, table: &PinyinTable) -> Option<char> {
        let (shown, _, _) = self.page(table);
        let c = *shown.get(index)?;
        let head_len = table.first_syllable(&self.buffer).len();
        self.buffer.drain(..head_len.min(self.buffer.len()));
        self.page = 0;
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_characters_come_first() {
        let t = PinyinTable::embedded();
        assert_eq!(t.candidates("zhang").first(), Some(&'张'));
        assert_eq!(t.candidates("wang").get(..3), Some(&['望', '往', '王'][..]));
        assert!(t.candidates("lv").contains(&'绿'));
        assert!(t.candidates("nve").contains(&'虐'));
        assert!(t.candidates("xiao").contains(&'晓'));
    }

    #[test]
    fn every_gb2312_hanzi_can_be_typed() {
        let t = PinyinTable::embedded();
        let chars: std::collections::BTreeSet<char> =
            t.syllables.values().flatten().copied().collect();
        assert_eq!(chars.len(), 6763);
        assert!(t.syllables.len() > 400);
    }

    #[test]
    fn the_first_syllable_is_taken_greedily_and_partial_ones_offer_their_family() {
        let t = PinyinTable::embedded();
        assert_eq!(t.first_syllable("wangxiaoming"), "wang");
        assert_eq!(t.first_syllable("xian"), "xian");
        assert_eq!(t.first_syllable("zh"), "zh");
        let zh = t.candidates("zh");
        assert!(zh.contains(&'中') && zh.contains(&'这') && zh.contains(&'张'));
        assert!(t.candidates("").is_empty());
    }

    #[test]
    fn choosing_consumes_one_syllable_at_a_time() {
        let t = PinyinTable::embedded();
        let mut input = PinyinInput::default();
        for c in "wangxiaoming".chars() {
            assert!(input.push(c));
        }
        assert!(!input.push('1'));
        let (shown, more, fewer) = input.page(t);
        assert_eq!(shown.len(), PAGE);
        assert!(more && !fewer);
        let wang = shown.iter().position(|c| *c == '王').unwrap();
        assert_eq!(input.choose(wang, t), Some('王'));
        assert_eq!(input.buffer(), "xiaoming");
        let (shown, _, _) = input.page(t);
        let xiao = shown.iter().position(|c| *c == '小').unwrap();
        assert_eq!(input.choose(xiao, t), Some('小'));
        let mut found = None;
        for _ in 0..5 {
            let (shown, _, _) = input.page(t);
            if let Some(i) = shown.iter().position(|c| *c == '明') {
                found = input.choose(i, t);
                break;
            }
            input.next_page(t);
        }
        assert_eq!(found, Some('明'));
        assert!(input.is_empty());
        assert_eq!(input.choose(0, t), None);
    }

    #[test]
    fn pages_move_both_ways() {
        let t = PinyinTable::embedded();
        let mut input = PinyinInput::default();
        for c in "ji".chars() {
            input.push(c);
        }
        input.set_per_page(ELDER_PAGE);
        let (first, _, _) = input.page(t);
        assert_eq!(first.len(), ELDER_PAGE);
        input.next_page(t);
        let (second, more, fewer) = input.page(t);
        assert!(fewer && more);
        assert_ne!(first, second);
        input.previous_page();
        assert_eq!(input.page(t).0, first);
        assert!(input.pop() && input.pop() && !input.pop());
    }
}
