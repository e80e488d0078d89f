//! Where providers may be reached. An admin types the WhatsApp and SMS base URLs and the
//! SMTP host; without these checks they could point the app at the cloud's metadata
//! service or an internal server and read its answers through a test send. HTTP
//! providers must be public addresses (unless `ENGAJAR_ALLOW_PRIVATE_PROVIDERS=1`, for
//! local fakes), checked on the resolved addresses when the URL is saved and again by the
//! client's own resolver at every connection, so a name that later resolves elsewhere (DNS
//! rebinding) is refused too. The SMTP host may be a local relay, but never link-local or
//! a metadata address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether providers may be on loopback or private networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetPolicy {
    pub allow_private: bool,
}

fn v4_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        // Shared address space (carrier-grade NAT), where 100.100.100.200 is a metadata
        // service.
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments and benchmarking.
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19)))
}

fn v6_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return v4_public(v4);
    }
    let first = ip.segments()[0];
    let second = ip.segments()[1];
    !(ip.is_unspecified()
        // NAT64's local-use prefix (64:ff9b:1::/48) and Teredo (2001::/32) reach IPv4
        // hosts through a translator.
        || (first == 0x64 && second == 0xff9b)
        || (first == 0x2001 && second == 0)
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local (fc00::/7, where fd00:ec2::254 is a metadata service).
        || (first & 0xfe00) == 0xfc00
        // Link-local and the old site-local.
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // Documentation.
        || (first == 0x2001 && ip.segments()[1] == 0x0db8))
}

/// An IPv4 address carried inside an IPv6 one: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), 6to4 (`2002:aabb:ccdd::`) or NAT64's well-known prefix.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let v4 = |a: u16, b: u16| Ipv4Addr::new((a >> 8) as u8, a as u8, (b >> 8) as u8, b as u8);
    if s[..6] == [0; 6] && (s[6] != 0 || s[7] > 1) {
        return Some(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(v4(s[1], s[2]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., a, b] = s;
        return Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ));
    }
    None
}

/// Reachable on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_public(v4),
        IpAddr::V6(v6) => v6_public(v6),
    }
}

/// Where an SMTP relay may be: anywhere but link-local, metadata services, multicast or
/// an unspecified address.
pub fn smtp_allowed(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4 == Ipv4Addr::new(100, 100, 100, 200))
        }
        IpAddr::V6(v6) => {
            !((v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254))
        }
    }
}

/// Why a host may not be used, in pt-BR, or `None` when every address it resolves to is
/// allowed by `allowed`. A name that does not resolve now gets `unresolved` (`None`: let
/// through, for clients that check every connection again themselves).
async fn check_host(
    host: &str,
    port: u16,
    allowed: impl Fn(IpAddr) -> bool,
    refusal: &str,
    unresolved: Option<&str>,
) -> Option<String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = if let Ok(ip) = host.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        match tokio::net::lookup_host((host, port)).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => {
                tracing::info!(host, error = %e, "provider host does not resolve now");
                return unresolved.map(str::to_string);
            }
        }
    };
    if addrs.iter().all(|a| allowed(a.ip())) {
        None
    } else {
        tracing::warn!(host, "provider host leads to a refused address");
        Some(refusal.to_string())
    }
}

/// Why an HTTP provider's base URL may not be used, if it may not (checked on the
/// addresses its host resolves to now).
pub async fn check_base_url(url: &str, policy: NetPolicy) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some(crate::messages::sms::BASE_URL_INVALID.to_string());
    };
    if policy.allow_private {
        return None;
    }
    let host = parsed.host_str()?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    check_host(
        &host,
        port,
        is_public,
        crate::messages::channels::HOST_NOT_PUBLIC,
        None,
    )
    .await
}

/// Why an SMTP host may not be saved or tested, if it may not. The mail library
/// resolves the name again on its own: one that cannot be checked now (and might answer
/// with a metadata address later) is not taken.
pub async fn check_smtp_host(host: &str, port: u16) -> Option<String> {
    check_host(
        host,
        port,
        smtp_allowed,
        crate::messages::channels::SMTP_HOST_REFUSED,
        Some(crate::messages::channels::SMTP_HOST_UNRESOLVED),
    )
    .await
}

/// The same check before a send: a saved host that does not resolve for a moment is a
/// passing failure for the send's retries to meet, not a reason to stop the run.
pub async fn check_smtp_host_to_send(host: &str, port: u16) -> Option<String> {
    check_host(
        host,
        port,
        smtp_allowed,
        crate::messages::channels::SMTP_HOST_REFUSED,
        None,
    )
    .await
}

/// Resolves names as the system does, keeping only public addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                tracing::warn!(host, "provider host resolves to no public address");
                return Err(crate::messages::channels::HOST_NOT_PUBLIC.into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for a provider at `base_url`: it follows no redirect and, unless the
/// policy allows private providers, connects only to public addresses.
pub fn provider_client(
    base_url: &str,
    timeout: std::time::Duration,
    policy: NetPolicy,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if !policy.allow_private {
        // An address typed as such never goes through the resolver: checked here.
        let literal = url::Url::parse(base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .and_then(|h| {
                h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .ok()
            });
        if literal.is_some_and(|ip| !is_public(ip)) {
            return Err(crate::messages::channels::HOST_NOT_PUBLIC.to_string());
        }
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder.build().map_err(|e| {
        tracing::warn!(error = %e, "provider client");
        crate::messages::channels::CLIENT_FAILED.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.10",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2002:7f00:1::",
            "64:ff9b:1::7f00:1",
            "2001:0:4136:e378::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "157.240.1.1", "2a03:2880::1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn the_client_refuses_private_addresses_at_connection_time() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let strict = NetPolicy {
            allow_private: false,
        };
        let timeout = std::time::Duration::from_secs(5);
        // A literal private address is refused before any client exists.
        assert!(provider_client(&format!("http://127.0.0.1:{port}"), timeout, strict).is_err());
        // A name is resolved by the client at each connection: localhost leads nowhere.
        let base = format!("http://localhost:{port}");
        let client = provider_client(&base, timeout, strict).unwrap();
        assert!(client.get(&base).send().await.is_err());
        assert!(listener.accept().is_err(), "nothing connected");
        // Allowed, the same name connects.
        let open = provider_client(
            &base,
            timeout,
            NetPolicy {
                allow_private: true,
            },
        )
        .unwrap();
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            open.get(&base).send(),
        )
        .await;
        assert!(listener.accept().is_ok(), "connected when allowed");
    }

    #[test]
    fn a_local_relay_is_a_fine_smtp_host_but_metadata_is_not() {
        for ip in ["127.0.0.1", "10.0.0.5", "192.168.1.2", "::1", "203.0.113.9"] {
            assert!(smtp_allowed(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "169.254.169.254",
            "100.100.100.200",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!smtp_allowed(ip.parse().unwrap()), "{ip}");
        }
    }
}
