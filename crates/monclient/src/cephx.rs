//! CephX as the messenger's authentication method for monitor sessions.

use ceph_auth::{AuthError, CephxClient, CryptoKey};
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use ceph_msgr::frame::ConMode;
use ceph_types::EntityName;

/// Drives a [`CephxClient`] from the msgr2 handshake.
pub struct CephxAuth {
    pub client: CephxClient,
    modes: Vec<u32>,
}

impl CephxAuth {
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
}
