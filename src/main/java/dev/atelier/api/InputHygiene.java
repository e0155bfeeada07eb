package dev.atelier.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.domain.shared.Text;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.PathContainer;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The one place where every string that enters through the API is checked (docs/operations.md): query parameter
 * names and values, path segments and the headers the audit trail records are checked here, before any controller
 * runs; JSON bodies are checked by {@link #checkBody} right after they are read. A NUL, another control character
 * (tab and line breaks only inside a template's {@code spec} and {@code description}, where scripts live), an
 * unpaired UTF-16 surrogate or an overlong value is a 400 whose {@code detail} names the field and never echoes the
 * value. Runs after authentication, so that the refusal is recorded with the caller.
 */
@Component
@Order(1)
public class InputHygiene implements WebFilter {

    /** Longest query parameter value; the audit search ({@code q=}) is the longest legitimate one. */
    public static final int MAX_PARAMETER = 2000;
    public static final int MAX_PARAMETER_NAME = 64;
    public static final int MAX_PARAMETERS = 64;
    /** Longest path segment (ids, names). */
    public static final int MAX_PATH_SEGMENT = 200;
    /** Longest string in a JSON body, except inside a template's spec (scripts). */
    public static final int MAX_BODY_STRING = 4096;
    public static final int MAX_SPEC_STRING = 65536;
    public static final int MAX_ELEMENTS = 1000;
    private static final int MAX_DEPTH = 16;
    /** Headers that end up in the audit trail (X-Request-Id is replaced when it is not a plain id). */
    private static final List<String> RECORDED_HEADERS = List.of("User-Agent");
    private static final int MAX_HEADER = 1000;

    private final ObjectMapper json;

    public InputHygiene(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!exchange.getRequest().getPath().value().startsWith("/api/")) {
            return chain.filter(exchange);
        }
        String problem = problem(exchange);
        if (problem != null) {
            return ProblemResponses.write(exchange, json, HttpStatus.BAD_REQUEST, problem);
        }
        return chain.filter(exchange);
    }

    static String problem(ServerWebExchange exchange) {
        for (PathContainer.Element element : exchange.getRequest().getPath().pathWithinApplication().elements()) {
            if (element instanceof PathContainer.PathSegment segment) {
                String p = Text.problem(segment.valueToMatch(), MAX_PATH_SEGMENT, false);
                if (p != null) {
                    return "a path segment " + p;
                }
            }
        }
        var params = exchange.getRequest().getQueryParams();
        if (params.size() > MAX_PARAMETERS) {
            return "too many query parameters (" + params.size() + ", at most " + MAX_PARAMETERS + ")";
        }
        for (var entry : params.entrySet()) {
            String name = entry.getKey();
            String p = Text.problem(name, MAX_PARAMETER_NAME, false);
            if (p != null) {
                return "a query parameter name " + p;
            }
            if (entry.getValue().size() > MAX_PARAMETERS) {
                return "query parameter " + Text.quote(name) + " is repeated too often (at most " + MAX_PARAMETERS + ")";
            }
            for (String value : entry.getValue()) {
                p = Text.problem(value, MAX_PARAMETER, false);
                if (p != null) {
                    return "query parameter " + Text.quote(name) + " " + p;
                }
            }
        }
        for (String header : RECORDED_HEADERS) {
            for (String value : exchange.getRequest().getHeaders().getOrEmpty(header)) {
                String p = Text.problem(value, MAX_HEADER, false);
                if (p != null) {
                    return "header " + header + " " + p;
                }
            }
        }
        return null;
    }

    /**
     * Checks every string of a decoded JSON body (record components, map keys and values, list elements).
     *
     * @throws InputRefused naming the first offending field
     */
    public static <T> T checkBody(T body) {
        walk(body, "", 0);
        return body;
    }

    private static void walk(Object value, String path, int depth) {
        if (value == null) {
            return;
        }
        if (depth > MAX_DEPTH) {
            throw new InputRefused("the request body is nested too deeply at " + Text.quote(path) + " (at most " + MAX_DEPTH
                    + " levels)");
        }
        if (value instanceof String text) {
            boolean scriptLike = path.startsWith("spec.") || path.equals("description");
            String p = Text.problem(text, scriptLike ? MAX_SPEC_STRING : MAX_BODY_STRING, scriptLike);
            if (p != null) {
                throw new InputRefused("field " + Text.quote(path) + " " + p);
            }
        } else if (value instanceof Map<?, ?> map) {
            if (map.size() > MAX_ELEMENTS) {
                throw new InputRefused("field " + Text.quote(path) + " has more than " + MAX_ELEMENTS + " entries");
            }
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                String p = Text.problem(key, 256, false);
                if (p != null) {
                    throw new InputRefused("a key of field " + Text.quote(path) + " " + p);
                }
                walk(entry.getValue(), join(path, key), depth + 1);
            }
        } else if (value instanceof Collection<?> list) {
            if (list.size() > MAX_ELEMENTS) {
                throw new InputRefused("field " + Text.quote(path) + " has more than " + MAX_ELEMENTS + " elements");
            }
            int i = 0;
            for (Object element : list) {
                walk(element, path + "[" + i++ + "]", depth + 1);
            }
        } else if (value instanceof Record record && record.getClass().getName().startsWith("dev.atelier.")) {
            for (RecordComponent component : record.getClass().getRecordComponents()) {
                try {
                    var accessor = component.getAccessor();
                    accessor.setAccessible(true);
                    walk(accessor.invoke(record), join(path, component.getName()), depth + 1);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }
}
