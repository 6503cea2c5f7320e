//! CephX as the messenger's authentication method for monitor sessions,
//! and the classification of the monitor's refusals into typed failures.

use ceph_auth::{AuthError, CephxClient, CryptoKey};
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use ceph_msgr::frame::ConMode;
// EOPNOTSUPP: a monitor's AUTH_BAD_METHOD result when it does not allow
// the method or any of the connection modes offered. EKEYEXPIRED marks a
// refusal of an auth ticket that had expired by our clock; `from_msgr`
// turns it into `MonError::TicketExpired`.
pub(crate) use ceph_types::errno::EKEYEXPIRED;
use ceph_types::errno::EOPNOTSUPP;
use ceph_types::EntityName;

/// Drives a [`CephxClient`] from the msgr2 handshake.
pub struct CephxAuth {
    /// The CephX exchange itself (tickets, keys).
    pub client: CephxClient,
    modes: Vec<u32>,
}

impl CephxAuth {
    /// Authenticates as `name` with `key`, asking for tickets to the
    /// services in `want_services` and offering connection `modes`.
    pub fn new(name: &EntityName, key: CryptoKey, want_services: u32, modes: &[ConMode]) -> Self {
        let client = CephxClient::new(name.clone(), key).with_want_keys(want_services);
        Self::with_client(client, modes)
    }

    /// Continues with an existing client's global id and tickets (so the
    /// monitor lets us reclaim the global id).
    pub fn with_client(client: CephxClient, modes: &[ConMode]) -> Self {
        let modes = modes.iter().map(|m| m.wire()).collect();
        CephxAuth { client, modes }
    }
}

fn failure(e: AuthError) -> AuthFailure {
    match e {
        AuthError::PermissionDenied(errno) => {
            AuthFailure::new(AuthFailureReason::Rejected, e.to_string()).with_errno(errno.abs())
        }
        AuthError::BadKey(_) => AuthFailure::new(AuthFailureReason::Rejected, e.to_string()),
        e => AuthFailure::new(AuthFailureReason::BadReply, e.to_string()),
    }
}

fn mode_names(modes: &[u32]) -> String {
    let names: Vec<String> = modes
        .iter()
        .map(|m| match ConMode::from_wire(*m) {
            Some(ConMode::Crc) => "crc".to_string(),
            Some(ConMode::Secure) => "secure".to_string(),
            None => format!("mode {m}"),
        })
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn method_names(methods: &[u32]) -> String {
    let names: Vec<String> = methods
        .iter()
        .map(|m| match *m {
            1 => "none".to_string(),
            2 => "cephx".to_string(),
            m => format!("method {m}"),
        })
        .collect();
    if names.is_empty() {
        "none at all".into()
    } else {
        names.join(", ")
    }
}

/// Classifies an AUTH_BAD_METHOD: the monitor's `result` and what it
/// allows, compared with what we offered.
pub(crate) fn classify_bad_method(
    method: u32,
    offered_modes: &[u32],
    result: i32,
    allowed_methods: &[u32],
    allowed_modes: &[u32],
    presented_expired_ticket: bool,
) -> AuthFailure {
    let errno = result.abs();
    if !allowed_methods.is_empty() && !allowed_methods.contains(&method) {
        return AuthFailure::new(
            AuthFailureReason::BadMethod,
            format!(
                "the monitor allows {} but we use {}",
                method_names(allowed_methods),
                method_names(&[method])
            ),
        )
        .with_errno(errno);
    }
    let overlap = offered_modes.iter().any(|m| allowed_modes.contains(m));
    // A monitor answers EOPNOTSUPP; any refusal listing modes none of
    // which we offer means the same.
    if (errno == EOPNOTSUPP || !allowed_modes.is_empty()) && !overlap {
        return AuthFailure::new(
            AuthFailureReason::UnsupportedMode,
            format!(
                "the monitor allows connection modes {} but we offer {} (see ms_mon_client_mode)",
                mode_names(allowed_modes),
                mode_names(offered_modes)
            ),
        )
        .with_errno(errno);
    }
    if presented_expired_ticket {
        return AuthFailure::new(
            AuthFailureReason::Other,
            format!("the monitor refused our expired auth ticket (errno {errno})"),
        )
        .with_errno(EKEYEXPIRED);
    }
    AuthFailure::new(
        AuthFailureReason::Rejected,
        format!(
            "the monitor refused our credentials (errno {errno}): wrong key, an entity it does \
             not know, or an entity without mon caps (the monitor's log says which)"
        ),
    )
    .with_errno(errno)
}

impl AuthClient for CephxAuth {
    fn method(&self) -> u32 {
        ceph_auth::client::AUTH_METHOD_CEPHX
    }

    fn preferred_modes(&self) -> Vec<u32> {
        self.modes.clone()
    }

    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(self.client.initial_auth_payload())
    }

    fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        self.client.handle_reply_more(payload).map_err(failure)
    }

    fn handle_done(
        &mut self,
        global_id: u64,
        _con_mode: u32,
        payload: &[u8],
    ) -> Result<AuthKeys, AuthFailure> {
        let outcome = self
            .client
            .handle_done(global_id, payload)
            .map_err(failure)?;
        Ok(AuthKeys {
            session_key: outcome.session_key.secret().to_vec(),
            connection_secret: outcome.connection_secret,
        })
    }

    fn handle_bad_method(
        &mut self,
        method: u32,
        result: i32,
        allowed_methods: &[u32],
        allowed_modes: &[u32],
    ) -> Result<(), AuthFailure> {
        // We have one method; nothing to switch to, so classify and stop.
        let expired = self.client.global_id() != 0 && self.client.auth_ticket_expired();
        Err(classify_bad_method(
            method,
            &self.modes,
            result,
            allowed_methods,
            allowed_modes,
            expired,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CEPHX: u32 = 2;
    const CRC: u32 = 1;
    const SECURE: u32 = 2;

    #[test]
    fn refusals_are_classified() {
        let f = classify_bad_method(CEPHX, &[CRC], -95, &[CEPHX], &[SECURE], false);
        assert_eq!(f.reason, AuthFailureReason::UnsupportedMode);
        assert!(
            f.detail.contains("secure") && f.detail.contains("crc"),
            "{}",
            f.detail
        );
        let f = classify_bad_method(CEPHX, &[SECURE, CRC], -95, &[1], &[CRC, SECURE], false);
        assert_eq!(f.reason, AuthFailureReason::BadMethod);
        let f = classify_bad_method(CEPHX, &[SECURE, CRC], -13, &[CEPHX], &[CRC, SECURE], false);
        assert_eq!(f.reason, AuthFailureReason::Rejected);
        assert_eq!(f.errno, Some(13));
        let f = classify_bad_method(CEPHX, &[SECURE, CRC], -13, &[CEPHX], &[CRC, SECURE], true);
        assert_eq!(f.errno, Some(EKEYEXPIRED));
    }
}
