//! A credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`): `GET /-/credentials` answers
//! `{Code: "Success", AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` with new
//! temporary credentials. No authentication, as the SDKs send none; the query is ignored.

use std::time::SystemTime;

use serde_json::json;

use super::{CredentialFault, CredentialService, json_response};
use crate::model::Emulator;
use crate::response::ModelResponse;

pub(super) fn answer(emu: &Emulator, now: SystemTime) -> ModelResponse {
    let mut delay = None;
    match emu.service_fault(CredentialService::CredentialsUri) {
        Some(CredentialFault::Error {
            status,
            code,
            message,
        }) => {
            return json_response(
                status,
                &json!({"Code": code, "Message": message}),
                Some(&code),
            );
        }
        Some(CredentialFault::Delay(d)) => delay = Some(d),
        None => {}
    }
    let creds = emu.issue_credentials(CredentialService::CredentialsUri, None, now);
    let mut doc = super::credentials_json(&creds);
    doc["Code"] = json!("Success");
    let mut resp = json_response(200, &doc, None);
    resp.first_byte_delay = delay;
    resp
}
