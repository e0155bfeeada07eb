package dev.atelier.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The client's address, as the audit trail and the authentication rate limit see it. Behind a reverse proxy the
 * peer is the proxy; {@code Forwarded} (RFC 7239) or {@code X-Forwarded-For} then say who the client is, but anybody
 * can send those headers, so they are believed only when the peer is in {@code atelier.security.trusted-proxies}:
 * the client is the right-most address in the header that is not itself a trusted proxy. Only IP literals count.
 */
@Component
@Order(-300)
public class ClientAddresses implements WebFilter {

    /** Exchange attribute: the client address. */
    public static final String CLIENT_IP = "atelier.clientIp";
    private static final Logger log = LoggerFactory.getLogger(ClientAddresses.class);
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
    private static final Pattern FORWARDED_FOR = Pattern.compile("(?i)(?:^|[;,\\s])for=\"?\\[?([0-9A-Fa-f:.]{2,45})\\]?(?::\\d+)?\"?");

    private final List<Cidr> trusted = new ArrayList<>();

    public ClientAddresses(AbuseSettings settings) {
        for (String proxy : settings.trustedProxies()) {
            try {
                trusted.add(Cidr.parse(proxy.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("atelier.security.trusted-proxies: '" + proxy
                        + "' is not an IP address or CIDR range", e);
            }
        }
        if (!trusted.isEmpty()) {
            log.info("Forwarded/X-Forwarded-For are believed from {}", settings.trustedProxies());
        }
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String ip = resolve(exchange);
        if (ip != null) {
            exchange.getAttributes().put(CLIENT_IP, ip);
        }
        return chain.filter(exchange);
    }

    /** The client address of a request (computed once per exchange). */
    public static String of(ServerWebExchange exchange) {
        String ip = exchange.getAttribute(CLIENT_IP);
        return ip != null ? ip : peer(exchange);
    }

    String resolve(ServerWebExchange exchange) {
        String peer = peer(exchange);
        if (peer == null || !isTrusted(peer)) {
            return peer;
        }
        List<String> chain = forwardedChain(exchange);
        for (int i = chain.size() - 1; i >= 0; i--) {
            String hop = chain.get(i);
            if (!isTrusted(hop)) {
                return hop;
            }
        }
        return chain.isEmpty() ? peer : chain.get(0);
    }

    private boolean isTrusted(String address) {
        byte[] bytes = Cidr.bytes(address);
        return bytes != null && trusted.stream().anyMatch(c -> c.matches(bytes));
    }

    /** Addresses of the forwarding chain, client first; {@code Forwarded} wins over {@code X-Forwarded-For}. */
    private static List<String> forwardedChain(ServerWebExchange exchange) {
        List<String> chain = new ArrayList<>();
        var headers = exchange.getRequest().getHeaders();
        List<String> forwarded = headers.getOrEmpty("Forwarded");
        if (!forwarded.isEmpty()) {
            for (String value : forwarded) {
                for (String element : value.split(",")) {
                    var m = FORWARDED_FOR.matcher(element);
                    if (m.find() && literal(m.group(1))) {
                        chain.add(m.group(1).toLowerCase(Locale.ROOT));
                    }
                }
            }
            return chain;
        }
        for (String value : headers.getOrEmpty("X-Forwarded-For")) {
            for (String hop : value.split(",")) {
                String address = hop.trim();
                if (literal(address)) {
                    chain.add(address.toLowerCase(Locale.ROOT));
                }
            }
        }
        return chain;
    }

    private static boolean literal(String value) {
        // IPv4 only digits and dots, IPv6 needs a ':' (so "cafe.be" is no address and is never looked up).
        return IP_LITERAL.matcher(value).matches()
                && (value.contains(":") || (value.contains(".") && value.chars().allMatch(c -> c == '.' || Character.isDigit(c))));
    }

    private static String peer(ServerWebExchange exchange) {
        InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
        return remote == null || remote.getAddress() == null ? null : remote.getAddress().getHostAddress();
    }

    /** An address or CIDR range of IP literals (never resolved through DNS). */
    record Cidr(byte[] network, int prefix) {

        static Cidr parse(String value) {
            int slash = value.indexOf('/');
            byte[] address = bytes(slash < 0 ? value : value.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("not an IP literal");
            }
            int prefix = slash < 0 ? address.length * 8 : Integer.parseInt(value.substring(slash + 1));
            if (prefix < 0 || prefix > address.length * 8) {
                throw new IllegalArgumentException("prefix out of range");
            }
            return new Cidr(address, prefix);
        }

        boolean matches(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (network[full] & mask);
        }

        static byte[] bytes(String literal) {
            if (literal == null || !literal(literal)) {
                return null;
            }
            try {
                // Only literals reach here (digits, hex, ':' and '.'), so no name lookup happens.
                return java.net.InetAddress.getByName(literal).getAddress();
            } catch (java.net.UnknownHostException e) {
                return null;
            }
        }
    }
}
