//! Cross-replica cache coherence: a replica that changed something says so with `NOTIFY` after
//! its write committed; every replica `LISTEN`s on a connection of its own (not the pool's) and
//! hands what it hears to its services as [`RemoteChange`]s.
//!
//! Nothing said while a listener is away reaches it (PostgreSQL queues notifications only for
//! sessions listening at the time), so a listener that loses its connection reports
//! [`RemoteChange::Lost`] at once (the services stop trusting their cache) and
//! [`RemoteChange::Resync`] once it listens again (they forget everything and trust the cache
//! anew). A heartbeat finds a connection that died silently within seconds.

use crate::tls::Tls;
use da_domain::cache::Invalidation;
use da_domain::store::{PasswordNews, RemoteChange};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_postgres::AsyncMessage;
use uuid::Uuid;

pub(crate) const CHANNEL: &str = "da_invalidate";
/// Keys per notification: PostgreSQL takes payloads below 8000 bytes; a key is 33.
const KEYS_PER_PAYLOAD: usize = 200;
/// A listener that died silently is found within about two of these: the promise is that a
/// change reaches every replica within a second, so silence must not last much longer.
const HEARTBEAT: Duration = Duration::from_millis(500);
/// A listener's connection that does not answer in this long is taken for dead.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(1000);

fn key(item: &Invalidation) -> String {
    match item {
        Invalidation::User(id) => format!("u{}", id.simple()),
        Invalidation::Session(id) => format!("s{}", id.simple()),
        Invalidation::Token(id) => format!("t{}", id.simple()),
        Invalidation::Group(id) => format!("g{}", id.simple()),
        Invalidation::Datasets => "d".to_owned(),
    }
}

fn parse_key(key: &str) -> Option<Invalidation> {
    let (kind, id) = key.split_at_checked(1)?;
    if kind == "d" && id.is_empty() {
        return Some(Invalidation::Datasets);
    }
    let id = Uuid::parse_str(id).ok()?;
    Some(match kind {
        "u" => Invalidation::User(id),
        "s" => Invalidation::Session(id),
        "t" => Invalidation::Token(id),
        "g" => Invalidation::Group(id),
        _ => return None,
    })
}

/// The payloads that announce `items`: the sender's id, then the keys, space-separated.
pub(crate) fn payloads(origin: Uuid, items: &[Invalidation]) -> Vec<String> {
    items
        .chunks(KEYS_PER_PAYLOAD)
        .map(|chunk| {
            let mut payload = origin.simple().to_string();
            for item in chunk {
                payload.push(' ');
                payload.push_str(&key(item));
            }
            payload
        })
        .collect()
}

/// The payload of a password check's outcome: the sender's id, then the news as JSON (an email
/// or a client's address may hold any character).
pub(crate) fn password_payload(origin: Uuid, news: &PasswordNews) -> String {
    let json = serde_json::to_string(news).unwrap_or_default();
    format!("{} {json}", origin.simple())
}

/// What a payload said: `None` for one this version cannot read, which the caller must treat
/// as "anything may have changed".
pub(crate) fn parse_payload(payload: &str) -> Option<(Uuid, RemoteChange)> {
    let (origin, rest) = payload.split_once(' ').unwrap_or((payload, ""));
    let origin = Uuid::parse_str(origin).ok()?;
    if rest.starts_with('{') {
        return Some((
            origin,
            RemoteChange::Password(serde_json::from_str(rest).ok()?),
        ));
    }
    let items = rest
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(parse_key)
        .collect::<Option<Vec<_>>>()?;
    Some((origin, RemoteChange::Stale(items)))
}

/// Listens until the store aborts it (when dropped), reconnecting after every loss.
pub(crate) async fn listen(
    config: tokio_postgres::Config,
    tls: Tls,
    origin: Uuid,
    changes: broadcast::Sender<RemoteChange>,
    listening: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&config, &tls, origin, &changes, &listening).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(err) => {
                tracing::warn!(error = %err, "the listener for other replicas' changes failed");
            }
        }
        listening.store(false, Ordering::SeqCst);
        let _ = changes.send(RemoteChange::Lost);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// One connection's worth of listening: until it fails or its heartbeat goes unanswered.
