package dev.atelier.api;

import org.axonframework.commandhandling.GenericCommandMessage;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.messaging.responsetypes.ResponseType;
import org.axonframework.queryhandling.QueryGateway;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Sends commands and queries from the reactive API. The local command and query buses run handlers in the
 * caller's thread and those touch the database, so they run on the bounded-elastic scheduler, never on the
 * event loop.
 */
@Component
public class Gateways {

    private final CommandGateway commands;
    private final QueryGateway queries;

    public Gateways(CommandGateway commands, QueryGateway queries) {
        this.commands = commands;
        this.queries = queries;
    }

    public <R> Mono<R> send(Object command, RequestContext context) {
        return Mono.defer(() -> Mono.fromFuture(commands.<R>send(
                        GenericCommandMessage.asCommandMessage(command).andMetaData(context.metadata()))))
                .subscribeOn(Schedulers.boundedElastic());
    }

    public <R> Mono<R> query(Object query, ResponseType<R> type) {
        return Mono.defer(() -> Mono.fromFuture(queries.query(query, type)))
                .subscribeOn(Schedulers.boundedElastic());
    }

    public QueryGateway queryGateway() {
        return queries;
    }
}
