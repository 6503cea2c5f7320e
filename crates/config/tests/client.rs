//! `ClientConfig::load`: sources, precedence, defaults, keyrings and errors,
//! with conf files written to temporary directories.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ceph_config::{
    AuthMethod, ClientConfig, ConfigError, ConfigSources, ConnectionMode, Environment, MonHostError,
};
use ceph_types::EntityType;

fn no_dns(host: &str) -> io::Result<Vec<IpAddr>> {
    Err(io::Error::other(format!("no DNS in tests ({host})")))
}

/// An environment with nothing set, so the machine's own doesn't leak in.
fn clean_env() -> Environment {
    Environment {
        ceph_conf: None,
        ceph_keyring: None,
        home: Some("/nonexistent-home".into()),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn sources(conf: &Path) -> ConfigSources {
    ConfigSources {
        conf_path: Some(conf.display().to_string()),
        env: Some(clean_env()),
        ..Default::default()
    }
}

fn load(s: ConfigSources) -> ClientConfig {
    ClientConfig::load_with_resolver(s, &no_dns).unwrap_or_else(|e| panic!("{e}"))
}

fn load_err(s: ConfigSources) -> ConfigError {
    match ClientConfig::load_with_resolver(s, &no_dns) {
        Ok(c) => panic!("loaded {c:?}"),
        Err(e) => e,
    }
}

#[test]
fn defaults_match_ceph_pacific() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon host = 127.0.0.1:3300\n",
    );
    let c = load(sources(&conf));
    assert_eq!(c.cluster, "ceph");
    assert_eq!(c.name.to_string(), "client.admin");
    assert_eq!(c.conf_path.as_deref(), Some(conf.as_path()));
    assert_eq!(c.mon_client_hunt_interval, Duration::from_secs(3));
    assert_eq!(c.mon_client_hunt_interval_backoff, 1.5);
    assert_eq!(c.mon_client_hunt_interval_min_multiple, 1.0);
    assert_eq!(c.mon_client_hunt_interval_max_multiple, 10.0);
    assert_eq!(c.mon_client_hunt_parallel, 3);
    assert_eq!(c.mon_client_ping_interval, Duration::from_secs(10));
    assert_eq!(c.mon_client_ping_timeout, Duration::from_secs(30));
    assert_eq!(c.mon_client_log_interval, Duration::from_secs(1));
    assert_eq!(c.mon_client_directed_command_retry, 2);
    assert_eq!(c.client_mount_timeout, Duration::from_secs(300));
    assert_eq!(c.rados_mon_op_timeout, Duration::ZERO);
    assert_eq!(
        c.ms_client_mode,
        [ConnectionMode::Crc, ConnectionMode::Secure]
    );
    assert_eq!(
        c.ms_mon_client_mode,
        [ConnectionMode::Secure, ConnectionMode::Crc]
    );
    assert_eq!(
        c.auth_client_required,
        [AuthMethod::Cephx, AuthMethod::None]
    );
    assert_eq!(c.key, None);
    // The default keyring list, expanded as `ceph-conf` prints it.
    assert_eq!(
        c.get("keyring"),
        Some("/etc/ceph/ceph.client.admin.keyring,/etc/ceph/ceph.keyring,/etc/ceph/keyring,/etc/ceph/keyring.bin")
    );
    assert_eq!(c.keyring_search.len(), 4);
    assert_eq!(c.get("mon_dns_srv_name"), Some("ceph-mon"));
    assert_eq!(c.get("no_such_option"), None);
}

