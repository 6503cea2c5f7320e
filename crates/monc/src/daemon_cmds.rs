//! Commands for daemons other than the monitor quorum, printed as `ceph`
//! prints them: `tell osd.N|osd.*|mgr|mgr.NAME|mds.NAME|PGID ...`,
//! `pg PGID COMMAND`, manager-flagged commands sent straight to the active
//! manager, and `daemon NAME|PATH COMMAND` over the local admin socket.

use std::io::Write;
use std::time::Duration;

use ceph_argparse::{CliStyle, CommandTable};
use ceph_config::{ClientConfig, ConfigSources};
use ceph_daemonclient::{
    admin_socket_command, admin_socket_path, parse_pgid, CommandReply, DaemonClient,
    DaemonClientOptions, DaemonError, Target,
};
use ceph_monclient::MonClient;
use ceph_types::errno;
use serde_json::{Map, Value};

use crate::args::{Args, Format};
use crate::output;

/// The daemon client for this run, made on first use.
pub struct Daemons {
    client: Option<DaemonClient>,
    name: String,
}

impl Daemons {
    /// For the entity `args` authenticate as.
    pub fn new(args: &Args) -> Daemons {
        let name = match (&args.name, &args.id) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => format!("client.{id}"),
            (None, None) => "client.admin".into(),
        };
        Daemons { client: None, name }
    }

    fn get(&mut self, mon: &MonClient) -> &DaemonClient {
        let name = self.name.parse().unwrap_or_else(|_| {
            "client.admin"
                .parse()
                .expect("client.admin is an entity name")
        });
        self.client
            .get_or_insert_with(|| DaemonClient::new(mon.clone(), DaemonClientOptions::new(name)))
    }
}

/// True for a command `ceph` sends to the manager (its description has the
/// manager flag: the matcher added `"target": ["mon-mgr", ""]`).
pub fn is_mgr_command(cmd: &Map<String, Value>) -> bool {
    cmd.get("target")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
        .and_then(Value::as_str)
        == Some("mon-mgr")
}

/// Runs a manager-flagged command on the active manager, as `ceph`'s
/// `mgr_command` does; failures become the reply `ceph` would show.
pub async fn mgr_command(
    daemons: &mut Daemons,
    mon: &MonClient,
    text: String,
    inbl: Vec<u8>,
) -> Result<CommandReply, (i32, String)> {
    daemons
        .get(mon)
        .mgr_command(&text, inbl, None)
        .await
        .map_err(|e| (e.errno(), e.to_string()))
}

/// The words after `pg` name a PG: `ceph` sends the command to its primary.
pub fn is_pg_command(words: &[String]) -> bool {
    words.len() >= 3 && words[0] == "pg" && parse_pgid(&words[1]).is_some()
}

/// What to print for one target.
struct Answer {
    retval: i32,
    outs: String,
    outbl: Vec<u8>,
}

fn failed(code: i32, outs: String) -> Answer {
    Answer {
        retval: -code.abs(),
        outs,
        outbl: Vec::new(),
    }
}

/// `ceph`'s label for a target in messages and wildcard prefixes.
fn label(t: &Target) -> String {
    match t {
        Target::Pg(pg) => format!("pg.{pg}"),
        Target::Mgr(None) => "mgr.".into(),
        t => t.to_string(),
    }
}

