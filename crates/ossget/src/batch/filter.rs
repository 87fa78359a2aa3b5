//! `--include` / `--exclude` with ossutil's semantics: each rule is a glob matched against
//! the object's file name (the key after its last `/`); the rules apply in the order given
//! on the command line — the first decides (an include keeps what matches, an exclude keeps
//! what does not), then each later include adds what it matches and each later exclude
//! removes what it matches. So `--exclude '*' --include '*.jpg'` keeps only `.jpg` files,
//! and `--include '*.log' --exclude 'debug*'` keeps logs except `debug*`.
//!
//! Globs: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`, `[^a-z]` (or
//! `[!a-z]`) one character of (not of) a class, `\` takes the next character literally.

use clap::ArgMatches;

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    include: bool,
    glob: Vec<char>,
}

/// The rules, in command-line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules(Vec<Rule>);

impl Rules {
    /// The rules from `--include` and `--exclude`, interleaved as given (clap keeps each
    /// value's position on the command line).
    pub fn from_matches(matches: &ArgMatches) -> Result<Self, String> {
        let mut rules: Vec<(usize, Rule)> = Vec::new();
        for (id, include) in [("include", true), ("exclude", false)] {
            let (Some(values), Some(indices)) =
                (matches.get_many::<String>(id), matches.indices_of(id))
            else {
                continue;
            };
            for (glob, at) in values.zip(indices) {
                rules.push((at, Rule::new(glob, include)?));
            }
        }
        rules.sort_by_key(|(at, _)| *at);
        Ok(Self(rules.into_iter().map(|(_, r)| r).collect()))
    }

    /// Rules from `(include, glob)` pairs in order (tests).
    #[cfg(test)]
    fn of(rules: &[(bool, &str)]) -> Result<Self, String> {
        rules
            .iter()
            .map(|(include, glob)| Rule::new(glob, *include))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether there are no rules (everything is kept).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the object `key` is kept.
    pub fn keeps(&self, key: &str) -> bool {
        let name: Vec<char> = key.rsplit('/').next().unwrap_or(key).chars().collect();
        let mut rules = self.0.iter();
        let Some(first) = rules.next() else {
            return true;
        };
        let mut keep = first.matches(&name) == first.include;
        for rule in rules {
            if rule.include {
                keep = keep || rule.matches(&name);
            } else {
                keep = keep && !rule.matches(&name);
            }
        }
        keep
    }
}

impl Rule {
    fn new(glob: &str, include: bool) -> Result<Self, String> {
        let flag = if include { "--include" } else { "--exclude" };
        if glob.contains('/') {
            return Err(format!(
                "{flag} `{glob}`: patterns match the file name (the key after its last /), so they cannot contain /; use the prefix in the source URL to pick a directory"
            ));
        }
        let glob: Vec<char> = glob.chars().collect();
        // A malformed class would never match: refuse it instead of skipping everything.
        check(&glob)
            .map_err(|problem| format!("{flag} `{}`: {problem}", String::from_iter(&glob)))?;
        Ok(Self { include, glob })
    }

