//! A child process that announces its address as its first stdout line, `listening on URL`
//! (the standalone `oss-emulator`), and is killed (by its own pid, via `Child::kill`) when
//! the handle drops, whatever path the task takes. The demo and e2e both start one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running child that said where it listens.
pub struct Listening {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Listening {
    /// Starts `cmd` (stdin null, stdout piped, stderr inherited) and waits (up to a minute)
    /// for its `listening on URL` line.
    pub fn start(mut cmd: Command) -> Result<Self, String> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e}",
                    Path::new(cmd.get_program()).display()
                )
            })?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // Owned before the wait, so an error below still kills the child.
        let mut listening = Self {
            child,
            endpoint: String::new(),
            addr: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "the emulator did not say where it listens within 60 s".to_string())?;
        let endpoint = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the emulator: {line:?}"))?;
        listening.addr = endpoint
            .strip_prefix("http://")
            .unwrap_or(endpoint)
            .to_string();
        listening.endpoint = endpoint.to_string();
        Ok(listening)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