#[test]
fn section_precedence_and_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon_host = 10.0.0.1\nclient mount timeout = 5 min\nmon_client_hunt_parallel = 9\n\
         ms_mon_client_mode = crc\n\
         [client]\nclient_mount_timeout = 10s\nmon client hunt interval = 1.5\n\
         [client.admin]\nclient_mount_timeout = 1h30m\n[client.other]\nmon_client_hunt_parallel = 1\n\
         [mon]\nmon_client_ping_timeout = 1\n",
    );
    let c = load(sources(&conf));
    assert_eq!(c.client_mount_timeout, Duration::from_secs(5400));
    assert_eq!(c.mon_client_hunt_interval, Duration::from_millis(1500));
    assert_eq!(c.mon_client_hunt_parallel, 9);
    assert_eq!(c.mon_client_ping_timeout, Duration::from_secs(30));
    assert_eq!(c.ms_mon_client_mode, [ConnectionMode::Crc]);
    assert_eq!(
        c.mon_addrs
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>(),
        ["[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0]"]
    );

    let other = load(ConfigSources {
        id: Some("other".into()),
        ..sources(&conf)
    });
    assert_eq!(other.name.to_string(), "client.other");
    assert_eq!(other.client_mount_timeout, Duration::from_secs(10));
    assert_eq!(other.mon_client_hunt_parallel, 1);
}

#[test]
fn command_line_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon_host = 10.0.0.1:6789\nkeyring = /from/file\nmon_client_hunt_parallel = 9\n",
    );
    let c = load(ConfigSources {
        mon_host: Some("v2:10.0.0.2".into()),
        keyring: Some("/from/cli".into()),
        overrides: vec![
            ("mon-client-hunt-parallel".into(), "2".into()),
            ("--rados_mon_op_timeout".into(), "30".into()),
            ("mon host".into(), "10.0.0.3".into()),
        ],
        ..sources(&conf)
    });
    assert_eq!(c.mon_client_hunt_parallel, 2);
    assert_eq!(c.rados_mon_op_timeout, Duration::from_secs(30));
    // The dedicated -m field beats a generic override of the same option.
    assert_eq!(c.mon_addrs[0].to_string(), "v2:10.0.0.2:3300/0");
    assert_eq!(c.get("keyring"), Some("/from/cli"));
    assert_eq!(c.keyring_path, None);
}

#[test]
fn environment_sources() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "site.conf",
        "[global]\nmon_host = 10.0.0.1:6789\n",
    );
    // CEPH_CONF is used when there is no -c; the cluster stays "ceph".
    let env = Environment {
        ceph_conf: Some(format!("{},/nonexistent/x.conf", conf.display())),
        ceph_keyring: Some("/env/keyring".into()),
        home: None,
    };
    let c = load(ConfigSources {
        env: Some(env.clone()),
        ..Default::default()
    });
    assert_eq!(c.conf_path.as_deref(), Some(conf.as_path()));
    assert_eq!(c.cluster, "ceph");
    // CEPH_KEYRING applies when the file says nothing...
    assert_eq!(c.get("keyring"), Some("/env/keyring"));

    // ...but the file is above the environment, as in Ceph.
    let conf2 = write(
        dir.path(),
        "other.conf",
        "[global]\nmon_host = 10.0.0.1:6789\n[client]\nkeyring = /file/keyring\n",
    );
    let c = load(ConfigSources {
        env: Some(Environment {
            ceph_conf: Some(conf2.display().to_string()),
            ..env
        }),
        ..Default::default()
    });
    assert_eq!(c.get("keyring"), Some("/file/keyring"));
}

#[test]
fn cluster_name_comes_from_the_conf_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "prod.conf",
        "[global]\nmon_host = 10.0.0.1:6789\nadmin socket = $run_dir/$cluster-$name.asok\n",
    );
    let c = load(sources(&conf));
    assert_eq!(c.cluster, "prod");
    assert_eq!(
        c.get("admin_socket"),
        Some("/var/run/ceph/prod-client.admin.asok")
    );
    assert_eq!(
        c.keyring_search[0],
        PathBuf::from("/etc/ceph/prod.client.admin.keyring")
    );

    let odd = write(
        dir.path(),
        "settings",
        "[global]\nmon_host = 10.0.0.1:6789\n",
    );
    assert_eq!(load(sources(&odd)).cluster, "ceph");

    let named = load(ConfigSources {
        cluster: Some("east".into()),
        ..sources(&conf)
    });
    assert_eq!(named.cluster, "east");
}

