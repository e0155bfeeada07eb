package dev.atelier.providers.azure;

import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.rest.Response;
import com.azure.core.http.rest.SimpleResponse;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.util.FluxUtil;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.provider.ProviderException;
import dev.atelier.providers.cloud.CloudError;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Azure Resource Manager calls and their long-running operations, without the SDK's pollers (which hold a thread
 * until the operation ends). A PUT, PATCH, POST or DELETE that ARM accepts announces its operation with an
 * {@code Azure-AsyncOperation} header (a status resource that goes InProgress, Succeeded, Failed) or, for some
 * actions, only a {@code Location} header (202 while in progress, then 200/204). {@link #handle} keeps which of the
 * two it was and the URL, as the handle of the provider's {@link dev.atelier.provider.OperationId}; {@link #status}
 * reads it again, through the SDK's pipeline (its retry policy and, with credentials, its authentication).
 */
final class ArmOperations {

    /** ARM error codes that say "try again later". */
    static final Set<String> RETRYABLE_CODES = Set.of("TooManyRequests", "RetryableError", "InternalServerError",
            "InternalExecutionError", "ServerTimeout", "ServiceUnavailable", "OperationPreempted", "Conflict");
    private static final String ASYNC_OPERATION = "Azure-AsyncOperation";
    private static final String LOCATION = "Location";
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a long-running operation stands. */
    enum State { IN_PROGRESS, SUCCEEDED, FAILED }

    /** @param code and {@code message}: ARM's, for a failed operation */
    record Status(State state, String code, String message) {

        static final Status IN_PROGRESS = new Status(State.IN_PROGRESS, null, null);
        static final Status SUCCEEDED = new Status(State.SUCCEEDED, null, null);
    }

    private ArmOperations() {
    }

    /** The operation a response announced ({@code <header> <status URL>}); empty when the change is done already. */
    static Optional<String> handle(Response<?> response) {
        String asyncOperation = response.getHeaders().getValue(ASYNC_OPERATION);
        if (asyncOperation != null) {
            return Optional.of(ASYNC_OPERATION + " " + asyncOperation);
        }
        String location = response.getHeaders().getValue(LOCATION);
        if (location != null && response.getStatusCode() == 202) {
            return Optional.of(LOCATION + " " + location);
        }
        return Optional.empty();
    }

    /** The handles of before {@code OperationId}: {@code <url>} for the async operation, {@code location:} the other. */
    static String legacyHandle(boolean location, String url) {
        return (location ? LOCATION : ASYNC_OPERATION) + " " + url;
    }

    /**
     * Reads the status of an operation. The URL must be on the clients' Resource Manager endpoint: the handle comes
     * back from the saga's storage and the pipeline sends credentials with every request.
     */
    static Status status(AzureVmWorkspaceProvider.Clients clients, String handle) {
        int space = handle.indexOf(' ');
        String header = space < 0 ? "" : handle.substring(0, space);
        String url = handle.substring(space + 1);
        if (!header.equals(ASYNC_OPERATION) && !header.equals(LOCATION)) {
            throw ProviderException.permanent("'" + handle + "' is not the handle of an Azure operation");
        }
        if (!url.startsWith(clients.resourceManager())) {
            throw ProviderException.permanent("operation URL " + url + " is not on " + clients.resourceManager());
        }
        HttpResponseBody response = send(clients, url);
        if (header.equals(LOCATION)) {
            if (response.status() == 202) {
                return Status.IN_PROGRESS;
            }
            return response.status() >= 400 ? errorStatus(response) : Status.SUCCEEDED;
        }
        if (response.status() >= 400) {
            return errorStatus(response);
        }
        JsonNode body = response.json();
        String state = body.path("status").asText("");
        return switch (state) {
            case "Succeeded" -> Status.SUCCEEDED;
            case "Failed", "Canceled" -> new Status(State.FAILED, body.at("/error/code").asText(state),
                    body.at("/error/message").asText("the operation " + state.toLowerCase()));
            default -> Status.IN_PROGRESS;
        };
    }

    private static Status errorStatus(HttpResponseBody response) {
        JsonNode error = response.json().path("error");
        String code = error.path("code").asText("HTTP" + response.status());
        if (response.status() == 429 || response.status() >= 500) {
            throw ProviderException.retryable("Azure operation status answered " + response.status() + " " + code, null);
        }
        return new Status(State.FAILED, code, error.path("message").asText("HTTP " + response.status()));
    }

    private record HttpResponseBody(int status, String body) {
        JsonNode json() {
            try {
                return body == null || body.isBlank() ? JSON.missingNode() : JSON.readTree(body);
            } catch (IOException e) {
                return JSON.missingNode();
            }
        }
    }

    private static HttpResponseBody send(AzureVmWorkspaceProvider.Clients clients, String url) {
        return call("GET operation status", () -> clients.pipeline().send(new HttpRequest(HttpMethod.GET, url))
                .flatMap(r -> r.getBodyAsString().defaultIfEmpty("").map(b -> new HttpResponseBody(r.getStatusCode(), b))
                        .doFinally(s -> r.close())));
    }

    /** The response with its body read (headers are all a long-running operation needs). */
    static Mono<Response<Flux<ByteBuffer>>> drained(Mono<Response<Flux<ByteBuffer>>> call) {
        return call.flatMap(r -> FluxUtil.collectBytesInByteBufferStream(r.getValue()).defaultIfEmpty(new byte[0])
                .map(bytes -> (Response<Flux<ByteBuffer>>) new SimpleResponse<Flux<ByteBuffer>>(
                        r.getRequest(), r.getStatusCode(), r.getHeaders(), Flux.just(ByteBuffer.wrap(bytes)))));
    }

    /**
     * Runs one call. The pipeline's retry policy has already retried 429 and 5xx (honouring Retry-After) when an
     * error arrives here; ARM's error code and message are kept for the user.
     */
    static <T> T call(String action, Supplier<Mono<T>> call) {
        try {
            return call.get().block(CALL_TIMEOUT);
        } catch (ManagementException e) {
            int status = e.getResponse() == null ? -1 : e.getResponse().getStatusCode();
            String code = e.getValue() == null ? "HTTP" + status : e.getValue().getCode();
            String message = e.getValue() == null ? e.getMessage() : e.getValue().getMessage();
            if (status == 404) {
                throw new CloudError.NotFound(action + ": " + code + ": " + message);
            }
            throw CloudError.failed("Azure", action, code, message, CloudError.retryable(status, code, RETRYABLE_CODES), e);
        } catch (HttpResponseException e) {
            int status = e.getResponse() == null ? -1 : e.getResponse().getStatusCode();
            if (status == 404) {
                throw new CloudError.NotFound(action + ": " + e.getMessage());
            }
            throw CloudError.failed("Azure", action, "HTTP" + status, e.getMessage(),
                    CloudError.retryable(status, null, Set.of()), e);
        } catch (ProviderException e) {
            throw e;
        } catch (RuntimeException e) {
            if (CloudError.causedBy(e, IOException.class) || CloudError.causedBy(e, TimeoutException.class)
                    || e instanceof IllegalStateException && String.valueOf(e.getMessage()).startsWith("Timeout on blocking read")) {
                throw ProviderException.retryable("could not reach Azure Resource Manager for " + action + ": " + e, e);
            }
            throw e;
        }
    }
}
