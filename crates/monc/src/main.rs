//! `monc`: monitor commands in the `ceph` CLI's words and flags, over a
//! native msgr2 + CephX client.

// One ioctl asks the terminal its width (output.rs); nothing else is unsafe.
#![deny(unsafe_code)]

#[macro_use]
mod stdio;

mod args;
mod cache;
mod complete;
mod daemon_cmds;
mod decode;
mod directed;
mod docs;
mod osdmaptool;
mod output;
mod watch;

use std::process::ExitCode;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

use ceph_argparse::{CliStyle, CommandTable, MatchError};
use ceph_config::ConfigSources;
use ceph_monclient::{CommandReply, MonClient, MonError};
use ceph_types::errno;
use serde_json::{Map, Value};

use args::{Args, Format};

/// How long `-h` waits for the cluster before giving up on its commands,
/// as `ceph -h` does.
const HELP_CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// How long to wait for the MgrMap's epoch (the command-description
/// cache's key): a monitor answers at once, from memory.
const MGRMAP_EPOCH_LIMIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    // Code still printing with `println!` must not panic on a closed pipe.
    stdio::exit_quietly_on_closed_pipe(0);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // The shell's completion: the cache file only, before anything else.
    if argv.first().map(String::as_str) == Some(complete::FLAG) {
        return ExitCode::from(complete::run(&argv[1..]).clamp(0, 255) as u8);
    }
    // `decode` works on files and needs no cluster, config or key.
    if argv.first().map(String::as_str) == Some("decode") {
        return ExitCode::from(decode::run(&argv).clamp(0, 255) as u8);
    }
    if argv.first().map(String::as_str) == Some("osdmaptool") {
        return ExitCode::from(osdmaptool::run(&argv).clamp(0, 255) as u8);
    }
    let env_args = match ceph_config::ceph_args_from_env() {
        Ok(a) => a,
        Err(e) => return fail(errno::EINVAL, &format!("CEPH_ARGS: {e}")),
    };
    let args = match Args::parse(env_args, argv) {
        Ok(a) => a,
        Err(e) => return fail(errno::EINVAL, &e.to_string()),
    };
    if args.version {
        // `ceph --version | true` fails (exit 1): so does this.
        outln!("monc {}", env!("CARGO_PKG_VERSION"));
        return if stdio::stdout_broken() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    if args.help {
        // As `ceph -h`: the general usage, then the cluster's commands.
        outln!("{}", docs::usage_text());
    }
    init_tracing(args.verbose);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(errno::EIO, &format!("cannot start the runtime: {e}")),
    };
    let code = rt.block_on(run(args));
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn init_tracing(verbose: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if verbose { "debug" } else { "error" })
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// How the `ceph` CLI of the cluster's release prints usage lines and
/// help: the release every monitor runs at least, from the MonMap
/// (`min_mon_release`, else the newest release among its persistent
/// features).
pub(crate) fn cli_style(client: &MonClient) -> CliStyle {
    let release = client.monmap().map_or(0, |m| {
        if m.min_mon_release > 0 {
            m.min_mon_release
        } else {
            m.persistent_features.infer_release()
        }
    });
    CliStyle::for_release(release)
}

fn fail(code: i32, msg: &str) -> ExitCode {
    errln!("monc: {msg}");
    ExitCode::from(code.clamp(1, 255) as u8)
}