#[test]
fn default_search_finds_home_conf() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ceph")).unwrap();
    // An unusual cluster name keeps /etc/ceph and the working directory out.
    let conf = write(
        &home.path().join(".ceph"),
        "zz-config-test.conf",
        "[global]\nmon_host = 10.0.0.5:6789\n",
    );
    let c = load(ConfigSources {
        cluster: Some("zz-config-test".into()),
        env: Some(Environment {
            home: Some(home.path().display().to_string()),
            ..clean_env()
        }),
        ..Default::default()
    });
    assert_eq!(c.conf_path.as_deref(), Some(conf.as_path()));
    assert_eq!(c.mon_addrs[0].to_string(), "v1:10.0.0.5:6789/0");

    // Nothing found by the default search: defaults only, so DNS SRV is
    // asked (as Ceph does), and its answer (no such name here, or no DNS
    // at all) ends the load with an error naming the query.
    let started = std::time::Instant::now();
    let e = load_err(ConfigSources {
        cluster: Some("zz-config-test-none".into()),
        env: Some(clean_env()),
        ..Default::default()
    });
    assert!(
        matches!(&e, ConfigError::MonHost(MonHostError::DnsSrv { query, .. }) if query == "_ceph-mon._tcp"),
        "{e}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // No SRV name either: nothing names a monitor.
    let e = load_err(ConfigSources {
        cluster: Some("zz-config-test-none".into()),
        env: Some(clean_env()),
        overrides: vec![("mon_dns_srv_name".into(), String::new())],
        ..Default::default()
    });
    assert!(matches!(e, ConfigError::NoMonitors), "{e}");
    let c = load(ConfigSources {
        cluster: Some("zz-config-test-none".into()),
        mon_host: Some("10.0.0.6:3300".into()),
        env: Some(clean_env()),
        ..Default::default()
    });
    assert_eq!(c.conf_path, None);
}

#[test]
fn conf_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_err(sources(&dir.path().join("missing.conf")));
    assert!(matches!(e, ConfigError::ConfNotFound(_)), "{e}");

    let bad = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon_host = 1.2.3.4\nbroken line\n",
    );
    let e = load_err(sources(&bad));
    let shown = e.to_string();
    assert!(
        shown.contains("line 3") && shown.contains("ceph.conf"),
        "{shown}"
    );

    let bad_value = write(
        dir.path(),
        "v.conf",
        "[global]\nmon_host = 1.2.3.4\nclient_mount_timeout = 10ms\n",
    );
    match load_err(sources(&bad_value)) {
        ConfigError::Value(v) => {
            assert_eq!(v.option, "client_mount_timeout");
            assert_eq!(v.value, "10ms");
        }
        other => panic!("{other}"),
    }

    let bad_mode = write(
        dir.path(),
        "m.conf",
        "[global]\nmon_host = 1.2.3.4\nms_client_mode = fast\n",
    );
    assert!(load_err(sources(&bad_mode)).to_string().contains("fast"));

    let bad_mon = write(dir.path(), "h.conf", "[global]\nmon_host = 1.2.3.4:70000\n");
    assert!(load_err(sources(&bad_mon))
        .to_string()
        .contains("1.2.3.4:70000"));

    let unresolvable = write(dir.path(), "r.conf", "[global]\nmon_host = mon1.invalid\n");
    assert!(load_err(sources(&unresolvable))
        .to_string()
        .contains("mon1.invalid"));

    let e = load_err(ConfigSources {
        name: Some("admin".into()),
        ..sources(&bad_mon)
    });
    assert!(matches!(e, ConfigError::BadName { .. }), "{e}");
    let e = load_err(ConfigSources {
        id: Some(String::new()),
        ..sources(&bad_mon)
    });
    assert!(matches!(e, ConfigError::BadName { .. }), "{e}");
}

