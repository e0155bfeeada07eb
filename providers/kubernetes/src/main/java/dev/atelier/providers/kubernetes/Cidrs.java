package dev.atelier.providers.kubernetes;

import java.util.regex.Pattern;

/** CIDR syntax checks for NetworkPolicy ipBlocks, without any name lookup. */
final class Cidrs {

    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern PREFIX = Pattern.compile("0|[1-9]\\d{0,2}");
    private static final Pattern HEX_GROUP = Pattern.compile("[0-9a-fA-F]{1,4}");

    private Cidrs() {
    }

    /** {@code a.b.c.d/n} (n ≤ 32) or an IPv6 address with {@code /n} (n ≤ 128). */
    static boolean valid(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0 || slash != cidr.lastIndexOf('/')) {
            return false;
        }
        String address = cidr.substring(0, slash);
        String prefix = cidr.substring(slash + 1);
        if (!PREFIX.matcher(prefix).matches()) {
            return false;
        }
        int bits = Integer.parseInt(prefix);
        if (IPV4.matcher(address).matches()) {
            return bits <= 32;
        }
        return ipv6(address) && bits <= 128;
    }

    private static boolean ipv6(String address) {
        if (address.isEmpty() || address.chars().anyMatch(c -> !(Character.digit(c, 16) >= 0 || c == ':' || c == '.'))) {
            return false;
        }
        int doubleColon = address.indexOf("::");
        if (doubleColon >= 0 && address.indexOf("::", doubleColon + 1) >= 0) {
            return false;
        }
        String[] groups = address.split(":", -1);
        int count = 0;
        for (int i = 0; i < groups.length; i++) {
            String g = groups[i];
            if (g.isEmpty()) {
                continue; // part of "::" (checked above) or a leading/trailing "::"
            }
            if (i == groups.length - 1 && g.contains(".")) {
                if (!IPV4.matcher(g).matches()) {
                    return false;
                }
                count += 2;
            } else if (HEX_GROUP.matcher(g).matches()) {
                count++;
            } else {
                return false;
            }
        }
        if (address.startsWith(":") && !address.startsWith("::") || address.endsWith(":") && !address.endsWith("::")) {
            return false;
        }
        return doubleColon >= 0 ? count < 8 : count == 8;
    }
}