/// Everything before the first command: configuration, key, session (the
/// library's builder reads them as `ceph` does).
async fn connect(args: &Args) -> Result<MonClient, (i32, String)> {
    let path_str = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let mut builder = MonClient::builder().sources(ConfigSources {
        conf_path: path_str(&args.conf),
        cluster: args.cluster.clone(),
        name: args.name.clone(),
        id: args.id.clone(),
        keyring: path_str(&args.keyring),
        mon_host: args.mon_host.clone(),
        overrides: args.overrides.clone(),
        env: None,
    });
    if let Some(limit) = args.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    let mut opts = builder.options().map_err(|e| {
        let msg = match &e {
            // The configuration's own words, as before the library read it.
            MonError::Configuration(c) => c.to_string(),
            e => e.to_string(),
        };
        (e.errno(), msg)
    })?;
    if args.help && args.connect_timeout.is_none() {
        // `-h` lists the cluster's commands if it answers soon, as `ceph -h`.
        let limit = HELP_CONNECT_LIMIT.min(opts.connect_timeout);
        opts.connect_timeout = limit;
        opts.attempt_timeout = opts.attempt_timeout.min(limit);
    }
    MonClient::connect(opts)
        .await
        .map_err(|e| (e.errno(), format!("error connecting to the cluster: {e}")))
}

async fn run(args: Args) -> i32 {
    // As `ceph`: the admin socket needs no cluster connection.
    if args.words.first().map(String::as_str) == Some("daemon") {
        return daemon_cmds::daemon(&args).await;
    }
    if let Some((path, words)) = daemon_cmds::admin_daemon_option(&args.words) {
        return daemon_cmds::admin_daemon(&args, &path, &words).await;
    }
    let client = match connect(&args).await {
        Ok(c) => c,
        Err((code, msg)) => {
            errln!("monc: {msg}");
            // `ceph -h` without a cluster prints its usage and fails (1).
            return if args.help { 1 } else { code };
        }
    };
    let mut session = Session {
        client: &client,
        args: &args,
        table: None,
        daemons: daemon_cmds::Daemons::new(&args),
        cached: None,
        unconfirmed: None,
        read_only: false,
    };
    let code = if args.help {
        session.help(&args.words).await
    } else if args.json_cmd.is_some() || !args.words.is_empty() {
        let cmd = match &args.json_cmd {
            Some(j) => CommandInput::Json(j.clone()),
            None => CommandInput::Words(args.words.clone()),
        };
        let format = args.format;
        session.run_one(Job { input: cmd, format }).await
    } else {
        session.run_stdin().await
    };
    client.shutdown().await;
    code
}

enum CommandInput {
    Words(Vec<String>),
    Json(String),
}

/// One command to run and how to print its answer.
struct Job {
    input: CommandInput,
    format: Format,
}

/// The MgrMap epoch, once the monitors answer (`None` if they will not).
type PendingEpoch<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<u64>> + 'a>>;

struct Session<'a> {
    client: &'a MonClient,
    args: &'a Args,
    /// Every signature, once parsed (for help).
    table: Option<CommandTable>,
    daemons: daemon_cmds::Daemons,
    /// The command descriptions, from the cache or the monitors, and
    /// whether they were fetched in this run.
    cached: Option<(cache::CachedDescriptions, bool)>,
    /// For descriptions from the cache: the MgrMap epoch asked to confirm
    /// them, not yet awaited.
    unconfirmed: Option<PendingEpoch<'a>>,
    /// Whether the last words matched only read-only signatures.
    read_only: bool,
}

/// The MgrMap's epoch. Monitors give no MgrMap version by MMonGetVersion;
/// `mgr stat` answers from memory with the epoch (and few bytes).
async fn mgrmap_epoch(client: &MonClient) -> Option<u64> {
    let stat = client
        .command_with_timeout(
            r#"{"prefix": "mgr stat", "format": "json"}"#,
            Vec::new(),
            Some(MGRMAP_EPOCH_LIMIT),
        )
        .await;
    let epoch = match &stat {
        Ok(r) if r.retval == 0 => serde_json::from_slice::<Value>(&r.outbl)
            .ok()
            .and_then(|v| v.get("epoch").and_then(Value::as_u64)),
        _ => None,
    };
    if epoch.is_none() {
        tracing::debug!(
            ?stat,
            "no MgrMap epoch: the command descriptions are not cached"
        );
    }
    epoch
}