    fn matches(&self, name: &[char]) -> bool {
        glob_match(&self.glob, name)
    }
}

fn check(glob: &[char]) -> Result<(), String> {
    let mut i = 0;
    while i < glob.len() {
        match glob[i] {
            '\\' if i + 1 == glob.len() => return Err("it ends with a lone \\".into()),
            '\\' => i += 2,
            '[' => {
                let end = class_end(glob, i)
                    .ok_or_else(|| "a [ class is not closed with ]".to_owned())?;
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index of the `]` closing the class that starts at `start`.
fn class_end(glob: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if matches!(glob.get(i), Some('^' | '!')) {
        i += 1;
    }
    // A `]` right after the opening (or its negation) is a member.
    if glob.get(i) == Some(&']') {
        i += 1;
    }
    while i < glob.len() {
        match glob[i] {
            '\\' => i += 2,
            ']' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether `c` is in the class `glob[start..=end]` (`[...]`).
fn class_matches(glob: &[char], start: usize, end: usize, c: char) -> bool {
    let mut i = start + 1;
    let negated = matches!(glob.get(i), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    while i < end {
        let mut lo = glob[i];
        if lo == '\\' && i + 1 < end {
            i += 1;
            lo = glob[i];
        } else if lo == ']' && !first {
            break;
        }
        first = false;
        let mut hi = lo;
        if glob.get(i + 1) == Some(&'-') && i + 2 < end {
            hi = glob[i + 2];
            if hi == '\\' && i + 3 < end {
                hi = glob[i + 3];
                i += 1;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            found = true;
        }
        i += 1;
    }
    found != negated
}

/// Glob matching with backtracking on the last `*` (linear in practice).
fn glob_match(glob: &[char], name: &[char]) -> bool {
    let (mut g, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if g < glob.len() {
            match glob[g] {
                '*' => {
                    star = Some((g, n));
                    g += 1;
                    continue;
                }
                '?' => {
                    g += 1;
                    n += 1;
                    continue;
                }
                '[' => {
                    if let Some(end) = class_end(glob, g)
                        && class_matches(glob, g, end, name[n])
                    {
                        g = end + 1;
                        n += 1;
                        continue;
                    }
                }
                '\\' if g + 1 < glob.len() && glob[g + 1] == name[n] => {
                    g += 2;
                    n += 1;
                    continue;
                }
                c if c != '\\' && c == name[n] => {
                    g += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sg, sn)) => {
                g = sg + 1;
                n = sn + 1;
                star = Some((sg, sn + 1));
            }
            None => return false,
        }
    }
    glob[g..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, name: &str) -> bool {
        let g: Vec<char> = glob.chars().collect();
        let n: Vec<char> = name.chars().collect();
        glob_match(&g, &n)
    }

    #[test]
    fn globs() {
        assert!(m("*.jpg", "a.jpg"));
        assert!(m("*.jpg", ".jpg"));
        assert!(!m("*.jpg", "a.jpeg"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("?.txt", "1.txt") && !m("?.txt", "12.txt"));
        assert!(m("[a-c]x", "bx") && !m("[a-c]x", "dx"));
        assert!(m("[^a-c]x", "dx") && !m("[!a-c]x", "ax"));
        assert!(m("[]]", "]") && m("[\\-]", "-"));
        assert!(m("\\*", "*") && !m("\\*", "a"));
        assert!(m("*", "") && m("文件*", "文件1"));
        assert!(m("**x", "abx"));
    }

    #[test]
    fn rules_apply_in_order_like_ossutil() {
        let jpg_only = Rules::of(&[(false, "*"), (true, "*.jpg")]).unwrap();
        assert!(jpg_only.keeps("d/a.jpg") && !jpg_only.keeps("d/a.png"));
        let logs = Rules::of(&[(true, "*.log"), (false, "debug*")]).unwrap();
        assert!(logs.keeps("x/app.log"));
        assert!(!logs.keeps("x/debug.log") && !logs.keeps("x/app.txt"));
        let not_tmp = Rules::of(&[(false, "*.tmp")]).unwrap();
        assert!(not_tmp.keeps("a/b.txt") && !not_tmp.keeps("a/b.tmp"));
        // The file name only: a directory's name does not match.
        let only = Rules::of(&[(true, "data*")]).unwrap();
        assert!(!only.keeps("data/x.bin") && only.keeps("x/data.bin"));
        assert!(Rules::default().keeps("anything"));
    }

    #[test]
    fn bad_globs_are_usage_errors() {
        assert!(
            Rules::of(&[(true, "[abc")])
                .unwrap_err()
                .contains("not closed")
        );
        assert!(
            Rules::of(&[(true, "dir/*.jpg")])
                .unwrap_err()
                .contains("cannot contain /")
        );
        assert!(Rules::of(&[(false, "x\\")]).unwrap_err().contains("lone"));
    }
}