#[test]
fn keyring_search_takes_the_first_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let second = write(
        dir.path(),
        "ceph.client.admin.keyring",
        "[client.admin]\n\tkey = x\n",
    );
    let conf = write(
        dir.path(),
        "ceph.conf",
        &format!(
            "[global]\nmon_host = 1.2.3.4\n[client]\nkeyring = {0}/nope.keyring, {0}/$cluster.$name.keyring;{0}/later.keyring\n",
            dir.path().display()
        ),
    );
    let c = load(sources(&conf));
    assert_eq!(c.keyring_path.as_deref(), Some(second.as_path()));
    // In a conf file `;` starts a comment, so the third entry is gone.
    assert_eq!(c.keyring_search.len(), 2);
    assert_eq!(c.keyring_search[0], dir.path().join("nope.keyring"));

    // On the command line `,` `;` `=` and blanks all separate entries.
    let c = load(ConfigSources {
        keyring: Some(format!("/nope/a;/nope/b=/nope/c {}", second.display())),
        ..sources(&conf)
    });
    assert_eq!(c.keyring_search.len(), 4);
    assert_eq!(c.keyring_path.as_deref(), Some(second.as_path()));
}

#[test]
fn key_and_keyfile_are_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "AQBz7FdnAAAAABAA0Ve7mXvKBCn0uOyWmcaPLw==";
    let conf = write(
        dir.path(),
        "ceph.conf",
        &format!("[global]\nmon_host = 1.2.3.4\nkey = {secret}\nleak = $key\n"),
    );
    let c = load(sources(&conf));
    assert_eq!(c.key.as_ref().map(|k| k.expose()), Some(secret));
    assert_eq!(c.get("key"), None);
    // `$key` is not expanded into other options.
    assert_eq!(c.get("leak"), Some("$key"));
    let debug = format!("{c:?}");
    assert!(!debug.contains(secret), "{debug}");
    assert!(debug.contains("redacted"));

    // keyfile wins over key, trimmed of its newline.
    let keyfile = write(dir.path(), "admin.key", "AQCfromfile==\n");
    let c = load(ConfigSources {
        overrides: vec![("keyfile".into(), keyfile.display().to_string())],
        ..sources(&conf)
    });
    assert_eq!(c.key.as_ref().map(|k| k.expose()), Some("AQCfromfile=="));

    let e = load_err(ConfigSources {
        overrides: vec![("keyfile".into(), "/nonexistent/key".into())],
        ..sources(&conf)
    });
    assert!(matches!(e, ConfigError::Keyfile { .. }), "{e}");
}

#[test]
fn auth_supported_replaces_auth_client_required() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        include_str!("data/legacy-mon-sections.conf"),
    );
    let c = load(sources(&conf));
    assert_eq!(c.auth_client_required, [AuthMethod::Cephx]);
    // mon_host is absent: the [mon.X] sections name the monitors.
    assert_eq!(
        c.mon_addrs
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>(),
        [
            "v1:10.1.0.1:6789/0",
            "v1:10.1.0.2:6789/0",
            "v2:10.1.0.3:3300/0"
        ]
    );
    assert_eq!(c.get("keyring"), Some("/etc/ceph/keyring.client.admin"));
}

