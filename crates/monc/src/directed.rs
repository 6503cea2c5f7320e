//! `monc tell mon.X ...` and `monc ping mon.X`: requests for one monitor
//! (or each, with `mon.*`), printed as `ceph` prints them.

use std::io::Write;
use std::time::Duration;

use ceph_argparse::CommandTable;
use ceph_monclient::{MonClient, MonError, MonTarget};
use ceph_types::errno;
use serde_json::Value;

use crate::args::Format;
use crate::output;

/// The monitors `mon.NAME` or `mon.*` names, with their labels.
fn targets(client: &MonClient, spec: &str) -> Result<Vec<(String, MonTarget)>, (i32, String)> {
    let Some(id) = spec.strip_prefix("mon.") else {
        return Err((
            errno::EINVAL,
            format!("monc talks to monitors only: '{spec}' is not mon.NAME or mon.*"),
        ));
    };
    if id != "*" {
        return Ok(vec![(spec.to_string(), MonTarget::Name(id.to_string()))]);
    }
    let map = client
        .monmap()
        .ok_or((errno::ENOENT, "no MonMap yet".to_string()))?;
    Ok(map
        .ranks()
        .iter()
        .map(|n| (format!("mon.{n}"), MonTarget::Name(n.clone())))
        .collect())
}

/// `tell mon.X WORDS...`: the words are matched against the signatures that
/// monitor itself publishes.
pub async fn tell(
    client: &MonClient,
    spec: &str,
    words: &[String],
    format: Format,
    timeout: Option<Duration>,
) -> i32 {
    let targets = match targets(client, spec) {
        Ok(t) => t,
        Err((code, msg)) => {
            errln!("monc: {msg}");
            return code;
        }
    };
    let labelled = targets.len() > 1;
    let mut worst = 0;
    for (label, target) in targets {
        let code = tell_one(client, &label, target, words, format, timeout, labelled).await;
        if code != 0 {
            worst = code;
        }
    }
    worst
}

async fn tell_one(
    client: &MonClient,
    label: &str,
    target: MonTarget,
    words: &[String],
    format: Format,
    timeout: Option<Duration>,
    labelled: bool,
) -> i32 {
    let descs = client
        .tell(
            target.clone(),
            r#"{"prefix": "get_command_descriptions"}"#,
            Vec::new(),
            timeout,
        )
        .await;
    let table = match descs {
        Ok(r) if r.retval == 0 => match CommandTable::from_json(&r.outbl) {
            Ok(t) => t.with_style(crate::cli_style(client)),
            Err(e) => {
                errln!("Error EINVAL: {label}: {e}");
                return errno::EINVAL;
            }
        },
        Ok(r) => return no_descriptions(label, -r.retval, &r.outs),
        Err(e) => return no_descriptions(label, e.errno(), &e.to_string()),
    };
    let mut cmd = match table.words_to_json(words) {
        Ok(c) => c,
        Err(e) => {
            errln!("{e}\nError EINVAL: invalid command");
            return errno::EINVAL;
        }
    };
    if let Some(f) = format.wire_name() {
        cmd.entry("format")
            .or_insert_with(|| Value::String(f.into()));
    }
    let reply = match client
        .tell(target, Value::Object(cmd).to_string(), Vec::new(), timeout)
        .await
    {
        Ok(r) => r,
        Err(e) => return report(label, &e),
    };
    let mut out = std::io::stdout().lock();
    if labelled {
        let _ = write!(out, "{label}: ");
    } else if matches!(format, Format::Json | Format::JsonPretty) {
        // As for quorum commands: `ceph` puts a blank line before JSON.
        let _ = out.write_all(b"\n");
    }
    let _ = out.write_all(&reply.outbl);
    if labelled && !reply.outbl.ends_with(b"\n") {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
    output::status(reply.retval, &reply.outs);
    (-reply.retval).max(0)
}

/// `ping mon.X` / `ping mon.*`.
pub async fn ping(client: &MonClient, spec: &str, timeout: Option<Duration>) -> i32 {
    let targets = match targets(client, spec) {
        Ok(t) => t,
        Err((code, msg)) => {
            errln!("monc: {msg}");
            return code;
        }
    };
    let labelled = targets.len() > 1;
    for (label, target) in targets {
        match client.ping_monitor(target, timeout).await {
            Ok(pong) => {
                let mut out = std::io::stdout().lock();
                if labelled {
                    let _ = writeln!(out, "{label}");
                }
                let _ = writeln!(out, "{pong}");
            }
            Err(e) => {
                // `ceph` stops at the first failure with the Python
                // binding's exception text, exit code 1.
                tracing::debug!(target = label.as_str(), error = %e, "ping failed");
                errln!("{}", rados_error(e.errno(), "error calling ping_monitor"));
                return 1;
            }
        }
    }
    0
}

/// An error as the Python `rados` binding prints it: `[errno N] TEXT`,
/// with its class's description for the errors it names.
fn rados_error(code: i32, what: &str) -> String {
    let class = match code {
        1 => Some("RADOS permission error"),
        2 => Some("RADOS object not found"),
        4 => Some("RADOS interrupted or timeout"),
        5 => Some("RADOS I/O error"),
        13 => Some("RADOS permission denied"),
        16 => Some("RADOS object busy"),
        17 => Some("RADOS object exists"),
        22 => Some("RADOS invalid argument"),
        28 => Some("RADOS no space"),
        61 => Some("RADOS no data"),
        107 => Some("RADOS not connected"),
        108 => Some("RADOS connection was shutdown"),
        110 => Some("RADOS timed out"),
        _ => None,
    };
    match class {
        Some(c) => format!("[errno {code}] {c} ({what})"),
        None => format!("[errno {code}] {what}"),
    }
}

/// `ceph`'s words when the target's signatures cannot be had (it does not
/// exist, or does not answer); the cause goes to the debug log.
fn no_descriptions(label: &str, code: i32, why: &str) -> i32 {
    tracing::debug!(target = label, why, "no command descriptions");
    errln!(
        "Error {}: problem getting command descriptions from {label}",
        errno::name(code)
    );
    code
}

fn report(label: &str, e: &MonError) -> i32 {
    let code = e.errno();
    errln!("Error {}: {label}: {e}", errno::name(code));
    code
}
