//! How to sign: the signature version, region and product, and optional extras.

use std::fmt;
use std::str::FromStr;

use crate::SignError;
use crate::v4::{DEFAULT_PRODUCT, validate_scope_part};

/// The OSS signature version.
///
/// ```
/// use oss_sign::SignatureVersion;
///
/// assert_eq!(SignatureVersion::default(), SignatureVersion::V4);
/// assert_eq!("1".parse::<SignatureVersion>(), Ok(SignatureVersion::V1));
/// assert_eq!("v4".parse::<SignatureVersion>(), Ok(SignatureVersion::V4));
/// assert!("2".parse::<SignatureVersion>().is_err());
/// assert_eq!(SignatureVersion::V1.to_string(), "1");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SignatureVersion {
    /// HMAC-SHA1 (`Authorization: OSS id:sig`), for older endpoints and tools.
    V1,
    /// `OSS4-HMAC-SHA256`, region-scoped: the default.
    #[default]
    V4,
}

impl fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1 => "1",
            Self::V4 => "4",
        })
    }
}

/// The text was not `1`, `4`, `v1` or `v4`.
///
/// ```
/// let err = "5".parse::<oss_sign::SignatureVersion>().unwrap_err();
/// assert!(err.to_string().contains("1 or 4"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseSignatureVersionError;

impl fmt::Display for ParseSignatureVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the signature version must be 1 or 4")
    }
}

impl std::error::Error for ParseSignatureVersionError {}

impl FromStr for SignatureVersion {
    type Err = ParseSignatureVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1" | "v1" | "V1" => Ok(Self::V1),
            "4" | "v4" | "V4" => Ok(Self::V4),
            _ => Err(ParseSignatureVersionError),
        }
    }
}

/// What a signer needs besides the request, the credentials and the time: the version,
/// the region and product (V4 scope), the additional headers to sign (V4) and extra
/// sub-resource keys (V1). Built once per client and reused.
///
/// ```
/// use oss_sign::{SignatureVersion, SigningConfig};
///
/// let v4 = SigningConfig::v4("cn-hangzhou")?.with_additional_headers(["range", "if-match"]);
/// assert_eq!(v4.version(), SignatureVersion::V4);
/// assert_eq!(v4.region(), "cn-hangzhou");
/// assert_eq!(v4.product(), "oss");
///
/// let v1 = SigningConfig::new(SignatureVersion::V1, "")?;
/// assert_eq!(v1.version(), SignatureVersion::V1);
/// assert!(SigningConfig::v4("").is_err());
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningConfig {
    version: SignatureVersion,
    region: String,
    product: String,
    additional_headers: Vec<String>,
    extra_subresources: Vec<String>,
}

impl SigningConfig {
    /// V4 signing in `region` (e.g. `cn-hangzhou`, without the `oss-` prefix).
    ///
    /// # Errors
    /// [`SignError::MissingRegion`] for an empty region, [`SignError::InvalidScopePart`] for
    /// one with characters other than letters, digits, `-`, `_`, `.`.
    ///
    /// ```
    /// assert!(oss_sign::SigningConfig::v4("oss cn").is_err());
    /// ```
    pub fn v4(region: impl Into<String>) -> Result<Self, SignError> {
        Self::new(SignatureVersion::V4, region)
    }

    /// V1 signing (no region needed).
    ///
    /// ```
    /// assert_eq!(oss_sign::SigningConfig::v1().version(), oss_sign::SignatureVersion::V1);
    /// ```
    pub fn v1() -> Self {
        Self {
            version: SignatureVersion::V1,
            region: String::new(),
            product: DEFAULT_PRODUCT.to_owned(),
            additional_headers: Vec::new(),
            extra_subresources: Vec::new(),
        }
    }

    /// Signing with `version`; the region is required (and checked) for V4 only.
    ///
    /// # Errors
    /// As [`v4`](Self::v4) when `version` is V4.
    ///
    /// ```
    /// use oss_sign::{SignatureVersion, SigningConfig};
    ///
    /// assert!(SigningConfig::new(SignatureVersion::V4, "us-west-1").is_ok());
    /// assert!(SigningConfig::new(SignatureVersion::V1, "").is_ok());
    /// ```
    pub fn new(version: SignatureVersion, region: impl Into<String>) -> Result<Self, SignError> {
        let region = region.into();
        if version == SignatureVersion::V4 {
            validate_scope_part("region", &region)?;
        }
        Ok(Self {
            version,
            region,
            ..Self::v1()
        })
    }

    /// Uses `product` in the V4 scope instead of `oss` (`oss-cloudbox` for CloudBox, whose
    /// id then goes in the region).
    ///
    /// # Errors
    /// [`SignError::InvalidScopePart`] for an empty product or one with other characters
    /// than letters, digits, `-`, `_`, `.`.
    ///
    /// ```
    /// let c = oss_sign::SigningConfig::v4("cb-123")?.with_product("oss-cloudbox")?;
    /// assert_eq!(c.product(), "oss-cloudbox");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn with_product(mut self, product: impl Into<String>) -> Result<Self, SignError> {
        let product = product.into();
        validate_scope_part("product", &product)?;
        self.product = product;
        Ok(self)
    }

    /// V4: also sign these headers (`range`, `host`, `if-match`...) when the request has
    /// them with a non-empty value. Names signed anyway (`x-oss-*`, `content-type`,
    /// `content-md5`) are ignored. V1 has no such list and ignores it.
    ///
    /// ```
    /// let c = oss_sign::SigningConfig::v4("cn-hangzhou")?.with_additional_headers(["Range"]);
    /// assert_eq!(c.additional_headers(), ["Range"]);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    #[must_use]
    pub fn with_additional_headers(
        mut self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.additional_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// V1: also sign these query keys as sub-resources, beyond
    /// [`v1::SUBRESOURCES`](crate::v1::SUBRESOURCES) and `x-oss-*` (for operations newer
    /// than the list). V4 signs every parameter anyway and ignores it.
    ///
    /// ```
    /// let c = oss_sign::SigningConfig::v1().with_v1_subresources(["newFeature"]);
    /// assert_eq!(c.v1_subresources(), ["newFeature"]);
    /// ```
    #[must_use]
    pub fn with_v1_subresources(
        mut self,
        keys: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.extra_subresources = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The signature version.
    ///
    /// ```
    /// assert_eq!(oss_sign::SigningConfig::v1().version(), oss_sign::SignatureVersion::V1);
    /// ```
    pub fn version(&self) -> SignatureVersion {
        self.version
    }

    /// The region (empty for a V1 config built without one).
    ///
    /// ```
    /// assert_eq!(oss_sign::SigningConfig::v1().region(), "");
    /// ```
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The V4 scope's product (`oss` unless changed).
    ///
    /// ```
    /// assert_eq!(oss_sign::SigningConfig::v1().product(), "oss");
    /// ```
    pub fn product(&self) -> &str {
        &self.product
    }

    /// The additional header names asked for, as given.
    ///
    /// ```
    /// assert!(oss_sign::SigningConfig::v1().additional_headers().is_empty());
    /// ```
    pub fn additional_headers(&self) -> &[String] {
        &self.additional_headers
    }

    /// The extra V1 sub-resource keys, as given.
    ///
    /// ```
    /// assert!(oss_sign::SigningConfig::v1().v1_subresources().is_empty());
    /// ```
    pub fn v1_subresources(&self) -> &[String] {
        &self.extra_subresources
    }
}
