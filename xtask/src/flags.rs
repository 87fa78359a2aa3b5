//! The `--name value` / `--name=value` flags of xtask's commands (bench, e2e, fuzz), read
//! one at a time, so each command's parser is only its `match` over names.

/// Command-line arguments walked as flags: a flag's value is the text after `=` in
/// `--name=value`, or else the next argument.
pub struct Flags<'a> {
    rest: std::slice::Iter<'a, String>,
    inline: Option<&'a str>,
}

impl<'a> Flags<'a> {
    /// Flags from `args` (the arguments after the command's name).
    pub fn new(args: &'a [String]) -> Self {
        Flags {
            rest: args.iter(),
            inline: None,
        }
    }

    /// The next flag's name (`--name` of `--name=value`), or `None` after the last.
    pub fn next_flag(&mut self) -> Option<&'a str> {
        let arg = self.rest.next()?;
        self.inline = None;
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                self.inline = Some(value);
                Some(flag)
            }
            _ => Some(arg),
        }
    }

    /// The current flag's value: its `=value`, else the next argument; `None` when neither.
    pub fn value(&mut self) -> Option<String> {
        self.inline
            .take()
            .or_else(|| self.rest.next().map(String::as_str))
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_inline_or_from_the_next_argument() {
        let args: Vec<String> = ["--a=1", "--b", "2", "-x", "--c=", "--d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut flags = Flags::new(&args);
        assert_eq!(flags.next_flag(), Some("--a"));
        assert_eq!(flags.value().as_deref(), Some("1"));
        assert_eq!(flags.next_flag(), Some("--b"));
        assert_eq!(flags.value().as_deref(), Some("2"));
        assert_eq!(flags.next_flag(), Some("-x"));
        assert_eq!(flags.next_flag(), Some("--c"));
        assert_eq!(flags.value().as_deref(), Some(""));
        assert_eq!(flags.next_flag(), Some("--d"));
        assert_eq!(flags.value(), None);
        assert_eq!(flags.next_flag(), None);
    }
}
