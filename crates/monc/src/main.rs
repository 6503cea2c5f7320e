//! `monc`: monitor commands in the `ceph` CLI's words and flags, over a
//! native msgr2 + CephX client.

// One ioctl asks the terminal its width (output.rs); nothing else is unsafe.
#![deny(unsafe_code)]

mod args;
mod decode;
mod directed;
mod output;
mod watch;

use std::io::Write;

use std::process::ExitCode;
use tokio::io::AsyncBufReadExt;

use ceph_argparse::{CliStyle, CommandTable, MatchError};
use ceph_config::ConfigSources;
use ceph_monclient::{CommandReply, MonClient, MonError};
use ceph_types::errno;
use serde_json::{Map, Value};

use args::{Args, Format};

const USAGE: &str = "\
usage: monc [options] COMMAND WORDS...   run one monitor command
       monc [options] --json '{\"prefix\": ...}'
       monc [options]                    read commands from stdin, one per line

options (as the ceph CLI):
  -c, --conf FILE          ceph.conf to read (default: $CEPH_CONF, /etc/ceph/$cluster.conf, ...)
  --cluster NAME           cluster name (default ceph)
  -n, --name TYPE.ID       entity to authenticate as (default client.admin)
  --id, --user ID          client ID (client.ID)
  -k, --keyring FILE       keyring to read
  -m, --mon-host ADDRS     monitor addresses, as mon_host
  -f, --format FMT         json, json-pretty, xml, xml-pretty or plain
  -o, --out-file FILE      write the command's output data to FILE
  -i, --in-file FILE       send FILE as the command's input data
  --connect-timeout SECS   give up connecting after SECS (default client_mount_timeout)
  --json JSON              the command as a JSON object
  --jsonl                  print one JSON object per command (cmd, retval, outs, outb, start, end)
  -s                       same as the status command
  -h, --help               this help, or the signatures matching the command words
  -v, --version            print the version
environment: CEPH_ARGS (prepended to the arguments), CEPH_CONF, RUST_LOG";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // `decode` works on files and needs no cluster, config or key.
    if argv.first().map(String::as_str) == Some("decode") {
        return ExitCode::from(decode::run(&argv).clamp(0, 255) as u8);
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
        println!("monc {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.help {
        // As `ceph -h`: the general usage, then the monitors' commands (a
        // closed pipe, as from `| head`, is no error).
        let _ = writeln!(std::io::stdout(), "{USAGE}");
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
    eprintln!("monc: {msg}");
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
    let opts = builder.options().map_err(|e| {
        let msg = match &e {
            // The configuration's own words, as before the library read it.
            MonError::Configuration(c) => c.to_string(),
            e => e.to_string(),
        };
        (e.errno(), msg)
    })?;
    MonClient::connect(opts)
        .await
        .map_err(|e| (e.errno(), format!("error connecting to the cluster: {e}")))
}

async fn run(args: Args) -> i32 {
    let client = match connect(&args).await {
        Ok(c) => c,
        Err((code, msg)) => {
            eprintln!("monc: {msg}");
            // Plain `monc -h` has printed its usage: not a failure.
            return if args.help && args.words.is_empty() {
                0
            } else {
                code
            };
        }
    };
    let mut session = Session {
        client: &client,
        args: &args,
        table: None,
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

struct Session<'a> {
    client: &'a MonClient,
    args: &'a Args,
    table: Option<CommandTable>,
}

impl Session<'_> {
    async fn command_table(&mut self) -> Result<&CommandTable, (i32, String)> {
        if self.table.is_none() {
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
            let table = CommandTable::from_json(&reply.outbl)
                .map_err(|e| (errno::EINVAL, e.to_string()))?
                .with_style(cli_style(self.client));
            self.table = Some(table);
        }
        Ok(self.table.as_ref().expect("table was just set"))
    }

    /// Builds the command's JSON from words or a JSON text.
    async fn build(&mut self, job: &Job) -> Result<Map<String, Value>, (i32, String)> {
        let input = &job.input;
        let mut cmd = match input {
            CommandInput::Json(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => m,
                _ => return Err((errno::EINVAL, format!("--json: not a JSON object: {text}"))),
            },
            CommandInput::Words(words) => {
                let table = self.command_table().await?;
                table.words_to_json(words).map_err(|e| match e {
                    MatchError::Invalid { .. } | MatchError::NoMatch { .. } => {
                        (errno::EINVAL, format!("{e}\nError EINVAL: invalid command"))
                    }
                    MatchError::BadDescriptions(_) => (errno::EINVAL, e.to_string()),
                })?
            }
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
        let table = match self.command_table().await {
            Ok(t) => t,
            Err((code, msg)) => {
                eprintln!("monc: {msg}");
                return code;
            }
        };
        let text = table.help_text(words, output::terminal_columns());
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\n Monitor commands: \n =================\n{text}");
        let _ = out.flush();
        0
    }

    async fn run_one(&mut self, job: Job) -> i32 {
        if let CommandInput::Words(words) = &job.input {
            match (words.first().map(String::as_str), words.get(1)) {
                (Some("tell"), Some(target)) => {
                    return directed::tell(self.client, target, &words[2..], job.format, None)
                        .await;
                }
                (Some("ping"), Some(target)) if words.len() == 2 => {
                    return directed::ping(self.client, target, None).await;
                }
                (Some("watch"), _) => return watch::watch(self.client, words).await,
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
                    eprintln!("{msg}");
                } else {
                    eprintln!("monc: {msg}");
                }
                return code;
            }
        };
        let inbl = match &self.args.in_file {
            Some(p) => match std::fs::read(p) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("monc: cannot read {}: {e}", p.display());
                    return errno::EIO;
                }
            },
            None => Vec::new(),
        };
        let text = Value::Object(cmd.clone()).to_string();
        let reply = match self.client.command(text, inbl).await {
            Ok(r) => r,
            Err(e) => {
                if self.args.jsonl {
                    output::jsonl(&Value::Object(cmd), -e.errno(), &e.to_string(), &[], start);
                } else {
                    eprintln!("monc: {e}");
                }
                return e.errno();
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
        if self.args.out_file.as_deref() == Some(std::path::Path::new("-")) {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&reply.outbl);
            let _ = out.flush();
        } else if let Some(path) = &self.args.out_file {
            if let Err(e) = std::fs::write(path, &reply.outbl) {
                eprintln!("monc: cannot write {}: {e}", path.display());
                return errno::EIO;
            }
        } else {
            let mut out = std::io::stdout().lock();
            // As `ceph` does: a blank line before JSON output (old consumers
            // skip the first line), then the data exactly as it came.
            if matches!(format, Format::Json | Format::JsonPretty) {
                let _ = out.write_all(b"\n");
            }
            let _ = out.write_all(&reply.outbl);
            let _ = out.flush();
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
                        eprintln!("monc: {e}");
                        last = errno::EINVAL;
                        continue;
                    }
                }
            };
            last = self.run_one(job).await;
        }
        last
    }
}
