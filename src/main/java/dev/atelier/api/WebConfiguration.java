package dev.atelier.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.http.codec.json.Jackson2JsonDecoder;
import org.springframework.http.codec.json.Jackson2JsonEncoder;
import org.springframework.web.reactive.config.WebFluxConfigurer;

/**
 * Request bodies are read strictly: a misspelt field ({@code idleTimout}) is an error, not silently dropped.
 * Stored events keep the lenient shared mapper so that old and new event shapes stay readable.
 */
@Configuration(proxyBeanMethods = false)
public class WebConfiguration implements WebFluxConfigurer {

    private final ObjectMapper json;

    public WebConfiguration(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public void configureHttpMessageCodecs(ServerCodecConfigurer configurer) {
        ObjectMapper strict = json.copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        configurer.defaultCodecs().jackson2JsonDecoder(new CheckedJsonDecoder(strict));
        configurer.defaultCodecs().jackson2JsonEncoder(new Jackson2JsonEncoder(json));
        configurer.defaultCodecs().maxInMemorySize(1024 * 1024);
    }

    /** Reads JSON strictly and then checks every string of the body at the API's boundary ({@link InputHygiene}). */
    static final class CheckedJsonDecoder extends Jackson2JsonDecoder {

        CheckedJsonDecoder(ObjectMapper mapper) {
            super(mapper);
        }

        @Override
        public reactor.core.publisher.Mono<Object> decodeToMono(org.reactivestreams.Publisher<org.springframework.core.io.buffer.DataBuffer> input,
                                                                org.springframework.core.ResolvableType elementType,
                                                                org.springframework.util.MimeType mimeType,
                                                                java.util.Map<String, Object> hints) {
            return super.decodeToMono(input, elementType, mimeType, hints).map(InputHygiene::checkBody);
        }

        @Override
        public reactor.core.publisher.Flux<Object> decode(org.reactivestreams.Publisher<org.springframework.core.io.buffer.DataBuffer> input,
                                                          org.springframework.core.ResolvableType elementType,
                                                          org.springframework.util.MimeType mimeType,
                                                          java.util.Map<String, Object> hints) {
            return super.decode(input, elementType, mimeType, hints).map(InputHygiene::checkBody);
        }
    }
}