impl<'a> Session<'a> {
    /// The monitors' part of the cache key (the MgrMap epoch left 0).
    fn mon_key(&self) -> Option<cache::CacheKey> {
        let monmap = self.client.monmap()?;
        Some(cache::CacheKey {
            fsid: monmap.fsid.0,
            monmap_epoch: monmap.epoch,
            min_mon_release: monmap.min_mon_release,
            mon_features: monmap.persistent_features.0,
            mgrmap_epoch: 0,
        })
    }

    /// What the descriptions in the cache must have been fetched under to
    /// serve now; `None` when the monitors will not say (then fetch).
    async fn cache_key(&self) -> Option<cache::CacheKey> {
        let mon = self.mon_key()?;
        let mgrmap_epoch = mgrmap_epoch(self.client).await?;
        Some(cache::CacheKey {
            mgrmap_epoch,
            ..mon
        })
    }

    /// The command descriptions: the cached ones if they were fetched under
    /// the monitors' current MonMap (the MgrMap epoch is asked for and
    /// checked by [`Self::confirm_cache`]), else fresh ones.
    async fn descriptions(&mut self) -> Result<&cache::CachedDescriptions, (i32, String)> {
        if self.cached.is_none() {
            let mon = self.mon_key();
            let file = match (cache::cache_dir(), &mon) {
                (Some(dir), Some(key)) => Some(cache::cache_file(&dir, &key.fsid)),
                _ => None,
            };
            let hit = file
                .as_deref()
                .and_then(cache::CachedDescriptions::load)
                .filter(|c| {
                    Some(cache::CacheKey {
                        mgrmap_epoch: 0,
                        ..c.key
                    }) == mon
                });
            match hit {
                Some(c) => {
                    self.cached = Some((c, false));
                    self.unconfirmed = Some(Box::pin(mgrmap_epoch(self.client)));
                }
                None => {
                    let key = self.cache_key().await;
                    self.fetch_descriptions(key).await?;
                }
            }
        }
        Ok(&self.cached.as_ref().expect("descriptions were just set").0)
    }

    /// Waits for the MgrMap epoch that confirms cached descriptions; when
    /// it differs from theirs (a manager failed over, restarted or enabled
    /// a module) fetches fresh ones and returns false.
    async fn confirm_cache(&mut self) -> Result<bool, (i32, String)> {
        let Some(pending) = self.unconfirmed.take() else {
            return Ok(true);
        };
        let epoch = pending.await;
        let cached = self.cached.as_ref().map(|(c, _)| c.key);
        if let (Some(epoch), Some(key)) = (epoch, cached) {
            if epoch == key.mgrmap_epoch {
                return Ok(true);
            }
        }
        let key = match (self.mon_key(), epoch) {
            (Some(mon), Some(mgrmap_epoch)) => Some(cache::CacheKey {
                mgrmap_epoch,
                ..mon
            }),
            _ => None,
        };
        self.fetch_descriptions(key).await?;
        Ok(false)
    }

    /// Sends a command. One made from cached descriptions not confirmed
    /// yet goes out together with the confirmation when it is read-only
    /// (one round trip for both); should the descriptions prove stale, the
    /// words are matched again with fresh ones and the command sent again
    /// if that changed it. Any other waits for the confirmation first.
    async fn send(
        &mut self,
        job: &Job,
        cmd: Map<String, Value>,
        inbl: Vec<u8>,
    ) -> Result<(Map<String, Value>, CommandReply), (Map<String, Value>, i32, String)> {
        let client = self.client;
        let text = Value::Object(cmd.clone()).to_string();
        let mut early = None;
        if self.unconfirmed.is_some() && matches!(job.input, CommandInput::Words(_)) {
            // A manager command goes out once the cache is confirmed: it
            // takes its own connection, not the monitors' session.
            let confirmed = if self.read_only && !daemon_cmds::is_mgr_command(&cmd) {
                let (confirmed, reply) = tokio::join!(
                    self.confirm_cache(),
                    client.command(text.clone(), inbl.clone())
                );
                early = Some(reply);
                confirmed
            } else {
                self.confirm_cache().await
            };
            match confirmed {
                Ok(true) => {}
                Ok(false) => {
                    let again = match self.build(job).await {
                        Ok(again) => again,
                        Err((code, msg)) => return Err((cmd, code, msg)),
                    };
                    if again != cmd {
                        let text = Value::Object(again.clone()).to_string();
                        return match self.dispatch(&again, text, inbl).await {
                            Ok(r) => Ok((again, r)),
                            Err((code, msg)) => Err((again, code, msg)),
                        };
                    }
                }
                Err((code, msg)) => return Err((cmd, code, msg)),
            }
        }
        let reply = match early {
            Some(reply) => reply.map_err(|e| (e.errno(), e.to_string())),
            None => self.dispatch(&cmd, text, inbl).await,
        };
        match reply {
            Ok(r) => Ok((cmd, r)),
            Err((code, msg)) => Err((cmd, code, msg)),
        }
    }

