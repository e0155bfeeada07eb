package dev.atelier.provider;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * A range of IP addresses in CIDR notation, for keeping workspaces away from the engine's own addresses (its
 * database): a Docker network whose subnet holds them is refused, a Kubernetes NetworkPolicy excepts them.
 * Parsing never looks a name up: only address literals are accepted.
 *
 * @param network the first address of the range (host bits cleared)
 * @param prefix  the number of leading bits that are fixed
 */
public record IpRange(InetAddress network, int prefix) {

    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    public IpRange {
        network = mask(network, prefix);
    }

    /** {@code 10.0.0.0/8}, {@code fd00::/8}, or a single address (a /32 or /128). */
    public static IpRange parse(String cidr) {
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? cidr : cidr.substring(0, slash);
        if (!LITERAL.matcher(address).matches() || (!address.contains(".") && !address.contains(":"))) {
            throw new IllegalArgumentException("not an IP address range: " + cidr);
        }
        try {
            InetAddress parsed = InetAddress.getByName(address); // a literal: no lookup
            int bits = parsed.getAddress().length * 8;
            int prefix = slash < 0 ? bits : Integer.parseInt(cidr.substring(slash + 1));
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("prefix out of range: " + cidr);
            }
            return new IpRange(parsed, prefix);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("not an IP address range: " + cidr, e);
        }
    }

    public static IpRange of(InetAddress address) {
        return new IpRange(address, address.getAddress().length * 8);
    }

    public boolean ipv6() {
        return network.getAddress().length == 16;
    }

    public boolean contains(InetAddress address) {
        return address.getAddress().length == network.getAddress().length
                && mask(address, prefix).equals(network);
    }

    /** Whether all of {@code other} lies in this range. */
    public boolean contains(IpRange other) {
        return other.ipv6() == ipv6() && other.prefix >= prefix && contains(other.network);
    }

    /** Whether the two ranges share any address. */
    public boolean overlaps(IpRange other) {
        return contains(other) || other.contains(this);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }

    private static InetAddress mask(InetAddress address, int prefix) {
        byte[] bytes = address.getAddress();
        for (int i = 0; i < bytes.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            bytes[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