#[test]
fn real_world_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        include_str!("data/cephadm-minimal.conf"),
    );
    let c = load(sources(&conf));
    assert_eq!(c.mon_addrs.len(), 3);
    assert_eq!(
        c.mon_addrs[2].to_string(),
        "[v2:192.168.122.13:3300/0,v1:192.168.122.13:6789/0]"
    );
    assert_eq!(c.get("fsid"), Some("6c8b5a3e-2f4d-11ef-9a1b-525400123456"));

    let conf = write(
        dir.path(),
        "ceph-deploy.conf",
        include_str!("data/ceph-deploy.conf"),
    );
    let c = load(sources(&conf));
    // As `ceph-conf -c ceph-deploy.conf -n client.admin --lookup keyring` prints.
    assert_eq!(
        c.get("keyring"),
        Some("/etc/ceph/ceph-deploy.client.admin.keyring")
    );
    assert_eq!(c.auth_client_required, [AuthMethod::Cephx]);
    assert_eq!(c.mon_addrs.len(), 3);

    let rgw = load(ConfigSources {
        name: Some("client.rgw.node1".into()),
        ..sources(&conf)
    });
    assert_eq!(rgw.name.ty, EntityType::Client);
    assert_eq!(rgw.name.id, "rgw.node1");
    assert_eq!(
        rgw.get("log_file"),
        Some("/var/log/ceph/ceph-deploy-client.rgw.node1.log")
    );
    assert_eq!(rgw.get("rgw_frontends"), Some("beast port=7480"));

    let conf = write(
        dir.path(),
        "vstart.conf",
        include_str!("data/vstart-like.conf"),
    );
    let c = load(sources(&conf));
    assert_eq!(
        c.mon_addrs[0].to_string(),
        "[v2:127.0.0.1:40000/0,v1:127.0.0.1:40001/0]"
    );
    assert_eq!(c.get("keyring"), Some("/ceph/build/keyring"));
    // [mon] settings do not apply to a client.
    assert_eq!(c.mon_client_hunt_interval, Duration::from_secs(3));
    let pid = std::process::id();
    assert_eq!(
        c.get("log_file"),
        Some(format!("/ceph/build/out/client.admin.{pid}.log").as_str())
    );

    let mon = load(ConfigSources {
        name: Some("mon.a".into()),
        ..sources(&conf)
    });
    assert_eq!(mon.mon_client_hunt_interval, Duration::from_millis(1500));
    assert_eq!(mon.get("mon_data"), Some("/ceph/build/dev/mon.a"));
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn from_args_takes_generic_flags_and_leaves_the_rest() {
    let (src, rest) = ConfigSources::from_args(strings(&[
        "--conf=/a.conf",
        "--cluster",
        "east",
        "-n",
        "client.x",
        "-i",
        "y",
        "-k",
        "/k",
        "-K",
        "/kf",
        "-m",
        "1.2.3.4",
        "--format",
        "json",
        "mon",
        "dump",
        "--client-mount-timeout",
        "10s",
        "--ms_mon_client_mode=secure",
        "--fsid",
        "abc",
        "-f",
        "plain",
        "--",
        "-m",
        "x",
    ]))
    .unwrap();
    assert_eq!(src.conf_path.as_deref(), Some("/a.conf"));
    assert_eq!(src.cluster.as_deref(), Some("east"));
    assert_eq!(src.name.as_deref(), Some("client.x"));
    assert_eq!(src.id.as_deref(), Some("y"));
    assert_eq!(src.keyring.as_deref(), Some("/k"));
    assert_eq!(src.mon_host.as_deref(), Some("1.2.3.4"));
    assert_eq!(
        src.overrides,
        [
            ("keyfile".to_string(), "/kf".to_string()),
            ("client_mount_timeout".to_string(), "10s".to_string()),
            ("ms_mon_client_mode".to_string(), "secure".to_string()),
            ("fsid".to_string(), "abc".to_string()),
        ]
    );
    assert_eq!(
        rest,
        ["--format", "json", "mon", "dump", "-f", "plain", "--", "-m", "x"]
    );

    // Words that merely look like option names are not flags.
    let (src, rest) =
        ConfigSources::from_args(strings(&["auth", "get", "name", "keyring"])).unwrap();
    assert!(src.name.is_none() && src.keyring.is_none());
    assert_eq!(rest, ["auth", "get", "name", "keyring"]);

    let e = ConfigSources::from_args(strings(&["status", "--id"])).unwrap_err();
    assert_eq!(e.flag, "--id");
    assert!(ConfigSources::from_args(strings(&["-m"])).is_err());
}

#[test]
fn ceph_args_words_go_first_and_the_command_line_wins() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon_host = 10.0.0.1:6789\n",
    );
    let env_words =
        ceph_config::split_args("--id 'from env' --mon-client-hunt-parallel 7").unwrap();
    let argv = strings(&["-c", conf.to_str().unwrap(), "--id", "cli", "status"]);
    let (mut src, rest) = ConfigSources::from_args(env_words.into_iter().chain(argv)).unwrap();
    assert_eq!(rest, ["status"]);
    src.env = Some(clean_env());
    let c = load(src);
    assert_eq!(c.name.id, "cli");
    assert_eq!(c.mon_client_hunt_parallel, 7);
}

