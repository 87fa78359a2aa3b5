//! Through an HTTP proxy: every connection is a CONNECT tunnel to the endpoint (plain-HTTP
//! endpoints too), credentials from the proxy URL, `NO_PROXY` exceptions, and clear errors
//! when the proxy refuses.

use oss_emulator::{ConnectPolicy, ConnectProxy, ObjectSpec};
use oss_http::{AddressingStyle, ByteRange, Collect, GetRange, Proxy, SignatureVersion};

use crate::common::{BUCKET, Env, chain};

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

async fn fetch_all(client: &oss_http::Client) -> Result<Vec<u8>, oss_http::Error> {
    let meta = client.head_object(BUCKET, "k", None).await?;
    let pin = meta.pin();
    let mut sink = Collect::default();
    let get = GetRange::new(BUCKET, "k", &pin, ByteRange::new(0, meta.size).unwrap());
    client.get_range(&get, &mut sink, None).await?;
    Ok(sink.data)
}

#[tokio::test]
async fn downloads_through_a_connect_tunnel_with_credentials() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(data(50_000)))
        .unwrap();
    let proxy = ConnectProxy::start(ConnectPolicy::Basic {
        user: "alice".into(),
        password: "pr0xy-pass".into(),
    })
    .await
    .unwrap();
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V4)
        .proxy(Proxy::url(&proxy.url_with_credentials("alice", "pr0xy-pass"), None).unwrap())
        .build()
        .unwrap();
    assert_eq!(fetch_all(&client).await.unwrap(), data(50_000));
    let connects = proxy.connects();
    assert!(!connects.is_empty());
    for c in &connects {
        assert_eq!(c.target, format!("127.0.0.1:{}", env.port()));
        assert!(c.had_credentials && c.status == 200, "{c:?}");
    }
    assert!(!format!("{client:?}").contains("pr0xy-pass"));
}

#[tokio::test]
async fn a_refusal_names_the_proxy_the_status_and_the_fix() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(data(10)))
        .unwrap();
    // 407: no credentials in the URL.
    let auth = ConnectProxy::start(ConnectPolicy::Basic {
        user: "alice".into(),
        password: "right".into(),
    })
    .await
    .unwrap();
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V4)
        .proxy(Proxy::url(&auth.url_with_credentials("alice", "wrong-pw"), None).unwrap())
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    let text = chain(&e);
    assert!(matches!(e, oss_http::Error::Proxy { .. }), "{text}");
    assert!(!e.is_retryable(), "{text}");
    assert_eq!(e.proxy_error().and_then(|p| p.status()), Some(407));
    assert!(
        text.contains(&auth.url()) && text.contains("407") && text.contains("user:password"),
        "{text}"
    );
    assert!(!text.contains("wrong-pw"), "{text}");
    // 403 to a port other than 443: the usual CONNECT rule, and the way around it.
    let refuse = ConnectProxy::start(ConnectPolicy::Refuse(403))
        .await
        .unwrap();
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V4)
        .proxy(Proxy::url(&refuse.url(), None).unwrap())
        .build()
        .unwrap();
    let e = client.head_object(BUCKET, "k", None).await.unwrap_err();
    let text = chain(&e);
    assert!(
        text.contains("403 Forbidden") && text.contains("port 443") && text.contains("NO_PROXY"),
        "{text}"
    );
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn no_proxy_exceptions_connect_directly() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(data(1000)))
        .unwrap();
    let proxy = ConnectProxy::start(ConnectPolicy::Refuse(403))
        .await
        .unwrap();
    let lookup = |name: &str| match name {
        "HTTP_PROXY" => Some(proxy.url()),
        "no_proxy" => Some("example.com,127.0.0.0/8".to_owned()),
        _ => None,
    };
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V1)
        .proxy(Proxy::from_env(lookup).unwrap())
        .build()
        .unwrap();
    assert_eq!(fetch_all(&client).await.unwrap(), data(1000));
    assert!(proxy.connects().is_empty());
    // The same variables without the exception: through the (refusing) proxy.
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V1)
        .proxy(
            Proxy::from_env(lookup)
                .unwrap()
                .with_no_proxy("example.com"),
        )
        .build()
        .unwrap();
    assert!(client.head_object(BUCKET, "k", None).await.is_err());
    assert_eq!(proxy.connects().len(), 1);
}