/// One target: its descriptions, the words matched against them, the
/// command sent.
async fn ask(
    client: &DaemonClient,
    target: &Target,
    words: &[String],
    format: Format,
    inbl: &[u8],
    style: CliStyle,
) -> Answer {
    let where_ = label(target);
    let descs = client
        .tell(
            target,
            r#"{"prefix": "get_command_descriptions"}"#,
            Vec::new(),
            None,
        )
        .await;
    let table = match descs {
        Ok(r) if r.retval == 0 => match CommandTable::from_json(&r.outbl) {
            Ok(t) => t.with_style(style),
            Err(e) => return failed(errno::EINVAL, format!("{where_}: {e}")),
        },
        Ok(r) => {
            tracing::debug!(
                target = where_,
                retval = r.retval,
                outs = r.outs,
                "no descriptions"
            );
            return failed(
                r.retval,
                format!("problem getting command descriptions from {where_}"),
            );
        }
        Err(e) => {
            tracing::debug!(target = where_, error = %e, "no descriptions");
            return failed(
                e.errno(),
                format!("problem getting command descriptions from {where_}"),
            );
        }
    };
    let mut cmd = match table.words_to_json(words) {
        Ok(c) => c,
        Err(e) => {
            errln!("{e}");
            return failed(errno::EINVAL, "invalid command".into());
        }
    };
    if let Some(f) = format.wire_name() {
        cmd.insert("format".into(), Value::String(f.into()));
    }
    let text = Value::Object(cmd).to_string();
    match client.tell(target, &text, inbl.to_vec(), None).await {
        Ok(r) => Answer {
            retval: r.retval,
            outs: r.outs,
            outbl: r.outbl,
        },
        // As librados words a target the OSD map rules out.
        Err(e @ DaemonError::Down(_)) if matches!(target, Target::Osd(_) | Target::Pg(_)) => {
            failed(e.errno(), "osd down".into())
        }
        Err(e @ DaemonError::NoSuchDaemon(_)) if matches!(target, Target::Osd(_)) => {
            failed(e.errno(), "osd dne".into())
        }
        Err(e) => failed(e.errno(), e.to_string()),
    }
}

fn read_input(args: &Args) -> Result<Vec<u8>, i32> {
    match &args.in_file {
        Some(p) => std::fs::read(p).map_err(|e| {
            errln!("Can't open input file {}: {e}", p.display());
            1
        }),
        None => Ok(Vec::new()),
    }
}

/// `tell TARGET WORDS...` for every target but the monitors, and
/// `pg PGID WORDS...`; prints as `ceph` does and returns the exit code.
pub async fn tell(
    daemons: &mut Daemons,
    mon: &MonClient,
    args: &Args,
    spec: &str,
    words: &[String],
    format: Format,
) -> i32 {
    let target: Target = match spec.parse() {
        Ok(t) => t,
        Err(e) => {
            errln!("error handling command target: {e}");
            return 1;
        }
    };
    if words.is_empty() {
        let me = std::env::args().next().unwrap_or_else(|| "monc".into());
        errln!(
            "\"{me} tell\" requires additional arguments. Try \"{me} tell <name> <command> \
             [options...]\" instead."
        );
        return errno::EINVAL;
    }
    let style = crate::cli_style(mon);
    run_targets(daemons.get(mon), args, &target, words, format, style).await
}

/// `pg PGID WORDS...`: the whole words are matched against the primary
/// OSD's descriptions, the command goes to the PG's primary.
pub async fn pg(
    daemons: &mut Daemons,
    mon: &MonClient,
    args: &Args,
    words: &[String],
    format: Format,
) -> i32 {
    let Some(pg) = parse_pgid(&words[1]) else {
        return errno::EINVAL;
    };
    let style = crate::cli_style(mon);
    run_targets(
        daemons.get(mon),
        args,
        &Target::Pg(pg),
        words,
        format,
        style,
    )
    .await
}

async fn run_targets(
    client: &DaemonClient,
    args: &Args,
    target: &Target,
    words: &[String],
    format: Format,
    style: CliStyle,
) -> i32 {
    let inbl = match read_input(args) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let targets = match client.expand(target, None).await {
        Ok(t) => t,
        Err(e) => {
            errln!("Error {}: {e}", errno::name(e.errno()));
            return e.errno();
        }
    };
    // All at once, printed in order: a slow daemon does not hold up the
    // questions to the others.
    let jobs: Vec<_> = targets
        .iter()
        .map(|t| {
            let (client, t, words, inbl) =
                (client.clone(), t.clone(), words.to_vec(), inbl.clone());
            tokio::spawn(async move { ask(&client, &t, &words, format, &inbl, style).await })
        })
        .collect();
    let labelled = targets.len() > 1 && args.out_file.is_none();
    let mut final_code = 0;
    for (t, job) in targets.iter().zip(jobs) {
        let a = job
            .await
            .unwrap_or_else(|e| failed(errno::EIO, format!("task failed: {e}")));
        let code = print_answer(args, format, t, labelled, &a);
        if code != 0 {
            final_code = code;
        }
    }
    final_code
}

