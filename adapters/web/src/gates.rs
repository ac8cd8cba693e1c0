//! Per-address and global limits on what visitors start: new chat sessions, uploads, and cases opened from
//! web sessions. Each is a token bucket from `governor`, one per client address (an IPv6 client counts by
//! its /64, the block one household or host usually holds) and one for everybody together.
//!
//! Cases are opened by the core, not by the channel, so they are counted from the case feed: a case opened by
//! `web:<session>` is charged to the address that session last used, and once an address (or everybody) is
//! over its budget, sessions from it that have no open case are refused until the bucket refills.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use supportbot_chat::{CaseEvent, CaseEventKind};

use crate::WebLimits;

/// Addresses a session was last seen from are forgotten after this long without activity.
const SESSION_ADDRESS_TTL: Duration = Duration::from_secs(24 * 3600);

/// What was refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Which limit.
    pub what: Gate,
    /// How long until the bucket has room again.
    pub retry_after: Duration,
}

/// The limits [`Gates`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// New chat sessions.
    Sessions,
    /// Uploads.
    Uploads,
    /// Cases opened.
    Cases,
}

/// A pair of buckets: one per address, one for everybody.
struct Pair {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    all: DefaultDirectRateLimiter,
}

impl Pair {
    fn new(per_ip: Quota, all: Quota) -> Pair {
        Pair {
            per_ip: RateLimiter::keyed(per_ip),
            all: RateLimiter::direct(all),
        }
    }

    /// Takes one token from the address's bucket and from the common one.
    fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = DefaultClock::default().now();
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(now))?;
        self.all
            .check()
            .map_err(|not_until| not_until.wait_time_from(now))
    }
}

#[derive(Default)]
struct CaseBook {
    /// The address each session last used, and when.
    session_ip: HashMap<String, (IpAddr, Instant)>,
    /// Open cases of web sessions: case → session.
    open: HashMap<String, String>,
    /// Number of open cases of each session.
    open_by_session: HashMap<String, u32>,
    /// Addresses over their case budget, until when.
    blocked: HashMap<IpAddr, Instant>,
    /// Everybody over the common case budget, until when.
    blocked_all: Option<Instant>,
}

