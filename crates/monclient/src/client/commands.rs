//! Commands in every shape a program has them (JSON text, a
//! `serde_json::Value`, any `Serialize`, the `ceph` CLI's words) and
//! helpers to read the replies.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::handle::MonClient;
use crate::core::CommandReply;
use crate::error::MonError;

/// Something that can be sent as a monitor command: a JSON object.
///
/// Implemented for JSON text (`&str`, `String`), `serde_json::Value` and
/// its object `Map`, and [`Json`] around anything `Serialize`.
pub trait IntoCommand {
    /// The command as JSON text, or why it is not a JSON object.
    fn into_command(self) -> Result<String, MonError>;
}

impl IntoCommand for &str {
    fn into_command(self) -> Result<String, MonError> {
        Ok(self.to_string())
    }
}

impl IntoCommand for String {
    fn into_command(self) -> Result<String, MonError> {
        Ok(self)
    }
}

impl IntoCommand for &String {
    fn into_command(self) -> Result<String, MonError> {
        Ok(self.clone())
    }
}

impl IntoCommand for Value {
    fn into_command(self) -> Result<String, MonError> {
        (&self).into_command()
    }
}

impl IntoCommand for &Value {
    fn into_command(self) -> Result<String, MonError> {
        match self {
            Value::Object(_) => Ok(self.to_string()),
            other => Err(MonError::InvalidCommand(format!(
                "a command is a JSON object, not {other}"
            ))),
        }
    }
}

impl IntoCommand for serde_json::Map<String, Value> {
    fn into_command(self) -> Result<String, MonError> {
        Ok(Value::Object(self).to_string())
    }
}

/// Any `Serialize` value sent as a command; it must serialize to a JSON
/// object (a struct or a map).
///
/// ```no_run
/// # async fn demo(client: ceph_monclient::MonClient) -> Result<(), ceph_monclient::MonError> {
/// // A struct deriving `serde::Serialize` works the same way.
/// let cmd = std::collections::BTreeMap::from([
///     ("prefix", "osd pool get"), ("pool", "rbd"), ("var", "size"), ("format", "json"),
/// ]);
/// let reply = client.command(ceph_monclient::Json(&cmd), Vec::new()).await?.into_result()?;
/// # let _ = reply; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoCommand for Json<T> {
    fn into_command(self) -> Result<String, MonError> {
        let value =
            serde_json::to_value(&self.0).map_err(|e| MonError::InvalidCommand(e.to_string()))?;
        value.into_command()
    }
}

impl CommandReply {
    /// `Ok(self)` when the command succeeded (`retval` ≥ 0), else
    /// [`MonError::Command`] with the monitor's errno and message.
    pub fn into_result(self) -> Result<CommandReply, MonError> {
        if self.retval < 0 {
            Err(MonError::Command {
                retval: self.retval,
                outs: self.outs,
            })
        } else {
            Ok(self)
        }
    }

    /// The output data as text (invalid UTF-8 replaced), as `ceph` prints
    /// it.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.outbl)
    }

    /// The output data decoded from JSON (ask for `"format": "json"`).
    /// A failed command gives its [`MonError::Command`] first.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, MonError> {
        if self.retval < 0 {
            return Err(MonError::Command {
                retval: self.retval,
                outs: self.outs.clone(),
            });
        }
        serde_json::from_slice(&self.outbl).map_err(|e| MonError::Decode {
            what: "the command's JSON output".into(),
            why: e.to_string(),
        })
    }
}

impl MonClient {
    /// Runs a command given as the `ceph` CLI's words (`"osd pool ls
    /// detail"`, `"config set mon mon_allow_pool_delete true"`; quotes
    /// group words as in a shell): the words are matched against the
    /// monitors' own command descriptions, fetched once per client, as
    /// `ceph` does. `-f json` among the words is not read: put `format=json`
    /// in them (`"osd dump --format=json"`) or send JSON.
    pub async fn command_words(&self, words: &str) -> Result<CommandReply, MonError> {
        let words = ceph_config::split_args(words)
            .map_err(|e| MonError::InvalidCommand(format!("{words:?}: {e}")))?;
        let cmd = self.words_to_command(&words).await?;
        self.command(cmd, Vec::new()).await
    }

    /// The JSON command that `words` mean to the monitors (what
    /// [`MonClient::command_words`] sends), without sending it.
    pub async fn words_to_command(
        &self,
        words: &[String],
    ) -> Result<serde_json::Map<String, Value>, MonError> {
        let table = self.command_table().await?;
        table
            .words_to_json(words)
            .map_err(|e| MonError::InvalidCommand(e.to_string()))
    }

    /// The monitors' command descriptions (`get_command_descriptions`),
    /// fetched at the first call and kept.
    pub async fn command_table(&self) -> Result<&ceph_argparse::CommandTable, MonError> {
        self.command_table
            .get_or_try_init(|| async {
                let reply = self
                    .command(r#"{"prefix": "get_command_descriptions"}"#, Vec::new())
                    .await?
                    .into_result()?;
                ceph_argparse::CommandTable::from_json(&reply.outbl).map_err(|e| MonError::Decode {
                    what: "the monitors' command descriptions".into(),
                    why: e.to_string(),
                })
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(retval: i32, outs: &str, outbl: &str) -> CommandReply {
        CommandReply {
            retval,
            outs: outs.into(),
            outbl: outbl.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_refusal_becomes_a_typed_error_with_the_monitors_message() {
        let e = reply(-2, "pool 'x' does not exist", "")
            .into_result()
            .unwrap_err();
        assert!(matches!(&e, MonError::Command { retval: -2, outs } if outs.contains("'x'")));
        assert_eq!(e.errno(), 2);
        assert!(e.to_string().contains("does not exist"));
        assert!(!e.is_retryable() && !e.is_auth() && !e.is_timeout());
        let busy = reply(-11, "try again", "").into_result().unwrap_err();
        assert!(busy.is_retryable());
        let denied = reply(-13, "access denied", "").into_result().unwrap_err();
        assert!(denied.is_auth());
        assert_eq!(reply(0, "", "x").into_result().unwrap().text(), "x");
    }

    #[test]
    fn json_output_decodes_into_the_callers_type() {
        let r = reply(0, "", r#"{"epoch": 7, "pools": ["a", "b"]}"#);
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v["epoch"], 7);
        let pools: std::collections::BTreeMap<String, Value> = r.json().unwrap();
        assert_eq!(pools.len(), 2);
        assert!(matches!(
            reply(0, "", "not json").json::<Value>(),
            Err(MonError::Decode { .. })
        ));
        assert!(matches!(
            reply(-22, "bad", "{}").json::<Value>(),
            Err(MonError::Command { retval: -22, .. })
        ));
    }

    #[test]
    fn commands_come_from_text_values_and_any_serialize() {
        let v = serde_json::json!({"prefix": "mon dump"});
        assert_eq!(
            v.clone().into_command().unwrap(),
            r#"{"prefix":"mon dump"}"#
        );
        assert_eq!((&v).into_command().unwrap(), r#"{"prefix":"mon dump"}"#);
        let map = std::collections::BTreeMap::from([("prefix", "status")]);
        assert_eq!(Json(&map).into_command().unwrap(), r#"{"prefix":"status"}"#);
        assert!(matches!(
            Json(["not", "an", "object"]).into_command(),
            Err(MonError::InvalidCommand(_))
        ));
        assert!(serde_json::json!(3).into_command().is_err());
        assert_eq!("{}".into_command().unwrap(), "{}");
    }
}
