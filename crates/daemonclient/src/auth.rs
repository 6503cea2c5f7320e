//! CephX with an authorizer as the messenger's authentication method for
//! a connection to a daemon: the AUTH_REQUEST carries the authorizer built
//! from our ticket for that daemon's service, a challenge is answered with
//! the authorizer rebuilt, and AUTH_DONE's payload is the daemon's reply,
//! checked against our nonce.

use ceph_auth::client::AUTH_METHOD_CEPHX;
use ceph_auth::Authorizer;
use ceph_msgr::auth::{AuthClient, AuthFailure, AuthFailureReason, AuthKeys};
use ceph_msgr::frame::ConMode;

/// Drives one [`Authorizer`] through a msgr2 handshake, or through msgr1's
/// CONNECT (where the challenge comes as `TAG_CHALLENGE_AUTHORIZER` and the
/// offered modes do not apply).
pub struct AuthorizerAuth {
    authorizer: Authorizer,
    modes: Vec<u32>,
}

impl AuthorizerAuth {
    /// Presents `authorizer`, offering `modes` (best first).
    pub fn new(authorizer: Authorizer, modes: &[ConMode]) -> Self {
        AuthorizerAuth {
            authorizer,
            modes: modes.iter().map(|m| m.wire()).collect(),
        }
    }
}

fn rejected(e: ceph_auth::AuthError) -> AuthFailure {
    AuthFailure::new(AuthFailureReason::Rejected, e.to_string())
}

impl AuthClient for AuthorizerAuth {
    fn method(&self) -> u32 {
        AUTH_METHOD_CEPHX
    }

    fn preferred_modes(&self) -> Vec<u32> {
        self.modes.clone()
    }

    fn initial_payload(&mut self) -> Result<Vec<u8>, AuthFailure> {
        Ok(self.authorizer.payload.clone())
    }

    fn handle_reply_more(&mut self, payload: &[u8]) -> Result<Vec<u8>, AuthFailure> {
        // The daemon challenges us to prove the ticket is fresh.
        self.authorizer.add_challenge(payload).map_err(rejected)?;
        Ok(self.authorizer.payload.clone())
    }

    fn handle_done(
        &mut self,
        _global_id: u64,
        _con_mode: u32,
        payload: &[u8],
    ) -> Result<AuthKeys, AuthFailure> {
        let connection_secret = self.authorizer.verify_reply(payload).map_err(rejected)?;
        Ok(AuthKeys {
            session_key: self.authorizer.session_key().secret().to_vec(),
            connection_secret,
        })
    }
}
