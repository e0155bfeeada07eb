/**
 * What the cloud VM providers ({@code aws-ec2}, {@code gcp-compute}, {@code azure-vm}) share: the provider skeleton
 * ({@link dev.atelier.providers.cloud.VmWorkspaceProvider}: clients per scope, known locations, inventory scopes, the
 * VM reference and "gone" handling, the common operation kinds), error classification
 * ({@link dev.atelier.providers.cloud.CloudError}), reading and checking template specs, idempotency tokens and
 * names, the SSH connection info, and the cloud-init user data that starts the workspace agent and the start-up
 * script. No cloud SDK is used here.
 */
package dev.atelier.providers.cloud;