    /// Sends one command: straight to the active manager when its
    /// description carries the manager flag (as `ceph` does), to the
    /// monitors otherwise.
    async fn dispatch(
        &mut self,
        cmd: &Map<String, Value>,
        text: String,
        inbl: Vec<u8>,
    ) -> Result<CommandReply, (i32, String)> {
        if daemon_cmds::is_mgr_command(cmd) {
            daemon_cmds::mgr_command(&mut self.daemons, self.client, text, inbl).await
        } else {
            self.client
                .command(text, inbl)
                .await
                .map_err(|e| (e.errno(), e.to_string()))
        }
    }

    /// Fetches the descriptions from the monitors and caches them under
    /// `key` (the key read before fetching: should the maps move meanwhile,
    /// the next run fetches again rather than trusting a newer key).
    async fn fetch_descriptions(
        &mut self,
        key: Option<cache::CacheKey>,
    ) -> Result<(), (i32, String)> {
        let reply = self
            .client
            .command(r#"{"prefix": "get_command_descriptions"}"#, Vec::new())
            .await
            .map_err(|e| (e.errno(), e.to_string()))?;
        if reply.retval < 0 {
            return Err((
                -reply.retval,
                format!("get_command_descriptions: {}", reply.outs),
            ));
        }
        let entries = ceph_argparse::description_entries(&reply.outbl)
            .map_err(|e| (errno::EINVAL, e.to_string()))?;
        let key = key.unwrap_or(cache::CacheKey {
            fsid: [0; 16],
            monmap_epoch: 0,
            min_mon_release: 0,
            mon_features: 0,
            mgrmap_epoch: 0,
        });
        let fresh = cache::CachedDescriptions { key, entries };
        if let Some(dir) = cache::cache_dir().filter(|_| key.fsid != [0; 16]) {
            let path = cache::cache_file(&dir, &key.fsid);
            if let Err(e) = fresh.store(&path) {
                // A cache we cannot write costs speed, not correctness.
                tracing::debug!(path = %path.display(), error = %e, "cannot cache the command descriptions");
            }
        }
        self.table = None;
        self.unconfirmed = None;
        self.cached = Some((fresh, true));
        Ok(())
    }

    /// The signatures that may match `words`, to turn them into a command.
    async fn table_for(&mut self, words: &[String]) -> Result<CommandTable, (i32, String)> {
        let style = cli_style(self.client);
        let descs = self.descriptions().await?;
        Ok(descs
            .table_for(words)
            .map_err(|e| (errno::EINVAL, e.to_string()))?
            .with_style(style))
    }

    /// Every signature the cluster offers.
    async fn command_table(&mut self) -> Result<&CommandTable, (i32, String)> {
        if self.table.is_none() {
            let table = self.table_for(&[]).await?;
            self.table = Some(table);
        }
        Ok(self.table.as_ref().expect("table was just set"))
    }

    /// Turns words into a command; words the cached descriptions have no
    /// signature for send for fresh ones first (a manager module enabled
    /// since brings new commands).
    async fn words_to_json(
        &mut self,
        words: &[String],
    ) -> Result<Map<String, Value>, (i32, String)> {
        let mut table = self.table_for(words).await?;
        let mut result = table.words_to_json(words);
        let from_cache = self.cached.as_ref().is_some_and(|(_, fresh)| !fresh);
        if from_cache && matches!(result, Err(MatchError::NoMatch { .. })) {
            let key = self.cache_key().await;
            self.fetch_descriptions(key).await?;
            table = self.table_for(words).await?;
            result = table.words_to_json(words);
        }
        self.read_only = match &result {
            Ok(cmd) => table.is_read_only(cmd.get("prefix").and_then(Value::as_str).unwrap_or("")),
            Err(_) => false,
        };
        result.map_err(|e| match e {
            MatchError::Invalid { .. } | MatchError::NoMatch { .. } => {
                (errno::EINVAL, format!("{e}\nError EINVAL: invalid command"))
            }
            MatchError::BadDescriptions(_) => (errno::EINVAL, e.to_string()),
        })
    }

    /// Builds the command's JSON from words or a JSON text.
    async fn build(&mut self, job: &Job) -> Result<Map<String, Value>, (i32, String)> {
        let input = &job.input;
        let mut cmd = match input {
            CommandInput::Json(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => m,
                _ => return Err((errno::EINVAL, format!("--json: not a JSON object: {text}"))),
            },
            CommandInput::Words(words) => self.words_to_json(words).await?,
        };
        if let Some(f) = job.format.wire_name() {
            // `-f` wins over a `--format` among the words, as in `ceph`.
            if matches!(input, CommandInput::Words(_)) {
                cmd.insert("format".into(), Value::String(f.into()));
            } else {
                cmd.entry("format")
                    .or_insert_with(|| Value::String(f.into()));
            }
        }
        Ok(cmd)
    }

    /// `monc [WORDS] -h`: the signatures starting with the words, as
    /// `ceph` lists them under "Monitor commands:".
    async fn help(&mut self, words: &[String]) -> i32 {
        let confirmed = match self.descriptions().await {
            Ok(_) => self.confirm_cache().await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err((code, msg)) = confirmed {
            errln!("monc: {msg}");
            return code;
        }
        let table = match self.command_table().await {
            Ok(t) => t,
            Err((code, msg)) => {
                errln!("monc: {msg}");
                return code;
            }
        };
        let text = table.help_text(words, output::terminal_columns());
        stdio::out_fmt(format_args!(
            "\n Monitor commands: \n =================\n{text}"
        ));
        // `ceph -h | head -1` fails (exit 1): so does this.
        i32::from(stdio::stdout_broken())
    }

    async fn run_one(&mut self, job: Job) -> i32 {
        if let CommandInput::Words(words) = &job.input {
            match (words.first().map(String::as_str), words.get(1)) {
                (Some("tell"), Some(target)) if target.starts_with("mon.") => {
                    return directed::tell(self.client, target, &words[2..], job.format, None)
                        .await;
                }
                (Some("tell"), Some(target)) => {
                    let (rest, f) = (&words[2..], job.format);
                    return daemon_cmds::tell(
                        &mut self.daemons,
                        self.client,
                        self.args,
                        target,
                        rest,
                        f,
                    )
                    .await;
                }
                (Some("pg"), _) if daemon_cmds::is_pg_command(words) => {
                    return daemon_cmds::pg(
                        &mut self.daemons,
                        self.client,
                        self.args,
                        words,
                        job.format,
                    )
                    .await;
                }
                (Some("ping"), Some(target)) if words.len() == 2 => {
                    return directed::ping(self.client, target, None).await;
                }
                (Some("watch"), _) => return watch::watch(self.client, self.args).await,
                _ => {}
            }
        }
        let start = std::time::SystemTime::now();
        let cmd = match self.build(&job).await {
            Ok(c) => c,
            Err((code, msg)) => {
                if self.args.jsonl {
                    output::jsonl(&Value::Null, -code, &msg, &[], start);
                } else if msg.contains("Error EINVAL") {
                    errln!("{msg}");
                } else {
                    errln!("monc: {msg}");
                }
                return code;
            }
        };
        let inbl = match &self.args.in_file {
            Some(p) if p.as_os_str() == "-" => {
                let mut data = Vec::new();
                if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut data) {
                    errln!("monc: cannot read stdin: {e}");
                    return errno::EIO;
                }
                data
            }
            Some(p) => match std::fs::read(p) {
                Ok(b) => b,
                Err(e) => {
                    errln!("monc: cannot read {}: {e}", p.display());
                    return errno::EIO;
                }
            },
            None => Vec::new(),
        };
        let (cmd, reply) = match self.send(&job, cmd, inbl).await {
            Ok(r) => r,
            Err((cmd, code, msg)) => {
                if self.args.jsonl {
                    output::jsonl(&Value::Object(cmd), -code, &msg, &[], start);
                } else if msg.contains("Error EINVAL") {
                    errln!("{msg}");
                } else {
                    errln!("monc: {msg}");
                }
                return code;
            }
        };
        if self.args.jsonl {
            output::jsonl(
                &Value::Object(cmd),
                reply.retval,
                &reply.outs,
                &reply.outbl,
                start,
            );
            return (-reply.retval).max(0);
        }
        self.print(&reply, job.format)
    }

    fn print(&self, reply: &CommandReply, format: Format) -> i32 {
        // A reader gone (`| true`) fails `-o -` and JSON output (whose
        // blank line `ceph` prints unguarded) with exit 1 and no status line,
        // as `ceph` does; other output goes to waste without failing.
        if self.args.out_file.as_deref() == Some(std::path::Path::new("-")) {
            if !stdio::out(&reply.outbl) && stdio::stdout_broken() {
                return 1;
            }
        } else if let Some(path) = &self.args.out_file {
            if let Err(e) = std::fs::write(path, &reply.outbl) {
                errln!("monc: cannot write {}: {e}", path.display());
                return errno::EIO;
            }
        } else {
            // As `ceph` does: a blank line before JSON output (old consumers
            // skip the first line), then the data exactly as it came. A
            // reader gone (`| head -c1`) is no failure of the command.
            if matches!(format, Format::Json | Format::JsonPretty)
                && !stdio::out(b"\n")
                && stdio::stdout_broken()
            {
                return 1;
            }
            stdio::out(&reply.outbl);
        }
        output::status(reply.retval, &reply.outs);
        (-reply.retval).max(0)
    }

    /// Interactive mode: one command per line over one session.
    async fn run_stdin(&mut self) -> i32 {
        // Read asynchronously: the session's keepalives and ticket renewals
        // run on this same thread while we wait for the next line.
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut last = 0;
        while let Ok(Some(line)) = lines.next_line().await {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "quit" || line == "exit" {
                break;
            }
            let job = if line.starts_with('{') {
                Job {
                    input: CommandInput::Json(line.to_string()),
                    format: self.args.format,
                }
            } else {
                // A line takes the same words and flags as the command
                // line (`mon dump -f json`); its flags apply to it alone.
                let parsed = ceph_config::split_args(line)
                    .map_err(|e| e.to_string())
                    .and_then(|words| Args::parse(Vec::new(), words).map_err(|e| e.to_string()));
                match parsed {
                    Ok(line_args) => Job {
                        format: match line_args.format {
                            Format::Default => self.args.format,
                            f => f,
                        },
                        input: CommandInput::Words(line_args.words),
                    },
                    Err(e) => {
                        errln!("monc: {e}");
                        last = errno::EINVAL;
                        continue;
                    }
                }
            };
            last = self.run_one(job).await;
            if stdio::stdout_broken() {
                break;
            }
        }
        last
    }
}
