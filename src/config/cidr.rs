//! IP ranges in CIDR notation (`10.0.0.0/8`, `fc00::/7`), read the way the API server reads a
//! NetworkPolicy's `ipBlock`: canonical, with no address bits past the prefix, so a range given
//! in the configuration is refused at startup rather than by the API server in every preview.

use std::fmt;
use std::net::IpAddr;

/// An IPv4 or IPv6 range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The first address of the range.
    pub address: IpAddr,
    /// The prefix length: 0–32 for IPv4, 0–128 for IPv6.
    pub prefix: u8,
}

impl Cidr {
    /// Reads `text`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR range (e.g. 10.0.0.0/8, fc00::/7)"))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?}: {address:?} is not an IP address"))?;
        let bits = Self::bits_of(address);
        let prefix = Some(prefix)
            .filter(|p| *p == "0" || !p.starts_with(['+', '0']))
            .and_then(|p| p.parse::<u8>().ok())
            .filter(|p| *p <= bits)
            .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?;
        let cidr = Cidr { address, prefix };
        let first = cidr.first_address();
        if first != address {
            return Err(format!(
                "{text:?} has address bits past the prefix (the range is {first}/{prefix})"
            ));
        }
        Ok(cidr)
    }

    /// Whether `address` is in the range (never across IPv4 and IPv6).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.address.is_ipv4() == address.is_ipv4()
            && Self::value(address) & self.mask() == Self::value(self.address)
    }

    /// Whether `other` is a strictly narrower range inside this one, as the API server wants an
    /// `ipBlock`'s `except` entries.
    pub fn strictly_contains(&self, other: &Cidr) -> bool {
        other.prefix > self.prefix && self.contains(other.address)
    }

    fn bits_of(address: IpAddr) -> u8 {
        if address.is_ipv4() { 32 } else { 128 }
    }

    /// The address as a number, IPv4 in the low 32 bits.
    fn value(address: IpAddr) -> u128 {
        match address {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }

    fn mask(&self) -> u128 {
        let bits = Self::bits_of(self.address);
        let all = if bits == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        };
        let host_bits = u32::from(bits - self.prefix);
        all.checked_shl(host_bits)
            .map_or(0, |shifted| shifted & all)
    }

    fn first_address(&self) -> IpAddr {
        let first = Self::value(self.address) & self.mask();
        match self.address {
            IpAddr::V4(_) => IpAddr::from(u32::try_from(first).unwrap_or_default().to_be_bytes()),
            IpAddr::V6(_) => IpAddr::from(first.to_be_bytes()),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn canonical_ranges_are_read_and_others_refused_saying_why() {
        for good in [
            "10.0.0.0/8",
            "0.0.0.0/0",
            "169.254.169.254/32",
            "fc00::/7",
            "::/0",
            "::1/128",
        ] {
            assert_eq!(Cidr::parse(good).unwrap().to_string(), good);
        }
        let why = |text: &str| Cidr::parse(text).unwrap_err();
        assert!(
            why("10.0.0.1/8").contains("(the range is 10.0.0.0/8)"),
            "{}",
            why("10.0.0.1/8")
        );
        assert!(why("fd00:ec2::254/7").contains("the range is fc00::/7"));
        assert!(why("10.0.0.0").contains("is not a CIDR range"));
        assert!(why("10.0.0.0/33").contains("0 to 32"));
        assert!(why("::/129").contains("0 to 128"));
        assert!(why("10.0.0.0/08").contains("0 to 32"));
        assert!(why("10.0.0.0/+8").contains("0 to 32"));
        assert!(why("10.0.0.0/").contains("0 to 32"));
        assert!(why("10.0.0.256/32").contains("is not an IP address"));
        assert!(why("010.0.0.0/8").contains("is not an IP address"));
        assert!(why("private/8").contains("is not an IP address"));
    }

    #[test]
    fn a_range_contains_its_addresses_of_the_same_family_only() {
        let private = Cidr::parse("172.16.0.0/12").unwrap();
        assert!(private.contains(ip("172.16.0.1")) && private.contains(ip("172.31.255.255")));
        assert!(!private.contains(ip("172.32.0.0")) && !private.contains(ip("172.15.255.255")));
        let unique_local = Cidr::parse("fc00::/7").unwrap();
        assert!(unique_local.contains(ip("fd00:ec2::254")));
        assert!(!unique_local.contains(ip("fe80::1")));
        let everything = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(everything.contains(ip("8.8.8.8")) && !everything.contains(ip("::1")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2606:4700::1111")));
        let one = Cidr::parse("169.254.169.254/32").unwrap();
        assert!(one.contains(ip("169.254.169.254")) && !one.contains(ip("169.254.169.253")));
    }

    #[test]
    fn an_except_must_be_strictly_inside() {
        let everything = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(everything.strictly_contains(&Cidr::parse("10.0.0.0/8").unwrap()));
        assert!(!everything.strictly_contains(&everything));
        assert!(!everything.strictly_contains(&Cidr::parse("fc00::/7").unwrap()));
        let ten = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(!ten.strictly_contains(&Cidr::parse("11.0.0.0/16").unwrap()));
    }
}