fn print_answer(args: &Args, format: Format, t: &Target, labelled: bool, a: &Answer) -> i32 {
    let prefix = if labelled {
        format!("{}: ", label(t))
    } else {
        String::new()
    };
    if let Some(path) = &args.out_file {
        if path.as_os_str() == "-" {
            let _ = std::io::stdout().write_all(&a.outbl);
        } else if let Err(e) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(&a.outbl))
        {
            errln!("monc: cannot write {}: {e}", path.display());
            return errno::EIO;
        }
    } else {
        let mut out = std::io::stdout().lock();
        if matches!(format, Format::Json | Format::JsonPretty) {
            let _ = out.write_all(b"\n");
        }
        let body: &[u8] = if labelled {
            a.outbl.trim_ascii_end()
        } else {
            &a.outbl
        };
        if !body.is_empty() {
            let _ = out.write_all(prefix.as_bytes());
            let _ = out.write_all(body);
            if labelled {
                let _ = out.write_all(b"\n");
            }
        }
        let _ = out.flush();
    }
    if a.retval < 0 {
        output::status(a.retval, &a.outs);
        -a.retval
    } else {
        if !a.outs.is_empty() {
            errln!("{prefix}{}", a.outs);
        }
        0
    }
}

/// `daemon NAME|PATH WORDS...`: the admin socket of a daemon on this host,
/// its path from the configuration as Ceph resolves it for that daemon's
/// name. Needs no monitors.
pub async fn daemon(args: &Args) -> i32 {
    let words = &args.words;
    if words.len() < 3 {
        errln!("daemon requires at least 3 arguments");
        return errno::EINVAL;
    }
    let path = if words[1].contains('/') {
        std::path::PathBuf::from(&words[1])
    } else {
        match socket_for(args, &words[1]) {
            Ok(p) => p,
            Err(e) => {
                errln!("Can't get admin socket path: {e}");
                return errno::EINVAL;
            }
        }
    };
    admin_socket_words(args, &path, &words[2..]).await
}

/// Where `--admin-daemon PATH` (`ceph`'s other spelling of `daemon PATH`)
/// stands in `words`, with or without `=`: the path and the words less
/// the option; `None` without it (or with no path after it).
pub fn admin_daemon_option(words: &[String]) -> Option<(String, Vec<String>)> {
    let at = words
        .iter()
        .position(|w| w == "--admin-daemon" || w.starts_with("--admin-daemon="))?;
    let mut rest = words.to_vec();
    let opt = rest.remove(at);
    let path = match opt.strip_prefix("--admin-daemon=") {
        Some(p) => p.to_string(),
        None if at < rest.len() => rest.remove(at),
        None => return None,
    };
    Some((path, rest))
}

/// `--admin-daemon PATH WORDS...`: as `daemon PATH WORDS...`.
pub async fn admin_daemon(args: &Args, path: &str, words: &[String]) -> i32 {
    admin_socket_words(args, std::path::Path::new(path), words).await
}

