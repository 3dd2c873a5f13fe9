//! Which addresses a merchant webhook may reach. Public unicast only,
//! unless the stack allows the private ranges (the local stack, where the
//! receiver is on this machine).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Public,
    /// Loopback, private, link-local, unique-local, shared (CGNAT):
    /// inside some network. Allowed only when configured.
    Private,
    /// Never a receiver: unspecified, multicast, broadcast, reserved,
    /// documentation ranges.
    Never,
}

pub fn classify(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 || ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        return Reach::Never;
    }
    let documentation = matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
    if documentation {
        return Reach::Never;
    }
    let shared = a == 100 && (64..128).contains(&b);
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let protocol = a == 192 && b == 0 && c == 0;
    if ip.is_loopback() || ip.is_private() || ip.is_link_local() || shared || benchmarking || protocol {
        return Reach::Private;
    }
    Reach::Public
}

fn classify_v6(ip: Ipv6Addr) -> Reach {
    // Addresses that carry an IPv4 address are judged by it: mapped
    // (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_multicast() {
        return Reach::Never;
    }
    if ip.is_loopback() {
        return Reach::Private;
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..6] == [0; 6] {
        return classify_v4(embedded(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return classify_v4(embedded(s[1], s[2]));
    }
    let documentation = s[0] == 0x2001 && s[1] == 0x0db8;
    let teredo = s[0] == 0x2001 && s[1] == 0;
    if documentation || teredo {
        return Reach::Never;
    }
    let unique_local = s[0] & 0xfe00 == 0xfc00;
    let link_local = s[0] & 0xffc0 == 0xfe80;
    let site_local = s[0] & 0xffc0 == 0xfec0;
    if unique_local || link_local || site_local {
        return Reach::Private;
    }
    Reach::Public
}

/// Whether `ip` may be called, and why not.
pub fn allowed(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    match classify(ip) {
        Reach::Public => Ok(()),
        Reach::Private if allow_private => Ok(()),
        Reach::Private => Err(format!("{ip} is a private, loopback or link-local address")),
        Reach::Never => Err(format!("{ip} is not a unicast address a receiver can have")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(s: &str) -> Reach {
        classify(s.parse().unwrap())
    }

    #[test]
    fn inside_addresses_are_private() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
        ] {
            assert_eq!(reach(a), Reach::Private, "{a}");
        }
    }

    #[test]
    fn nonsense_targets_are_never_allowed() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "::",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
        ] {
            assert_eq!(reach(a), Reach::Never, "{a}");
            assert!(allowed(a.parse().unwrap(), true).is_err(), "{a}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in
            ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
        {
            assert_eq!(reach(a), Reach::Public, "{a}");
        }
        assert!(allowed("10.0.0.1".parse().unwrap(), false).is_err());
        assert!(allowed("10.0.0.1".parse().unwrap(), true).is_ok());
    }
}
