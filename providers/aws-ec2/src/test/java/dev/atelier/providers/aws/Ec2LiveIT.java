package dev.atelier.providers.aws;

import dev.atelier.providers.cloud.LiveLifecycle;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import software.amazon.awssdk.services.ec2.model.Image;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * LIVE: creates, stops, starts and deletes a real t3.micro in AWS (a few cents). Runs only when AWS credentials are
 * in the environment (AWS_ACCESS_KEY_ID; AWS_REGION, default eu-west-1); reported as skipped otherwise. Uses the
 * account's default VPC and the newest Amazon Linux 2023 AMI.
 */
@EnabledIfEnvironmentVariable(named = "AWS_ACCESS_KEY_ID", matches = ".+",
        disabledReason = "LIVE test against real AWS: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_REGION) to run it")
class Ec2LiveIT {

    @Test
    @DisplayName("LIVE AWS: a t3.micro goes through create, stop, start and delete")
    void aRealInstanceGoesThroughItsLifecycle() {
        String region = LiveLifecycle.env("AWS_REGION", "eu-west-1");
        AwsProviderProperties properties = new AwsProviderProperties(true, null, Duration.ofSeconds(5),
                Duration.ofSeconds(60), List.of(), List.of());
        Ec2WorkspaceProvider provider = new Ec2WorkspaceProvider(AwsProviderConfiguration.clients(properties),
                properties.pollInterval(), List.of(), List.of(region), null);
        String ami = AwsProviderConfiguration.clients(properties).apply(region).describeImages(r -> r.owners("amazon").filters(
                        f -> f.name("name").values("al2023-ami-2023.*-x86_64"), f -> f.name("state").values("available")))
                .images().stream().max(Comparator.comparing(Image::creationDate)).orElseThrow().imageId();
        LiveLifecycle.run(provider, Map.of("region", region, "instanceType", "t3.micro", "imageId", ami,
                "startupScript", "echo atelier-live > /var/tmp/atelier-live.txt\n"));
    }
}