/// WORDS matched against the admin socket's own command descriptions, sent,
/// and the answer printed, as `ceph` does for `daemon` and `--admin-daemon`.
async fn admin_socket_words(args: &Args, path: &std::path::Path, words: &[String]) -> i32 {
    let path = path.to_path_buf();
    let limit = args.connect_timeout.unwrap_or(Duration::from_secs(300));
    let descs =
        match admin_socket_command(&path, r#"{"prefix": "get_command_descriptions"}"#, limit).await
        {
            Ok(d) => d,
            Err(e) => {
                errln!(
                    "admin_socket: exception getting command descriptions: {}",
                    python_exception(&e)
                );
                return errno::EINVAL;
            }
        };
    let table = match CommandTable::from_json(&descs) {
        Ok(t) => t,
        Err(e) => {
            errln!("admin_socket: {e}");
            return errno::EINVAL;
        }
    };
    let mut cmd = match table.words_to_json(words) {
        Ok(c) => c,
        Err(_) => {
            // Usage lines as the daemon's release prints them (no monitors
            // here to ask): its version, only now that they are needed.
            let style = daemon_style(&path, limit).await;
            let e = table
                .with_style(style)
                .words_to_json(words)
                .expect_err("the same words fail again");
            errln!("{e}");
            errln!("admin_socket: invalid command");
            return errno::EINVAL;
        }
    };
    if let Some(f) = args.format.wire_name() {
        cmd.insert("format".into(), Value::String(f.into()));
    }
    match admin_socket_command(&path, &Value::Object(cmd).to_string(), limit).await {
        Ok(out) => {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&out);
            let _ = o.flush();
            0
        }
        Err(e) => {
            errln!("admin_socket: exception: {}", python_exception(&e));
            errno::EINVAL
        }
    }
}

/// The usage-line style of the daemon's release, from its `version`.
async fn daemon_style(path: &std::path::Path, limit: Duration) -> CliStyle {
    let out = admin_socket_command(path, r#"{"prefix": "version"}"#, limit)
        .await
        .unwrap_or_default();
    let major = serde_json::from_slice::<Value>(&out)
        .ok()
        .and_then(|v| {
            v.get("version")?
                .as_str()?
                .split('.')
                .next()?
                .parse::<u8>()
                .ok()
        })
        .unwrap_or(0);
    CliStyle::for_release(major)
}

/// An I/O error as Python words it: `[Errno 2] No such file or directory`.
fn python_exception(e: &DaemonError) -> String {
    match e {
        DaemonError::AdminSocket(_, io) => match io.raw_os_error() {
            Some(code) => format!("[Errno {code}] {}", strerror(code)),
            None => io.to_string(),
        },
        e => e.to_string(),
    }
}

fn strerror(code: i32) -> String {
    let s = std::io::Error::from_raw_os_error(code).to_string();
    // Rust appends " (os error N)".
    match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The admin socket of daemon `name` per the configuration (`-c`,
/// `--cluster`, options) this run was given.
fn socket_for(args: &Args, name: &str) -> Result<std::path::PathBuf, String> {
    let path_str = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let load = |name: &str| {
        ClientConfig::load(ConfigSources {
            conf_path: path_str(&args.conf),
            cluster: args.cluster.clone(),
            name: Some(name.to_string()),
            id: None,
            keyring: None,
            mon_host: args.mon_host.clone(),
            overrides: args.overrides.clone(),
            env: None,
        })
        .map_err(|e| e.to_string())
    };
    let path = admin_socket_path(&load(name)?);
    if is_socket(&path) {
        return Ok(path);
    }
    // `ceph` tries NAME.PID as the name and that process's socket too.
    if let Some((base, pid)) = name.rsplit_once('.') {
        if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && base.contains('.') {
            let alt = admin_socket_path(&load(base)?);
            let with_pid = alt
                .to_string_lossy()
                .replace(&std::process::id().to_string(), pid);
            return Ok(with_pid.into());
        }
    }
    Ok(path)
}

fn is_socket(p: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

#[cfg(test)]
mod admin_daemon_tests {
    use super::admin_daemon_option;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn the_option_anywhere_with_or_without_equals() {
        assert_eq!(
            admin_daemon_option(&w("--admin-daemon /run/x.asok config get a")),
            Some(("/run/x.asok".into(), w("config get a")))
        );
        assert_eq!(
            admin_daemon_option(&w("version --admin-daemon=/x.asok")),
            Some(("/x.asok".into(), w("version")))
        );
        assert_eq!(admin_daemon_option(&w("version --admin-daemon")), None);
        assert_eq!(admin_daemon_option(&w("daemon osd.0 version")), None);
    }
}