/// The channel's per-address and global limits.
pub struct Gates {
    sessions: Pair,
    uploads: Pair,
    cases: Pair,
    book: Mutex<CaseBook>,
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

/// The key an address is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl Gates {
    /// Buckets sized by `limits`.
    pub fn new(limits: &WebLimits) -> Gates {
        Gates {
            sessions: Pair::new(
                per_hour(limits.new_sessions_per_ip_per_hour),
                per_minute(limits.new_sessions_per_minute),
            ),
            uploads: Pair::new(
                per_hour(limits.uploads_per_ip_per_hour),
                per_minute(limits.uploads_per_minute),
            ),
            cases: Pair::new(
                per_hour(limits.case_opens_per_ip_per_hour),
                per_hour(limits.case_opens_per_hour),
            ),
            book: Mutex::new(CaseBook::default()),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, CaseBook> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new chat session from `ip`.
    pub fn new_session(&self, ip: IpAddr) -> Result<(), Limited> {
        self.sessions
            .take(client_key(ip))
            .map_err(|retry_after| Limited {
                what: Gate::Sessions,
                retry_after,
            })
    }

    /// Counts an upload from `ip`.
    pub fn upload(&self, ip: IpAddr) -> Result<(), Limited> {
        self.uploads
            .take(client_key(ip))
            .map_err(|retry_after| Limited {
                what: Gate::Uploads,
                retry_after,
            })
    }

    /// Whether `session` (writing from `ip`) may write now: always while it has an open case, otherwise only
    /// while neither its address nor everybody is over the case budget. Records the session's address.
    pub fn may_open_case(&self, session: &str, ip: IpAddr) -> Result<(), Limited> {
        let key = client_key(ip);
        let now = Instant::now();
        let mut book = self.book();
        match book.session_ip.get_mut(session) {
            Some(seen) => *seen = (key, now),
            None => {
                book.session_ip.insert(session.to_string(), (key, now));
            }
        }
        if book.open_by_session.contains_key(session) {
            return Ok(());
        }
        let until = [book.blocked.get(&key).copied(), book.blocked_all]
            .into_iter()
            .flatten()
            .filter(|until| *until > now)
            .max();
        match until {
            Some(until) => Err(Limited {
                what: Gate::Cases,
                retry_after: until - now,
            }),
            None => Ok(()),
        }
    }

    /// Follows the case feed: a case opened by a web session is charged to that session's address.
    pub fn observe(&self, event: &CaseEvent) {
        match event.kind {
            CaseEventKind::Opened => {
                let Some(session) = event.actor.strip_prefix("web:") else {
                    return;
                };
                let mut book = self.book();
                if book
                    .open
                    .insert(event.case.clone(), session.to_string())
                    .is_none()
                {
                    *book.open_by_session.entry(session.to_string()).or_default() += 1;
                }
                let Some(&(ip, _)) = book.session_ip.get(session) else {
                    return;
                };
                let now = DefaultClock::default().now();
                if let Err(not_until) = self.cases.per_ip.check_key(&ip) {
                    let until = Instant::now() + not_until.wait_time_from(now);
                    tracing::warn!(%ip, case = %event.case, "too many cases opened from one address");
                    book.blocked.insert(ip, until);
                } else if let Err(not_until) = self.cases.all.check() {
                    let until = Instant::now() + not_until.wait_time_from(now);
                    tracing::warn!(case = %event.case, "too many cases opened from the web chat");
                    book.blocked_all = Some(until);
                }
            }
            CaseEventKind::Closed => {
                let mut book = self.book();
                if let Some(session) = book.open.remove(&event.case) {
                    if let Some(n) = book.open_by_session.get_mut(&session) {
                        *n -= 1;
                        if *n == 0 {
                            book.open_by_session.remove(&session);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Forgets idle buckets, expired blocks and addresses of long silent sessions.
    pub fn retain_recent(&self) {
        self.sessions.per_ip.retain_recent();
        self.uploads.per_ip.retain_recent();
        self.cases.per_ip.retain_recent();
        let now = Instant::now();
        let mut book = self.book();
        book.blocked.retain(|_, until| *until > now);
        if book.blocked_all.is_some_and(|until| until <= now) {
            book.blocked_all = None;
        }
        book.session_ip
            .retain(|_, (_, seen)| now.duration_since(*seen) < SESSION_ADDRESS_TTL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn event(case: &str, kind: CaseEventKind, actor: &str) -> CaseEvent {
        CaseEvent {
            case: case.into(),
            kind,
            at: FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 25, 2, 0, 0)
                .unwrap(),
            actor: actor.into(),
            actor_name: String::new(),
            text: String::new(),
            attachments: vec![],
        }
    }

    #[test]
    fn ipv6_counts_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn case_budget_blocks_the_address_but_not_open_cases() {
        let limits = WebLimits {
            case_opens_per_ip_per_hour: 1,
            ..WebLimits::default()
        };
        let gates = Gates::new(&limits);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(gates.may_open_case("s1", ip).is_ok());
        gates.observe(&event("C-1", CaseEventKind::Opened, "web:s1"));
        assert!(gates.may_open_case("s2", ip).is_ok());
        gates.observe(&event("C-2", CaseEventKind::Opened, "web:s2"));
        let refused = gates.may_open_case("s3", ip).unwrap_err();
        assert_eq!(refused.what, Gate::Cases);
        assert!(refused.retry_after > Duration::from_secs(60));
        assert!(
            gates.may_open_case("s1", ip).is_ok(),
            "an open case goes on"
        );
        assert!(gates.may_open_case("s4", other).is_ok());
        gates.observe(&event("C-1", CaseEventKind::Closed, "web:admin"));
        assert!(gates.may_open_case("s1", ip).is_err());
    }
}
