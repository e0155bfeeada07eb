package dev.atelier.projections;

import dev.atelier.AtelierApplication;
import dev.atelier.bench.NullProvider;
import dev.atelier.config.ProjectionReplays;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.AbstractEventProcessor;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.MessageHandlerInterceptor;
import org.axonframework.messaging.unitofwork.BatchingUnitOfWork;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Run in a separate JVM by {@link ProjectionBatchCrashIT}: starts the engine (arguments as on a command line),
 * rebuilds the workspaces and costs projections in large batches, and in each holds one batch after it has handled
 * at least two of its events, before the batch commits. It then says {@code MID-BATCH <group>} and waits to be
 * killed. Not a Spring component: only this class's main installs the hold.
 */
public final class ProjectionReplayChild {

    private ProjectionReplayChild() {
    }

    public static void main(String[] args) {
        ConfigurableApplicationContext engine = new SpringApplicationBuilder(AtelierApplication.class)
                .initializers(c -> c.getBeanFactory().registerSingleton("nullProvider", new NullProvider()))
                .run(args);
        EventProcessingConfiguration processing = engine.getBean(EventProcessingConfiguration.class);
        for (String group : new String[]{"workspaces", "costs"}) {
            processing.eventProcessor(group, AbstractEventProcessor.class).orElseThrow()
                    .registerHandlerInterceptor(holdInTheMiddleOfABatch(group));
        }
        ProjectionReplays replays = engine.getBean(ProjectionReplays.class);
        replays.replay("costs", 1000);
        replays.replay("workspaces", 1000);
        System.out.println("REPLAYING");
        System.out.flush();
    }

    private static MessageHandlerInterceptor<EventMessage<?>> holdInTheMiddleOfABatch(String group) {
        AtomicBoolean held = new AtomicBoolean();
        return (unitOfWork, chain) -> {
            if (unitOfWork instanceof BatchingUnitOfWork<?> batch) {
                int index = batch.getMessages().indexOf(unitOfWork.getMessage());
                if (index >= 2 && held.compareAndSet(false, true)) {
                    System.out.println("MID-BATCH " + group + " at event " + index + " of " + batch.getMessages().size());
                    System.out.flush();
                    new CountDownLatch(1).await(); // until SIGKILL
                }
            }
            return chain.proceed();
        };
    }
}
