//! Client-side balancing across the replicas behind one host name.
//!
//! Behind a Kubernetes ClusterIP, one long-lived HTTP/2 connection pins
//! every call of a client to the pod it first reached. With a headless
//! Service (`clusterIP: None`) the name resolves to every ready pod
//! instead: the channel resolves it again every few seconds, keeps one
//! connection per address and spreads calls over them (tower's
//! power-of-two-choices balancer, through tonic's `balance_channel`).
//!
//! Until the first resolution succeeds the channel uses the name itself as
//! one endpoint, so a call never waits for DNS; a failed or empty
//! resolution keeps the addresses it had, so a DNS hiccup does not empty
//! the pool.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint, Uri};

use super::{ChannelOptions, ClientChannels};

/// How often a name is resolved again.
pub(super) const RESOLVE_EVERY: Duration = Duration::from_secs(5);

/// Changes queued for the balancer: a resolution changes a few addresses
/// at most, and the resolver waits when the queue is full.
const CHANGES: usize = 64;

/// Resolves `host` and `port` to the addresses of its replicas.
pub type Resolve = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system resolver (DNS, `/etc/hosts`).
pub fn dns() -> Resolve {
    Arc::new(|host, port| {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    })
}

/// A host name and port to balance over.
pub(super) struct Target {
    scheme: String,
    host: String,
    port: u16,
}

impl Target {
    /// The target of `uri`, unless it names an address already (nothing to
    /// balance: one address, one connection).
    pub(super) fn of(uri: &Uri) -> Option<Self> {
        let host = uri.host()?;
        if host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok() {
            return None;
        }
        let scheme = uri.scheme_str()?.to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Some(Self {
            scheme,
            host: host.to_owned(),
            port,
        })
    }
}

/// Which endpoint of the pool a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    /// The host name itself, until the first resolution.
    Name,
    /// One resolved address.
    Address(SocketAddr),
}

/// A channel balanced over the addresses of `target`; `by_name` is the
/// endpoint of the name itself. Resolution runs as long as the channel is
/// in use.
pub(super) fn channel(
    channels: ClientChannels,
    target: Target,
    by_name: Endpoint,
    options: ChannelOptions,
) -> Channel {
    let (channel, changes) = Channel::balance_channel(CHANGES);
    tokio::spawn(async move {
        if changes
            .send(Change::Insert(Key::Name, by_name))
            .await
            .is_err()
        {
            return;
        }
        let mut current: BTreeSet<SocketAddr> = BTreeSet::new();
        loop {
            let resolved = (channels.resolve)(target.host.clone(), target.port).await;
            match resolved {
                Ok(addresses) if !addresses.is_empty() => {
                    let wanted: BTreeSet<SocketAddr> = addresses.into_iter().collect();
                    let mut updates = Vec::new();
                    for gone in current.difference(&wanted) {
                        updates.push(Change::Remove(Key::Address(*gone)));
                    }
                    for new in wanted.difference(&current) {
                        match channels.address_endpoint(&target, *new, options) {
                            Ok(endpoint) => {
                                updates.push(Change::Insert(Key::Address(*new), endpoint))
                            }
                            Err(error) => {
                                tracing::warn!(host = %target.host, address = %new, %error, "cannot use a resolved address");
                            }
                        }
                    }
                    if current.is_empty() && !updates.is_empty() {
                        updates.push(Change::Remove(Key::Name));
                    }
                    if !updates.is_empty() {
                        tracing::debug!(host = %target.host, addresses = ?wanted, "replicas changed");
                    }
                    for update in updates {
                        if changes.send(update).await.is_err() {
                            return;
                        }
                    }
                    current = wanted;
                }
                Ok(_) => {
                    tracing::warn!(host = %target.host, "the name resolved to no address; keeping the replicas known");
                }
                Err(error) => {
                    tracing::warn!(host = %target.host, %error, "cannot resolve; keeping the replicas known");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(channels.resolve_every) => {}
                () = changes.closed() => return,
            }
        }
    });
    channel
}

impl ClientChannels {
    /// The endpoint of one resolved `address` of `target`: TLS still
    /// verifies the certificate against the host name, not the address.
    fn address_endpoint(
        &self,
        target: &Target,
        address: SocketAddr,
        options: ChannelOptions,
    ) -> Result<Endpoint, super::ChannelError> {
        let uri = format!("{}://{address}", target.scheme);
        let endpoint = super::configured(
            Endpoint::from_shared(uri.clone()).map_err(|source| super::ChannelError::Endpoint {
                endpoint: uri.clone(),
                source,
            })?,
            options,
        );
        if target.scheme != "https" {
            return Ok(endpoint);
        }
        let config = self
            .tls
            .config()
            .ok_or_else(|| super::ChannelError::NoCa(uri.clone()))?
            .domain_name(target.host.clone());
        endpoint
            .tls_config(config)
            .map_err(|source| super::ChannelError::Endpoint {
                endpoint: uri,
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_balanced_and_addresses_are_not() {
        let target = |uri: &str| Target::of(&uri.parse::<Uri>().unwrap()).map(|t| (t.host, t.port));
        assert_eq!(
            target("http://customer:50052"),
            Some(("customer".to_owned(), 50052))
        );
        assert_eq!(
            target("https://customer.twotier.svc"),
            Some(("customer.twotier.svc".to_owned(), 443))
        );
        assert_eq!(target("http://127.0.0.1:50052"), None);
        assert_eq!(target("http://[::1]:50052"), None);
    }
}
