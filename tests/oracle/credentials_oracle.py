"""The official `alibabacloud-credentials` package obtains credentials from the emulated
STS, metadata service and credentials URI: run by tests/cross/credentials_oracle.rs.

Only the package's public constructors and options are used: `sts_endpoint` (an http:// URL
is allowed by its HTTP layer), `HttpOptions(proxy=...)` for the metadata service (its
address, 100.100.100.200, is fixed, so the emulator is named as the HTTP proxy), `uri`.

Prints one JSON object: for each provider, the credentials it obtained (test values issued
by the emulator) and its provider name.
"""

import json
import sys


def main():
    endpoint, ak, secret, role_arn, oidc_provider_arn, token_file = sys.argv[1:7]
    from alibabacloud_credentials.http import HttpOptions
    from alibabacloud_credentials.provider.ecs_ram_role import EcsRamRoleCredentialsProvider
    from alibabacloud_credentials.provider.oidc import OIDCRoleArnCredentialsProvider
    from alibabacloud_credentials.provider.ram_role_arn import RamRoleArnCredentialsProvider
    from alibabacloud_credentials.provider.uri import URLCredentialsProvider

    providers = {
        "ram_role_arn": RamRoleArnCredentialsProvider(
            access_key_id=ak,
            access_key_secret=secret,
            role_arn=role_arn,
            role_session_name="python-oracle",
            sts_endpoint=endpoint,
        ),
        "oidc": OIDCRoleArnCredentialsProvider(
            role_arn=role_arn,
            oidc_provider_arn=oidc_provider_arn,
            oidc_token_file_path=token_file,
            role_session_name="python-oracle",
            sts_endpoint=endpoint,
        ),
        "ecs_ram_role": EcsRamRoleCredentialsProvider(
            http_options=HttpOptions(proxy=endpoint),
            async_update_enabled=False,
        ),
        "credentials_uri": URLCredentialsProvider(uri=endpoint + "/-/credentials"),
    }
    out = {}
    for name, provider in providers.items():
        c = provider.get_credentials()
        out[name] = {
            "access_key_id": c.get_access_key_id(),
            "access_key_secret": c.get_access_key_secret(),
            "security_token": c.get_security_token(),
            "provider_name": c.get_provider_name(),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
