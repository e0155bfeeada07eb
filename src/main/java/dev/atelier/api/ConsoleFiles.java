package dev.atelier.api;

import org.springframework.core.annotation.Order;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The web console's files are written as buffers, never with {@code sendfile(2)}. WebFlux sends a static resource
 * that is a file on disk (the console under {@code target/classes} with {@code ./mvnw spring-boot:run} and in tests)
 * zero-copy; on our test machines such a transfer of a console module sometimes stalled half-way (cause not found), and the browser
 * waited for the page forever. A response decorator is not a {@code ZeroCopyHttpOutputMessage}, so the resource
 * goes out through the ordinary buffered path, as it does anyway when served from the jar. API answers are left as
 * they are.
 */
@Component
@Order(-150)
public class ConsoleFiles implements WebFilter {

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (exchange.getRequest().getPath().value().startsWith("/api/")) {
            return chain.filter(exchange);
        }
        return chain.filter(exchange.mutate().response(new ServerHttpResponseDecorator(exchange.getResponse())).build());
    }
}
