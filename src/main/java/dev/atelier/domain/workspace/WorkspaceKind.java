package dev.atelier.domain.workspace;

/** Workspaces for people and for AI coding agents differ in their default policies. */
public enum WorkspaceKind { HUMAN, AGENT }
