//! Temporary credentials from a service's JSON (`AccessKeyId`, `AccessKeySecret`,
//! `SecurityToken`, `Expiration` as `YYYY-MM-DDTHH:MM:SSZ`), with their expiry moved to the
//! local clock.
//!
//! Clock skew: `Expiration` is the service's time. When the answer's `Date` differs from the
//! local clock by more than [`SKEW_TOLERANCE`], the expiry is shifted by that difference, so a
//! fast or slow local clock neither uses credentials past their end nor refreshes credentials
//! that have hours left. Within the tolerance the `Date`'s one-second resolution would add
//! more error than it removes, so it is not applied.

use std::time::{Duration, SystemTime};

use oss_sign::{Credentials, SigningTime};
use serde_json::Value;

use crate::CredentialsError;

/// Clock differences up to this are left alone (`Date` has one-second resolution).
pub(crate) const SKEW_TOLERANCE: Duration = Duration::from_secs(2);

/// The fields of `object` as credentials whose expiry is in local time.
pub(crate) fn credentials_from_json(
    provider: &'static str,
    endpoint: &str,
    object: &Value,
    server_date: Option<SystemTime>,
    local_now: SystemTime,
) -> Result<Credentials, CredentialsError> {
    let field = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                CredentialsError::invalid_response(
                    provider,
                    endpoint,
                    format!("no `{name}` in the credentials"),
                )
            })
    };
    let id = field("AccessKeyId")?;
    let secret = field("AccessKeySecret")?;
    let expiration_text = field("Expiration")?;
    let expiration = SigningTime::parse_iso8601(expiration_text)
        .map_err(|_| {
            CredentialsError::invalid_response(
                provider,
                endpoint,
                format!("`Expiration` `{expiration_text}` is not YYYY-MM-DDTHH:MM:SSZ"),
            )
        })?
        .to_system_time();
    let invalid = |source| CredentialsError::InvalidCredentials { provider, source };
    let mut credentials = Credentials::new(id, secret).map_err(invalid)?;
    if let Some(token) = object
        .get("SecurityToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        credentials = credentials.with_security_token(token).map_err(invalid)?;
    }
    let expiry = local_expiry(provider, expiration, server_date, local_now)?;
    credentials.with_expiry(expiry).map_err(invalid)
}

/// `expiration` (service time) in local time, checked to be in the future.
pub(crate) fn local_expiry(
    provider: &'static str,
    expiration: SystemTime,
    server_date: Option<SystemTime>,
    local_now: SystemTime,
) -> Result<SystemTime, CredentialsError> {
    let mut expiry = expiration;
    if let Some(server) = server_date {
        match server.duration_since(local_now) {
            // The service's clock is ahead: its expiry comes earlier by ours.
            Ok(ahead) if ahead > SKEW_TOLERANCE => {
                tracing::warn!(
                    "{provider}: the service's clock is {}s ahead of ours; credentials expiry corrected",
                    ahead.as_secs()
                );
                expiry = expiration.checked_sub(ahead).unwrap_or(expiration);
            }
            Err(behind) if behind.duration() > SKEW_TOLERANCE => {
                tracing::warn!(
                    "{provider}: the service's clock is {}s behind ours; credentials expiry corrected",
                    behind.duration().as_secs()
                );
                expiry = expiration
                    .checked_add(behind.duration())
                    .unwrap_or(expiration);
            }
            _ => {}
        }
    }
    if expiry <= local_now {
        return Err(CredentialsError::ExpiredOnArrival {
            provider,
            expiration,
            local_now,
        });
    }
    Ok(expiry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    const NOW: u64 = 1_800_000_000; // 2027-01-15T08:00:00Z

    fn doc(expiration: &str) -> Value {
        json!({"AccessKeyId": "STS.a", "AccessKeySecret": "s", "SecurityToken": "t", "Expiration": expiration})
    }

    #[test]
    fn parses_and_keeps_local_time_when_clocks_agree() {
        let c = credentials_from_json(
            "p",
            "e",
            &doc("2027-01-15T09:00:00Z"),
            Some(at(NOW + 1)),
            at(NOW),
        )
        .unwrap();
        assert_eq!(c.expiry(), Some(at(NOW + 3600)));
        assert!(c.has_security_token());
        let c =
            credentials_from_json("p", "e", &doc("2027-01-15T09:00:00Z"), None, at(NOW)).unwrap();
        assert_eq!(c.expiry(), Some(at(NOW + 3600)));
    }

    #[test]
    fn corrects_for_a_skewed_clock() {
        // Our clock is 2 h fast: without the Date the credentials look expired on arrival.
        let local = at(NOW + 7200);
        let e =
            credentials_from_json("p", "e", &doc("2027-01-15T09:00:00Z"), None, local).unwrap_err();
        assert!(
            matches!(e, CredentialsError::ExpiredOnArrival { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("check the clock"), "{e}");
        let c = credentials_from_json("p", "e", &doc("2027-01-15T09:00:00Z"), Some(at(NOW)), local)
            .unwrap();
        assert_eq!(c.expiry(), Some(at(NOW + 7200 + 3600)));
        // Our clock is 10 min slow: the expiry comes 10 min earlier by it.
        let local = at(NOW - 600);
        let c = credentials_from_json("p", "e", &doc("2027-01-15T09:00:00Z"), Some(at(NOW)), local)
            .unwrap();
        assert_eq!(c.expiry(), Some(at(NOW + 3600 - 600)));
    }

    #[test]
    fn names_the_missing_or_bad_field() {
        let mut d = doc("2027-01-15T09:00:00Z");
        d.as_object_mut().unwrap().remove("AccessKeySecret");
        let e = credentials_from_json("p", "e", &d, None, at(NOW)).unwrap_err();
        assert!(e.to_string().contains("`AccessKeySecret`"), "{e}");
        let e = credentials_from_json("p", "e", &doc("tomorrow"), None, at(NOW)).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DDTHH:MM:SSZ"), "{e}");
        let e = credentials_from_json("p", "e", &json!({"AccessKeyId": "bad id", "AccessKeySecret": "TopSecret", "Expiration": "2027-01-15T09:00:00Z"}), None, at(NOW)).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("TopSecret"));
    }
}