#[test]
fn debug_output_never_shows_a_key() {
    let secret = "AQBz7FdnAAAAABAA0Ve7mXvKBCn0uOyWmcaPLw==";
    let (src, _) = ConfigSources::from_args(strings(&["--key", secret, "-m", "1.2.3.4"])).unwrap();
    let shown = format!("{src:?}");
    assert!(
        !shown.contains(secret) && shown.contains("1.2.3.4"),
        "{shown}"
    );

    let conf =
        ceph_config::ConfFile::parse(&format!("[client.admin]\nkey = {secret}\nkeyring = /k\n"))
            .unwrap();
    let shown = format!("{conf:?}");
    assert!(!shown.contains(secret) && shown.contains("/k"), "{shown}");
    // The value itself is still there for whoever asks.
    assert_eq!(conf.get("client.admin", "key"), Some(secret));
}

// ---- central configuration (MConfig) over local configuration ----

fn central(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn local_for_central(dir: &Path) -> ClientConfig {
    let conf = write(
        dir,
        "ceph.conf",
        "[global]\nmon host = 127.0.0.1:3300\nmon client hunt interval = 5\n",
    );
    let mut s = sources(&conf);
    s.overrides = vec![("mon-client-ping-interval".into(), "2".into())];
    load(s)
}

#[test]
fn central_values_rank_above_defaults_only() {
    use ceph_config::OptionSource;
    let dir = tempfile::tempdir().unwrap();
    let local = local_for_central(dir.path());
    let (eff, ignored) = local.with_mon_values(&central(&[
        ("mon_client_hunt_interval", "1"),
        ("mon_client_ping_interval", "9"),
        ("rados_mon_op_timeout", "30"),
        ("mon client log interval", "0.5"),
        ("debug_ms", "1/5"),
    ]));
    assert!(ignored.is_empty(), "{ignored:?}");
    assert_eq!(eff.mon_client_hunt_interval, Duration::from_secs(5));
    assert_eq!(
        eff.source("mon_client_hunt_interval"),
        Some(OptionSource::File)
    );
    assert_eq!(eff.mon_client_ping_interval, Duration::from_secs(2));
    assert_eq!(
        eff.source("mon_client_ping_interval"),
        Some(OptionSource::CommandLine)
    );
    assert_eq!(eff.rados_mon_op_timeout, Duration::from_secs(30));
    assert_eq!(eff.source("rados_mon_op_timeout"), Some(OptionSource::Mon));
    assert_eq!(eff.mon_client_log_interval, Duration::from_millis(500));
    // Options this crate does not type are still readable.
    assert_eq!(eff.get("debug_ms"), Some("1/5"));
    assert_eq!(eff.source("debug-ms"), Some(OptionSource::Mon));
    // The local configuration itself is untouched.
    assert_eq!(local.rados_mon_op_timeout, Duration::ZERO);
    assert_eq!(
        local.source("rados_mon_op_timeout"),
        Some(OptionSource::Default)
    );
    assert_eq!(local.get("debug_ms"), None);
}

#[test]
fn central_values_replace_the_previous_ones() {
    use ceph_config::OptionSource;
    let dir = tempfile::tempdir().unwrap();
    let local = local_for_central(dir.path());
    let (first, _) = local.with_mon_values(&central(&[
        ("rados_mon_op_timeout", "30"),
        ("debug_ms", "1"),
    ]));
    // A later MConfig without those options: back to the defaults,
    // whether applied to the local or to the previous effective config.
    for base in [&local, &first] {
        let (next, ignored) = base.with_mon_values(&central(&[("client_mount_timeout", "60")]));
        assert!(ignored.is_empty());
        assert_eq!(next.rados_mon_op_timeout, Duration::ZERO);
        assert_eq!(
            next.source("rados_mon_op_timeout"),
            Some(OptionSource::Default)
        );
        assert_eq!(next.get("debug_ms"), None);
        assert_eq!(next.client_mount_timeout, Duration::from_secs(60));
    }
}

#[test]
fn bad_and_local_only_central_values_are_ignored_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_for_central(dir.path());
    let (eff, ignored) = local.with_mon_values(&central(&[
        ("rados_mon_op_timeout", "not-a-duration-hunter2"),
        ("mon_client_hunt_parallel", "-3"),
        ("ms_mon_client_mode", "plaintext"),
        ("mon_host", "10.9.9.9"),
        ("keyring", "/tmp/stolen.keyring"),
        ("key", "AQBzNW5mAAAAABAAdD0bJbWKbzBMAw6lHqKCZA=="),
        ("client_mount_timeout", "45"),
    ]));
    let mut names: Vec<&str> = ignored.iter().map(|i| i.option.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "key",
            "keyring",
            "mon_client_hunt_parallel",
            "mon_host",
            "ms_mon_client_mode",
            "rados_mon_op_timeout"
        ]
    );
    // Reasons never carry the value (a central value may be private).
    for i in &ignored {
        assert!(!i.reason.contains("hunter2"), "{i:?}");
        assert!(!i.reason.contains("AQBzNW5m"), "{i:?}");
    }
    // The good value still applies; the bad ones leave the defaults.
    assert_eq!(eff.client_mount_timeout, Duration::from_secs(45));
    assert_eq!(eff.rados_mon_op_timeout, Duration::ZERO);
    assert_eq!(eff.mon_client_hunt_parallel, 3);
    assert_eq!(eff.ms_mon_client_mode, local.ms_mon_client_mode);
    assert_eq!(eff.mon_addrs, local.mon_addrs);
    assert_eq!(eff.keyring_path, local.keyring_path);
    assert_eq!(eff.get("keyring"), local.get("keyring"));
    assert_eq!(eff.get("key"), None);
}

