//! `--on-complete CMD`: a program run once the file is complete, with the file's path as its
//! last argument (aria2c's `--on-download-complete`). Never through a shell: CMD is split
//! into words the way a shell splits them (spaces; single quotes keep everything; double
//! quotes and backslashes escape), with no expansion of any kind. For a shell, write
//! `sh -c 'tar -xf "$1" -C out' sh`.

use std::path::Path;
use std::process::Command;

/// CMD split into words; the error says what is wrong.
pub fn split(cmd: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unclosed("'")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unclosed("\"")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unclosed("\"")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(
            "--on-complete is empty; give a program to run, e.g. --on-complete 'sha256sum'"
                .to_owned(),
        );
    }
    Ok(words)
}

fn unclosed(quote: &str) -> String {
    format!(
        "--on-complete has an unclosed {quote}; close it (CMD is split like a shell's words, without a shell)"
    )
}

/// Runs the hook for `path` and waits for it; what happened, for the summary.
pub fn run(words: &[String], path: &Path, source: &str) -> Result<(), String> {
    let Some((program, args)) = words.split_first() else {
        return Err("--on-complete is empty".to_owned());
    };
    let status = Command::new(program)
        .args(args)
        .arg(path)
        .env("OSSGET_SOURCE", source)
        .status()
        .map_err(|e| format!("--on-complete: cannot run `{program}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("--on-complete: `{program}` exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_like_a_shell_without_one() {
        assert_eq!(split("sha256sum").unwrap(), ["sha256sum"]);
        assert_eq!(
            split(r#"sh -c 'echo "$1" done' sh"#).unwrap(),
            ["sh", "-c", r#"echo "$1" done"#, "sh"]
        );
        assert_eq!(
            split(r#"a "b c" d\ e ''"#).unwrap(),
            ["a", "b c", "d e", ""]
        );
        assert_eq!(split(r#""a\"b\n""#).unwrap(), [r#"a"b\n"#]);
        assert!(split("a 'b").unwrap_err().contains("unclosed '"));
        assert!(split("  ").unwrap_err().contains("empty"));
    }
}
