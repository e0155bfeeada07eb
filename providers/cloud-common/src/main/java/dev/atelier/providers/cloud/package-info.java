/**
 * What the cloud VM providers ({@code aws-ec2}, {@code gcp-compute}, {@code azure-vm}) share: reading and checking
 * template specs, and the cloud-init user data that starts the workspace agent and the start-up script. No cloud
 * SDK is used here.
 */
package dev.atelier.providers.cloud;