#[test]
fn central_values_take_metavariables() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write(
        dir.path(),
        "ceph.conf",
        "[global]\nmon host = 127.0.0.1:3300\nclient mount timeout = $my_timeout\nmy timeout = 20\n",
    );
    let local = load(sources(&conf));
    assert_eq!(local.client_mount_timeout, Duration::from_secs(20));
    let (eff, ignored) =
        local.with_mon_values(&central(&[("admin_socket_hint", "$cluster-$name.asok")]));
    assert!(ignored.is_empty());
    assert_eq!(eff.get("admin_socket_hint"), Some("ceph-client.admin.asok"));
}

#[test]
fn conf_fsid_reads_only_the_conf_file() {
    let dir = tempfile::tempdir().unwrap();
    let fsid = "5b2b5d9e-0f7c-4bb0-9e0a-5a1f6c3d2e11";
    // An unresolvable monitor name: the fsid needs no resolver.
    let conf = write(
        dir.path(),
        "ceph.conf",
        &format!("[global]\nfsid = {fsid}\nmon host = no-such-host.invalid\n"),
    );
    assert_eq!(
        ceph_config::conf_fsid(&sources(&conf)).as_deref(),
        Some(fsid)
    );
    // The entity's section wins over [global]; --fsid over both.
    let conf = write(
        dir.path(),
        "two.conf",
        &format!("[global]\nfsid = {fsid}\n[client]\nfsid = other\n"),
    );
    assert_eq!(
        ceph_config::conf_fsid(&sources(&conf)).as_deref(),
        Some("other")
    );
    let mut s = sources(&conf);
    s.overrides.push(("fsid".into(), "given".into()));
    assert_eq!(ceph_config::conf_fsid(&s).as_deref(), Some("given"));
    // No fsid, or no file: none.
    let conf = write(dir.path(), "none.conf", "[global]\nmon host = 1.2.3.4\n");
    assert_eq!(ceph_config::conf_fsid(&sources(&conf)), None);
    assert_eq!(
        ceph_config::conf_fsid(&sources(&dir.path().join("missing.conf"))),
        None
    );
    // Found through CEPH_CONF when -c is not given.
    let s = ConfigSources {
        env: Some(Environment {
            ceph_conf: Some(dir.path().join("ceph.conf").display().to_string()),
            ..clean_env()
        }),
        ..Default::default()
    };
    assert_eq!(ceph_config::conf_fsid(&s).as_deref(), Some(fsid));
}