/// `Ok` when it had been listening (so the next try starts with a short pause).
async fn listen_once(
    config: &tokio_postgres::Config,
    tls: &Tls,
    origin: Uuid,
    changes: &broadcast::Sender<RemoteChange>,
    listening: &std::sync::atomic::AtomicBool,
) -> Result<(), tokio_postgres::Error> {
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let (client, driver) = match tls {
        Tls::None => {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            (client, drive(connection, heard_tx))
        }
        Tls::Rustls(tls) => {
            let (client, connection) = config.connect(tls.clone()).await?;
            (client, drive(connection, heard_tx))
        }
    };
    let outcome = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        // Listening from here on; whatever was said before went unheard.
        listening.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = changes.send(RemoteChange::Resync);
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                heard = heard.recv() => {
                    let Some(payload) = heard else { return Ok(()) };
                    match parse_payload(&payload) {
                        Some((from, _)) if from == origin => {}
                        Some((_, change)) => {
                            let _ = changes.send(change);
                        }
                        None => {
                            tracing::warn!("a change from another replica could not be read: resyncing");
                            let _ = changes.send(RemoteChange::Resync);
                        }
                    }
                }
                _ = heartbeat.tick() => {
                    match tokio::time::timeout(HEARTBEAT_TIMEOUT, client.simple_query("SELECT 1")).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) => return Err(err),
                        Err(_) => {
                            tracing::warn!("the listener's connection did not answer its heartbeat");
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
    .await;
    driver.abort();
    outcome
}

/// Runs the connection, passing on every notification on [`CHANNEL`], until it ends.
fn drive<S, T>(
    connection: tokio_postgres::Connection<S, T>,
    heard: tokio::sync::mpsc::UnboundedSender<String>,
) -> tokio::task::JoinHandle<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut connection = connection;
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note)) if note.channel() == CHANNEL => {
                    if heard.send(note.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "listener connection ended");
                    break;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_in_chunks_under_the_limit() {
        let origin = Uuid::new_v4();
        let mut items: Vec<Invalidation> = (0..450)
            .map(|n| match n % 4 {
                0 => Invalidation::User(Uuid::new_v4()),
                1 => Invalidation::Session(Uuid::new_v4()),
                2 => Invalidation::Token(Uuid::new_v4()),
                _ => Invalidation::Group(Uuid::new_v4()),
            })
            .collect();
        items.push(Invalidation::Datasets);
        let payloads = payloads(origin, &items);
        assert_eq!(payloads.len(), 3);
        let mut heard = Vec::new();
        for payload in &payloads {
            assert!(payload.len() < 8000, "{}", payload.len());
            let (from, change) = parse_payload(payload).expect("readable");
            assert_eq!(from, origin);
            let RemoteChange::Stale(chunk) = change else {
                panic!("keys, not {change:?}")
            };
            heard.extend(chunk);
        }
        assert_eq!(heard, items);
    }

    #[test]
    fn an_unreadable_payload_is_refused_whole() {
        let origin = Uuid::new_v4().simple().to_string();
        assert!(parse_payload(&format!("{origin} x123")).is_none());
        assert!(parse_payload(&format!("{origin} unot-a-uuid")).is_none());
        assert!(parse_payload("garbage").is_none());
        assert_eq!(
            parse_payload(&origin).map(|(_, change)| change),
            Some(RemoteChange::Stale(vec![]))
        );
        assert!(parse_payload(&format!("{origin} {{\"account\": 1}}")).is_none());
    }

    #[test]
    fn password_news_round_trips_whatever_its_text() {
        let origin = Uuid::new_v4();
        let news = PasswordNews {
            account: "o'brien \"x\" y@example.com".into(),
            client: "2001:db8:1:2::/64".into(),
            outcome: da_domain::store::PasswordOutcome::Wrong,
        };
        let (from, change) = parse_payload(&password_payload(origin, &news)).unwrap();
        assert_eq!(from, origin);
        assert_eq!(change, RemoteChange::Password(news));
    }
}
