//! Temporary credentials that expire during a download (`--only credentials`): ossget with no
//! keys in its environment takes the default chain, which finds a `RamRoleArn` profile in
//! `~/.aliyun/config.json` and assumes the role through the emulator's STS (`--sts`). The
//! emulator issues credentials that live 20 s (`--credential-lifetime`) and its proxy
//! throttles the download to about 90 s, so the credentials must be refreshed ahead of
//! expiry, again and again, while parts keep downloading; a SIGKILL halfway and a resume that
//! assumes the role anew must still give the exact file. `--quick` shortens both (6 s
//! credentials, ~25 s).

use std::path::Path;

use super::Ctx;
use super::ossget::{Kill, Outcome, Run};
use super::report::Row;
use super::verify;
use super::{ACCESS_KEY_ID, ACCESS_KEY_SECRET};
use crate::emulator::Emulator;
use crate::size::{MIB, human};

/// The role the profile assumes.
const ROLE_ARN: &str = "acs:ram::1234567890123456:role/e2e-reader";

/// Runs `sts-refresh` or `sts-refresh-kill`.
pub fn run(ctx: &Ctx, name: &str, row: &mut Row) -> Result<(), String> {
    let (lifetime, seconds, size) = if ctx.opts.quick {
        (6, 25, 12 * MIB)
    } else {
        (20, 90, 45 * MIB)
    };
    let rate = size / seconds;
    let key = format!("{name}.bin");
    let object = ctx.object(&key, size);
    let dir = ctx.dir(name)?;
    let dest = dir.join(&key);
    let flags: Vec<String> = [
        "--sts",
        "--credential-lifetime",
        &format!("{lifetime}s"),
        "--throttle",
        &rate.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let emu = ctx.start_emulator(std::slice::from_ref(&object), &flags)?;
    write_profile(&dir, emu.endpoint())?;
    let ossget = ctx.ossget_on(&emu);
    // Parts of 1 MiB: a request every couple of seconds, each signed with what the cache
    // holds then (the refresh runs beside them).
    let mut run = Run::new(&key, &dest).args(["--part-size", "1MiB"]);
    run.env = vec![
        ("OSS_ACCESS_KEY_ID".into(), None),
        ("OSS_ACCESS_KEY_SECRET".into(), None),
        ("HOME".into(), Some(dir.display().to_string())),
        // The chain must not look for a metadata service (nor anything of the machine's).
        (
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED".into(),
            Some("true".into()),
        ),
    ];
    row.rounds = 1;
    let mut notes = vec![format!(
        "{lifetime} s credentials, {} at {}/s",
        human(size),
        human(rate)
    )];
    if name == "sts-refresh-kill" {
        let mut first = run.clone();
        first.kill = Kill::AfterWriting(size / 2);
        let out = ossget.run(&first)?;
        if !out.killed {
            return Err(format!("not killed halfway: {}", out.describe()));
        }
        let at_kill = emu.settled_stats()?.credentials_issued;
        let resumed = ossget.run(&run)?;
        let stats = emu.settled_stats()?;
        let issued = stats.credentials_issued;
        row.fetched = stats.relayed;
        finished(&emu, &key, &dest, &resumed, &ossget.shell_line(&run))?;
        if issued <= at_kill {
            return Err(format!(
                "the resumed run obtained no credentials ({issued} issued, {at_kill} at the kill)"
            ));
        }
        notes.push(format!(
            "killed after {:.0} s ({at_kill} issued), resumed in {:.0} s ({} more issued)",
            out.elapsed.as_secs_f64(),
            resumed.elapsed.as_secs_f64(),
            issued - at_kill
        ));
        check_refreshes(issued, 4, &mut notes)?;
    } else {
        let out = ossget.run(&run)?;
        let stats = emu.settled_stats()?;
        finished(&emu, &key, &dest, &out, &ossget.shell_line(&run))?;
        notes.push(format!("done in {:.0} s", out.elapsed.as_secs_f64()));
        let refused = stats.error("SecurityTokenExpired") + stats.error("InvalidAccessKeyId");
        notes.push(format!("{refused} request(s) refused as expired"));
        // At least four refreshes: the first assumption plus four.
        check_refreshes(stats.credentials_issued, 5, &mut notes)?;
        row.fetched = stats.relayed;
    }
    row.passed = 1;
    for n in notes {
        row.note(n);
    }
    Ok(())
}

/// The run completed and left exactly the object.
fn finished(
    emu: &Emulator,
    key: &str,
    dest: &Path,
    out: &Outcome,
    repro: &str,
) -> Result<(), String> {
    if !out.done() {
        return Err(format!("did not complete ({}): `{repro}`", out.describe()));
    }
    verify::finished_exactly(dest, &emu.head(key)?)
}

fn check_refreshes(issued: u64, at_least: u64, notes: &mut Vec<String>) -> Result<(), String> {
    notes.push(format!("{issued} credentials issued"));
    if issued < at_least {
        return Err(format!(
            "{issued} credentials issued: expected at least {at_least} (the first and the refreshes)"
        ));
    }
    Ok(())
}

/// `~/.aliyun/config.json` with one `RamRoleArn` profile, signed by the e2e key pair, at
/// the emulator's STS.
fn write_profile(home: &Path, endpoint: &str) -> Result<(), String> {
    let dir = home.join(".aliyun");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let config = serde_json::json!({
        "current": "e2e",
        "profiles": [{
            "name": "e2e",
            "mode": "RamRoleArn",
            "access_key_id": ACCESS_KEY_ID,
            "access_key_secret": ACCESS_KEY_SECRET,
            "ram_role_arn": ROLE_ARN,
            "ram_session_name": "e2e",
            "sts_endpoint": endpoint,
        }],
    });
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}
